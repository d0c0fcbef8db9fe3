/* Silences (SPEC §11) through two real servers on one Redis: made, listed and
 * ended through either (shared), every validation rule refused with nothing
 * changed, audited; and the two primitives the delivery side calls
 * (alerts/silence.h), run here as two servers' delivery sides would run
 * them: "is county C silenced at T?" on two connections, and the end of a
 * silence claimed by two processes at once, exactly once per county, with
 * the one outbox event of a county still firing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dbscan.c"
#include "gradcover/alerts/silence.h"
#include "gradcover/core/redis_url.h"
#include "harness.h"

static const char *const OUTBOX[] = {":outbox", NULL};
/* The eight counties of the default configuration. */
static const char *const COUNTIES[] = {"611002", "611021", "611022", "611023",
                                       "611024", "611025", "611026", "shangdan-park"};
#define NCOUNTIES 8

static json_t *cfg;
static struct gc_server *a, *b;

/* Waits until the evaluation timer has been through every county once in
 * `year` (its first pass records the county's period, a write of its own):
 * from then on, nothing but requests writes. */
static void settle(int year)
{
    static const char *const all[] = {"611002", "611021", "611022", "611023",
                                      "611024", "611025", "611026", "shangdan-park"};
    long long end = h_now_ms() + h_ms(10000);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char cmd[80];
        snprintf(cmd, sizeof cmd, "HGET gc:{%s}:cnt rolled", all[i]);
        while (h_redis_int(cmd) < year && h_now_ms() < end)
            h_sleep_ms(20);
        ck_assert_msg(h_redis_int(cmd) >= year, "the timer has not evaluated %s", all[i]);
    }
}

/* The current year in +08:00 (the default configuration's offset). */
static int year_at(time_t t)
{
    t += 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

static void setup(void)
{
    h_init();
    h_flushdb();
    cfg = h_default_config();
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:i}", "for_seconds", 0, "eval_interval_seconds", 1));
    const char *path = h_write_config(cfg, "silences");
    a = h_start(path, NULL, NULL, true);
    b = h_start(path, NULL, NULL, true);
    settle(year_at(time(NULL)));
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
    json_decref(cfg);
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(none)";
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* now + secs as RFC 3339 in +08:00 (a rotating static buffer). */
static const char *at(long long secs)
{
    static char bufs[8][40];
    static int slot;
    char *buf = bufs[slot++ % 8];
    time_t t = time(NULL) + (time_t)secs + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof bufs[0], "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    return buf;
}

/* Creates a silence through s as token; asserts 201; its id (static). */
static const char *silence(struct gc_server *s, const char *token, const char *county,
                           const char *starts, const char *ends)
{
    static char id[32];
    char body[512];
    if (starts)
        snprintf(
            body, sizeof body,
            "{\"county\":\"%s\",\"starts_at\":\"%s\",\"ends_at\":\"%s\",\"reason\":\"春节假期\"}",
            county, starts, ends);
    else
        snprintf(body, sizeof body,
                 "{\"county\":\"%s\",\"ends_at\":\"%s\",\"reason\":\"春节假期\"}", county, ends);
    struct http_resp *r = h_http(s, "POST", "/api/v1/silences", token, body, NULL);
    ck_assert_msg(r && r->status == 201, "create silence: %s", r ? r->body : "none");
    snprintf(id, sizeof id, "%s", jstr(r->json, "id"));
    h_resp_free(r);
    return id;
}

/* The silence id of GET /api/v1/silences as token through s (new reference). */
static json_t *listed(struct gc_server *s, const char *token, const char *id)
{
    struct http_resp *r = h_http(s, "GET", "/api/v1/silences", token, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *found = NULL, *e;
    size_t i;
    json_array_foreach(json_object_get(r->json, "silences"), i, e)
    {
        if (strcmp(jstr(e, "id"), id) == 0)
            found = json_incref(e);
    }
    h_resp_free(r);
    return found;
}

/* The newest entry of a trail (county NULL: the global one); new reference. */
static json_t *last_audit(const char *county)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/audit?limit=1000%s%s", county ? "&county=" : "",
             county ? county : "");
    struct http_resp *r = h_http(a, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r->status == 200, "%s", r->body);
    json_t *entries = json_object_get(r->json, "entries");
    json_t *e = json_incref(json_array_get(entries, json_array_size(entries) - 1));
    h_resp_free(r);
    ck_assert_ptr_nonnull(e);
    return e;
}

