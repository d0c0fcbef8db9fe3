/* SIGHUP reload (SPEC §13, docs/operations.md "Reloading the configuration"):
 * under a load on keep-alive connections a county is added and another
 * renamed, a token rotated and a threshold changed, with no connection reset
 * and no failed request; a bad file changes nothing; a restart-only setting
 * keeps its old value while the rest applies. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "fault.h"
#include "harness.h"
#include "loadgen.h"

#define T_NEW "counselor-611099-new-token"
#define NEW_COUNTY "611099"
#define NGRAD 10
#define MAXREQ 20000

static json_t *cfg;

static void setup(void)
{
    h_init();
    h_flushdb();
    cfg = h_default_config();
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:f, s:i}", "for_seconds", 0, "clear_margin", 0.0,
                                  "eval_interval_seconds", 1));
    /* The load must not meet the per-token write limit (0: none). */
    json_object_set_new(cfg, "rate_limits", json_pack("{s:i}", "writes_per_second", 0));
}

static void teardown(void)
{
    json_decref(cfg);
}

static json_t *token_entry(const char *name, const char *secret, const char *role,
                           const char *county)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)secret, strlen(secret), md);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return json_pack("{s:s, s:s, s:s, s:s}", "name", name, "sha256", hex, "role", role, "county",
                     county);
}

/* The next file: county NEW_COUNTY appended, 611022 renamed, li.counselor's
 * token replaced by a new counselor's of NEW_COUNTY, 611002's threshold 0.95. */
static json_t *next_config(void)
{
    json_t *c = json_deep_copy(cfg);
    json_t *counties = json_object_get(c, "counties");
    json_object_set_new(json_array_get(counties, 0), "threshold", json_real(0.95));
    json_object_set_new(json_array_get(counties, 2), "name", json_string("丹凤新区"));
    json_array_append_new(counties, json_pack("{s:s, s:s}", "code", NEW_COUNTY, "name", "新设县"));
    json_t *tokens = json_object_get(c, "tokens");
    size_t i;
    json_t *t;
    json_array_foreach(tokens, i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "name")), "li.counselor") == 0) {
            json_array_remove(tokens, i);
            break;
        }
    }
    json_array_append_new(tokens, token_entry("wang.counselor", T_NEW, "counselor", NEW_COUNTY));
    return c;
}

static const char *county_alert(struct gc_server *s, const char *county)
{
    static char buf[32];
    char path[96];
    snprintf(path, sizeof path, "/api/v1/counties/%s/coverage", county);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    const char *a = json_string_value(json_object_get(r->json, "alert"));
    snprintf(buf, sizeof buf, "%s", a ? a : "(none)");
    h_resp_free(r);
    return buf;
}

/* The entry of county code in GET /api/v1/coverage, or NULL (a new reference). */
static json_t *coverage_entry(struct gc_server *s, const char *code)
{
    struct http_resp *r = h_http(s, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    size_t i;
    json_t *e, *found = NULL;
    json_array_foreach(json_object_get(r->json, "counties"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "code")), code) == 0)
            found = json_incref(e);
    }
    h_resp_free(r);
    return found;
}

/* Everything the "before" configuration shows: the old token works, the new
 * county and token do not exist, 611022 has its old name. */
static void assert_old_config(struct gc_server *s)
{
    h_expect(h_http(s, "GET", "/api/v1/counties/611021/coverage", T_C611021, NULL, NULL), 200,
             NULL);
    h_expect(h_http(s, "GET", "/api/v1/counties/" NEW_COUNTY "/coverage", T_ADMIN, NULL, NULL), 404,
             NULL);
    h_expect(h_http(s, "GET", "/api/v1/counties/611021/coverage", T_NEW, NULL, NULL), 401, NULL);
    ck_assert_ptr_null(coverage_entry(s, NEW_COUNTY));
    json_t *e = coverage_entry(s, "611022");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "丹凤县");
    json_decref(e);
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reloads_total"), 0);
}

