/* A Redis that refuses writes or may lose them (issue 13), each state made on
 * a private redis-server: the PII-key check retried until it has succeeded,
 * an idle server that stays quiet against a read-only replica, the writable
 * gauge and /readyz naming the state, an evicting maxmemory-policy refused at
 * start and at run time, and reads of personal data refused when their audit
 * entry cannot be written. The same states under a recording load are in
 * test_fault_refusals.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

/* How long a state change may take to show: the server checks Redis every
 * second while it accepts writes (docs/reliability.md), its maxmemory-policy
 * every 5 s; the rest is slack for a busy machine. */
#define NOTICE_MS 3000
#define POLICY_NOTICE_MS 8000

static const char *cfg_k1, *cfg_k2;

/* Two configurations that differ only in their PII key file (each server
 * creates its key, 32 random bytes, on its first start). */
static void setup(void)
{
    h_init();
    char k1[600], k2[600];
    snprintf(k1, sizeof k1, "%s/states-k1.key", h_work_dir());
    snprintf(k2, sizeof k2, "%s/states-k2.key", h_work_dir());
    unlink(k1);
    unlink(k2);
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "pii_key_file", json_string(k1));
    cfg_k1 = strdup(h_write_config(cfg, "states-k1"));
    json_object_set_new(cfg, "pii_key_file", json_string(k2));
    cfg_k2 = strdup(h_write_config(cfg, "states-k2"));
    json_decref(cfg);
}

static void teardown(void)
{
    free((void *)cfg_k1);
    free((void *)cfg_k2);
}

/* Runs a command on a private Redis and asserts it was not refused. */
static void redis_ok(int port, const char *fmt, ...)
{
    redisContext *c = f_redis_at(port);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert_msg(r && r->type != REDIS_REPLY_ERROR, "redis: %s", r ? r->str : c->errstr);
    freeReplyObject(r);
    redisFree(c);
}

static long long redis_int(int port, const char *fmt, ...)
{
    redisContext *c = f_redis_at(port);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert(r);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

/* A field of INFO (e.g. "total_commands_processed"). */
static long long redis_info(int port, const char *field)
{
    redisContext *c = f_redis_at(port);
    redisReply *r = redisCommand(c, "INFO");
    ck_assert(r && r->type == REDIS_REPLY_STRING);
    char want[80];
    snprintf(want, sizeof want, "\r\n%s:", field);
    const char *p = strstr(r->str, want);
    ck_assert_msg(p, "INFO has no %s", field);
    long long v = atoll(p + strlen(want));
    freeReplyObject(r);
    redisFree(c);
    return v;
}

static struct h_redis_proc *spawn(const char *name, const char *const *extra)
{
    return h_redis_spawn_args(name, 0, true, extra);
}

static struct gc_server *start_on(const char *cfg, struct h_redis_proc *rp, bool ready)
{
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    return h_start(cfg, NULL, url, ready);
}

/* A sample of /metrics ("name" or "name{labels}"); -1 when absent. */
static double metric(struct gc_server *s, const char *series)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics");
    char want[200];
    snprintf(want, sizeof want, "\n%s ", series);
    const char *p = strstr(r->body, want);
    double v = p ? atof(p + strlen(want)) : -1;
    h_resp_free(r);
    return v;
}

/* Waits until the series has the value; false at the deadline. */
static bool wait_metric(struct gc_server *s, const char *series, double want, int timeout_ms)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    do {
        if (metric(s, series) == want)
            return true;
        h_sleep_ms(100);
    } while (h_now_ms() < end);
    return false;
}

/* The error code of an answer ("" for none); frees r. */
static void answer_code(struct http_resp *r, int *status, char *code, size_t n)
{
    ck_assert_msg(r, "no HTTP answer");
    *status = r->status;
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    snprintf(code, n, "%s", c ? c : "");
    h_resp_free(r);
}

/* Waits until GET /readyz answers status with this error code (NULL: any). */
static bool wait_ready_code(struct gc_server *s, int status, const char *want, int timeout_ms)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    do {
        int st;
        char code[64];
        answer_code(h_http(s, "GET", "/readyz", NULL, NULL, NULL), &st, code, sizeof code);
        if (st == status && (!want || strcmp(code, want) == 0))
            return true;
        h_sleep_ms(100);
    } while (h_now_ms() < end);
    return false;
}

/* Waits until GET /readyz answers anything but this error code. */
static bool wait_ready_not(struct gc_server *s, const char *code_not, int timeout_ms)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    do {
        int st;
        char code[64];
        answer_code(h_http(s, "GET", "/readyz", NULL, NULL, NULL), &st, code, sizeof code);
        if (strcmp(code, code_not) != 0)
            return true;
        h_sleep_ms(50);
    } while (h_now_ms() < end);
    return false;
}

