/* Chat robots end to end (SPEC §11): the real gradcoverd on the real Redis
 * posts to real local HTTPS receivers that are chat robots (receiver.c's
 * robot mode: each checks the body and the signature with the robot's
 * documented algorithm, written in the test, and answers as the robot
 * does). What a leader's phone would get: each robot's body, signed; its
 * error codes retried or not; thirty counties at once as one message; the
 * acknowledgement link in every message, and acknowledging by it; repeats
 * until acknowledged and one escalation; nothing while silenced and one
 * message when the silence ends, with two servers; the digest once a day
 * with two servers (the day changed with --now).
 *
 * County 611002 starts at 9 of 10 served (90%, on target), built by a
 * server whose dips wait an hour (so the build-up sends nothing);
 * registering an 11th makes it fire (9/11 = 81.8%, one more to serve). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "receiver.h"

#include "receiver.c"

#define COUNTY "611002"
#define DING_SECRET "SECd1ngta1k-0123456789abcdef"
#define FEISHU_SECRET "fe1shu-secret-0123"

/* ---- processes a test started, stopped even when it fails half-way ---- */

static struct gc_server *servers[8];
static size_t nservers;

static struct gc_server *track(struct gc_server *s)
{
    ck_assert_msg(s != NULL, "gradcoverd did not start");
    if (nservers < sizeof servers / sizeof servers[0])
        servers[nservers++] = s;
    return s;
}

static void forget(struct gc_server *s)
{
    for (size_t i = 0; i < nservers; i++)
        if (servers[i] == s)
            servers[i] = servers[--nservers];
}

static void stop(struct gc_server *s)
{
    forget(s);
    ck_assert_int_eq(h_stop(s), 0);
}

static void setup(void)
{
    h_init();
    h_flushdb();
}

static void teardown(void)
{
    receiver_stop_all();
    while (nservers > 0) {
        struct gc_server *s = servers[0];
        forget(s);
        h_kill(s);
    }
}

/* ---- configuration ---- */

/* A robot webhook at rv (https), for every county unless county is given. */
static json_t *robot_hook(const char *name, const char *format, struct receiver *rv,
                          const char *secret, bool escalation)
{
    char url[160];
    if (strcmp(format, "dingtalk") == 0)
        snprintf(url, sizeof url, "https://127.0.0.1:%d/robot/send?access_token=%s", rv->port,
                 name);
    else if (strcmp(format, "wecom") == 0)
        snprintf(url, sizeof url, "https://127.0.0.1:%d/cgi-bin/webhook/send?key=%s", rv->port,
                 name);
    else
        snprintf(url, sizeof url, "https://127.0.0.1:%d/open-apis/bot/v2/hook/%s", rv->port, name);
    json_t *w = json_pack("{s:s, s:s, s:s}", "name", name, "url", url, "format", format);
    if (secret)
        json_object_set_new(w, "secret", json_string(secret));
    if (escalation)
        json_object_set_new(w, "escalation", json_true());
    return w;
}

/* The default configuration with these alerts (stolen): evaluated every
 * second, dips fire at once, no repeats unless alerts says, the test CA
 * for the robots' HTTPS, links under http://127.0.0.1:<port>. */
static const char *config(const char *name, json_t *alerts, int port)
{
    static char paths[8][600];
    static int slot;
    json_t *cfg = h_default_config();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    json_t *defaults = json_pack("{s:i, s:f, s:i, s:i, s:s, s:s}", "for_seconds", 0, "clear_margin",
                                 0.0, "eval_interval_seconds", 1, "repeat_interval_seconds", 0,
                                 "ca_file", h_tls_file("ca.pem"), "public_url", url);
    json_object_update_missing(alerts, defaults);
    json_decref(defaults);
    json_object_set_new(cfg, "alerts", alerts);
    char *p = paths[slot++ % 8];
    snprintf(p, sizeof paths[0], "%s", h_write_config(cfg, name));
    json_decref(cfg);
    return p;
}

static struct gc_server *start_at(const char *cfg, int port, const char *now)
{
    const char *args[] = {"--now", now, NULL};
    return track(h_start_port(cfg, now ? args : NULL, NULL, true, port));
}

