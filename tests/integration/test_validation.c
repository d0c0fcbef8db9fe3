/* Bad input (SPEC §3, §6) through the real server and Redis: every validation
 * rule gets a request that breaks it, and each test asserts the status, the
 * error code, for 422 the offending key in error.fields, and that nothing
 * changed: the county's registered/served counts, the contact counters and
 * lists, and a digest of every key in the test's Redis database. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gradcover/api/routes.h"
#include "gradcover/core/pii.h"
#include "gradcover/domain/natid.h"
#include "harness.h"

static struct gc_server *srv;

#define REG_AT "2026-03-01T09:00:00+08:00"
#define CONTACT_AT "2026-03-05T10:30:00+08:00"

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    srv = h_start(h_write_config(cfg, "validation"), NULL, NULL, true);
    json_decref(cfg);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

/* ---- time ---- */

/* now + secs as RFC 3339 in +08:00. */
static const char *time_from_now(long long secs, char *buf, size_t n)
{
    time_t t = time(NULL) + (time_t)secs + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    return buf;
}

static int current_year(void)
{
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

/* ---- "changes nothing": a snapshot of counts and of the whole database ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per key, sorted: "<key> <sha256 of DUMP>". DUMP covers the value
 * (not the TTL), so any write to any key shows. */
static char *db_state(void)
{
    redisContext *c = h_redis();
    char **keys = NULL;
    size_t nk = 0, cap = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s COUNT 1000", cursor);
        ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *list = r->element[1];
        for (size_t i = 0; i < list->elements; i++) {
            if (nk == cap) {
                cap = cap ? cap * 2 : 64;
                keys = realloc(keys, cap * sizeof *keys);
                ck_assert(keys);
            }
            /* The audit trail records refusals too, by design (docs/security.md). */
            if (strstr(list->element[i]->str, ":audit") == NULL)
                keys[nk++] = strdup(list->element[i]->str);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    if (nk > 1)
        qsort(keys, nk, sizeof *keys, cmp_str);
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    ck_assert(f);
    for (size_t i = 0; i < nk; i++) {
        if (i > 0 && strcmp(keys[i], keys[i - 1]) == 0)
            continue; /* SCAN may repeat a key */
        redisReply *d = redisCommand(c, "DUMP %s", keys[i]);
        ck_assert(d);
        char hex[65] = "-";
        if (d->type == REDIS_REPLY_STRING)
            gc_sha256_hex(d->str, d->len, hex);
        fprintf(f, "%s %.16s\n", keys[i], hex);
        freeReplyObject(d);
    }
    fclose(f);
    for (size_t i = 0; i < nk; i++)
        free(keys[i]);
    free(keys);
    return out;
}

/* Lines of a that are not in b, each prefixed with mark, into out. */
static void missing_lines(const char *a, const char *b, char mark, char *out, size_t n)
{
    size_t used = strlen(out);
    for (const char *p = a; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        bool found = false;
        for (const char *q = strstr(b, line); q; q = strstr(q + 1, line))
            if (q == b || q[-1] == '\n') {
                found = true;
                break;
            }
        if (!found && used + len + 2 < n) {
            out[used++] = mark;
            memcpy(out + used, p, len);
            used += len;
            out[used] = '\0';
        }
        p += len;
    }
}

struct snap {
    long long reg, srv;         /* county 611002, period 2026 */
    long long reg_now, srv_now; /* county 611002, current period */
    long long job_referral;     /* HGET gc:{611002}:cnt c:job_referral */
    long long g1_list;          /* LLEN gc:{611002}:contacts:G1 */
    long long g1_contacts;      /* HGET gc:{611002}:g:G1 contacts */
    long long dbsize;
    char *state;
};

static void snap_take(struct snap *s)
{
    h_counts(srv, "611002", "2026", &s->reg, &s->srv);
    h_counts(srv, "611002", "", &s->reg_now, &s->srv_now);
    s->job_referral = h_redis_int("HGET gc:{611002}:cnt c:job_referral");
    s->g1_list = h_redis_int("LLEN gc:{611002}:contacts:G1");
    s->g1_contacts = h_redis_int("HGET gc:{611002}:g:G1 contacts");
    s->dbsize = h_redis_int("DBSIZE") -
                h_redis_int("EXISTS gc:{611002}:audit gc:{611021}:audit gc:{@}:audit");
    s->state = db_state();
}

static void snap_expect_same(struct snap *before, const char *what)
{
    struct snap after;
    snap_take(&after);
    ck_assert_msg(after.reg == before->reg && after.srv == before->srv,
                  "%s: 2026 counts moved: registered %lld -> %lld, served %lld -> %lld", what,
                  before->reg, after.reg, before->srv, after.srv);
    ck_assert_msg(after.reg_now == before->reg_now && after.srv_now == before->srv_now,
                  "%s: current counts moved: registered %lld -> %lld, served %lld -> %lld", what,
                  before->reg_now, after.reg_now, before->srv_now, after.srv_now);
    ck_assert_msg(after.job_referral == before->job_referral,
                  "%s: c:job_referral moved %lld -> %lld", what, before->job_referral,
                  after.job_referral);
    ck_assert_msg(after.g1_list == before->g1_list, "%s: LLEN contacts:G1 moved %lld -> %lld", what,
                  before->g1_list, after.g1_list);
    ck_assert_msg(after.g1_contacts == before->g1_contacts, "%s: G1 contacts moved %lld -> %lld",
                  what, before->g1_contacts, after.g1_contacts);
    char diff[2048] = "";
    missing_lines(before->state, after.state, '-', diff, sizeof diff);
    missing_lines(after.state, before->state, '+', diff, sizeof diff);
    ck_assert_msg(after.dbsize == before->dbsize && strcmp(before->state, after.state) == 0,
                  "%s: the database changed (%lld -> %lld keys):\n%s", what, before->dbsize,
                  after.dbsize, diff);
    free(after.state);
    free(before->state);
    before->state = NULL;
}

/* ---- error responses ---- */

static void expect_std_headers(struct http_resp *r, const char *what)
{
    char v[128];
    ck_assert_msg(h_header(r, "X-Request-Id", v, sizeof v) && v[0], "%s: no X-Request-Id", what);
    ck_assert_msg(h_header(r, "Cache-Control", v, sizeof v) && strcmp(v, "no-store") == 0,
                  "%s: Cache-Control is not no-store", what);
    ck_assert_msg(h_header(r, "X-Content-Type-Options", v, sizeof v) && strcmp(v, "nosniff") == 0,
                  "%s: X-Content-Type-Options is not nosniff", what);
    ck_assert_msg(h_header(r, "Content-Type", v, sizeof v) &&
                      strncmp(v, "application/json", 16) == 0,
                  "%s: error is not application/json", what);
}

/* Asserts status, error.code, a non-empty error.message and, when field is
 * given, error.fields[field] (equal to field_msg when that is given). Frees r. */
static void expect_error(struct http_resp *r, const char *what, int status, const char *code,
                         const char *field, const char *field_msg)
{
    ck_assert_msg(r, "%s: no HTTP response (server crashed?)", what);
    ck_assert_msg(r->status == status, "%s: expected %d %s, got %d: %s", what, status, code,
                  r->status, r->body);
    json_t *err = json_object_get(r->json, "error");
    ck_assert_msg(json_is_object(err), "%s: no error object: %s", what, r->body);
    const char *c = json_string_value(json_object_get(err, "code"));
    ck_assert_msg(c && strcmp(c, code) == 0, "%s: expected error %s, got %s", what, code, r->body);
    const char *m = json_string_value(json_object_get(err, "message"));
    ck_assert_msg(m && m[0], "%s: no error.message: %s", what, r->body);
    if (field) {
        json_t *f = json_object_get(json_object_get(err, "fields"), field);
        ck_assert_msg(json_is_string(f), "%s: expected error.fields.%s: %s", what, field, r->body);
        if (field_msg)
            ck_assert_msg(strcmp(json_string_value(f), field_msg) == 0,
                          "%s: expected error.fields.%s = \"%s\": %s", what, field, field_msg,
                          r->body);
    }
    expect_std_headers(r, what);
    h_resp_free(r);
}

/* Snapshot, send, assert the error, assert the snapshot is unchanged. */
static void reject(const char *method, const char *path, const char *token, const char *body,
                   const char *const *hdrs, int status, const char *code, const char *field,
                   const char *field_msg)
{
    char what[512];
    snprintf(what, sizeof what, "%.16s %.200s %.200s", method, path, body ? body : "");
    struct snap before;
    snap_take(&before);
    expect_error(h_http(srv, method, path, token, body, hdrs), what, status, code, field,
                 field_msg);
    snap_expect_same(&before, what);
}

static void reject_registration(const char *token, const char *body, int status, const char *code,
                                const char *field, const char *field_msg)
{
    reject("POST", "/api/v1/graduates", token, body, NULL, status, code, field, field_msg);
}

static void reject_contact(const char *body, const char *const *hdrs, int status, const char *code,
                           const char *field)
{
    reject("POST", "/api/v1/contacts", T_C611002, body, hdrs, status, code, field, NULL);
}

static void reject_status(const char *id, const char *body, int status, const char *code,
                          const char *field)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/graduates/%s/status", id);
    reject("POST", path, T_C611002, body, NULL, status, code, field, NULL);
}

static void expect_no_graduate(const char *id)
{
    ck_assert_msg(h_redis_int("EXISTS gc:{611002}:g:%s", id) == 0, "graduate %s was stored", id);
    ck_assert_msg(h_redis_int("EXISTS gc:{@}:gid:%s", id) == 0, "graduate id %s was claimed", id);
}

/* ---- known states ---- */

/* G1 and G2 seeking since REG_AT, G1 served once (job_referral): 2/1 in 2026. */
static void given_two_graduates_one_served(void)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REG_AT);
    h_register(srv, T_C611002, "G2", "611002", 2, REG_AT);
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", CONTACT_AT, NULL), 201);
    long long reg, served;
    h_counts(srv, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, 2);
    ck_assert_int_eq(served, 1);
}

