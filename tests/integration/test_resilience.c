/* Redis outages and several servers: 503 + Retry-After while Redis is gone,
 * recovery without a restart, nothing acknowledged lost, and exact counts when
 * two gradcoverd processes write to one Redis at the same time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static const char *cfg_path;

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    cfg_path = h_write_config(cfg, "resilience");
    json_decref(cfg);
}

static char *contact_json(const char *gid, const char *occurred)
{
    char *b = malloc(200);
    snprintf(b, 200, "{\"graduate_id\":\"%s\",\"service\":\"job_referral\",\"occurred_at\":\"%s\"}",
             gid, occurred);
    return b;
}

START_TEST(test_redis_killed_gives_503_then_recovers_without_loss)
{
    struct h_redis_proc *rp = h_redis_spawn("outage", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(cfg_path, NULL, url, true);
    h_register(s, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    h_register(s, T_C611002, "G2", "611002", 2, "2026-03-01T09:00:00+08:00");
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", "ack-1"), 201);

    h_redis_stop(rp, true);
    char *body = contact_json("G2", "2026-03-03T09:00:00+08:00");
    const char *hdr[] = {"Idempotency-Key: during-outage", NULL};
    long long t0 = h_now_ms();
    struct http_resp *r = h_http(s, "POST", "/api/v1/contacts", T_C611002, body, hdr);
    long long took = h_now_ms() - t0;
    ck_assert_int_eq(r->status, 503);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r->json, "error"), "code")),
                     "redis_unavailable");
    char ra[16];
    ck_assert_ptr_nonnull(h_header(r, "Retry-After", ra, sizeof ra));
    ck_assert_int_gt(atoi(ra), 0);
    ck_assert_int_lt(took, 2000);
    h_resp_free(r);
    h_expect(h_http(s, "GET", "/readyz", NULL, NULL, NULL), 503, "redis_unavailable");
    h_expect(h_http(s, "GET", "/healthz", NULL, NULL, NULL), 200, NULL);
    h_expect(h_http(s, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL), 503, "redis_unavailable");

    /* Redis comes back (same port, same AOF): the server reconnects by itself. */
    struct h_redis_proc *rp2 = h_redis_spawn("outage", rp->port, false);
    long long back = h_now_ms();
    ck_assert(h_wait_status(s, "/readyz", 200, 5000));
    ck_assert_int_lt(h_now_ms() - back, 3000);
    /* The client retries what was not acknowledged, with the same key. */
    r = h_http(s, "POST", "/api/v1/contacts", T_C611002, body, hdr);
    ck_assert_int_eq(r->status, 201);
    h_resp_free(r);
    free(body);
    /* The contact acknowledged before the outage survived (appendfsync always). */
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", "ack-1"), 201);
    long long reg, served;
    h_counts(s, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, 2);
    ck_assert_int_eq(served, 2);
    r = h_http(s, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "contacts")), 1);
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp2, false);
    free(rp);
    free(rp2);
}
END_TEST

