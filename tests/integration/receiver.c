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

static void respond(struct rconn *c, int status)
{
    char resp[256];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
                     status, reason_phrase(status));
    rconn_write_all(c, resp, (size_t)n);
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
static bool serve_one(struct rconn *c, int logfd, int status, int delay_ms)
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
    json_object_set_new(req, "status", json_integer(status));
    json_object_set_new(req, "t_ms", json_integer(receiver_mono_ms()));
    log_request(logfd, req);
    used = true;
    if (delay_ms > 0)
        receiver_sleep_ms(delay_ms);
    respond(c, status);
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
                           const char *log_path, const char *tls_log_path, SSL_CTX *ctx)
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
        int status = statuses[next < nstatuses ? next : nstatuses - 1];
        if (serve_one(&c, logfd, status, delay_ms))
            next++;
        if (c.ssl) {
            SSL_shutdown(c.ssl);
            SSL_free(c.ssl);
        }
        shutdown(fd, SHUT_WR);
        close(fd);
    }
}

static int parse_statuses(const char *script, int *out)
{
    size_t n = 0;
    const char *p = script && *script ? script : "200";
    while (*p && n < RECEIVER_MAX_STATUSES) {
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p || v < 100 || v > 599)
            return -1;
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
                                       const char *cert, const char *key)
{
    int script[RECEIVER_MAX_STATUSES];
    int nscript = parse_statuses(statuses, script);
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
                       receiver_tls_ctx(cert, key));
        _exit(0);
    }
    close(lfd); /* the child listens; the port was listening before fork */
    if (nreceivers_running < sizeof receivers_running / sizeof receivers_running[0])
        receivers_running[nreceivers_running++] = r;
    return r;
}

struct receiver *receiver_start_on(int port, const char *statuses, int delay_ms)
{
    return start_receiver(port, statuses, delay_ms, NULL, NULL);
}

struct receiver *receiver_start(const char *statuses)
{
    return receiver_start_on(0, statuses, 0);
}

struct receiver *receiver_start_tls(const char *statuses, const char *cert, const char *key)
{
    return start_receiver(0, statuses, 0, cert, key);
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
