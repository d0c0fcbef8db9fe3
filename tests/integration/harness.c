/* Integration-test harness (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gradcover/core/pii.h"
#include "gradcover/domain/natid.h"
#include "openapi.h"

static int redis_port = -1;
static int redis_db = 0;
static const char *binary;
static const char *openapi_path;
static struct oa_doc *openapi;
static char work_dir[256];
static redisContext *rc;
/* GC_WRAPPER split at spaces (e.g. valgrind and its options): the command
 * line every gradcoverd is started under. */
static char *wrapper[32];
static int nwrapper;
static double time_scale = 1.0;

/* Every process the harness started, so that none outlives the test binary even
 * when an assertion aborts a test half-way (CTest would otherwise wait for the
 * orphans that still hold its output pipe). */
static pid_t children[64];
static size_t nchildren;

static void track(pid_t pid)
{
    if (nchildren < sizeof children / sizeof children[0])
        children[nchildren++] = pid;
}

static void untrack(pid_t pid)
{
    for (size_t i = 0; i < nchildren; i++)
        if (children[i] == pid)
            children[i] = children[--nchildren];
}

static void kill_children(void)
{
    for (size_t i = 0; i < nchildren; i++) {
        kill(children[i], SIGCONT);
        kill(children[i], SIGKILL);
        waitpid(children[i], NULL, 0);
    }
    nchildren = 0;
}

static void quiet_stdio(const char *log)
{
    int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
}

long long h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void h_init(void)
{
    if (redis_port > 0)
        return;
    signal(SIGPIPE, SIG_IGN);
    atexit(kill_children);
    const char *fx = getenv("GC_FIXTURE_DIR");
    const char *db = getenv("GC_REDIS_DB");
    const char *wd = getenv("GC_WORK_DIR");
    binary = getenv("GC_BINARY");
    openapi_path = getenv("GC_OPENAPI");
    if (!fx || !db || !wd || !binary || !openapi_path) {
        fprintf(stderr, "run through ctest (GC_FIXTURE_DIR etc. unset)\n");
        exit(2);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/port", fx);
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%d", &redis_port) != 1) {
        fprintf(stderr, "no redis fixture port in %s\n", path);
        exit(2);
    }
    fclose(f);
    redis_db = atoi(db);
    snprintf(work_dir, sizeof work_dir, "%s", wd);
    const char *ts = getenv("GC_TIME_SCALE");
    if (ts && atof(ts) >= 1.0)
        time_scale = atof(ts);
    const char *w = getenv("GC_WRAPPER");
    static char wbuf[2048]; /* wrapper[] points into it */
    snprintf(wbuf, sizeof wbuf, "%s", w ? w : "");
    for (char *tok = strtok(wbuf, " "); tok && nwrapper < 31; tok = strtok(NULL, " "))
        wrapper[nwrapper++] = tok;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", work_dir);
    if (system(cmd) != 0)
        exit(2);
}

int h_ms(int ms)
{
    return (int)(ms * time_scale);
}

void h_exec_gradcoverd(const char *const *args)
{
    const char *argv[64];
    int n = 0;
    for (int i = 0; i < nwrapper; i++)
        argv[n++] = wrapper[i];
    argv[n++] = binary;
    for (int i = 0; args && args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

int h_redis_port(void)
{
    return redis_port;
}

int h_redis_db(void)
{
    return redis_db;
}

const char *h_work_dir(void)
{
    return work_dir;
}

redisContext *h_redis(void)
{
    if (rc && !rc->err)
        return rc;
    if (rc)
        redisFree(rc);
    rc = redisConnect("127.0.0.1", redis_port);
    ck_assert_msg(rc && !rc->err, "cannot connect to the fixture Redis");
    redisReply *r = redisCommand(rc, "SELECT %d", redis_db);
    ck_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    return rc;
}

void h_flushdb(void)
{
    redisReply *r = redisCommand(h_redis(), "FLUSHDB");
    ck_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
}

long long h_redis_int(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(h_redis(), fmt, ap);
    va_end(ap);
    ck_assert(r);
    long long v = 0;
    if (r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r->type == REDIS_REPLY_STRING)
        v = atoll(r->str);
    freeReplyObject(r);
    return v;
}

/* The kernel's ephemeral ports (ip_local_port_range, from 32768 here) are
 * also the source ports of every outgoing connection: a port it handed us
 * for a server to bind a moment later was sometimes taken by then by another
 * test's client connection ("cannot listen" in CI-like parallel runs). So a
 * port is drawn at random below that range and checked by binding it. */
int h_free_port(void)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)h_now_ms();
    int lo = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d", &lo) != 1)
            lo = 32768;
        fclose(f);
    }
    if (lo < 12000)
        lo = 32768;
    for (int tries = 0; tries < 500; tries++) {
        int port = 10000 + (int)(rand_r(&seed) % (unsigned)(lo - 10000));
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return port;
    }
    ck_abort_msg("no free port below %d", lo);
    return -1;
}

