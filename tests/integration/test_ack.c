/* Acknowledgements (SPEC §11) through the real server and Redis: POST
 * /api/v1/alerts/{county}/ack (roles, scope, no episode, a repeat, the
 * comment's rules, the audit entry, /api/v1/alerts), and the link
 * /ack/{token}: its GET changes nothing, its POST acknowledges once, and a
 * used, tampered, expired (a restart with --now 8 days later) or older
 * episode's link changes nothing and says why. Links are made with the
 * function the delivery side calls (acklink_url), under the key derived from
 * the PII key file the server created. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbscan.c"
#include "gradcover/core/pii.h"
#include "gradcover/domain/acklink.h"
#include "harness.h"

/* Keys whose changes are not the request's: the delivery group's reads of
 * the outbox. The audit trail is compared too, unless a test says otherwise. */
static const char *const OUTBOX[] = {":outbox", NULL};
static const char *const OUTBOX_AUDIT[] = {":outbox", ":audit", NULL};

static json_t *cfg;
static struct gc_server *srv;

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

static json_t *alert_config(void)
{
    json_t *c = h_default_config();
    json_object_set_new(c, "alerts",
                        json_pack("{s:i, s:i, s:s}", "for_seconds", 0, "eval_interval_seconds", 1,
                                  "public_url", "https://gc.example.gov.cn"));
    return c;
}

static void setup(void)
{
    h_init();
    h_flushdb();
    cfg = alert_config();
    srv = h_start(h_write_config(cfg, "ack"), NULL, NULL, true);
    settle(year_at(time(NULL)));
}

static void teardown(void)
{
    if (srv)
        ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
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

/* Registers an unserved graduate: with for_seconds 0 a county at 0 of n fires. */
static void reg(const char *county, const char *id, int seq)
{
    h_register(srv, T_ADMIN, id, county, seq, NULL);
}

/* The id of the county's firing episode, via the API. */
static void firing_episode(const char *county, char *out, size_t n)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/alerts?state=firing&county=%s", county);
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "alerts");
    ck_assert_msg(json_array_size(list) == 1, "no firing episode in %s: %s", county, r->body);
    snprintf(out, n, "%s", jstr(json_array_get(list, 0), "id"));
    h_resp_free(r);
}

/* The episode's entry of GET /api/v1/alerts (a new reference). */
static json_t *episode_entry(const char *county, const char *ep)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/alerts?county=%s", county);
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *found = NULL, *e;
    size_t i;
    json_array_foreach(json_object_get(r->json, "alerts"), i, e) if (strcmp(jstr(e, "id"), ep) == 0)
        found = json_incref(e);
    h_resp_free(r);
    ck_assert_msg(found, "episode %s not listed", ep);
    return found;
}

/* The newest audit entry of the county (a new reference). */
static json_t *last_audit(const char *county)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/audit?county=%s&limit=1000", county);
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *entries = json_object_get(r->json, "entries");
    json_t *e = json_incref(json_array_get(entries, json_array_size(entries) - 1));
    h_resp_free(r);
    ck_assert_ptr_nonnull(e);
    return e;
}

static struct http_resp *ack(const char *county, const char *token, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/alerts/%s/ack", county);
    return h_http(srv, "POST", path, token, body, NULL);
}

/* "/ack/<token>" for episode ep, expiring 7 days after now_ms, as the
 * delivery side makes it (the URL's path; the host is public_url's). */
static const char *link_path(const char *ep, int64_t now_ms)
{
    static char path[ACKLINK_URL_MAX];
    char pii_path[600], err[256];
    snprintf(pii_path, sizeof pii_path, "%s/pii.key", h_work_dir());
    struct pii *p = pii_open(pii_path, err, sizeof err);
    ck_assert_msg(p, "%s", err);
    struct acklink_key k;
    acklink_key_derive(p, &k);
    pii_free(p);
    char url[ACKLINK_URL_MAX];
    ck_assert_int_eq(acklink_url(&k, "https://gc.example.gov.cn", ep, now_ms, url, sizeof url), 0);
    const char *prefix = "https://gc.example.gov.cn";
    ck_assert(strncmp(url, prefix, strlen(prefix)) == 0);
    snprintf(path, sizeof path, "%s", url + strlen(prefix));
    return path;
}