/* Lines of the server's log that contain needle. */
static int log_count(const struct gc_server *s, const char *needle)
{
    FILE *f = fopen(s->log_path, "r");
    ck_assert(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* CPU time (user + system) the process has used, in ms. */
static long long cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15 (utime, stime), counted after the ")" of the name. */
    const char *p = strrchr(buf, ')');
    ck_assert(p);
    unsigned long long ut = 0, st = 0;
    ck_assert(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) ==
              2);
    return (long long)(ut + st) * 1000 / sysconf(_SC_CLK_TCK);
}

static char *registration(const char *id, const char *county, int seq)
{
    char *b = malloc(300);
    snprintf(b, 300, "{\"id\":\"%s\",\"county\":\"%s\",\"name\":\"x\",\"national_id\":\"%s\"}", id,
             county, h_natid(seq));
    return b;
}

/* Redis refuses writes in one of the ways an operator's Redis does. */
enum state { READONLY, OOM };

static void enter(int port, enum state st, int closed_port)
{
    if (st == READONLY)
        redis_ok(port, "REPLICAOF 127.0.0.1 %d", closed_port);
    else
        redis_ok(port, "CONFIG SET maxmemory 1");
}

static void leave(int port, enum state st)
{
    if (st == READONLY)
        redis_ok(port, "REPLICAOF NO ONE");
    else
        redis_ok(port, "CONFIG SET maxmemory 0");
}

/* The scenario: a server started with the wrong PII key while Redis
 * refused writes checks its key once Redis accepts them again, and never
 * lets the same person be registered twice. */
static void pii_check_retried(enum state st)
{
    struct h_redis_proc *rp = spawn(st == READONLY ? "pii-readonly" : "pii-oom", NULL);
    struct gc_server *s = start_on(cfg_k1, rp, true);
    h_register(s, T_C611002, "X1", "611002", 1, NULL);
    ck_assert_int_eq(h_stop(s), 0);

    enter(rp->port, st, h_free_port());
    s = start_on(cfg_k2, rp, false);
    /* Connected (whatever /readyz then says), its check refused by Redis. */
    ck_assert(wait_ready_not(s, "redis_unavailable", NOTICE_MS));
    h_sleep_ms(200);
    leave(rp->port, st);
    /* From the moment Redis accepts writes again: the same national ID in
     * another county is refused (409 or 503), never registered. */
    long long end = h_now_ms() + h_ms(1500);
    for (int i = 0; h_now_ms() < end; i++) {
        char id[16];
        snprintf(id, sizeof id, "X2-%d", i);
        char *body = registration(id, "611021", 1);
        int status;
        char code[64];
        answer_code(h_http(s, "POST", "/api/v1/graduates", T_C611021, body, NULL), &status, code,
                    sizeof code);
        free(body);
        ck_assert_msg(status == 409 || status == 503, "the same person registered again: %d %s",
                      status, code);
        h_sleep_ms(100);
    }
    ck_assert(wait_ready_code(s, 503, "pii_key_mismatch", NOTICE_MS));
    ck_assert_int_eq(redis_int(rp->port, "EXISTS gc:{611021}:g:X2-0"), 0);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}

START_TEST(test_pii_key_checked_when_a_read_only_redis_accepts_writes_again)
{
    pii_check_retried(READONLY);
}
END_TEST

START_TEST(test_pii_key_checked_when_a_full_redis_accepts_writes_again)
{
    pii_check_retried(OOM);
}
END_TEST