static void set_status(const char *id, const char *status, const char *at, int expect)
{
    char body[200], path[100];
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"at\":\"%s\"}", status, at);
    snprintf(path, sizeof path, "/api/v1/graduates/%s/status", id);
    h_expect(h_http(srv, "POST", path, T_C611002, body, NULL), expect, NULL);
}

/* A registration body for G3 in 611002 with the given national ID and extra
 * members (",\"k\":v" or ""). */
static const char *reg_body(const char *natid, const char *extra)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\","
             "\"registered_at\":\"" REG_AT "\"%s}",
             natid, extra);
    return buf;
}

/* The 422 for one unknown member of a registration body: counted, never named. */
#define UNKNOWN_GRADUATE_1                                                                         \
    "1 unknown field; allowed: id, county, name, national_id, phone, school, major, "              \
    "graduation_year, registered_at, assigned_to"

/* 17 digits and the correct check character. */
static const char *natid_of(const char *first17)
{
    static char b[4][20];
    static int slot;
    char *p = b[slot++ % 4];
    snprintf(p, 20, "%.17s", first17);
    p[17] = natid_check_char(p);
    p[18] = '\0';
    return p;
}

/* ======================= registration ======================= */

START_TEST(test_registration_with_wrong_national_id_checksum_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char bad[20];
    snprintf(bad, sizeof bad, "%s", h_natid(3));
    bad[17] = bad[17] == '1' ? '2' : '1';
    reject_registration(T_C611002, reg_body(bad, ""), 422, "validation_failed", "national_id",
                        "checksum does not match");
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_impossible_birth_date_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    /* Feb 30th, month 13, day 00, a birth date in the future: each with a
     * correct check character, so only the date is wrong. */
    const char *cases[] = {"61100219990230123", "61100219991301123", "61100219990100123",
                           "61100220990101123", "61100218890101123"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        reject_registration(T_C611002, reg_body(natid_of(cases[i]), ""), 422, "validation_failed",
                            "national_id", "birth date is not a valid past date");
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_national_id_of_wrong_length_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char shortid[20], longid[24];
    snprintf(shortid, sizeof shortid, "%.17s", h_natid(3));
    snprintf(longid, sizeof longid, "%s0", h_natid(3));
    reject_registration(T_C611002, reg_body(shortid, ""), 422, "validation_failed", "national_id",
                        "must be 18 characters");
    reject_registration(T_C611002, reg_body(longid, ""), 422, "validation_failed", "national_id",
                        "must be 18 characters");
    /* The old 15-digit form is not accepted either. */
    reject_registration(T_C611002, reg_body("611002990101123", ""), 422, "validation_failed",
                        "national_id", "must be 18 characters");
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_non_digit_national_id_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_registration(T_C611002, reg_body("6110021999A101123X", ""), 422, "validation_failed",
                        "national_id", NULL);
    reject_registration(T_C611002, reg_body("61100219990101123Y", ""), 422, "validation_failed",
                        "national_id", NULL);
    reject_registration(T_C611002, reg_body("61100219990101-23X", ""), 422, "validation_failed",
                        "national_id", NULL);
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_lowercase_x_check_character_is_accepted)
{
    h_register(srv, T_C611002, "G1", "611002", 1, REG_AT);
    char natid[20] = "";
    for (int seq = 10; seq < 400 && !natid[0]; seq++) {
        const char *n = h_natid(seq);
        if (n[17] == 'X')
            snprintf(natid, sizeof natid, "%s", n);
    }
    ck_assert_msg(natid[0], "no national ID with check character X found");
    char lower[20];
    snprintf(lower, sizeof lower, "%s", natid);
    lower[17] = 'x';
    struct http_resp *r =
        h_http(srv, "POST", "/api/v1/graduates", T_C611002, reg_body(lower, ""), NULL);
    ck_assert_msg(r && r->status == 201, "lowercase x: %d %s", r ? r->status : 0, r ? r->body : "");
    const char *masked = json_string_value(json_object_get(r->json, "national_id"));
    ck_assert_ptr_nonnull(masked);
    ck_assert_msg(strlen(masked) == 18 && masked[17] == 'X' && strncmp(masked, "611002", 6) == 0 &&
                      strncmp(masked + 6, "********", 8) == 0,
                  "masked national ID %s", masked);
    ck_assert_ptr_null(strstr(r->body, lower));
    ck_assert_ptr_null(strstr(r->body, natid));
    h_resp_free(r);
    long long reg, served;
    h_counts(srv, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, 2);
    /* Normalised: the upper-case spelling is the same, still-seeking person. */
    char body[400];
    snprintf(body, sizeof body,
             "{\"id\":\"G4\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\"}",
             natid);
    reject_registration(T_C611002, body, 409, "already_seeking", NULL, NULL);
    expect_no_graduate("G4");
}
END_TEST

START_TEST(test_registration_with_invalid_id_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char id65[66];
    memset(id65, 'a', 65);
    id65[65] = '\0';
    const char *ids[] = {"bad id!", "a/b", "G3?x=1", "中文", "", id65};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char body[600];
        snprintf(body, sizeof body,
                 "{\"id\":\"%s\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\"}",
                 ids[i], h_natid(3));
        reject_registration(T_C611002, body, 422, "validation_failed", "id", NULL);
    }
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:%s", id65), 0);
    /* A non-string id is refused too. */
    char body[400];
    snprintf(body, sizeof body,
             "{\"id\":123,\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\"}",
             h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "id", NULL);
    /* A national ID as the graduate id would put it in key names, URLs and
     * logs: refused, whether it is the person's own or another valid one. */
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\"}",
             h_natid(3), h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "id",
                        "must not be a national ID");
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\"}",
             h_natid(4), h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "id",
                        "must not be a national ID");
    snprintf(
        body, sizeof body,
        "{\"id\":\"13800000000\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\"}",
        h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "id",
                        "must not be a phone number");
}
END_TEST