static void assert_unchanged(char *before, const char *const *skip, const char *what)
{
    char *after = db_digest(skip);
    const char *diff = db_digest_diff(before, after);
    ck_assert_msg(diff == NULL, "%s changed Redis: %s", what, diff);
    free(before);
    free(after);
}

static void assert_page(struct http_resp *r, int status, const char *needle)
{
    ck_assert_msg(r, "no answer");
    ck_assert_msg(r->status == status, "expected %d, got %d: %.300s", status, r->status, r->body);
    char ct[128], csp[256];
    ck_assert_ptr_nonnull(h_header(r, "Content-Type", ct, sizeof ct));
    ck_assert_str_eq(ct, "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(h_header(r, "Content-Security-Policy", csp, sizeof csp));
    ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
    ck_assert_ptr_null(strstr(csp, "unsafe-inline"));
    ck_assert_ptr_null(strstr(r->body, "<script"));
    ck_assert_ptr_null(strstr(r->body, "http://"));
    ck_assert_ptr_null(strstr(r->body, "https://"));
    ck_assert_msg(strstr(r->body, needle), "page without \"%s\": %.400s", needle, r->body);
    h_resp_free(r);
}

/* ---- by the API ---- */

START_TEST(test_leader_ack_is_stored_shown_and_audited)
{
    reg("611002", "G1", 1);
    char ep[64];
    firing_episode("611002", ep, sizeof ep);
    json_t *before = episode_entry("611002", ep);
    ck_assert(json_is_null(json_object_get(before, "acked_at")));
    ck_assert(json_is_null(json_object_get(before, "acked_by")));
    ck_assert(json_is_null(json_object_get(before, "comment")));
    json_decref(before);

    struct http_resp *r =
        ack("611002", T_L611002, "{\"comment\":\"已安排各乡镇指导员本周内逐一联系\"}");
    ck_assert_msg(r->status == 200, "%s", r->body);
    ck_assert_str_eq(jstr(r->json, "id"), ep);
    ck_assert_str_eq(jstr(r->json, "acked_by"), "shangzhou.leader");
    ck_assert_str_eq(jstr(r->json, "comment"), "已安排各乡镇指导员本周内逐一联系");
    ck_assert(json_is_false(json_object_get(r->json, "already_acked")));
    ck_assert_str_eq(jstr(json_object_get(r->json, "county"), "code"), "611002");
    char acked_at[64];
    snprintf(acked_at, sizeof acked_at, "%s", jstr(r->json, "acked_at"));
    h_resp_free(r);

    json_t *e = episode_entry("611002", ep);
    ck_assert_str_eq(jstr(e, "acked_at"), acked_at);
    ck_assert_str_eq(jstr(e, "acked_by"), "shangzhou.leader");
    ck_assert_str_eq(jstr(e, "comment"), "已安排各乡镇指导员本周内逐一联系");
    ck_assert_str_eq(jstr(e, "status"), "firing"); /* acknowledged is not resolved */
    json_decref(e);

    json_t *a = last_audit("611002");
    ck_assert_str_eq(jstr(a, "action"), "alert.ack");
    ck_assert_str_eq(jstr(a, "object"), ep);
    ck_assert_str_eq(jstr(a, "who"), "shangzhou.leader");
    ck_assert_str_eq(jstr(a, "role"), "leader");
    ck_assert_str_eq(jstr(a, "result"), "ok");
    json_decref(a);
}
END_TEST

START_TEST(test_ack_roles_and_scope)
{
    reg("611002", "G1", 1);
    reg("611021", "G2", 2);
    char ep2[64];
    firing_episode("611021", ep2, sizeof ep2);
    char *before = db_digest(OUTBOX);
    /* A leader of another county, counselors and viewers change nothing. */
    h_expect(ack("611021", T_L611002, "{\"comment\":\"x\"}"), 403, "forbidden");
    h_expect(ack("611002", T_C611002, NULL), 403, "forbidden");
    h_expect(ack("611002", T_VIEWER, NULL), 403, "forbidden");
    h_expect(ack("611002", NULL, NULL), 401, "unauthorized");
    h_expect(ack("999999", T_ADMIN, NULL), 404, "not_found");
    h_expect(ack("999999", T_LALL, NULL), 404, "not_found");
    assert_unchanged(before, OUTBOX, "a refused acknowledgement");
    /* The city leader's scope holds every county; admins may too. */
    struct http_resp *r = ack("611021", T_LALL, NULL);
    ck_assert_msg(r->status == 200, "%s", r->body);
    ck_assert_str_eq(jstr(r->json, "id"), ep2);
    ck_assert_str_eq(jstr(r->json, "acked_by"), "city.leader");
    ck_assert(json_is_null(json_object_get(r->json, "comment")));
    h_resp_free(r);
    h_expect(ack("611002", T_ADMIN, "{}"), 200, NULL);
}
END_TEST

START_TEST(test_ack_without_firing_episode_is_409)
{
    /* Never fired. */
    h_expect(ack("611002", T_ADMIN, NULL), 409, "not_firing");
    /* Fired and resolved. */
    reg("611002", "G1", 1);
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", NULL, NULL), 201);
    char *before = db_digest(OUTBOX_AUDIT);
    h_expect(ack("611002", T_L611002, "{\"comment\":\"late\"}"), 409, "not_firing");
    assert_unchanged(before, OUTBOX_AUDIT, "an acknowledgement without episode");
    json_t *a = last_audit("611002");
    ck_assert_str_eq(jstr(a, "action"), "alert.ack");
    ck_assert_str_eq(jstr(a, "object"), "611002");
    ck_assert_str_eq(jstr(a, "result"), "not_firing");
    json_decref(a);
}
END_TEST

START_TEST(test_repeat_ack_answers_the_first_and_changes_nothing)
{
    reg("611002", "G1", 1);
    char ep[64];
    firing_episode("611002", ep, sizeof ep);
    struct http_resp *r = ack("611002", T_L611002, "{\"comment\":\"first\"}");
    ck_assert_int_eq(r->status, 200);
    char acked_at[64];
    snprintf(acked_at, sizeof acked_at, "%s", jstr(r->json, "acked_at"));
    h_resp_free(r);
    char *before = db_digest(OUTBOX_AUDIT);
    r = ack("611002", T_ADMIN, "{\"comment\":\"second\"}");
    ck_assert_int_eq(r->status, 200);
    ck_assert(json_is_true(json_object_get(r->json, "already_acked")));
    ck_assert_str_eq(jstr(r->json, "acked_by"), "shangzhou.leader");
    ck_assert_str_eq(jstr(r->json, "comment"), "first");
    ck_assert_str_eq(jstr(r->json, "acked_at"), acked_at);
    h_resp_free(r);
    assert_unchanged(before, OUTBOX_AUDIT, "a second acknowledgement");
    json_t *a = last_audit("611002");
    ck_assert_str_eq(jstr(a, "who"), "admin");
    ck_assert_str_eq(jstr(a, "result"), "already_acked");
    ck_assert_str_eq(jstr(a, "object"), ep);
    json_decref(a);
    json_t *e = episode_entry("611002", ep);
    ck_assert_str_eq(jstr(e, "comment"), "first");
    json_decref(e);
}
END_TEST

START_TEST(test_comment_rules_change_nothing)
{
    reg("611002", "G1", 1);
    char long_comment[600 * 3 + 32], at_limit[500 * 3 + 32];
    strcpy(long_comment, "{\"comment\":\"");
    for (int i = 0; i < 501; i++)
        strcat(long_comment, "确");
    strcat(long_comment, "\"}");
    struct {
        const char *body;
        const char *ctype;
        int status;
        const char *code, *field;
    } bad[] = {
        {long_comment, NULL, 422, "validation_failed", "comment"},
        {"{\"comment\":\"\"}", NULL, 422, "validation_failed", "comment"},
        {"{\"comment\":42}", NULL, 422, "validation_failed", "comment"},
        {"{\"comment\":\"bell\\u0007\"}", NULL, 422, "validation_failed", "comment"},
        {"{\"comment\":\"nul\\u0000\"}", NULL, 422, "validation_failed", "comment"},
        {"{\"comment\":\"ok\",\"acked_by\":\"someone.else\"}", NULL, 422, "validation_failed",
         "_unknown"},
        {"{\"comment\":\"\xff\xfe\"}", NULL, 400, "malformed_json", NULL},
        {"[\"comment\"]", NULL, 400, "malformed_json", NULL},
        {"{\"comment\":", NULL, 400, "malformed_json", NULL},
        {"comment=x", "Content-Type: application/x-www-form-urlencoded", 415,
         "unsupported_media_type", NULL},
    };
    char *before = db_digest(OUTBOX);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *hdrs[2] = {bad[i].ctype, NULL};
        struct http_resp *r =
            h_http(srv, "POST", "/api/v1/alerts/611002/ack", T_L611002, bad[i].body, hdrs);
        ck_assert_msg(r->status == bad[i].status, "case %zu: %d %s", i, r->status, r->body);
        json_t *err = json_object_get(r->json, "error");
        ck_assert_str_eq(jstr(err, "code"), bad[i].code);
        if (bad[i].field)
            ck_assert_msg(json_object_get(json_object_get(err, "fields"), bad[i].field),
                          "case %zu does not name %s: %s", i, bad[i].field, r->body);
        h_resp_free(r);
    }
    assert_unchanged(before, OUTBOX, "an invalid acknowledgement");
    /* 500 characters is the limit, not over it. */
    strcpy(at_limit, "{\"comment\":\"");
    for (int i = 0; i < 500; i++)
        strcat(at_limit, "确");
    strcat(at_limit, "\"}");
    struct http_resp *r = ack("611002", T_L611002, at_limit);
    ck_assert_int_eq(r->status, 200);
    ck_assert_uint_eq(strlen(jstr(r->json, "comment")), 500 * 3);
    h_resp_free(r);
}
END_TEST