/* ---- the API ---- */

START_TEST(test_silences_are_shared_by_two_servers)
{
    char id[32], ends[40];
    snprintf(ends, sizeof ends, "%s", at(3600)); /* once: a second may pass before the check */
    snprintf(id, sizeof id, "%s", silence(a, T_ADMIN, "611002", NULL, ends));
    json_t *s = listed(b, T_ADMIN, id);
    ck_assert_msg(s, "made on one server, not listed by the other");
    ck_assert_str_eq(jstr(s, "county"), "611002");
    ck_assert_str_eq(jstr(s, "state"), "active");
    ck_assert_str_eq(jstr(s, "reason"), "春节假期");
    ck_assert_str_eq(jstr(s, "created_by"), "admin");
    ck_assert_str_eq(jstr(s, "ends_at"), ends);
    json_decref(s);
    json_t *e = last_audit(NULL);
    ck_assert_str_eq(jstr(e, "action"), "silence.create");
    ck_assert_str_eq(jstr(e, "object"), id);
    json_decref(e);
    e = last_audit("611002");
    ck_assert_str_eq(jstr(e, "action"), "silence.create");
    json_decref(e);

    /* The city leader silences every county, on the other server. */
    char all[32];
    snprintf(all, sizeof all, "%s", silence(b, T_LALL, "*", NULL, at(7200)));
    char other[32];
    snprintf(other, sizeof other, "%s", silence(b, T_ADMIN, "611021", NULL, at(7200)));
    /* A county's leader sees its own and "*", not another county's. */
    s = listed(a, T_L611002, all);
    ck_assert_ptr_nonnull(s);
    json_decref(s);
    s = listed(a, T_L611002, id);
    ck_assert_ptr_nonnull(s);
    json_decref(s);
    ck_assert_ptr_null(listed(a, T_L611002, other));

    /* Ended through one, ended on the other; a second DELETE changes nothing. */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/silences/%s", id);
    struct http_resp *r = h_http(b, "DELETE", path, T_LALL, NULL, NULL);
    ck_assert_msg(r->status == 200, "%s", r->body);
    ck_assert_str_eq(jstr(r->json, "state"), "expired");
    ck_assert_str_eq(jstr(r->json, "deleted_by"), "city.leader");
    h_resp_free(r);
    s = listed(a, T_ADMIN, id);
    ck_assert_str_eq(jstr(s, "state"), "expired");
    json_decref(s);
    e = last_audit(NULL);
    ck_assert_str_eq(jstr(e, "action"), "silence.delete");
    ck_assert_str_eq(jstr(e, "result"), "ok");
    json_decref(e);
    char *before = db_digest((const char *const[]){":outbox", ":audit", NULL});
    h_expect(h_http(a, "DELETE", path, T_ADMIN, NULL, NULL), 200, NULL);
    char *after = db_digest((const char *const[]){":outbox", ":audit", NULL});
    ck_assert_msg(db_digest_diff(before, after) == NULL, "a second DELETE changed Redis: %s",
                  db_digest_diff(before, after));
    free(before);
    free(after);
    e = last_audit(NULL);
    ck_assert_str_eq(jstr(e, "result"), "already_ended");
    json_decref(e);
    h_expect(h_http(a, "DELETE", "/api/v1/silences/NoSuchSilence000", T_ADMIN, NULL, NULL), 404,
             "not_found");
}
END_TEST

