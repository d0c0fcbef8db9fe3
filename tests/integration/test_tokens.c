/* API-issued tokens (SPEC §6 administration) and rate limits, through real
 * gradcoverd processes on the fixture's Redis: a token is shown once and
 * stored only as its SHA-256; it carries its role and county; bad requests
 * change nothing; it expires; a revocation on one server stops it on another
 * at the very next request; per-token read and write limits and the
 * per-address limit on failed authentication answer 429 with Retry-After. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbscan.h"
#include "gradcover/core/pii.h"
#include "harness.h"

#include "dbscan.c"

/* Keys left out of "nothing changed": the audit trail records refused
 * requests too, and the outbox streams' consumer groups note when each
 * server last read them. */
static const char *const VOLATILE[] = {":audit", ":outbox", NULL};

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

static struct gc_server *start(const char *name)
{
    return h_start(h_write_config(cfg, name), NULL, NULL, true);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(none)";
}

static void iso_utc(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* POST /api/v1/tokens as admin; asserts 201 and returns the secret (caller frees). */
static char *create_token(struct gc_server *s, const char *name, const char *role,
                          const char *county, const char *expires_at)
{
    json_t *b = json_pack("{s:s, s:s}", "name", name, "role", role);
    if (county)
        json_object_set_new(b, "county", json_string(county));
    if (expires_at)
        json_object_set_new(b, "expires_at", json_string(expires_at));
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct http_resp *r = h_http(s, "POST", "/api/v1/tokens", T_ADMIN, text, NULL);
    free(text);
    ck_assert_msg(r && r->status == 201, "create token %s: %s", name, r ? r->body : "none");
    char *tok = strdup(jstr(r->json, "token"));
    h_resp_free(r);
    return tok;
}

/* The entry of `name` in GET /api/v1/tokens (new reference), or NULL. The
 * whole listing must not contain `secret` (may be NULL). */
static json_t *listed(struct gc_server *s, const char *name, const char *secret)
{
    struct http_resp *r = h_http(s, "GET", "/api/v1/tokens", T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "list tokens: %s", r ? r->body : "none");
    if (secret)
        ck_assert_msg(!strstr(r->body, secret), "the listing shows a secret: %s", r->body);
    json_t *found = NULL, *e;
    size_t i;
    json_array_foreach(json_object_get(r->json, "tokens"), i, e)
    {
        ck_assert_ptr_null(json_object_get(e, "token"));
        ck_assert_ptr_null(json_object_get(e, "sha256"));
        if (strcmp(jstr(e, "name"), name) == 0)
            found = json_incref(e);
    }
    h_resp_free(r);
    return found;
}

static long long contacts_of(const char *county, const char *id)
{
    return h_redis_int("HGET gc:{%s}:g:%s contacts", county, id);
}

static int get_status(struct gc_server *s, const char *path, const char *token)
{
    struct http_resp *r = h_http(s, "GET", path, token, NULL, NULL);
    ck_assert_msg(r, "no answer to GET %s", path);
    int st = r->status;
    h_resp_free(r);
    return st;
}

/* A contact (no Idempotency-Key) answered 401 with the invalid_token challenge. */
static void expect_contact_401(struct gc_server *s, const char *token, const char *gid)
{
    char body[128];
    snprintf(body, sizeof body, "{\"graduate_id\":\"%s\",\"service\":\"training\"}", gid);
    struct http_resp *r = h_http(s, "POST", "/api/v1/contacts", token, body, NULL);
    char buf[128];
    ck_assert_msg(r && r->status == 401, "contact: %d %s", r ? r->status : 0, r ? r->body : "");
    ck_assert_ptr_nonnull(h_header(r, "WWW-Authenticate", buf, sizeof buf));
    h_expect(r, 401, "unauthorized");
}

static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot read %s", path);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            ck_assert(buf);
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        if (got == 0)
            break;
        len += got;
    }
    fclose(f);
    bool hit = db_has(buf, len, needle);
    free(buf);
    return hit;
}