/* ---- by the link ---- */

START_TEST(test_link_get_changes_nothing_post_acknowledges_once)
{
    reg("611002", "G1", 1);
    char ep[64];
    firing_episode("611002", ep, sizeof ep);
    const char *path = link_path(ep, wall_ms());
    char link[ACKLINK_URL_MAX];
    snprintf(link, sizeof link, "%s", path);

    /* A chat app previews it, twice: nothing changes, not even the trail. */
    char *before = db_digest(OUTBOX);
    struct http_resp *r = h_http(srv, "GET", link, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(r->body, "<form method=\"post\">"));
    ck_assert_ptr_nonnull(strstr(r->body, "商州区"));
    char h[64];
    ck_assert_str_eq(h_header(r, "Referrer-Policy", h, sizeof h), "no-referrer");
    ck_assert_str_eq(h_header(r, "X-Frame-Options", h, sizeof h), "DENY");
    assert_page(r, 200, "确认收到告警");
    assert_page(h_http(srv, "GET", link, NULL, NULL, NULL), 200, "Acknowledge the alert");
    assert_unchanged(before, OUTBOX, "GET of an acknowledgement link");
    json_t *e = episode_entry("611002", ep);
    ck_assert(json_is_null(json_object_get(e, "acked_at")));
    json_decref(e);

    /* The confirm page's form: an empty url-encoded body, no token. */
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    assert_page(h_http(srv, "POST", link, NULL, "", form), 200, "已确认");
    e = episode_entry("611002", ep);
    ck_assert_str_eq(jstr(e, "acked_by"), "ack-link");
    ck_assert(json_is_null(json_object_get(e, "comment")));
    json_decref(e);
    json_t *a = last_audit("611002");
    ck_assert_str_eq(jstr(a, "action"), "alert.ack");
    ck_assert_str_eq(jstr(a, "who"), "ack-link");
    ck_assert_str_eq(jstr(a, "role"), "link");
    ck_assert_str_eq(jstr(a, "object"), ep);
    ck_assert_str_eq(jstr(a, "result"), "ok");
    json_decref(a);

    /* Used: says so (and by whom), changes nothing but the refusal's entry. */
    before = db_digest(OUTBOX_AUDIT);
    assert_page(h_http(srv, "POST", link, NULL, "", form), 409, "此告警已被确认");
    assert_page(h_http(srv, "GET", link, NULL, NULL, NULL), 409, "通过确认链接确认");
    assert_unchanged(before, OUTBOX_AUDIT, "a used link");
    a = last_audit("611002");
    ck_assert_str_eq(jstr(a, "result"), "already_acked");
    json_decref(a);
    /* The API sees the link's acknowledgement as the first. */
    r = ack("611002", T_L611002, NULL);
    ck_assert(json_is_true(json_object_get(r->json, "already_acked")));
    ck_assert_str_eq(jstr(r->json, "acked_by"), "ack-link");
    h_resp_free(r);
}
END_TEST

