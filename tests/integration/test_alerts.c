/* The alert state machine itself (SPEC §7), read from what the server stores
 * and shows: the outbox stream, GET /api/v1/alerts, the coverage `alert`
 * field and the firing gauge. Delivery is tested in test_notify.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static struct gc_server *start_with(double clear_margin)
{
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:f, s:i}", "for_seconds", 0, "clear_margin", clear_margin,
                                  "eval_interval_seconds", 1));
    return h_start(h_write_config(cfg, "alerts"), NULL, NULL, true);
}

/* The alert of county 611002 in an answer's entry for it, or "(none)". */
static const char *alert_of(json_t *entry)
{
    static char buf[32];
    const char *a = json_string_value(json_object_get(entry, "alert"));
    snprintf(buf, sizeof buf, "%s", a ? a : "(none)");
    return buf;
}

static json_t *entry_611002(json_t *report)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, "counties"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "code")), "611002") == 0)
            return e;
    }
    ck_abort_msg("611002 not in the report");
    return NULL;
}

static void reg(struct gc_server *s, int i)
{
    char id[16];
    snprintf(id, sizeof id, "G%d", i);
    h_register(s, T_C611002, id, "611002", i, "2026-03-01T09:00:00+08:00");
}

static void serve(struct gc_server *s, int i)
{
    char id[16];
    snprintf(id, sizeof id, "G%d", i);
    ck_assert_int_eq(h_contact(s, T_C611002, id, "2026-03-02T09:00:00+08:00", NULL), 201);
}

static long long outbox_len(void)
{
    return h_redis_int("XLEN gc:{611002}:outbox");
}

static const char *county_alert(struct gc_server *s)
{
    static char buf[32];
    struct http_resp *r = h_http(s, "GET", "/api/v1/counties/611002/coverage", T_ADMIN, NULL, NULL);
    const char *a = json_string_value(json_object_get(r->json, "alert"));
    snprintf(buf, sizeof buf, "%s", a ? a : "(none)");
    h_resp_free(r);
    return buf;
}

START_TEST(test_exactly_90_percent_does_not_fire)
{
    struct gc_server *s = start_with(0);
    for (int i = 0; i < 10; i++)
        reg(s, i); /* fires at the first (0 of 1) and stays firing */
    ck_assert_int_eq(outbox_len(), 1);
    for (int i = 0; i < 9; i++)
        serve(s, i);
    /* 9 of 10 is exactly the target: resolved. */
    ck_assert_str_eq(county_alert(s), "ok");
    ck_assert_int_eq(outbox_len(), 2);
    h_expect(h_http(s, "POST", "/api/v1/graduates/G9/status", T_C611002,
                    "{\"status\":\"withdrawn\"}", NULL),
             200, NULL);
    /* Back to exactly 90% from above (9 of 10 again): still ok, nothing sent. */
    reg(s, 10);
    ck_assert_str_eq(county_alert(s), "ok");
    ck_assert_int_eq(outbox_len(), 2);
    /* One more unserved: 9 of 11 is below. */
    reg(s, 11);
    ck_assert_str_eq(county_alert(s), "firing");
    ck_assert_int_eq(outbox_len(), 3);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_county_without_registered_graduates_never_fires)
{
    struct gc_server *s = start_with(0);
    reg(s, 1);
    ck_assert_str_eq(county_alert(s), "firing"); /* 0 of 1 */
    /* Withdrawn: nobody registered; the alert resolves and never fires again. */
    h_expect(h_http(s, "POST", "/api/v1/graduates/G1/status", T_C611002,
                    "{\"status\":\"withdrawn\"}", NULL),
             200, NULL);
    ck_assert_str_eq(county_alert(s), "ok");
    h_sleep_ms(1500); /* a timer evaluation passes */
    ck_assert_str_eq(county_alert(s), "ok");
    ck_assert_int_eq(outbox_len(), 2);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_clear_margin_resolves_only_above_the_line)
{
    struct gc_server *s = start_with(0.05);
    for (int i = 0; i < 20; i++)
        reg(s, i);
    for (int i = 0; i < 17; i++)
        serve(s, i);
    /* 17 of 20 = 85%: firing since the first registration. */
    ck_assert_str_eq(county_alert(s), "firing");
    long long events = outbox_len();
    serve(s, 17); /* 18/20 = 90%: on target, but not 95% */
    ck_assert_str_eq(county_alert(s), "firing");
    ck_assert_int_eq(outbox_len(), events);
    serve(s, 18); /* 19/20 = 95%: resolved */
    ck_assert_str_eq(county_alert(s), "ok");
    ck_assert_int_eq(outbox_len(), events + 1);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_firing_shows_in_coverage_metrics_and_alert_list)
{
    struct gc_server *s = start_with(0);
    for (int i = 0; i < 4; i++)
        reg(s, i);
    serve(s, 0);
    serve(s, 1);
    serve(s, 2); /* 3 of 4: firing since the first registration */
    struct http_resp *m = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_ptr_nonnull(
        strstr(m->body, "gradcover_coverage_alert_firing{county=\"611002\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(m->body, "gradcover_coverage_alert_firing{county=\"611021\"} 0\n"));
    h_resp_free(m);
    struct http_resp *r = h_http(s, "GET", "/api/v1/alerts?state=firing", T_L611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "alerts");
    ck_assert_int_eq(json_array_size(list), 1);
    json_t *ep = json_array_get(list, 0);
    ck_assert_str_eq(json_string_value(json_object_get(ep, "status")), "firing");
    ck_assert(json_is_null(json_object_get(ep, "resolved_at")));
    /* Opened at 0 of 1; the lowest rate seen is that 0. */
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(ep, "at_start"), "registered")), 1);
    ck_assert_double_eq_tol(json_real_value(json_object_get(json_object_get(ep, "lowest"), "rate")),
                            0.0, 1e-9);
    h_resp_free(r);
    serve(s, 3);
    r = h_http(s, "GET", "/api/v1/alerts?state=resolved&county=611002", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "alerts")), 1);
    h_resp_free(r);
    h_expect(h_http(s, "GET", "/api/v1/alerts?state=firing", T_C611002, NULL, NULL), 403,
             "forbidden");
    h_expect(h_http(s, "GET", "/api/v1/alerts?state=bogus", T_ADMIN, NULL, NULL), 400,
             "bad_parameter");
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* Issue 15 item 9: the alert state is live, of the current period. Last
 * year's numbers never carry it (they showed "firing" from this year's
 * state); this year's do. */
