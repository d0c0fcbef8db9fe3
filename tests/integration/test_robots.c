/* Chat robots end to end (SPEC §11): the real gradcoverd on the real Redis
 * posts to real local HTTPS receivers that are chat robots (receiver.c's
 * robot mode: each checks the body and the signature with the robot's
 * documented algorithm, written in the test, and answers as the robot
 * does). What a leader's phone would get: each robot's body, signed, with
 * the acknowledgement link, and acknowledging by it; its error codes
 * retried or not; thirty counties at once as one message; DingTalk's
 * twenty messages a minute kept by queueing. Repeats, escalation and
 * silences: test_reminders.c; the digest: test_digest.c. */
#include "robotkit.c"

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

/* DingTalk takes 20 messages a minute from a robot (one every 3 s): two
 * servers' messages to one robot are spaced by the turn they share in
 * Redis, and what changes while a message waits its turn goes out with it
 * — queued, never dropped, never refused by the robot. */
START_TEST(test_dingtalk_messages_keep_its_pace_across_two_servers)
{
    static const char *const counties[] = {"611021", "611022", "611023", "611024", "611025"};
    struct receiver *ding = robot("dingtalk", "200:0", DING_SECRET);
    int pa = h_free_port(), pb = h_free_port();
    struct gc_server *a =
        start_at(config("pace-a",
                        json_pack("{s:[o]}", "webhooks",
                                  robot_hook("ding-city", "dingtalk", ding, DING_SECRET, false)),
                        pa),
                 pa, NULL);
    struct gc_server *b =
        start_at(config("pace-b",
                        json_pack("{s:[o]}", "webhooks",
                                  robot_hook("ding-city", "dingtalk", ding, DING_SECRET, false)),
                        pb),
                 pb, NULL);
    /* A county fires; as soon as its message arrives, two more fire (one
     * through each server), then, as soon as that message arrives, the
     * last two. */
    register_grad(a, counties[0], 0);
    json_decref(expect_requests(ding, 1, 10000, a));
    register_grad(b, counties[1], 1);
    register_grad(a, counties[2], 2);
    json_t *reqs = expect_requests(ding, 2, 10000, a);
    size_t n = json_array_size(reqs);
    json_decref(reqs);
    register_grad(a, counties[3], 3);
    register_grad(b, counties[4], 4);
    /* Every county's firing delivered, by however few messages. */
    for (size_t i = 0; i < 5; i++) {
        char ev[96];
        snprintf(ev, sizeof ev, "%s:firing", episode_of(a, counties[i]));
        json_decref(wait_delivery(b, counties[i], ev, "ding-city", "delivered", 20000));
    }
    reqs = receiver_requests(ding);
    n = json_array_size(reqs);
    ck_assert_uint_ge(n, 3);
    ck_assert_uint_le(n, 5);
    for (size_t i = 0; i < n; i++) {
        json_t *q = json_array_get(reqs, i);
        expect_robot_ok(q);
        ck_assert_int_eq(json_integer_value(json_object_get(q, "code")), 0);
        if (i == 0)
            continue;
        /* Turns are 3.3 s apart by Redis's clock; each message is signed
         * right after its turn (DingTalk's timestamp), so the signing times
         * show the pace. Arrival times do not: under valgrind a message's
         * TLS handshake once delayed it enough that two arrived 2.97 s
         * apart. */
        long long gap =
            json_integer_value(json_object_get(q, "signed_ms")) -
            json_integer_value(json_object_get(json_array_get(reqs, i - 1), "signed_ms"));
        ck_assert_msg(gap >= 3000, "messages %zu and %zu signed %lld ms apart", i - 1, i, gap);
    }
    json_decref(reqs);
    stop(a);
    stop(b);
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
    tcase_add_test(tc, test_dingtalk_messages_keep_its_pace_across_two_servers);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