START_TEST(test_registration_without_name_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char body[400];
    snprintf(body, sizeof body, "{\"id\":\"G3\",\"county\":\"611002\",\"national_id\":\"%s\"}",
             h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "name", "is required");
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"611002\",\"name\":null,\"national_id\":\"%s\"}",
             h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "name", "is required");
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"\",\"national_id\":\"%s\"}",
             h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "name", NULL);
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_in_unknown_county_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char body[400];
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"999999\",\"name\":\"王五\",\"national_id\":\"%s\"}",
             h_natid(3));
    reject_registration(T_ADMIN, body, 422, "validation_failed", "county", NULL);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{999999}:g:G3"), 0);
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_unknown_field_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_registration(T_C611002, reg_body(h_natid(3), ",\"nickname\":\"小王\""), 422,
                        "validation_failed", "_unknown", UNKNOWN_GRADUATE_1);
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_in_the_future_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char t[40], body[400];
    const long long ahead[] = {3600, 6 * 60, 400 * 86400LL};
    for (size_t i = 0; i < sizeof ahead / sizeof ahead[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\","
                 "\"registered_at\":\"%s\"}",
                 h_natid(3), time_from_now(ahead[i], t, sizeof t));
        reject_registration(T_C611002, body, 422, "validation_failed", "registered_at", NULL);
    }
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_within_clock_skew_is_accepted)
{
    char t[40], body[400];
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\","
             "\"registered_at\":\"%s\"}",
             h_natid(3), time_from_now(60, t, sizeof t));
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL), 201, NULL);
}
END_TEST

START_TEST(test_registration_time_without_offset_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    const char *times[] = {"\"2026-03-01T09:00:00\"",       "\"2026-03-01\"",
                           "\"2026-03-01 09:00\"",          "\"yesterday\"",
                           "\"2026-02-30T09:00:00+08:00\"", "20260301"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char body[400];
        snprintf(body, sizeof body,
                 "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\","
                 "\"registered_at\":%s}",
                 h_natid(3), times[i]);
        reject_registration(T_C611002, body, 422, "validation_failed", "registered_at", NULL);
    }
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_graduation_year_out_of_range_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char years[4][32];
    snprintf(years[0], sizeof years[0], "1949");
    snprintf(years[1], sizeof years[1], "%d", current_year() + 2);
    snprintf(years[2], sizeof years[2], "\"2026\"");
    snprintf(years[3], sizeof years[3], "2026.5");
    for (int i = 0; i < 4; i++) {
        char extra[192];
        snprintf(extra, sizeof extra, ",\"graduation_year\":%s", years[i]);
        reject_registration(T_C611002, reg_body(h_natid(3), extra), 422, "validation_failed",
                            "graduation_year", NULL);
    }
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_letters_in_phone_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    const char *phones[] = {"1380013800a", "phone", "138 0013 8000", "1234",
                            "+86-138-0013-8000-000"};
    for (size_t i = 0; i < sizeof phones / sizeof phones[0]; i++) {
        char extra[80];
        snprintf(extra, sizeof extra, ",\"phone\":\"%s\"", phones[i]);
        reject_registration(T_C611002, reg_body(h_natid(3), extra), 422, "validation_failed",
                            "phone", NULL);
    }
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_registration_with_name_over_64_characters_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char name[65 * 3 + 1] = "";
    for (int i = 0; i < 65; i++)
        strcat(name, "张");
    char body[600];
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"%s\",\"national_id\":\"%s\"}", name,
             h_natid(3));
    reject_registration(T_C611002, body, 422, "validation_failed", "name", NULL);
    expect_no_graduate("G3");
    /* 64 characters (192 bytes) is the limit, counted in characters. */
    name[64 * 3] = '\0';
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"%s\",\"national_id\":\"%s\"}", name,
             h_natid(3));
    h_expect(h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL), 201, NULL);
}
END_TEST

START_TEST(test_registration_of_national_id_already_seeking_is_409_and_changes_nothing)
{
    given_two_graduates_one_served();
    char body[400];
    /* Same county, by its counselor. */
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"611002\",\"name\":\"王五\",\"national_id\":\"%s\"}",
             h_natid(1));
    reject_registration(T_C611002, body, 409, "already_seeking", NULL, NULL);
    expect_no_graduate("G3");
    /* Another county, by the admin: "seeking anywhere". */
    snprintf(body, sizeof body,
             "{\"id\":\"G3\",\"county\":\"611021\",\"name\":\"王五\",\"national_id\":\"%s\"}",
             h_natid(2));
    reject_registration(T_ADMIN, body, 409, "already_seeking", NULL, NULL);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611021}:g:G3"), 0);
    long long reg, served;
    h_counts(srv, "611021", "2026", &reg, &served);
    ck_assert_int_eq(reg, 0);
}
END_TEST

START_TEST(test_registration_resent_with_same_id_and_national_id_returns_stored_graduate)
{
    h_register(srv, T_C611002, "G2", "611002", 2, REG_AT);
    char body[400];
    snprintf(body, sizeof body,
             "{\"id\":\"G1\",\"county\":\"611002\",\"name\":\"张三\",\"national_id\":\"%s\","
             "\"phone\":\"13800000000\",\"registered_at\":\"" REG_AT "\"}",
             h_natid(1));
    struct http_resp *first = h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL);
    ck_assert_msg(first && first->status == 201, "first: %s", first ? first->body : "");
    long long reg, served;
    h_counts(srv, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, 2);
    struct http_resp *again = h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL);
    ck_assert_msg(again && again->status == 200, "re-sent: expected 200, got %d %s",
                  again ? again->status : 0, again ? again->body : "");
    ck_assert_msg(json_equal(first->json, again->json), "stored graduate differs:\n%s\n%s",
                  first->body, again->body);
    ck_assert_str_eq(json_string_value(json_object_get(again->json, "id")), "G1");
    h_resp_free(first);
    h_resp_free(again);
    h_counts(srv, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, 2);
    ck_assert_int_eq(h_redis_int("ZCARD gc:{611002}:seeking"), 2);
}
END_TEST

START_TEST(test_registration_reusing_id_with_other_national_id_is_409_and_changes_nothing)
{
    given_two_graduates_one_served();
    char body[400];
    snprintf(body, sizeof body,
             "{\"id\":\"G1\",\"county\":\"611002\",\"name\":\"李四\",\"national_id\":\"%s\"}",
             h_natid(7));
    reject_registration(T_C611002, body, 409, "id_taken", NULL, NULL);
    /* In another county the id is taken as well. */
    snprintf(body, sizeof body,
             "{\"id\":\"G1\",\"county\":\"611021\",\"name\":\"李四\",\"national_id\":\"%s\"}",
             h_natid(7));
    reject_registration(T_ADMIN, body, 409, "id_taken", NULL, NULL);
    /* The other person's national ID was not left behind: not found, and free
     * to be registered under a new id. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", h_natid(7));
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "lookup: %s", r ? r->body : "");
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "graduates")), 0);
    h_resp_free(r);
    h_register(srv, T_C611002, "G7", "611002", 7, REG_AT);
}
END_TEST

/* ======================= contacts ======================= */

START_TEST(test_contact_with_unknown_service_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"massage\"}", NULL, 422,
                   "validation_failed", "service");
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"JOB_REFERRAL\"}", NULL, 422,
                   "validation_failed", "service");
    reject_contact("{\"graduate_id\":\"G2\"}", NULL, 422, "validation_failed", "service");
    reject_contact("{\"graduate_id\":\"G2\",\"service\":7}", NULL, 422, "validation_failed",
                   "service");
}
END_TEST

