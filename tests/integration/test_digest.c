/* The daily digest (SPEC §11, alerts.digest) end to end: two servers on one
 * Redis, their clocks set with --now to a minute before the digest's local
 * time; each robot named gets one digest that day, however many servers run
 * and restart, and one again the next day. What it says: the counties below
 * target with their gaps, yesterday's contacts, the graduates waiting and
 * the longest wait. */
#include "robotkit.c"

#define DIGEST_TITLE "就业服务日报 "

/* The local (+08:00) date days from today, "2026-12-04", and the --now
 * argument at hh:mm:ss that day (static, two slots each). */
static const char *local_date(int days)
{
    static char bufs[2][16];
    static int slot;
    char *buf = bufs[slot++ % 2];
    time_t t = time(NULL) + (time_t)days * 86400 + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof bufs[0], "%Y-%m-%d", &tm);
    return buf;
}

static const char *now_arg(int days, const char *hms)
{
    static char bufs[2][40];
    static int slot;
    char *buf = bufs[slot++ % 2];
    snprintf(buf, sizeof bufs[0], "%sT%s+08:00", local_date(days), hms);
    return buf;
}

static size_t digests(struct receiver *rv, json_t **last)
{
    json_t *reqs = receiver_requests(rv);
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(reqs); i++) {
        json_t *q = json_array_get(reqs, i);
        if (strstr(str(q, "text"), DIGEST_TITLE)) {
            n++;
            if (last) {
                json_decref(*last);
                *last = json_incref(q);
            }
        }
    }
    json_decref(reqs);
    return n;
}

static size_t wait_digests(struct receiver *rv, size_t n, int timeout_ms, json_t **last)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    size_t got;
    while ((got = digests(rv, last)) < n && h_now_ms() < end)
        h_sleep_ms(200);
    return got;
}

/* The digest's receivers and time; the robots get every event too. */
static json_t *digest_alerts(struct receiver *wecom, struct receiver *ding)
{
    return json_pack("{s:[o, o], s:{s:s, s:[s, s]}}", "webhooks",
                     robot_hook("wecom-county", "wecom", wecom, NULL, false),
                     robot_hook("ding-city", "dingtalk", ding, DING_SECRET, true), "digest", "at",
                     "08:30", "receivers", "wecom-county", "ding-city");
}

static void start_pair(const char *name, struct receiver *wecom, struct receiver *ding,
                       const char *now, struct gc_server **a, struct gc_server **b)
{
    char n2[64];
    snprintf(n2, sizeof n2, "%s-b", name);
    int pa = h_free_port();
    *a = start_at(config(name, digest_alerts(wecom, ding), pa), pa, now);
    int pb = h_free_port();
    *b = start_at(config(n2, digest_alerts(wecom, ding), pb), pb, now);
}

/* Once per local day per receiver with two servers, restarts included; the
 * next day once again. */
START_TEST(test_digest_once_a_day_per_receiver_across_two_servers)
{
    /* Today: 9 of 10 served (9 contacts), then an 11th registered. */
    baseline();
    int port = h_free_port();
    struct gc_server *s =
        start_at(config("build", json_pack("{s:i}", "for_seconds", 3600), port), port, NULL);
    register_grad(s, COUNTY, 10);
    stop(s);
    struct receiver *wecom = robot("wecom", "200:0", NULL);
    struct receiver *ding = robot("dingtalk", "200:0", DING_SECRET);

    /* Tomorrow, a few seconds before 08:30, on two servers. */
    struct gc_server *a, *b;
    start_pair("digest", wecom, ding, now_arg(1, "08:29:57"), &a, &b);
    h_sleep_ms(1500);
    ck_assert_uint_eq(digests(wecom, NULL), 0);
    ck_assert_uint_eq(digests(ding, NULL), 0);
    json_t *q = NULL;
    ck_assert_msg(wait_digests(wecom, 1, 15000, &q) == 1, "no digest (%s)", a->log_path);
    expect_robot_ok(q);
    const char *text = str(q, "text");
    char title[64];
    snprintf(title, sizeof title, DIGEST_TITLE "%s", local_date(1));
    expect_in(text, title);
    expect_in(text, "1 个县区低于目标，合计还需服务 1 人；昨日记录服务 9 次");
    expect_in(text, "商州区");
    expect_in(text, "服务率 81.8%（9/11），还需服务 1 人；昨日服务 9 次；待服务 2 人，最久等待");
    expect_in(text, "/ack/");
    expect_in(text, "其余 7 个县区达到目标");
    json_decref(q);
    q = NULL;
    /* The city's robot (an escalation receiver) gets it as it is named. */
    ck_assert_uint_eq(wait_digests(ding, 1, 10000, &q), 1);
    expect_robot_ok(q);
    ck_assert_str_eq(str(q, "title"), title);
    json_decref(q);
    q = NULL;
    /* Not again that day: neither server, nor after a restart. */
    h_sleep_ms(4000);
    ck_assert_uint_eq(digests(wecom, NULL), 1);
    ck_assert_uint_eq(digests(ding, NULL), 1);
    stop(a);
    stop(b);
    start_pair("digest-again", wecom, ding, now_arg(1, "09:00:00"), &a, &b);
    h_sleep_ms(4000);
    ck_assert_uint_eq(digests(wecom, NULL), 1);
    ck_assert_uint_eq(digests(ding, NULL), 1);
    stop(a);
    stop(b);

    /* The day after: once more, with no contacts the day before. */
    start_pair("digest-next", wecom, ding, now_arg(2, "08:30:05"), &a, &b);
    ck_assert_uint_eq(wait_digests(wecom, 2, 15000, &q), 2);
    snprintf(title, sizeof title, DIGEST_TITLE "%s", local_date(2));
    expect_in(str(q, "text"), title);
    expect_in(str(q, "text"), "昨日记录服务 0 次");
    json_decref(q);
    ck_assert_uint_eq(wait_digests(ding, 2, 10000, NULL), 2);
    h_sleep_ms(3000);
    ck_assert_uint_eq(digests(wecom, NULL), 2);
    ck_assert_uint_eq(digests(ding, NULL), 2);
    stop(a);
    stop(b);
}
END_TEST

/* A robot busy at digest time (WeCom's 45009) gets it once it takes it,
 * still once. */
START_TEST(test_digest_retried_until_the_robot_takes_it)
{
    baseline();
    struct receiver *wecom = robot("wecom", "200:45009,200:45009,200:0", NULL);
    struct receiver *ding = robot("dingtalk", "200:0", DING_SECRET);
    struct gc_server *a, *b;
    start_pair("digest-busy", wecom, ding, now_arg(1, "08:30:00"), &a, &b);
    ck_assert_uint_eq(wait_digests(wecom, 3, 20000, NULL), 3);
    h_sleep_ms(4000);
    ck_assert_uint_eq(digests(wecom, NULL), 3);
    json_t *reqs = receiver_requests(wecom);
    ck_assert_uint_eq(json_array_size(reqs), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(reqs, 2), "code")), 0);
    json_decref(reqs);
    stop(a);
    stop(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("digest");
    TCase *tc = tcase_create("digest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_digest_once_a_day_per_receiver_across_two_servers);
    tcase_add_test(tc, test_digest_retried_until_the_robot_takes_it);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