static void sha_hex(const char *s, char *out)
{
    gc_sha256_hex(s, strlen(s), out);
}

static json_t *token(const char *name, const char *secret, const char *role, const char *county)
{
    char hex[65];
    sha_hex(secret, hex);
    json_t *t = json_pack("{s:s, s:s, s:s}", "name", name, "sha256", hex, "role", role);
    if (county)
        json_object_set_new(t, "county", json_string(county));
    return t;
}

json_t *h_default_config(void)
{
    char pii[600];
    snprintf(pii, sizeof pii, "%s/pii.key", work_dir);
    json_t *counties =
        json_pack("[{s:s, s:s}, {s:s, s:s, s:f}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s},"
                  " {s:s, s:s}, {s:s, s:s}]",
                  "code", "611002", "name", "商州区", "code", "611021", "name", "洛南县",
                  "threshold", 0.92, "code", "611022", "name", "丹凤县", "code", "611023", "name",
                  "商南县", "code", "611024", "name", "山阳县", "code", "611025", "name", "镇安县",
                  "code", "611026", "name", "柞水县", "code", "shangdan-park", "name", "商丹园区");
    json_t *tokens = json_pack("[o, o, o, o, o, o]", token("admin", T_ADMIN, "admin", NULL),
                               token("zhang.counselor", T_C611002, "counselor", "611002"),
                               token("li.counselor", T_C611021, "counselor", "611021"),
                               token("shangzhou.leader", T_L611002, "leader", "611002"),
                               token("city.leader", T_LALL, "leader", NULL),
                               token("grafana", T_VIEWER, "viewer", NULL));
    return json_pack("{s:s, s:s, s:i, s:f, s:b, s:s, s:o, s:o}", "listen", "127.0.0.1:0", "redis",
                     "redis://127.0.0.1:1/0", "utc_offset_minutes", 480, "threshold", 0.9,
                     "anonymous_read", 0, "pii_key_file", pii, "counties", counties, "tokens",
                     tokens);
}

const char *h_write_config(json_t *cfg, const char *name)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s.json", work_dir, name);
    ck_assert(json_dump_file(cfg, path, JSON_INDENT(2)) == 0);
    return path;
}

struct gc_server *h_start(const char *cfg_path, const char *const *args, const char *redis_url,
                          bool wait_ready)
{
    return h_start_port(cfg_path, args, redis_url, wait_ready, 0);
}

