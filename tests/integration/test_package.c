/* The service package (SPEC §12, Shaanxi's "1131") through the real server
 * and Redis: a graduate's package from reached contacts only, the county's
 * count of completed packages in coverage and /metrics, a void taking it
 * back, a transfer moving it, a new period starting it afresh; and the
 * configuration's checks (exit 2 naming the key). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct gc_server *srv;
static const char *cfg_path;

#define NOW "2026-03-10T10:00:00+08:00"
#define PACKAGE_1131                                                                               \
    "{\"name\":\"1131\",\"items\":[{\"services\":[\"policy_briefing\"],\"count\":1},"              \
    "{\"services\":[\"career_guidance\"],\"count\":1},"                                            \
    "{\"services\":[\"job_referral\"],\"count\":3},"                                               \
    "{\"services\":[\"training\",\"internship\"],\"count\":1}]}"

static json_t *config_1131(void)
{
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "service_package", json_loads(PACKAGE_1131, 0, NULL));
    return cfg;
}

static struct gc_server *start_at(const char *now)
{
    const char *args[] = {"--now", now, NULL};
    return h_start(cfg_path, args, NULL, true);
}

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = config_1131();
    cfg_path = h_write_config(cfg, "package");
    json_decref(cfg);
    srv = start_at(NOW);
}

static void teardown(void)
{
    if (srv)
        ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static json_t *get(const char *path)
{
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r->status == 200, "%s: %d %s", path, r->status, r->body);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

/* Records a contact with gid (extra members after the service); asserts 201
 * and copies its id into id (may be NULL). */
static void contact(const char *gid, const char *service, const char *members, char *id, size_t n)
{
    char body[400];
    snprintf(body, sizeof body, "{\"graduate_id\":\"%s\",\"service\":\"%s\"%s%s}", gid, service,
             members ? "," : "", members ? members : "");
    struct http_resp *r = h_http(srv, "POST", "/api/v1/contacts", T_ADMIN, body, NULL);
    ck_assert_msg(r->status == 201, "POST %s: %d %s", body, r->status, r->body);
    if (id)
        snprintf(id, n, "%s", str(r->json, "id"));
    h_resp_free(r);
}

/* The graduate's package as "complete" or "missing:svc+svc=n,..." */
static void package_of(const char *gid, char *out, size_t n)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s", gid);
    json_t *g = get(path);
    json_t *p = json_object_get(g, "package");
    ck_assert_msg(json_is_object(p), "no package on %s", gid);
    ck_assert_str_eq(str(p, "name"), "1131");
    json_t *missing = json_object_get(p, "missing");
    ck_assert_int_eq(json_is_true(json_object_get(p, "complete")), json_array_size(missing) == 0);
    size_t used =
        (size_t)snprintf(out, n, "%s", json_array_size(missing) ? "missing:" : "complete");
    size_t i, k;
    json_t *it, *s;
    json_array_foreach(missing, i, it)
    {
        used += (size_t)snprintf(out + used, n - used, "%s", i ? "," : "");
        json_array_foreach(json_object_get(it, "services"), k, s)
        {
            used +=
                (size_t)snprintf(out + used, n - used, "%s%s", k ? "+" : "", json_string_value(s));
        }
        used += (size_t)snprintf(out + used, n - used, "=%lld",
                                 (long long)json_integer_value(json_object_get(it, "count")));
    }
    json_decref(g);
}

/* The county's package_complete: from its coverage, from the whole
 * coverage (its entry; the total must be the sum), and from /metrics; all
 * three must agree. period "" = the current one. */
static long long completed(const char *county, const char *period)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/counties/%s/coverage%s%s", county,
             *period ? "?period=" : "", period);
    json_t *c = get(path);
    long long one = json_integer_value(json_object_get(c, "package_complete"));
    ck_assert_msg(json_is_integer(json_object_get(c, "package_complete")), "%s: no count", path);
    json_decref(c);
    snprintf(path, sizeof path, "/api/v1/coverage%s%s", *period ? "?period=" : "", period);
    json_t *all = get(path);
    long long sum = 0, mine = -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(all, "counties"), i, e)
    {
        sum += json_integer_value(json_object_get(e, "package_complete"));
        if (strcmp(str(e, "code"), county) == 0)
            mine = json_integer_value(json_object_get(e, "package_complete"));
    }
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(all, "total"), "package_complete")),
        sum);
    json_decref(all);
    ck_assert_int_eq(mine, one);
    if (!*period) {
        struct http_resp *r = h_http(srv, "GET", "/metrics", T_ADMIN, NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        char line[160];
        snprintf(line, sizeof line,
                 "\ngradcover_package_complete_graduates{county=\"%s\",package=\"1131\",period=\"",
                 county);
        const char *at = strstr(r->body, line);
        ck_assert_msg(at != NULL, "no %s in /metrics", line + 1);
        at = strchr(at, '}');
        ck_assert_int_eq(atoll(at + 2), one);
        h_resp_free(r);
    }
    return one;
}

