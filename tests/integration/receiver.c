/* A real HTTP receiver for integration tests (see receiver.h). Included once
 * by the test that uses it. */
#include "receiver.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#define RECEIVER_MAX_HEAD (16 * 1024)
#define RECEIVER_MAX_STATUSES 64
#define RECEIVER_IO_TIMEOUT_S 5

static struct receiver *receivers_running[32];
static size_t nreceivers_running;
static int receiver_seq;

static long long receiver_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void receiver_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        buf += w;
        len -= (size_t)w;
    }
    return true;
}

/* Reads into buf[*len..cap); returns bytes read, 0 on EOF, -1 on error/timeout. */
static ssize_t read_some(int fd, char *buf, size_t cap, size_t *len)
{
    for (;;) {
        ssize_t got = read(fd, buf + *len, cap - *len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got > 0)
            *len += (size_t)got;
        return got;
    }
}

/* One accepted connection, plain or TLS. */
struct rconn {
    int fd;
    SSL *ssl; /* NULL in plain mode */
};

static bool rconn_write_all(struct rconn *c, const char *buf, size_t len)
{
    if (!c->ssl)
        return write_all(c->fd, buf, len);
    while (len > 0) {
        int w = SSL_write(c->ssl, buf, (int)len);
        if (w <= 0)
            return false;
        buf += w;
        len -= (size_t)w;
    }
    return true;
}

static ssize_t rconn_read_some(struct rconn *c, char *buf, size_t cap, size_t *len)
{
    if (!c->ssl)
        return read_some(c->fd, buf, cap, len);
    int got = SSL_read(c->ssl, buf + *len, (int)(cap - *len));
    if (got > 0) {
        *len += (size_t)got;
        return got;
    }
    ERR_clear_error();
    return SSL_get_error(c->ssl, got) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static void respond_body(struct rconn *c, int status, const char *body)
{
    char resp[1024];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, reason_phrase(status), strlen(body), body);
    rconn_write_all(c, resp, (size_t)n);
}

static void respond(struct rconn *c, int status)
{
    respond_body(c, status, "{}");
}

/* ---- chat robots, as their documentation describes them ---- */

/* What a robot receiver is (set in the child from start_receiver's
 * arguments). */
struct robot {
    char kind[16]; /* "" = not a robot */
    char secret[256];
    bool has_secret;
    int codes[RECEIVER_MAX_STATUSES]; /* the code answered with each status */
};

/* Base64 of HMAC-SHA256(key, msg), as the robots' documentation computes it. */
static void robot_hmac_b64(const char *key, size_t keylen, const char *msg, size_t msglen,
                           char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)(msglen ? msg : ""), msglen, md,
         &len);
    EVP_EncodeBlock((unsigned char *)out, md, (int)len);
}

/* Decodes %XX escapes (and '+' as a space, as urlEncode's reader does). */
static void url_decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (in[i] == '%' && i + 2 < n && isxdigit((unsigned char)in[i + 1]) &&
            isxdigit((unsigned char)in[i + 2])) {
            char hex[3] = {in[i + 1], in[i + 2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[k++] = in[i] == '+' ? ' ' : in[i];
        }
    }
    out[k] = '\0';
}

/* The value of query parameter name in path ("" when absent), decoded. */
static void query_param(const char *path, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    const char *q = strchr(path, '?');
    size_t nl = strlen(name);
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            url_decode(p + nl + 1, len - nl - 1, out, cap);
            return;
        }
        p = amp ? amp + 1 : NULL;
    }
}

/* A signature's time must be within an hour of the robot's clock (both
 * DingTalk and Feishu say so); ms: DingTalk's milliseconds, else seconds. */
static bool robot_time_ok(const char *ts, bool ms)
{
    char *end;
    long long v = strtoll(ts, &end, 10);
    if (!*ts || *end)
        return false;
    long long now = (long long)time(NULL) * (ms ? 1000 : 1);
    long long hour = ms ? 3600000LL : 3600LL;
    return v > now - hour && v < now + hour;
}

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Checks a request as the robot does; fills "shape", "sig", "text",
 * "title" in req and returns the code the robot refuses it with (0: it
 * takes it). */