START_TEST(test_contact_with_unknown_channel_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"training\",\"channel\":\"pigeon\"}", NULL,
                   422, "validation_failed", "channel");
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"training\",\"channel\":\"\"}", NULL, 422,
                   "validation_failed", "channel");
}
END_TEST

START_TEST(test_contact_in_the_future_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char t[40], body[300];
    const long long ahead[] = {3600, 6 * 60};
    for (size_t i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"occurred_at\":\"%s\"}",
                 time_from_now(ahead[i], t, sizeof t));
        reject_contact(body, NULL, 422, "validation_failed", "occurred_at");
    }
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\","
                   "\"occurred_at\":\"2026-03-05T10:30:00\"}",
                   NULL, 422, "validation_failed", "occurred_at");
}
END_TEST

START_TEST(test_contact_before_registration_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\","
                   "\"occurred_at\":\"2026-02-28T10:00:00+08:00\"}",
                   NULL, 422, "validation_failed", "occurred_at");
    /* One second before registration. */
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\","
                   "\"occurred_at\":\"2026-03-01T08:59:59+08:00\"}",
                   NULL, 422, "validation_failed", "occurred_at");
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\","
                   "\"occurred_at\":\"2025-12-31T10:00:00+08:00\"}",
                   NULL, 422, "validation_failed", "occurred_at");
}
END_TEST

START_TEST(test_contact_while_not_seeking_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    set_status("G2", "employed", "2026-04-01T09:00:00+08:00", 200);
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\","
                   "\"occurred_at\":\"2026-05-01T10:00:00+08:00\"}",
                   NULL, 422, "validation_failed", "occurred_at");
    /* Defaulting to now is after the employment too. */
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\"}", NULL, 422,
                   "validation_failed", "occurred_at");
    set_status("G1", "not_seeking", "2026-04-01T09:00:00+08:00", 200);
    reject_contact("{\"graduate_id\":\"G1\",\"service\":\"job_referral\","
                   "\"occurred_at\":\"2026-04-02T10:00:00+08:00\"}",
                   NULL, 422, "validation_failed", "occurred_at");
}
END_TEST

START_TEST(test_contact_with_note_over_500_characters_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    size_t cap = 501 * 3 + 200;
    char *body = malloc(cap);
    int n = snprintf(body, cap, "{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"");
    for (int i = 0; i < 501; i++)
        n += snprintf(body + n, cap - (size_t)n, "推");
    snprintf(body + n, cap - (size_t)n, "\"}");
    reject_contact(body, NULL, 422, "validation_failed", "note");
    n = snprintf(body, cap, "{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"");
    for (int i = 0; i < 501; i++)
        body[n++] = 'a';
    snprintf(body + n, cap - (size_t)n, "\"}");
    reject_contact(body, NULL, 422, "validation_failed", "note");
    free(body);
}
END_TEST

START_TEST(test_contact_with_500_character_chinese_note_is_accepted)
{
    given_two_graduates_one_served();
    size_t cap = 500 * 3 + 200;
    char *body = malloc(cap);
    int n = snprintf(body, cap, "{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"");
    for (int i = 0; i < 500; i++)
        n += snprintf(body + n, cap - (size_t)n, "推");
    snprintf(body + n, cap - (size_t)n, "\"}");
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, body, NULL), 201, NULL);
    free(body);
    long long reg, served;
    h_counts(srv, "611002", "", &reg, &served);
    ck_assert_int_eq(served, 2);
    ck_assert_int_eq(h_redis_int("LLEN gc:{611002}:contacts:G2"), 1);
}
END_TEST

START_TEST(test_contact_with_nul_in_note_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    /* Well-formed JSON (RFC 8259 allows \u0000) whose note breaks the rule. */
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"a\\u0000b\"}",
                   NULL, 422, "validation_failed", "note");
}
END_TEST

START_TEST(test_contact_with_control_character_in_note_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"a\\u0001b\"}",
                   NULL, 422, "validation_failed", "note");
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"\\u001b[31m\"}",
                   NULL, 422, "validation_failed", "note");
}
END_TEST

START_TEST(test_contact_with_invalid_utf8_is_400_and_changes_nothing)
{
    given_two_graduates_one_served();
    /* Not UTF-8, so not JSON text (RFC 8259 §8.1): a malformed body. */
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"\xff\xfe\"}",
                   NULL, 400, "malformed_json", NULL);
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"\xe6\x8e\"}",
                   NULL, 400, "malformed_json", NULL);
}
END_TEST

START_TEST(test_contact_for_unknown_graduate_is_404_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_contact("{\"graduate_id\":\"NOPE\",\"service\":\"job_referral\"}", NULL, 404,
                   "not_found", NULL);
    reject("POST", "/api/v1/contacts", T_ADMIN,
           "{\"graduate_id\":\"NOPE\",\"service\":\"job_referral\"}", NULL, 404, "not_found", NULL,
           NULL);
    /* A graduate of another county is unknown to this counselor. */
    reject("POST", "/api/v1/contacts", T_C611021,
           "{\"graduate_id\":\"G2\",\"service\":\"job_referral\"}", NULL, 404, "not_found", NULL,
           NULL);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:contacts:NOPE"), 0);
}
END_TEST

START_TEST(test_contact_without_graduate_id_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_contact("{\"service\":\"job_referral\"}", NULL, 422, "validation_failed", "graduate_id");
    reject_contact("{\"graduate_id\":\"\",\"service\":\"job_referral\"}", NULL, 422,
                   "validation_failed", "graduate_id");
    reject_contact("{\"graduate_id\":\"G 2\",\"service\":\"job_referral\"}", NULL, 422,
                   "validation_failed", "graduate_id");
}
END_TEST

START_TEST(test_contact_with_unknown_field_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject("POST", "/api/v1/contacts", T_C611002,
           "{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"counselor\":\"x\"}", NULL, 422,
           "validation_failed", "_unknown",
           "1 unknown field; allowed: graduate_id, service, channel, outcome, occurred_at, note");
}
END_TEST

static const char *valid_contact = "{\"graduate_id\":\"G2\",\"service\":\"job_referral\","
                                   "\"occurred_at\":\"2026-03-06T10:00:00+08:00\"}";

START_TEST(test_contact_with_overlong_idempotency_key_is_400_and_changes_nothing)
{
    given_two_graduates_one_served();
    char hdr[200] = "Idempotency-Key: ";
    size_t p = strlen(hdr);
    memset(hdr + p, 'k', 129);
    hdr[p + 129] = '\0';
    const char *hdrs[] = {hdr, NULL};
    reject_contact(valid_contact, hdrs, 400, "bad_idempotency_key", NULL);
    /* 128 is the limit. */
    hdr[p + 128] = '\0';
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, valid_contact, hdrs), 201, NULL);
}
END_TEST

START_TEST(test_contact_with_space_in_idempotency_key_is_400_and_changes_nothing)
{
    given_two_graduates_one_served();
    const char *space[] = {"Idempotency-Key: batch 7", NULL};
    reject_contact(valid_contact, space, 400, "bad_idempotency_key", NULL);
    const char *tab[] = {"Idempotency-Key: batch\t7", NULL};
    reject_contact(valid_contact, tab, 400, "bad_idempotency_key", NULL);
    const char *utf8[] = {"Idempotency-Key: 批次7", NULL};
    reject_contact(valid_contact, utf8, 400, "bad_idempotency_key", NULL);
    const char *empty[] = {"Idempotency-Key:", NULL};
    reject_contact(valid_contact, empty, 400, "bad_idempotency_key", NULL);
}
END_TEST

