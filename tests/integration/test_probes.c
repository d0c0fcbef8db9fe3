/* What hostile clients still got (issue 14), through the real gradcoverd and
 * Redis: a request wearing another request's X-Request-Id in the audit trail,
 * national IDs and phone numbers used as graduate ids (refused before any
 * write, audit entry or log line), cross-county probes at registration (id
 * conflicts answered and audited alike; a person seeking elsewhere audited in
 * both counties and limited per token), and erased values left in the AOF
 * until an admin has it rewritten. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static json_t *cfg;

static void setup(void)
{
    h_init();
    h_flushdb();
    cfg = h_default_config();
}

static void teardown(void)
{
    json_decref(cfg);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(none)";
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot read %s", path);
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    ck_assert(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* True when needle occurs in the bytes [s, s + n) (which may hold NULs). */
static bool has(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; m && i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0)
            return true;
    return false;
}

/* One request with an X-Request-Id header (rid may be NULL). */
static struct http_resp *call(struct gc_server *s, const char *method, const char *path,
                              const char *token, const char *body, const char *rid)
{
    char h[200];
    snprintf(h, sizeof h, "X-Request-Id: %s", rid ? rid : "");
    const char *headers[2] = {rid ? h : NULL, NULL};
    struct http_resp *r = h_http(s, method, path, token, body, headers);
    ck_assert_msg(r, "no answer to %s %s", method, path);
    return r;
}

/* The entries of a county's trail ("" = the global one): a new reference. */
static json_t *trail(struct gc_server *s, const char *county)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/audit?limit=1000%s%s", *county ? "&county=" : "", county);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r->status == 200, "audit %s: %s", county, r->body);
    json_t *e = json_incref(json_object_get(r->json, "entries"));
    h_resp_free(r);
    return e;
}

/* Our request ids: the server's 8-character prefix, '-', a hex sequence. */
static bool our_request_id(const char *s)
{
    size_t n = strlen(s);
    return n > 9 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 8 &&
           s[8] == '-' && strspn(s + 9, "0123456789abcdef") == n - 9;
}

/* ---- X-Request-Id: the client's beside ours, never instead ---- */

START_TEST(test_audit_keeps_client_request_id_beside_ours)
{
    struct gc_server *s = h_start(h_write_config(cfg, "probes-rid"), NULL, NULL, true);
    h_register(s, T_ADMIN, "G1", "611002", 1, NULL);
    /* Two requests wearing the same id, one with an id we do not accept, one without. */
    const char *sent[] = {"shared-1", "shared-1", "bad id<x>", NULL};
    char echoed[4][80];
    for (int i = 0; i < 4; i++) {
        struct http_resp *r = call(s, "GET", "/api/v1/graduates/G1", T_C611002, NULL, sent[i]);
        ck_assert_int_eq(r->status, 200);
        ck_assert(h_header(r, "X-Request-Id", echoed[i], sizeof echoed[i]));
        h_resp_free(r);
    }
    /* The reply's header is as before: the client's sane id, else ours. */
    ck_assert_str_eq(echoed[0], "shared-1");
    ck_assert_str_eq(echoed[1], "shared-1");
    ck_assert_msg(our_request_id(echoed[2]), "%s", echoed[2]);
    ck_assert_msg(our_request_id(echoed[3]), "%s", echoed[3]);

    json_t *e = trail(s, "611002");
    ck_assert_int_eq(json_array_size(e), 5); /* the registration, then the four reads */
    const char *rid[4];
    for (int i = 0; i < 4; i++) {
        json_t *x = json_array_get(e, (size_t)i + 1);
        ck_assert_str_eq(jstr(x, "action"), "graduate.read");
        rid[i] = jstr(x, "request_id");
        ck_assert_msg(our_request_id(rid[i]), "entry %d: request_id %s is not ours", i, rid[i]);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(rid[i], rid[j]) != 0, "entries %d and %d share %s", j, i, rid[i]);
        if (i < 2)
            ck_assert_str_eq(jstr(x, "client_request_id"), "shared-1");
        else
            ck_assert_msg(!json_object_get(x, "client_request_id"), "entry %d: %s", i,
                          json_dumps(x, 0));
    }
    ck_assert_str_eq(rid[2], echoed[2]);
    ck_assert_str_eq(rid[3], echoed[3]);

    /* The request's log line holds both. */
    char log_path[400];
    snprintf(log_path, sizeof log_path, "%s", s->log_path);
    ck_assert_int_eq(h_stop(s), 0);
    size_t n;
    char *log = slurp(log_path, &n);
    char want[200];
    snprintf(want, sizeof want, "request_id=%s method=GET route=/api/v1/graduates/{id} status=200",
             rid[0]);
    char *line = strstr(log, want);
    ck_assert_msg(line, "no log line with %s", want);
    char *eol = strchr(line, '\n');
    ck_assert(eol);
    *eol = '\0';
    ck_assert_msg(strstr(line, " client_request_id=shared-1"), "%s", line);
    ck_assert_msg(!has(log, n, "bad id"), "an unsane request id was logged");
    free(log);
    json_decref(e);
}
END_TEST