static int robot_check(const struct robot *rb, const char *path, const char *body, size_t blen,
                       json_t *req)
{
    json_error_t jerr;
    json_t *b = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &jerr);
    const char *shape = "ok", *sig = rb->has_secret ? "ok" : "none";
    const char *text = NULL;
    char why[512];
    int refuse = 0;
    bool wecom = strcmp(rb->kind, "wecom") == 0, ding = strcmp(rb->kind, "dingtalk") == 0;
    if (wecom || ding) {
        json_t *md = json_object_get(b, "markdown");
        text = str_of(md, ding ? "text" : "content");
        if (!b || strcmp(str_of(b, "msgtype") ? str_of(b, "msgtype") : "", "markdown") != 0 ||
            !text || json_object_size(b) != 2 || json_object_size(md) != (ding ? 2u : 1u) ||
            (ding && !str_of(md, "title")))
            shape = "not {msgtype: markdown, markdown: {...}}";
        else if (wecom && strlen(text) > 4096)
            shape = "markdown.content longer than 4096 bytes";
        if (ding && str_of(md, "title"))
            json_object_set_new(req, "title", json_string(str_of(md, "title")));
        if (ding && rb->has_secret) {
            char ts[64], sign[256], want[128], msg[512];
            query_param(path, "timestamp", ts, sizeof ts);
            query_param(path, "sign", sign, sizeof sign);
            int ml = snprintf(msg, sizeof msg, "%s\n%s", ts, rb->secret);
            robot_hmac_b64(rb->secret, strlen(rb->secret), msg, (size_t)ml, want);
            if (ts[0]) /* when the sender signed it: its turn, as it saw it */
                json_object_set_new(req, "signed_ms", json_integer(atoll(ts)));
            if (!ts[0] || !sign[0])
                sig = "no timestamp or sign in the query";
            else if (!robot_time_ok(ts, true))
                sig = "timestamp not within an hour";
            else if (strcmp(sign, want) != 0) {
                snprintf(why, sizeof why, "sign %s, want %s", sign, want);
                sig = why;
            }
            if (strcmp(sig, "ok") != 0)
                refuse = 310000;
        }
    } else {
        json_t *content = json_object_get(b, "content");
        text = str_of(content, "text");
        size_t keys = rb->has_secret ? 4 : 2;
        if (!b || strcmp(str_of(b, "msg_type") ? str_of(b, "msg_type") : "", "text") != 0 ||
            !text || json_object_size(b) != keys)
            shape = "not {msg_type: text, content: {text}} (with timestamp and sign)";
        if (rb->has_secret) {
            const char *ts = str_of(b, "timestamp"), *sign = str_of(b, "sign");
            char want[128], key[512];
            if (!ts || !sign) {
                sig = "no timestamp or sign in the body";
            } else {
                int kl = snprintf(key, sizeof key, "%s\n%s", ts, rb->secret);
                robot_hmac_b64(key, (size_t)kl, "", 0, want);
                if (!robot_time_ok(ts, false))
                    sig = "timestamp not within an hour";
                else if (strcmp(sign, want) != 0) {
                    snprintf(why, sizeof why, "sign %s, want %s", sign, want);
                    sig = why;
                }
            }
            if (strcmp(sig, "ok") != 0)
                refuse = 19021;
        }
    }
    if (strcmp(shape, "ok") != 0 && !refuse)
        refuse = wecom ? 40008 : ding ? 40035 : 9499;
    json_object_set_new(req, "robot", json_string(rb->kind));
    json_object_set_new(req, "shape", json_string(shape));
    json_object_set_new(req, "sig", json_string(sig));
    json_object_set_new(req, "text", text ? json_string(text) : json_null());
    json_decref(b);
    return refuse;
}

/* The robot's answer with this code, as its documentation shows them. */
static void robot_answer(const struct robot *rb, int code, char *out, size_t n)
{
    const char *msg = code == 0        ? "ok"
                      : code == 45009  ? "api freq out of limit"
                      : code == 130101 ? "send too fast, exceed 20 times per minute"
                      : code == 11232  ? "frequency limited"
                      : code == 310000 ? "sign not match"
                      : code == 19021  ? "sign match fail or timestamp is not within one hour "
                                         "from current time"
                                       : "error";
    if (strcmp(rb->kind, "feishu") == 0)
        snprintf(out, n, "{\"code\":%d,\"msg\":\"%s\",\"data\":{}}", code,
                 code == 0 ? "success" : msg);
    else
        snprintf(out, n, "{\"errcode\":%d,\"errmsg\":\"%s\"}", code, msg);
}