START_TEST(test_contact_reusing_idempotency_key_with_other_body_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    const char *hdr[] = {"Idempotency-Key: offline-7/item-1", NULL};
    const char *first = "{\"graduate_id\":\"G1\",\"service\":\"job_referral\"}";
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, first, hdr), 201, NULL);
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"training\"}", hdr, 422,
                   "idempotency_key_reused", NULL);
    /* Even a body that differs only in a byte. */
    reject_contact("{\"graduate_id\":\"G1\",\"service\":\"job_referral\" }", hdr, 422,
                   "idempotency_key_reused", NULL);
    ck_assert_int_eq(h_redis_int("LLEN gc:{611002}:contacts:G2"), 0);
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt c:training"), 0);
}
END_TEST

START_TEST(test_contact_for_withdrawn_graduate_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    set_status("G2", "withdrawn", "2026-04-01T09:00:00+08:00", 200);
    /* Inside G2's former seeking interval, but withdrawn counts in no period. */
    reject_contact("{\"graduate_id\":\"G2\",\"service\":\"job_referral\","
                   "\"occurred_at\":\"2026-03-10T10:00:00+08:00\"}",
                   NULL, 422, "validation_failed", "graduate_id");
}
END_TEST

START_TEST(test_contact_by_viewer_is_403_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject("POST", "/api/v1/contacts", T_VIEWER, valid_contact, NULL, 403, "forbidden", NULL, NULL);
    reject("POST", "/api/v1/contacts", T_L611002, valid_contact, NULL, 403, "forbidden", NULL,
           NULL);
}
END_TEST

/* ======================= status ======================= */

START_TEST(test_status_with_unknown_value_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_status("G2", "{\"status\":\"hired\",\"at\":\"2026-04-01T09:00:00+08:00\"}", 422,
                  "validation_failed", "status");
    reject_status("G2", "{\"status\":\"Employed\",\"at\":\"2026-04-01T09:00:00+08:00\"}", 422,
                  "validation_failed", "status");
    reject_status("G2", "{\"at\":\"2026-04-01T09:00:00+08:00\"}", 422, "validation_failed",
                  "status");
    reject_status("G2", "{\"status\":\"employed\",\"when\":\"2026-04-01T09:00:00+08:00\"}", 422,
                  "validation_failed", "_unknown");
}
END_TEST

START_TEST(test_status_in_the_future_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    char t[40], body[200];
    snprintf(body, sizeof body, "{\"status\":\"employed\",\"at\":\"%s\"}",
             time_from_now(3600, t, sizeof t));
    reject_status("G2", body, 422, "validation_failed", "at");
    reject_status("G2", "{\"status\":\"employed\",\"at\":\"2026-04-01T09:00:00\"}", 422,
                  "validation_failed", "at");
}
END_TEST

START_TEST(test_status_change_dated_before_last_change_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    /* Seeking since registration: leaving before it is refused. */
    reject_status("G2", "{\"status\":\"employed\",\"at\":\"2026-02-01T09:00:00+08:00\"}", 422,
                  "validation_failed", "at");
    set_status("G2", "employed", "2026-05-01T09:00:00+08:00", 200);
    reject_status("G2", "{\"status\":\"not_seeking\",\"at\":\"2026-04-01T09:00:00+08:00\"}", 422,
                  "validation_failed", "at");
    reject_status("G2", "{\"status\":\"withdrawn\",\"at\":\"2026-04-30T09:00:00+08:00\"}", 422,
                  "validation_failed", "at");
}
END_TEST

START_TEST(test_return_to_seeking_dated_before_last_change_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    set_status("G2", "employed", "2026-05-01T09:00:00+08:00", 200);
    reject_status("G2", "{\"status\":\"seeking\",\"at\":\"2026-04-01T09:00:00+08:00\"}", 422,
                  "validation_failed", "at");
}
END_TEST

START_TEST(test_leaving_seeking_before_last_contact_is_422_and_changes_nothing)
{
    given_two_graduates_one_served();
    /* G1's last contact is CONTACT_AT (2026-03-05 10:30). */
    reject_status("G1", "{\"status\":\"employed\",\"at\":\"2026-03-04T09:00:00+08:00\"}", 422,
                  "validation_failed", "at");
    reject_status("G1", "{\"status\":\"not_seeking\",\"at\":\"2026-03-05T10:29:59+08:00\"}", 422,
                  "validation_failed", "at");
    reject_status("G1", "{\"status\":\"withdrawn\",\"at\":\"2026-03-02T09:00:00+08:00\"}", 422,
                  "validation_failed", "at");
}
END_TEST

START_TEST(test_withdrawn_graduate_cannot_change_status_is_409_and_changes_nothing)
{
    given_two_graduates_one_served();
    set_status("G2", "withdrawn", "2026-04-01T09:00:00+08:00", 200);
    reject_status("G2", "{\"status\":\"seeking\",\"at\":\"2026-05-01T09:00:00+08:00\"}", 409,
                  "withdrawn", NULL);
    reject_status("G2", "{\"status\":\"employed\",\"at\":\"2026-05-01T09:00:00+08:00\"}", 409,
                  "withdrawn", NULL);
    reject_status("G2", "{\"status\":\"not_seeking\",\"at\":\"2026-05-01T09:00:00+08:00\"}", 409,
                  "withdrawn", NULL);
}
END_TEST

START_TEST(test_status_of_unknown_graduate_is_404_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_status("NOPE", "{\"status\":\"employed\",\"at\":\"2026-04-01T09:00:00+08:00\"}", 404,
                  "not_found", NULL);
    reject("POST", "/api/v1/graduates/NOPE/status", T_ADMIN,
           "{\"status\":\"seeking\",\"at\":\"2026-04-01T09:00:00+08:00\"}", NULL, 404, "not_found",
           NULL, NULL);
    expect_no_graduate("NOPE");
}
END_TEST

/* ======================= unknown fields ======================= */

/* A body of n >= 1 members "k0000": 1, "k0001": 1, ... */
static char *many_keys_body(int n)
{
    size_t cap = (size_t)n * 12 + 8;
    char *b = malloc(cap);
    ck_assert(b);
    size_t len = 0;
    b[len++] = '{';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s\"k%04d\":1", i ? "," : "", i);
    snprintf(b + len, cap - len, "}");
    return b;
}

/* Unknown member names are caller's bytes: a 422 counts them and lists what
 * the endpoint allows, and never names one (issue 14: a <script> key, a
 * national ID used as a key, and 5,000 keys answered with 119 KB). */