START_TEST(test_pii_key_fingerprint_written_again_after_flushall)
{
    struct h_redis_proc *rp = spawn("pii-flush", NULL);
    struct gc_server *s = start_on(cfg_k1, rp, true);
    ck_assert_int_eq(redis_int(rp->port, "EXISTS gc:{@}:pii_key_check"), 1);
    redis_ok(rp->port, "FLUSHALL");
    long long end = h_now_ms() + h_ms(NOTICE_MS);
    while (redis_int(rp->port, "EXISTS gc:{@}:pii_key_check") == 0 && h_now_ms() < end)
        h_sleep_ms(100);
    ck_assert_int_eq(redis_int(rp->port, "EXISTS gc:{@}:pii_key_check"), 1);
    /* ... and it is this server's key: a server with another key refuses. */
    struct gc_server *s2 = start_on(cfg_k2, rp, false);
    ck_assert(wait_ready_code(s2, 503, "pii_key_mismatch", NOTICE_MS));
    ck_assert_int_eq(h_stop(s2), 0);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

/* The issue measured ~21,000-39,000 Redis commands a second and ~1 s of CPU
 * per 3 s from an idle server whose outbox reads were refused. */
#define IDLE_CMDS_PER_S_MAX 100
#define IDLE_CPU_MS_MAX 300
#define IDLE_WINDOW_MS 3000

START_TEST(test_idle_server_against_a_read_only_replica_stays_quiet_and_says_so)
{
    struct h_redis_proc *rp = spawn("idle-readonly", NULL);
    struct gc_server *s = start_on(cfg_k1, rp, true);
    redis_ok(rp->port, "REPLICAOF 127.0.0.1 %d", h_free_port());
    /* Nothing is asked of the server: whatever it does now, it does alone. */
    h_sleep_ms(1000);
    int errors0 = log_count(s, "event=redis_error");
    long long cmds0 = redis_info(rp->port, "total_commands_processed");
    long long cpu0 = cpu_ms(s->pid);
    h_sleep_ms(IDLE_WINDOW_MS);
    long long cpu = cpu_ms(s->pid) - cpu0;
    /* Less the INFO commands of the measurement itself. */
    long long cmds = redis_info(rp->port, "total_commands_processed") - cmds0 - 1;
    int errors = log_count(s, "event=redis_error") - errors0;
    fprintf(stderr,
            "states.idle_readonly redis_commands_per_s=%.1f cpu_ms=%lld error_lines=%d (over %d "
            "ms)\n",
            cmds * 1000.0 / IDLE_WINDOW_MS, cpu, errors, IDLE_WINDOW_MS);
    ck_assert_msg(cmds * 1000 / IDLE_WINDOW_MS <= IDLE_CMDS_PER_S_MAX,
                  "%lld Redis commands in %d ms", cmds, IDLE_WINDOW_MS);
    ck_assert_msg(cpu <= h_ms(IDLE_CPU_MS_MAX), "%lld ms of CPU in %d ms", cpu, IDLE_WINDOW_MS);
    /* A repeated error is logged once, then counted every few seconds. */
    ck_assert_msg(errors <= 2, "%d error lines in %d ms", errors, IDLE_WINDOW_MS);

    /* Monitoring sees it: connected, but not writable, and why. */
    ck_assert(metric(s, "gradcover_redis_writable") == 0);
    ck_assert(metric(s, "gradcover_redis_connected") == 1);
    ck_assert(metric(s, "gradcover_redis_refusals_total{reason=\"readonly\"}") > 0);
    ck_assert(metric(s, "gradcover_redis_refusals_total{reason=\"oom\"}") == 0);
    h_expect(h_http(s, "GET", "/readyz", NULL, NULL, NULL), 503, "redis_refusing_writes");
    char *body = registration("R1", "611002", 7);
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_C611002, body, NULL), 503,
             "redis_refusing_writes");
    /* Aggregates need no write: still answered. */
    h_expect(h_http(s, "GET", "/api/v1/coverage", T_VIEWER, NULL, NULL), 200, NULL);

    redis_ok(rp->port, "REPLICAOF NO ONE");
    ck_assert(wait_metric(s, "gradcover_redis_writable", 1, NOTICE_MS));
    ck_assert(wait_ready_code(s, 200, NULL, NOTICE_MS));
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_C611002, body, NULL), 201, NULL);
    free(body);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

START_TEST(test_evicting_policy_refused_at_start_and_at_run_time)
{
    const char *extra[] = {"--maxmemory-policy", "allkeys-lru", NULL};
    struct h_redis_proc *rp = spawn("evicting", extra);
    struct gc_server *s = start_on(cfg_k1, rp, false);
    ck_assert(wait_ready_code(s, 503, "redis_may_evict", NOTICE_MS));
    char *body = registration("E1", "611002", 11);
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_C611002, body, NULL), 503, "redis_may_evict");
    ck_assert_int_eq(redis_int(rp->port, "EXISTS gc:{611002}:g:E1"), 0);
    h_expect(h_http(s, "GET", "/api/v1/coverage", T_VIEWER, NULL, NULL), 200, NULL);
    ck_assert(metric(s, "gradcover_redis_writable") == 0);
    /* One error line naming the setting, however often it is checked. */
    h_sleep_ms(h_ms(1000));
    ck_assert_int_eq(log_count(s, "maxmemory_policy=allkeys-lru"), 1);

    redis_ok(rp->port, "CONFIG SET maxmemory-policy noeviction");
    ck_assert(wait_ready_code(s, 200, NULL, POLICY_NOTICE_MS));
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_C611002, body, NULL), 201, NULL);
    free(body);

    /* Changed while the server runs: noticed, and writes stop. */
    redis_ok(rp->port, "CONFIG SET maxmemory-policy volatile-lru");
    ck_assert(wait_ready_code(s, 503, "redis_may_evict", POLICY_NOTICE_MS));
    ck_assert_int_eq(h_contact(s, T_C611002, "E1", NULL, "evict-1"), 503);
    ck_assert_int_eq(log_count(s, "maxmemory_policy=volatile-lru"), 1);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