static void log_request(int logfd, json_t *req)
{
    char *line = json_dumps(req, JSON_COMPACT);
    if (!line)
        return;
    size_t len = strlen(line);
    char *buf = malloc(len + 2);
    if (buf) {
        memcpy(buf, line, len);
        buf[len] = '\n';
        /* One write on an O_APPEND descriptor: a line is never torn. */
        write_all(logfd, buf, len + 1);
        free(buf);
    }
    free(line);
}

/* Handles one connection: one request, one answer, close. Returns true when a
 * request was answered with a status of the script (so the script advances). */
static bool serve_one(struct rconn *c, int logfd, int status, int code, const struct robot *rb,
                      int delay_ms)
{
    char *head = malloc(RECEIVER_MAX_HEAD + 1);
    char *body = malloc(RECEIVER_MAX_BODY + 1);
    bool used = false;
    json_t *req = NULL;
    if (!head || !body)
        goto out;
    size_t hlen = 0;
    char *end = NULL;
    while (!end) {
        if (hlen == RECEIVER_MAX_HEAD)
            goto out; /* header block too large: drop the connection */
        if (rconn_read_some(c, head, RECEIVER_MAX_HEAD, &hlen) <= 0)
            goto out;
        head[hlen] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - head) + 4;
    /* Bytes after the header block already read belong to the body. */
    size_t extra = hlen - head_len;
    *end = '\0';

    req = json_object();
    json_t *headers = json_object();
    json_object_set_new(req, "headers", headers);
    char *line_end = strstr(head, "\r\n");
    if (line_end)
        *line_end = '\0';
    char method[16] = "", path[2048] = "";
    if (sscanf(head, "%15s %2047s", method, path) != 2)
        goto out;
    json_object_set_new(req, "method", json_string(method));
    json_object_set_new(req, "path", json_stringn(path, strlen(path)));
    long long content_length = 0;
    bool expect_continue = false;
    for (char *line = line_end ? line_end + 2 : NULL; line && *line;) {
        char *next = strstr(line, "\r\n");
        if (next)
            *next = '\0';
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            for (char *p = line; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = strlen(v);
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                v[--vl] = '\0';
            json_t *js = json_stringn(v, vl);
            json_object_set_new(headers, line, js ? js : json_string("<not utf-8>"));
            if (strcmp(line, "content-length") == 0)
                content_length = atoll(v);
            if (strcmp(line, "expect") == 0 && strcasecmp(v, "100-continue") == 0)
                expect_continue = true;
        }
        line = next ? next + 2 : NULL;
    }
    if (content_length < 0)
        content_length = 0;

    bool too_large = content_length > RECEIVER_MAX_BODY;
    if (too_large) {
        json_object_set_new(req, "body_truncated", json_true());
        json_object_set_new(req, "body", json_null());
        json_object_set_new(req, "body_len", json_integer(content_length));
        json_object_set_new(req, "status", json_integer(413));
        json_object_set_new(req, "t_ms", json_integer(receiver_mono_ms()));
        log_request(logfd, req);
        respond(c, 413);
        goto out;
    }
    if (expect_continue && (long long)extra < content_length) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        rconn_write_all(c, cont, sizeof cont - 1);
    }
    size_t blen = extra < (size_t)content_length ? extra : (size_t)content_length;
    memcpy(body, head + head_len, blen);
    while (blen < (size_t)content_length) {
        if (rconn_read_some(c, body, (size_t)content_length, &blen) <= 0)
            break; /* short body: logged as received */
    }
    body[blen] = '\0';
    json_t *jb = json_stringn(body, blen);
    json_object_set_new(req, "body", jb ? jb : json_null());
    json_object_set_new(req, "body_len", json_integer((json_int_t)blen));
    if (blen < (size_t)content_length)
        json_object_set_new(req, "body_truncated", json_true());
    char answer[512] = "{}";
    if (rb->kind[0]) {
        int refuse = robot_check(rb, path, body, blen, req);
        if (refuse) {
            status = 200;
            code = refuse;
        }
        json_object_set_new(req, "code", json_integer(code));
        robot_answer(rb, code, answer, sizeof answer);
    }
    json_object_set_new(req, "status", json_integer(status));
    json_object_set_new(req, "t_ms", json_integer(receiver_mono_ms()));
    json_object_set_new(req, "wall_ms", json_integer((json_int_t)time(NULL) * 1000));
    log_request(logfd, req);
    used = true;
    if (delay_ms > 0)
        receiver_sleep_ms(delay_ms);
    respond_body(c, status, answer);
