/* The receivers of a configuration and the table of kinds (see receiver.h);
 * helpers the kinds share. Sends nothing itself. */
#include "gradcover/alerts/receiver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gradcover/core/log.h"
#include "gradcover/domain/config.h"

/* Every kind, by name. A new kind (a chat robot of SPEC §11) is its file
 * and one row here; its extern sits with the others in receiver.h. */
static const struct receiver_kind *const kinds[] = {
    &rcv_json_kind, &rcv_alertmanager_kind, &rcv_wecom_kind, &rcv_dingtalk_kind, &rcv_feishu_kind,
};

const struct receiver_kind *receiver_kind_named(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_counties(const struct receiver *a, const struct receiver *b)
{
    if (a->ncounties != b->ncounties)
        return false;
    for (size_t i = 0; i < a->ncounties; i++)
        if (strcmp(a->counties[i], b->counties[i]) != 0)
            return false;
    return true;
}

/* The settings of cfg's receiver i (webhooks first, then Alertmanager);
 * false when its format names no kind (the configuration admits none). */
static bool receiver_at(const struct config *cfg, size_t i, struct receiver *out)
{
    const struct alerts_cfg *ac = &cfg->alerts;
    if (i < ac->nwebhooks) {
        const struct webhook_cfg *w = &ac->webhooks[i];
        *out = (struct receiver){.kind = receiver_kind_named(w->format ? w->format : "json"),
                                 .name = w->name,
                                 .url = w->url,
                                 .secret = w->secret,
                                 .counties = w->counties,
                                 .ncounties = w->ncounties,
                                 .escalation = w->escalation};
    } else {
        *out = (struct receiver){
            .kind = &rcv_alertmanager_kind, .name = "alertmanager", .url = ac->alertmanager_url};
    }
    return out->kind != NULL;
}

long receivers_find(const struct receiver_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->r[i]->name, name) == 0)
            return (long)i;
    return -1;
}

/* Starts r's background work, if its kind has any. Without it (out of
 * memory) the receiver still takes deliveries: logged, not fatal. */
static void receiver_start(struct receiver *r, const struct receiver_env *env)
{
    if (env->base && r->kind->start && !r->state && !(r->state = r->kind->start(r, env)))
        log_error("event=receiver_start_failed receiver=%s err=\"out of memory\"", r->name);
}

static void receiver_stop(struct receiver *r)
{
    if (r->state)
        r->kind->stop(r->state);
    r->state = NULL;
}

int receivers_sync(struct receiver_set *s, const struct config *cfg, enum receiver_change **changes)
{
    const struct alerts_cfg *ac = &cfg->alerts;
    size_t count = ac->nwebhooks + (ac->alertmanager_url ? 1 : 0);
    /* Everything that can fail first, so that a failure changes nothing. */
    struct receiver *want = calloc(count + 1, sizeof *want);
    long *slot = calloc(count + 1, sizeof *slot);
    struct receiver **grown = NULL, **fresh = calloc(count + 1, sizeof *fresh);
    enum receiver_change *ch = NULL;
    size_t nfresh = 0;
    *changes = NULL;
    if (!want || !slot || !fresh)
        goto out_free_all;
    for (size_t i = 0; i < count; i++) {
        if (!receiver_at(cfg, i, &want[i]))
            goto out_free_all;
        slot[i] = receivers_find(s, want[i].name);
        if (slot[i] < 0) {
            if (!(fresh[nfresh] = calloc(1, sizeof **fresh)))
                goto out_free_all;
            slot[i] = (long)(s->n + nfresh++);
        }
    }
    if (!(grown = realloc(s->r, (s->n + nfresh + 1) * sizeof *grown)))
        goto out_free_all;
    s->r = grown; /* the old array moved into grown: s->r must follow it now */
    if (!(ch = calloc(s->n + nfresh + 1, sizeof *ch)))
        goto out_free_all;
    for (size_t k = 0; k < nfresh; k++) {
        fresh[k]->removed = true; /* filled below as an added one */
        s->r[s->n++] = fresh[k];
    }
    nfresh = 0; /* the slots own them now */
    s->env.cfg = cfg;
    for (size_t i = 0; i < count; i++) {
        struct receiver *r = s->r[slot[i]];
        bool same = !r->removed && r->kind == want[i].kind && same_str(r->url, want[i].url) &&
                    same_str(r->secret, want[i].secret) && r->escalation == want[i].escalation &&
                    same_counties(r, &want[i]);
        ch[slot[i]] = r->removed ? RECEIVER_ADDED : same ? RECEIVER_KEPT : RECEIVER_CHANGED;
        if (r->kind != want[i].kind || r->removed)
            receiver_stop(r);
        void *state = r->state;
        *r = want[i]; /* the newest generation's strings */
        r->state = state;
        if (r->state && r->kind->reconfigure)
            r->kind->reconfigure(r->state, cfg);
        receiver_start(r, &s->env);
    }
    for (size_t k = 0; k < s->n; k++) {
        struct receiver *r = s->r[k];
        bool listed = false;
        for (size_t i = 0; i < count; i++)
            listed = listed || (size_t)slot[i] == k;
        if (listed || r->removed)
            continue;
        ch[k] = RECEIVER_REMOVED;
        r->removed = true;
        receiver_stop(r);
    }
    *changes = ch;
    ch = NULL;
out_free_all:
    for (size_t k = 0; k < nfresh; k++)
        free(fresh[k]);
    free(fresh);
    free(want);
    free(slot);
    free(ch);
    return *changes ? 0 : -1;
}

