/* /metrics through the real tools: promtool accepts a real scrape, a real
 * Prometheus server scrapes gradcoverd and answers PromQL with the value of
 * the JSON API, and the series behave while Redis is down. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static const char *cfg_path;

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    cfg_path = h_write_config(cfg, "metrics");
    json_decref(cfg);
}

/* 611002: 8 of 10 served (80%); 611021: 23 of 25 (92%, its target 0.92). */
static void load(struct gc_server *s)
{
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "A%d", i);
        h_register(s, T_C611002, id, "611002", i, "2026-03-01T09:00:00+08:00");
        if (i < 8)
            ck_assert_int_eq(h_contact(s, T_C611002, id, "2026-03-02T09:00:00+08:00", NULL), 201);
    }
    for (int i = 0; i < 25; i++) {
        char id[16];
        snprintf(id, sizeof id, "B%d", i);
        h_register(s, T_C611021, id, "611021", 100 + i, "2026-03-01T09:00:00+08:00");
        if (i < 23)
            ck_assert_int_eq(h_contact(s, T_C611021, id, "2026-03-02T09:00:00+08:00", NULL), 201);
    }
}

static char *scrape(struct gc_server *s, const char *token)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", token, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics: %d", r ? r->status : 0);
    char ct[128];
    ck_assert_ptr_nonnull(h_header(r, "Content-Type", ct, sizeof ct));
    ck_assert_ptr_nonnull(strstr(ct, "text/plain; version=0.0.4"));
    char *body = strdup(r->body);
    h_resp_free(r);
    return body;
}

