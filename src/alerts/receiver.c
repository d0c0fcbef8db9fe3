/* The receivers of a configuration and the table of kinds (see receiver.h);
 * helpers the kinds share. Sends nothing itself. */
#include "gradcover/alerts/receiver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/domain/config.h"

/* Every kind, by name. A new kind (a chat robot of SPEC §11) is its file
 * and one row here; its extern sits with the others in receiver.h. */
static const struct receiver_kind *const kinds[] = {
    &rcv_json_kind,
    &rcv_alertmanager_kind,
};

const struct receiver_kind *receiver_kind_named(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

struct receiver *receivers_new(const struct config *cfg, size_t *n)
{
    const struct alerts_cfg *ac = &cfg->alerts;
    size_t count = ac->nwebhooks + (ac->alertmanager_url ? 1 : 0);
    struct receiver *rs = calloc(count ? count : 1, sizeof *rs);
    if (!rs)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < ac->nwebhooks; i++) {
        const struct webhook_cfg *w = &ac->webhooks[i];
        /* Every webhook is "json" until the configuration names a format
         * (SPEC §11, issue 15). */
        rs[k++] = (struct receiver){.kind = receiver_kind_named("json"),
                                    .name = w->name,
                                    .url = w->url,
                                    .secret = w->secret,
                                    .counties = w->counties,
                                    .ncounties = w->ncounties};
    }
    if (ac->alertmanager_url)
        rs[k++] = (struct receiver){.kind = receiver_kind_named("alertmanager"),
                                    .name = "alertmanager",
                                    .url = ac->alertmanager_url};
    *n = k;
    return rs;
}

int receivers_start(struct receiver *rs, size_t n, const struct receiver_env *env)
{
    for (size_t i = 0; i < n; i++)
        if (rs[i].kind->start && !(rs[i].state = rs[i].kind->start(&rs[i], env)))
            return -1;
    return 0;
}

void receivers_free(struct receiver *rs, size_t n)
{
    if (!rs)
        return;
    for (size_t i = 0; i < n; i++)
        if (rs[i].state)
            rs[i].kind->stop(rs[i].state);
    free(rs);
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