static struct gc_server *start_server(const char *cfg_path, const char *const *args,
                                      const char *redis_url, bool wait_ready, int port,
                                      const char *ca_file)
{
    struct gc_server *s = calloc(1, sizeof *s);
    ck_assert(s);
    if (ca_file) {
        s->tls = true;
        snprintf(s->ca_file, sizeof s->ca_file, "%s", ca_file);
    }
    s->port = port ? port : h_free_port();
    char listen[64], url[128];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
    if (!redis_url) {
        /* As the least-privileged ACL user of deploy/redis-users.acl. */
        snprintf(url, sizeof url, "redis://gradcoverd:gradcoverd-test-password@127.0.0.1:%d/%d",
                 redis_port, redis_db);
        redis_url = url;
    }
    static int seq;
    snprintf(s->log_path, sizeof s->log_path, "%s/gradcoverd-%d-%d.log", work_dir, (int)getpid(),
             ++seq);
    const char *argv[32] = {"--config", cfg_path, "--listen", listen, "--redis", redis_url};
    int n = 6;
    for (int i = 0; args && args[i] && n < 30; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    s->pid = fork();
    ck_assert(s->pid >= 0);
    if (s->pid == 0) {
        quiet_stdio(s->log_path);
        h_exec_gradcoverd(argv);
    }
    track(s->pid);
    ck_assert_msg(h_wait_status(s, wait_ready ? "/readyz" : "/healthz", 200, 10000),
                  "gradcoverd did not become %s (log: %s)", wait_ready ? "ready" : "live",
                  s->log_path);
    return s;
}

struct gc_server *h_start_port(const char *cfg_path, const char *const *args, const char *redis_url,
                               bool wait_ready, int port)
{
    return start_server(cfg_path, args, redis_url, wait_ready, port, NULL);
}

struct gc_server *h_start_tls(const char *cfg_path, const char *const *args, const char *ca_file,
                              bool wait_ready)
{
    return start_server(cfg_path, args, NULL, wait_ready, 0, ca_file);
}

static int stop(struct gc_server *s, bool repeat)
{
    if (!s)
        return 0;
    kill(s->pid, SIGTERM);
    int status = 0;
    long long end = h_now_ms() + h_ms(15000);
    while (h_now_ms() < end) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            untrack(s->pid);
            free(s);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (repeat) {
            kill(s->pid, SIGTERM);
            usleep(100);
        } else {
            h_sleep_ms(10);
        }
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    untrack(s->pid);
    free(s);
    return -1;
}

int h_stop(struct gc_server *s)
{
    return stop(s, false);
}

int h_stop_repeating(struct gc_server *s)
{
    return stop(s, true);
}

void h_kill(struct gc_server *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    untrack(s->pid);
    free(s);
}

bool h_wait_status(struct gc_server *s, const char *path, int status, int timeout_ms)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    while (h_now_ms() < end) {
        struct http_resp *r = h_http(s, "GET", path, NULL, NULL, NULL);
        int st = r ? r->status : 0;
        h_resp_free(r);
        if (st == status)
            return true;
        h_sleep_ms(50);
    }
    return false;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {h_ms(15000) / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One client connection, plain or TLS. */
struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

static void conn_close(struct conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->ssl = NULL;
    c->ctx = NULL;
}

/* TLS over the connected c->fd; see h_tls_handshake(). Returns the version
 * or -1 with err (the connection is then closed). */
static int conn_tls(struct conn *c, const char *ca_file, int min_version, int max_version,
                    const char *ciphers, char *err, size_t errlen)
{
    ERR_clear_error();
    c->ctx = SSL_CTX_new(TLS_client_method());
    ck_assert(c->ctx);
    SSL_CTX_set_security_level(c->ctx, 0);
    char list[256];
    snprintf(list, sizeof list, "%s:@SECLEVEL=0", ciphers ? ciphers : "DEFAULT");
    ck_assert_msg(SSL_CTX_set_cipher_list(c->ctx, list) == 1, "cipher list %s", list);
    ck_assert(SSL_CTX_set_min_proto_version(c->ctx, min_version) == 1);
    ck_assert(SSL_CTX_set_max_proto_version(c->ctx, max_version) == 1);
    if (ca_file) {
        ck_assert_msg(SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) == 1, "CA file %s",
                      ca_file);
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    }
    c->ssl = SSL_new(c->ctx);
    ck_assert(c->ssl);
    if (ca_file)
        ck_assert(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") == 1);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1) {
        unsigned long e = ERR_get_error();
        long vr = SSL_get_verify_result(c->ssl);
        snprintf(err, errlen, "%s%s%s", e ? ERR_reason_error_string(e) : "connection closed",
                 vr != X509_V_OK ? ": " : "",
                 vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
        ERR_clear_error();
        conn_close(c);
        return -1;
    }
    return SSL_version(c->ssl);
}

int h_tls_handshake(int port, const char *ca_file, int min_version, int max_version,
                    const char *ciphers, char *err, size_t errlen)
{
    struct conn c = {.fd = connect_to(port)};
    if (c.fd < 0) {
        snprintf(err, errlen, "cannot connect: %s", strerror(errno));
        return -1;
    }
    int v = conn_tls(&c, ca_file, min_version, max_version, ciphers, err, errlen);
    if (v > 0)
        conn_close(&c);
    return v;
}

static bool conn_write(struct conn *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, buf, (int)len) : write(c->fd, buf, len);
        if (w <= 0)
            return false;
        buf += w;
        len -= (size_t)w;
    }
    return true;
}

/* Bytes read, 0 at the end (close_notify, EOF, or a dirty TLS close). */
static ssize_t conn_read(struct conn *c, char *buf, size_t len)
{
    if (!c->ssl)
        return read(c->fd, buf, len);
    int n = SSL_read(c->ssl, buf, (int)len);
    ERR_clear_error();
    return n > 0 ? n : 0;
}