START_TEST(test_token_shown_once_stored_as_hash_and_scoped)
{
    struct gc_server *s = start("tokens");
    h_register(s, T_ADMIN, "G1", "611002", 1, NULL);
    h_register(s, T_ADMIN, "G2", "611021", 2, NULL);

    struct http_resp *r =
        h_http(s, "POST", "/api/v1/tokens", T_ADMIN,
               "{\"name\":\"wang.counselor\",\"role\":\"counselor\",\"county\":\"611002\"}", NULL);
    ck_assert_msg(r && r->status == 201, "create: %s", r ? r->body : "none");
    char tok[64];
    snprintf(tok, sizeof tok, "%s", jstr(r->json, "token"));
    ck_assert_int_eq(strlen(tok), 43);
    ck_assert_int_eq(
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    ck_assert_str_eq(jstr(r->json, "name"), "wang.counselor");
    ck_assert_str_eq(jstr(r->json, "role"), "counselor");
    ck_assert_str_eq(jstr(r->json, "county"), "611002");
    ck_assert(json_is_string(json_object_get(r->json, "created_at")));
    ck_assert_ptr_null(json_object_get(r->json, "expires_at"));
    char buf[64];
    ck_assert_str_eq(h_header(r, "Cache-Control", buf, sizeof buf), "no-store");
    h_resp_free(r);

    /* Never shown again: the listing has the token's facts, not its secret. */
    json_t *e = listed(s, "wang.counselor", tok);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(jstr(e, "source"), "api");
    ck_assert_str_eq(jstr(e, "role"), "counselor");
    ck_assert_str_eq(jstr(e, "county"), "611002");
    ck_assert_str_eq(jstr(e, "created_by"), "admin");
    ck_assert(json_is_string(json_object_get(e, "created_at")));
    json_decref(e);
    e = listed(s, "admin", tok);
    ck_assert_str_eq(jstr(e, "source"), "config");
    json_decref(e);

    /* Stored only as its SHA-256: the record is under the hash, and no key
     * name or value anywhere holds the secret or a piece of it. */
    char sha[65];
    gc_sha256_hex(tok, strlen(tok), sha);
    redisReply *rr = redisCommand(h_redis(), "HGET gc:{@}:tok:%s name", sha);
    ck_assert(rr && rr->type == REDIS_REPLY_STRING);
    ck_assert_str_eq(rr->str, "wang.counselor");
    freeReplyObject(rr);
    char piece[17];
    memcpy(piece, tok + 20, 16);
    piece[16] = '\0';
    struct db_items *d = db_items();
    for (size_t i = 0; i < d->n; i++) {
        const struct db_item *it = &d->v[i];
        ck_assert_msg(!strstr(it->key, piece), "key %s holds the token", it->key);
        ck_assert_msg(!it->field || !strstr(it->field, piece), "a field of %s holds the token",
                      it->key);
        ck_assert_msg(!db_has(it->value, it->vlen, piece), "a value of %s holds the token",
                      it->key);
    }
    db_items_free(d);

    /* Its role and county: writes in 611002 as wang.counselor ... */
    h_register(s, tok, "G3", "611002", 3, NULL);
    r = h_http(s, "GET", "/api/v1/graduates/G3", T_ADMIN, NULL, NULL);
    ck_assert_str_eq(jstr(r->json, "created_by"), "wang.counselor");
    h_resp_free(r);
    ck_assert_int_eq(h_contact(s, tok, "G1", NULL, NULL), 201);
    ck_assert_int_eq(contacts_of("611002", "G1"), 1);
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G1", tok), 200);
    /* ... and another county's graduate is unknown to it; nothing changes. */
    char *before = db_digest(VOLATILE);
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G2", tok), 404);
    ck_assert_int_eq(h_contact(s, tok, "G2", NULL, NULL), 404);
    char reg[160];
    snprintf(reg, sizeof reg,
             "{\"id\":\"G4\",\"county\":\"611021\",\"name\":\"x\",\"national_id\":\"%s\"}",
             h_natid(4));
    h_expect(h_http(s, "POST", "/api/v1/graduates", tok, reg, NULL), 403, "forbidden");
    char *after = db_digest(VOLATILE);
    const char *diff = db_digest_diff(before, after);
    ck_assert_msg(diff == NULL, "a refused request changed Redis: %s", diff);
    free(before);
    free(after);
    ck_assert_int_eq(contacts_of("611021", "G2"), 0);
    /* A viewer token made through the API sees aggregates only. */
    char *viewer = create_token(s, "dash.viewer", "viewer", NULL, NULL);
    ck_assert_int_eq(get_status(s, "/api/v1/coverage", viewer), 200);
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G1", viewer), 403);

    /* Nor is the secret in the server's log. */
    char log[400];
    snprintf(log, sizeof log, "%s", s->log_path);
    ck_assert_int_eq(h_stop(s), 0);
    ck_assert_msg(!file_contains(log, piece), "the log holds the token");
    free(viewer);
}
END_TEST

struct bad_create {
    const char *body;
    int status;
    const char *code;
    const char *field; /* expected in error.fields, or NULL */
};

START_TEST(test_token_create_validation_changes_nothing)
{
    struct gc_server *s = start("tokens-validation");
    char past[32], ahead[32], name65[80];
    iso_utc(time(NULL) - 3600, past, sizeof past);
    iso_utc(time(NULL) + 3600, ahead, sizeof ahead);
    memset(name65, 'n', 65);
    name65[65] = '\0';
    char b_past[160], b_long[160];
    snprintf(b_past, sizeof b_past, "{\"name\":\"t1\",\"role\":\"viewer\",\"expires_at\":\"%s\"}",
             past);
    snprintf(b_long, sizeof b_long, "{\"name\":\"%s\",\"role\":\"viewer\"}", name65);
    const struct bad_create cases[] = {
        {"{\"name\":\"bad name\",\"role\":\"viewer\"}", 422, "validation_failed", "name"},
        {"{\"name\":\"caf\\u00e9\",\"role\":\"viewer\"}", 422, "validation_failed", "name"},
        {b_long, 422, "validation_failed", "name"},
        {"{\"name\":\"\",\"role\":\"viewer\"}", 422, "validation_failed", "name"},
        {"{\"name\":7,\"role\":\"viewer\"}", 422, "validation_failed", "name"},
        {"{\"role\":\"viewer\"}", 422, "validation_failed", "name"},
        {"{\"name\":\"t1\",\"role\":\"superuser\"}", 422, "validation_failed", "role"},
        {"{\"name\":\"t1\",\"role\":\"Admin\"}", 422, "validation_failed", "role"},
        {"{\"name\":\"t1\"}", 422, "validation_failed", "role"},
        {"{\"name\":\"t1\",\"role\":\"viewer\",\"county\":\"611002\"}", 422, "validation_failed",
         "county"},
        {"{\"name\":\"t1\",\"role\":\"admin\",\"county\":\"611002\"}", 422, "validation_failed",
         "county"},
        {"{\"name\":\"t1\",\"role\":\"counselor\"}", 422, "validation_failed", "county"},
        {"{\"name\":\"t1\",\"role\":\"counselor\",\"county\":\"999999\"}", 422, "validation_failed",
         "county"},
        {"{\"name\":\"t1\",\"role\":\"leader\",\"county\":\"999999\"}", 422, "validation_failed",
         "county"},
        {b_past, 422, "validation_failed", "expires_at"},
        {"{\"name\":\"t1\",\"role\":\"viewer\",\"expires_at\":\"tomorrow\"}", 422,
         "validation_failed", "expires_at"},
        {"{\"name\":\"t1\",\"role\":\"viewer\",\"expires_at\":1893456000000}", 422,
         "validation_failed", "expires_at"},
        /* Counted, never named (docs/api.md, Conventions). */
        {"{\"name\":\"t1\",\"role\":\"viewer\",\"secret\":\"x\"}", 422, "validation_failed",
         "_unknown"},
        {"{\"name\":\"t1\",\"role\":\"viewer\"", 400, NULL, NULL},
        {"[\"t1\"]", 400, NULL, NULL},
        /* The names of the config's tokens are taken. */
        {"{\"name\":\"admin\",\"role\":\"viewer\"}", 409, "name_taken", NULL},
        {"{\"name\":\"zhang.counselor\",\"role\":\"counselor\",\"county\":\"611002\"}", 409,
         "name_taken", NULL},
    };
    char *before = db_digest(VOLATILE);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_resp *r = h_http(s, "POST", "/api/v1/tokens", T_ADMIN, cases[i].body, NULL);
        ck_assert_msg(r && r->status == cases[i].status, "%s: expected %d, got %d %s",
                      cases[i].body, cases[i].status, r ? r->status : 0, r ? r->body : "");
        json_t *err = json_object_get(r->json, "error");
        ck_assert_msg(json_is_string(json_object_get(err, "message")), "%s: %s", cases[i].body,
                      r->body);
        if (cases[i].code)
            ck_assert_str_eq(jstr(err, "code"), cases[i].code);
        if (cases[i].field)
            ck_assert_msg(json_object_get(json_object_get(err, "fields"), cases[i].field),
                          "%s: no error for %s in %s", cases[i].body, cases[i].field, r->body);
        h_resp_free(r);
    }
    /* Nothing at all was written, not even to the audit trail. */
    ck_assert_int_eq(h_redis_int("EXISTS gc:{@}:audit"), 0);
    char *after = db_digest(VOLATILE);
    const char *diff = db_digest_diff(before, after);
    ck_assert_msg(diff == NULL, "a refused create changed Redis: %s", diff);
    free(before);
    free(after);
    json_t *e = listed(s, "t1", NULL);
    ck_assert_ptr_null(e);

    /* A valid request with expires_at; then the same name again: 409, and
     * the first token is unchanged (the refusal is audited). */
    char body[200];
    snprintf(body, sizeof body,
             "{\"name\":\"dup\",\"role\":\"leader\",\"county\":\"611021\",\"expires_at\":\"%s\"}",
             ahead);
    struct http_resp *r = h_http(s, "POST", "/api/v1/tokens", T_ADMIN, body, NULL);
    ck_assert_msg(r && r->status == 201, "%s", r ? r->body : "none");
    ck_assert(json_is_string(json_object_get(r->json, "expires_at")));
    char *dup_secret = strdup(jstr(r->json, "token"));
    h_resp_free(r);
    before = db_digest(VOLATILE);
    long long audited = h_redis_int("XLEN gc:{@}:audit");
    h_expect(
        h_http(s, "POST", "/api/v1/tokens", T_ADMIN, "{\"name\":\"dup\",\"role\":\"admin\"}", NULL),
        409, "name_taken");
    after = db_digest(VOLATILE);
    diff = db_digest_diff(before, after);
    ck_assert_msg(diff == NULL, "a duplicate name changed Redis: %s", diff);
    free(before);
    free(after);
    ck_assert_int_eq(h_redis_int("XLEN gc:{@}:audit"), audited + 1);
    e = listed(s, "dup", dup_secret);
    ck_assert_str_eq(jstr(e, "role"), "leader");
    ck_assert_str_eq(jstr(e, "county"), "611021");
    json_decref(e);
    /* The first one still works, as what it was. */
    ck_assert_int_eq(get_status(s, "/api/v1/counties/611021/queue", dup_secret), 200);
    ck_assert_int_eq(get_status(s, "/api/v1/counties/611002/queue", dup_secret), 403);
    free(dup_secret);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_token_expires)
{
    struct gc_server *s = start("tokens-expiry");
    h_register(s, T_ADMIN, "G1", "611002", 1, NULL);
    /* Five seconds of life: ample for the two requests below on a busy machine. */
    time_t exp = time(NULL) + 5;
    char at[32];
    iso_utc(exp, at, sizeof at);
    char *tok = create_token(s, "short.lived", "counselor", "611002", at);
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G1", tok), 200);
    ck_assert_int_eq(h_contact(s, tok, "G1", NULL, NULL), 201);
    ck_assert_msg(time(NULL) < exp, "the machine is too slow for this test's timing");
    json_t *e = listed(s, "short.lived", tok);
    ck_assert(json_is_string(json_object_get(e, "expires_at")));
    json_decref(e);

    while (time(NULL) <= exp + 1)
        h_sleep_ms(200);
    /* Cached on this server: refused all the same. */
    h_expect(h_http(s, "GET", "/api/v1/graduates/G1", tok, NULL, NULL), 401, "unauthorized");
    expect_contact_401(s, tok, "G1");
    ck_assert_int_eq(contacts_of("611002", "G1"), 1);
    /* A server that reads it from Redis for the first time refuses it too. */
    struct gc_server *b = start("tokens-expiry");
    h_expect(h_http(b, "GET", "/api/v1/graduates/G1", tok, NULL, NULL), 401, "unauthorized");
    expect_contact_401(b, tok, "G1");
    ck_assert_int_eq(contacts_of("611002", "G1"), 1);
    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(s), 0);
    free(tok);
}
END_TEST

