/* Hostile clients and a frozen Redis, against the real gradcoverd and real
 * redis-servers, over raw sockets: slow heads and bodies cut at their
 * deadlines while other clients are served; the connection cap pausing and
 * resuming the listener; every route answering exactly once with 503 and
 * Retry-After within the Redis deadline + 0.5 s while Redis is stopped
 * (SIGSTOP) or asleep (DEBUG SLEEP), and exact counts after recovery; and
 * malformed requests refused with a JSON error that changes nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gradcover/core/pii.h"
#include "harness.h"
#include "proxy.h"

/* The store's per-command deadline (app.c) and the slack the brief allows. */
#define REDIS_DEADLINE_MS 1500
#define ANSWER_SLACK_MS 500
#define REG_AT "2026-03-01T09:00:00+08:00"
#define CONTACT_AT "2026-03-05T10:30:00+08:00"

static void setup(void)
{
    h_init();
    h_flushdb();
}

/* A configuration file with the defaults plus the given top-level integers
 * (NULL-terminated name/value pairs). */
static const char *config_with(const char *name, ...)
{
    json_t *cfg = h_default_config();
    va_list ap;
    va_start(ap, name);
    for (const char *k = name; k; k = va_arg(ap, const char *))
        json_object_set_new(cfg, k, json_integer(va_arg(ap, int)));
    va_end(ap);
    const char *path = h_write_config(cfg, "hostile");
    json_decref(cfg);
    return path;
}

/* ---- raw connections ---- */

/* A connection to 127.0.0.1:port from the loopback address src (another
 * client as far as the server can tell), or from 127.0.0.1 when NULL. */
static int raw_connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    if (src) {
        struct sockaddr_in me = {.sin_family = AF_INET};
        ck_assert(inet_pton(AF_INET, src, &me.sin_addr) == 1);
        ck_assert_msg(bind(fd, (struct sockaddr *)&me, sizeof me) == 0, "bind %s: %s", src,
                      strerror(errno));
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

static int raw_connect(int port)
{
    return raw_connect_from(NULL, port);
}

static void raw_send(int fd, const char *data, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
        ck_assert_msg(w > 0, "send: %s", strerror(errno));
        off += (size_t)w;
    }
}

/* One client connection and everything the server sent on it. */
struct conn {
    int fd;
    long long sent_ms, done_ms; /* done: the server closed (or timeout) */
    bool eof;
    char *buf;
    size_t len, cap;
};

static void conn_take(struct conn *c)
{
    if (c->len + 4096 + 1 > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8192;
        c->buf = realloc(c->buf, c->cap);
        ck_assert(c->buf);
    }
    ssize_t got = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    if (got <= 0) {
        c->eof = true;
        c->done_ms = h_now_ms();
        return;
    }
    c->len += (size_t)got;
    c->buf[c->len] = '\0';
}

/* Reads every connection until the server closes it or timeout_ms passes. */
static void conn_collect(struct conn *cs, size_t n, int timeout_ms)
{
    long long end = h_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd p[64];
        size_t map[64], np = 0;
        for (size_t i = 0; i < n && np < 64; i++)
            if (!cs[i].eof) {
                p[np] = (struct pollfd){.fd = cs[i].fd, .events = POLLIN};
                map[np++] = i;
            }
        long long left = end - h_now_ms();
        if (np == 0 || left <= 0)
            break;
        int r = poll(p, np, (int)left);
        ck_assert(r >= 0 || errno == EINTR);
        for (size_t k = 0; r > 0 && k < np; k++)
            if (p[k].revents)
                conn_take(&cs[map[k]]);
    }
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
}

/* Responses in what a connection received: status lines ("HTTP/1.1 200 ")
 * at the start or right after the newline that ends our bodies. */
static int responses(const char *buf)
{
    int n = 0;
    for (const char *p = buf ? strstr(buf, "HTTP/1.") : NULL; p; p = strstr(p + 1, "HTTP/1."))
        if ((p == buf || p[-1] == '\n') && p[8] == ' ' && p[9] >= '1' && p[9] <= '5')
            n++;
    return n;
}

static int status_of(const char *buf)
{
    return buf && strncmp(buf, "HTTP/1.", 7) == 0 ? atoi(buf + 9) : 0;
}

/* A response header of the first response, or NULL. */
static const char *header_of(const char *buf, const char *name, char *out, size_t n)
{
    const char *end = buf ? strstr(buf, "\r\n\r\n") : NULL;
    size_t nl = strlen(name);
    for (const char *p = buf ? strstr(buf, "\r\n") : NULL; p && p < end; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ')
                v++;
            size_t len = (size_t)(strstr(v, "\r\n") - v);
            snprintf(out, n, "%.*s", (int)len, v);
            return out;
        }
    return NULL;
}

/* The JSON error code of the first response, or "". Static buffer. */
static const char *error_code_of(const char *buf)
{
    static char code[64];
    code[0] = '\0';
    const char *body = buf ? strstr(buf, "\r\n\r\n") : NULL;
    json_t *j = body ? json_loadb(body + 4, strcspn(body + 4, "\n"), 0, NULL) : NULL;
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(code, sizeof code, "%s", c ? c : "");
    json_decref(j);
    return code;
}

/* Sends raw bytes on a fresh connection and reads until the server closes it
 * or timeout_ms passes. The caller frees with conn_close. */
static struct conn raw_exchange(struct gc_server *s, const char *req, size_t len, int timeout_ms)
{
    struct conn c = {.fd = raw_connect(s->port)};
    c.sent_ms = h_now_ms();
    raw_send(c.fd, req, len);
    conn_collect(&c, 1, timeout_ms);
    return c;
}

static long long metric_in(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return atoll(p + n + 1);
    return -1;
}

/* A metric's value from /metrics (viewer token); -1 when absent. */
static long long metric(struct gc_server *s, const char *series)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "/metrics failed");
    long long v = metric_in(r->body, series);
    h_resp_free(r);
    return v;
}

/* The same, asked from the loopback address src (when 127.0.0.1 may not
 * open another connection). */
static long long metric_from(struct gc_server *s, const char *src, const char *series)
{
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " T_VIEWER
                              "\r\nConnection: close\r\n\r\n";
    struct conn c = {.fd = raw_connect_from(src, s->port)};
    raw_send(c.fd, req, sizeof req - 1);
    conn_collect(&c, 1, 3000);
    ck_assert_msg(status_of(c.buf) == 200, "/metrics from %s failed: %s", src,
                  c.buf ? c.buf : "(nothing)");
    h_check_wire(req, c.buf, c.len);
    long long v = metric_in(strstr(c.buf, "\r\n\r\n"), series);
    conn_close(&c);
    return v;
}

/* Whether the server's log has a line containing every one of the strings
 * (NULL-terminated). */
static bool logged(struct gc_server *s, ...)
{
    FILE *f = fopen(s->log_path, "r");
    ck_assert(f);
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        va_list ap;
        va_start(ap, s);
        found = true;
        for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
            found = found && strstr(line, w);
        va_end(ap);
    }
    fclose(f);
    return found;
}

/* ---- slow clients ---- */

/* Slow-header clients: each sends its request line, then one header line per
 * second and never the empty line. Meanwhile a probe keeps making requests on
 * fresh connections and must be served fast the whole time. */