struct http_resp *h_http(struct gc_server *s, const char *method, const char *path,
                         const char *token, const char *body, const char *const *headers)
{
    struct conn c = {.fd = connect_to(s->port)};
    if (c.fd < 0)
        return NULL;
    char tls_err[256];
    if (s->tls && conn_tls(&c, s->ca_file, 0, 0, NULL, tls_err, sizeof tls_err) < 0)
        return NULL;
    size_t blen = body ? strlen(body) : 0;
    size_t cap = 4096 + blen;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method,
                     path);
    if (token)
        n += snprintf(req + n, cap - (size_t)n, "Authorization: Bearer %s\r\n", token);
    bool has_ct = false;
    for (int i = 0; headers && headers[i]; i++) {
        n += snprintf(req + n, cap - (size_t)n, "%s\r\n", headers[i]);
        has_ct = has_ct || strncasecmp(headers[i], "Content-Type:", 13) == 0;
    }
    if (body) {
        if (!has_ct)
            n += snprintf(req + n, cap - (size_t)n, "Content-Type: application/json\r\n");
        n += snprintf(req + n, cap - (size_t)n, "Content-Length: %zu\r\n", blen);
    }
    n += snprintf(req + n, cap - (size_t)n, "\r\n");
    if (body) {
        memcpy(req + n, body, blen);
        n += (int)blen;
    }
    conn_write(&c, req, (size_t)n);
    free(req);
    size_t rcap = 65536, rlen = 0;
    char *buf = malloc(rcap + 1);
    for (;;) {
        if (rlen == rcap) {
            rcap *= 2;
            buf = realloc(buf, rcap + 1);
        }
        ssize_t got = conn_read(&c, buf + rlen, rcap - rlen);
        if (got <= 0)
            break;
        rlen += (size_t)got;
    }
    conn_close(&c);
    buf[rlen] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (rlen < 12 || !sep) {
        free(buf);
        return NULL;
    }
    struct http_resp *r = calloc(1, sizeof *r);
    r->status = atoi(buf + 9);
    *sep = '\0';
    r->head = strdup(buf);
    r->body_len = rlen - (size_t)(sep + 4 - buf);
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, sep + 4, r->body_len + 1);
    r->json = json_loads(r->body, 0, NULL);
    free(buf);
    if (!s->foreign)
        h_check_answer(method, path, r);
    return r;
}

const struct oa_doc *h_openapi(void)
{
    if (openapi)
        return openapi;
    char err[1024];
    ck_assert_msg(openapi_path, "GC_OPENAPI unset (h_init first, through ctest)");
    openapi = oa_load_file(openapi_path, err, sizeof err);
    ck_assert_msg(openapi, "%s", err);
    return openapi;
}

void h_check_answer(const char *method, const char *target, const struct http_resp *r)
{
    char err[1200];
    struct oa_answer a = {r->status, r->head, r->body, r->body_len};
    ck_assert_msg(oa_check(h_openapi(), method, target, &a, err, sizeof err) == 0, "%s", err);
}

size_t h_check_wire(const char *req, const char *buf, size_t len)
{
    char method[16], target[2100];
    size_t ml = strcspn(req, " ");
    ck_assert_msg(ml > 0 && ml < sizeof method, "no request line in %.40s", req);
    memcpy(method, req, ml);
    method[ml] = '\0';
    size_t tl = strcspn(req + ml + 1, " ");
    snprintf(target, sizeof target, "%.*s", (int)tl, req + ml + 1);
    char err[1200];
    size_t used = 0;
    ck_assert_msg(oa_check_wire(h_openapi(), method, target, buf, len, &used, err, sizeof err) == 0,
                  "%s", err);
    return used;
}

void h_resp_free(struct http_resp *r)
{
    if (!r)
        return;
    free(r->head);
    free(r->body);
    json_decref(r->json);
    free(r);
}

const char *h_header(struct http_resp *r, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= n)
                len = n - 1;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return buf;
        }
    }
    return NULL;
}

void h_expect(struct http_resp *r, int status, const char *error_code)
{
    ck_assert_msg(r, "no HTTP response");
    ck_assert_msg(r->status == status, "expected %d, got %d: %s", status, r->status, r->body);
    if (error_code) {
        const char *code =
            json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
        ck_assert_msg(code && strcmp(code, error_code) == 0, "expected error %s, got %s",
                      error_code, r->body);
    }
    h_resp_free(r);
}