static struct receiver *robot(const char *kind, const char *script, const char *secret)
{
    struct receiver *rv = receiver_start_robot(kind, script, secret, h_tls_file("server.pem"),
                                               h_tls_file("server.key"));
    ck_assert_ptr_nonnull(rv);
    return rv;
}

/* ---- county state ---- */

static void register_grad(struct gc_server *s, const char *county, int i)
{
    char id[24];
    snprintf(id, sizeof id, "G%s-%d", county, i);
    h_register(s, T_ADMIN, id, county, i + (county[0] == 'T' ? 1000 : 0), NULL);
}

static void serve_grad(struct gc_server *s, const char *county, int i)
{
    char id[24];
    snprintf(id, sizeof id, "G%s-%d", county, i);
    ck_assert_int_eq(h_contact(s, T_ADMIN, id, NULL, NULL), 201);
}

/* 611002 at 9 of 10 (90%, ok), built by a server whose dips wait an hour. */
static void baseline(void)
{
    int port = h_free_port();
    struct gc_server *s =
        start_at(config("baseline", json_pack("{s:i}", "for_seconds", 3600), port), port, NULL);
    for (int i = 0; i < 10; i++) {
        register_grad(s, COUNTY, i);
        if (i < 9)
            serve_grad(s, COUNTY, i);
    }
    stop(s);
    ck_assert_int_eq(h_redis_int("XLEN gc:{" COUNTY "}:outbox"), 0);
}

/* ---- what the robots got ---- */

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* Waits for n requests; fails naming the logs when they do not come. */
static json_t *expect_requests(struct receiver *rv, size_t n, int timeout_ms, struct gc_server *s)
{
    json_t *reqs = receiver_wait(rv, n, h_ms(timeout_ms));
    ck_assert_msg(json_array_size(reqs) >= n,
                  "robot got %zu requests, wanted %zu within %d ms (robot log: %s, gradcoverd "
                  "log: %s)",
                  json_array_size(reqs), n, timeout_ms, rv->log_path, s ? s->log_path : "-");
    return reqs;
}

static void expect_count_stays(struct receiver *rv, size_t n, int ms)
{
    h_sleep_ms(ms);
    json_t *reqs = receiver_requests(rv);
    ck_assert_msg(json_array_size(reqs) == n, "robot got %zu requests, wanted exactly %zu (%s)",
                  json_array_size(reqs), n, rv->log_path);
    json_decref(reqs);
}

/* The robot took request q as it came: its shape and signature checked. */
static void expect_robot_ok(json_t *q)
{
    ck_assert_msg(strcmp(str(q, "shape"), "ok") == 0, "%s: shape %s: %s", str(q, "robot"),
                  str(q, "shape"), str(q, "body"));
    ck_assert_msg(strcmp(str(q, "sig"), "ok") == 0 || strcmp(str(q, "sig"), "none") == 0,
                  "%s: signature %s", str(q, "robot"), str(q, "sig"));
}

static void expect_in(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle) != NULL, "\"%s\" not in the message:\n%s", needle, text);
}

/* The "/ack/<token>" path of the link in text (static), or "" when none. */
static const char *ack_path(const char *text)
{
    static char path[160];
    const char *a = strstr(text, "/ack/");
    size_t n = 0;
    if (a)
        while (a[n] && a[n] != ')' && a[n] != ' ' && a[n] != '\n' && n + 1 < sizeof path)
            n++;
    memcpy(path, a ? a : "", n);
    path[n] = '\0';
    return path;
}

/* ---- /api/v1/alerts ---- */

/* The delivery of event_id to receiver (new reference), or NULL. */
static json_t *delivery(struct gc_server *s, const char *county, const char *event_id,
                        const char *receiver)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/alerts?state=all&county=%s", county);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET %s", path);
    json_t *found = NULL, *ep, *d;
    size_t i, k;
    json_array_foreach(json_object_get(r->json, "alerts"), i, ep)
    {
        json_array_foreach(json_object_get(ep, "deliveries"), k, d)
        {
            if (!found && strcmp(str(d, "event_id"), event_id) == 0 &&
                strcmp(str(d, "receiver"), receiver) == 0)
                found = json_incref(d);
        }
    }
    h_resp_free(r);
    return found;
}