START_TEST(test_unknown_fields_are_counted_never_echoed)
{
    given_two_graduates_one_served();
    char natid_key[20];
    snprintf(natid_key, sizeof natid_key, "%s", h_natid(9));
    char registration[200];
    snprintf(registration, sizeof registration,
             "\"id\":\"G3\",\"name\":\"王五\",\"national_id\":\"%s\"", h_natid(3));
    const struct {
        const char *path, *token, *valid, *allowed;
    } ep[] = {
        {"/api/v1/graduates", T_C611002, registration,
         "id, county, name, national_id, phone, school, major, graduation_year, registered_at, "
         "assigned_to"},
        {"/api/v1/contacts", T_C611002, "\"graduate_id\":\"G2\",\"service\":\"job_referral\"",
         "graduate_id, service, channel, outcome, occurred_at, note"},
        {"/api/v1/graduates/G2/status", T_C611002, "\"status\":\"employed\"", "status, at, reason"},
        {"/api/v1/tokens", T_ADMIN, "\"name\":\"probe\",\"role\":\"viewer\"",
         "name, role, county, expires_at"},
    };
    for (size_t e = 0; e < sizeof ep / sizeof ep[0]; e++) {
        char body[512], want[256], what[300];
        /* A script tag and a national ID as member names, beside valid members. */
        snprintf(body, sizeof body, "{%s,\"<script>alert(1)</script>\":1,\"%s\":\"x\"}",
                 ep[e].valid, natid_key);
        snprintf(want, sizeof want, "2 unknown fields; allowed: %s", ep[e].allowed);
        snprintf(what, sizeof what, "POST %s with a <script> key and a national-ID key",
                 ep[e].path);
        struct snap before;
        snap_take(&before);
        struct http_resp *r = h_http(srv, "POST", ep[e].path, ep[e].token, body, NULL);
        ck_assert_msg(r && !strstr(r->body, "script") && !strstr(r->body, natid_key),
                      "%s: the answer echoes a member name: %s", what, r ? r->body : "");
        json_t *fields = json_object_get(json_object_get(r->json, "error"), "fields");
        ck_assert_msg(json_object_size(fields) == 1, "%s: %s", what, r->body);
        expect_error(r, what, 422, "validation_failed", "_unknown", want);
        snap_expect_same(&before, what);

        /* 5,000 unknown members (~60 KB): the answer stays small. */
        char *big = many_keys_body(5000);
        snprintf(want, sizeof want, "5000 unknown fields; allowed: %s", ep[e].allowed);
        snprintf(what, sizeof what, "POST %s with 5,000 unknown members", ep[e].path);
        snap_take(&before);
        r = h_http(srv, "POST", ep[e].path, ep[e].token, big, NULL);
        ck_assert_msg(r && r->status == 422, "%s: %d %.300s", what, r ? r->status : 0,
                      r ? r->body : "");
        ck_assert_msg(r->body_len < 512, "%s: %zu-byte answer to a %zu-byte body", what,
                      r->body_len, strlen(big));
        ck_assert_msg(!strstr(r->body, "k4999"), "%s: a member name is echoed", what);
        expect_error(r, what, 422, "validation_failed", "_unknown", want);
        snap_expect_same(&before, what);
        free(big);
    }
    /* Known members' own errors are still named beside the count. */
    reject_registration(T_C611002,
                        "{\"id\":\"G 3\",\"name\":\"王五\",\"national_id\":\"x\",\"k\":1}", 422,
                        "validation_failed", "_unknown", UNKNOWN_GRADUATE_1);
    reject_registration(T_C611002,
                        "{\"id\":\"G 3\",\"name\":\"王五\",\"national_id\":\"x\",\"k\":1}", 422,
                        "validation_failed", "national_id", "must be 18 characters");
    expect_no_graduate("G3");
    ck_assert_int_eq(h_redis_int("EXISTS gc:{@}:tokens"), 0);
}
END_TEST

/* ======================= HTTP level ======================= */

START_TEST(test_malformed_json_is_400_without_echoing_input)
{
    given_two_graduates_one_served();
    const char *bodies[] = {
        "{\"graduate_id\":\"SECRET-61100219990101123X\",",
        "{\"graduate_id\": SECRET-61100219990101123X}",
        "{\"graduate_id\":\"G2\",\"graduate_id\":\"SECRET-61100219990101123X\"}",
        "SECRET-61100219990101123X", ""};
    const char *paths[] = {"/api/v1/contacts", "/api/v1/graduates", "/api/v1/graduates/G2/status"};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
            struct snap before;
            snap_take(&before);
            struct http_resp *r = h_http(srv, "POST", paths[p], T_C611002, bodies[i], NULL);
            char what[200];
            snprintf(what, sizeof what, "POST %s %s", paths[p], bodies[i]);
            ck_assert_msg(r, "%s: no response", what);
            ck_assert_msg(strstr(r->body, "SECRET") == NULL && strstr(r->body, "61100219") == NULL,
                          "%s: the error echoes the input: %s", what, r->body);
            expect_error(r, what, 400, "malformed_json", NULL, NULL);
            snap_expect_same(&before, what);
        }
}
END_TEST

START_TEST(test_json_array_body_is_400_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject_contact("[{\"graduate_id\":\"G2\",\"service\":\"job_referral\"}]", NULL, 400,
                   "malformed_json", NULL);
    reject_registration(T_C611002, "[]", 400, "malformed_json", NULL, NULL);
    reject_contact("\"G2\"", NULL, 400, "malformed_json", NULL);
    reject_contact("null", NULL, 400, "malformed_json", NULL);
}
END_TEST

START_TEST(test_non_json_content_type_is_415_and_changes_nothing)
{
    given_two_graduates_one_served();
    const char *types[] = {"Content-Type: text/plain", "Content-Type: application/jsonp",
                           "Content-Type: application/x-www-form-urlencoded",
                           "Content-Type: multipart/form-data; boundary=x"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const char *hdrs[] = {types[i], NULL};
        reject_contact(valid_contact, hdrs, 415, "unsupported_media_type", NULL);
        reject("POST", "/api/v1/graduates", T_C611002, reg_body(h_natid(3), ""), hdrs, 415,
               "unsupported_media_type", NULL, NULL);
    }
    expect_no_graduate("G3");
    /* Parameters after the type are fine. */
    const char *charset[] = {"Content-Type: application/json; charset=utf-8", NULL};
    h_expect(h_http(srv, "POST", "/api/v1/contacts", T_C611002, valid_contact, charset), 201, NULL);
}
END_TEST

START_TEST(test_body_over_64_kib_is_413_and_changes_nothing)
{
    given_two_graduates_one_served();
    size_t size = 70000;
    char *body = malloc(size + 1);
    int n = snprintf(body, size + 1,
                     "{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"note\":\"");
    memset(body + n, 'a', size - (size_t)n - 2);
    memcpy(body + size - 2, "\"}", 2);
    body[size] = '\0';
    reject_contact(body, NULL, 413, "body_too_large", NULL);
    /* Just over the limit, and on registration too. */
    body[65537 - 2] = '"';
    body[65537 - 1] = '}';
    body[65537] = '\0';
    reject_contact(body, NULL, 413, "body_too_large", NULL);
    reject_registration(T_C611002, body, 413, "body_too_large", NULL, NULL);
    free(body);
}
END_TEST

/* Sends raw bytes on a fresh connection; returns the status and the body. */
static int raw_request(const char *req, char *body, size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)srv->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    ck_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    static char buf[65536];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = '\0';
    h_check_wire(req, buf, len);
    const char *sep = strstr(buf, "\r\n\r\n");
    snprintf(body, n, "%s", sep ? sep + 4 : "");
    return len > 12 ? atoi(buf + 9) : 0;
}

START_TEST(test_http11_request_without_host_is_400_and_changes_nothing)
{
    given_two_graduates_one_served();
    struct snap before;
    snap_take(&before);
    char req[600], body[4096];
    snprintf(req, sizeof req,
             "POST /api/v1/contacts HTTP/1.1\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close"
             "\r\n\r\n%s",
             T_C611002, strlen(valid_contact), valid_contact);
    ck_assert_int_eq(raw_request(req, body, sizeof body), 400);
    ck_assert_ptr_nonnull(strstr(body, "\"code\":\"bad_request\""));
    snap_expect_same(&before, "HTTP/1.1 without Host");
    /* HTTP/1.0 has no Host requirement. */
    ck_assert_int_eq(raw_request("GET /healthz HTTP/1.0\r\n\r\n", body, sizeof body), 200);
}
END_TEST