START_TEST(test_link_after_api_ack_is_used)
{
    reg("611002", "G1", 1);
    char ep[64];
    firing_episode("611002", ep, sizeof ep);
    const char *link = link_path(ep, wall_ms());
    h_expect(ack("611002", T_L611002, "{\"comment\":\"on it\"}"), 200, NULL);
    assert_page(h_http(srv, "GET", link, NULL, NULL, NULL), 409, "shangzhou.leader");
}
END_TEST

START_TEST(test_tampered_link_is_refused_and_changes_nothing)
{
    reg("611002", "G1", 1);
    reg("611021", "G2", 2);
    char ep[64], ep2[64];
    firing_episode("611002", ep, sizeof ep);
    firing_episode("611021", ep2, sizeof ep2);
    char good[ACKLINK_URL_MAX], other[ACKLINK_URL_MAX], bad[ACKLINK_URL_MAX];
    snprintf(good, sizeof good, "%s", link_path(ep, wall_ms()));
    snprintf(other, sizeof other, "%s", link_path(ep2, wall_ms()));
    char *before = db_digest(OUTBOX);
    /* One character of the signature, of the expiry, of the county. */
    size_t len = strlen(good);
    size_t at[] = {len - 1, len - 24, strlen("/ack/") + 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        snprintf(bad, sizeof bad, "%s", good);
        bad[at[i]] = bad[at[i]] == 'A' ? 'B' : 'A';
        assert_page(h_http(srv, "POST", bad, NULL, "", NULL), 403, "链接无效");
        assert_page(h_http(srv, "GET", bad, NULL, NULL, NULL), 403, "Invalid link");
    }
    /* 611021's signature under 611002's name. */
    snprintf(bad, sizeof bad, "/ack/611002%s", other + strlen("/ack/611021"));
    assert_page(h_http(srv, "POST", bad, NULL, "", NULL), 403, "链接无效");
    /* Truncated, and made up. */
    snprintf(bad, sizeof bad, "%.*s", (int)len - 1, good);
    assert_page(h_http(srv, "POST", bad, NULL, "", NULL), 403, "链接无效");
    assert_page(h_http(srv, "POST", "/ack/611002AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
                       "", NULL),
                403, "链接无效");
    /* Shaped like a national ID or a phone: refused before anything. */
    h_expect(h_http(srv, "POST", "/ack/13800000000", NULL, "", NULL), 400, "id_is_personal_data");
    assert_unchanged(before, OUTBOX, "a tampered link");
    json_t *e = episode_entry("611002", ep);
    ck_assert(json_is_null(json_object_get(e, "acked_at")));
    json_decref(e);
}
END_TEST

