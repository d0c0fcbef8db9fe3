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
#include "gradcover/domain/natid.h"
#include "receiver.h"

#include "receiver.c"

#define COUNTY "611002"
/* 611021's threshold is 0.92 in the test configuration. */
#define ALERT_COUNTY "611021"
#define NGRAD 100
/* More keys than the load sends before the restarts are done: lg_stop ends
 * it, and the keys never sent are left out of every count. */
#define NKEYS 40000
#define NCON 8
/* Every fourth request of the load is a registration without key. */
#define REG_EVERY 4
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

/* A valid national ID for the load's registration r (< 4,500,000), born
 * 1980..1994: never one of h_natid's (1995..2002). */
static const char *natid_of(size_t r)
{
    static char b[32];
    int day = (int)(r % 300), y = 1980 + (int)((r / 300) % 15);
    snprintf(b, sizeof b, "611002%04d%02d%02d%03d", y, 1 + day / 28, 1 + day % 28,
             (int)((r / 4500) % 1000));
    b[17] = natid_check_char(b);
    b[18] = '\0';
    return b;
}

/* ---- nginx ---- */

struct ngx {
    pid_t pid;
    int port;
    char dir[512];
};

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert(s && fread(s, 1, (size_t)n, f) == (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    chmod(path, 0644);
}

/* The shipped deploy/ directory, beside docs/openapi.json (GC_OPENAPI). */
static void deploy_path(const char *name, char *out, size_t n)
{
    char doc[512];
    snprintf(doc, sizeof doc, "%s", getenv("GC_OPENAPI"));
    snprintf(out, n, "%s/../deploy/%s", dirname(doc), name);
}

/* deploy/nginx.conf's upstream block with its one server line repeated for
 * each of ports (its parameters kept). Returns a new string. */
static char *upstream_block(const int *ports, int n)
{
    char path[600];
    deploy_path("nginx.conf", path, sizeof path);
    char *conf = read_file(path);
    char *b = strstr(conf, "\nupstream gradcoverd {");
    ck_assert_msg(b, "deploy/nginx.conf has no upstream gradcoverd");
    char *e = strstr(b, "\n}\n");
    ck_assert(e);
    e[2] = '\0';
    const char *line = "server 127.0.0.1:8080 ";
    char *srv = strstr(b, line);
    ck_assert_msg(srv, "deploy/nginx.conf: no \"%s\" in the upstream", line);
    char *eol = strchr(srv, '\n');
    size_t cap = strlen(b) + (size_t)n * 256;
    char *out = malloc(cap);
    ck_assert(out);
    int off = snprintf(out, cap, "%.*s", (int)(srv - b), b);
    for (int i = 0; i < n; i++)
        off += snprintf(out + off, cap - (size_t)off, "server 127.0.0.1:%d %.*s\n    ", ports[i],
                        (int)(eol - srv - strlen(line)), srv + strlen(line));
    snprintf(out + off, cap - (size_t)off, "%s", eol + 1);
    free(conf);
    return out;
}

/* fail_timeout of deploy/nginx.conf's upstream servers, in ms. */
static int fail_timeout_ms(void)
{
    char path[600];
    deploy_path("nginx.conf", path, sizeof path);
    char *conf = read_file(path);
    const char *f = strstr(conf, "server 127.0.0.1:8080 ");
    f = f ? strstr(f, "fail_timeout=") : NULL;
    ck_assert_msg(f, "deploy/nginx.conf: no fail_timeout on the upstream server");
    char *end;
    long s = strtol(f + 13, &end, 10);
    ck_assert_msg(s > 0 && *end == 's', "deploy/nginx.conf: fail_timeout in seconds expected");
    free(conf);
    return (int)s * 1000;
}

/* Starts nginx (unprivileged: as nobody when the test runs as root) on a
 * free port in front of ports, with deploy/gradcover-proxy.conf, and waits
 * until it answers /healthz through them. */
static struct ngx *nginx_start(const int *ports, int n)
{
    struct ngx *x = calloc(1, sizeof *x);
    ck_assert(x);
    x->port = h_free_port();
    snprintf(x->dir, sizeof x->dir, "%s/nginx-%d", h_work_dir(), (int)getpid());
    mkdir(x->dir, 0777);
    chmod(x->dir, 0777);
    char path[700], src[600];
    deploy_path("gradcover-proxy.conf", src, sizeof src);
    char *snippet = read_file(src);
    snprintf(path, sizeof path, "%s/gradcover-proxy.conf", x->dir);
    write_file(path, snippet);
    free(snippet);
    char *up = upstream_block(ports, n);
    size_t cap = strlen(up) + 4096;
    char *conf = malloc(cap);
    ck_assert(conf);
    snprintf(conf, cap,
             "worker_processes 2;\n"
             "pid %1$s/nginx.pid;\n"
             "error_log %1$s/error.log info;\n"
             "events { worker_connections 1024; }\n"
             "http {\n"
             "    client_body_temp_path %1$s/body;\n"
             "    proxy_temp_path %1$s/proxy;\n"
             "    fastcgi_temp_path %1$s/fastcgi;\n"
             "    uwsgi_temp_path %1$s/uwsgi;\n"
             "    scgi_temp_path %1$s/scgi;\n"
             "    log_format rolling '$request_method $uri $status up=\"$upstream_addr\" "
             "ups=\"$upstream_status\" key=$http_idempotency_key';\n"
             "    access_log %1$s/access.log rolling;\n"
             "%2$s\n"
             "    server {\n"
             "        listen 127.0.0.1:%3$d;\n"
             "        client_max_body_size 64k;\n"
             "        include %1$s/gradcover-proxy.conf;\n"
             "    }\n"
             "}\n",
             x->dir, up, x->port);
    free(up);
    snprintf(path, sizeof path, "%s/nginx.conf", x->dir);
    write_file(path, conf);
    free(conf);
    x->pid = fork();
    ck_assert(x->pid >= 0);
    if (x->pid == 0) {
        char log[700];
        snprintf(log, sizeof log, "%s/stderr.log", x->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
            _exit(127);
        char errlog[700];
        snprintf(errlog, sizeof errlog, "%s/error.log", x->dir);
        execlp("nginx", "nginx", "-p", x->dir, "-c", path, "-e", errlog, "-g", "daemon off;",
               (char *)NULL);
        _exit(127);
    }
    struct gc_server via = {.pid = x->pid, .port = x->port};
    ck_assert_msg(h_wait_status(&via, "/healthz", 200, 10000), "nginx did not answer (logs in %s)",
                  x->dir);
    return x;
}

static void nginx_stop(struct ngx *x)
{
    kill(x->pid, SIGTERM);
    int st;
    waitpid(x->pid, &st, 0);
    free(x);
}

/* Requests in nginx's access log that went to more than one server. */
static size_t nginx_retried(const struct ngx *x, size_t *lines)
{
    char path[700];
    snprintf(path, sizeof path, "%s/access.log", x->dir);
    char *log = read_file(path);
    size_t n = 0;
    *lines = 0;
    for (char *l = log; *l;) {
        char *eol = strchr(l, '\n');
        if (eol)
            *eol = '\0';
        (*lines)++;
        char *up = strstr(l, "up=\"");
        if (up && strchr(up, ',') && strchr(up, ',') < strstr(up, "ups="))
            n++;
        if (!eol)
            break;
        l = eol + 1;
    }
    free(log);
    return n;
}

/* One request through nginx (lg_run: its answer checked against
 * docs/openapi.json); returns its status. */
static int one(int port, const char *path, const char *token, const char *key, const char *body)
{
    struct lg_req *q = lg_reqs_new(1);
    ck_assert_ptr_nonnull(q);
    q->target = 0;
    q->token = token;
    snprintf(q->path, sizeof q->path, "%s", path);
    snprintf(q->key, sizeof q->key, "%s", key ? key : "");
    snprintf(q->body, sizeof q->body, "%s", body);
    struct lg_opts o = {.ports = &port, .nports = 1, .ncon = 1, .timeout_ms = 20000};
    ck_assert_int_eq(lg_run(q, 1, &o), 0);
    int st = q->status;
    ck_assert_msg(st == 201, "%s %s: %d %s", path, key ? key : "", st, q->err);
    lg_reqs_free(q, 1);
    return st;
}

/* Luonan goes below target (a new graduate, unserved: a POST without key)
 * and back (a keyed contact for it). */
static void alert_round(int port, int j)
{
    char body[320], key[32];
    snprintf(body, sizeof body,
             "{\"id\":\"L%d\",\"county\":\"" ALERT_COUNTY "\",\"name\":\"x\","
             "\"national_id\":\"%s\",\"registered_at\":\"2026-03-01T09:00:00+08:00\"}",
             j, h_natid(900 + j));
    one(port, "/api/v1/graduates", T_C611021, NULL, body);
    snprintf(key, sizeof key, "luonan-%d", j);
    snprintf(body, sizeof body,
             "{\"graduate_id\":\"L%d\",\"service\":\"career_guidance\","
             "\"occurred_at\":\"2026-03-05T09:00:00+08:00\"}",
             j);
    one(port, "/api/v1/contacts", T_C611021, key, body);
}

/* Outbox events of a county: event_id and status of each, oldest first. */
static json_t *outbox(const char *county)
{
    redisReply *r = redisCommand(h_redis(), "XRANGE gc:{%s}:outbox - +", county);
    ck_assert(r && r->type == REDIS_REPLY_ARRAY);
    json_t *out = json_array();
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        json_t *ev = json_object();
        for (size_t k = 0; k + 1 < f->elements; k += 2)
            json_object_set_new(ev, f->element[k]->str, json_string(f->element[k + 1]->str));
        json_array_append_new(out, ev);
    }
    freeReplyObject(r);
    return out;
}

/* Entries of a county's outbox read and not yet acknowledged. */
static long long pending(const char *county)
{
    redisReply *r = redisCommand(h_redis(), "XPENDING gc:{%s}:outbox delivery", county);
    ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1);
    long long n = r->element[0]->integer;
    freeReplyObject(r);
    return n;
}