START_TEST(test_reload_under_load)
{
    const char *path = h_write_config(cfg, "reload");
    struct gc_server *s = h_start(path, NULL, NULL, true);
    /* 611002: 10 registered, 9 served = 90%, exactly the city target: ok. */
    for (int g = 0; g < NGRAD; g++) {
        char gid[16];
        snprintf(gid, sizeof gid, "G%d", g);
        h_register(s, T_C611002, gid, "611002", 700 + g, "2026-03-01T09:00:00+08:00");
    }
    for (int g = 0; g < NGRAD - 1; g++) {
        char gid[16];
        snprintf(gid, sizeof gid, "G%d", g);
        ck_assert_int_eq(h_contact(s, T_C611002, gid, "2026-03-02T09:00:00+08:00", NULL), 201);
    }
    ck_assert_str_eq(county_alert(s, "611002"), "ok");
    assert_old_config(s);

    /* The load: contacts of the served graduates (the rate stays 90%) on 4
     * keep-alive connections, all through the reload. */
    struct lg_req *reqs = f_contact_reqs("reload", MAXREQ, NGRAD - 1);
    int ports[1] = {s->port};
    struct lg_opts o = {.ports = ports, .nports = 1, .ncon = 4, .gap_ms = 5, .timeout_ms = 20000};
    struct lg *g = lg_start(reqs, MAXREQ, &o);
    ck_assert_ptr_nonnull(g);
    long long t0 = h_now_ms();
    while (lg_done(g) < 200 && h_now_ms() - t0 < h_ms(10000))
        h_sleep_ms(20);
    size_t before = lg_done(g);
    ck_assert_uint_gt(before, 0);

    json_t *next = next_config();
    h_write_config(next, "reload");
    json_decref(next);
    h_hup_and_wait(s, "reloads", 0);
    ck_assert(h_log_wait(s, "event=config_reloaded", "counties=9"));
    ck_assert(h_metric(s, T_VIEWER, "gradcover_config_last_reload_success_timestamp_seconds") > 0);

    /* The new county answers, in the report and in /metrics, and takes
     * registrations through the new token. */
    json_t *e = coverage_entry(s, NEW_COUNTY);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "新设县");
    json_decref(e);
    h_register(s, T_NEW, "N1", NEW_COUNTY, 900, "2026-03-01T09:00:00+08:00");
    long long reg = 0, srv = 0;
    h_counts(s, NEW_COUNTY, "", &reg, &srv);
    ck_assert_int_eq(reg, 1);
    ck_assert_int_eq(srv, 0);
    struct http_resp *m = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(m->body, "county=\"" NEW_COUNTY "\""));
    h_resp_free(m);
    /* The renamed county shows its new name. */
    e = coverage_entry(s, "611022");
    ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "丹凤新区");
    json_decref(e);
    /* The old token is gone, the new one works (and only for its county). */
    h_expect(h_http(s, "GET", "/api/v1/counties/611021/coverage", T_C611021, NULL, NULL), 401,
             NULL);
    h_expect(h_http(s, "GET", "/api/v1/counties/" NEW_COUNTY "/coverage", T_NEW, NULL, NULL), 200,
             NULL);
    /* 90% is below 611002's new 95%: the next evaluation fires. */
    long long deadline = h_now_ms() + h_ms(10000);
    while (strcmp(county_alert(s, "611002"), "firing") != 0) {
        ck_assert_msg(h_now_ms() < deadline, "611002 did not fire at its new threshold");
        h_sleep_ms(100);
    }
    struct http_resp *r = h_http(s, "GET", "/api/v1/counties/611002/coverage", T_ADMIN, NULL, NULL);
    ck_assert_double_eq_tol(json_real_value(json_object_get(r->json, "threshold")), 0.95, 1e-9);
    h_resp_free(r);

    /* The load went on after the reload, on the same connections. */
    size_t at_hup = lg_done(g);
    t0 = h_now_ms();
    while (lg_done(g) < at_hup + 200 && h_now_ms() - t0 < h_ms(10000))
        h_sleep_ms(20);
    lg_stop(g);
    ck_assert_int_eq(lg_wait(g), 0);
    size_t sent = 0;
    for (size_t i = 0; i < MAXREQ; i++) {
        if (reqs[i].status == -1)
            continue;
        sent++;
        ck_assert_msg(reqs[i].status == 201, "request %zu: status %d (%s)", i, reqs[i].status,
                      reqs[i].err);
    }
    ck_assert_uint_gt(sent, at_hup + 199);
    fprintf(stderr, "reload under load: %zu contacts, %zu before the SIGHUP, all 201\n", sent,
            before);
    lg_reqs_free(reqs, MAXREQ);
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reload_failures_total"), 0);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* Each bad file: refused, logged with its reason, counted; nothing changed. */
START_TEST(test_bad_files_change_nothing)
{
    const char *path = h_write_config(cfg, "reload-bad");
    struct gc_server *s = h_start(path, NULL, NULL, true);
    assert_old_config(s);
    struct {
        const char *what; /* for the message */
        json_t *file;     /* NULL: not JSON */
        const char *why;  /* in the log line */
    } bad[5];
    /* Valid JSON whose every other change would apply, but: */
    bad[0].what = "bad JSON";
    bad[0].file = NULL;
    bad[0].why = "err=";
    bad[1].what = "unknown key";
    bad[1].file = next_config();
    json_object_set_new(json_object_get(bad[1].file, "alerts"), "for_secs", json_integer(1));
    bad[1].why = "alerts.for_secs";
    bad[2].what = "out of range";
    bad[2].file = next_config();
    json_object_set_new(json_array_get(json_object_get(bad[2].file, "counties"), 1), "threshold",
                        json_real(1.5));
    bad[2].why = "threshold";
    bad[3].what = "county removed";
    bad[3].file = next_config();
    json_array_remove(json_object_get(bad[3].file, "counties"), 3);
    bad[3].why = "needs a restart";
    bad[4].what = "counties reordered";
    bad[4].file = next_config();
    json_t *cs = json_object_get(bad[4].file, "counties");
    json_t *first = json_incref(json_array_get(cs, 0));
    json_array_remove(cs, 0);
    json_array_append_new(cs, first);
    bad[4].why = "reordering counties needs a restart";
    for (int i = 0; i < 5; i++) {
        if (bad[i].file) {
            h_write_config(bad[i].file, "reload-bad");
            json_decref(bad[i].file);
        } else {
            FILE *f = fopen(path, "w");
            ck_assert_ptr_nonnull(f);
            fputs("{\"counties\": [", f);
            fclose(f);
        }
        h_hup_and_wait(s, "failures", i);
        ck_assert_msg(h_log_wait(s, "event=config_reload_failed", bad[i].why),
                      "%s: no log line with %s", bad[i].what, bad[i].why);
        assert_old_config(s);
        ck_assert_str_eq(county_alert(s, "611021"), "(none)");
    }
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reload_failures_total"), 5);
    ck_assert_int_eq(
        h_metric(s, T_VIEWER, "gradcover_config_last_reload_success_timestamp_seconds"), 0);
    /* A good file after them applies. */
    json_t *next = next_config();
    h_write_config(next, "reload-bad");
    json_decref(next);
    h_hup_and_wait(s, "reloads", 0);
    h_expect(h_http(s, "GET", "/api/v1/counties/" NEW_COUNTY "/coverage", T_NEW, NULL, NULL), 200,
             NULL);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* Settings read once at the start: logged, old value kept, the rest of the
 * file applied, receivers included (test_reload_receivers.c has more). */
START_TEST(test_restart_only_keys_keep_their_value)
{
    json_object_set_new(cfg, "max_connections", json_integer(200));
    const char *path = h_write_config(cfg, "reload-restart");
    struct gc_server *s = h_start(path, NULL, NULL, true);
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_http_connections_max"), 200);
    json_t *next = next_config();
    json_object_set_new(next, "max_connections", json_integer(300));
    json_object_set_new(json_object_get(next, "alerts"), "webhooks",
                        json_pack("[{s:s, s:s}]", "name", "ops", "url", "http://127.0.0.1:9/hook"));
    /* A limit is applied to new work. */
    json_object_set_new(next, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 1, "write_burst", 1));
    /* 611021: 19 of 20 served, 95% over its 92%: ok; the new file says 96%. */
    for (int g = 0; g < 20; g++) {
        char gid[16];
        snprintf(gid, sizeof gid, "L%d", g);
        h_register(s, T_C611021, gid, "611021", 820 + g, "2026-03-01T09:00:00+08:00");
        if (g < 19)
            ck_assert_int_eq(h_contact(s, T_C611021, gid, "2026-03-02T09:00:00+08:00", NULL), 201);
    }
    ck_assert_str_eq(county_alert(s, "611021"), "ok");
    json_object_set_new(json_array_get(json_object_get(next, "counties"), 1), "threshold",
                        json_real(0.96));
    h_write_config(next, "reload-restart");
    json_decref(next);
    h_register(s, T_C611002, "G1", "611002", 801, "2026-03-01T09:00:00+08:00");
    h_register(s, T_C611002, "G2", "611002", 802, "2026-03-01T09:00:00+08:00");
    h_hup_and_wait(s, "reloads", 0);
    int limited = 0;
    for (int i = 0; i < 4; i++)
        limited += h_contact(s, T_C611002, i % 2 ? "G1" : "G2", NULL, NULL) == 429;
    ck_assert_int_gt(limited, 0);
    /* No write touched 611021 since: the alert evaluation fires it. */
    long long deadline = h_now_ms() + h_ms(10000);
    while (strcmp(county_alert(s, "611021"), "firing") != 0) {
        ck_assert_msg(h_now_ms() < deadline, "611021 did not fire at its new threshold");
        h_sleep_ms(100);
    }
    ck_assert(h_log_wait(s, "event=config_reload_needs_restart", "key=max_connections"));
    ck_assert(!h_log_wait(s, "event=config_reload_needs_restart", "alerts"));
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_http_connections_max"), 200);
    /* The receiver was added. */
    ck_assert(h_log_wait(s, "event=receiver_added", "receiver=ops"));
    struct http_resp *m = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(m->body, "receiver=\"ops\""));
    h_resp_free(m);
    /* The rest applied. */
    h_expect(h_http(s, "GET", "/api/v1/counties/" NEW_COUNTY "/coverage", T_NEW, NULL, NULL), 200,
             NULL);
    h_expect(h_http(s, "GET", "/api/v1/counties/611021/coverage", T_C611021, NULL, NULL), 401,
             NULL);
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reload_failures_total"), 0);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("reload");
    TCase *tc = tcase_create("reload");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_reload_under_load);
    tcase_add_test(tc, test_bad_files_change_nothing);
    tcase_add_test(tc, test_restart_only_keys_keep_their_value);
    suite_add_tcase(su, tc);
    return h_run_suite(su);
}