START_TEST(test_last_used_at_after_use)
{
    struct gc_server *s = start("tokens-used");
    char *tok = create_token(s, "lu.viewer", "viewer", NULL, NULL);
    json_t *e = listed(s, "lu.viewer", tok);
    ck_assert_ptr_null(json_object_get(e, "last_used_at"));
    json_decref(e);
    ck_assert_int_eq(get_status(s, "/api/v1/coverage", tok), 200);
    e = listed(s, "lu.viewer", tok);
    ck_assert_msg(json_is_string(json_object_get(e, "last_used_at")), "no last_used_at in %s",
                  json_dumps(e, 0));
    json_decref(e);
    ck_assert_int_eq(h_stop(s), 0);
    free(tok);
}
END_TEST

START_TEST(test_revoke_on_one_server_stops_the_other_at_once)
{
    char path[600];
    snprintf(path, sizeof path, "%s", h_write_config(cfg, "tokens-two"));
    struct gc_server *a = h_start(path, NULL, NULL, true);
    struct gc_server *b = h_start(path, NULL, NULL, true);
    ck_assert_int_ne(a->port, b->port);
    h_register(a, T_ADMIN, "G1", "611002", 1, NULL);
    char *tok = create_token(a, "moving.counselor", "counselor", "611002", NULL);
    char sha[65];
    gc_sha256_hex(tok, strlen(tok), sha);

    /* B has never seen it: it reads the record from Redis, then caches it. */
    ck_assert_int_eq(get_status(b, "/api/v1/graduates/G1", tok), 200);
    ck_assert_int_eq(h_contact(b, tok, "G1", NULL, NULL), 201);
    ck_assert_int_eq(get_status(b, "/api/v1/graduates/G1", tok), 200);
    ck_assert_int_eq(get_status(a, "/api/v1/graduates/G1", tok), 200);
    ck_assert_int_eq(contacts_of("611002", "G1"), 1);

    struct http_resp *r =
        h_http(a, "DELETE", "/api/v1/tokens/moving.counselor", T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "revoke: %s", r ? r->body : "none");
    ck_assert_str_eq(jstr(r->json, "name"), "moving.counselor");
    ck_assert(json_is_true(json_object_get(r->json, "revoked")));
    h_resp_free(r);

    /* The very next requests on B: a write, then a read. */
    char *before = db_digest(VOLATILE);
    expect_contact_401(b, tok, "G1");
    char *after = db_digest(VOLATILE);
    const char *diff = db_digest_diff(before, after);
    ck_assert_msg(diff == NULL, "a revoked token's write changed Redis: %s", diff);
    free(before);
    free(after);
    ck_assert_int_eq(contacts_of("611002", "G1"), 1);
    h_expect(h_http(b, "GET", "/api/v1/graduates/G1", tok, NULL, NULL), 401, "unauthorized");
    h_expect(h_http(a, "GET", "/api/v1/graduates/G1", tok, NULL, NULL), 401, "unauthorized");
    h_expect(
        h_http(b, "POST", "/api/v1/graduates/G1/status", tok, "{\"status\":\"employed\"}", NULL),
        401, "unauthorized");
    r = h_http(a, "GET", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL);
    ck_assert_str_eq(jstr(r->json, "status"), "seeking");
    h_resp_free(r);

    /* Gone from Redis and from the listing. */
    ck_assert_int_eq(h_redis_int("EXISTS gc:{@}:tok:%s", sha), 0);
    ck_assert_int_eq(h_redis_int("HEXISTS gc:{@}:tokens moving.counselor"), 0);
    ck_assert_ptr_null(listed(b, "moving.counselor", tok));

    /* Revoking again, an unknown name, a malformed one, a config token. */
    h_expect(h_http(b, "DELETE", "/api/v1/tokens/moving.counselor", T_ADMIN, NULL, NULL), 404,
             "not_found");
    h_expect(h_http(a, "DELETE", "/api/v1/tokens/nobody", T_ADMIN, NULL, NULL), 404, "not_found");
    h_expect(h_http(a, "DELETE", "/api/v1/tokens/bad%20name", T_ADMIN, NULL, NULL), 404,
             "not_found");
    before = db_digest(VOLATILE);
    h_expect(h_http(a, "DELETE", "/api/v1/tokens/zhang.counselor", T_ADMIN, NULL, NULL), 409,
             "config_token");
    h_expect(h_http(a, "DELETE", "/api/v1/tokens/admin", T_ADMIN, NULL, NULL), 409, "config_token");
    after = db_digest(VOLATILE);
    ck_assert_ptr_null(db_digest_diff(before, after));
    free(before);
    free(after);
    ck_assert_int_eq(get_status(b, "/api/v1/graduates/G1", T_C611002), 200);
    ck_assert_int_eq(get_status(a, "/api/v1/graduates/G1", T_ADMIN), 200);

    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(a), 0);
    free(tok);
}
END_TEST

