/* Repeats, escalation and silences as a leader's phone sees them (SPEC
 * §11), with two servers on one Redis: a firing county nobody acknowledged
 * is repeated every repeat_interval_seconds until someone does, each repeat
 * once; after escalate_after_seconds the city's leaders (receivers marked
 * "escalation") get one message, and only that; a silenced county sends
 * nothing, and when its silence ends while it still fires, one message
 * goes out. */
#include "robotkit.c"

/* "2026-...T...+08:00", secs from now (the default config's offset). */
static const char *at(int secs)
{
    static char bufs[4][40];
    static int slot;
    char *buf = bufs[slot++ % 4];
    time_t t = time(NULL) + (time_t)secs + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof bufs[0], "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    return buf;
}

/* Two servers on the same Redis with these alerts (each its own port in
 * public_url); a copy of alerts goes to the second. */
static void start_two(const char *name, json_t *alerts, struct gc_server **a, struct gc_server **b)
{
    char n2[64];
    snprintf(n2, sizeof n2, "%s-b", name);
    json_t *copy = json_deep_copy(alerts);
    int pa = h_free_port();
    *a = start_at(config(name, alerts, pa), pa, NULL);
    int pb = h_free_port();
    *b = start_at(config(n2, copy, pb), pb, NULL);
}

static size_t count_in(json_t *reqs, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(reqs); i++)
        if (strstr(str(json_array_get(reqs, i), "text"), needle))
            n++;
    return n;
}

/* Firing and unacknowledged: a repeat every interval, numbered, each one
 * once though two servers evaluate; after an acknowledgement, none. */
START_TEST(test_repeats_until_acknowledged_each_once_across_two_servers)
{
    baseline();
    struct receiver *wecom = robot("wecom", "200:0", NULL);
    struct gc_server *a, *b;
    start_two("repeat",
              json_pack("{s:i, s:[o]}", "repeat_interval_seconds", 4, "webhooks",
                        robot_hook("wecom-county", "wecom", wecom, NULL, false)),
              &a, &b);
    register_grad(a, COUNTY, 10);
    /* The firing, then repeats 1 and 2 (4 s apart, WeCom paced at 3.3 s). */
    json_t *reqs = expect_requests(wecom, 3, 20000, a);
    for (size_t i = 0; i < 3; i++)
        expect_robot_ok(json_array_get(reqs, i));
    ck_assert_msg(!strstr(str(json_array_get(reqs, 0), "text"), "次提醒"), "%s",
                  str(json_array_get(reqs, 0), "text"));
    expect_in(str(json_array_get(reqs, 1), "text"), "商州区 仍低于目标（第 1 次提醒）");
    expect_in(str(json_array_get(reqs, 1), "text"), "还需服务 1 人");
    expect_in(str(json_array_get(reqs, 1), "text"), "/ack/");
    expect_in(str(json_array_get(reqs, 2), "text"), "商州区 仍低于目标（第 2 次提醒）");
    json_decref(reqs);
    char ev[96];
    snprintf(ev, sizeof ev, "%s:repeat:1", episode_of(a, COUNTY));
    json_t *d = wait_delivery(b, COUNTY, ev, "wecom-county", "delivered", 5000);
    ck_assert_str_eq(str(d, "kind"), "repeat");
    json_decref(d);

    struct http_resp *r =
        h_http(b, "POST", "/api/v1/alerts/" COUNTY "/ack", T_ADMIN, "{\"comment\":\"在办\"}", NULL);
    ck_assert_msg(r->status == 200, "ack: %d %s", r->status, r->body);
    h_resp_free(r);
    /* A repeat claimed just before the acknowledgement may still arrive. */
    h_sleep_ms(4000);
    reqs = receiver_requests(wecom);
    size_t n = json_array_size(reqs);
    /* Each repeat number once, however many servers. */
    for (size_t k = 1; k < n; k++) {
        char needle[48];
        snprintf(needle, sizeof needle, "（第 %zu 次提醒）", k);
        ck_assert_msg(count_in(reqs, needle) == 1, "repeat %zu came %zu times", k,
                      count_in(reqs, needle));
    }
    json_decref(reqs);
    expect_count_stays(wecom, n, 9000);
    stop(a);
    stop(b);
}
END_TEST

/* After escalate_after_seconds unacknowledged, the receivers marked
 * "escalation" get one message for the episode, and only that; the
 * county's own receiver gets the firing and no escalation. */