START_TEST(test_who_may_silence)
{
    char *before = db_digest(OUTBOX);
    char body[256];
    snprintf(body, sizeof body, "{\"county\":\"611002\",\"ends_at\":\"%s\",\"reason\":\"x\"}",
             at(3600));
    /* A county's own leader may not silence the alerts about it. */
    h_expect(h_http(a, "POST", "/api/v1/silences", T_L611002, body, NULL), 403, "forbidden");
    h_expect(h_http(a, "POST", "/api/v1/silences", T_C611002, body, NULL), 403, "forbidden");
    h_expect(h_http(a, "POST", "/api/v1/silences", T_VIEWER, body, NULL), 403, "forbidden");
    h_expect(h_http(a, "GET", "/api/v1/silences", T_C611002, NULL, NULL), 403, "forbidden");
    char *after = db_digest(OUTBOX);
    ck_assert_ptr_null(db_digest_diff(before, after));
    free(before);
    free(after);
    char id[32], ends[40];
    snprintf(ends, sizeof ends, "%s", at(3600)); /* once: a second may pass before the check */
    snprintf(id, sizeof id, "%s", silence(a, T_ADMIN, "611002", NULL, ends));
    char path[96];
    snprintf(path, sizeof path, "/api/v1/silences/%s", id);
    h_expect(h_http(a, "DELETE", path, T_L611002, NULL, NULL), 403, "forbidden");
    h_expect(h_http(a, "DELETE", "/api/v1/silences/13800000000", T_ADMIN, NULL, NULL), 400,
             "id_is_personal_data");
    json_t *s = listed(a, T_ADMIN, id);
    ck_assert_str_eq(jstr(s, "state"), "active");
    json_decref(s);
}
END_TEST

START_TEST(test_silence_validation_changes_nothing)
{
    char reason201[700] = "";
    for (int i = 0; i < 201; i++)
        strcat(reason201, "假");
    char past[40], soon[40], far[40], farther[40], later[40];
    snprintf(past, sizeof past, "%s", at(-600));
    snprintf(soon, sizeof soon, "%s", at(600));
    snprintf(later, sizeof later, "%s", at(1200));
    snprintf(far, sizeof far, "%s", at(91LL * 86400));
    snprintf(farther, sizeof farther, "%s", at(92LL * 86400));
    /* Each member as JSON text (NULL: absent); one rule broken per case. */
    char r201[800];
    snprintf(r201, sizeof r201, "\"%s\"", reason201);
#define Q(t) "\"" t "\""
    char qpast[48], qsoon[48], qlater[48], qfar[48], qfarther[48];
    snprintf(qpast, sizeof qpast, "\"%s\"", past);
    snprintf(qsoon, sizeof qsoon, "\"%s\"", soon);
    snprintf(qlater, sizeof qlater, "\"%s\"", later);
    snprintf(qfar, sizeof qfar, "\"%s\"", far);
    snprintf(qfarther, sizeof qfarther, "\"%s\"", farther);
    struct {
        const char *county, *starts, *ends, *reason, *extra;
        const char *field;
    } bad[] = {
        {NULL, NULL, qsoon, Q("r"), NULL, "county"},
        {Q("999999"), NULL, qsoon, Q("r"), NULL, "county"},
        {Q(""), NULL, qsoon, Q("r"), NULL, "county"},
        {"42", NULL, qsoon, Q("r"), NULL, "county"},
        {Q("**"), NULL, qsoon, Q("r"), NULL, "county"},
        {Q("611002"), NULL, NULL, Q("r"), NULL, "ends_at"},
        {Q("611002"), NULL, Q("tomorrow"), Q("r"), NULL, "ends_at"},
        {Q("611002"), NULL, qpast, Q("r"), NULL, "ends_at"},
        {Q("611002"), NULL, qfar, Q("r"), NULL, "ends_at"},
        {Q("611002"), qlater, qsoon, Q("r"), NULL, "ends_at"},
        {Q("611002"), qsoon, qsoon, Q("r"), NULL, "ends_at"},
        {Q("611002"), qpast, qsoon, Q("r"), NULL, "starts_at"},
        {Q("611002"), qfar, qfarther, Q("r"), NULL, "starts_at"},
        {Q("611002"), Q("now"), qsoon, Q("r"), NULL, "starts_at"},
        {Q("611002"), NULL, qsoon, NULL, NULL, "reason"},
        {Q("611002"), NULL, qsoon, Q(""), NULL, "reason"},
        {Q("611002"), NULL, qsoon, r201, NULL, "reason"},
        {Q("611002"), NULL, qsoon, Q("tab\\tok, bell\\u0007 not"), NULL, "reason"},
        {Q("611002"), NULL, qsoon, Q("r"), "\"id\":\"mine\"", "_unknown"},
    };
#undef Q
    char *before = db_digest(OUTBOX);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[2048] = "{";
        const char *names[] = {"county", "starts_at", "ends_at", "reason"};
        const char *values[] = {bad[i].county, bad[i].starts, bad[i].ends, bad[i].reason};
        for (int m = 0; m < 4; m++)
            if (values[m])
                snprintf(body + strlen(body), sizeof body - strlen(body), "%s\"%s\":%s",
                         body[1] ? "," : "", names[m], values[m]);
        if (bad[i].extra)
            snprintf(body + strlen(body), sizeof body - strlen(body), ",%s", bad[i].extra);
        strcat(body, "}");
        struct http_resp *r = h_http(a, "POST", "/api/v1/silences", T_ADMIN, body, NULL);
        ck_assert_msg(r->status == 422, "case %zu (%s): %d %s", i, body, r->status, r->body);
        json_t *fields = json_object_get(json_object_get(r->json, "error"), "fields");
        ck_assert_msg(json_object_get(fields, bad[i].field), "case %zu does not name %s: %s", i,
                      bad[i].field, r->body);
        h_resp_free(r);
    }
    h_expect(h_http(a, "POST", "/api/v1/silences", T_ADMIN, "{\"county\":", NULL), 400,
             "malformed_json");
    const char *form[] = {"Content-Type: text/plain", NULL};
    h_expect(h_http(a, "POST", "/api/v1/silences", T_ADMIN, "county=*", form), 415,
             "unsupported_media_type");
    char *after = db_digest(OUTBOX);
    const char *diff = db_digest_diff(before, after);
    ck_assert_msg(diff == NULL, "a refused silence changed Redis: %s", diff);
    free(before);
    free(after);
    /* The limits themselves are accepted: 89 days ahead, 200 characters,
     * a start a minute in the past (a client clock behind ours). */
    char reason200[700] = "";
    for (int i = 0; i < 200; i++)
        strcat(reason200, "假");
    char body[2048];
    snprintf(body, sizeof body,
             "{\"county\":\"*\",\"starts_at\":\"%s\",\"ends_at\":\"%s\",\"reason\":\"%s\"}",
             at(-60), at(89LL * 86400), reason200);
    struct http_resp *r = h_http(a, "POST", "/api/v1/silences", T_ADMIN, body, NULL);
    ck_assert_msg(r->status == 201, "%s", r->body);
    ck_assert_str_eq(jstr(r->json, "state"), "active");
    h_resp_free(r);
}
END_TEST