/* ---- rate limits ---- */

/* Small limits: 1 request a second after a burst of 4 writes or 6 reads, and
 * 3 failed authentications a minute per address. */
#define W_BURST 4
#define R_BURST 6
#define AUTH_PER_MIN 3

static void setup_limits(void)
{
    setup();
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i, s:i, s:i, s:i}", "writes_per_second", 1,
                                  "write_burst", W_BURST, "reads_per_second", 1, "read_burst",
                                  R_BURST, "auth_failures_per_minute", AUTH_PER_MIN));
}

/* Retry-After of a 429 too_many_requests answer: a plain integer >= 1. */
static int retry_after(struct http_resp *r)
{
    char buf[32];
    ck_assert_msg(r && r->status == 429, "expected 429, got %d %s", r ? r->status : 0,
                  r ? r->body : "");
    ck_assert_str_eq(jstr(json_object_get(r->json, "error"), "code"), "too_many_requests");
    const char *ra = h_header(r, "Retry-After", buf, sizeof buf);
    ck_assert_msg(ra, "429 without Retry-After");
    ck_assert_msg(strspn(ra, "0123456789") == strlen(ra) && strlen(ra) > 0, "Retry-After: %s", ra);
    int v = atoi(ra);
    ck_assert_int_ge(v, 1);
    return v;
}