START_TEST(test_server_starts_without_redis_and_becomes_ready)
{
    int port = h_free_port();
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    struct gc_server *s = h_start(cfg_path, NULL, url, false);
    h_expect(h_http(s, "GET", "/readyz", NULL, NULL, NULL), 503, "redis_unavailable");
    h_expect(h_http(s, "POST", "/api/v1/contacts", T_C611002,
                    "{\"graduate_id\":\"G1\",\"service\":\"training\"}", NULL),
             503, "redis_unavailable");
    struct h_redis_proc *rp = h_redis_spawn("late", port, true);
    ck_assert(h_wait_status(s, "/readyz", 200, 5000));
    h_register(s, T_C611002, "G1", "611002", 1, NULL);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

/* Child process: sends every keyed contact to one server; exits with the number
 * of answers that were not 201. */
static void send_all(struct gc_server *s, int ngrad, int per, int seed)
{
    int bad = 0;
    for (int k = 0; k < ngrad * per; k++) {
        int i = (k * 7 + seed) % (ngrad * per); /* a different order per child */
        char gid[16], key[32], occurred[40];
        snprintf(gid, sizeof gid, "G%d", i / per);
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(occurred, sizeof occurred, "2026-04-%02dT09:00:00+08:00", 1 + i % per);
        if (h_contact(s, T_C611002, gid, occurred, key) != 201)
            bad++;
    }
    h_child_exit(bad > 255 ? 255 : bad);
}

START_TEST(test_two_servers_concurrent_writes_exact_counts)
{
    enum { NGRAD = 30, PER = 3, CHILDREN = 4 };
    struct gc_server *a = h_start(cfg_path, NULL, NULL, true);
    struct gc_server *b = h_start(cfg_path, NULL, NULL, true);
    for (int i = 0; i < NGRAD; i++) {
        char gid[16];
        snprintf(gid, sizeof gid, "G%d", i);
        h_register(i % 2 ? a : b, T_C611002, gid, "611002", i, "2026-03-01T09:00:00+08:00");
    }
    pid_t kids[CHILDREN];
    for (int c = 0; c < CHILDREN; c++) {
        kids[c] = h_child_fork();
        if (kids[c] == 0)
            send_all(c % 2 ? a : b, NGRAD, PER, c * 13);
    }
    for (int c = 0; c < CHILDREN; c++) {
        int bad = h_child_wait(kids[c]);
        ck_assert_msg(bad == 0, "child %d: %d non-201 answers", c, bad);
    }
    long long reg, served;
    h_counts(a, "611002", "2026", &reg, &served);
    ck_assert_int_eq(reg, NGRAD);
    ck_assert_int_eq(served, NGRAD);
    /* One contact per distinct key, however many servers and retries. */
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt c:job_referral"), NGRAD * PER);
    long long total = 0;
    for (int i = 0; i < NGRAD; i++)
        total += h_redis_int("LLEN gc:{611002}:contacts:G%d", i);
    ck_assert_int_eq(total, NGRAD * PER);
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
}
END_TEST

START_TEST(test_two_servers_racing_same_national_id_register_once)
{
    enum { N = 20 };
    struct gc_server *a = h_start(cfg_path, NULL, NULL, true);
    struct gc_server *b = h_start(cfg_path, NULL, NULL, true);
    pid_t kids[2];
    for (int c = 0; c < 2; c++) {
        kids[c] = h_child_fork();
        if (kids[c] == 0) {
            int created = 0;
            for (int i = 0; i < N; i++) {
                char body[200];
                snprintf(body, sizeof body,
                         "{\"id\":\"R%d-%d\",\"county\":\"611002\",\"name\":\"x\","
                         "\"national_id\":\"%s\"}",
                         c, i, h_natid(100 + i));
                struct http_resp *r =
                    h_http(c ? a : b, "POST", "/api/v1/graduates", T_ADMIN, body, NULL);
                created += r && r->status == 201;
                h_resp_free(r);
            }
            h_child_exit(created);
        }
    }
    int created = 0;
    for (int c = 0; c < 2; c++) {
        int n = h_child_wait(kids[c]);
        ck_assert_int_lt(n, 128);
        created += n;
    }
    ck_assert_int_eq(created, N);
    long long reg, served;
    h_counts(a, "611002", "", &reg, &served);
    ck_assert_int_eq(reg, N);
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
}
END_TEST

/* Two servers flip one graduate between employed and seeking at the same time:
 * whatever interleaving, a seeking graduate keeps the national-ID claim, so the
 * same person can never be registered as seeking a second time. */
START_TEST(test_concurrent_status_flips_keep_the_national_id_claim)
{
    enum { FLIPS = 60 };
    struct gc_server *a = h_start(cfg_path, NULL, NULL, true);
    struct gc_server *b = h_start(cfg_path, NULL, NULL, true);
    h_register(a, T_C611002, "G1", "611002", 300, "2026-03-01T09:00:00+08:00");
    pid_t kids[2];
    for (int c = 0; c < 2; c++) {
        kids[c] = h_child_fork();
        if (kids[c] == 0) {
            for (int i = 0; i < FLIPS; i++) {
                struct http_resp *r =
                    h_http(c ? b : a, "POST", "/api/v1/graduates/G1/status", T_C611002,
                           c ? "{\"status\":\"seeking\"}" : "{\"status\":\"employed\"}", NULL);
                int st = r ? r->status : 0;
                h_resp_free(r);
                /* 409 conflict is the documented answer to a lost race. */
                if (st != 200 && st != 409 && st != 422)
                    h_child_exit(1);
            }
            h_child_exit(0);
        }
    }
    for (int c = 0; c < 2; c++) {
        ck_assert_int_eq(h_child_wait(kids[c]), 0);
    }
    struct http_resp *r = h_http(a, "POST", "/api/v1/graduates/G1/status", T_C611002,
                                 "{\"status\":\"seeking\"}", NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "seeking");
    h_resp_free(r);
    char body[200];
    snprintf(body, sizeof body,
             "{\"id\":\"DUP\",\"county\":\"611021\",\"name\":\"x\",\"national_id\":\"%s\"}",
             h_natid(300));
    h_expect(h_http(b, "POST", "/api/v1/graduates", T_ADMIN, body, NULL), 409, "already_seeking");
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
}
END_TEST

/* Freezes the private Redis (SIGSTOP: the socket stays open, nothing answers)
 * for ms milliseconds from a child process, like a stalled disk or VM pause. */
static pid_t freeze_redis(pid_t redis, int ms)
{
    ck_assert_int_eq(kill(redis, SIGSTOP), 0);
    pid_t pid = h_child_fork();
    if (pid == 0) {
        h_sleep_ms(ms);
        kill(redis, SIGCONT);
        h_child_exit(0);
    }
    return pid;
}

START_TEST(test_frozen_redis_answers_503_within_deadline_and_recovers)
{
    struct h_redis_proc *rp = h_redis_spawn("frozen", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(cfg_path, NULL, url, true);
    h_register(s, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    pid_t sleeper = freeze_redis(rp->pid, 2500);
    long long t0 = h_now_ms();
    int st = h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", "frozen-1");
    long long took = h_now_ms() - t0;
    ck_assert_int_eq(st, 503);
    /* The command deadline (1.5 s) plus slack. */
    ck_assert_int_lt(took, 2000);
    /* A client that gives up before the answer: the server must answer into
     * the void exactly once and stay healthy. */
    for (int i = 0; i < 5; i++) {
        struct http_resp *r = h_http(s, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL);
        h_resp_free(r);
    }
    h_child_wait(sleeper);
    ck_assert(h_wait_status(s, "/readyz", 200, 6000));
    /* The frozen write may have committed after its 503: the retry with the same
     * key is safe either way. */
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", "frozen-1"), 201);
    long long reg, served;
    h_counts(s, "611002", "2026", &reg, &served);
    ck_assert_int_eq(served, 1);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

START_TEST(test_client_hanging_up_while_redis_is_slow_is_harmless)
{
    struct h_redis_proc *rp = h_redis_spawn("hangup", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(cfg_path, NULL, url, true);
    pid_t sleeper = freeze_redis(rp->pid, 800);
    for (int i = 0; i < 10; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)s->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ck_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
        char req[300];
        int n = snprintf(req, sizeof req,
                         "GET /api/v1/coverage HTTP/1.1\r\nHost: x\r\n"
                         "Authorization: Bearer %s\r\n\r\n",
                         T_ADMIN);
        ck_assert_int_eq(write(fd, req, (size_t)n), n);
        h_sleep_ms(20);
        close(fd); /* gone before Redis answers */
    }
    h_child_wait(sleeper);
    ck_assert(h_wait_status(s, "/readyz", 200, 5000));
    h_expect(h_http(s, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL), 200, NULL);
    /* Under AddressSanitizer a use-after-free would have killed the server. */
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resilience");
    TCase *tc = tcase_create("resilience");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_redis_killed_gives_503_then_recovers_without_loss);
    tcase_add_test(tc, test_server_starts_without_redis_and_becomes_ready);
    tcase_add_test(tc, test_two_servers_concurrent_writes_exact_counts);
    tcase_add_test(tc, test_two_servers_racing_same_national_id_register_once);
    tcase_add_test(tc, test_concurrent_status_flips_keep_the_national_id_claim);
    tcase_add_test(tc, test_frozen_redis_answers_503_within_deadline_and_recovers);
    tcase_add_test(tc, test_client_hanging_up_while_redis_is_slow_is_harmless);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