START_TEST(test_silence_that_never_began_has_no_end_to_handle)
{
    char id[32];
    snprintf(id, sizeof id, "%s", silence(a, T_ADMIN, "611002", at(3600), at(7200)));
    json_t *s = listed(b, T_ADMIN, id);
    ck_assert_str_eq(jstr(s, "state"), "pending");
    json_decref(s);
    ck_assert_int_eq(h_redis_int("ZCARD gc:{@}:silence_ends"), 1);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/silences/%s", id);
    struct http_resp *r = h_http(b, "DELETE", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(jstr(r->json, "state"), "expired");
    ck_assert_str_eq(jstr(r->json, "starts_at"), jstr(r->json, "ends_at"));
    h_resp_free(r);
    ck_assert_int_eq(h_redis_int("ZCARD gc:{@}:silence_ends"), 0);
}
END_TEST

START_TEST(test_ended_silences_are_pruned_after_a_week)
{
    char old[32];
    snprintf(old, sizeof old, "%s", silence(a, T_ADMIN, "611002", NULL, at(3600)));
    /* Server b, its clock 8 days ahead: a week after that silence ended. */
    ck_assert_int_eq(h_stop(b), 0);
    time_t later = time(NULL) + 8 * 86400 + 2 * 3600 + 8 * 3600;
    struct tm tm;
    gmtime_r(&later, &tm);
    char now[40], ends[40];
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    const char *args[] = {"--now", now, NULL};
    b = h_start(h_write_config(cfg, "silences"), args, NULL, true);
    /* Not listed any more, though still stored... */
    ck_assert_ptr_null(listed(b, T_ADMIN, old));
    char key[64];
    snprintf(key, sizeof key, "EXISTS gc:{@}:sil:%s", old);
    ck_assert_int_eq(h_redis_int(key), 1);
    /* ...until the next silence is made: then it is gone, from every index. */
    later += 3600;
    gmtime_r(&later, &tm);
    strftime(ends, sizeof ends, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    char fresh[32];
    snprintf(fresh, sizeof fresh, "%s", silence(b, T_ADMIN, "611021", NULL, ends));
    ck_assert_int_eq(h_redis_int(key), 0);
    ck_assert_int_eq(h_redis_int("ZCARD gc:{@}:silc:611002"), 0);
    ck_assert_int_eq(h_redis_int("ZCARD gc:{@}:silences"), 1);
    ck_assert_int_eq(h_redis_int("ZCARD gc:{@}:silence_ends"), 1);
    json_t *f = listed(b, T_ADMIN, fresh);
    ck_assert_ptr_nonnull(f);
    json_decref(f);
}
END_TEST

/* ---- the primitives, on connections of their own ---- */

struct conn {
    struct event_base *base;
    struct store *st;
    bool ready;
};

static void on_ready(void *arg)
{
    ((struct conn *)arg)->ready = true;
}

/* Runs the loop until *flag (or 5 s). */
static void spin(struct conn *c, const bool *flag)
{
    long long end = h_now_ms() + h_ms(5000);
    while (!*flag && h_now_ms() < end) {
        struct timeval tv = {0, 5000};
        event_base_loopexit(c->base, &tv);
        event_base_dispatch(c->base);
    }
}

/* A delivery side's connection: as the gradcoverd ACL user, so that the
 * scripts run under the service's least privilege. */
static void conn_open(struct conn *c)
{
    memset(c, 0, sizeof *c);
    char url[200], err[128];
    snprintf(url, sizeof url, "redis://gradcoverd:gradcoverd-test-password@127.0.0.1:%d/%d",
             h_redis_port(), h_redis_db());
    struct redis_target t;
    if (!redis_url_parse(url, &t, err, sizeof err))
        abort();
    c->base = event_base_new();
    c->st = c->base ? store_new(c->base, &t, 1500) : NULL;
    if (!c->st)
        abort();
    store_on_ready(c->st, on_ready, c);
    spin(c, &c->ready);
}

static void conn_close(struct conn *c)
{
    store_free(c->st);
    event_base_free(c->base);
}

struct check_out {
    bool done;
    enum store_status st;
    struct silence_status s[NCOUNTIES];
    size_t n;
};

static void on_check(void *arg, enum store_status st, const struct silence_status *s, size_t n)
{
    struct check_out *o = arg;
    o->st = st;
    o->n = n;
    for (size_t i = 0; i < n && i < NCOUNTIES; i++)
        o->s[i] = s[i];
    o->done = true;
}

static void check_at(struct conn *c, int64_t at_ms, struct check_out *o)
{
    memset(o, 0, sizeof *o);
    ck_assert_int_eq(silence_check(c->st, COUNTIES, NCOUNTIES, at_ms, on_check, o), 0);
    spin(c, &o->done);
    ck_assert(o->done);
    ck_assert_int_eq(o->st, STORE_OK);
    ck_assert_uint_eq(o->n, NCOUNTIES);
}

START_TEST(test_is_silenced_at_an_instant_on_any_connection)
{
    int64_t now = wall_ms();
    char s1[32], s2[32], s3[32];
    snprintf(s1, sizeof s1, "%s", silence(a, T_ADMIN, "611002", NULL, at(3600)));
    snprintf(s2, sizeof s2, "%s", silence(b, T_LALL, "*", at(2 * 3600), at(3 * 3600)));
    snprintf(s3, sizeof s3, "%s", silence(b, T_ADMIN, "611021", at(1800), at(3000)));
    struct conn c1, c2;
    conn_open(&c1);
    conn_open(&c2);
    ck_assert(c1.ready && c2.ready);
    struct check_out o;
    /* In a minute: 611002 by its own; 611021's has not begun. */
    check_at(&c1, now + 60000, &o);
    ck_assert(o.s[0].silenced);
    ck_assert_str_eq(o.s[0].id, s1);
    ck_assert(!o.s[1].silenced);
    for (int i = 2; i < NCOUNTIES; i++)
        ck_assert(!o.s[i].silenced);
    /* In 40 minutes, asked on the other connection (another server). */
    check_at(&c2, now + 2400000, &o);
    ck_assert(o.s[0].silenced && o.s[1].silenced && !o.s[2].silenced);
    ck_assert_str_eq(o.s[1].id, s3);
    /* In two and a half hours: every county, by "*", until its end. */
    check_at(&c1, now + 9000000, &o);
    for (int i = 0; i < NCOUNTIES; i++) {
        ck_assert_msg(o.s[i].silenced, "%s not silenced by *", COUNTIES[i]);
        ck_assert_str_eq(o.s[i].id, s2);
        ck_assert(o.s[i].until_ms >= now + 3 * 3600000 - 2000 &&
                  o.s[i].until_ms <= now + 3 * 3600000 + 2000);
    }
    /* After every end: nothing. */
    check_at(&c2, now + 4 * 3600000, &o);
    for (int i = 0; i < NCOUNTIES; i++)
        ck_assert(!o.s[i].silenced && o.s[i].until_ms == 0 && o.s[i].id[0] == '\0');
    /* Ended early through one server: no longer silenced, on either connection. */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/silences/%s", s1);
    h_expect(h_http(b, "DELETE", path, T_ADMIN, NULL, NULL), 200, NULL);
    check_at(&c1, wall_ms() + 60000, &o);
    ck_assert(!o.s[0].silenced);
    conn_close(&c1);
    conn_close(&c2);
}
END_TEST

struct ends_out {
    bool done;
    enum store_status st;
    struct silence_end e[SILENCE_ENDS_MAX];
    size_t n;
};

static void on_ends(void *arg, enum store_status st, const struct silence_end *e, size_t n)
{
    struct ends_out *o = arg;
    o->st = st;
    o->n = n;
    for (size_t i = 0; i < n && i < SILENCE_ENDS_MAX; i++)
        o->e[i] = e[i];
    o->done = true;
}

static void ends_at(struct conn *c, int64_t now_ms, struct ends_out *o)
{
    memset(o, 0, sizeof *o);
    ck_assert_int_eq(silence_ends_due(c->st, now_ms, on_ends, o), 0);
    spin(c, &o->done);
    ck_assert(o->done && o->st == STORE_OK);
}

static void on_done(void *arg, enum store_status st)
{
    *(bool *)arg = st == STORE_OK;
}

static void mark_done(struct conn *c, const char *id)
{
    bool done = false;
    ck_assert_int_eq(silence_end_done(c->st, id, on_done, &done), 0);
    spin(c, &done);
    ck_assert(done);
}

/* ---- two processes claiming at once ---- */

/* Synthetic silence ids claimed besides the real one, for contention: a
 * claim is per (silence, county), whatever the silence. */
#define EXTRA_SIDS 60

struct claim_tally {
    int pending;
    /* per county (index in COUNTIES), per silence (0: the real one) */
    unsigned char claimed[NCOUNTIES][EXTRA_SIDS + 1];
    unsigned char firing[NCOUNTIES][EXTRA_SIDS + 1];
    char event_id[NCOUNTIES][160];
    int errors;
};

struct claim_slot {
    struct claim_tally *t;
    int county, sid;
};

static void on_claim(void *arg, enum store_status st, const struct silence_claim *c)
{
    struct claim_slot *s = arg;
    if (st != STORE_OK) {
        s->t->errors++;
    } else {
        s->t->claimed[s->county][s->sid] = c->claimed;
        s->t->firing[s->county][s->sid] = c->firing;
        if (c->claimed && s->sid == 0)
            snprintf(s->t->event_id[s->county], sizeof s->t->event_id[0], "%s", c->event_id);
    }
    s->t->pending--;
    free(s);
}

/* The child: claims (sid, county) for the real silence and the synthetic
 * ones (those only for counties that are not firing, so that the outbox
 * holds the real one's event alone), writes its tally to fd, exits. */
static _Noreturn void claimer(int fd, const char *real_sid, int64_t now_ms)
{
    struct conn c;
    conn_open(&c);
    struct claim_tally *t = calloc(1, sizeof *t);
    if (!c.ready || !t)
        h_child_exit(3);
    for (int sid = 0; sid <= EXTRA_SIDS; sid++)
        for (int k = sid == 0 ? 0 : 1; k < NCOUNTIES; k++) {
            char id[32];
            if (sid == 0)
                snprintf(id, sizeof id, "%s", real_sid);
            else
                snprintf(id, sizeof id, "Synthetic%07d", sid);
            struct claim_slot *s = malloc(sizeof *s);
            if (!s)
                h_child_exit(3);
            *s = (struct claim_slot){t, k, sid};
            t->pending++;
            if (silence_end_claim(c.st, id, COUNTIES[k], now_ms, on_claim, s) < 0)
                h_child_exit(4);
        }
    bool all = false;
    long long end = h_now_ms() + h_ms(10000);
    while (!all && h_now_ms() < end) {
        struct timeval tv = {0, 5000};
        event_base_loopexit(c.base, &tv);
        event_base_dispatch(c.base);
        all = t->pending == 0;
    }
    bool sent = all && write(fd, t, sizeof *t) == (ssize_t)sizeof *t;
    free(t);
    conn_close(&c);
    /* Not exit(): the harness's atexit would stop the servers (harness.h). */
    h_child_exit(sent ? 0 : 5);
}

static void read_tally(int fd, struct claim_tally *t)
{
    size_t got = 0;
    while (got < sizeof *t) {
        ssize_t n = read(fd, (char *)t + got, sizeof *t - got);
        ck_assert_msg(n > 0, "a claimer died");
        got += (size_t)n;
    }
}

START_TEST(test_end_claimed_exactly_once_across_two_servers)
{
    /* 611002 firing (0 of 1 served), the others never below target. */
    h_register(a, T_ADMIN, "G1", "611002", 1, NULL);
    int64_t now = wall_ms();
    char s_county[32], s_all[32];
    snprintf(s_county, sizeof s_county, "%s", silence(a, T_ADMIN, "611002", NULL, at(600)));
    snprintf(s_all, sizeof s_all, "%s", silence(b, T_LALL, "*", NULL, at(1200)));
    struct conn c;
    conn_open(&c);
    struct ends_out e;
    /* Nothing has ended yet. */
    ends_at(&c, now, &e);
    ck_assert_uint_eq(e.n, 0);
    /* In 15 minutes 611002's own has ended, but "*" still silences it: the
     * protocol skips the county (no claim) and marks the end done. */
    ends_at(&c, now + 900000, &e);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.e[0].id, s_county);
    ck_assert_str_eq(e.e[0].county, "611002");
    struct check_out o;
    check_at(&c, now + 900000, &o);
    ck_assert(o.s[0].silenced);
    mark_done(&c, s_county);
    ends_at(&c, now + 900000, &e);
    ck_assert_uint_eq(e.n, 0);
    /* In 25 minutes "*" has ended and nothing silences anyone. */
    ends_at(&c, now + 1500000, &e);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.e[0].id, s_all);
    ck_assert_str_eq(e.e[0].county, "*");
    check_at(&c, now + 1500000, &o);
    for (int i = 0; i < NCOUNTIES; i++)
        ck_assert(!o.s[i].silenced);

    /* Two servers' delivery sides claim every county's end at once. */
    int fds[2][2];
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        ck_assert_int_eq(pipe(fds[p]), 0);
        pids[p] = h_child_fork();
        if (pids[p] == 0) {
            close(fds[p][0]);
            claimer(fds[p][1], s_all, now + 1500000);
        }
        close(fds[p][1]);
    }
    static struct claim_tally t[2];
    for (int p = 0; p < 2; p++) {
        read_tally(fds[p][0], &t[p]);
        close(fds[p][0]);
        int code = h_child_wait(pids[p]);
        ck_assert_msg(code == 0, "claimer %d: exit code %d", p, code);
        ck_assert_int_eq(t[p].errors, 0);
    }
    int by[2] = {0, 0};
    for (int k = 0; k < NCOUNTIES; k++)
        for (int sid = 0; sid <= EXTRA_SIDS; sid++) {
            if (sid > 0 && k == 0)
                continue;
            int n = t[0].claimed[k][sid] + t[1].claimed[k][sid];
            ck_assert_msg(n == 1, "%s, silence %d: claimed %d times", COUNTIES[k], sid, n);
            by[t[1].claimed[k][sid]]++;
            int f = t[0].firing[k][sid] + t[1].firing[k][sid];
            ck_assert_msg(f == (k == 0 && sid == 0), "%s, silence %d: firing %d", COUNTIES[k], sid,
                          f);
        }
    /* The firing county's one claimer put its one event in the outbox. */
    char ep[64];
    struct http_resp *r =
        h_http(a, "GET", "/api/v1/alerts?state=firing&county=611002", T_ADMIN, NULL, NULL);
    snprintf(ep, sizeof ep, "%s",
             jstr(json_array_get(json_object_get(r->json, "alerts"), 0), "id"));
    h_resp_free(r);
    char want[160];
    snprintf(want, sizeof want, "%s:unsilenced:%s", ep, s_all);
    const char *got = t[0].claimed[0][0] ? t[0].event_id[0] : t[1].event_id[0];
    ck_assert_str_eq(got, want);
    redisReply *x = redisCommand(h_redis(), "XRANGE gc:{611002}:outbox - +");
    ck_assert(x && x->type == REDIS_REPLY_ARRAY);
    int unsilenced = 0;
    for (size_t i = 0; i < x->elements; i++) {
        redisReply *f = x->element[i]->element[1];
        for (size_t j = 0; j + 1 < f->elements; j += 2)
            if (strcmp(f->element[j]->str, "event_id") == 0 &&
                strstr(f->element[j + 1]->str, ":unsilenced:")) {
                ck_assert_str_eq(f->element[j + 1]->str, want);
                unsilenced++;
            }
    }
    freeReplyObject(x);
    ck_assert_int_eq(unsilenced, 1);
    for (int k = 1; k < NCOUNTIES; k++) {
        /* No event (the notifier may have made the empty stream). */
        char cmd[96];
        snprintf(cmd, sizeof cmd, "XLEN gc:{%s}:outbox", COUNTIES[k]);
        ck_assert_int_eq(h_redis_int(cmd), 0);
    }

    /* A claim asked again (a retry, a third server) is refused; done ends it. */
    struct claim_tally *again = calloc(1, sizeof *again);
    struct claim_slot *s = malloc(sizeof *s);
    *s = (struct claim_slot){again, 0, 0};
    again->pending = 1;
    ck_assert_int_eq(silence_end_claim(c.st, s_all, "611002", now + 1500000, on_claim, s), 0);
    long long end = h_now_ms() + h_ms(5000);
    while (again->pending && h_now_ms() < end) {
        struct timeval tv = {0, 5000};
        event_base_loopexit(c.base, &tv);
        event_base_dispatch(c.base);
    }
    ck_assert_int_eq(again->pending, 0);
    ck_assert(!again->claimed[0][0]);
    free(again);
    ck_assert_int_eq(silence_end_claim(c.st, s_all, "not a county!", now, on_claim, NULL), -1);
    mark_done(&c, s_all);
    ends_at(&c, now + 1500000, &e);
    ck_assert_uint_eq(e.n, 0);
    conn_close(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("silences");
    TCase *tc = tcase_create("silences");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_silences_are_shared_by_two_servers);
    tcase_add_test(tc, test_who_may_silence);
    tcase_add_test(tc, test_silence_validation_changes_nothing);
    tcase_add_test(tc, test_silence_that_never_began_has_no_end_to_handle);
    tcase_add_test(tc, test_ended_silences_are_pruned_after_a_week);
    tcase_add_test(tc, test_is_silenced_at_an_instant_on_any_connection);
    tcase_add_test(tc, test_end_claimed_exactly_once_across_two_servers);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