static struct http_resp *contact(struct gc_server *s, const char *token, const char *gid)
{
    char body[128];
    snprintf(body, sizeof body, "{\"graduate_id\":\"%s\",\"service\":\"training\"}", gid);
    return h_http(s, "POST", "/api/v1/contacts", token, body, NULL);
}

/* Sends requests until the first 429; returns how many succeeded with
 * `ok_status` and sets *ra to the 429's Retry-After. The bucket refills at
 * 1/s, so at most burst + the elapsed seconds (+1 for rounding) succeed. */
static int until_limited(struct gc_server *s, bool write, const char *token, int ok_status,
                         int burst, int *ra)
{
    long long t0 = h_now_ms();
    int ok = 0;
    for (int i = 0; i < burst + 40; i++) {
        struct http_resp *r = write ? contact(s, token, "G1")
                                    : h_http(s, "GET", "/api/v1/graduates/G1", token, NULL, NULL);
        ck_assert_msg(r, "no answer");
        if (r->status == 429) {
            *ra = retry_after(r);
            h_resp_free(r);
            long long secs = (h_now_ms() - t0) / 1000;
            ck_assert_msg(ok >= burst && ok <= burst + secs + 1,
                          "%d succeeded before the 429 in %lld s (burst %d)", ok, secs, burst);
            return ok;
        }
        ck_assert_msg(r->status == ok_status, "got %d %s", r->status, r->body);
        ok++;
        h_resp_free(r);
    }
    ck_abort_msg("never limited");
    return 0;
}