START_TEST(test_promtool_accepts_a_real_scrape)
{
    struct gc_server *s = h_start(cfg_path, NULL, NULL, true);
    load(s);
    h_expect(h_http(s, "GET", "/api/v1/graduates/A1", T_ADMIN, NULL, NULL), 200, NULL);
    char *text = scrape(s, T_VIEWER);
    char path[600];
    snprintf(path, sizeof path, "%s/scrape.txt", h_work_dir());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s' > '%s.out' 2>&1", path, path);
    ck_assert_msg(system(cmd) == 0, "promtool check metrics failed, see %s.out", path);
    ck_assert_ptr_nonnull(
        strstr(text, "gradcover_registered_graduates{county=\"611002\",period=\"2026\"} 10\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "gradcover_served_graduates{county=\"611021\",period=\"2026\"} 23\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "gradcover_service_coverage_ratio{county=\"611002\",period=\"2026\"} 0.8000\n"));
    /* Absent, not 0 or NaN, where nobody is registered. */
    ck_assert_ptr_null(strstr(text, "gradcover_service_coverage_ratio{county=\"611022\""));
    ck_assert_ptr_nonnull(strstr(text, "gradcover_coverage_target_ratio{county=\"611021\"} 0.92\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "gradcover_county_info{county=\"shangdan-park\",name=\"商丹园区\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(
        text, "gradcover_contacts_recorded_total{county=\"611002\",service=\"job_referral\"} 8\n"));
    ck_assert_ptr_nonnull(strstr(text, "gradcover_redis_connected 1\n"));
    /* Routes are templates, never raw ids. */
    ck_assert_ptr_nonnull(strstr(
        text, "gradcover_http_requests_total{route=\"/api/v1/graduates/{id}\",code=\"200\"} 1\n"));
    ck_assert_ptr_null(strstr(text, "A1\""));
    ck_assert_ptr_nonnull(strstr(
        text, "gradcover_http_request_duration_seconds_count{route=\"/api/v1/contacts\"} 31\n"));
    free(text);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_counters_only_go_up)
{
    struct gc_server *s = h_start(cfg_path, NULL, NULL, true);
    char *a = scrape(s, T_ADMIN);
    char *b = scrape(s, T_ADMIN);
    /* The first scrape is counted in the second. */
    ck_assert_ptr_null(strstr(a, "route=\"/metrics\",code=\"200\""));
    ck_assert_ptr_nonnull(strstr(b, "gradcover_http_requests_total{route=\"/metrics\",code=\"200\"} 1\n"));
    free(a);
    free(b);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_metrics_scoped_to_the_token)
{
    struct gc_server *s = h_start(cfg_path, NULL, NULL, true);
    char *text = scrape(s, T_C611002);
    ck_assert_ptr_nonnull(strstr(text, "gradcover_coverage_target_ratio{county=\"611002\"}"));
    ck_assert_ptr_null(strstr(text, "county=\"611021\""));
    free(text);
    h_expect(h_http(s, "GET", "/metrics", NULL, NULL, NULL), 401, "unauthorized");
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_metrics_while_redis_is_down)
{
    struct h_redis_proc *rp = h_redis_spawn("metrics", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(cfg_path, NULL, url, true);
    h_register(s, T_C611002, "G1", "611002", 1, NULL);
    h_redis_stop(rp, true);
    char *text = scrape(s, T_VIEWER);
    ck_assert_ptr_nonnull(strstr(text, "gradcover_redis_connected 0\n"));
    ck_assert_ptr_null(strstr(text, "gradcover_registered_graduates{"));
    ck_assert_ptr_null(strstr(text, "gradcover_service_coverage_ratio{"));
    ck_assert_ptr_nonnull(strstr(text, "gradcover_coverage_target_ratio{county=\"611002\"} 0.9\n"));
    free(text);
    ck_assert_int_eq(h_stop(s), 0);
    free(rp);
}
END_TEST

/* Runs Debian's prometheus against gradcoverd and asks it over its HTTP API. */
START_TEST(test_prometheus_scrapes_and_answers_promql)
{
    struct gc_server *s = h_start(cfg_path, NULL, NULL, true);
    load(s);
    struct http_resp *j = h_http(s, "GET", "/api/v1/counties/611002/coverage", T_VIEWER, NULL, NULL);
    double json_rate = json_real_value(json_object_get(j->json, "rate"));
    h_resp_free(j);

    const char *wd = h_work_dir();
    char tokfile[600], conf[600], data[600], cmd[2200];
    snprintf(tokfile, sizeof tokfile, "%s/prom.token", wd);
    snprintf(conf, sizeof conf, "%s/prometheus.yml", wd);
    snprintf(data, sizeof data, "%s/prom-data", wd);
    FILE *f = fopen(tokfile, "w");
    fputs(T_VIEWER, f);
    fclose(f);
    f = fopen(conf, "w");
    fprintf(f,
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: gradcover\n"
            "    authorization: {type: Bearer, credentials_file: %s}\n"
            "    static_configs: [{targets: ['127.0.0.1:%d']}]\n",
            tokfile, s->port);
    fclose(f);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data);
    ck_assert_int_eq(system(cmd), 0);
    int pport = h_free_port();
    char listen[64], cfgarg[700], dataarg[700], logp[600];
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", pport);
    snprintf(cfgarg, sizeof cfgarg, "--config.file=%s", conf);
    snprintf(dataarg, sizeof dataarg, "--storage.tsdb.path=%s", data);
    snprintf(logp, sizeof logp, "%s/prometheus.log", wd);
    pid_t prom = fork();
    ck_assert(prom >= 0);
    if (prom == 0) {
        freopen(logp, "w", stderr);
        freopen(logp, "a", stdout);
        execlp("prometheus", "prometheus", cfgarg, dataarg, listen, (char *)NULL);
        _exit(127);
    }
    struct gc_server promsrv = {.pid = prom, .port = pport, .foreign = true};
    double got = -1;
    for (int i = 0; i < 150 && got < 0; i++) {
        h_sleep_ms(200);
        struct http_resp *r = h_http(&promsrv, "GET",
                                     "/api/v1/query?query=gradcover_service_coverage_ratio%7B"
                                     "county%3D%22611002%22%7D",
                                     NULL, NULL, NULL);
        json_t *result = r ? json_object_get(json_object_get(r->json, "data"), "result") : NULL;
        if (json_array_size(result) == 1) {
            json_t *v = json_object_get(json_array_get(result, 0), "value");
            got = atof(json_string_value(json_array_get(v, 1)));
        }
        h_resp_free(r);
    }
    kill(prom, SIGTERM);
    waitpid(prom, NULL, 0);
    ck_assert_msg(got >= 0, "prometheus never answered the query (log: %s)", logp);
    ck_assert_double_eq_tol(got, json_rate, 1e-9);
    ck_assert_double_eq_tol(got, 0.8, 1e-9);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_promtool_accepts_a_real_scrape);
    tcase_add_test(tc, test_counters_only_go_up);
    tcase_add_test(tc, test_metrics_scoped_to_the_token);
    tcase_add_test(tc, test_metrics_while_redis_is_down);
    tcase_add_test(tc, test_prometheus_scrapes_and_answers_promql);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