/* G1 with every item of the package but the last job referral. */
static void given_almost_complete(const char *gid, int seq)
{
    h_register(srv, T_ADMIN, gid, "611002", seq, "2026-03-01T09:00:00+08:00");
    contact(gid, "policy_briefing", NULL, NULL, 0);
    contact(gid, "career_guidance", NULL, NULL, 0);
    contact(gid, "job_referral", NULL, NULL, 0);
    contact(gid, "job_referral", NULL, NULL, 0);
    contact(gid, "internship", NULL, NULL, 0);
}

START_TEST(test_package_completes_through_reached_contacts_only)
{
    char got[400];
    h_register(srv, T_ADMIN, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "missing:policy_briefing=1,career_guidance=1,job_referral=3,"
                          "training+internship=1");
    ck_assert_int_eq(completed("611002", ""), 0);
    contact("G1", "policy_briefing", NULL, NULL, 0);
    contact("G1", "job_referral", NULL, NULL, 0);
    contact("G1", "job_referral", NULL, NULL, 0);
    /* Attempts never count: an unreachable training, a declined referral. */
    contact("G1", "training", "\"outcome\":\"unreachable\"", NULL, 0);
    contact("G1", "job_referral", "\"outcome\":\"declined\"", NULL, 0);
    /* Services outside the package neither. */
    contact("G1", "small_loan", NULL, NULL, 0);
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "missing:career_guidance=1,job_referral=1,training+internship=1");
    contact("G1", "career_guidance", NULL, NULL, 0);
    contact("G1", "job_referral", NULL, NULL, 0);
    contact("G1", "training", NULL, NULL, 0);
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "complete");
    ck_assert_int_eq(completed("611002", ""), 1);
    /* More contacts after it is complete count it once. */
    contact("G1", "internship", NULL, NULL, 0);
    contact("G1", "job_referral", NULL, NULL, 0);
    ck_assert_int_eq(completed("611002", ""), 1);
    ck_assert_int_eq(completed("611021", ""), 0);
    /* The queue shows the package too (its graduates have none yet). */
    h_register(srv, T_ADMIN, "G2", "611002", 2, NULL);
    json_t *q = get("/api/v1/counties/611002/queue");
    json_t *p = json_object_get(json_array_get(json_object_get(q, "graduates"), 0), "package");
    ck_assert(json_is_false(json_object_get(p, "complete")));
    ck_assert_int_eq(json_array_size(json_object_get(p, "missing")), 4);
    json_decref(q);
}
END_TEST

START_TEST(test_void_makes_the_package_incomplete_again)
{
    char got[400], id[160];
    given_almost_complete("G1", 1);
    contact("G1", "job_referral", NULL, id, sizeof id);
    ck_assert_int_eq(completed("611002", ""), 1);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/contacts/%s/void", id);
    h_expect(h_http(srv, "POST", path, T_ADMIN, "{\"reason\":\"录入错误\"}", NULL), 200, NULL);
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "missing:job_referral=1");
    ck_assert_int_eq(completed("611002", ""), 0);
    /* Voiding it again changes nothing. */
    h_expect(h_http(srv, "POST", path, T_ADMIN, "{\"reason\":\"录入错误\"}", NULL), 200, NULL);
    ck_assert_int_eq(completed("611002", ""), 0);
    /* An attempt voided takes nothing away. */
    contact("G1", "job_referral", NULL, NULL, 0);
    ck_assert_int_eq(completed("611002", ""), 1);
    contact("G1", "job_referral", "\"outcome\":\"unreachable\"", id, sizeof id);
    snprintf(path, sizeof path, "/api/v1/contacts/%s/void", id);
    h_expect(h_http(srv, "POST", path, T_ADMIN, "{\"reason\":\"重复\"}", NULL), 200, NULL);
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "complete");
    ck_assert_int_eq(completed("611002", ""), 1);
}
END_TEST