const char *h_tls_file(const char *name)
{
    static char bufs[8][600];
    static int slot;
    const char *dir = getenv("GC_TLS_DIR");
    ck_assert_msg(dir != NULL, "GC_TLS_DIR unset (the tls fixture of tests/CMakeLists.txt)");
    char *b = bufs[slot++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

const char *h_natid(int seq)
{
    static char bufs[8][32];
    static int slot;
    char *b = bufs[slot++ % 8];
    /* Region 611002, birth 1999-01-01 + seq days (valid dates), sequence from seq. */
    int day = seq % 300;
    int y = 1995 + (seq / 300) % 8;
    int m = 1 + day / 28, d = 1 + day % 28;
    snprintf(b, sizeof bufs[0], "611002%04d%02d%02d%03d", y, m, d, seq % 1000);
    b[17] = natid_check_char(b);
    b[18] = '\0';
    return b;
}

void h_register(struct gc_server *s, const char *token, const char *id, const char *county, int seq,
                const char *registered_at)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "county", county, "name", "测试",
                          "national_id", h_natid(seq));
    if (registered_at)
        json_object_set_new(b, "registered_at", json_string(registered_at));
    char *text = json_dumps(b, 0);
    json_decref(b);
    struct http_resp *r = h_http(s, "POST", "/api/v1/graduates", token, text, NULL);
    free(text);
    ck_assert_msg(r && r->status == 201, "register %s: %d %s", id, r ? r->status : 0,
                  r ? r->body : "");
    h_resp_free(r);
}

int h_contact(struct gc_server *s, const char *token, const char *gid, const char *occurred_at,
              const char *idem_key)
{
    json_t *b = json_pack("{s:s, s:s}", "graduate_id", gid, "service", "job_referral");
    if (occurred_at)
        json_object_set_new(b, "occurred_at", json_string(occurred_at));
    char *text = json_dumps(b, 0);
    json_decref(b);
    char hdr[200];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", idem_key ? idem_key : "");
    const char *headers[2] = {idem_key ? hdr : NULL, NULL};
    struct http_resp *r = h_http(s, "POST", "/api/v1/contacts", token, text, headers);
    free(text);
    int st = r ? r->status : 0;
    h_resp_free(r);
    return st;
}

void h_counts(struct gc_server *s, const char *county, const char *period, long long *reg,
              long long *srv)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/counties/%s/coverage%s%s", county,
             period && *period ? "?period=" : "", period ? period : "");
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "coverage %s: %s", county, r ? r->body : "none");
    *reg = json_integer_value(json_object_get(r->json, "registered"));
    *srv = json_integer_value(json_object_get(r->json, "served"));
    h_resp_free(r);
}

struct h_redis_proc *h_redis_spawn(const char *name, int port, bool fresh)
{
    return h_redis_spawn_args(name, port, fresh, NULL);
}

struct h_redis_proc *h_redis_spawn_fsync(const char *name, int port, bool fresh,
                                         const char *appendfsync)
{
    const char *extra[] = {"--appendfsync", appendfsync, NULL};
    return h_redis_spawn_args(name, port, fresh, extra);
}