/* ---- national IDs and phone numbers where an id belongs ---- */

/* Every field and value of every audit stream (gc:*:audit), one text. */
static char *audit_streams(size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    ck_assert(f);
    redisContext *c = h_redis();
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH gc:*:audit COUNT 1000", cursor);
        ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str;
            redisReply *x = redisCommand(c, "XRANGE %s - +", key);
            ck_assert(x && x->type == REDIS_REPLY_ARRAY);
            for (size_t e = 0; e < x->elements; e++) {
                redisReply *kv = x->element[e]->element[1];
                for (size_t k = 0; k < kv->elements; k++)
                    fprintf(f, "%s %.*s\n", key, (int)kv->element[k]->len, kv->element[k]->str);
            }
            freeReplyObject(x);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    fclose(f);
    return out;
}

/* Every key name of the database, one text. */
static char *key_names(size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    ck_assert(f);
    redisContext *c = h_redis();
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s COUNT 1000", cursor);
        ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++)
            fprintf(f, "%s\n", r->element[1]->element[i]->str);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    fclose(f);
    return out;
}

static void expect_personal_refused(struct http_resp *r, const char *what)
{
    ck_assert_msg(r->status == 400, "%s: expected 400, got %d %s", what, r->status, r->body);
    json_t *err = json_object_get(r->json, "error");
    ck_assert_msg(strcmp(jstr(err, "code"), "id_is_personal_data") == 0, "%s: %s", what, r->body);
    h_resp_free(r);
}

/* A national ID (valid, GB 11643) and mobile numbers used as ids anywhere an
 * id is taken: 400 before anything is read, written, audited or logged (the
 * registration keeps its 422). Then no audit stream, key name or log line
 * holds one of them (issue 14: GET /graduates/611021200002024560 put the
 * number into gc:{611002}:audit, kept 200 days and shown to leaders). */