START_TEST(test_unknown_path_is_404)
{
    given_two_graduates_one_served();
    reject("GET", "/api/v1/nothing-here", T_ADMIN, NULL, NULL, 404, "not_found", NULL, NULL);
    reject("POST", "/api/v1/contact", T_C611002, valid_contact, NULL, 404, "not_found", NULL, NULL);
    reject("POST", "/api/v2/contacts", T_C611002, valid_contact, NULL, 404, "not_found", NULL,
           NULL);
    reject("GET", "/api/v1/graduates/NOPE", T_ADMIN, NULL, NULL, 404, "not_found", NULL, NULL);
}
END_TEST

START_TEST(test_wrong_method_is_405)
{
    given_two_graduates_one_served();
    reject("DELETE", "/api/v1/contacts", T_ADMIN, NULL, NULL, 405, "method_not_allowed", NULL,
           NULL);
    reject("PUT", "/api/v1/contacts", T_C611002, valid_contact, NULL, 405, "method_not_allowed",
           NULL, NULL);
    reject("PATCH", "/api/v1/graduates/G2/status", T_ADMIN, NULL, NULL, 405, "method_not_allowed",
           NULL, NULL);
    reject("GET", "/api/v1/graduates/G2/status", T_ADMIN, NULL, NULL, 405, "method_not_allowed",
           NULL, NULL);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:G2"), 1);
}
END_TEST

START_TEST(test_missing_token_is_401_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject("POST", "/api/v1/contacts", NULL, valid_contact, NULL, 401, "unauthorized", NULL, NULL);
    reject("POST", "/api/v1/graduates", NULL, reg_body(h_natid(3), ""), NULL, 401, "unauthorized",
           NULL, NULL);
    reject("GET", "/api/v1/coverage", NULL, NULL, NULL, 401, "unauthorized", NULL, NULL);
    expect_no_graduate("G3");
}
END_TEST

START_TEST(test_unknown_token_is_401_and_changes_nothing)
{
    given_two_graduates_one_served();
    reject("POST", "/api/v1/contacts", "no-such-token", valid_contact, NULL, 401, "unauthorized",
           NULL, NULL);
    /* A known token's hash is not the token. */
    reject("POST", "/api/v1/contacts", "COUNSELOR-611002-TOKEN", valid_contact, NULL, 401,
           "unauthorized", NULL, NULL);
    const char *basic[] = {"Authorization: Basic Y291bnNlbG9yOnB3", NULL};
    reject("POST", "/api/v1/contacts", NULL, valid_contact, basic, 401, "unauthorized", NULL, NULL);
    reject("GET", "/api/v1/coverage", "no-such-token", NULL, NULL, 401, "unauthorized", NULL, NULL);
}
END_TEST

START_TEST(test_bad_coverage_period_is_400)
{
    given_two_graduates_one_served();
    const char *q[] = {"abc", "2999", "26", "02026", "2026.0", "-2026", ""};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/coverage?period=%s", q[i]);
        reject("GET", path, T_ADMIN, NULL, NULL, 400, "bad_parameter", NULL, NULL);
        snprintf(path, sizeof path, "/api/v1/counties/611002/coverage?period=%s", q[i]);
        reject("GET", path, T_ADMIN, NULL, NULL, 400, "bad_parameter", NULL, NULL);
        snprintf(path, sizeof path, "/api/v1/counties/611002/history?period=%s", q[i]);
        reject("GET", path, T_ADMIN, NULL, NULL, 400, "bad_parameter", NULL, NULL);
    }
    /* Next year is in the future too; so is anything before 2000. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/coverage?period=%d", current_year() + 1);
    reject("GET", path, T_VIEWER, NULL, NULL, 400, "bad_parameter", NULL, NULL);
    snprintf(path, sizeof path, "/api/v1/counties/611002/history?period=%d", current_year() + 1);
    reject("GET", path, T_VIEWER, NULL, NULL, 400, "bad_parameter", NULL, NULL);
    reject("GET", "/api/v1/counties/611002/history?period=1999", T_VIEWER, NULL, NULL, 400,
           "bad_parameter", NULL, NULL);
}
END_TEST

START_TEST(test_bad_queue_limit_is_400)
{
    given_two_graduates_one_served();
    const char *q[] = {"0", "501", "abc", "-1", "1e2", "", "10abc"};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/counties/611002/queue?limit=%s", q[i]);
        reject("GET", path, T_ADMIN, NULL, NULL, 400, "bad_parameter", NULL, NULL);
    }
    /* The bounds themselves are fine. */
    h_expect(h_http(srv, "GET", "/api/v1/counties/611002/queue?limit=1", T_ADMIN, NULL, NULL), 200,
             NULL);
    h_expect(h_http(srv, "GET", "/api/v1/counties/611002/queue?limit=500", T_ADMIN, NULL, NULL),
             200, NULL);
}
END_TEST

/* A path of the route table with its "{...}" segments filled in: G1 for
 * ids, 611002 for county codes, a well-formed acknowledgement token, the
 * admin token's name and a contact id of G1. */
static void concrete_path(const char *tmpl, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = tmpl; *p && used + 1 < n;) {
        if (*p != '{') {
            out[used++] = *p++;
            out[used] = '\0';
            continue;
        }
        const char *end = strchr(p, '}');
        ck_assert_ptr_nonnull(end);
        size_t len = (size_t)(end - p + 1);
        const char *v = "G1";
        if (strncmp(p, "{code}", len) == 0 || strncmp(p, "{county}", len) == 0)
            v = "611002";
        else if (strncmp(p, "{token}", len) == 0)
            v = "AAAAAAAAAAAAAAAAAAAAAA";
        else if (strncmp(p, "{name}", len) == 0)
            v = "admin";
        else if (strncmp(p, "{contact_id}", len) == 0)
            v = "G1~AAAAAAAAAA";
        used += (size_t)snprintf(out + used, n - used, "%s", v);
        p = end + 1;
    }
}

/* SPEC §12: an unknown query parameter on any route is 400 bad_parameter
 * (a misspelt ?ofset=100 used to be ignored: the first page came back).
 * Every row of the route table, whatever the caller: refused before the
 * token, the body or the handler, counted and never named, nothing changed. */
START_TEST(test_unknown_query_parameter_is_400_on_every_route_and_changes_nothing)
{
    given_two_graduates_one_served();
    for (size_t i = 0; i < api_nroutes; i++) {
        const struct route *rt = &api_routes[i];
        char path[256], target[320];
        concrete_path(rt->path, path, sizeof path);
        snprintf(target, sizeof target, "%s?zz_secret_name=1", path);
        const char *method = http_method_name(rt->method);
        char what[400];
        snprintf(what, sizeof what, "%s %s", method, target);
        struct snap before;
        snap_take(&before);
        const char *tokens[] = {T_ADMIN, T_C611002, NULL};
        for (size_t t = 0; t < sizeof tokens / sizeof tokens[0]; t++) {
            struct http_resp *r = h_http(srv, method, target, tokens[t], NULL, NULL);
            ck_assert_msg(r && r->status == 400, "%s: expected 400, got %d: %s", what,
                          r ? r->status : 0, r ? r->body : "");
            const char *code =
                json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
            ck_assert_msg(code && strcmp(code, "bad_parameter") == 0, "%s: %s", what, r->body);
            ck_assert_msg(!strstr(r->body, "zz_secret_name"), "%s: the name came back: %s", what,
                          r->body);
            ck_assert_msg(strstr(r->body, "1 unknown query parameter;"), "%s: not counted: %s",
                          what, r->body);
            h_resp_free(r);
        }
        snap_expect_same(&before, what);
    }
    /* The message lists what the route takes. */
    reject("GET", "/api/v1/counties/611002/queue?offset=100", T_ADMIN, NULL, NULL, 400,
           "bad_parameter", NULL, NULL);
    struct http_resp *r =
        h_http(srv, "GET", "/api/v1/coverage?perod=2026&x=1", T_VIEWER, NULL, NULL);
    ck_assert_int_eq(r->status, 400);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r->json, "error"), "message")),
        "2 unknown query parameters; allowed: period, format");
    h_resp_free(r);
    /* A known parameter twice, a malformed query string, a name in another
     * case: refused too. */
    reject("GET", "/api/v1/coverage?period=2026&period=2025", T_ADMIN, NULL, NULL, 400,
           "bad_parameter", NULL, NULL);
    reject("GET", "/api/v1/coverage?period", T_ADMIN, NULL, NULL, 400, "bad_parameter", NULL, NULL);
    reject("GET", "/api/v1/coverage?PERIOD=2026", T_ADMIN, NULL, NULL, 400, "bad_parameter", NULL,
           NULL);
    /* An empty query string is no parameter at all. */
    h_expect(h_http(srv, "GET", "/api/v1/coverage?", T_ADMIN, NULL, NULL), 200, NULL);
    h_expect(h_http(srv, "GET", "/api/v1/coverage?period=2026", T_ADMIN, NULL, NULL), 200, NULL);
}
END_TEST