START_TEST(test_escalation_once_to_the_city_leaders_only)
{
    baseline();
    struct receiver *county = robot("wecom", "200:0", NULL);
    struct receiver *city = robot("dingtalk", "200:0", DING_SECRET);
    struct gc_server *a, *b;
    start_two("escalate",
              json_pack("{s:i, s:[o, o]}", "escalate_after_seconds", 3, "webhooks",
                        robot_hook("wecom-county", "wecom", county, NULL, false),
                        robot_hook("ding-city", "dingtalk", city, DING_SECRET, true)),
              &a, &b);
    long long t0 = h_now_ms();
    register_grad(a, COUNTY, 10);
    json_t *reqs = expect_requests(city, 1, 15000, a);
    ck_assert_msg(h_now_ms() - t0 >= 3000, "escalated after %lld ms", h_now_ms() - t0);
    json_t *q = json_array_get(reqs, 0);
    expect_robot_ok(q);
    expect_in(str(q, "text"), "【升级】商州区 低于目标已");
    expect_in(str(q, "text"), "尚无人确认");
    expect_in(str(q, "text"), "还需服务 1 人");
    expect_in(str(q, "text"), "/ack/");
    expect_in(str(q, "title"), "【升级】商州区 低于目标已");
    json_decref(reqs);
    reqs = expect_requests(county, 1, 5000, a);
    ck_assert_uint_eq(count_in(reqs, "升级"), 0);
    json_decref(reqs);
    char ev[96];
    snprintf(ev, sizeof ev, "%s:escalation", episode_of(a, COUNTY));
    json_t *d = wait_delivery(a, COUNTY, ev, "ding-city", "delivered", 5000);
    ck_assert_str_eq(str(d, "kind"), "escalation");
    json_decref(d);
    expect_count_stays(city, 1, 6000);
    expect_count_stays(county, 1, 0);
    stop(a);
    stop(b);
}
END_TEST

/* The ms part of the id of county's outbox entry for event (Redis's clock
 * when it was appended); 0 if absent. */
static long long outbox_ms(const char *county, const char *event)
{
    redisReply *r = redisCommand(h_redis(), "XRANGE gc:{%s}:outbox - +", county);
    ck_assert(r && r->type == REDIS_REPLY_ARRAY);
    long long ms = 0;
    for (size_t i = 0; i < r->elements && !ms; i++) {
        redisReply *e = r->element[i], *f = e->element[1];
        for (size_t k = 0; k + 1 < f->elements; k += 2)
            if (strcmp(f->element[k]->str, "event_id") == 0 &&
                strcmp(f->element[k + 1]->str, event) == 0)
                ms = atoll(e->element[0]->str);
    }
    freeReplyObject(r);
    return ms;
}

/* A silenced county sends nothing, repeats included (its state is still
 * tracked and shown); when the silence ends and it still fires, exactly one
 * message goes out though two servers see the end, and repeats resume a
 * repeat interval after it. */