START_TEST(test_rate_limits_per_token_reads_and_writes)
{
    struct gc_server *s = start("limits");
    h_register(s, T_ADMIN, "G1", "611002", 1, NULL);
    char *other = create_token(s, "other.counselor", "counselor", "611002", NULL);

    /* Writes beyond the burst: 429, and nothing counted for them. */
    int ra = 0;
    int ok = until_limited(s, true, T_C611002, 201, W_BURST, &ra);
    /* At 1 request a second, the next one is at most a second away. */
    ck_assert_int_eq(ra, 1);
    ck_assert_int_eq(contacts_of("611002", "G1"), ok);
    /* Reads have their own bucket. */
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G1", T_C611002), 200);
    /* Another token is not affected, for writes or reads. */
    struct http_resp *r = contact(s, other, "G1");
    ck_assert_msg(r && r->status == 201, "other token: %s", r ? r->body : "");
    h_resp_free(r);
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G1", other), 200);
    ck_assert_int_eq(contacts_of("611002", "G1"), ok + 1);

    /* Reads beyond their burst (one was spent above). */
    int rok = until_limited(s, false, T_C611002, 200, R_BURST - 1, &ra);
    ck_assert_int_ge(rok, R_BURST - 1);
    ck_assert_int_eq(ra, 1);
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G1", other), 200);

    /* After waiting Retry-After seconds, both work again. */
    h_sleep_ms(ra * 1000 + 100);
    ck_assert_int_eq(get_status(s, "/api/v1/graduates/G1", T_C611002), 200);
    r = contact(s, T_C611002, "G1");
    ck_assert_msg(r && r->status == 201, "after Retry-After: %s", r ? r->body : "");
    h_resp_free(r);
    ck_assert_int_eq(contacts_of("611002", "G1"), ok + 2);

    /* An API token is limited the same way, independently of the others. */
    int aok = until_limited(s, true, other, 201, W_BURST - 1, &ra);
    ck_assert_int_eq(contacts_of("611002", "G1"), ok + 2 + aok);
    ck_assert_int_eq(h_stop(s), 0);
    free(other);
}
END_TEST

