/* One request and its one answer (see request.h). Every request gets exactly
 * one evhttp_send_*; the context is freed right after it, in one place. */
#include "gradcover/http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/pii.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/tokens.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"
#include "gradcover/http/conns.h"

struct req *http_request_new(struct router *rt, struct evhttp_request *ev)
{
    struct req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->rt = rt;
    r->app = rt->deps.app;
    r->ev = ev;
    r->start_us = clock_mono_us();
    /* Ours, always: the client's id (any client may send any id, another
     * request's too) is kept beside it, never instead of it. */
    snprintf(r->id, sizeof r->id, "%s-%llx", rt->prefix, (unsigned long long)++rt->seq);
    const char *rid = http_header(r, "X-Request-Id");
    if (rid && validate_request_id(rid))
        snprintf(r->client_id, sizeof r->client_id, "%s", rid);
    return r;
}

static void req_free(struct req *r)
{
    if (r->state_free)
        r->state_free(r->state);
    json_decref(r->body);
    if (r->held)
        evbuffer_free(r->held);
    free(r);
}

void http_add_header(struct req *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

const char *http_header(struct req *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

static void reply_refused_step(struct req *r, enum store_status st);

static void send_and_free(struct req *r, int status, const char *reason, const char *ctype,
                          struct evbuffer *buf)
{
    if (r->guard_pending || r->holds > 0) {
        /* Hold the answer until Redis has said whether the token still exists,
         * and until the steps it waits for are done (http_hold). */
        r->held = evbuffer_new();
        if (r->held && buf)
            evbuffer_add_buffer(r->held, buf);
        r->held_status = status;
        r->held_reason = reason;
        r->held_ctype = ctype;
        return;
    }
    if (r->guard == HTTP_GUARD_REVOKED || (r->guard == HTTP_GUARD_FAILED && status < 500)) {
        int g = r->guard;
        r->guard = HTTP_GUARD_NONE;
        evhttp_clear_headers(evhttp_request_get_output_headers(r->ev));
        if (g == HTTP_GUARD_REVOKED)
            http_reply_revoked(r);
        else
            http_reply_unavailable(r);
        return;
    }
    if (r->hold_st != STORE_OK && status < 500) {
        /* A step the answer waited for failed (its audit entry): not sent. */
        enum store_status st = r->hold_st;
        r->hold_st = STORE_OK;
        evhttp_clear_headers(evhttp_request_get_output_headers(r->ev));
        reply_refused_step(r, st);
        return;
    }
    /* RFC 9110 §9.3.2: no body in an answer to HEAD, whatever its status
     * (evhttp would send it). */
    if (buf && evhttp_request_get_command(r->ev) == EVHTTP_REQ_HEAD)
        evbuffer_drain(buf, evbuffer_get_length(buf));
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Content-Type", ctype);
    /* The client's own id when it sent a sane one (what it will search its
     * logs for), else ours; the request log line holds both. */
    evhttp_add_header(h, "X-Request-Id", r->client_id[0] ? r->client_id : r->id);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (r->rt->deps.hsts)
        evhttp_add_header(h, "Strict-Transport-Security", r->rt->deps.hsts);
    /* A graceful stop: the client (nginx) learns with this answer that the
     * connection ends, and evhttp closes it once the answer is written. */
    if (conns_draining(r->rt->deps.conns) && !evhttp_find_header(h, "Connection"))
        evhttp_add_header(h, "Connection", "close");
    evhttp_send_reply(r->ev, status, reason, buf);
    int64_t dur = clock_mono_us() - r->start_us;
    struct router *rt = r->rt;
    metrics_observe(rt->deps.metrics, r->route, status, dur);
    log_info("event=http_request request_id=%s method=%s route=%s status=%d duration_us=%lld "
             "principal=%s%s%s",
             r->id, http_method_name(evhttp_request_get_command(r->ev)), r->route ? r->route : "-",
             status, (long long)dur, r->who.name[0] ? r->who.name : "-",
             r->client_id[0] ? " client_request_id=" : "", r->client_id);
    req_free(r);
    http_request_done(rt);
}

void http_send_held(struct req *r)
{
    struct evbuffer *buf = r->held;
    r->held = NULL;
    send_and_free(r, r->held_status, r->held_reason, r->held_ctype, buf);
    evbuffer_free(buf);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 411:
        return "Length Required";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    }
    return "Status";
}

static void free_text(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* Moves w's text into buf: a large text is handed over without a copy. */
static int add_text(struct evbuffer *buf, struct jw *w)
{
    size_t len = 0;
    if (!jw_text(w, &len))
        return -1;
    if (len < JW_INLINE)
        return evbuffer_add(buf, jw_text(w, NULL), len);
    char *text = jw_take(w); /* ours now; freed by evbuffer when sent */
    if (!text)
        return -1;
    if (evbuffer_add_reference(buf, text, len, free_text, NULL) < 0) {
        free(text);
        return -1;
    }
    return 0;
}

void http_reply_text(struct req *r, int status, const char *ctype, struct jw *w)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf || add_text(buf, w) < 0) {
        /* Out of memory: still answer exactly once. */
        jw_free(w);
        if (buf) {
            evbuffer_drain(buf, evbuffer_get_length(buf));
            evbuffer_add_printf(buf, "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
                                     "memory\"}}");
        }
        send_and_free(r, 500, "Internal Server Error", "application/json", buf);
        if (buf)
            evbuffer_free(buf);
        return;
    }
    jw_free(w);
    send_and_free(r, status, reason_phrase(status), ctype, buf);
    evbuffer_free(buf);
}

