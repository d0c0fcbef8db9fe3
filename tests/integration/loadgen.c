/* Concurrent HTTP/1.1 load client for the fault tests (see loadgen.h). */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "openapi.h"

/* Connections of one load process (tests use up to 32). */
#define LG_MAX_CONN 64
/* Largest answer kept: contact answers are ~250 bytes, errors ~200. */
#define LG_IN_MAX 16384
#define LG_OUT_MAX 1024

/* Shared between the test and the load process. */
struct lg_shared {
    atomic_int stop;
    atomic_size_t done;
    atomic_size_t acked;
};

struct lg {
    pid_t pid;
    struct lg_shared *sh;
    struct lg_req *reqs; /* for the answers' checks at lg_wait */
    size_t n;
};

enum cstate { C_IDLE, C_CONNECTING, C_SENDING, C_READING };

struct conn {
    int fd;
    int target;
    enum cstate st;
    struct lg_req *req;
    long long not_before; /* pause after a failure */
    char out[LG_OUT_MAX];
    size_t olen, ooff;
    char in[LG_IN_MAX + 1];
    size_t ilen;
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct lg_req *lg_reqs_new(size_t n)
{
    size_t len = (n ? n : 1) * sizeof(struct lg_req);
    struct lg_req *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        return NULL;
    for (size_t i = 0; i < n; i++)
        r[i].status = -1;
    return r;
}

void lg_reqs_free(struct lg_req *reqs, size_t n)
{
    if (reqs)
        munmap(reqs, (n ? n : 1) * sizeof(struct lg_req));
}

/* ---- the load process ---- */

struct run {
    struct lg_req *reqs;
    size_t n;
    const struct lg_opts *o;
    struct lg_shared *sh;
    size_t next[LG_MAX_CONN]; /* per target: first request not yet taken */
};

static struct lg_req *take(struct run *ru, int target)
{
    size_t *i = &ru->next[target];
    for (; *i < ru->n; (*i)++) {
        struct lg_req *q = &ru->reqs[*i];
        if (q->target != target || (ru->o->only_unacked && q->status == 201))
            continue;
        (*i)++;
        return q;
    }
    return NULL;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Records the outcome of c's request and makes c idle (keeping the socket
 * when keep_open). */
static void finish(struct run *ru, struct conn *c, int status, const char *err, bool keep_open)
{
    struct lg_req *q = c->req;
    q->status = status;
    q->t_done = mono_ms();
    if (err)
        snprintf(q->err, sizeof q->err, "%s", err);
    atomic_fetch_add(&ru->sh->done, 1);
    if (status == 201)
        atomic_fetch_add(&ru->sh->acked, 1);
    c->not_before = q->t_done + (status < 200 || status > 299 ? ru->o->pause_ms : ru->o->gap_ms);
    c->req = NULL;
    c->st = C_IDLE;
    c->ilen = 0;
    if (!keep_open)
        conn_close(c);
}

static int open_conn(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static void begin(struct run *ru, struct conn *c, struct lg_req *q)
{
    c->req = q;
    q->status = 0;
    q->retry_after = 0;
    q->replayed = false;
    q->id[0] = q->err[0] = '\0';
    q->t_sent = mono_ms();
    q->t_done = 0;
    q->oa_err[0] = '\0';
    size_t blen = strlen(q->body);
    int n = snprintf(c->out, sizeof c->out,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                     q->path, q->token, blen);
    if (q->key[0])
        n += snprintf(c->out + n, sizeof c->out - (size_t)n, "Idempotency-Key: %s\r\n", q->key);
    n += snprintf(c->out + n, sizeof c->out - (size_t)n, "\r\n%s", q->body);
    c->olen = (size_t)n < sizeof c->out ? (size_t)n : sizeof c->out - 1;
    c->ooff = 0;
    c->ilen = 0;
    if (c->fd >= 0) {
        c->st = C_SENDING;
        return;
    }
    c->fd = open_conn(ru->o->ports[c->target]);
    if (c->fd < 0) {
        finish(ru, c, 0, "connect", false);
        return;
    }
    c->st = C_CONNECTING;
}

/* Value of header name in the header block head (NUL-terminated), or NULL. */
static const char *header(const char *head, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
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

/* A complete answer in c->in: record it. Returns false while incomplete. */
static bool parse_answer(struct run *ru, struct conn *c)
{
    c->in[c->ilen] = '\0';
    char *sep = strstr(c->in, "\r\n\r\n");
    if (!sep)
        return false;
    size_t hlen = (size_t)(sep - c->in) + 4;
    *sep = '\0';
    char v[64];
    long long clen = header(c->in, "Content-Length", v, sizeof v) ? atoll(v) : 0;
    if ((long long)(c->ilen - hlen) < clen) {
        *sep = '\r';
        return false;
    }
    struct lg_req *q = c->req;
    int status = c->ilen > 12 ? atoi(c->in + 9) : 0;
    if (header(c->in, "Retry-After", v, sizeof v))
        q->retry_after = atoi(v);
    q->replayed = header(c->in, "Idempotent-Replayed", v, sizeof v) && strcmp(v, "true") == 0;
    bool close_after = header(c->in, "Connection", v, sizeof v) && strcasecmp(v, "close") == 0;
    struct oa_answer a = {status, c->in, c->in + hlen, (size_t)clen};
    if (oa_check(h_openapi(), "POST", q->path, &a, q->oa_err, sizeof q->oa_err) == 0)
        q->oa_err[0] = '\0';
    json_t *j = json_loadb(c->in + hlen, (size_t)clen, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    if (id)
        snprintf(q->id, sizeof q->id, "%s", id);
    if (code)
        snprintf(q->err, sizeof q->err, "%s", code);
    json_decref(j);
    finish(ru, c, status, NULL, !close_after && c->ilen == hlen + (size_t)clen);
    return true;
}

static void on_event(struct run *ru, struct conn *c, short re)
{
    if (c->st == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            finish(ru, c, 0, "connect", false);
            return;
        }
        c->st = C_SENDING;
    }
    if (c->st == C_SENDING && (re & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w = send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (w <= 0) {
            finish(ru, c, 0, "closed", false);
            return;
        }
        c->ooff += (size_t)w;
        if (c->ooff == c->olen)
            c->st = C_READING;
        return;
    }
    if (c->st == C_READING && (re & (POLLIN | POLLERR | POLLHUP))) {
        if (c->ilen == LG_IN_MAX) {
            finish(ru, c, 0, "answer too large", false);
            return;
        }
        ssize_t got = recv(c->fd, c->in + c->ilen, LG_IN_MAX - c->ilen, 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (got <= 0) {
            finish(ru, c, 0, "closed", false);
            return;
        }
        c->ilen += (size_t)got;
        parse_answer(ru, c);
    }
}

static int run_load(struct run *ru)
{
    const struct lg_opts *o = ru->o;
    int ncon = o->ncon < LG_MAX_CONN ? o->ncon : LG_MAX_CONN;
    struct conn *conns = calloc((size_t)ncon, sizeof *conns);
    struct pollfd pfd[LG_MAX_CONN];
    struct conn *pc[LG_MAX_CONN];
    if (!conns)
        return 3;
    for (int i = 0; i < ncon; i++) {
        conns[i].fd = -1;
        conns[i].target = i % o->nports;
    }
    for (;;) {
        long long now = mono_ms();
        bool stop = atomic_load(&ru->sh->stop) != 0;
        int nfds = 0, waiting = 0;
        long long wake = now + 100;
        for (int i = 0; i < ncon; i++) {
            struct conn *c = &conns[i];
            if (c->st == C_IDLE && !stop) {
                if (now < c->not_before) {
                    waiting++;
                    if (c->not_before < wake)
                        wake = c->not_before;
                    continue;
                }
                struct lg_req *q = take(ru, c->target);
                if (q)
                    begin(ru, c, q);
                if (c->st == C_IDLE) {
                    waiting += q != NULL; /* failed at once: pausing */
                    continue;
                }
            }
            if (c->st == C_IDLE)
                continue;
            if (now - c->req->t_sent > o->timeout_ms) {
                finish(ru, c, 0, "timeout", false);
                waiting++;
                continue;
            }
            pfd[nfds].fd = c->fd;
            pfd[nfds].events = c->st == C_READING ? POLLIN : POLLOUT;
            pfd[nfds].revents = 0;
            pc[nfds++] = c;
        }
        if (nfds == 0 && waiting == 0)
            break;
        int ms = (int)(wake - now);
        if (poll(pfd, (nfds_t)nfds, ms < 0 ? 0 : ms) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < nfds; k++)
            if (pfd[k].revents)
                on_event(ru, pc[k], pfd[k].revents);
    }
    for (int i = 0; i < ncon; i++)
        conn_close(&conns[i]);
    free(conns);
    return 0;
}

/* ---- the test's side ---- */

struct lg *lg_start(struct lg_req *reqs, size_t n, const struct lg_opts *o)
{
    if (o->nports < 1 || o->nports > LG_MAX_CONN || o->ncon < 1)
        return NULL;
    struct lg *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->sh = mmap(NULL, sizeof *g->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g->sh == MAP_FAILED) {
        free(g);
        return NULL;
    }
    atomic_init(&g->sh->stop, 0);
    atomic_init(&g->sh->done, 0);
    atomic_init(&g->sh->acked, 0);
    g->reqs = reqs;
    g->n = n;
    h_openapi(); /* loaded here: the load process only reads it */
    g->pid = h_child_fork();
    if (g->pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        struct run ru = {.reqs = reqs, .n = n, .o = o, .sh = g->sh};
        h_child_exit(run_load(&ru));
    }
    return g;
}

size_t lg_done(const struct lg *g)
{
    return atomic_load(&g->sh->done);
}

size_t lg_acked(const struct lg *g)
{
    return atomic_load(&g->sh->acked);
}

void lg_stop(struct lg *g)
{
    atomic_store(&g->sh->stop, 1);
}

int lg_wait(struct lg *g)
{
    int code = h_child_wait(g->pid);
    munmap(g->sh, sizeof *g->sh);
    struct lg_req *reqs = g->reqs;
    size_t n = g->n;
    free(g);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(!reqs[i].oa_err[0], "%s", reqs[i].oa_err);
    return code;
}

int lg_run(struct lg_req *reqs, size_t n, const struct lg_opts *o)
{
    struct lg *g = lg_start(reqs, n, o);
    return g ? lg_wait(g) : -1;
}
