/* Helpers shared by the fault tests (see fault.h). */
#include "fault.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void f_contact_req(struct lg_req *q, int target, const char *token, const char *key,
                   const char *gid)
{
    q->target = target;
    q->token = token;
    snprintf(q->path, sizeof q->path, "/api/v1/contacts");
    snprintf(q->key, sizeof q->key, "%s", key);
    snprintf(q->body, sizeof q->body,
             "{\"graduate_id\":\"%s\",\"service\":\"job_referral\",\"channel\":\"phone\","
             "\"occurred_at\":\"2026-03-02T09:00:00+08:00\",\"note\":\"fault test %s\"}",
             gid, key);
}

struct lg_req *f_contact_reqs(const char *tag, size_t n, size_t ngrad)
{
    struct lg_req *reqs = lg_reqs_new(n);
    ck_assert_ptr_nonnull(reqs);
    for (size_t i = 0; i < n; i++) {
        char key[48], gid[24];
        snprintf(key, sizeof key, "%s-%zu", tag, i);
        snprintf(gid, sizeof gid, "G%zu", i % ngrad);
        f_contact_req(&reqs[i], 0, T_C611002, key, gid);
    }
    return reqs;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

void f_stored_ids(redisContext *c, const char *county, const char *prefix, int ngrad,
                  struct f_ids *out)
{
    size_t cap = 1024;
    out->n = out->distinct = 0;
    out->id = malloc(cap * sizeof *out->id);
    ck_assert(out->id);
    for (int g = 0; g < ngrad; g++) {
        redisReply *r = redisCommand(c, "LRANGE gc:{%s}:contacts:%s%d 0 -1", county, prefix, g);
        ck_assert_msg(r && r->type == REDIS_REPLY_ARRAY, "LRANGE failed");
        for (size_t i = 0; i < r->elements; i++) {
            /* A record is "<own id>|..." (docs/design.md), answered by the
             * API as "<graduate id>~<own id>"; older versions stored JSON
             * objects with the whole id. */
            const char *text = r->element[i]->str;
            json_t *j = text[0] == '{' ? json_loads(text, 0, NULL) : NULL;
            const char *id = j ? json_string_value(json_object_get(j, "id")) : text;
            size_t idlen = j ? (id ? strlen(id) : 0) : strcspn(text, "|");
            ck_assert_msg(id && idlen > 0 && (j || text[idlen] == '|'),
                          "stored contact without id: %s", text);
            if (out->n == cap) {
                cap *= 2;
                out->id = realloc(out->id, cap * sizeof *out->id);
                ck_assert(out->id);
            }
            if (j)
                snprintf(out->id[out->n++], sizeof out->id[0], "%s", id);
            else
                snprintf(out->id[out->n++], sizeof out->id[0], "%s%d~%.*s", prefix, g, (int)idlen,
                         id);
            json_decref(j);
        }
        freeReplyObject(r);
    }
    qsort(out->id, out->n, sizeof *out->id, cmp_id);
    for (size_t i = 0; i < out->n; i++)
        out->distinct += i == 0 || strcmp(out->id[i], out->id[i - 1]) != 0;
}

bool f_ids_has(const struct f_ids *ids, const char *id)
{
    return id[0] && bsearch(id, ids->id, ids->n, sizeof *ids->id, cmp_id) != NULL;
}

void f_ids_free(struct f_ids *ids)
{
    free(ids->id);
    ids->id = NULL;
    ids->n = ids->distinct = 0;
}

redisContext *f_redis_at(int port)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    ck_assert_msg(c && !c->err, "cannot connect to Redis on port %d", port);
    return c;
}

long long f_redis_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert_msg(r, "Redis command failed");
    long long v = 0;
    if (r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r->type == REDIS_REPLY_STRING)
        v = atoll(r->str);
    freeReplyObject(r);
    return v;
}

long long f_metric_contacts(struct gc_server *s, const char *county, const char *service)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics");
    char want[200];
    snprintf(want, sizeof want,
             "\ngradcover_contacts_recorded_total{county=\"%s\",service=\"%s\"} ", county, service);
    const char *p = strstr(r->body, want);
    ck_assert_msg(p, "/metrics lacks %s", want + 1);
    long long v = atoll(p + strlen(want));
    h_resp_free(r);
    return v;
}

size_t f_count_status(const struct lg_req *reqs, size_t n, int status)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += reqs[i].status == status;
    return k;
}