START_TEST(test_expired_link_is_refused_after_eight_days)
{
    reg("611002", "G1", 1);
    char ep[64];
    firing_episode("611002", ep, sizeof ep);
    char link[ACKLINK_URL_MAX];
    snprintf(link, sizeof link, "%s", link_path(ep, wall_ms()));
    /* The same server 8 days later (its clock, not Redis's). */
    int port = srv->port;
    ck_assert_int_eq(h_stop(srv), 0);
    time_t later = time(NULL) + 8 * 86400 + 8 * 3600;
    struct tm tm;
    gmtime_r(&later, &tm);
    char now[40];
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    const char *args[] = {"--now", now, NULL};
    srv = h_start_port(h_write_config(cfg, "ack"), args, NULL, true, port);
    settle(year_at(later - 8 * 3600)); /* a year may have turned */
    char *before = db_digest(OUTBOX);
    assert_page(h_http(srv, "GET", link, NULL, NULL, NULL), 410, "链接已过期");
    assert_page(h_http(srv, "POST", link, NULL, "", NULL), 410, "Link expired");
    assert_unchanged(before, OUTBOX, "an expired link");
    json_t *e = episode_entry("611002", ep);
    ck_assert(json_is_null(json_object_get(e, "acked_at")));
    json_decref(e);
    /* A link the delivery side makes now (on the shifted clock) works. */
    assert_page(h_http(srv, "POST", link_path(ep, wall_ms() + 8 * 86400000LL), NULL, "", NULL), 200,
                "已确认");
}
END_TEST