static json_t *wait_delivery(struct gc_server *s, const char *county, const char *event_id,
                             const char *receiver, const char *state, int timeout_ms)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    json_t *d = NULL;
    for (;;) {
        json_decref(d);
        d = delivery(s, county, event_id, receiver);
        if (d && strcmp(str(d, "state"), state) == 0)
            return d;
        if (h_now_ms() >= end)
            break;
        h_sleep_ms(200);
    }
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    ck_abort_msg("delivery of %s to %s: wanted %s within %d ms, last seen %s (log %s)", event_id,
                 receiver, state, timeout_ms, text ? text : "nothing", s->log_path);
    free(text);
    return NULL;
}

/* The county's firing episode id (static). */
static const char *episode_of(struct gc_server *s, const char *county)
{
    static char id[64];
    char path[128];
    snprintf(path, sizeof path, "/api/v1/alerts?state=firing&county=%s", county);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    json_t *ep = json_array_get(json_object_get(r->json, "alerts"), 0);
    snprintf(id, sizeof id, "%s", str(ep, "id"));
    h_resp_free(r);
    ck_assert_msg(id[0], "%s is not firing", county);
    return id;
}

/* ---- tests ---- */

/* Each robot gets its documented body, signed as documented (the robot
 * checked it), with the county, the numbers, the gap, since when, the
 * dashboard and the acknowledgement link; acknowledging by the link works;
 * the resolution says how long it lasted. */
START_TEST(test_each_robot_gets_its_documented_body_signed_with_an_ack_link)
{
    baseline();
    struct receiver *wecom = robot("wecom", "200:0", NULL);
    struct receiver *ding = robot("dingtalk", "200:0", DING_SECRET);
    struct receiver *feishu = robot("feishu", "200:0", FEISHU_SECRET);
    int port = h_free_port();
    json_t *hooks = json_pack("[o, o, o]", robot_hook("wecom-leaders", "wecom", wecom, NULL, false),
                              robot_hook("ding-leaders", "dingtalk", ding, DING_SECRET, false),
                              robot_hook("feishu-leaders", "feishu", feishu, FEISHU_SECRET, false));
    struct gc_server *s =
        start_at(config("bodies", json_pack("{s:o}", "webhooks", hooks), port), port, NULL);
    register_grad(s, COUNTY, 10);
    char dash[64];
    snprintf(dash, sizeof dash, "http://127.0.0.1:%d/", port);
    struct receiver *rvs[3] = {wecom, ding, feishu};
    char link[3][160];
    for (int i = 0; i < 3; i++) {
        json_t *reqs = expect_requests(rvs[i], 1, 10000, s);
        json_t *q = json_array_get(reqs, 0);
        expect_robot_ok(q);
        const char *text = str(q, "text");
        expect_in(text, "商州区");
        expect_in(text, "81.8%");
        expect_in(text, "9/11");
        expect_in(text, "还需服务 1 人");
        expect_in(text, "起低于目标");
        expect_in(text, dash);
        snprintf(link[i], sizeof link[i], "%s", ack_path(text));
        ck_assert_msg(strlen(link[i]) > strlen("/ack/" COUNTY), "no ack link in:\n%s", text);
        json_decref(reqs);
    }
    /* DingTalk's signature is in the query, Feishu's in the body: both
     * were checked by the robots ("sig": "ok" above). */
    json_t *reqs = receiver_requests(ding);
    expect_in(str(json_array_get(reqs, 0), "path"), "&timestamp=");
    expect_in(str(json_array_get(reqs, 0), "path"), "&sign=");
    ck_assert_str_eq(str(json_array_get(reqs, 0), "title"), "商州区 就业服务率低于目标");
    json_decref(reqs);
    reqs = receiver_requests(feishu);
    ck_assert_str_eq(str(json_array_get(reqs, 0), "sig"), "ok");
    json_decref(reqs);

    /* Every message's link acknowledges the episode. */
    const char *ep = episode_of(s, COUNTY);
    char fire_id[96];
    snprintf(fire_id, sizeof fire_id, "%s:firing", ep);
    static const char *const names[3] = {"wecom-leaders", "ding-leaders", "feishu-leaders"};
    for (int i = 0; i < 3; i++) {
        json_t *d = wait_delivery(s, COUNTY, fire_id, names[i], "delivered", 5000);
        ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
        ck_assert_str_eq(str(d, "kind"), "firing");
        json_decref(d);
    }
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_resp *r = h_http(s, "GET", link[1], NULL, NULL, NULL);
    ck_assert_msg(r->status == 200, "GET %s: %d", link[1], r->status);
    h_resp_free(r);
    r = h_http(s, "POST", link[1], NULL, "", form);
    ck_assert_msg(r->status == 200, "POST %s: %d %s", link[1], r->status, r->body);
    h_resp_free(r);
    /* The others' links are for the same episode: acknowledged already. */
    r = h_http(s, "POST", link[0], NULL, "", form);
    ck_assert_int_eq(r->status, 409);
    h_resp_free(r);
    r = h_http(s, "GET", "/api/v1/alerts?state=firing&county=" COUNTY, T_ADMIN, NULL, NULL);
    json_t *a = json_array_get(json_object_get(r->json, "alerts"), 0);
    ck_assert_str_eq(str(a, "acked_by"), "ack-link");
    h_resp_free(r);

    /* Back on target: how long it lasted, and nothing to acknowledge. */
    serve_grad(s, COUNTY, 10);
    for (int i = 0; i < 3; i++) {
        reqs = expect_requests(rvs[i], 2, 10000, s);
        json_t *q = json_array_get(reqs, 1);
        expect_robot_ok(q);
        expect_in(str(q, "text"), "商州区 就业服务率已达标");
        expect_in(str(q, "text"), "低于目标持续");
        ck_assert_msg(!strstr(str(q, "text"), "/ack/"), "a link in:\n%s", str(q, "text"));
        json_decref(reqs);
    }
    expect_count_stays(wecom, 2, 1000);
    stop(s);
}
END_TEST

