/* Sends the import's valid rows to gradcoverd: POST /api/v1/graduates on
 * several keep-alive connections (one request in flight on each), then
 * PATCH /api/v1/graduates/{id} for the flags of a new registration, or for
 * the assigned_to of one already there that the file assigns to another
 * counselor. Answers
 * are sorted into registered (201), already there (200) and rejected (409,
 * 422, 403: the row's column and the server's reason); 429 and 503 are
 * retried after Retry-After. Plain HTTP, or HTTPS verified against the
 * system's CAs or --cacert. Also keeps the report and the progress bar. */
#include "gradcover/cli/import_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gradcover/cli/csv.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/tls.h"
#include "gradcover/domain/config.h"

/* A 503 (Redis away) or a broken connection is retried this many times,
 * about a minute in all with the backoff below: longer than a Redis
 * restart or a Sentinel failover, short enough that an import against a
 * dead server ends. */
#define RETRIES_MAX 8
#define RETRY_FIRST_MS 250
#define RETRY_CAP_MS 15000
/* A request that takes longer than this is counted as a broken connection
 * (gradcoverd answers within its own request deadline, a few seconds). */
#define REQUEST_TIMEOUT_S 30
/* Progress: redrawn 5 times a second on a terminal, a line every 5 s otherwise. */
#define PROGRESS_TTY_MS 200
#define PROGRESS_LINE_MS 5000

struct import_row {
    size_t rec;   /* record number in the file (header = 1) */
    json_t *body; /* owned */
    json_t *flags;
    const char *id; /* borrowed from body */
    int tries;
};

struct import_reject {
    size_t rec;
    size_t seq; /* order of addition: a row's lines keep theirs in the report */
    char column[32];
    char reason[200];
};

struct import_run *import_run_new(const struct config *cfg)
{
    struct import_run *run = calloc(1, sizeof *run);
    if (run)
        run->cfg = cfg;
    return run;
}

void import_run_free(struct import_run *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->nrows; i++) {
        json_decref(run->rows[i].body);
        json_decref(run->rows[i].flags);
    }
    free(run->rows);
    free(run->rejects);
    free(run);
}

/* Adds a report line; count: the row is rejected (not one registered whose
 * flags failed). A row's lines are added one after another, so a row is new
 * when the line before names another. */
static void add_line(struct import_run *run, size_t rec, const char *column, const char *reason,
                     bool count)
{
    bool new_row = run->nrejects == 0 || run->rejects[run->nrejects - 1].rec != rec;
    if (count && new_row)
        run->rejected_rows++;
    if (run->nrejects == run->rejects_cap) {
        size_t cap = run->rejects_cap ? run->rejects_cap * 2 : 64;
        struct import_reject *r = realloc(run->rejects, cap * sizeof *r);
        if (!r)
            return; /* the row is still counted */
        run->rejects = r;
        run->rejects_cap = cap;
    }
    struct import_reject *r = &run->rejects[run->nrejects++];
    r->rec = rec;
    r->seq = run->nrejects - 1;
    snprintf(r->column, sizeof r->column, "%s", column);
    snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
}

void import_reject(struct import_run *run, size_t rec, const char *column, const char *reason)
{
    add_line(run, rec, column, reason, true);
}

size_t import_rejected(const struct import_run *run)
{
    return run->rejected_rows;
}

int import_queue(struct import_run *run, size_t rec, const char *id, json_t *body, json_t *flags)
{
    if (run->nrows == run->rows_cap) {
        size_t cap = run->rows_cap ? run->rows_cap * 2 : 256;
        struct import_row *r = realloc(run->rows, cap * sizeof *r);
        if (!r) {
            json_decref(body);
            json_decref(flags);
            return -1;
        }
        run->rows = r;
        run->rows_cap = cap;
    }
    run->rows[run->nrows++] = (struct import_row){rec, body, flags, id, 0}; /* ours now */
    return 0;
}