void receivers_clear(struct receiver_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        receiver_stop(s->r[i]);
        free(s->r[i]);
    }
    free(s->r);
    s->r = NULL;
    s->n = 0;
}

bool receiver_wants(const struct receiver *r, const char *county)
{
    if (r->ncounties == 0)
        return true;
    for (size_t i = 0; i < r->ncounties; i++)
        if (strcmp(r->counties[i], county) == 0)
            return true;
    return false;
}

bool receiver_takes(const struct receiver *r, enum receiver_event_kind kind)
{
    if (r->escalation)
        return kind == RECEIVER_ESCALATION;
    if (r->kind == &rcv_alertmanager_kind)
        return kind == RECEIVER_FIRING || kind == RECEIVER_RESOLVED;
    return kind != RECEIVER_ESCALATION;
}

static const char *const kind_names[] = {
    [RECEIVER_FIRING] = "firing",         [RECEIVER_RESOLVED] = "resolved",
    [RECEIVER_REPEAT] = "repeat",         [RECEIVER_ESCALATION] = "escalation",
    [RECEIVER_UNSILENCED] = "unsilenced",
};

const char *receiver_event_kind_name(enum receiver_event_kind kind)
{
    return kind_names[kind];
}

bool receiver_event_kind_parse(const char *kind, const char *status, enum receiver_event_kind *out)
{
    const char *name = kind && *kind ? kind : status;
    for (size_t i = 0; name && i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(kind_names[i], name) == 0) {
            *out = (enum receiver_event_kind)i;
            return true;
        }
    return false;
}

int receiver_request_body(struct receiver_request *req, json_t *body)
{
    req->body = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(body);
    return req->body ? 0 : -1;
}

int receiver_request_header(struct receiver_request *req, const char *name, const char *value)
{
    size_t i = req->nheaders;
    if (i >= RECEIVER_HEADERS_MAX || strlen(value) >= sizeof req->values[i])
        return -1;
    strcpy(req->values[i], value);
    req->headers[2 * i] = name;
    req->headers[2 * i + 1] = req->values[i];
    req->headers[2 * i + 2] = NULL;
    req->nheaders++;
    return 0;
}

void receiver_request_clear(struct receiver_request *req)
{
    free(req->body);
    req->body = NULL;
}

enum receiver_verdict receiver_classify_http(int http_status, const char *body, size_t len,
                                             char *why, size_t whylen)
{
    (void)body;
    (void)len;
    if (http_status >= 200 && http_status < 300)
        return RECEIVER_DONE;
    snprintf(why, whylen, "HTTP %d", http_status);
    return http_status == 429 || http_status >= 500 ? RECEIVER_RETRY : RECEIVER_PERMANENT;
}

enum receiver_verdict receiver_classify_code(int http_status, const char *body, size_t len,
                                             const char *code_field, const char *msg_field,
                                             const long *retry, size_t nretry, char *why,
                                             size_t whylen)
{
    if (http_status != 200) {
        enum receiver_verdict v = receiver_classify_http(http_status, body, len, why, whylen);
        /* Only 200 carries the robot's verdict: another 2xx is not its answer. */
        if (v != RECEIVER_DONE)
            return v;
        snprintf(why, whylen, "HTTP %d", http_status);
        return RECEIVER_PERMANENT;
    }
    json_t *ans = json_loadb(body, len, 0, NULL);
    json_t *code = json_object_get(ans, code_field);
    const char *msg = json_string_value(json_object_get(ans, msg_field));
    enum receiver_verdict v;
    if (!json_is_integer(code)) {
        snprintf(why, whylen, "HTTP 200 without \"%s\": not the robot's answer", code_field);
        v = RECEIVER_PERMANENT;
    } else if (json_integer_value(code) == 0) {
        v = RECEIVER_DONE;
    } else {
        long c = (long)json_integer_value(code);
        snprintf(why, whylen, "%s %ld: %.80s", code_field, c, msg ? msg : "");
        v = RECEIVER_PERMANENT;
        for (size_t i = 0; i < nretry; i++)
            if (retry[i] == c)
                v = RECEIVER_RETRY;
    }
    json_decref(ans);
    return v;
}

int receiver_hmac_b64(const char *key, size_t keylen, const char *msg, size_t msglen, char *out,
                      size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    /* HMAC() with a NULL key means no key; an empty message is fine. */
    static const unsigned char empty[1] = {0};
    if (n < 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1 ||
        !HMAC(EVP_sha256(), key, (int)keylen, msg ? (const unsigned char *)msg : empty, msglen, md,
              &len))
        return -1;
    EVP_EncodeBlock((unsigned char *)out, md, (int)len);
    return 0;
}