/* What the server does once an address has failed to authenticate too often:
 * every unknown or malformed token gets 429 without a look-up in Redis (so an
 * API token that this server has not cached yet is refused too, even a valid
 * one); config tokens and API tokens already cached by this server go on
 * working; a request without any token is still a plain 401. */
START_TEST(test_failed_authentication_limit_per_address)
{
    struct gc_server *s = start("limits-auth");
    char *cached = create_token(s, "af.cached", "viewer", NULL, NULL);
    char *fresh = create_token(s, "af.fresh", "viewer", NULL, NULL);
    ck_assert_int_eq(get_status(s, "/api/v1/coverage", cached), 200);

    for (int i = 0; i < AUTH_PER_MIN; i++) {
        char guess[64];
        snprintf(guess, sizeof guess, "guessed-token-%d", i);
        h_expect(h_http(s, "GET", "/api/v1/coverage", guess, NULL, NULL), 401, "unauthorized");
    }
    struct http_resp *r = h_http(s, "GET", "/api/v1/coverage", "guessed-token-x", NULL, NULL);
    int ra = retry_after(r);
    h_resp_free(r);
    /* 3 a minute: one more allowed in at most 20 s. */
    ck_assert_int_le(ra, 60 / AUTH_PER_MIN);
    const char *basic[] = {"Authorization: Basic YWRtaW46YWRtaW4=", NULL};
    r = h_http(s, "GET", "/api/v1/coverage", NULL, NULL, basic);
    retry_after(r);
    h_resp_free(r);
    r = h_http(s, "POST", "/api/v1/contacts", "guessed-token-y",
               "{\"graduate_id\":\"G1\",\"service\":\"training\"}", NULL);
    retry_after(r);
    h_resp_free(r);

    r = h_http(s, "GET", "/api/v1/coverage", fresh, NULL, NULL);
    retry_after(r);
    h_resp_free(r);
    ck_assert_int_eq(get_status(s, "/api/v1/coverage", cached), 200);
    ck_assert_int_eq(get_status(s, "/api/v1/coverage", T_VIEWER), 200);
    ck_assert_int_eq(get_status(s, "/api/v1/coverage", T_ADMIN), 200);
    h_expect(h_http(s, "GET", "/api/v1/coverage", NULL, NULL, NULL), 401, "unauthorized");

    /* Another server keeps its own count: the valid token works there. */
    struct gc_server *b = start("limits-auth");
    ck_assert_int_eq(get_status(b, "/api/v1/coverage", fresh), 200);
    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(s), 0);
    free(cached);
    free(fresh);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("tokens");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_token_shown_once_stored_as_hash_and_scoped);
    tcase_add_test(tc, test_token_create_validation_changes_nothing);
    tcase_add_test(tc, test_token_expires);
    tcase_add_test(tc, test_last_used_at_after_use);
    tcase_add_test(tc, test_revoke_on_one_server_stops_the_other_at_once);
    suite_add_tcase(s, tc);

    TCase *lim = tcase_create("rate_limits");
    tcase_add_checked_fixture(lim, setup_limits, teardown);
    tcase_set_timeout(lim, 60);
    tcase_add_test(lim, test_rate_limits_per_token_reads_and_writes);
    tcase_add_test(lim, test_failed_authentication_limit_per_address);
    suite_add_tcase(s, lim);
    return h_run_suite(s);
}