START_TEST(test_personal_data_ids_are_refused_before_any_trace)
{
    const char *args[] = {"--log-level", "debug", NULL};
    struct gc_server *s = h_start(h_write_config(cfg, "probes-pii-ids"), args, NULL, true);
    h_register(s, T_ADMIN, "G1", "611002", 1, NULL);
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", NULL, NULL), 201);
    long long reg0, srv0, reg1, srv1;
    h_counts(s, "611002", "", &reg0, &srv0);
    static const char *const ids[] = {"611021200002024560", "13911112222", "8615987654321"};
    const char *readers[] = {T_ADMIN, T_C611002, T_C611021, T_L611002, T_LALL};
    const char *writers[] = {T_ADMIN, T_C611002, T_C611021};
    char path[128], body[300], what[300];
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const char *id = ids[i];
        for (size_t t = 0; t < sizeof readers / sizeof readers[0]; t++) {
            snprintf(path, sizeof path, "/api/v1/graduates/%s", id);
            snprintf(what, sizeof what, "GET %s as reader %zu", path, t);
            expect_personal_refused(call(s, "GET", path, readers[t], NULL, NULL), what);
            snprintf(path, sizeof path, "/api/v1/graduates/%s/contacts", id);
            snprintf(what, sizeof what, "GET %s as reader %zu", path, t);
            expect_personal_refused(call(s, "GET", path, readers[t], NULL, NULL), what);
        }
        for (size_t t = 0; t < sizeof writers / sizeof writers[0]; t++) {
            snprintf(path, sizeof path, "/api/v1/graduates/%s/status", id);
            snprintf(what, sizeof what, "POST %s as writer %zu", path, t);
            expect_personal_refused(
                call(s, "POST", path, writers[t], "{\"status\":\"employed\"}", NULL), what);
            snprintf(body, sizeof body,
                     "{\"graduate_id\":\"%s\",\"service\":\"job_referral\",\"note\":\"n\"}", id);
            snprintf(what, sizeof what, "POST /api/v1/contacts for %s as writer %zu", id, t);
            expect_personal_refused(call(s, "POST", "/api/v1/contacts", writers[t], body, NULL),
                                    what);
            /* Refused before the body's other rules: still 400. */
            snprintf(body, sizeof body, "{\"graduate_id\":\"%s\",\"service\":\"massage\"}", id);
            expect_personal_refused(call(s, "POST", "/api/v1/contacts", writers[t], body, NULL),
                                    what);
            /* The registration keeps its 422 on the field. */
            snprintf(
                body, sizeof body,
                "{\"id\":\"%s\",\"county\":\"611021\",\"name\":\"王五\",\"national_id\":\"%s\"}",
                id, h_natid(40 + (int)i));
            struct http_resp *r = call(s, "POST", "/api/v1/graduates", writers[t], body, NULL);
            ck_assert_msg(r->status == 422 || (t == 1 && r->status == 403), "register %s: %d %s",
                          id, r->status, r->body);
            if (r->status == 422)
                ck_assert_msg(
                    json_object_get(json_object_get(json_object_get(r->json, "error"), "fields"),
                                    "id"),
                    "register %s: %s", id, r->body);
            h_resp_free(r);
        }
        snprintf(path, sizeof path, "/api/v1/graduates/%s", id);
        expect_personal_refused(call(s, "DELETE", path, T_ADMIN, NULL, NULL), "DELETE graduate");
        snprintf(path, sizeof path, "/api/v1/tokens/%s", id);
        expect_personal_refused(call(s, "DELETE", path, T_ADMIN, NULL, NULL), "DELETE token");
        snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"viewer\"}", id);
        struct http_resp *r = call(s, "POST", "/api/v1/tokens", T_ADMIN, body, NULL);
        ck_assert_msg(r->status == 422 &&
                          json_object_get(
                              json_object_get(json_object_get(r->json, "error"), "fields"), "name"),
                      "token named %s: %d %s", id, r->status, r->body);
        h_resp_free(r);
        /* As a request id it is not taken: the answer carries ours. */
        r = call(s, "GET", "/api/v1/graduates/G1", T_C611002, NULL, id);
        ck_assert_int_eq(r->status, 200);
        char echoed[80];
        ck_assert(h_header(r, "X-Request-Id", echoed, sizeof echoed));
        ck_assert_msg(our_request_id(echoed), "X-Request-Id %s echoed", echoed);
        h_resp_free(r);
    }
    h_counts(s, "611002", "", &reg1, &srv1);
    ck_assert(reg1 == reg0 && srv1 == srv0);
    ck_assert_int_eq(h_redis_int("LLEN gc:{611002}:contacts:G1"), 1);
    char log_path[400];
    snprintf(log_path, sizeof log_path, "%s", s->log_path);
    ck_assert_int_eq(h_stop(s), 0);

    size_t alen, klen, llen;
    char *audit = audit_streams(&alen), *keys = key_names(&klen), *log = slurp(log_path, &llen);
    ck_assert_msg(has(audit, alen, "graduate.read"), "the scan sees no audit entry: %s", audit);
    ck_assert_msg(has(log, llen, "event=http_request"), "the log is empty");
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        /* The mobile numbers' last 11 digits, too (8615987654321). */
        const char *core = ids[i] + (strlen(ids[i]) == 13 ? 2 : 0);
        ck_assert_msg(!has(audit, alen, core), "an audit stream holds %s:\n%s", ids[i], audit);
        ck_assert_msg(!has(keys, klen, core), "a key name holds %s", ids[i]);
        ck_assert_msg(!has(log, llen, core), "the log holds %s", ids[i]);
    }
    free(audit);
    free(keys);
    free(log);
}
END_TEST

