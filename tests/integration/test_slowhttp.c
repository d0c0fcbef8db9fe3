/* One hostile address against the real gradcoverd, with the attack tool the
 * issue was found with: slowhttptest's slow headers (-H), slow body (-B) and
 * slow read (-X), each at the rates for a few seconds, from
 * 127.0.0.1. Meanwhile a probe bound to a second loopback address
 * (127.0.0.2) keeps making normal requests, and every one must be served
 * within a second: the per-address limit keeps the attacker to its share of
 * the connections. Without it the attack fills max_connections and the
 * probe waits in the kernel's backlog (the test fails). `ctest -L hostile`. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Debian's package `slowhttptest` (scripts/deps.sh --test). */
#define SLOWHTTPTEST "/usr/bin/slowhttptest"
/* The cap the attack must be able to fill without the per-address limit:
 * low, so that it is full within a second or two at 150 connections a second
 * and slowhttptest needs few descriptors. */
#define CAP 200
/* Each attack runs this long (slowhttptest -l); the probe runs as long. */
#define ATTACK_S 8
/* What "served normally" means for the probe (the issue saw 2.7-5 s). */
#define PROBE_MAX_MS 1000
/* The probe's address: another host as far as the server can tell. */
#define PROBE_ADDR "127.0.0.2"

static struct gc_server *srv;

static void setup(void)
{
    h_init();
    h_flushdb();
    ck_assert_msg(access(SLOWHTTPTEST, X_OK) == 0,
                  SLOWHTTPTEST " is missing: install the Debian package slowhttptest");
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "max_connections", json_integer(CAP));
    const char *path = h_write_config(cfg, "slowhttp");
    json_decref(cfg);
    srv = h_start(path, NULL, NULL, true);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

/* A metric's value from /metrics (viewer token, from 127.0.0.1 after the
 * attack); -1 when absent. */
static long long metric(const char *series)
{
    struct http_resp *r = h_http(srv, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "/metrics failed");
    long long v = -1;
    size_t n = strlen(series);
    for (const char *p = r->body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            v = atoll(p + n + 1);
            break;
        }
    h_resp_free(r);
    return v;
}

/* One normal request from PROBE_ADDR on a fresh connection: GET
 * /api/v1/coverage with the admin token. Returns the milliseconds until the
 * whole answer was read, or -1 when none came within timeout_ms; *status
 * gets its status. The answer is checked against docs/openapi.json. */