/* Reads of personal data are audited (docs/security.md): without the entry,
 * no data. */
static void expect_personal_reads_refused(struct gc_server *s, int port)
{
    long long audit = redis_int(port, "XLEN gc:{611002}:audit");
    long long global = redis_int(port, "XLEN gc:{@}:audit");
    char nid_path[80];
    snprintf(nid_path, sizeof nid_path, "/api/v1/graduates?national_id=%s", h_natid(1));
    const char *paths[] = {"/api/v1/graduates/G1", "/api/v1/graduates/G1/contacts",
                           "/api/v1/counties/611002/queue", nid_path};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct http_resp *r = h_http(s, "GET", paths[i], T_C611002, NULL, NULL);
        ck_assert_msg(r && r->status == 503, "%s: %d %s", paths[i], r ? r->status : 0,
                      r ? r->body : "");
        ck_assert_msg(!strstr(r->body, "张三"), "%s answered the name", paths[i]);
        h_resp_free(r);
    }
    ck_assert_int_eq(redis_int(port, "XLEN gc:{611002}:audit"), audit);
    ck_assert_int_eq(redis_int(port, "XLEN gc:{@}:audit"), global);
    /* Aggregates hold no personal data: answered. */
    h_expect(h_http(s, "GET", "/api/v1/counties/611002/coverage", T_C611002, NULL, NULL), 200,
             NULL);
}

static void register_g1(struct gc_server *s)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"id\":\"G1\",\"county\":\"611002\",\"name\":\"张三\",\"national_id\":\"%s\"}",
             h_natid(1));
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_C611002, body, NULL), 201, NULL);
}

START_TEST(test_personal_data_read_refused_while_redis_is_read_only)
{
    struct h_redis_proc *rp = spawn("read-readonly", NULL);
    struct gc_server *s = start_on(cfg_k1, rp, true);
    register_g1(s);
    redis_ok(rp->port, "REPLICAOF 127.0.0.1 %d", h_free_port());
    expect_personal_reads_refused(s, rp->port);
    redis_ok(rp->port, "REPLICAOF NO ONE");
    ck_assert(wait_ready_code(s, 200, NULL, NOTICE_MS));
    long long audit = redis_int(rp->port, "XLEN gc:{611002}:audit");
    h_expect(h_http(s, "GET", "/api/v1/graduates/G1", T_C611002, NULL, NULL), 200, NULL);
    ck_assert_int_eq(redis_int(rp->port, "XLEN gc:{611002}:audit"), audit + 1);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

/* Redis accepts writes, but not this one (an ACL without XADD): the check
 * before the read passes, the entry after it fails, and the answer is 503. */
START_TEST(test_personal_data_read_refused_when_its_audit_entry_is_refused)
{
    struct h_redis_proc *rp = spawn("read-noaudit", NULL);
    redis_ok(rp->port, "ACL SETUSER svc on >svc-password ~gc:* &* +@all");
    char url[96];
    snprintf(url, sizeof url, "redis://svc:svc-password@127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(cfg_k1, NULL, url, true);
    register_g1(s);
    redis_ok(rp->port, "ACL SETUSER svc -xadd");
    expect_personal_reads_refused(s, rp->port);
    ck_assert(metric(s, "gradcover_redis_refusals_total{reason=\"noperm\"}") > 0);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis_states");
    TCase *tc = tcase_create("redis_states");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pii_key_checked_when_a_read_only_redis_accepts_writes_again);
    tcase_add_test(tc, test_pii_key_checked_when_a_full_redis_accepts_writes_again);
    tcase_add_test(tc, test_pii_key_fingerprint_written_again_after_flushall);
    tcase_add_test(tc, test_idle_server_against_a_read_only_replica_stays_quiet_and_says_so);
    tcase_add_test(tc, test_evicting_policy_refused_at_start_and_at_run_time);
    tcase_add_test(tc, test_personal_data_read_refused_while_redis_is_read_only);
    tcase_add_test(tc, test_personal_data_read_refused_when_its_audit_entry_is_refused);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