START_TEST(test_transfer_moves_a_completed_package)
{
    char got[400];
    given_almost_complete("G1", 1);
    contact("G1", "job_referral", NULL, NULL, 0);
    given_almost_complete("G2", 2);
    ck_assert_int_eq(completed("611002", ""), 1);
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G1/transfer", T_ADMIN,
                    "{\"county\":\"611021\"}", NULL),
             200, NULL);
    ck_assert_int_eq(completed("611002", ""), 0);
    ck_assert_int_eq(completed("611021", ""), 1);
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "complete");
    /* An incomplete one moves without counting anywhere, and completes there. */
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G2/transfer", T_ADMIN,
                    "{\"county\":\"611021\"}", NULL),
             200, NULL);
    ck_assert_int_eq(completed("611021", ""), 1);
    contact("G2", "job_referral", NULL, NULL, 0);
    ck_assert_int_eq(completed("611021", ""), 2);
    ck_assert_int_eq(completed("611002", ""), 0);
}
END_TEST

START_TEST(test_a_new_period_starts_the_package_afresh)
{
    char got[400];
    given_almost_complete("G1", 1);
    contact("G1", "job_referral", NULL, NULL, 0);
    ck_assert_int_eq(completed("611002", ""), 1);
    ck_assert_int_eq(h_stop(srv), 0);
    srv = start_at("2027-01-05T10:00:00+08:00");
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "missing:policy_briefing=1,career_guidance=1,job_referral=3,"
                          "training+internship=1");
    ck_assert_int_eq(completed("611002", ""), 0);
    ck_assert_int_eq(completed("611002", "2026"), 1);
    contact("G1", "policy_briefing", NULL, NULL, 0);
    package_of("G1", got, sizeof got);
    ck_assert_str_eq(got, "missing:career_guidance=1,job_referral=3,training+internship=1");
    /* A contact back-dated into 2026 counts in 2026's package. */
    contact("G1", "policy_briefing", "\"occurred_at\":\"2026-12-30T10:00:00+08:00\"", NULL, 0);
    ck_assert_int_eq(completed("611002", "2026"), 1);
}
END_TEST

START_TEST(test_withdrawal_takes_a_package_out_of_the_count)
{
    given_almost_complete("G1", 1);
    contact("G1", "job_referral", NULL, NULL, 0);
    given_almost_complete("G2", 2);
    contact("G2", "job_referral", NULL, NULL, 0);
    ck_assert_int_eq(completed("611002", ""), 2);
    /* Employed: still counted (they completed it while seeking). */
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G2/status", T_ADMIN,
                    "{\"status\":\"employed\"}", NULL),
             200, NULL);
    ck_assert_int_eq(completed("611002", ""), 2);
    /* Withdrawn (a registration made in error): counted in no period. */
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G1/status", T_ADMIN,
                    "{\"status\":\"withdrawn\"}", NULL),
             200, NULL);
    ck_assert_int_eq(completed("611002", ""), 1);
}
END_TEST

START_TEST(test_without_a_package_nothing_is_shown)
{
    ck_assert_int_eq(h_stop(srv), 0);
    json_t *cfg = h_default_config();
    cfg_path = h_write_config(cfg, "no-package");
    json_decref(cfg);
    srv = start_at(NOW);
    h_register(srv, T_ADMIN, "G1", "611002", 1, NULL);
    contact("G1", "policy_briefing", NULL, NULL, 0);
    json_t *g = get("/api/v1/graduates/G1");
    ck_assert_ptr_null(json_object_get(g, "package"));
    json_decref(g);
    json_t *c = get("/api/v1/counties/611002/coverage");
    ck_assert_ptr_null(json_object_get(c, "package_complete"));
    json_decref(c);
    struct http_resp *r = h_http(srv, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert_ptr_null(strstr(r->body, "gradcover_package_complete_graduates"));
    h_resp_free(r);
}
END_TEST

/* ---- configuration ---- */

/* gradcoverd on cfg (stolen): exits 2 naming key and saying why, both with
 * --check-config and on a real start, and writes nothing to Redis. */
static void expect_config_error(json_t *cfg, const char *key, const char *why)
{
    const char *path = h_write_config(cfg, "bad-package");
    json_decref(cfg);
    char listen[64], redis[128], log[600], out[4096];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h_free_port());
    snprintf(redis, sizeof redis, "redis://127.0.0.1:%d/%d", h_redis_port(), h_redis_db());
    snprintf(log, sizeof log, "%s/bad-%d.log", h_work_dir(), (int)getpid());
    long long keys_before = h_redis_int("DBSIZE");
    for (int check = 1; check >= 0; check--) {
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            /* Not under GC_WRAPPER: the exit code is the refusal's (as test_tls). */
            const char *bin = getenv("GC_BINARY");
            execl(bin, bin, "--config", path, "--listen", listen, "--redis", redis,
                  check ? "--check-config" : (char *)NULL, (char *)NULL);
            _exit(127);
        }
        int status = 0, rc = -1;
        long long end = h_now_ms() + h_ms(10000);
        while (h_now_ms() < end) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                break;
            }
            h_sleep_ms(20);
        }
        if (rc == -1) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        FILE *f = fopen(log, "r");
        size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
        out[n] = '\0';
        if (f)
            fclose(f);
        ck_assert_msg(rc == 2, "%s: exit %d, wanted 2: %s", check ? "--check-config" : "start", rc,
                      out);
        ck_assert_msg(strstr(out, key) != NULL, "the message does not name %s: %s", key, out);
        ck_assert_msg(strstr(out, why) != NULL, "the message does not say \"%s\": %s", why, out);
    }
    ck_assert_int_eq(h_redis_int("DBSIZE"), keys_before);
}