static int by_row(const void *a, const void *b)
{
    const struct import_reject *x = a, *y = b;
    if (x->rec != y->rec)
        return x->rec < y->rec ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int import_write_report(struct import_run *run, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    /* By row (answers arrive out of order); qsort is not stable, seq is. */
    for (size_t i = 0; i + 1 < run->nrejects; i++)
        if (run->rejects[i].rec > run->rejects[i + 1].rec) {
            qsort(run->rejects, run->nrejects, sizeof *run->rejects, by_row);
            break;
        }
    fputs("row,column,reason\r\n", f);
    for (size_t i = 0; i < run->nrejects; i++) {
        fprintf(f, "%zu,", run->rejects[i].rec);
        csv_write_field(f, run->rejects[i].column);
        fputc(',', f);
        csv_write_field(f, run->rejects[i].reason);
        fputs("\r\n", f);
    }
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

void import_summary(const struct import_run *run, const struct import_opts *o,
                    const char *report_path)
{
    if (o->check)
        printf("checked %zu rows: %zu valid, %zu rejected (nothing was sent)\n", run->rows_read,
               run->rows_read - run->rejected_rows, run->rejected_rows);
    else
        printf("registered %zu, already there %zu, rejected %zu\n", run->registered, run->already,
               run->rejected_rows);
    if (run->reassigned)
        printf("%zu rows already there assigned to the file's counselor\n", run->reassigned);
    if (run->flags_failed)
        printf("%zu registered rows did not get their flags (see the report)\n", run->flags_failed);
    if (run->reassign_failed)
        printf("%zu rows already there were not assigned (see the report)\n", run->reassign_failed);
    printf("report: %s\n", report_path);
}

/* ---- sending ---- */

struct sender;

struct conn {
    struct sender *s;
    struct evhttp_connection *evc;
    struct import_row *row;                                  /* in flight, or NULL */
    enum { SEND_REGISTER, SEND_FLAGS, SEND_ASSIGN } sending; /* the request in flight */
    bool reopen;         /* broken: a new connection before the retry */
    struct event *retry; /* resends row after a pause */
};

struct sender {
    struct import_run *run;
    const struct import_opts *o;
    struct event_base *base;
    char host[256], auth[600];
    int port;
    bool https;
    struct ssl_ctx_st *tls; /* the verifying client context, with https */
    struct conn *conns;
    int nconns;
    size_t next, done;
    bool fatal;          /* the token was refused, or no server: stop sending */
    const char *why_not; /* the report's reason for the rows not sent then */
    bool answered;       /* the server has answered at least once */
    struct event *progress;
    bool tty;
    int64_t start_ms, last_line_ms;
};

static int64_t mono_ms(void)
{
    return clock_mono_ms();
}

static void send_row(struct conn *c);

/* Parses http[s]://host:port (no path) or the config's "host:port" listen
 * address (a wildcard host means this machine). */
static int parse_target(struct sender *s, const char *url)
{
    const char *hp = url;
    if (strncmp(url, "http://", 7) == 0)
        hp = url + 7;
    else if (strncmp(url, "https://", 8) == 0) {
        hp = url + 8;
        s->https = true;
    } else if (strstr(url, "://"))
        return -1;
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof s->host)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (port < 1 || port > 65535 || (*end && strcmp(end, "/") != 0))
        return -1;
    snprintf(s->host, sizeof s->host, "%.*s", (int)(colon - hp), hp);
    size_t n = strlen(s->host);
    if (s->host[0] == '[' && s->host[n - 1] == ']') {
        memmove(s->host, s->host + 1, n - 2);
        s->host[n - 2] = '\0';
    }
    if (strcmp(s->host, "0.0.0.0") == 0 || strcmp(s->host, "*") == 0 || !s->host[0])
        snprintf(s->host, sizeof s->host, "127.0.0.1");
    else if (strcmp(s->host, "::") == 0)
        snprintf(s->host, sizeof s->host, "::1");
    s->port = (int)port;
    return 0;
}

static void draw_progress(struct sender *s, bool final)
{
    int64_t now = mono_ms(), el = now - s->start_ms;
    size_t total = s->run->nrows;
    double rate = el > 0 ? (double)s->done * 1000.0 / (double)el : 0;
    long left = rate > 0 ? (long)((double)(total - s->done) / rate + 0.5) : -1;
    if (s->tty) {
        int width = 30,
            fill = total ? (int)((double)width * (double)s->done / (double)total) : width;
        fprintf(stderr, "\r[%.*s%*s] %zu/%zu rows  %.0f rows/s  ", fill,
                "##############################", width - fill, "", s->done, total, rate);
        if (left >= 0 && !final)
            fprintf(stderr, "%ld:%02ld left ", left / 60, left % 60);
        else
            fprintf(stderr, "          ");
        if (final)
            fputc('\n', stderr);
    } else if (final || now - s->last_line_ms >= PROGRESS_LINE_MS) {
        s->last_line_ms = now;
        fprintf(stderr, "gradcover: %zu/%zu rows done, %.0f rows/s%s\n", s->done, total, rate,
                final ? ", done" : "");
    }
    fflush(stderr);
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    draw_progress(arg, false);
}

/* The report's column for a failure of the request in flight. */
static const char *sending_column(const struct conn *c)
{
    return c->sending == SEND_FLAGS    ? "flags"
           : c->sending == SEND_ASSIGN ? "assigned_to"
                                       : "_server";
}

/* A follow-up PATCH failed: the row itself was registered or already there,
 * so it is not counted as rejected, only reported. */
static void patch_failed(struct conn *c, const char *why)
{
    struct import_run *run = c->s->run;
    if (c->sending == SEND_FLAGS)
        run->flags_failed++;
    else
        run->reassign_failed++;
    add_line(run, c->row->rec, sending_column(c), why, false);
}

/* The row is finished (counted by the caller): the connection takes the next. */
static void row_done(struct conn *c)
{
    struct sender *s = c->s;
    c->row = NULL;
    c->sending = SEND_REGISTER;
    s->done++;
    send_row(c);
    bool idle = true;
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].row)
            idle = false;
    if (idle && (s->next >= s->run->nrows || s->fatal))
        event_base_loopexit(s->base, NULL);
}