START_TEST(test_error_response_carries_request_id_and_safety_headers)
{
    given_two_graduates_one_served();
    char v[128];
    const char *sane[] = {"X-Request-Id: abc-123", NULL};
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_C611002,
                                 "{\"graduate_id\":\"G2\",\"service\":\"massage\"}", sane);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->status, 422);
    ck_assert_ptr_nonnull(h_header(r, "X-Request-Id", v, sizeof v));
    ck_assert_str_eq(v, "abc-123");
    ck_assert_ptr_nonnull(h_header(r, "Cache-Control", v, sizeof v));
    ck_assert_str_eq(v, "no-store");
    ck_assert_ptr_nonnull(h_header(r, "X-Content-Type-Options", v, sizeof v));
    ck_assert_str_eq(v, "nosniff");
    h_resp_free(r);
    /* Also on the earliest errors (routing and auth). */
    r = h_http(srv, "GET", "/api/v1/nothing-here", NULL, NULL, sane);
    ck_assert_int_eq(r->status, 404);
    ck_assert_str_eq(h_header(r, "X-Request-Id", v, sizeof v), "abc-123");
    expect_std_headers(r, "404");
    h_resp_free(r);
    r = h_http(srv, "GET", "/api/v1/coverage", "no-such-token", NULL, sane);
    ck_assert_int_eq(r->status, 401);
    ck_assert_str_eq(h_header(r, "X-Request-Id", v, sizeof v), "abc-123");
    expect_std_headers(r, "401");
    h_resp_free(r);
    /* An unsafe client id is not echoed (it would go into logs); one is made up. */
    const char *insane[] = {"X-Request-Id: abc 123 \"><script>", NULL};
    r = h_http(srv, "GET", "/api/v1/nothing-here", NULL, NULL, insane);
    ck_assert_int_eq(r->status, 404);
    ck_assert_ptr_nonnull(h_header(r, "X-Request-Id", v, sizeof v));
    ck_assert_msg(v[0] && strchr(v, ' ') == NULL && strchr(v, '<') == NULL,
                  "unsafe request id echoed: %s", v);
    h_resp_free(r);
    char long_id[120] = "X-Request-Id: ";
    size_t p = strlen(long_id);
    memset(long_id + p, 'r', 65);
    long_id[p + 65] = '\0';
    const char *toolong[] = {long_id, NULL};
    r = h_http(srv, "GET", "/api/v1/nothing-here", NULL, NULL, toolong);
    ck_assert_ptr_nonnull(h_header(r, "X-Request-Id", v, sizeof v));
    ck_assert_msg(strlen(v) <= 64, "65-character request id echoed");
    h_resp_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validation");
    TCase *tc = tcase_create("validation");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    /* registration */
    tcase_add_test(tc,
                   test_registration_with_wrong_national_id_checksum_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_with_impossible_birth_date_is_422_and_changes_nothing);
    tcase_add_test(tc,
                   test_registration_with_national_id_of_wrong_length_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_with_non_digit_national_id_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_with_lowercase_x_check_character_is_accepted);
    tcase_add_test(tc, test_registration_with_invalid_id_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_without_name_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_in_unknown_county_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_with_unknown_field_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_in_the_future_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_within_clock_skew_is_accepted);
    tcase_add_test(tc, test_registration_time_without_offset_is_422_and_changes_nothing);
    tcase_add_test(tc,
                   test_registration_with_graduation_year_out_of_range_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_with_letters_in_phone_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_with_name_over_64_characters_is_422_and_changes_nothing);
    tcase_add_test(tc, test_registration_of_national_id_already_seeking_is_409_and_changes_nothing);
    tcase_add_test(tc,
                   test_registration_resent_with_same_id_and_national_id_returns_stored_graduate);
    tcase_add_test(tc,
                   test_registration_reusing_id_with_other_national_id_is_409_and_changes_nothing);
    /* contacts */
    tcase_add_test(tc, test_contact_with_unknown_service_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_unknown_channel_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_in_the_future_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_before_registration_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_while_not_seeking_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_note_over_500_characters_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_500_character_chinese_note_is_accepted);
    tcase_add_test(tc, test_contact_with_nul_in_note_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_control_character_in_note_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_invalid_utf8_is_400_and_changes_nothing);
    tcase_add_test(tc, test_contact_for_unknown_graduate_is_404_and_changes_nothing);
    tcase_add_test(tc, test_contact_without_graduate_id_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_unknown_field_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_overlong_idempotency_key_is_400_and_changes_nothing);
    tcase_add_test(tc, test_contact_with_space_in_idempotency_key_is_400_and_changes_nothing);
    tcase_add_test(tc,
                   test_contact_reusing_idempotency_key_with_other_body_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_for_withdrawn_graduate_is_422_and_changes_nothing);
    tcase_add_test(tc, test_contact_by_viewer_is_403_and_changes_nothing);
    /* status */
    tcase_add_test(tc, test_status_with_unknown_value_is_422_and_changes_nothing);
    tcase_add_test(tc, test_status_in_the_future_is_422_and_changes_nothing);
    tcase_add_test(tc, test_status_change_dated_before_last_change_is_422_and_changes_nothing);
    tcase_add_test(tc, test_return_to_seeking_dated_before_last_change_is_422_and_changes_nothing);
    tcase_add_test(tc, test_leaving_seeking_before_last_contact_is_422_and_changes_nothing);
    tcase_add_test(tc, test_withdrawn_graduate_cannot_change_status_is_409_and_changes_nothing);
    tcase_add_test(tc, test_status_of_unknown_graduate_is_404_and_changes_nothing);
    tcase_add_test(tc, test_unknown_fields_are_counted_never_echoed);
    /* HTTP level */
    tcase_add_test(tc, test_malformed_json_is_400_without_echoing_input);
    tcase_add_test(tc, test_json_array_body_is_400_and_changes_nothing);
    tcase_add_test(tc, test_non_json_content_type_is_415_and_changes_nothing);
    tcase_add_test(tc, test_body_over_64_kib_is_413_and_changes_nothing);
    tcase_add_test(tc, test_unknown_path_is_404);
    tcase_add_test(tc, test_http11_request_without_host_is_400_and_changes_nothing);
    tcase_add_test(tc, test_wrong_method_is_405);
    tcase_add_test(tc, test_missing_token_is_401_and_changes_nothing);
    tcase_add_test(tc, test_unknown_token_is_401_and_changes_nothing);
    tcase_add_test(tc, test_bad_coverage_period_is_400);
    tcase_add_test(tc, test_bad_queue_limit_is_400);
    tcase_add_test(tc, test_unknown_query_parameter_is_400_on_every_route_and_changes_nothing);
    tcase_add_test(tc, test_error_response_carries_request_id_and_safety_headers);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