/* ---- registration conflicts: ids, and people seeking elsewhere ---- */

static struct http_resp *register_as(struct gc_server *s, const char *token, const char *id,
                                     const char *county, int seq, const char *rid)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"county\":\"%s\",\"name\":\"王五\",\"national_id\":\"%s\"}", id,
             county, h_natid(seq));
    return call(s, "POST", "/api/v1/graduates", token, body, rid);
}

/* The last entry of a county's trail with this action (NULL if none); borrowed from e. */
static json_t *last_entry(json_t *e, const char *action)
{
    for (size_t i = json_array_size(e); i > 0; i--)
        if (strcmp(jstr(json_array_get(e, i - 1), "action"), action) == 0)
            return json_array_get(e, i - 1);
    return NULL;
}

/* An id taken in the caller's own county and one taken in another county get
 * the same answer and leave the same trace, in the caller's county only: a
 * registration does not tell a counselor which county an id is in (issue 14:
 * the other county's conflict was answered at once and left no entry). */
START_TEST(test_id_conflicts_are_answered_and_audited_alike)
{
    struct gc_server *s = h_start(h_write_config(cfg, "probes-ids"), NULL, NULL, true);
    h_register(s, T_C611021, "L1", "611021", 1, NULL);
    h_register(s, T_C611002, "S1", "611002", 2, NULL);
    long long r2, v2, r21, v21;
    h_counts(s, "611002", "", &r2, &v2);
    h_counts(s, "611021", "", &r21, &v21);
    json_t *before21 = trail(s, "611021");

    struct http_resp *other = register_as(s, T_C611002, "L1", "611002", 3, "probe-other");
    struct http_resp *own = register_as(s, T_C611002, "S1", "611002", 4, "probe-own");
    ck_assert_msg(other->status == 409 && own->status == 409, "%d %s / %d %s", other->status,
                  other->body, own->status, own->body);
    ck_assert_msg(strcmp(other->body, own->body) == 0, "answers differ:\n%s\n%s", other->body,
                  own->body);
    ck_assert_str_eq(jstr(json_object_get(own->json, "error"), "code"), "id_taken");
    h_resp_free(other);
    h_resp_free(own);

    /* The caller's county records both, alike; the other county nothing. */
    json_t *e = trail(s, "611002");
    size_t n = json_array_size(e);
    ck_assert_int_ge(n, 3);
    json_t *a = json_array_get(e, n - 2), *b = json_array_get(e, n - 1);
    const char *keys[] = {"who", "role", "action", "result"};
    for (size_t k = 0; k < 4; k++)
        ck_assert_msg(strcmp(jstr(a, keys[k]), jstr(b, keys[k])) == 0, "%s differs: %s / %s",
                      keys[k], json_dumps(a, 0), json_dumps(b, 0));
    ck_assert_str_eq(jstr(a, "action"), "graduate.register");
    ck_assert_str_eq(jstr(a, "result"), "id_taken");
    ck_assert_str_eq(jstr(a, "object"), "L1");
    ck_assert_str_eq(jstr(a, "client_request_id"), "probe-other");
    ck_assert_str_eq(jstr(b, "object"), "S1");
    ck_assert_str_eq(jstr(b, "client_request_id"), "probe-own");
    json_t *after21 = trail(s, "611021");
    ck_assert_msg(json_equal(before21, after21), "611021's trail changed: %s",
                  json_dumps(after21, 0));
    /* Nothing changed, and neither person was left claimed. */
    long long x2, y2, x21, y21;
    h_counts(s, "611002", "", &x2, &y2);
    h_counts(s, "611021", "", &x21, &y21);
    ck_assert(x2 == r2 && y2 == v2 && x21 == r21 && y21 == v21);
    h_register(s, T_C611002, "S3", "611002", 3, NULL);
    h_register(s, T_C611002, "S4", "611002", 4, NULL);
    json_decref(e);
    json_decref(before21);
    json_decref(after21);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* A refusal because the person is seeking in another county (which policy
 * needs: one person is counted in one county) is written to both counties'
 * trails: who asked, from which county, the graduate's id there, never the
 * national ID; and a token gets only so many of them (then 429, whatever the
 * national ID, so that the 429 tells nothing either). */
START_TEST(test_seeking_elsewhere_is_audited_in_both_counties_and_limited_per_token)
{
    json_object_set_new(
        cfg, "rate_limits",
        json_pack("{s:i, s:i}", "seeking_refusals_per_hour", 1, "seeking_refusal_burst", 2));
    struct gc_server *s = h_start(h_write_config(cfg, "probes-seeking"), NULL, NULL, true);
    h_register(s, T_C611021, "L1", "611021", 50, NULL);
    /* Registrations that go through spend nothing of the allowance. */
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "OK%d", i);
        h_register(s, T_C611002, id, "611002", 60 + i, NULL);
    }
    long long reg2, srv2, reg21, srv21;
    h_counts(s, "611002", "", &reg2, &srv2);
    h_counts(s, "611021", "", &reg21, &srv21);

    struct http_resp *r = register_as(s, T_C611002, "P-1", "611002", 50, "probe-1");
    ck_assert_msg(r->status == 409, "%d %s", r->status, r->body);
    ck_assert_str_eq(jstr(json_object_get(r->json, "error"), "code"), "already_seeking");
    h_resp_free(r);

    json_t *e2 = trail(s, "611002"), *e21 = trail(s, "611021");
    json_t *asked = json_array_get(e2, json_array_size(e2) - 1);
    ck_assert_str_eq(jstr(asked, "action"), "graduate.register");
    ck_assert_str_eq(jstr(asked, "object"), "P-1");
    ck_assert_str_eq(jstr(asked, "result"), "already_seeking");
    ck_assert_str_eq(jstr(asked, "who"), "zhang.counselor");
    ck_assert_str_eq(jstr(asked, "client_request_id"), "probe-1");
    json_t *held = last_entry(e21, "graduate.duplicate_refused");
    ck_assert_msg(held, "no entry in 611021: %s", json_dumps(e21, 0));
    ck_assert_str_eq(jstr(held, "object"), "L1");
    ck_assert_str_eq(jstr(held, "result"), "already_seeking");
    ck_assert_str_eq(jstr(held, "who"), "zhang.counselor");
    ck_assert_str_eq(jstr(held, "role"), "counselor");
    ck_assert_str_eq(jstr(held, "from_county"), "611002");
    ck_assert_str_eq(jstr(held, "request_id"), jstr(asked, "request_id"));
    /* The asking county does not learn where the person is. */
    char *t2 = json_dumps(e2, 0);
    ck_assert_msg(!strstr(t2, "611021") && !strstr(t2, "\"L1\""), "611002's trail: %s", t2);
    free(t2);
    json_decref(e2);
    json_decref(e21);

    /* The second refusal uses up the allowance (burst 2) ... */
    h_expect(register_as(s, T_C611002, "P-2", "611002", 50, NULL), 409, "already_seeking");
    /* ... and the next registration by this token waits, whoever it is for:
     * a person seeking nowhere gets the same 429, and is not registered. */
    r = register_as(s, T_C611002, "P-3", "611002", 51, NULL);
    ck_assert_msg(r->status == 429, "%d %s", r->status, r->body);
    char ra[16];
    ck_assert(h_header(r, "Retry-After", ra, sizeof ra));
    ck_assert_int_ge(atoi(ra), 1000); /* one refusal an hour: ~an hour to wait */
    ck_assert_str_eq(jstr(json_object_get(r->json, "error"), "code"), "too_many_requests");
    h_resp_free(r);
    h_expect(register_as(s, T_C611002, "P-4", "611002", 50, NULL), 429, "too_many_requests");
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:P-3 gc:{@}:gid:P-3"), 0);
    long long x, y;
    h_counts(s, "611002", "", &x, &y);
    ck_assert(x == reg2 && y == srv2);
    h_counts(s, "611021", "", &x, &y);
    ck_assert(x == reg21 && y == srv21);
    /* The allowance is the token's: another token registers the person. */
    h_expect(register_as(s, T_ADMIN, "P-3", "611002", 51, NULL), 201, NULL);

    /* A return to seeking refused for the same reason is traced in both
     * counties too (it names no national ID of the caller's choosing, so it
     * is not limited). */
    h_expect(call(s, "POST", "/api/v1/graduates/OK0/status", T_C611002, "{\"status\":\"employed\"}",
                  NULL),
             200, NULL);
    h_expect(register_as(s, T_C611021, "L2", "611021", 60, NULL), 201, NULL);
    r = call(s, "POST", "/api/v1/graduates/OK0/status", T_C611002, "{\"status\":\"seeking\"}",
             "probe-reseek");
    ck_assert_msg(r->status == 409, "%d %s", r->status, r->body);
    ck_assert_str_eq(jstr(json_object_get(r->json, "error"), "code"), "already_seeking");
    h_resp_free(r);
    e2 = trail(s, "611002");
    e21 = trail(s, "611021");
    asked = json_array_get(e2, json_array_size(e2) - 1);
    ck_assert_str_eq(jstr(asked, "action"), "graduate.status");
    ck_assert_str_eq(jstr(asked, "object"), "OK0");
    ck_assert_str_eq(jstr(asked, "result"), "already_seeking");
    held = last_entry(e21, "graduate.duplicate_refused");
    ck_assert_str_eq(jstr(held, "object"), "L2");
    ck_assert_str_eq(jstr(held, "from_county"), "611002");
    ck_assert_str_eq(jstr(held, "client_request_id"), "probe-reseek");
    json_decref(e2);
    json_decref(e21);

    /* No audit stream holds a national ID. */
    size_t alen;
    char *audit = audit_streams(&alen);
    for (int seq = 50; seq <= 62; seq++)
        ck_assert_msg(!has(audit, alen, h_natid(seq)), "an audit stream holds a national ID");
    free(audit);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* ---- erasure and the AOF ---- */