static long long probe(int timeout_ms, int *status)
{
    static const char req[] = "GET /api/v1/coverage HTTP/1.1\r\nHost: x\r\n"
                              "Authorization: Bearer " T_ADMIN "\r\nConnection: close\r\n\r\n";
    *status = 0;
    long long t0 = h_now_ms();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    inet_pton(AF_INET, PROBE_ADDR, &me.sin_addr);
    ck_assert_msg(bind(fd, (struct sockaddr *)&me, sizeof me) == 0, "bind %s: %s", PROBE_ADDR,
                  strerror(errno));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv->port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    int rc = connect(fd, (struct sockaddr *)&to, sizeof to);
    ck_assert_msg(rc == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
    char buf[64 * 1024];
    size_t len = 0, sent = 0;
    bool eof = false;
    while (!eof && h_now_ms() - t0 < timeout_ms) {
        struct pollfd p = {.fd = fd, .events = sent < sizeof req - 1 ? POLLOUT : POLLIN};
        if (poll(&p, 1, (int)(timeout_ms - (h_now_ms() - t0))) <= 0)
            continue;
        if (sent < sizeof req - 1) {
            ssize_t w = send(fd, req + sent, sizeof req - 1 - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (errno != EAGAIN)
                break;
            continue;
        }
        ssize_t got = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (got > 0)
            len += (size_t)got;
        else if (got == 0 || errno != EAGAIN)
            eof = true;
    }
    close(fd);
    if (!eof || len == 0)
        return -1;
    buf[len] = '\0';
    *status = atoi(buf + 9);
    h_check_wire(req, buf, len);
    return h_now_ms() - t0;
}

/* Runs slowhttptest with args (after the binary; -u and -l are added) from
 * 127.0.0.1 while the probe keeps asking; asserts every probe was served in
 * time. Its output goes to <work>/slowhttptest-<name>.log. */
static void attack(const char *name, const char *path, const char *const *args)
{
    char url[128], len[16], log_path[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv->port, path);
    snprintf(len, sizeof len, "%d", ATTACK_S);
    snprintf(log_path, sizeof log_path, "%s/slowhttptest-%s.log", h_work_dir(), name);
    const char *argv[32] = {SLOWHTTPTEST};
    int n = 1;
    for (int i = 0; args[i] && n < 27; i++)
        argv[n++] = args[i];
    argv[n++] = "-l";
    argv[n++] = len;
    argv[n++] = "-u";
    argv[n++] = url;
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(SLOWHTTPTEST, (char *const *)argv);
        _exit(127);
    }
    long long start = h_now_ms(), worst = 0;
    int probes = 0, status = 0;
    bool running = true;
    while (running || h_now_ms() - start < ATTACK_S * 1000) {
        long long took = probe(h_ms(5000), &status);
        if (took < 0 || status != 200 || took >= PROBE_MAX_MS) {
            kill(-pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("%s: probe %d after %lld ms of attack: %s (status %d; slowhttptest log "
                         "%s)",
                         name, probes, h_now_ms() - start,
                         took < 0 ? "no answer within 5 s" : "too slow", status, log_path);
        }
        worst = took > worst ? took : worst;
        probes++;
        h_sleep_ms(100);
        int st;
        if (running && waitpid(pid, &st, WNOHANG) == pid) {
            running = false;
            ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                          "%s: slowhttptest failed (status %d, log %s)", name, st, log_path);
        }
        if (running && h_now_ms() - start > (ATTACK_S + 20) * 1000) {
            kill(-pid, SIGKILL);
            waitpid(pid, NULL, 0);
            running = false;
        }
    }
    ck_assert_msg(probes >= ATTACK_S * 3, "%s: only %d probes", name, probes);
    fprintf(stderr, "%s: %d probes from %s, worst %lld ms\n", name, probes, PROBE_ADDR, worst);
}

/* The attacker's connections are refused beyond its share, counted by
 * reason, and the refusals are logged with its address. */
static void expect_refused_and_logged(long long before)
{
    long long refused = metric("gradcover_http_connections_refused_total{reason=\"per_address\"}");
    ck_assert_msg(refused > before, "no per-address refusal counted (%lld)", refused);
    FILE *f = fopen(srv->log_path, "r");
    ck_assert(f);
    char line[1024];
    bool logged = false;
    while (!logged && fgets(line, sizeof line, f))
        logged = strstr(line, "event=http_connection_refused") &&
                 strstr(line, "reason=per_address") && strstr(line, "peer=127.0.0.1 ");
    fclose(f);
    ck_assert_msg(logged, "no refusal naming peer=127.0.0.1 in %s", srv->log_path);
}

START_TEST(test_slow_headers_from_one_address_leave_others_served)
{
    static const char *const args[] = {"-H", "-c", "1000", "-r", "150", "-i", "5", NULL};
    attack("headers", "/api/v1/coverage", args);
    expect_refused_and_logged(0);
}
END_TEST

START_TEST(test_slow_body_from_one_address_leaves_others_served)
{
    static const char *const args[] = {
        "-B", "-c", "1000", "-r", "50", "-i", "5", "-s", "8192", "-f", "application/json", NULL};
    attack("body", "/api/v1/contacts", args);
    expect_refused_and_logged(0);
}
END_TEST

START_TEST(test_slow_read_from_one_address_leaves_others_served)
{
    /* A large answer read through a tiny window, repeated on each connection. */
    static const char *const args[] = {"-X", "-c", "1000", "-r", "150", "-k", "4",  "-n",
                                       "2",  "-w", "10",   "-y", "20",  "-z", "32", NULL};
    attack("read", "/api/v1/openapi.json", args);
    expect_refused_and_logged(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slowhttp");
    TCase *tc = tcase_create("slowhttp");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_slow_headers_from_one_address_leave_others_served);
    tcase_add_test(tc, test_slow_body_from_one_address_leaves_others_served);
    tcase_add_test(tc, test_slow_read_from_one_address_leaves_others_served);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