START_TEST(test_silenced_county_sends_nothing_and_its_end_sends_one_message)
{
    baseline();
    struct receiver *wecom = robot("wecom", "200:0", NULL);
    struct receiver *feishu = robot("feishu", "200:0", FEISHU_SECRET);
    struct gc_server *a, *b;
    start_two("silence",
              json_pack("{s:i, s:[o, o]}", "repeat_interval_seconds", 3, "webhooks",
                        robot_hook("wecom-county", "wecom", wecom, NULL, false),
                        robot_hook("feishu-county", "feishu", feishu, FEISHU_SECRET, false)),
              &a, &b);
    char body[256];
    snprintf(body, sizeof body, "{\"county\":\"%s\",\"ends_at\":\"%s\",\"reason\":\"春节假期\"}",
             COUNTY, at(7));
    struct http_resp *r = h_http(a, "POST", "/api/v1/silences", T_ADMIN, body, NULL);
    ck_assert_msg(r->status == 201, "silence: %d %s", r->status, r->body);
    char sid[64];
    snprintf(sid, sizeof sid, "%s", str(r->json, "id"));
    h_resp_free(r);
    register_grad(a, COUNTY, 10);
    /* Firing, shown, and its message suppressed for every receiver. */
    char ev[96], ep[64];
    snprintf(ep, sizeof ep, "%s", episode_of(b, COUNTY));
    snprintf(ev, sizeof ev, "%s:firing", ep);
    json_decref(wait_delivery(a, COUNTY, ev, "wecom-county", "suppressed", 5000));
    json_decref(wait_delivery(a, COUNTY, ev, "feishu-county", "suppressed", 5000));
    expect_count_stays(wecom, 0, 0);
    expect_count_stays(feishu, 0, 0);
    /* The end: one message per receiver, saying the county still fires. */
    json_t *reqs = expect_requests(wecom, 1, 15000, a);
    json_t *q = json_array_get(reqs, 0);
    expect_robot_ok(q);
    expect_in(str(q, "text"), "商州区 静默结束，仍低于目标");
    expect_in(str(q, "text"), "还需服务 1 人");
    expect_in(str(q, "text"), "/ack/");
    json_decref(reqs);
    reqs = expect_requests(feishu, 1, 5000, a);
    expect_robot_ok(json_array_get(reqs, 0));
    expect_in(str(json_array_get(reqs, 0), "text"), "静默结束");
    json_decref(reqs);
    /* The end's message counts as a repeat: none was sent while silenced,
     * and the first comes a repeat interval after the end's. */
    reqs = expect_requests(wecom, 2, 15000, a);
    json_t *q2 = json_array_get(reqs, 1);
    expect_in(str(q2, "text"), "商州区 仍低于目标（第 1 次提醒）");
    /* Measured where they were decided (the outbox entries' ids, Redis's
     * clock), not where they arrived: two servers deliver, and on a loaded
     * machine the end's message, held up on its way, once reached the robot
     * 4 ms before the repeat. */
    char end_ev[160], rep_ev[96];
    snprintf(end_ev, sizeof end_ev, "%s:unsilenced:%s", ep, sid);
    snprintf(rep_ev, sizeof rep_ev, "%s:repeat:1", ep);
    long long end_at = outbox_ms(COUNTY, end_ev), rep_at = outbox_ms(COUNTY, rep_ev);
    ck_assert_msg(end_at > 0 && rep_at > 0, "%s or %s not in the outbox", end_ev, rep_ev);
    long long gap = rep_at - end_at;
    ck_assert_msg(gap >= 3000, "repeat claimed %lld ms after the silence's end", gap);
    fprintf(stderr, "reminders.silence_end first_repeat_after_ms=%lld\n", gap);
    json_decref(reqs);
    reqs = expect_requests(feishu, 2, 5000, a);
    expect_in(str(json_array_get(reqs, 1), "text"), "（第 1 次提醒）");
    json_decref(reqs);
    stop(a);
    stop(b);
}
END_TEST

/* Alertmanager keeps an alert only while it is re-sent (every minute): a
 * silenced county's alert is not, not even by the keep-alive, while another
 * county's firing alert is. */
START_TEST(test_silenced_county_is_not_kept_alive_in_alertmanager)
{
    baseline();
    struct receiver *am = receiver_start("200");
    ck_assert_ptr_nonnull(am);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", am->port);
    int port = h_free_port();
    struct gc_server *s = start_at(
        config("am-silence", json_pack("{s:s}", "alertmanager_url", url), port), port, NULL);
    char body[256];
    snprintf(body, sizeof body, "{\"county\":\"%s\",\"ends_at\":\"%s\",\"reason\":\"数据迁移\"}",
             COUNTY, at(600));
    struct http_resp *r = h_http(s, "POST", "/api/v1/silences", T_ADMIN, body, NULL);
    ck_assert_msg(r->status == 201, "silence: %d %s", r->status, r->body);
    h_resp_free(r);
    register_grad(s, COUNTY, 10);    /* fires, silenced */
    register_grad(s, "611021", 100); /* fires, not silenced */
    /* The firing event and at least one keep-alive round (each minute). */
    h_sleep_ms(65000);
    json_t *reqs = receiver_requests(am);
    size_t other = 0;
    for (size_t i = 0; i < json_array_size(reqs); i++) {
        json_t *alerts = json_loads(str(json_array_get(reqs, i), "body"), 0, NULL);
        json_t *a;
        size_t k;
        ck_assert_msg(json_is_array(alerts), "not Alertmanager's body: %s",
                      str(json_array_get(reqs, i), "body"));
        json_array_foreach(alerts, k, a)
        {
            const char *county = str(json_object_get(a, "labels"), "county");
            ck_assert_msg(strcmp(county, COUNTY) != 0, "silenced %s sent to Alertmanager", COUNTY);
            if (strcmp(county, "611021") == 0)
                other++;
        }
        json_decref(alerts);
    }
    /* 611021's firing, then its keep-alive. */
    ck_assert_msg(other >= 2, "611021 sent %zu times (%s)", other, am->log_path);
    json_decref(reqs);
    stop(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reminders");
    TCase *tc = tcase_create("reminders");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_repeats_until_acknowledged_each_once_across_two_servers);
    tcase_add_test(tc, test_escalation_once_to_the_city_leaders_only);
    tcase_add_test(tc, test_silenced_county_sends_nothing_and_its_end_sends_one_message);
    tcase_add_test(tc, test_silenced_county_is_not_kept_alive_in_alertmanager);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