/* Every byte of every file in dir, one buffer (NULs and all). */
static char *dir_bytes(const char *dir, size_t *len, int *nfiles)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    ck_assert(f);
    DIR *d = opendir(dir);
    ck_assert_msg(d, "cannot open %s", dir);
    struct dirent *de;
    *nfiles = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t n;
        char *b = slurp(path, &n);
        fwrite(b, 1, n, f);
        free(b);
        (*nfiles)++;
    }
    closedir(d);
    fclose(f);
    return out;
}

/* Waits until the private Redis on port has no AOF rewrite running or
 * scheduled and at least `rewrites` done; its INFO persistence on failure. */
static void wait_rewritten(int port, int rewrites)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    ck_assert(c && !c->err);
    char last[2048] = "";
    for (int i = 0; i < 200; i++) {
        redisReply *r = redisCommand(c, "INFO persistence");
        ck_assert(r && r->type == REDIS_REPLY_STRING);
        snprintf(last, sizeof last, "%s", r->str);
        freeReplyObject(r);
        const char *n = strstr(last, "aof_rewrites:");
        if (strstr(last, "aof_rewrite_in_progress:0") && strstr(last, "aof_rewrite_scheduled:0") &&
            strstr(last, "aof_last_bgrewrite_status:ok") && n &&
            atoi(n + strlen("aof_rewrites:")) >= rewrites) {
            redisFree(c);
            return;
        }
        h_sleep_ms(50);
    }
    redisFree(c);
    ck_abort_msg("the AOF rewrite did not finish: %s", last);
}