/* Error codes: WeCom's 45009 and DingTalk's 130101 (rate limits) are
 * retried until done; any other code fails at once, with the code and the
 * robot's message as the reason; a bad signature is refused by the robot. */
START_TEST(test_robot_error_codes_are_retried_or_fail_for_good)
{
    baseline();
    struct receiver *wecom = robot("wecom", "200:45009,200:0", NULL);
    struct receiver *ding = robot("dingtalk", "200:130101,200:0", DING_SECRET);
    struct receiver *bad = robot("wecom", "200:93000", NULL);
    /* Configured with another secret than the robot's: the robot refuses. */
    struct receiver *feishu = robot("feishu", "200:0", FEISHU_SECRET);
    int port = h_free_port();
    json_t *hooks =
        json_pack("[o, o, o, o]", robot_hook("wecom-busy", "wecom", wecom, NULL, false),
                  robot_hook("ding-busy", "dingtalk", ding, DING_SECRET, false),
                  robot_hook("wecom-bad", "wecom", bad, NULL, false),
                  robot_hook("feishu-wrong-secret", "feishu", feishu, "not-the-secret", false));
    struct gc_server *s =
        start_at(config("codes", json_pack("{s:o}", "webhooks", hooks), port), port, NULL);
    register_grad(s, COUNTY, 10);
    char fire_id[96];
    snprintf(fire_id, sizeof fire_id, "%s:firing", episode_of(s, COUNTY));
    json_t *d = wait_delivery(s, COUNTY, fire_id, "wecom-busy", "delivered", 15000);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 2);
    json_decref(d);
    d = wait_delivery(s, COUNTY, fire_id, "ding-busy", "delivered", 15000);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 2);
    json_decref(d);
    d = wait_delivery(s, COUNTY, fire_id, "wecom-bad", "failed", 10000);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
    ck_assert_str_eq(str(d, "last_error"), "errcode 93000: error");
    json_decref(d);
    d = wait_delivery(s, COUNTY, fire_id, "feishu-wrong-secret", "failed", 10000);
    ck_assert_msg(strncmp(str(d, "last_error"), "code 19021: ", 12) == 0, "%s",
                  str(d, "last_error"));
    json_decref(d);
    json_t *reqs = receiver_requests(feishu);
    ck_assert_int_eq(json_array_size(reqs), 1);
    ck_assert_msg(strncmp(str(json_array_get(reqs, 0), "sig"), "sign ", 5) == 0, "sig %s",
                  str(json_array_get(reqs, 0), "sig"));
    json_decref(reqs);
    expect_count_stays(bad, 1, 1500);
    expect_count_stays(wecom, 2, 0);
    stop(s);
}
END_TEST