START_TEST(test_rolling_restart_behind_nginx_loses_no_request_notifies_once)
{
    struct receiver *rv = receiver_start("200");
    ck_assert_ptr_nonnull(rv);
    const char *cfg = config(rv->port);
    struct gc_server *srv[NSERVERS];
    int ports[NSERVERS];
    for (int i = 0; i < NSERVERS; i++) {
        srv[i] = h_start(cfg, NULL, NULL, true);
        ports[i] = srv[i]->port;
    }
    struct ngx *nx = nginx_start(ports, NSERVERS);
    /* 611002 fires at its first registration (0 of 1). */
    for (int g = 0; g < NGRAD; g++) {
        char gid[16];
        snprintf(gid, sizeof gid, "G%d", g);
        h_register(srv[g % NSERVERS], T_C611002, gid, COUNTY, 800 + g, "2026-03-01T09:00:00+08:00");
    }
    struct lg_req *reqs = lg_reqs_new(NKEYS);
    ck_assert_ptr_nonnull(reqs);
    /* Keyed contacts, and every REG_EVERY-th request a registration without
     * a key (nginx may not pass it on once sent: it must never meet a
     * connection closing under it). */
    for (size_t i = 0; i < NKEYS; i++) {
        char key[48], gid[16];
        if (i % REG_EVERY == REG_EVERY - 1) {
            struct lg_req *q = &reqs[i];
            q->target = 0;
            q->token = T_C611002;
            snprintf(q->path, sizeof q->path, "/api/v1/graduates");
            snprintf(q->body, sizeof q->body,
                     "{\"id\":\"R%zu\",\"county\":\"" COUNTY "\",\"name\":\"x\","
                     "\"national_id\":\"%s\",\"registered_at\":\"2026-03-01T09:00:00+08:00\"}",
                     i, natid_of(i / REG_EVERY));
            continue;
        }
        snprintf(key, sizeof key, "roll-%zu", i);
        snprintf(gid, sizeof gid, "G%zu", i % NGRAD);
        f_contact_req(&reqs[i], 0, T_C611002, key, gid);
    }
    struct lg_opts o = {
        .ports = &nx->port, .nports = 1, .ncon = NCON, .gap_ms = 5, .timeout_ms = 20000};
    struct lg *g = lg_start(reqs, NKEYS, &o);
    ck_assert_ptr_nonnull(g);

    /* One server after the other: SIGTERM, an alert round while it drains,
     * its exit (0), a new process on its port, /readyz 200, the next. The
     * load keeps being answered by the others meanwhile. */
    size_t during[NSERVERS];
    for (int i = 0; i < NSERVERS; i++) {
        size_t before = lg_done(g);
        kill(srv[i]->pid, SIGTERM);
        alert_round(nx->port, i);
        ck_assert_int_eq(h_stop(srv[i]), 0);
        srv[i] = h_start_port(cfg, NULL, NULL, true, ports[i]);
        /* nginx counted the refused connections as failures and sends the
         * server nothing for the upstream's fail_timeout: wait that out
         * before the next (scripts/rolling-restart.sh does the same), or two
         * servers would be out at once and, when the third stops, none left.
         * nginx's own clock: not stretched under valgrind. */
        h_sleep_ms(fail_timeout_ms() + 1000);
        during[i] = lg_done(g) - before;
        ck_assert_msg(during[i] > 0, "no answer while server %d restarted", i);
    }
    for (int j = NSERVERS; j < ROUNDS; j++)
        alert_round(nx->port, j);
    size_t done_at_stop = lg_done(g);
    ck_assert_msg(done_at_stop < NKEYS, "the load ended before the restarts did");
    lg_stop(g);
    ck_assert_int_eq(lg_wait(g), 0);

    /* No failed request: every one sent was answered 201. */
    size_t sent = 0, replayed = 0, regs = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const struct lg_req *q = &reqs[i];
        if (q->status == -1)
            continue; /* never sent (lg_stop) */
        ck_assert_msg(q->status == 201, "%s %s: %d (%s)", q->path, q->key, q->status, q->err);
        if (q->key[0] == '\0') {
            regs++;
            continue;
        }
        sent++;
        replayed += q->replayed;
    }
    /* Exact counts: one contact per key, whatever nginx retried. */
    struct f_ids ids;
    f_stored_ids(h_redis(), COUNTY, "G", NGRAD, &ids);
    ck_assert_int_eq(ids.n, sent);
    ck_assert_int_eq(ids.distinct, sent);
    for (size_t i = 0; i < NKEYS; i++)
        if (reqs[i].status == 201 && reqs[i].key[0])
            ck_assert_msg(f_ids_has(&ids, reqs[i].id), "%s: %s not stored", reqs[i].key,
                          reqs[i].id);
    f_ids_free(&ids);
    ck_assert_int_eq(h_redis_int("HGET gc:{" COUNTY "}:cnt c:job_referral"), (long long)sent);
    for (int i = 0; i < NSERVERS; i++)
        ck_assert_int_eq(f_metric_contacts(srv[i], COUNTY, "job_referral"), (long long)sent);
    long long reg, served;
    h_counts(srv[1], COUNTY, "2026", &reg, &served);
    ck_assert_int_eq(reg, NGRAD + (long long)regs);
    h_counts(srv[0], ALERT_COUNTY, "2026", &reg, &served);
    ck_assert_int_eq(reg, ROUNDS);
    ck_assert_int_eq(served, ROUNDS);

    /* Every transition notified exactly once: wait until each outbox entry is
     * acknowledged (none left for a take-over to send again), then count. */
    json_t *ob2 = outbox(COUNTY), *ob21 = outbox(ALERT_COUNTY);
    /* 611002 fired (its registrations outrun the contacts after that). */
    ck_assert_int_ge(json_array_size(ob2), 1);
    ck_assert_int_eq(json_array_size(ob21), 2 * ROUNDS);
    json_t *events = json_array();
    json_array_extend(events, ob2);
    json_array_extend(events, ob21);
    size_t nev = json_array_size(events);
    long long end = h_now_ms() + h_ms(60000);
    while ((pending(COUNTY) > 0 || pending(ALERT_COUNTY) > 0) && h_now_ms() < end)
        h_sleep_ms(100);
    ck_assert_int_eq(pending(COUNTY) + pending(ALERT_COUNTY), 0);
    json_t *got = receiver_wait(rv, nev, 20000);
    h_sleep_ms(h_ms(1000));
    json_decref(got);
    got = receiver_requests(rv);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        const char *id = json_string_value(json_object_get(ev, "event_id"));
        size_t n = receiver_count_event(got, id);
        ck_assert_msg(n == 1, "event %s (%s) notified %zu times (receiver log %s)", id,
                      json_string_value(json_object_get(ev, "status")), n, rv->log_path);
    }
    ck_assert_int_eq(json_array_size(got), nev);

    size_t lines, retried = nginx_retried(nx, &lines);
    fprintf(stderr,
            "rolling servers=%d keys_sent=%zu replayed=%zu registrations=%zu "
            "answered_during_restarts=%zu,%zu,%zu "
            "nginx_requests=%zu nginx_passed_on=%zu transitions=%zu notifications=%zu\n",
            NSERVERS, sent, replayed, regs, during[0], during[1], during[2], lines, retried, nev,
            json_array_size(got));
    json_decref(got);
    json_decref(events);
    json_decref(ob2);
    json_decref(ob21);
    lg_reqs_free(reqs, NKEYS);
    nginx_stop(nx);
    for (int s = 0; s < NSERVERS; s++)
        ck_assert_int_eq(h_stop(srv[s]), 0);
    receiver_stop(rv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rolling");
    TCase *tc = tcase_create("rolling");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_sigterm_readyz_draining_connection_close_idle_closed_exit_0);
    tcase_add_test(tc, test_rolling_restart_behind_nginx_loses_no_request_notifies_once);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