out:
    json_decref(req);
    free(head);
    free(body);
    return used;
}

/* The child's TLS context, or NULL in plain mode; exits when the files do
 * not load. */
static SSL_CTX *receiver_tls_ctx(const char *cert, const char *key)
{
    if (!cert)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        _exit(5);
    return ctx;
}

static void log_tls_failure(const char *tls_log_path)
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    char line[300];
    int n = snprintf(line, sizeof line, "%s\n", e ? ERR_reason_error_string(e) : "closed");
    int fd = open(tls_log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        write_all(fd, line, (size_t)n);
        close(fd);
    }
}

static void receiver_child(int lfd, const int *statuses, size_t nstatuses, int delay_ms,
                           const char *log_path, const char *tls_log_path, SSL_CTX *ctx,
                           const struct robot *rb)
{
    /* Never outlive the test binary, whatever happens to it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (logfd < 0)
        _exit(3);
    size_t next = 0;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(4);
        }
        struct timeval tv = {RECEIVER_IO_TIMEOUT_S, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct rconn c = {fd, NULL};
        if (ctx) {
            c.ssl = SSL_new(ctx);
            if (!c.ssl || SSL_set_fd(c.ssl, fd) != 1 || SSL_accept(c.ssl) != 1) {
                log_tls_failure(tls_log_path);
                SSL_free(c.ssl);
                close(fd);
                continue;
            }
        }
        size_t at = next < nstatuses ? next : nstatuses - 1;
        if (serve_one(&c, logfd, statuses[at], rb->codes[at], rb, delay_ms))
            next++;
        if (c.ssl) {
            SSL_shutdown(c.ssl);
            SSL_free(c.ssl);
        }
        shutdown(fd, SHUT_WR);
        close(fd);
    }
}

/* "STATUS" or "STATUS:CODE" entries; codes (may be NULL) get each CODE (0
 * when absent). */
static int parse_statuses(const char *script, int *out, int *codes)
{
    size_t n = 0;
    const char *p = script && *script ? script : "200";
    while (*p && n < RECEIVER_MAX_STATUSES) {
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p || v < 100 || v > 599)
            return -1;
        long code = 0;
        if (*e == ':') {
            const char *c = e + 1;
            code = strtol(c, &e, 10);
            if (e == c || !codes)
                return -1;
        }
        if (codes)
            codes[n] = (int)code;
        out[n++] = (int)v;
        while (*e == ',' || *e == ' ')
            e++;
        p = e;
    }
    return n ? (int)n : -1;
}

static int listen_on(int port)
{
    for (int i = 0; i < 100; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 128) == 0)
            return fd;
        close(fd);
        if (port == 0)
            return -1;
        receiver_sleep_ms(50); /* the port may still be held a moment */
    }
    return -1;
}