/* Thirty counties change at once (as on 1 January): each robot gets one
 * message listing them, not thirty, and every county's event is delivered
 * by it. */
START_TEST(test_thirty_counties_at_once_are_one_message_per_robot)
{
    enum { N = 30 };
    char codes[N][8];
    json_t *cfg0 = h_default_config();
    json_t *counties = json_object_get(cfg0, "counties");
    for (int i = 0; i < N; i++) {
        snprintf(codes[i], sizeof codes[i], "T%02d", i);
        char name[32];
        snprintf(name, sizeof name, "测试县%02d", i);
        json_array_append_new(counties, json_pack("{s:s, s:s}", "code", codes[i], "name", name));
    }
    struct receiver *wecom = robot("wecom", "200:0", NULL);
    struct receiver *feishu = robot("feishu", "200:0", FEISHU_SECRET);
    int port = h_free_port();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    /* Each county below target, pending (dips wait an hour here)... */
    json_object_set_new(cfg0, "alerts",
                        json_pack("{s:i, s:i, s:s}", "for_seconds", 3600, "eval_interval_seconds",
                                  1, "public_url", url));
    struct gc_server *s = start_at(h_write_config(cfg0, "thirty-build"), port, NULL);
    for (int i = 0; i < N; i++)
        register_grad(s, codes[i], i);
    stop(s);
    /* ...then a server whose dips fire at once: its timer fires them all
     * within one evaluation interval. */
    json_object_set_new(
        cfg0, "alerts",
        json_pack("{s:i, s:i, s:i, s:s, s:s, s:[o, o]}", "for_seconds", 0, "eval_interval_seconds",
                  1, "repeat_interval_seconds", 0, "public_url", url, "ca_file",
                  h_tls_file("ca.pem"), "webhooks",
                  robot_hook("wecom-city", "wecom", wecom, NULL, false),
                  robot_hook("feishu-city", "feishu", feishu, FEISHU_SECRET, false)));
    s = start_at(h_write_config(cfg0, "thirty"), port, NULL);
    json_decref(cfg0);
    struct receiver *rvs[2] = {wecom, feishu};
    for (int k = 0; k < 2; k++) {
        json_t *reqs = expect_requests(rvs[k], 1, 15000, s);
        json_t *q = json_array_get(reqs, 0);
        expect_robot_ok(q);
        const char *text = str(q, "text");
        expect_in(text, "就业服务率提醒：30 个县区");
        expect_in(text, "低于目标 30 个，已达标 0 个");
        /* Listed, or counted in "and N more". */
        size_t listed = 0, more = 0;
        for (const char *p = text; (p = strstr(p, "\n- ")); p++)
            listed++;
        const char *m = strstr(text, "另有 ");
        if (m)
            more = (size_t)atoi(m + strlen("另有 "));
        ck_assert_msg(listed + more == N, "%zu listed, %zu more:\n%s", listed, more, text);
        ck_assert_uint_gt(listed, 0);
        json_decref(reqs);
    }
    expect_count_stays(wecom, 1, 3000);
    expect_count_stays(feishu, 1, 0);
    /* Every county's event was delivered by that one message. */
    for (int i = 0; i < N; i += 7) {
        char ev[96];
        snprintf(ev, sizeof ev, "%s:firing", episode_of(s, codes[i]));
        json_decref(wait_delivery(s, codes[i], ev, "wecom-city", "delivered", 5000));
    }
    struct http_resp *r = h_http(s, "GET", "/metrics", T_ADMIN, NULL, NULL);
    expect_in(r->body, "gradcover_alert_messages_total{receiver=\"wecom-city\"} 1\n");
    expect_in(r->body,
              "gradcover_alert_notifications_total{receiver=\"wecom-city\",result=\"delivered\"} "
              "30\n");
    expect_in(r->body, "gradcover_alert_queued{receiver=\"wecom-city\"} 0\n");
    h_resp_free(r);
    stop(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("robots");
    TCase *tc = tcase_create("robots");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_each_robot_gets_its_documented_body_signed_with_an_ack_link);
    tcase_add_test(tc, test_robot_error_codes_are_retried_or_fail_for_good);
    tcase_add_test(tc, test_thirty_counties_at_once_are_one_message_per_robot);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