static json_t *with_package(const char *text)
{
    json_t *cfg = h_default_config();
    json_error_t e;
    json_t *p = json_loads(text, 0, &e);
    ck_assert_msg(p != NULL, "%s: %s", text, e.text);
    json_object_set_new(cfg, "service_package", p);
    return cfg;
}

START_TEST(test_a_bad_service_package_is_refused_at_start)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
    expect_config_error(with_package("{\"name\":\"1131\",\"items\":[{\"services\":[\"haircut\"],"
                                     "\"count\":1}]}"),
                        "service_package.items[0].services[0]", "must be one of policy_briefing");
    expect_config_error(with_package("{\"name\":\"1131\",\"items\":[{\"services\":[\"training\"],"
                                     "\"count\":0}]}"),
                        "service_package.items[0].count", "must be an integer in [1, 100]");
    expect_config_error(with_package("{\"name\":\"1131\",\"items\":[{\"services\":[\"training\"],"
                                     "\"count\":101}]}"),
                        "service_package.items[0].count", "must be an integer in [1, 100]");
    expect_config_error(with_package("{\"name\":\"1131\",\"items\":[{\"services\":[\"training\"],"
                                     "\"count\":1},{\"services\":[\"internship\",\"training\"],"
                                     "\"count\":1}]}"),
                        "service_package.items[1].services[1]",
                        "training is already in the package");
    expect_config_error(with_package("{\"name\":\"1131\",\"items\":[]}"), "service_package.items",
                        "must be an array of 1..10 items");
    expect_config_error(
        with_package("{\"name\":\"1131\",\"items\":[{\"services\":[],\"count\":1}]}"),
        "service_package.items[0].services", "must be a non-empty array");
    expect_config_error(with_package("{\"name\":\"\",\"items\":[{\"services\":[\"training\"],"
                                     "\"count\":1}]}"),
                        "service_package.name", "must be a string of 1..32 bytes");
    expect_config_error(with_package("{\"name\":\"1131\",\"items\":[{\"services\":[\"training\"],"
                                     "\"count\":1,\"every\":\"month\"}]}"),
                        "service_package.items[0].every", "unknown key");
    expect_config_error(with_package("{\"name\":\"1131\",\"items\":[{\"services\":[\"training\"],"
                                     "\"count\":1}],\"period\":\"month\"}"),
                        "service_package.period", "unknown key");
    expect_config_error(with_package("[1,1,3,1]"), "service_package", "must be an object");
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "queue", json_pack("{s:i}", "sla_days", 0));
    expect_config_error(cfg, "queue.sla_days", "must be an integer in [1, 366]");
    cfg = h_default_config();
    json_object_set_new(cfg, "queue", json_pack("{s:i}", "sla_days", 367));
    expect_config_error(cfg, "queue.sla_days", "must be an integer in [1, 366]");
    cfg = h_default_config();
    json_object_set_new(cfg, "queue", json_pack("{s:i}", "sla_hours", 24));
    expect_config_error(cfg, "queue.sla_hours", "unknown key");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("package");
    TCase *tc = tcase_create("service package");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_package_completes_through_reached_contacts_only);
    tcase_add_test(tc, test_void_makes_the_package_incomplete_again);
    tcase_add_test(tc, test_transfer_moves_a_completed_package);
    tcase_add_test(tc, test_a_new_period_starts_the_package_afresh);
    tcase_add_test(tc, test_withdrawal_takes_a_package_out_of_the_count);
    tcase_add_test(tc, test_without_a_package_nothing_is_shown);
    tcase_add_test(tc, test_a_bad_service_package_is_refused_at_start);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