START_TEST(test_slow_headers_are_cut_at_the_header_deadline_while_others_are_served)
{
    enum { SLOW = 6, HEADER_S = 10 };
    struct gc_server *s = h_start(config_with(NULL), NULL, NULL, true);
    struct conn slow[SLOW];
    long long opened[SLOW];
    for (int i = 0; i < SLOW; i++) {
        slow[i] = (struct conn){.fd = raw_connect(s->port)};
        opened[i] = h_now_ms();
        raw_send(slow[i].fd, "GET /healthz HTTP/1.1\r\n", 23);
    }
    long long start = h_now_ms(), next_line = start + 1000, worst_probe = 0;
    int probes = 0, lines = 0;
    bool open = true;
    while (open && h_now_ms() - start < (HEADER_S + 5) * 1000) {
        long long t0 = h_now_ms();
        struct http_resp *r = h_http(s, "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL);
        long long took = h_now_ms() - t0;
        ck_assert_msg(r && r->status == 200, "probe %d failed during the slow-header attack",
                      probes);
        h_resp_free(r);
        worst_probe = took > worst_probe ? took : worst_probe;
        probes++;
        if (h_now_ms() >= next_line) {
            char line[40];
            int n = snprintf(line, sizeof line, "X-Drip-%d: x\r\n", lines++);
            for (int i = 0; i < SLOW; i++)
                if (!slow[i].eof)
                    send(slow[i].fd, line, (size_t)n, MSG_NOSIGNAL);
            next_line += 1000;
        }
        conn_collect(slow, SLOW, 200);
        open = false;
        for (int i = 0; i < SLOW; i++)
            open = open || !slow[i].eof;
    }
    for (int i = 0; i < SLOW; i++) {
        ck_assert_msg(slow[i].eof, "slow client %d still connected after %d s", i, HEADER_S + 5);
        long long held = slow[i].done_ms - opened[i];
        /* Cut by the deadline (not before it), with slack for a loaded machine. */
        ck_assert_msg(held >= HEADER_S * 1000 - 500 && held <= HEADER_S * 1000 + 2000,
                      "slow client %d held its connection %lld ms", i, held);
        ck_assert_msg(slow[i].len == 0, "a slow client got an answer: %s", slow[i].buf);
        conn_close(&slow[i]);
    }
    ck_assert_int_ge(lines, HEADER_S - 2); /* it really dripped all along */
    ck_assert_int_ge(probes, 20);
    ck_assert_msg(worst_probe < 1000, "a probe took %lld ms", worst_probe);
    ck_assert_int_eq(
        metric(s, "gradcover_http_connections_closed_total{reason=\"header_timeout\"}"), SLOW);
    ck_assert_msg(logged(s, "event=http_deadline deadline=header", "peer=127.0.0.1 ", NULL),
                  "deadline closes do not name the peer (%s)", s->log_path);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_slow_body_is_cut_at_the_body_deadline)
{
    struct gc_server *s = h_start(config_with("body_timeout_seconds", 3, NULL), NULL, NULL, true);
    h_register(s, T_C611002, "G1", "611002", 1, REG_AT);
    struct conn c = {.fd = raw_connect(s->port)};
    char head[300];
    int n = snprintf(head, sizeof head,
                     "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{",
                     T_C611002);
    raw_send(c.fd, head, (size_t)n);
    long long t0 = h_now_ms();
    while (!c.eof && h_now_ms() - t0 < 8000) {
        send(c.fd, " ", 1, MSG_NOSIGNAL); /* one byte of body a second */
        conn_collect(&c, 1, 1000);
    }
    ck_assert_msg(c.eof, "the slow body was not cut");
    long long held = c.done_ms - t0;
    ck_assert_msg(held >= 2500 && held <= 5000, "slow body held %lld ms (deadline 3 s)", held);
    conn_close(&c);
    ck_assert_int_eq(metric(s, "gradcover_http_connections_closed_total{reason=\"body_timeout\"}"),
                     1);
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt c:job_referral"), 0);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* A keep-alive connection may idle between requests (evhttp's idle timeout),
 * but the next head is due within the header deadline of its first byte. */
START_TEST(test_keep_alive_then_slow_second_head_is_cut)
{
    struct gc_server *s = h_start(config_with("header_timeout_seconds", 2, NULL), NULL, NULL, true);
    struct conn c = {.fd = raw_connect(s->port)};
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(c.fd, req, sizeof req - 1);
    conn_collect(&c, 1, 500);
    ck_assert_int_eq(status_of(c.buf), 200);
    h_check_wire(req, c.buf, c.len);
    h_sleep_ms(3000); /* idle longer than the header deadline: still open */
    c.len = 0;
    raw_send(c.fd, req, sizeof req - 1);
    conn_collect(&c, 1, 500);
    ck_assert_msg(!c.eof && status_of(c.buf) == 200, "idle keep-alive connection was closed");
    h_check_wire(req, c.buf, c.len);
    c.len = 0;
    long long t0 = h_now_ms();
    raw_send(c.fd, "GET /healthz HTTP/1.1\r\n", 23);
    while (!c.eof && h_now_ms() - t0 < 6000) {
        send(c.fd, "X-A: b\r\n", 8, MSG_NOSIGNAL);
        conn_collect(&c, 1, 500);
    }
    ck_assert(c.eof);
    long long held = c.done_ms - t0;
    ck_assert_msg(held >= 1500 && held <= 4000, "second head held %lld ms (deadline 2 s)", held);
    conn_close(&c);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* ---- the connection cap ---- */

START_TEST(test_connection_cap_pauses_accepting_and_recovers)
{
    enum { CAP = 20 };
    /* A header deadline longer than the test: the idle clients stay. */
    struct gc_server *s = h_start(
        config_with("max_connections", CAP, "header_timeout_seconds", 30, NULL), NULL, NULL, true);
    ck_assert_int_eq(metric(s, "gradcover_http_connections_max"), CAP);
    /* Only the scrape's own connection is open (earlier ones are gone). */
    for (int i = 0; i < 50 && metric(s, "gradcover_http_connections") != 1; i++)
        h_sleep_ms(20);
    ck_assert_int_eq(metric(s, "gradcover_http_connections"), 1);
    struct conn idle[CAP];
    for (int i = 0; i < CAP; i++)
        idle[i] = (struct conn){.fd = raw_connect(s->port)};
    h_sleep_ms(300);
    /* The kernel still completes the handshake (backlog), but nobody answers. */
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    struct conn extra = {.fd = raw_connect(s->port)};
    extra.sent_ms = h_now_ms();
    raw_send(extra.fd, req, sizeof req - 1);
    conn_collect(&extra, 1, 1000);
    ck_assert_msg(extra.len == 0 && !extra.eof, "connection %d was served above the cap: %s",
                  CAP + 1, extra.buf ? extra.buf : "(closed)");
    /* Five idle clients leave: accepting resumes and the waiting one is served. */
    for (int i = 0; i < 5; i++)
        conn_close(&idle[i]);
    conn_collect(&extra, 1, 3000);
    ck_assert_msg(responses(extra.buf) == 1 && status_of(extra.buf) == 200,
                  "the waiting connection was not served after recovery: %s",
                  extra.buf ? extra.buf : "(nothing)");
    h_check_wire(req, extra.buf, extra.len);
    conn_close(&extra);
    h_expect(h_http(s, "GET", "/healthz", NULL, NULL, NULL), 200, NULL);
    ck_assert_int_ge(metric(s, "gradcover_http_connection_limit_reached_total"), 1);
    for (int i = 5; i < CAP; i++)
        conn_close(&idle[i]);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* One address may hold max_connections_per_address connections; one more is
 * closed at once without an answer, counted and logged with its address.
 * Another address is served meanwhile, a trusted proxy is never limited, and
 * once the address closes one connection it may open another. */
START_TEST(test_per_address_limit_closes_the_extra_connection_only)
{
    enum { LIMIT = 5 };
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "max_connections_per_address", json_integer(LIMIT));
    json_object_set_new(cfg, "header_timeout_seconds", json_integer(30));
    json_object_set_new(cfg, "trusted_proxies", json_pack("[s]", "127.0.0.3"));
    const char *path = h_write_config(cfg, "hostile-per-address");
    json_decref(cfg);
    struct gc_server *s = h_start(path, NULL, NULL, true);
    ck_assert_int_eq(metric(s, "gradcover_http_connections_per_address_max"), LIMIT);
    /* The harness's own connections are gone before the count starts. */
    for (int i = 0; i < 50 && metric_from(s, "127.0.0.2", "gradcover_http_connections") != 1; i++)
        h_sleep_ms(20);
    struct conn held[LIMIT];
    for (int i = 0; i < LIMIT; i++)
        held[i] = (struct conn){.fd = raw_connect(s->port)};
    h_sleep_ms(200);
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    struct conn extra = {.fd = raw_connect(s->port)};
    extra.sent_ms = h_now_ms();
    raw_send(extra.fd, req, sizeof req - 1);
    conn_collect(&extra, 1, 2000);
    ck_assert_msg(extra.eof && extra.len == 0, "connection %d from 127.0.0.1 was served: %s",
                  LIMIT + 1, extra.buf ? extra.buf : "(still open)");
    ck_assert_msg(extra.done_ms - extra.sent_ms < 1000, "closed after %lld ms",
                  extra.done_ms - extra.sent_ms);
    conn_close(&extra);
    /* Another address is served. */
    ck_assert_int_eq(
        metric_from(s, "127.0.0.2",
                    "gradcover_http_connections_refused_total{reason=\"per_address\"}"),
        1);
    /* A trusted proxy carries many clients: more than LIMIT connections, all served. */
    struct conn proxy[LIMIT + 2];
    for (int i = 0; i < LIMIT + 2; i++) {
        proxy[i] = (struct conn){.fd = raw_connect_from("127.0.0.3", s->port)};
        raw_send(proxy[i].fd, req, sizeof req - 1);
    }
    conn_collect(proxy, LIMIT + 2, 3000);
    for (int i = 0; i < LIMIT + 2; i++) {
        ck_assert_msg(status_of(proxy[i].buf) == 200, "proxy connection %d: %s", i,
                      proxy[i].buf ? proxy[i].buf : "(nothing)");
        h_check_wire(req, proxy[i].buf, proxy[i].len);
        conn_close(&proxy[i]);
    }
    /* One of the address's connections closes: it may open another. */
    conn_close(&held[0]);
    h_sleep_ms(200);
    struct conn again = raw_exchange(s, req, sizeof req - 1, 2000);
    ck_assert_msg(status_of(again.buf) == 200, "no connection after one closed: %s",
                  again.buf ? again.buf : "(nothing)");
    h_check_wire(req, again.buf, again.len);
    conn_close(&again);
    ck_assert_int_eq(
        metric_from(s, "127.0.0.2",
                    "gradcover_http_connections_refused_total{reason=\"per_address\"}"),
        1);
    ck_assert_msg(
        logged(s, "event=http_connection_refused reason=per_address", "peer=127.0.0.1 ", NULL),
        "the refusal is not logged with its address (%s)", s->log_path);
    for (int i = 1; i < LIMIT; i++)
        conn_close(&held[i]);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* Above 80% of max_connections new heads are due within 3 s instead of
 * header_timeout_seconds; connections opened before keep their deadline. */
START_TEST(test_head_deadline_tightens_under_pressure)
{
    enum { CAP = 10, CALM = 8 };
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "max_connections", json_integer(CAP));
    json_object_set_new(cfg, "header_timeout_seconds", json_integer(10));
    const char *path = h_write_config(cfg, "hostile-pressure");
    json_decref(cfg);
    struct gc_server *s = h_start(path, NULL, NULL, true);
    for (int i = 0; i < 50 && metric(s, "gradcover_http_connections") != 1; i++)
        h_sleep_ms(20);
    h_sleep_ms(100); /* the scrape's own connection is gone too */
    struct conn c[CAP];
    long long opened[CAP];
    for (int i = 0; i < CAP; i++) {
        c[i] = (struct conn){.fd = raw_connect(s->port)};
        opened[i] = h_now_ms();
        raw_send(c[i].fd, "GET /healthz HTTP/1.1\r\n", 23); /* and never the rest */
        h_sleep_ms(20);
    }
    conn_collect(c, CAP, 5000);
    for (int i = 0; i < CAP; i++) {
        if (i < CALM) {
            ck_assert_msg(!c[i].eof, "connection %d (at most 80%% open) cut after %lld ms", i,
                          h_now_ms() - opened[i]);
        } else {
            ck_assert_msg(c[i].eof, "connection %d (over 80%% open) not cut within 5 s", i);
            long long held = c[i].done_ms - opened[i];
            ck_assert_msg(held >= 2500 && held <= 4500, "connection %d cut after %lld ms (3 s)", i,
                          held);
            ck_assert_msg(c[i].len == 0, "connection %d got an answer: %s", i, c[i].buf);
        }
    }
    for (int i = 0; i < CAP; i++)
        conn_close(&c[i]);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* ---- Redis frozen ---- */

struct kind {
    const char *name;
    const char *method, *path, *token, *body, *extra_header;
    int status;       /* while Redis is frozen */
    const char *code; /* its JSON error code, or NULL */
};

/* One request of every kind, writes and reads, with the ids and keys the
 * retries after recovery reuse. */
static const struct kind kinds[] = {
    {"register (admin)", "POST", "/api/v1/graduates", T_ADMIN,
     "{\"id\":\"F1\",\"county\":\"611002\",\"name\":\"x\",\"national_id\":\"%NID50%\"}", NULL, 503,
     "redis_unavailable"},
    {"register (counselor)", "POST", "/api/v1/graduates", T_C611002,
     "{\"id\":\"F2\",\"name\":\"x\",\"national_id\":\"%NID51%\"}", NULL, 503, "redis_unavailable"},
    {"status (admin, located)", "POST", "/api/v1/graduates/G1/status", T_ADMIN,
     "{\"status\":\"employed\"}", NULL, 503, "redis_unavailable"},
    {"status (counselor, back to seeking)", "POST", "/api/v1/graduates/G3/status", T_C611002,
     "{\"status\":\"seeking\"}", NULL, 503, "redis_unavailable"},
    {"contact (counselor)", "POST", "/api/v1/contacts", T_C611002,
     "{\"graduate_id\":\"G2\",\"service\":\"job_referral\",\"occurred_at\":\"" CONTACT_AT "\"}",
     "Idempotency-Key: frozen-k1", 503, "redis_unavailable"},
    {"contact (admin, located)", "POST", "/api/v1/contacts", T_ADMIN,
     "{\"graduate_id\":\"G1\",\"service\":\"job_referral\",\"occurred_at\":\"" CONTACT_AT "\"}",
     "Idempotency-Key: frozen-k2", 503, "redis_unavailable"},
    {"graduate (admin)", "GET", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL, 503,
     "redis_unavailable"},
    {"graduate (counselor)", "GET", "/api/v1/graduates/G1", T_C611002, NULL, NULL, 503,
     "redis_unavailable"},
    {"lookup by national id", "GET", "/api/v1/graduates?national_id=%NID1%", T_ADMIN, NULL, NULL,
     503, "redis_unavailable"},
    {"contacts list (batch)", "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL, 503,
     "redis_unavailable"},
    {"coverage (batch)", "GET", "/api/v1/coverage", T_ADMIN, NULL, NULL, 503, "redis_unavailable"},
    {"county coverage", "GET", "/api/v1/counties/611002/coverage", T_L611002, NULL, NULL, 503,
     "redis_unavailable"},
    {"queue", "GET", "/api/v1/counties/611002/queue", T_C611002, NULL, NULL, 503,
     "redis_unavailable"},
    {"alerts (two rounds)", "GET", "/api/v1/alerts", T_ADMIN, NULL, NULL, 503, "redis_unavailable"},
    {"readyz", "GET", "/readyz", NULL, NULL, NULL, 503, "redis_unavailable"},
    {"metrics (no county series)", "GET", "/metrics", T_VIEWER, NULL, NULL, 200, NULL},
    {"healthz", "GET", "/healthz", NULL, NULL, NULL, 200, NULL},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* kinds[i]'s text with %NIDn% replaced by h_natid(n). */
static void expand(const char *in, char *out, size_t n)
{
    const char *p = in ? strstr(in, "%NID") : NULL;
    if (!p) {
        snprintf(out, n, "%s", in ? in : "");
        return;
    }
    int seq = atoi(p + 4);
    const char *rest = strchr(p + 4, '%') + 1;
    snprintf(out, n, "%.*s%s%s", (int)(p - in), in, h_natid(seq), rest);
}

static size_t build_request(const struct kind *k, char *out, size_t n)
{
    char path[200], body[400], auth[100] = "", extra[100] = "";
    expand(k->path, path, sizeof path);
    expand(k->body, body, sizeof body);
    if (k->token)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", k->token);
    if (k->extra_header)
        snprintf(extra, sizeof extra, "%s\r\n", k->extra_header);
    int w = snprintf(out, n,
                     "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     k->method, path, auth, extra, strlen(body), body);
    ck_assert(w > 0 && (size_t)w < n);
    return (size_t)w;
}

/* Graduates G1, G2 (seeking), G3 (employed) and one contact for G1. */
static void seed(struct gc_server *s)
{
    h_register(s, T_C611002, "G1", "611002", 1, REG_AT);
    h_register(s, T_C611002, "G2", "611002", 2, REG_AT);
    h_register(s, T_C611002, "G3", "611002", 3, REG_AT);
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", CONTACT_AT, "seed-1"), 201);
    h_expect(h_http(s, "POST", "/api/v1/graduates/G3/status", T_C611002,
                    "{\"status\":\"employed\"}", NULL),
             200, NULL);
}

/* Sends every kind at once on its own connection while Redis does not
 * answer, and checks each answer: exactly one, the expected status and code,
 * Retry-After on 503, within the deadline + slack of its own sending. */
static void frozen_batch(struct gc_server *s)
{
    struct conn c[NKINDS];
    for (size_t i = 0; i < NKINDS; i++) {
        char req[1024];
        size_t n = build_request(&kinds[i], req, sizeof req);
        c[i] = (struct conn){.fd = raw_connect(s->port)};
        c[i].sent_ms = h_now_ms();
        raw_send(c[i].fd, req, n);
    }
    /* Longer than any answer may take: a second answer would show up too. */
    conn_collect(c, NKINDS, REDIS_DEADLINE_MS + ANSWER_SLACK_MS + 1500);
    for (size_t i = 0; i < NKINDS; i++) {
        const struct kind *k = &kinds[i];
        ck_assert_msg(c[i].eof, "%s: not answered and closed", k->name);
        long long took = c[i].done_ms - c[i].sent_ms;
        ck_assert_msg(responses(c[i].buf) == 1, "%s: %d answers: %s", k->name, responses(c[i].buf),
                      c[i].buf ? c[i].buf : "");
        ck_assert_msg(status_of(c[i].buf) == k->status, "%s: status %d, expected %d: %s", k->name,
                      status_of(c[i].buf), k->status, c[i].buf);
        char req[1024];
        build_request(k, req, sizeof req);
        h_check_wire(req, c[i].buf, c[i].len);
        ck_assert_msg(took <= REDIS_DEADLINE_MS + ANSWER_SLACK_MS, "%s: answered after %lld ms",
                      k->name, took);
        char ra[16];
        if (k->status == 503) {
            ck_assert_msg(header_of(c[i].buf, "Retry-After", ra, sizeof ra) && atoi(ra) > 0,
                          "%s: 503 without Retry-After", k->name);
            ck_assert_str_eq(error_code_of(c[i].buf), k->code);
        }
        if (strcmp(k->path, "/metrics") == 0) {
            ck_assert_ptr_nonnull(strstr(c[i].buf, "\ngradcover_redis_connected 0\n"));
            ck_assert_ptr_null(strstr(c[i].buf, "\ngradcover_registered_graduates{"));
        }
        conn_close(&c[i]);
    }
}

/* After Redis is back: every write retried with its id or key succeeds, and
 * nothing was committed twice. */
static void check_recovery(struct gc_server *s, int redis_port)
{
    ck_assert_msg(h_wait_status(s, "/readyz", 200, 8000), "no recovery after Redis came back");
    for (size_t i = 0; i < NKINDS; i++) {
        const struct kind *k = &kinds[i];
        if (strcmp(k->method, "POST") != 0)
            continue;
        char req[1024];
        size_t n = build_request(k, req, sizeof req);
        struct conn c = raw_exchange(s, req, n, 5000);
        int st = status_of(c.buf);
        h_check_wire(req, c.buf, c.len);
        /* A write that committed after its 503 is found again (200 for a
         * registration, a replay for a keyed contact). */
        ck_assert_msg(st == 200 || st == 201, "retry of %s: %s", k->name, c.buf ? c.buf : "");
        conn_close(&c);
    }
    long long reg, srv;
    h_counts(s, "611002", "2026", &reg, &srv);
    ck_assert_int_eq(reg, 5); /* G1..G3, F1, F2 */
    ck_assert_int_eq(srv, 2); /* G1, G2 */
    redisContext *rc = redisConnect("127.0.0.1", redis_port);
    ck_assert(rc && !rc->err);
    redisReply *r = redisCommand(rc, "HGET gc:{611002}:cnt c:job_referral");
    ck_assert(r && r->type == REDIS_REPLY_STRING);
    ck_assert_int_eq(atoll(r->str), 3); /* seed + frozen-k1 + frozen-k2, once each */
    freeReplyObject(r);
    r = redisCommand(rc, "LLEN gc:{611002}:contacts:G1");
    ck_assert_int_eq(r->integer, 2);
    freeReplyObject(r);
    redisFree(rc);
    struct http_resp *g = h_http(s, "GET", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(g->json, "status")), "employed");
    h_resp_free(g);
    g = h_http(s, "GET", "/api/v1/graduates/G3", T_ADMIN, NULL, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(g->json, "status")), "seeking");
    h_resp_free(g);
}

START_TEST(test_redis_stopped_every_route_answers_once_in_time_then_recovers)
{
    struct h_redis_proc *rp = h_redis_spawn("hostile-stop", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(config_with(NULL), NULL, url, true);
    seed(s);
    ck_assert_int_eq(kill(rp->pid, SIGSTOP), 0);
    long long frozen = h_now_ms();
    frozen_batch(s);
    /* Redis stays stopped for 5 s in all. */
    long long left = 5000 - (h_now_ms() - frozen);
    if (left > 0)
        h_sleep_ms((int)left);
    ck_assert_int_eq(kill(rp->pid, SIGCONT), 0);
    check_recovery(s, rp->port);
    /* Under AddressSanitizer a double answer or a use-after-free aborts. */
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

START_TEST(test_redis_debug_sleep_every_route_answers_once_in_time_then_recovers)
{
    static const char *const debug[] = {"--enable-debug-command", "yes", NULL};
    struct h_redis_proc *rp = h_redis_spawn_args("hostile-sleep", 0, true, debug);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(config_with(NULL), NULL, url, true);
    seed(s);
    /* DEBUG SLEEP 5 on a connection of its own; its +OK comes after 5 s. */
    int sleeper = raw_connect(rp->port);
    static const char cmd[] = "*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$1\r\n5\r\n";
    raw_send(sleeper, cmd, sizeof cmd - 1);
    h_sleep_ms(100); /* Redis is asleep now */
    frozen_batch(s);
    struct conn ok = {.fd = sleeper};
    conn_collect(&ok, 1, 8000);
    ck_assert_msg(ok.buf && strncmp(ok.buf, "+OK", 3) == 0, "DEBUG SLEEP did not finish");
    conn_close(&ok);
    check_recovery(s, rp->port);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

/* ---- Redis slow: every step answers, late ---- */

/* Each store step takes 1 s: one-step requests succeed (late), and those of
 * two or more steps answer 503 when the request's 1.5 s of Redis time is
 * spent, instead of 2 s or more (a read of personal data is two: its audit
 * entry is written before the answer goes out). 1 s and not more: a one-step
 * request keeps half a second for the server itself, which valgrind needs. */
START_TEST(test_slow_redis_every_request_answers_within_one_deadline)
{
    struct h_redis_proc *rp = h_redis_spawn("hostile-slow", 0, true);
    char direct[64], slow[64];
    int pport = h_free_port();
    snprintf(direct, sizeof direct, "redis://127.0.0.1:%d/0", rp->port);
    snprintf(slow, sizeof slow, "redis://127.0.0.1:%d/0", pport);
    pid_t proxy = slow_proxy(pport, rp->port, 1000);
    const char *cfg = config_with(NULL);
    struct gc_server *fast = h_start(cfg, NULL, direct, true);
    h_register(fast, T_C611002, "G1", "611002", 1, REG_AT);
    struct gc_server *s = h_start(cfg, NULL, slow, true);
    static const struct {
        const char *name, *method, *path, *token, *body;
        bool multi; /* two or more store steps */
    } reqs[] = {
        {"register: claim, county step", "POST", "/api/v1/graduates", T_ADMIN,
         "{\"id\":\"S1\",\"county\":\"611002\",\"name\":\"x\",\"national_id\":\"%NID60%\"}", true},
        {"graduate: locate, read", "GET", "/api/v1/graduates/G1", T_ADMIN, NULL, true},
        /* Personal data: the read, then its audit entry before the answer. */
        {"graduate: read, audit entry", "GET", "/api/v1/graduates/G1", T_C611002, NULL, true},
        {"audit trail: one read", "GET", "/api/v1/audit?county=611002", T_ADMIN, NULL, false},
        {"healthz", "GET", "/healthz", NULL, NULL, false},
    };
    enum { N = sizeof reqs / sizeof reqs[0] };
    struct conn c[N];
    char req[N][1024];
    for (int i = 0; i < N; i++) {
        struct kind k = {
            reqs[i].name, reqs[i].method, reqs[i].path, reqs[i].token, reqs[i].body, NULL, 0, NULL};
        size_t n = build_request(&k, req[i], sizeof req[i]);
        c[i] = (struct conn){.fd = raw_connect(s->port)};
        c[i].sent_ms = h_now_ms();
        raw_send(c[i].fd, req[i], n);
    }
    conn_collect(c, N, 5000);
    for (int i = 0; i < N; i++) {
        long long took = c[i].done_ms - c[i].sent_ms;
        ck_assert_msg(c[i].eof && responses(c[i].buf) == 1, "%s: %d answers", reqs[i].name,
                      responses(c[i].buf));
        ck_assert_msg(took <= REDIS_DEADLINE_MS + ANSWER_SLACK_MS, "%s: answered after %lld ms",
                      reqs[i].name, took);
        int st = status_of(c[i].buf);
        h_check_wire(req[i], c[i].buf, c[i].len);
        if (reqs[i].multi) {
            char ra[16];
            ck_assert_msg(st == 503 && header_of(c[i].buf, "Retry-After", ra, sizeof ra), "%s: %s",
                          reqs[i].name, c[i].buf);
        } else {
            ck_assert_msg(st == 200, "%s: %s", reqs[i].name, c[i].buf);
        }
        conn_close(&c[i]);
    }
    ck_assert_int_eq(h_stop(s), 0);
    kill(proxy, SIGKILL);
    waitpid(proxy, NULL, 0);
    /* The registration's county step was sent and ran after its 503: a retry
     * finds it, and it counts once. */
    char body[200];
    snprintf(body, sizeof body,
             "{\"id\":\"S1\",\"county\":\"611002\",\"name\":\"x\",\"national_id\":\"%s\"}",
             h_natid(60));
    struct http_resp *r = h_http(fast, "POST", "/api/v1/graduates", T_ADMIN, body, NULL);
    ck_assert_msg(r && (r->status == 200 || r->status == 201), "retry: %s", r ? r->body : "");
    h_resp_free(r);
    long long reg, srv;
    h_counts(fast, "611002", "2026", &reg, &srv);
    ck_assert_int_eq(reg, 2);
    ck_assert_int_eq(h_stop(fast), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

/* ---- malformed requests ---- */

/* The registration's alert event has been read and acknowledged by the
 * notifier (no lag, nothing pending): until then the outbox stream changes by
 * itself, which a digest taken too early would count as the request's doing
 * (seen under valgrind, where delivery takes longer than the next request). */
static void wait_outbox_settled(void)
{
    long long until = h_now_ms() + h_ms(10000);
    for (;;) {
        redisReply *g = redisCommand(h_redis(), "XINFO GROUPS gc:{611002}:outbox");
        long long pending = -1, lag = -1;
        for (size_t i = 0; g && g->type == REDIS_REPLY_ARRAY && i < g->elements; i++) {
            redisReply *e = g->element[i];
            for (size_t k = 0; e->type == REDIS_REPLY_ARRAY && k + 1 < e->elements; k += 2) {
                if (strcmp(e->element[k]->str, "pending") == 0)
                    pending = e->element[k + 1]->integer;
                if (strcmp(e->element[k]->str, "lag") == 0)
                    lag = e->element[k + 1]->type == REDIS_REPLY_INTEGER
                              ? e->element[k + 1]->integer
                              : -1;
            }
        }
        bool no_group = g && g->type == REDIS_REPLY_ERROR; /* no outbox: nothing to wait for */
        freeReplyObject(g);
        if (no_group || (pending == 0 && lag == 0))
            return;
        ck_assert_msg(h_now_ms() < until,
                      "the alert event was not delivered (pending %lld, lag %lld)", pending, lag);
        h_sleep_ms(20);
    }
}

/* What must not change: the counters and every key of the database. */
static char *db_digest(struct gc_server *s)
{
    wait_outbox_settled();
    long long reg, srv;
    h_counts(s, "611002", "2026", &reg, &srv);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    fprintf(f, "reg=%lld srv=%lld job=%lld list=%lld\n", reg, srv,
            h_redis_int("HGET gc:{611002}:cnt c:job_referral"),
            h_redis_int("LLEN gc:{611002}:contacts:G1"));
    redisReply *keys = redisCommand(h_redis(), "KEYS *");
    ck_assert(keys && keys->type == REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *d = redisCommand(h_redis(), "DUMP %s", keys->element[i]->str);
        char hex[65] = "-";
        if (d && d->type == REDIS_REPLY_STRING)
            gc_sha256_hex(d->str, d->len, hex);
        fprintf(f, "%s %.16s\n", keys->element[i]->str, hex);
        freeReplyObject(d);
    }
    freeReplyObject(keys);
    fclose(f);
    return out;
}

struct bad {
    const char *name;
    const char *head; /* up to the empty line; %A = the counselor's Authorization line,
                         %L = the body's length */
    size_t head_len;  /* 0: strlen (heads with NUL bytes give theirs) */
    const char *body; /* sent after the head, may be NULL */
    int status;
    const char *code;
    bool closes; /* the connection is closed after the answer */
};

/* A valid contact for G1: accepted, it would change the counts. */
#define GOOD_BODY "{\"graduate_id\":\"G1\",\"service\":\"job_referral\"}"
#define CT "Content-Type: application/json\r\n"
/* Requests the server answers without closing ask for the close themselves. */
#define CLOSE "Connection: close\r\n"
#define POST_CONTACT "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\n%A" CT

#define NUL_HEAD(s) s, sizeof s - 1

static const struct bad bads[] = {
    {"duplicate Content-Length, same value",
     POST_CONTACT "Content-Length: %L\r\n"
                  "Content-Length: %L\r\n\r\n",
     0, GOOD_BODY, 400, "bad_request", true},
    {"duplicate Content-Length, conflicting",
     POST_CONTACT "Content-Length: %L\r\n"
                  "Content-Length: 10\r\n\r\n",
     0, GOOD_BODY, 400, "bad_request", true},
    {"Transfer-Encoding with Content-Length",
     POST_CONTACT "Content-Length: %L\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
     "2d\r\n" GOOD_BODY "\r\n0\r\n\r\n", 400, "bad_request", true},
    {"Transfer-Encoding other than chunked",
     POST_CONTACT "Transfer-Encoding: gzip\r\nContent-Length: %L\r\n\r\n", 0, GOOD_BODY, 501,
     "not_implemented", true},
    {"NUL in a header value",
     NUL_HEAD(POST_CONTACT "Content-Length: %L\r\nIdempotency-Key: a\0b\r\n\r\n"), GOOD_BODY, 400,
     "bad_request", true},
    {"NUL in a header name", NUL_HEAD(POST_CONTACT "Content-Length: %L\r\nX-A\0b: c\r\n\r\n"),
     GOOD_BODY, 400, "bad_request", true},
    {"NUL in the request line",
     NUL_HEAD("POST /api/v1/contacts\0 HTTP/1.1\r\nHost: x\r\n%A" CT "Content-Length: %L\r\n\r\n"),
     GOOD_BODY, 400, "bad_request", true},
    {"%00 in a path parameter",
     "GET /api/v1/graduates/G1%00x/contacts HTTP/1.1\r\nHost: x\r\n" CLOSE "%A\r\n", 0, NULL, 400,
     "bad_request", false},
    {"%00 in a fixed path segment",
     "POST /api/v1/con%00tacts HTTP/1.1\r\nHost: x\r\n" CLOSE "%A" CT "Content-Length: %L\r\n\r\n",
     0, GOOD_BODY, 400, "bad_request", false},
    {"%00 in the query",
     "GET /api/v1/coverage?period=2026%00 HTTP/1.1\r\nHost: x\r\n" CLOSE "%A\r\n", 0, NULL, 400,
     "bad_request", false},
    {"HTTP/1.1 without Host",
     "POST /api/v1/contacts HTTP/1.1\r\n" CLOSE "%A" CT "Content-Length: %L\r\n\r\n", 0, GOOD_BODY,
     400, "bad_request", false},
    {"two Host fields", POST_CONTACT "Host: y\r\nContent-Length: %L\r\n\r\n", 0, GOOD_BODY, 400,
     "bad_request", true},
    {"wrong Content-Type",
     "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\n" CLOSE "%AContent-Type: text/plain\r\n"
     "Content-Length: %L\r\n\r\n",
     0, GOOD_BODY, 415, "unsupported_media_type", false},
    {"whitespace before the colon", POST_CONTACT "Content-Length : 46\r\n\r\n", 0, GOOD_BODY, 400,
     "bad_request", true},
    {"obsolete line folding", POST_CONTACT "Content-Length: %L\r\nX-A: a\r\n b\r\n\r\n", 0,
     GOOD_BODY, 400, "bad_request", true},
    {"Content-Length not a number", POST_CONTACT "Content-Length: 4x\r\n\r\n", 0, GOOD_BODY, 400,
     "bad_request", true},
    {"unknown method", "PROPFIND /api/v1/contacts HTTP/1.1\r\nHost: x\r\n%A\r\n", 0, NULL, 501,
     "not_implemented", true},
    /* Chunked request bodies are refused before any chunk is read: with them
     * the lenient chunk parsing (0x2e, " 2e ", no CRLF after the data) never
     * runs. */
    {"chunked body", POST_CONTACT "Transfer-Encoding: chunked\r\n\r\n", 0,
     "2d\r\n" GOOD_BODY "\r\n0\r\n\r\n", 411, "length_required", true},
    {"chunk size 0x2d", POST_CONTACT "Transfer-Encoding: chunked\r\n\r\n", 0,
     "0x2d\r\n" GOOD_BODY "\r\n0\r\n\r\n", 411, "length_required", true},
    {"chunk size with spaces", POST_CONTACT "Transfer-Encoding: chunked\r\n\r\n", 0,
     " 2d \r\n" GOOD_BODY "\r\n0\r\n\r\n", 411, "length_required", true},
    {"no CRLF after the chunk data", POST_CONTACT "Transfer-Encoding: chunked\r\n\r\n", 0,
     "2d\r\n" GOOD_BODY "0\r\n\r\n", 411, "length_required", true},
    {"Transfer-Encoding on HTTP/1.0",
     "POST /api/v1/contacts HTTP/1.0\r\nHost: x\r\n%A" CT "Transfer-Encoding: chunked\r\n\r\n", 0,
     "2d\r\n" GOOD_BODY "\r\n0\r\n\r\n", 400, "bad_request", true},
    /* A front end reading the last one would disagree with us about who calls. */
    {"two Authorization fields",
     POST_CONTACT "Authorization: Bearer " T_ADMIN "\r\nContent-Length: %L\r\n\r\n", 0, GOOD_BODY,
     400, "bad_request", true},
    {"two Authorization fields, the first empty",
     "GET /api/v1/coverage HTTP/1.1\r\nHost: x\r\nAuthorization:\r\n%A\r\n", 0, NULL, 400,
     "bad_request", true},
};
#define NBADS (sizeof bads / sizeof bads[0])

static size_t build_bad(const struct bad *b, char *out, size_t n)
{
    size_t hl = b->head_len ? b->head_len : strlen(b->head);
    char auth[80];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", T_C611002);
    size_t w = 0;
    for (size_t i = 0; i < hl; i++) {
        if (b->head[i] == '%' && i + 1 < hl && b->head[i + 1] == 'A') {
            memcpy(out + w, auth, strlen(auth));
            w += strlen(auth);
            i++;
        } else if (b->head[i] == '%' && i + 1 < hl && b->head[i + 1] == 'L') {
            w += (size_t)sprintf(out + w, "%zu", b->body ? strlen(b->body) : 0);
            i++;
        } else {
            out[w++] = b->head[i];
        }
        ck_assert(w + 200 < n);
    }
    if (b->body) {
        memcpy(out + w, b->body, strlen(b->body));
        w += strlen(b->body);
    }
    return w;
}

START_TEST(test_malformed_requests_get_a_json_error_and_change_nothing)
{
    struct gc_server *s = h_start(config_with(NULL), NULL, NULL, true);
    h_register(s, T_C611002, "G1", "611002", 1, REG_AT);
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", CONTACT_AT, "before"), 201);
    char *before = db_digest(s);
    for (size_t i = 0; i < NBADS; i++) {
        const struct bad *b = &bads[i];
        char req[2048];
        size_t n = build_bad(b, req, sizeof req);
        struct conn c = raw_exchange(s, req, n, 1500);
        ck_assert_msg(status_of(c.buf) == b->status, "%s: expected %d, got: %s", b->name, b->status,
                      c.buf ? c.buf : "(nothing)");
        ck_assert_msg(strcmp(error_code_of(c.buf), b->code) == 0, "%s: expected %s, got: %s",
                      b->name, b->code, c.buf);
        ck_assert_msg(responses(c.buf) == 1, "%s: %d answers", b->name, responses(c.buf));
        /* Checked against docs/openapi.json as an answer to the method and
         * target of its request line, unless that line is not one (a NUL in
         * it): there is no operation to match. */
        const char *eol = memmem(req, n, "\r\n", 2);
        if (eol && !memchr(req, '\0', (size_t)(eol - req)))
            h_check_wire(req, c.buf, c.len);
        char v[32];
        ck_assert_msg(header_of(c.buf, "Content-Type", v, sizeof v) &&
                          strncmp(v, "application/json", 16) == 0,
                      "%s: not JSON", b->name);
        if (b->closes)
            ck_assert_msg(c.eof && header_of(c.buf, "Connection", v, sizeof v) &&
                              strcasecmp(v, "close") == 0,
                          "%s: connection left open", b->name);
        conn_close(&c);
    }
    char *after = db_digest(s);
    ck_assert_str_eq(after, before);
    free(before);
    free(after);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_oversized_head_uri_and_body_get_json_errors)
{
    struct gc_server *s = h_start(config_with(NULL), NULL, NULL, true);
    h_register(s, T_C611002, "G1", "611002", 1, REG_AT);
    char *before = db_digest(s);
    size_t big = 100 * 1024;
    char *req = malloc(big + 4096);
    ck_assert(req);
    /* A head over 16 KiB: 431, connection closed. */
    int n = snprintf(req, 4096, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    memset(req + n, 'a', 20000);
    n += 20000;
    n += sprintf(req + n, "\r\n\r\n");
    struct conn c = raw_exchange(s, req, (size_t)n, 1500);
    ck_assert_int_eq(status_of(c.buf), 431);
    ck_assert_str_eq(error_code_of(c.buf), "headers_too_large");
    h_check_wire(req, c.buf, c.len);
    ck_assert(c.eof);
    conn_close(&c);
    /* A request target over 2 KiB (within the head limit): 414. */
    n = sprintf(req, "GET /api/v1/coverage?x=");
    memset(req + n, 'a', 3000);
    n += 3000;
    n += sprintf(req + n, " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", T_ADMIN);
    c = raw_exchange(s, req, (size_t)n, 1000);
    ck_assert_int_eq(status_of(c.buf), 414);
    ck_assert_str_eq(error_code_of(c.buf), "uri_too_long");
    h_check_wire(req, c.buf, c.len);
    conn_close(&c);
    /* A 100 KiB body with its length: 413 JSON, seen by a client that sends
     * the whole body first; the connection stays usable. */
    n = snprintf(req, 4096,
                 "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" CT
                 "Content-Length: %zu\r\n\r\n",
                 T_C611002, big);
    memset(req + n, ' ', big);
    n += (int)big;
    const char *second = req + n;
    n += sprintf(req + n, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c = raw_exchange(s, req, (size_t)n, 3000);
    ck_assert_int_eq(status_of(c.buf), 413);
    ck_assert_str_eq(error_code_of(c.buf), "body_too_large");
    ck_assert_msg(responses(c.buf) == 2 && strstr(c.buf, "HTTP/1.1 200 OK"),
                  "no answer after the 413 on the same connection: %s", c.buf);
    size_t first = h_check_wire(req, c.buf, c.len);
    h_check_wire(second, c.buf + first, c.len - first);
    conn_close(&c);
    /* The same with "Connection: close": the 413, then the close once the body
     * is through (not after an idle timeout). */
    n = snprintf(req, 4096,
                 "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" CT
                 "Connection: close\r\nContent-Length: %zu\r\n\r\n",
                 T_C611002, big);
    memset(req + n, ' ', big);
    n += (int)big;
    c = raw_exchange(s, req, (size_t)n, 5000);
    ck_assert_int_eq(status_of(c.buf), 413);
    h_check_wire(req, c.buf, c.len);
    ck_assert_msg(c.eof && c.done_ms - c.sent_ms < 2000, "closed after %lld ms",
                  c.done_ms - c.sent_ms);
    conn_close(&c);
    /* The same body chunked (no length up front): 411 JSON before any of it
     * is read (chunked request bodies are refused whatever their size). */
    n = snprintf(req, 4096,
                 "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" CT
                 "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
                 T_C611002, big);
    memset(req + n, ' ', big);
    n += (int)big;
    n += sprintf(req + n, "\r\n0\r\n\r\n");
    c = raw_exchange(s, req, (size_t)n, 3000);
    ck_assert_int_eq(status_of(c.buf), 411);
    ck_assert_str_eq(error_code_of(c.buf), "length_required");
    h_check_wire(req, c.buf, c.len);
    ck_assert(c.eof);
    conn_close(&c);
    free(req);
    char *after = db_digest(s);
    ck_assert_str_eq(after, before);
    free(before);
    free(after);
    ck_assert_int_ge(metric(s, "gradcover_http_request_heads_refused_total"), 2);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* The bytes after the empty line that ends the first answer's head. */
static size_t bytes_after_head(const struct conn *c)
{
    const char *sep = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
    return sep ? c->len - (size_t)(sep + 4 - c->buf) : 0;
}

/* RFC 9110 §9.3.2: an answer to HEAD has no body, whatever its status: the
 * 405 of a GET route, a 404, a refused head's 400. A raw socket reads what is
 * on the wire after the head (nothing); on a kept-alive connection the next
 * answer follows the HEAD answer's head directly; curl finds no excess. */
START_TEST(test_head_answers_have_no_body)
{
    struct gc_server *s = h_start(config_with(NULL), NULL, NULL, true);
    static const char *const heads[] = {
        "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "HEAD /api/v1/coverage HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Authorization: Bearer " T_ADMIN "\r\n\r\n",
        "HEAD /no/such/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        "HEAD / HTTP/1.0\r\n\r\n",
    };
    static const int statuses[] = {405, 405, 404, 400, 405};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        struct conn c = raw_exchange(s, heads[i], strlen(heads[i]), 2000);
        ck_assert_msg(status_of(c.buf) == statuses[i], "%s: %s", heads[i],
                      c.buf ? c.buf : "(nothing)");
        ck_assert_msg(c.eof, "%s: not closed", heads[i]);
        ck_assert_msg(bytes_after_head(&c) == 0, "%s: %zu bytes of body: %s", heads[i],
                      bytes_after_head(&c), c.buf);
        h_check_wire(heads[i], c.buf, c.len);
        conn_close(&c);
    }
    /* Kept alive: the GET's answer starts right after the HEAD answer's head. */
    static const char two[] = "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    struct conn c = raw_exchange(s, two, sizeof two - 1, 2000);
    const char *sep = c.buf ? strstr(c.buf, "\r\n\r\n") : NULL;
    ck_assert_msg(sep && strncmp(sep + 4, "HTTP/1.1 200 OK\r\n", 17) == 0,
                  "the next answer does not follow the HEAD answer's head: %s",
                  c.buf ? c.buf : "(nothing)");
    h_check_wire(strstr(two, "GET "), sep + 4, c.len - (size_t)(sep + 4 - c.buf));
    conn_close(&c);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "curl -sv -I http://127.0.0.1:%d/healthz 2>&1", s->port);
    FILE *p = popen(cmd, "r");
    ck_assert(p);
    char line[512];
    bool answered = false, excess = false;
    while (fgets(line, sizeof line, p)) {
        answered = answered || strstr(line, "< HTTP/1.1 405");
        excess = excess || strstr(line, "Excess found");
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_msg(answered && !excess, "curl -I: answered %d, excess %d", answered, excess);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* ---- Expect: 100-continue ---- */

#define CONTINUE_LINE "HTTP/1.1 100 Continue\r\n\r\n"

/* A head with Expect: 100-continue for GOOD_BODY, then waits up to wait_ms
 * for what the server says before the body is sent. */
static struct conn expect_head(struct gc_server *s, const char *method, const char *path,
                               const char *auth_line, int wait_ms, char *head, size_t n)
{
    int w = snprintf(head, n,
                     "%s %s HTTP/1.1\r\nHost: x\r\n%s" CT "Expect: 100-continue\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, auth_line, strlen(GOOD_BODY));
    ck_assert(w > 0 && (size_t)w < n);
    struct conn c = {.fd = raw_connect(s->port)};
    c.sent_ms = h_now_ms();
    raw_send(c.fd, head, (size_t)w);
    conn_collect(&c, 1, wait_ms);
    return c;
}

/* Refused on the head alone (RFC 9110 §10.1.1): the final answer comes at
 * once, never after a 100 Continue, and the connection closes (the body,
 * which the client then need not send, is not read). */
static void expect_refused_without_continue(struct gc_server *s, const char *name,
                                            const char *method, const char *path,
                                            const char *auth_line, int status, const char *code)
{
    char head[600];
    struct conn c = expect_head(s, method, path, auth_line, 2000, head, sizeof head);
    ck_assert_msg(c.buf && strstr(c.buf, "100 Continue") == NULL,
                  "%s: 100 Continue before the refusal: %s", name, c.buf ? c.buf : "");
    ck_assert_msg(status_of(c.buf) == status, "%s: expected %d, got: %s", name, status,
                  c.buf ? c.buf : "(nothing within 2 s)");
    ck_assert_msg(strcmp(error_code_of(c.buf), code) == 0, "%s: code %s", name,
                  error_code_of(c.buf));
    ck_assert_msg(c.eof, "%s: connection left open", name);
    h_check_wire(head, c.buf, c.len);
    conn_close(&c);
}

/* Accepted on its head: 100 Continue first (within a second, before any of
 * the body), then the body is read and answered. */
static void expect_continue_then(struct gc_server *s, const char *auth_line, int status)
{
    char head[600];
    struct conn c = expect_head(s, "POST", "/api/v1/contacts", auth_line, 1000, head, sizeof head);
    ck_assert_msg(c.buf && strcmp(c.buf, CONTINUE_LINE) == 0 && !c.eof,
                  "no 100 Continue within 1 s: %s", c.buf ? c.buf : "(nothing)");
    c.len = 0;
    c.buf[0] = '\0';
    raw_send(c.fd, GOOD_BODY, strlen(GOOD_BODY));
    conn_collect(&c, 1, 500);
    ck_assert_msg(status_of(c.buf) == status, "after the body: %s", c.buf ? c.buf : "(nothing)");
    h_check_wire(head, c.buf, c.len);
    conn_close(&c);
}

START_TEST(test_expect_100_continue_only_after_the_head_is_accepted)
{
    struct gc_server *s = h_start(config_with(NULL), NULL, NULL, true);
    h_register(s, T_C611002, "G1", "611002", 1, REG_AT);
    /* An API-issued token: its first use is looked up in Redis. */
    struct http_resp *t =
        h_http(s, "POST", "/api/v1/tokens", T_ADMIN,
               "{\"name\":\"api.counselor\",\"role\":\"counselor\",\"county\":\"611002\"}", NULL);
    ck_assert_msg(t && t->status == 201, "token: %s", t ? t->body : "");
    char api_auth[200];
    snprintf(api_auth, sizeof api_auth, "Authorization: Bearer %s\r\n",
             json_string_value(json_object_get(t->json, "token")));
    h_resp_free(t);
    char *before = db_digest(s);
    expect_refused_without_continue(s, "no token", "POST", "/api/v1/contacts", "", 401,
                                    "unauthorized");
    expect_refused_without_continue(s, "unknown token", "POST", "/api/v1/contacts",
                                    "Authorization: Bearer no-such-token-at-all\r\n", 401,
                                    "unauthorized");
    expect_refused_without_continue(s, "malformed Authorization", "POST", "/api/v1/contacts",
                                    "Authorization: Basic YTpi\r\n", 401, "unauthorized");
    expect_refused_without_continue(s, "viewer may not write", "POST", "/api/v1/contacts",
                                    "Authorization: Bearer " T_VIEWER "\r\n", 403, "forbidden");
    expect_refused_without_continue(s, "wrong method", "PUT", "/api/v1/contacts",
                                    "Authorization: Bearer " T_C611002 "\r\n", 405,
                                    "method_not_allowed");
    expect_refused_without_continue(s, "unknown path", "POST", "/api/v1/nothing",
                                    "Authorization: Bearer " T_C611002 "\r\n", 404, "not_found");
    char *after = db_digest(s);
    ck_assert_str_eq(after, before);
    free(after);
    free(before);
    /* Accepted heads: a config token, then an API token (looked up first). */
    expect_continue_then(s, "Authorization: Bearer " T_C611002 "\r\n", 201);
    expect_continue_then(s, api_auth, 201);
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt c:job_referral"), 2);
    /* A client that sends its body without waiting is served too. */
    char req[800];
    int n = snprintf(req, sizeof req,
                     "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" CT
                     "Expect: 100-continue\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     T_C611002, strlen(GOOD_BODY), GOOD_BODY);
    struct conn c = raw_exchange(s, req, (size_t)n, 2000);
    const char *final = c.buf && strncmp(c.buf, CONTINUE_LINE, strlen(CONTINUE_LINE)) == 0
                            ? c.buf + strlen(CONTINUE_LINE)
                            : c.buf;
    ck_assert_msg(status_of(final) == 201, "body sent at once: %s", c.buf ? c.buf : "(nothing)");
    h_check_wire(req, final, c.len - (size_t)(final - c.buf));
    conn_close(&c);
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt c:job_referral"), 3);
    /* An expectation we do not know: 417, JSON. */
    n = snprintf(req, sizeof req,
                 "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" CT
                 "Expect: something-else\r\nContent-Length: %zu\r\n\r\n%s",
                 T_C611002, strlen(GOOD_BODY), GOOD_BODY);
    c = raw_exchange(s, req, (size_t)n, 2000);
    ck_assert_msg(status_of(c.buf) == 417, "unknown expectation: %s", c.buf ? c.buf : "");
    ck_assert_str_eq(error_code_of(c.buf), "expectation_failed");
    h_check_wire(req, c.buf, c.len);
    conn_close(&c);
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt c:job_referral"), 3);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* The guard holds heads back and takes pipelined bytes back after each
 * answer: pipelined and keep-alive requests still work, in order. */
START_TEST(test_pipelined_requests_are_answered_in_order)
{
    struct gc_server *s = h_start(config_with(NULL), NULL, NULL, true);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /api/v1/graduates/NOPE HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\n\r\n"
                     "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     T_C611002);
    struct conn c = raw_exchange(s, req, (size_t)n, 3000);
    ck_assert_int_eq(responses(c.buf), 3);
    const char *a = strstr(c.buf, "200 OK"), *b = strstr(c.buf, "404 Not Found");
    const char *r = a ? strstr(a + 1, "200 OK") : NULL;
    ck_assert_msg(a && b && r && a < b && b < r, "out of order: %s", c.buf);
    /* Each answer checked against docs/openapi.json as the answer to its own
     * request: the pipelined requests start at each "GET ". */
    size_t off = 0;
    const char *q = req;
    for (int i = 0; i < 3; i++, q = strstr(q + 1, "GET "))
        off += h_check_wire(q, c.buf + off, c.len - off);
    ck_assert(c.eof);
    conn_close(&c);
    /* A refused head in the middle: the first is answered, then the refusal,
     * then the connection closes (nothing after it is read). */
    n = snprintf(req, sizeof req,
                 "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n"
                 "\r\nx"
                 "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    c = raw_exchange(s, req, (size_t)n, 3000);
    ck_assert_int_eq(responses(c.buf), 2);
    ck_assert_ptr_nonnull(strstr(c.buf, "400 Bad Request"));
    off = h_check_wire(req, c.buf, c.len);
    h_check_wire(strstr(req + 1, "GET "), c.buf + off, c.len - off);
    ck_assert(c.eof);
    conn_close(&c);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_limits_are_validated_in_the_configuration)
{
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "max_connections", json_integer(0));
    const char *path = h_write_config(cfg, "hostile-bad");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' --config '%s' --check-config > /dev/null 2>&1",
             getenv("GC_BINARY"), path);
    int st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 2);
    json_object_set_new(cfg, "max_connections", json_integer(64));
    json_object_set_new(cfg, "max_connections_per_address", json_integer(0));
    path = h_write_config(cfg, "hostile-bad");
    st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 2);
    json_object_set_new(cfg, "max_connections_per_address", json_integer(16));
    json_object_set_new(cfg, "header_timeout_seconds", json_integer(0));
    path = h_write_config(cfg, "hostile-bad");
    st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 2);
    json_object_set_new(cfg, "header_timeout_seconds", json_integer(10));
    json_object_set_new(cfg, "body_timeout_seconds", json_integer(30));
    path = h_write_config(cfg, "hostile-bad");
    st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    json_decref(cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_malformed_requests_get_a_json_error_and_change_nothing);
    tcase_add_test(tc, test_oversized_head_uri_and_body_get_json_errors);
    tcase_add_test(tc, test_pipelined_requests_are_answered_in_order);
    tcase_add_test(tc, test_head_answers_have_no_body);
    tcase_add_test(tc, test_expect_100_continue_only_after_the_head_is_accepted);
    tcase_add_test(tc, test_limits_are_validated_in_the_configuration);
    tcase_add_test(tc, test_connection_cap_pauses_accepting_and_recovers);
    tcase_add_test(tc, test_per_address_limit_closes_the_extra_connection_only);
    tcase_add_test(tc, test_head_deadline_tightens_under_pressure);
    tcase_add_test(tc, test_redis_stopped_every_route_answers_once_in_time_then_recovers);
    tcase_add_test(tc, test_redis_debug_sleep_every_route_answers_once_in_time_then_recovers);
    tcase_add_test(tc, test_slow_redis_every_request_answers_within_one_deadline);
    tcase_add_test(tc, test_keep_alive_then_slow_second_head_is_cut);
    tcase_add_test(tc, test_slow_body_is_cut_at_the_body_deadline);
    tcase_add_test(tc, test_slow_headers_are_cut_at_the_header_deadline_while_others_are_served);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