void http_reply_jw(struct req *r, int status, struct jw *w)
{
    if (status == 200 && r->reply_200) {
        void (*other)(struct req *, struct jw *) = r->reply_200;
        r->reply_200 = NULL;
        other(r, w);
        return;
    }
    jw_raw(w, "\n", 1);
    http_reply_text(r, status, "application/json; charset=utf-8", w);
}

void http_reply_json(struct req *r, int status, json_t *body)
{
    struct jw w;
    jw_init(&w);
    /* Rates and thresholds with 6 significant digits (they have at most 4 decimals). */
    jw_json(&w, body, 6);
    json_decref(body);
    http_reply_jw(r, status, &w);
}

void http_reply_raw(struct req *r, int status, const char *ctype, const char *data, size_t len)
{
    struct evbuffer *buf = evbuffer_new();
    if (buf)
        evbuffer_add(buf, data, len);
    send_and_free(r, status, reason_phrase(status), ctype, buf);
    if (buf)
        evbuffer_free(buf);
}

void http_reply_error(struct req *r, int status, const char *code, const char *message,
                      json_t *fields)
{
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (err && fields)
        json_object_set_new(err, "fields", fields);
    else
        json_decref(fields);
    if (status == 503) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", store_retry_after_s(r->rt->deps.store));
        http_add_header(r, "Retry-After", ra);
    }
    http_reply_json(r, status, err ? json_pack("{s:o}", "error", err) : NULL);
}

void http_reply_revoked(struct req *r)
{
    if (r->who.tok_hex[0])
        tokcache_drop(r->rt->tokens, r->who.tok_hex);
    http_add_header(r, "WWW-Authenticate", HTTP_AUTH_BAD_TOKEN);
    http_reply_error(r, 401, "unauthorized", HTTP_MSG_BAD_TOKEN, NULL);
}

void http_reply_verr(struct req *r, struct verr *v)
{
    http_reply_error(r, 422, "validation_failed", "validation failed", verr_take(v));
}

void http_reply_invalid(struct req *r, const char *field, const char *message)
{
    http_reply_error(r, 422, "validation_failed", "validation failed",
                     json_pack("{s:s}", field, message));
}

void http_reply_unavailable(struct req *r)
{
    http_reply_error(r, 503, "redis_unavailable", HTTP_MSG_UNAVAILABLE, NULL);
}

void http_reply_unwritable(struct req *r, enum store_writes w)
{
    static const char retry[] = "; retry after the indicated delay";
    const char *code = "redis_refusing_writes", *why = "Redis refused the write";
    switch (w) {
    case STORE_WRITES_DOWN:
        http_reply_unavailable(r);
        return;
    case STORE_WRITES_UNCHECKED:
        code = "redis_unchecked";
        why = "the checks of this Redis before any write (the PII key's fingerprint, "
              "maxmemory-policy) have not succeeded yet";
        break;
    case STORE_WRITES_OOM:
        why = "Redis refuses writes: it is out of memory (OOM)";
        break;
    case STORE_WRITES_READONLY:
        why = "Redis refuses writes: it is a read-only replica (READONLY)";
        break;
    case STORE_WRITES_MISCONF:
        why = "Redis refuses writes: it cannot persist to disk (MISCONF)";
        break;
    case STORE_WRITES_NOREPLICAS:
        code = "redis_replicas_unconfirmed";
        why = "fewer Redis replicas than wait_replicas confirmed a write, which a failover could "
              "lose: writes are refused until they do (a write answered so may have been "
              "applied: repeat it with its Idempotency-Key)";
        break;
    case STORE_WRITES_MAY_EVICT:
        code = "redis_may_evict";
        why = "Redis may evict data (its maxmemory-policy is not noeviction, or cannot be "
              "read): writes are refused";
        break;
    case STORE_WRITES_OK:
        break; /* refused, and accepted again since */
    }
    char msg[384];
    snprintf(msg, sizeof msg, "%s%s", why, retry);
    http_reply_error(r, 503, code, msg, NULL);
}

/* Why a write of r was refused: the key's Redis (a county's master on a
 * Redis Cluster) when a call said so, else the store's. */