START_TEST(test_older_episode_link_is_refused)
{
    reg("611002", "G1", 1);
    char ep1[64], ep2[64], link1[ACKLINK_URL_MAX];
    firing_episode("611002", ep1, sizeof ep1);
    snprintf(link1, sizeof link1, "%s", link_path(ep1, wall_ms()));
    /* Resolved (1 of 1), then firing again (1 of 2): a new episode. */
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", NULL, NULL), 201);
    assert_page(h_http(srv, "GET", link1, NULL, NULL, NULL), 409, "此告警已结束");
    reg("611002", "G2", 2);
    firing_episode("611002", ep2, sizeof ep2);
    ck_assert_str_ne(ep1, ep2);
    char *before = db_digest(OUTBOX_AUDIT);
    assert_page(h_http(srv, "POST", link1, NULL, "", NULL), 409, "This alert is over");
    assert_page(h_http(srv, "GET", link1, NULL, NULL, NULL), 409, "此告警已结束");
    assert_unchanged(before, OUTBOX_AUDIT, "an older episode's link");
    json_t *a = last_audit("611002");
    ck_assert_str_eq(jstr(a, "result"), "episode_over");
    ck_assert_str_eq(jstr(a, "object"), ep1);
    json_decref(a);
    json_t *e = episode_entry("611002", ep2);
    ck_assert(json_is_null(json_object_get(e, "acked_at")));
    json_decref(e);
    e = episode_entry("611002", ep1);
    ck_assert(json_is_null(json_object_get(e, "acked_at")));
    json_decref(e);
    /* The current episode's link acknowledges it. */
    assert_page(h_http(srv, "POST", link_path(ep2, wall_ms()), NULL, "", NULL), 200, "已确认");
}
END_TEST

START_TEST(test_bad_links_are_throttled_per_address)
{
    /* Three failures a minute for this server (the bearer tokens' limit). */
    ck_assert_int_eq(h_stop(srv), 0);
    json_object_set_new(cfg, "rate_limits", json_pack("{s:i}", "auth_failures_per_minute", 3));
    srv = h_start(h_write_config(cfg, "ack-throttle"), NULL, NULL, true);
    settle(year_at(time(NULL)));
    reg("611002", "G1", 1);
    char ep[64], good[ACKLINK_URL_MAX], bad[ACKLINK_URL_MAX];
    firing_episode("611002", ep, sizeof ep);
    snprintf(good, sizeof good, "%s", link_path(ep, wall_ms()));
    snprintf(bad, sizeof bad, "%s", good);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    char *before = db_digest(OUTBOX);
    for (int i = 0; i < 3; i++)
        assert_page(h_http(srv, "POST", bad, NULL, "", NULL), 403, "链接无效");
    struct http_resp *r = h_http(srv, "POST", bad, NULL, "", NULL);
    char ra[16];
    ck_assert_ptr_nonnull(h_header(r, "Retry-After", ra, sizeof ra));
    ck_assert_int_ge(atoi(ra), 1);
    assert_page(r, 429, "请稍后再试");
    /* The address waits, even with a good link; nothing changed. */
    assert_page(h_http(srv, "POST", good, NULL, "", NULL), 429, "Too many attempts");
    assert_unchanged(before, OUTBOX, "throttled links");
    json_t *e = episode_entry("611002", ep);
    ck_assert(json_is_null(json_object_get(e, "acked_at")));
    json_decref(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ack");
    TCase *api = tcase_create("api");
    tcase_add_checked_fixture(api, setup, teardown);
    tcase_set_timeout(api, 60);
    tcase_add_test(api, test_leader_ack_is_stored_shown_and_audited);
    tcase_add_test(api, test_ack_roles_and_scope);
    tcase_add_test(api, test_ack_without_firing_episode_is_409);
    tcase_add_test(api, test_repeat_ack_answers_the_first_and_changes_nothing);
    tcase_add_test(api, test_comment_rules_change_nothing);
    suite_add_tcase(s, api);
    TCase *link = tcase_create("link");
    tcase_add_checked_fixture(link, setup, teardown);
    tcase_set_timeout(link, 60);
    tcase_add_test(link, test_link_get_changes_nothing_post_acknowledges_once);
    tcase_add_test(link, test_link_after_api_ack_is_used);
    tcase_add_test(link, test_tampered_link_is_refused_and_changes_nothing);
    tcase_add_test(link, test_expired_link_is_refused_after_eight_days);
    tcase_add_test(link, test_older_episode_link_is_refused);
    tcase_add_test(link, test_bad_links_are_throttled_per_address);
    suite_add_tcase(s, link);
    return h_run_suite(s);
}