static struct receiver *start_receiver(int port, const char *statuses, int delay_ms,
                                       const char *cert, const char *key, const struct robot *rb)
{
    static const struct robot none;
    if (!rb)
        rb = &none;
    int script[RECEIVER_MAX_STATUSES];
    struct robot robot = *rb;
    int nscript = parse_statuses(statuses, script, rb->kind[0] ? robot.codes : NULL);
    if (nscript < 0) {
        fprintf(stderr, "receiver: bad status script \"%s\"\n", statuses);
        return NULL;
    }
    int lfd = listen_on(port);
    if (lfd < 0) {
        fprintf(stderr, "receiver: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return NULL;
    }
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    if (getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        close(lfd);
        return NULL;
    }
    struct receiver *r = calloc(1, sizeof *r);
    if (!r) {
        close(lfd);
        return NULL;
    }
    r->port = ntohs(a.sin_port);
    const char *dir = getenv("GC_WORK_DIR");
    snprintf(r->log_path, sizeof r->log_path, "%s/receiver-%d-%d-%d.jsonl", dir ? dir : "/tmp",
             (int)getpid(), r->port, ++receiver_seq);
    unlink(r->log_path);
    /* The file exists before the child runs, so reading it never fails. */
    int fd = open(r->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
    if (cert) {
        snprintf(r->tls_log_path, sizeof r->tls_log_path, "%s.tls", r->log_path);
        unlink(r->tls_log_path);
    }
    fflush(NULL);
    r->pid = fork();
    if (r->pid < 0) {
        close(lfd);
        free(r);
        return NULL;
    }
    if (r->pid == 0) {
        receiver_child(lfd, script, (size_t)nscript, delay_ms, r->log_path, r->tls_log_path,
                       receiver_tls_ctx(cert, key), &robot);
        _exit(0);
    }
    close(lfd); /* the child listens; the port was listening before fork */
    if (nreceivers_running < sizeof receivers_running / sizeof receivers_running[0])
        receivers_running[nreceivers_running++] = r;
    return r;
}

struct receiver *receiver_start_on(int port, const char *statuses, int delay_ms)
{
    return start_receiver(port, statuses, delay_ms, NULL, NULL, NULL);
}

struct receiver *receiver_start_robot(const char *kind, const char *script, const char *secret,
                                      const char *cert, const char *key)
{
    struct robot rb = {0};
    if (strcmp(kind, "wecom") != 0 && strcmp(kind, "dingtalk") != 0 &&
        strcmp(kind, "feishu") != 0) {
        fprintf(stderr, "receiver: no robot \"%s\"\n", kind);
        return NULL;
    }
    snprintf(rb.kind, sizeof rb.kind, "%s", kind);
    if (secret) {
        snprintf(rb.secret, sizeof rb.secret, "%s", secret);
        rb.has_secret = true;
    }
    return start_receiver(0, script && *script ? script : "200:0", 0, cert, key, &rb);
}

struct receiver *receiver_start(const char *statuses)
{
    return receiver_start_on(0, statuses, 0);
}

struct receiver *receiver_start_tls(const char *statuses, const char *cert, const char *key)
{
    return start_receiver(0, statuses, 0, cert, key, NULL);
}

size_t receiver_tls_failures(const struct receiver *r)
{
    if (!r->tls_log_path[0])
        return 0;
    FILE *f = fopen(r->tls_log_path, "r");
    if (!f)
        return 0;
    size_t n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

void receiver_stop(struct receiver *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < nreceivers_running; i++)
        if (receivers_running[i] == r)
            receivers_running[i] = receivers_running[--nreceivers_running];
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    free(r);
}

void receiver_stop_all(void)
{
    while (nreceivers_running > 0)
        receiver_stop(receivers_running[0]);
}

int receiver_port(const struct receiver *r)
{
    return r->port;
}

json_t *receiver_requests(const struct receiver *r)
{
    json_t *out = json_array();
    FILE *f = fopen(r->log_path, "r");
    if (!f)
        return out;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* a line still being written */
        json_t *o = json_loadb(line, (size_t)len, 0, NULL);
        if (o)
            json_array_append_new(out, o);
    }
    free(line);
    fclose(f);
    return out;
}

json_t *receiver_wait(const struct receiver *r, size_t n, int timeout_ms)
{
    long long end = receiver_mono_ms() + timeout_ms;
    for (;;) {
        json_t *reqs = receiver_requests(r);
        if (json_array_size(reqs) >= n || receiver_mono_ms() >= end)
            return reqs;
        json_decref(reqs);
        receiver_sleep_ms(50);
    }
}

const char *receiver_header(json_t *req, const char *lower_name)
{
    return json_string_value(json_object_get(json_object_get(req, "headers"), lower_name));
}

json_t *receiver_body_json(json_t *req)
{
    const char *b = json_string_value(json_object_get(req, "body"));
    return b ? json_loads(b, 0, NULL) : NULL;
}

size_t receiver_count_event(json_t *got, const char *event_id)
{
    size_t j, n = 0;
    json_t *q;
    json_array_foreach(got, j, q)
    {
        const char *h = receiver_header(q, "x-gradcover-event-id");
        n += h && strcmp(h, event_id) == 0;
    }
    return n;
}