struct h_redis_proc *h_redis_spawn_args(const char *name, int port, bool fresh,
                                        const char *const *extra)
{
    struct h_redis_proc *p = calloc(1, sizeof *p);
    p->port = port ? port : h_free_port();
    snprintf(p->dir, sizeof p->dir, "%s/redis-%s", work_dir, name);
    if (fresh) {
        /* A new server starts empty; a restart keeps its AOF. */
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
        ck_assert_int_eq(system(cmd), 0);
    }
    mkdir(p->dir, 0755);
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", p->port);
    p->pid = fork();
    ck_assert(p->pid >= 0);
    if (p->pid == 0) {
        quiet_stdio(NULL);
        const char *argv[32] = {"redis-server", "--port",        portbuf,  "--bind", "127.0.0.1",
                                "--dir",        p->dir,          "--save", "",       "--appendonly",
                                "yes",          "--appendfsync", "always"};
        int n = 13;
        for (int i = 0; extra && extra[i] && n < 31; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    track(p->pid);
    for (int i = 0; i < 100; i++) {
        redisContext *c = redisConnect("127.0.0.1", p->port);
        bool ok = c && !c->err;
        if (ok) {
            redisReply *r = redisCommand(c, "PING");
            ok = r && r->type == REDIS_REPLY_STATUS;
            freeReplyObject(r);
        }
        redisFree(c);
        if (ok)
            return p;
        h_sleep_ms(50);
    }
    ck_abort_msg("private redis-server did not start");
    return NULL;
}

void h_redis_stop(struct h_redis_proc *r, bool hard)
{
    kill(r->pid, SIGCONT);
    kill(r->pid, hard ? SIGKILL : SIGTERM);
    waitpid(r->pid, NULL, 0);
    untrack(r->pid);
}

/* ---- forked children that run test code ---- */

/* A child that runs test code (not exec) is a copy of the test process, whose
 * objects the test owns and may hold only in registers or frames the copy no
 * longer has: valgrind's exit-time leak check in the copy once reported them
 * "definitely lost" and replaced the child's exit code with its own (99),
 * failing a test that had passed. So such a child hands its result over
 * shared memory and kills itself (no exit-time checks run on SIGKILL). */
#define H_CHILDREN 64
struct h_child_slot {
    pid_t pid;
    int finished;
    int code;
};
static struct h_child_slot *child_slots; /* MAP_SHARED, H_CHILDREN; never unmapped */
static int own_slot = -1;                /* in a child: its slot */

pid_t h_child_fork(void)
{
    if (!child_slots) {
        child_slots = mmap(NULL, H_CHILDREN * sizeof *child_slots, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ck_assert(child_slots != MAP_FAILED);
    }
    int i = 0;
    while (i < H_CHILDREN && child_slots[i].pid != 0)
        i++;
    ck_assert_msg(i < H_CHILDREN, "more than %d children at once", H_CHILDREN);
    child_slots[i] = (struct h_child_slot){.pid = -1}; /* taken before the child can end */
    fflush(NULL);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        own_slot = i;
        return 0;
    }
    child_slots[i].pid = pid;
    return pid;
}

_Noreturn void h_child_exit(int code)
{
    fflush(NULL); /* what the child printed (its buffers were empty at the fork) */
    if (own_slot >= 0) {
        child_slots[own_slot].code = code;
        __atomic_store_n(&child_slots[own_slot].finished, 1, __ATOMIC_SEQ_CST);
        raise(SIGKILL);
    }
    _exit(code);
}

int h_child_wait(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < H_CHILDREN; i++)
        if (child_slots[i].pid == pid) {
            int code = __atomic_load_n(&child_slots[i].finished, __ATOMIC_SEQ_CST)
                           ? child_slots[i].code
                           : (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            child_slots[i] = (struct h_child_slot){0};
            return code;
        }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int h_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

char *h_metrics_text(struct gc_server *s, const char *token)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", token, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics: %d", r ? r->status : 0);
    char *text = strdup(r->body);
    h_resp_free(r);
    ck_assert_ptr_nonnull(text);
    return text;
}

long long h_metric_value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return atoll(p + n + 1);
    return -1;
}

long long h_metric(struct gc_server *s, const char *token, const char *series)
{
    char *text = h_metrics_text(s, token);
    long long v = h_metric_value(text, series);
    free(text);
    return v;
}

void h_hup_and_wait(struct gc_server *s, const char *which, long long before)
{
    const char *name = strcmp(which, "reloads") == 0 ? "gradcover_config_reloads_total"
                                                     : "gradcover_config_reload_failures_total";
    ck_assert_int_eq(kill(s->pid, SIGHUP), 0);
    long long deadline = h_now_ms() + h_ms(10000);
    while (h_metric(s, T_VIEWER, name) == before) {
        ck_assert_msg(h_now_ms() < deadline, "no %s counted after SIGHUP", which);
        h_sleep_ms(50);
    }
    ck_assert_int_eq(h_metric(s, T_VIEWER, name), before + 1);
}

bool h_log_wait(struct gc_server *s, const char *a, const char *b)
{
    long long deadline = h_now_ms() + h_ms(5000);
    for (;;) {
        FILE *f = fopen(s->log_path, "r");
        ck_assert_ptr_nonnull(f);
        char line[4096];
        bool found = false;
        while (!found && fgets(line, sizeof line, f))
            found = strstr(line, a) && (!b || strstr(line, b));
        fclose(f);
        if (found)
            return true;
        if (h_now_ms() > deadline)
            return false;
        h_sleep_ms(50);
    }
}