/* DELETE /graduates/{id} removes the values from Redis, not from the AOF,
 * which keeps every command until it is rewritten: the erased name and
 * phone are in appendonlydir/ after the erasure, and gone once an admin has
 * had it rewritten (POST /api/v1/maintenance/rewrite-aof, which the
 * gradcoverd ACL user of deploy/redis-users.acl may send). */
START_TEST(test_erased_values_leave_the_aof_when_an_admin_has_it_rewritten)
{
    /* A Redis of its own, AOF on (fsync always), with the shipped ACL. */
    char acl[500];
    snprintf(acl, sizeof acl, "%s/users.acl", getenv("GC_FIXTURE_DIR"));
    const char *extra[] = {"--aclfile", acl, NULL};
    struct h_redis_proc *rp = h_redis_spawn_args("aof", 0, true, extra);
    char url[200];
    snprintf(url, sizeof url, "redis://gradcoverd:gradcoverd-test-password@127.0.0.1:%d/0",
             rp->port);
    struct gc_server *s = h_start(h_write_config(cfg, "probes-aof"), NULL, url, true);
    const char *name = "欧阳抹除", *phone = "13712340099";
    char body[300];
    snprintf(body, sizeof body,
             "{\"id\":\"E1\",\"county\":\"611002\",\"name\":\"%s\",\"national_id\":\"%s\","
             "\"phone\":\"%s\"}",
             name, h_natid(70), phone);
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_ADMIN, body, NULL), 201, NULL);
    h_expect(h_http(s, "DELETE", "/api/v1/graduates/E1", T_ADMIN, NULL, NULL), 200, NULL);

    char dir[600];
    snprintf(dir, sizeof dir, "%s/appendonlydir", rp->dir);
    size_t n;
    int files;
    char *aof = dir_bytes(dir, &n, &files);
    ck_assert_msg(has(aof, n, name) && has(aof, n, phone),
                  "before the rewrite the AOF should still hold the erased name and phone");
    free(aof);

    /* Only admins may ask (the matrix in test_auth.c has the other roles). */
    h_expect(h_http(s, "POST", "/api/v1/maintenance/rewrite-aof", T_C611002, NULL, NULL), 403,
             "forbidden");
    struct http_resp *r =
        call(s, "POST", "/api/v1/maintenance/rewrite-aof", T_ADMIN, NULL, "rewrite-1");
    ck_assert_msg(r->status == 202, "%d %s", r->status, r->body);
    ck_assert_str_eq(jstr(r->json, "aof_rewrite"), "started");
    h_resp_free(r);
    wait_rewritten(rp->port, 1);

    aof = dir_bytes(dir, &n, &files);
    ck_assert_int_ge(files, 2); /* the manifest and a base at least */
    ck_assert_msg(!has(aof, n, name), "the rewritten AOF still holds the erased name");
    ck_assert_msg(!has(aof, n, phone), "the rewritten AOF still holds the erased phone");
    ck_assert_msg(has(aof, n, "gc:{611002}:g:E1"), "the rewritten AOF lost the graduate");
    free(aof);
    /* The record and its counts are still there. */
    long long reg, srv;
    h_counts(s, "611002", "", &reg, &srv);
    ck_assert_int_eq(reg, 1);

    /* The request is in the global trail. */
    json_t *e = trail(s, "");
    json_t *x = last_entry(e, "maintenance.rewrite_aof");
    ck_assert_msg(x, "not audited: %s", json_dumps(e, 0));
    ck_assert_str_eq(jstr(x, "who"), "admin");
    ck_assert_str_eq(jstr(x, "result"), "started");
    ck_assert_str_eq(jstr(x, "client_request_id"), "rewrite-1");
    json_decref(e);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probes");
    TCase *tc = tcase_create("probes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_audit_keeps_client_request_id_beside_ours);
    tcase_add_test(tc, test_personal_data_ids_are_refused_before_any_trace);
    tcase_add_test(tc, test_id_conflicts_are_answered_and_audited_alike);
    tcase_add_test(tc, test_seeking_elsewhere_is_audited_in_both_counties_and_limited_per_token);
    tcase_add_test(tc, test_erased_values_leave_the_aof_when_an_admin_has_it_rewritten);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