static int conn_open(struct conn *c);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct conn *c = arg;
    if (c->reopen) {
        /* A TLS bufferevent cannot connect again once closed: a new one. */
        evhttp_connection_free(c->evc);
        c->evc = NULL;
        c->reopen = false;
        if (conn_open(c) < 0) {
            c->s->fatal = true; /* no connection: stop, as for a refused token */
            c->s->why_not = "not sent: out of memory";
            if (c->sending != SEND_REGISTER)
                patch_failed(c, c->s->why_not);
            else
                add_line(c->s->run, c->row->rec, "_server", c->s->why_not, true);
            row_done(c);
            return;
        }
    }
    send_row(c); /* the row is still the connection's */
}

/* Retries the row in flight on c after a pause (Retry-After when given,
 * else an exponential backoff); false when it has had its tries. A 429 is
 * the token's rate limit, not trouble: it takes no try (its bucket refills,
 * so the row goes in eventually). */
static bool retry_later(struct conn *c, struct evhttp_request *req, int status)
{
    struct import_row *row = c->row;
    if (status != 429 && ++row->tries > RETRIES_MAX)
        return false;
    long ms = status == 429 ? 1000 : RETRY_FIRST_MS << (row->tries - 1);
    const char *ra =
        req ? evhttp_find_header(evhttp_request_get_input_headers(req), "Retry-After") : NULL;
    if (ra && atol(ra) > 0)
        ms = atol(ra) * 1000;
    if (ms > RETRY_CAP_MS)
        ms = RETRY_CAP_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->retry, &tv);
    return true;
}

/* The answer's {"error": {"code", "fields"}}; new reference or NULL. */
static json_t *answer_json(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    return p ? json_loadb(p, n, 0, NULL) : NULL;
}