START_TEST(test_a_past_period_has_no_live_alert_state)
{
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:f, s:i}", "for_seconds", 0, "clear_margin", 0.0,
                                  "eval_interval_seconds", 1));
    const char *args[] = {"--now", "2026-03-10T10:00:00+08:00", NULL};
    struct gc_server *s = h_start(h_write_config(cfg, "alerts-past"), args, NULL, true);
    /* Seeking since December 2025, never served: counted in 2025 and 2026,
     * firing now. */
    h_register(s, T_C611002, "G1", "611002", 1, "2025-12-01T09:00:00+08:00");
    ck_assert_str_eq(county_alert(s), "firing");

    struct http_resp *r = h_http(s, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL);
    ck_assert_str_eq(alert_of(entry_611002(r->json)), "firing");
    h_resp_free(r);

    r = h_http(s, "GET", "/api/v1/coverage?period=2025", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *e = entry_611002(r->json);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "registered")), 1);
    ck_assert(json_object_get(e, "below_target") == json_true());
    ck_assert_str_eq(alert_of(e), "(none)");
    h_resp_free(r);

    r = h_http(s, "GET", "/api/v1/counties/611002/coverage?period=2025", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(alert_of(r->json), "(none)");
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "period")), "2025");
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* The defaults (docs/alerts.md, "Why these defaults"): a county at its
 * target that registers graduates and serves them within the week pages
 * nobody, however the counts move meanwhile; a dip that outlasts the week
 * fires once. */
START_TEST(test_defaults_ordinary_work_pages_nobody_a_week_long_dip_fires)
{
    json_object_set_new(cfg, "alerts", json_pack("{s:i}", "eval_interval_seconds", 1));
    const char *path = h_write_config(cfg, "alerts-defaults");
    struct gc_server *s = h_start(path, NULL, NULL, true);
    for (int i = 0; i < 10; i++)
        reg(s, i); /* 0 of 1 ... 0 of 10: below, pending */
    ck_assert_str_eq(county_alert(s), "pending");
    for (int i = 0; i < 9; i++)
        serve(s, i); /* 9 of 10: on target */
    ck_assert_str_eq(county_alert(s), "ok");
    reg(s, 10);       /* 9 of 11: below until served */
    h_sleep_ms(2500); /* timer evaluations pass */
    ck_assert_str_eq(county_alert(s), "pending");
    ck_assert_int_eq(outbox_len(), 0);
    ck_assert_int_eq(h_stop(s), 0);

    /* Eight days later, still 9 of 11: it fires, once. */
    char now[40];
    time_t t = time(NULL) + 8 * 86400 + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    const char *args[] = {"--now", now, NULL};
    s = h_start(path, args, NULL, true);
    long long end = h_now_ms() + h_ms(5000);
    while (strcmp(county_alert(s), "firing") != 0 && h_now_ms() < end)
        h_sleep_ms(200);
    ck_assert_str_eq(county_alert(s), "firing");
    h_sleep_ms(1500);
    ck_assert_int_eq(outbox_len(), 1);
    /* Served back to exactly the target: one graduate from dipping again,
     * still firing (clear_margin 0.01); one more and it resolves. */
    serve(s, 9); /* 10 of 11 = 90.9% */
    ck_assert_str_eq(county_alert(s), "firing");
    serve(s, 10); /* 11 of 11 */
    ck_assert_str_eq(county_alert(s), "ok");
    ck_assert_int_eq(outbox_len(), 2);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alerts");
    TCase *tc = tcase_create("alerts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_exactly_90_percent_does_not_fire);
    tcase_add_test(tc, test_county_without_registered_graduates_never_fires);
    tcase_add_test(tc, test_clear_margin_resolves_only_above_the_line);
    tcase_add_test(tc, test_firing_shows_in_coverage_metrics_and_alert_list);
    tcase_add_test(tc, test_a_past_period_has_no_live_alert_state);
    tcase_add_test(tc, test_defaults_ordinary_work_pages_nobody_a_week_long_dip_fires);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