static enum store_writes refused_writes(struct req *r)
{
    return r->key_writes != STORE_WRITES_OK ? r->key_writes : store_writes(r->rt->deps.store);
}

int http_store_ok_or_reply(struct req *r, enum store_status st)
{
    if (st == STORE_OK)
        return 0;
    if (st == STORE_REFUSED)
        http_reply_unwritable(r, refused_writes(r));
    else
        http_reply_unavailable(r);
    return -1;
}

int http_writable_or_reply(struct req *r)
{
    enum store_writes w = store_writes(r->rt->deps.store);
    if (w == STORE_WRITES_OK)
        return 0;
    http_reply_unwritable(r, w);
    return -1;
}

/* The answer to a request one of whose held steps failed. */
static void reply_refused_step(struct req *r, enum store_status st)
{
    if (st == STORE_REFUSED) {
        http_reply_unwritable(r, refused_writes(r));
        return;
    }
    http_reply_error(r, 503, "redis_unavailable",
                     "the audit entry of this read could not be written, and personal data is "
                     "not served without it; retry after the indicated delay",
                     NULL);
}

void http_hold(struct req *r)
{
    r->holds++;
}

void http_release(struct req *r, enum store_status st)
{
    if (st != STORE_OK && r->hold_st == STORE_OK)
        r->hold_st = st;
    if (--r->holds == 0 && !r->guard_pending && r->held)
        http_send_held(r);
}

void http_reply_too_many(struct req *r, int retry_s, const char *message)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry_s);
    http_add_header(r, "Retry-After", ra);
    http_reply_error(r, 429, "too_many_requests", message, NULL);
}

int http_read_json_or_reply(struct req *r)
{
    const char *ct = http_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        http_reply_error(r, 415, "unsupported_media_type",
                         "the body must be sent as Content-Type: application/json", NULL);
        return -1;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
    size_t len = evbuffer_get_length(in);
    if (len > HTTP_BODY_MAX) {
        http_reply_error(r, 413, "body_too_large", "the body exceeds 64 KiB", NULL);
        return -1;
    }
    const unsigned char *data = evbuffer_pullup(in, -1);
    gc_sha256(data ? data : (const unsigned char *)"", len, r->body_sha256);
    char msg[96];
    r->body = validate_body((const char *)data, len, msg, sizeof msg);
    if (!r->body) {
        http_reply_error(r, 400, "malformed_json", msg, NULL);
        return -1;
    }
    return 0;
}

bool http_has_body(struct req *r)
{
    return evbuffer_get_length(evhttp_request_get_input_buffer(r->ev)) > 0 ||
           http_header(r, "Content-Type") != NULL;
}

int http_id_not_personal_or_reply(struct req *r, const char *id, const char *what)
{
    if (!id || id_personal_data(id) == ID_PERSONAL_NONE)
        return 0;
    /* Built from our own words only: the id itself is never repeated. */
    char msg[160];
    snprintf(msg, sizeof msg,
             "%s looks like a national ID or a mobile number; ids are never personal data", what);
    http_reply_error(r, 400, "id_is_personal_data", msg, NULL);
    return -1;
}

char *http_query(struct req *r, const char *name, bool *bad)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->ev);
    const char *q = u ? evhttp_uri_get_query(u) : NULL;
    if (!q)
        return NULL;
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    if (evhttp_parse_query_str(q, &params) < 0) {
        *bad = true;
        return NULL;
    }
    const char *v = evhttp_find_header(&params, name);
    char *out = v ? strdup(v) : NULL;
    evhttp_clear_headers(&params);
    return out;
}

/* An X-Real-IP value we are willing to key a rate limit on. */
static bool sane_ip(const char *s)
{
    size_t n = strlen(s);
    return n >= 2 && n <= 45 && strspn(s, "0123456789abcdefABCDEF:.") == n;
}

const char *http_client_of(const struct config *cfg, const char *peer, const char *real_ip)
{
    /* Behind nginx every request comes from the proxy: believe its
     * X-Real-IP, and nobody else's. */
    for (size_t i = 0; i < cfg->ntrusted_proxies; i++)
        if (strcmp(peer, cfg->trusted_proxies[i]) == 0)
            return real_ip && sane_ip(real_ip) ? real_ip : peer;
    return peer;
}

const char *http_peer(struct req *r)
{
    struct evhttp_connection *c = evhttp_request_get_connection(r->ev);
    const char *addr = NULL;
    ev_uint16_t port = 0;
    if (c)
        evhttp_connection_get_peer(c, (char **)&addr, &port);
    if (!addr)
        return "?";
    return http_client_of(r->rt->deps.cfg, addr, http_header(r, "X-Real-IP"));
}

const char *http_method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "?";
}

void http_request_done(struct router *rt)
{
    if (--rt->inflight == 0 && rt->deps.idle)
        rt->deps.idle(rt->deps.app);
}