/* Reports a refused row: each field the server names, or the code. */
static void reject_answer(struct sender *s, struct import_row *row, int status, json_t *ans)
{
    json_t *err = json_object_get(ans, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    json_t *fields = json_object_get(err, "fields");
    char why[200];
    if (code && strcmp(code, "already_seeking") == 0) {
        import_reject(s->run, row->rec, "national_id",
                      "already_seeking: registered as seeking under another id");
        return;
    }
    if (code && strcmp(code, "id_taken") == 0) {
        import_reject(s->run, row->rec, "id", "id_taken: another graduate has this id");
        return;
    }
    if (status == 403) {
        import_reject(s->run, row->rec, "county",
                      "forbidden: this token may not register in this county");
        return;
    }
    if (json_object_size(fields) > 0) {
        const char *k;
        json_t *m;
        json_object_foreach(fields, k, m)
        {
            if (code && strcmp(code, "registration_differs") == 0)
                snprintf(why, sizeof why,
                         "registration_differs: differs from the stored "
                         "registration (correct it with PATCH)");
            else
                snprintf(why, sizeof why, "%s", json_string_value(m) ? json_string_value(m) : "");
            import_reject(s->run, row->rec, k, why);
        }
        return;
    }
    snprintf(why, sizeof why, "the server answered %d %s", status, code ? code : "");
    import_reject(s->run, row->rec, "_server", why);
}

static void on_answer(struct evhttp_request *req, void *arg)
{
    struct conn *c = arg;
    struct sender *s = c->s;
    struct import_row *row = c->row;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    if (status == 0 && !s->answered && !s->fatal) {
        /* Nothing listens there (a wrong port, the server stopped) or its
         * certificate is refused: say so now rather than retry every row
         * for a minute. */
        char why[256] = "no answer";
        (void)tls_client_failure(evhttp_connection_get_bufferevent(c->evc), why, sizeof why);
        fprintf(stderr, "\ngradcover: %s from gradcoverd at %s://%s:%d\n", why,
                s->https ? "https" : "http", s->host, s->port);
        s->fatal = true;
        s->why_not = "not sent: no answer from the server";
    }
    s->answered |= status != 0;
    c->reopen |= status == 0;
    if (status == 429 || status == 503 || status == 0) {
        if (!s->fatal && retry_later(c, req, status))
            return;
        const char *why = s->fatal ? s->why_not
                          : status ? "the server stayed unavailable (503): import the file again"
                                   : "no answer from the server: import the file again";
        if (c->sending != SEND_REGISTER)
            patch_failed(c, why);
        else
            add_line(s->run, row->rec, "_server", why, true);
        row_done(c);
        return;
    }
    if (status == 401) {
        if (!s->fatal)
            fprintf(stderr, "\ngradcover: the server refused the token (401)\n");
        if (!s->fatal)
            s->why_not = "not sent: the server refused the token";
        s->fatal = true;
        if (c->sending != SEND_REGISTER)
            patch_failed(c, s->why_not);
        else
            add_line(s->run, row->rec, "_server", s->why_not, true);
        row_done(c);
        return;
    }
    if (c->sending != SEND_REGISTER) {
        if (status != 200)
            patch_failed(c, c->sending == SEND_FLAGS
                                ? "registered, but the flags were not set: set them with PATCH"
                                : "already there, but not assigned: assign it with PATCH");
        else if (c->sending == SEND_ASSIGN)
            s->run->reassigned++;
        row_done(c);
        return;
    }
    if (status == 201 || status == 200) {
        if (status == 201)
            s->run->registered++;
        else
            s->run->already++;
        if (status == 201 && row->flags) {
            c->sending = SEND_FLAGS;
        } else if (status == 200 && json_object_get(row->body, "assigned_to")) {
            /* Already there: the file's assignment wins over the stored one
             * (caseloads are handed out by importing the list again). */
            json_t *ans = answer_json(req);
            const char *stored = json_string_value(json_object_get(ans, "assigned_to"));
            const char *wanted = json_string_value(json_object_get(row->body, "assigned_to"));
            if (!stored || strcmp(stored, wanted) != 0)
                c->sending = SEND_ASSIGN;
            json_decref(ans);
        }
        if (c->sending != SEND_REGISTER) {
            row->tries = 0;
            send_row(c);
            return;
        }
        row_done(c);
        return;
    }
    json_t *ans = answer_json(req);
    reject_answer(s, row, status, ans);
    json_decref(ans);
    row_done(c);
}

/* Sends c's row in flight (or the next one when none) as its registration
 * or its follow-up PATCH (flags, assigned_to). */
static void send_row(struct conn *c)
{
    struct sender *s = c->s;
    if (!c->row) {
        if (s->fatal || s->next >= s->run->nrows)
            return;
        c->row = &s->run->rows[s->next++];
    }
    struct import_row *row = c->row;
    char path[160];
    json_t *body = row->body;
    json_t *patch = NULL;
    if (c->sending != SEND_REGISTER) {
        snprintf(path, sizeof path, "/api/v1/graduates/%s", row->id); /* [A-Za-z0-9._-] */
        body = patch =
            c->sending == SEND_FLAGS
                ? json_pack("{s:O}", "flags", row->flags)
                : json_pack("{s:O}", "assigned_to", json_object_get(row->body, "assigned_to"));
    } else
        snprintf(path, sizeof path, "/api/v1/graduates");
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(patch);
    struct evhttp_request *req = text ? evhttp_request_new(on_answer, c) : NULL;
    if (!req) {
        free(text);
        import_reject(s->run, row->rec, "_row", "out of memory");
        row_done(c);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", s->host);
    evhttp_add_header(h, "Authorization", s->auth);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "User-Agent", "gradcover-import");
    /* libevent 2.1 adds Content-Length itself only to POST and PUT. */
    char clen[24];
    snprintf(clen, sizeof clen, "%zu", strlen(text));
    evhttp_add_header(h, "Content-Length", clen);
    evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
    free(text);
    /* On failure libevent has freed req and called on_answer(NULL). */
    (void)evhttp_make_request(
        c->evc, req, c->sending != SEND_REGISTER ? EVHTTP_REQ_PATCH : EVHTTP_REQ_POST, path);
}

/* A keep-alive connection to the server, over TLS with https. */
static int conn_open(struct conn *c)
{
    struct sender *s = c->s;
    if (s->tls) {
        struct bufferevent *bev = tls_client_bev_new(s->tls, s->base, s->host);
        if (!bev)
            return -1;
        /* takes bev */
        c->evc = evhttp_connection_base_bufferevent_new(s->base, NULL, bev, s->host,
                                                        (unsigned short)s->port);
    } else
        c->evc = evhttp_connection_base_new(s->base, NULL, s->host, (unsigned short)s->port);
    if (!c->evc)
        return -1;
    evhttp_connection_set_timeout(c->evc, REQUEST_TIMEOUT_S);
    return 0;
}

static void sender_free(struct sender *s)
{
    for (int i = 0; i < s->nconns; i++) {
        if (s->conns[i].retry)
            event_free(s->conns[i].retry);
        if (s->conns[i].evc)
            evhttp_connection_free(s->conns[i].evc);
    }
    free(s->conns);
    if (s->progress)
        event_free(s->progress);
    if (s->base)
        event_base_free(s->base);
    tls_ctx_free(s->tls);
}

int import_send(struct import_run *run, const struct import_opts *o)
{
    if (o->check || run->nrows == 0)
        return 0;
    struct sender s = {.run = run, .o = o, .tty = isatty(STDERR_FILENO)};
    int rc = 1;
    if (parse_target(&s, o->url ? o->url : run->cfg->listen) < 0) {
        fprintf(stderr, "gradcover: --url must be http://HOST:PORT or https://HOST:PORT\n");
        return 2;
    }
    if (!o->url && run->cfg->tls_cert)
        s.https = true; /* the listener speaks only HTTPS */
    char err[256];
    if (s.https && !(s.tls = tls_client_ctx_new(o->cacert, err, sizeof err))) {
        fprintf(stderr, "gradcover: --cacert: %s\n", err);
        return 2;
    }
    snprintf(s.auth, sizeof s.auth, "Bearer %s", o->token);
    s.base = event_base_new();
    s.nconns = o->connections;
    s.conns = calloc((size_t)s.nconns, sizeof *s.conns);
    if (!s.base || !s.conns)
        goto out_free;
    for (int i = 0; i < s.nconns; i++) {
        struct conn *c = &s.conns[i];
        c->s = &s;
        c->retry = evtimer_new(s.base, on_retry, c);
        if (!c->retry || conn_open(c) < 0)
            goto out_free;
    }
    s.progress = event_new(s.base, -1, EV_PERSIST, on_progress, &s);
    struct timeval tick = {0, PROGRESS_TTY_MS * 1000};
    if (!s.progress || event_add(s.progress, &tick) < 0)
        goto out_free;
    s.start_ms = s.last_line_ms = mono_ms();
    for (int i = 0; i < s.nconns; i++)
        send_row(&s.conns[i]);
    event_base_dispatch(s.base);
    draw_progress(&s, true);
    /* Rows never sent (the token refused, no server) are in the report too. */
    for (; s.next < run->nrows; s.next++)
        import_reject(run, run->rows[s.next].rec, "_server", s.why_not);
    rc = s.fatal ? 1 : 0;
out_free:
    if (rc && !s.fatal)
        fprintf(stderr, "gradcover: out of memory\n");
    sender_free(&s);
    return rc;
}
