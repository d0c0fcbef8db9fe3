/* HTTP front: the route table, one request context per request, body and
 * parameter reading, and the reply helpers. Every request gets exactly one
 * evhttp_send_*; the context is freed right after it, in one place. */
#include "gradcover/http.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <openssl/sha.h>

#include "gradcover/api.h"
#include "gradcover/api_common.h"
#include "gradcover/app.h"
#include "gradcover/config.h"
#include "gradcover/jsonw.h"
#include "gradcover/keys.h"
#include "gradcover/conns.h"
#include "gradcover/log.h"
#include "gradcover/metrics.h"
#include "gradcover/pii.h"
#include "gradcover/ratelimit.h"
#include "gradcover/store.h"
#include "gradcover/tokens.h"
#include "gradcover/validate.h"

enum access { PUBLIC, AUTHED };

struct route {
    enum evhttp_cmd_type method;
    const char *path; /* segments; "{}" matches one segment */
    const char *name; /* template used in logs and metrics */
    enum access access;
    void (*handler)(struct req *r);
};

static const struct route routes[] = {
    {EVHTTP_REQ_GET, "/healthz", "/healthz", PUBLIC, api_healthz},
    {EVHTTP_REQ_GET, "/readyz", "/readyz", PUBLIC, api_readyz},
    {EVHTTP_REQ_GET, "/", "/", PUBLIC, api_dashboard},
    {EVHTTP_REQ_GET, "/api/v1/openapi.json", "/api/v1/openapi.json", PUBLIC, api_openapi},
    {EVHTTP_REQ_GET, "/metrics", "/metrics", AUTHED, api_metrics},
    {EVHTTP_REQ_POST, "/api/v1/graduates", "/api/v1/graduates", AUTHED, api_graduate_create},
    {EVHTTP_REQ_GET, "/api/v1/graduates", "/api/v1/graduates", AUTHED, api_graduate_lookup},
    {EVHTTP_REQ_GET, "/api/v1/graduates/{}", "/api/v1/graduates/{id}", AUTHED, api_graduate_get},
    {EVHTTP_REQ_POST, "/api/v1/graduates/{}/status", "/api/v1/graduates/{id}/status", AUTHED,
     api_graduate_status},
    {EVHTTP_REQ_GET, "/api/v1/graduates/{}/contacts", "/api/v1/graduates/{id}/contacts", AUTHED,
     api_contact_list},
    {EVHTTP_REQ_POST, "/api/v1/contacts", "/api/v1/contacts", AUTHED, api_contact_create},
    {EVHTTP_REQ_GET, "/api/v1/coverage", "/api/v1/coverage", AUTHED, api_coverage_all},
    {EVHTTP_REQ_GET, "/api/v1/counties/{}/coverage", "/api/v1/counties/{code}/coverage", AUTHED,
     api_coverage_county},
    {EVHTTP_REQ_GET, "/api/v1/alerts", "/api/v1/alerts", AUTHED, api_alerts},
    {EVHTTP_REQ_GET, "/api/v1/counties/{}/queue", "/api/v1/counties/{code}/queue", AUTHED,
     api_queue},
    {EVHTTP_REQ_DELETE, "/api/v1/graduates/{}", "/api/v1/graduates/{id}", AUTHED,
     api_graduate_erase},
    {EVHTTP_REQ_POST, "/api/v1/tokens", "/api/v1/tokens", AUTHED, api_token_create},
    {EVHTTP_REQ_GET, "/api/v1/tokens", "/api/v1/tokens", AUTHED, api_token_list},
    {EVHTTP_REQ_DELETE, "/api/v1/tokens/{}", "/api/v1/tokens/{name}", AUTHED, api_token_delete},
    {EVHTTP_REQ_GET, "/api/v1/audit", "/api/v1/audit", AUTHED, api_audit},
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *method_name(enum evhttp_cmd_type m)
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

enum { GUARD_NONE = 0, GUARD_OK, GUARD_REVOKED, GUARD_FAILED };

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

static void reply_revoked(struct req *r);

static void send_and_free(struct req *r, int status, const char *reason, const char *ctype,
                          struct evbuffer *buf)
{
    if (r->guard_pending) {
        /* Hold the answer until Redis has said whether the token still exists. */
        r->held = evbuffer_new();
        if (r->held && buf)
            evbuffer_add_buffer(r->held, buf);
        r->held_status = status;
        r->held_reason = reason;
        r->held_ctype = ctype;
        return;
    }
    if (r->guard == GUARD_REVOKED || (r->guard == GUARD_FAILED && status < 500)) {
        int g = r->guard;
        r->guard = GUARD_NONE;
        evhttp_clear_headers(evhttp_request_get_output_headers(r->ev));
        if (g == GUARD_REVOKED)
            reply_revoked(r);
        else
            http_reply_unavailable(r);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "X-Request-Id", r->id);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_send_reply(r->ev, status, reason, buf);
    int64_t dur = mono_us() - r->start_us;
    metrics_observe(r->app->metrics, r->route, status, dur);
    log_info("event=http_request request_id=%s method=%s route=%s status=%d duration_us=%lld "
             "principal=%s",
             r->id, method_name(evhttp_request_get_command(r->ev)), r->route ? r->route : "-",
             status, (long long)dur, r->who.name[0] ? r->who.name : "-");
    struct app *a = r->app;
    req_free(r);
    app_request_end(a);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
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
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
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
        snprintf(ra, sizeof ra, "%d", store_retry_after_s(r->app->store));
        http_add_header(r, "Retry-After", ra);
    }
    http_reply_json(r, status, err ? json_pack("{s:o}", "error", err) : NULL);
}

void http_reply_invalid(struct req *r, const char *field, const char *message)
{
    http_reply_error(r, 422, "validation_failed", "validation failed",
                     json_pack("{s:s}", field, message));
}

void http_reply_unavailable(struct req *r)
{
    http_reply_error(r, 503, "redis_unavailable",
                     "the data store is unavailable; retry after the indicated delay", NULL);
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

/* Matches path against the template; captures decoded "{}" segments.
 * Returns 1 on match, 0 on no match, -1 for a segment that cannot be decoded. */
static int match(const char *tmpl, const char *path, struct req *r)
{
    int np = 0;
    while (*tmpl && *path) {
        if (*tmpl != '/' || *path != '/')
            return 0;
        tmpl++;
        path++;
        const char *te = strchr(tmpl, '/'), *pe = strchr(path, '/');
        size_t tl = te ? (size_t)(te - tmpl) : strlen(tmpl);
        size_t pl = pe ? (size_t)(pe - path) : strlen(path);
        if (tl == 2 && memcmp(tmpl, "{}", 2) == 0) {
            if (pl == 0 || pl > 3 * GC_ID_MAX || np >= HTTP_MAX_PARAMS)
                return pl == 0 ? 0 : -1;
            char enc[3 * GC_ID_MAX + 1];
            memcpy(enc, path, pl);
            enc[pl] = '\0';
            size_t dl = 0;
            char *dec = evhttp_uridecode(enc, 0, &dl);
            int ok = dec && dl == strlen(dec) && dl >= 1 && dl <= GC_ID_MAX;
            if (ok)
                strcpy(r->params[np++], dec);
            free(dec);
            if (!ok)
                return -1;
        } else if (tl != pl || memcmp(tmpl, path, tl) != 0) {
            return 0;
        }
        tmpl += tl;
        path += pl;
    }
    return *tmpl == '\0' && *path == '\0';
}

/* "%00" anywhere in the target: a decoded NUL would cut a path parameter or a
 * query value short (a valid-looking prefix would be used). */
static bool has_encoded_nul(const char *uri)
{
    for (const char *p = strchr(uri, '%'); p; p = strchr(p + 1, '%'))
        if (p[1] == '0' && p[2] == '0')
            return true;
    return false;
}

/* ---- authentication of API-issued tokens, rate limits ---- */

static void reply_revoked(struct req *r)
{
    http_add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    http_reply_error(r, 401, "unauthorized", "unknown, expired or revoked token", NULL);
}

/* An X-Real-IP value we are willing to key a rate limit on. */
static bool sane_ip(const char *s)
{
    size_t n = strlen(s);
    return n >= 2 && n <= 45 && strspn(s, "0123456789abcdefABCDEF:.") == n;
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
    /* Behind nginx every request comes from the proxy: believe its
     * X-Real-IP, and nobody else's. */
    const struct config *cfg = r->app->cfg;
    for (size_t i = 0; i < cfg->ntrusted_proxies; i++) {
        if (strcmp(addr, cfg->trusted_proxies[i]) == 0) {
            const char *real = http_header(r, "X-Real-IP");
            return real && sane_ip(real) ? real : addr;
        }
    }
    return addr;
}

void http_reply_too_many(struct req *r, int retry_s, const char *message)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry_s);
    http_add_header(r, "Retry-After", ra);
    http_reply_error(r, 429, "too_many_requests", message, NULL);
}

/* A failed authentication: 401, or 429 once the client address has failed
 * too often (a token cannot be guessed at Redis's speed). */
static void auth_failed(struct req *r)
{
    struct app *a = r->app;
    int per_min = a->cfg->rate_limits.auth_failures_per_minute;
    int wait = ratelimit_take(a->authfail, http_peer(r), per_min / 60.0, per_min, app_now_ms(a));
    log_warn("event=auth_failed request_id=%s peer=%s", r->id, http_peer(r));
    if (wait > 0) {
        http_reply_too_many(r, wait, "too many failed authentications from this address");
        return;
    }
    reply_revoked(r);
}

static void on_guard(enum store_status st, json_t *res, void *arg)
{
    struct req *r = arg;
    r->guard_pending = false;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (st != STORE_OK)
        r->guard = GUARD_FAILED;
    else if (err && strcmp(err, "token_revoked") == 0) {
        r->guard = GUARD_REVOKED;
        tokcache_drop(r->app->tokens, r->who.tok_hex);
    } else
        r->guard = GUARD_OK;
    if (r->held) {
        struct evbuffer *buf = r->held;
        r->held = NULL;
        send_and_free(r, r->held_status, r->held_reason, r->held_ctype, buf);
        evbuffer_free(buf);
    }
}

/* After authentication: the caller's rate limit, the liveness check of an
 * API token (skipped when it was just read from Redis), then the handler. */
static void dispatch(struct req *r, bool fresh)
{
    struct app *a = r->app;
    const struct rate_limits_cfg *rl = &a->cfg->rate_limits;
    enum evhttp_cmd_type m = evhttp_request_get_command(r->ev);
    bool read = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
    char key[GC_ID_MAX + 80];
    if (strcmp(r->who.name, "anonymous") == 0 && !r->who.tok_hex[0])
        snprintf(key, sizeof key, "%c:@%s", read ? 'r' : 'w', http_peer(r));
    else
        snprintf(key, sizeof key, "%c:%s", read ? 'r' : 'w', r->who.name);
    int wait =
        read
            ? ratelimit_take(a->limits, key, rl->reads_per_second, rl->read_burst, app_now_ms(a))
            : ratelimit_take(a->limits, key, rl->writes_per_second, rl->write_burst, app_now_ms(a));
    if (wait > 0) {
        http_reply_too_many(r, wait,
                            read ? "read rate limit of this token exceeded"
                                 : "write rate limit of this token exceeded");
        return;
    }
    if (r->who.tok_hex[0]) {
        bool touch = tokcache_touch_due(a->tokens, r->who.tok_hex, app_now_ms(a));
        if (!fresh || touch) {
            char gkey[KEY_MAX], tkey[KEY_MAX];
            key_global(gkey, sizeof gkey);
            key_token(tkey, sizeof tkey, r->who.tok_hex);
            json_t *args = json_pack("{s:s}", "tok", tkey);
            if (touch)
                json_object_set_new(args, "touch", json_integer(app_now_ms(a)));
            char *text = args ? gc_json_dumps(args, 0) : NULL;
            json_decref(args);
            if (!text) {
                http_reply_error(r, 500, "internal", "out of memory", NULL);
                return;
            }
            const char *argv[2] = {gkey, text};
            size_t lens[2] = {strlen(gkey), strlen(text)};
            r->guard_pending =
                store_script(a->store, "token_guard", 1, 2, argv, lens, on_guard, r) == 0;
            if (!r->guard_pending)
                r->guard = GUARD_FAILED;
            free(text);
        }
    }
    r->handler(r);
}

static void on_token_record(enum store_status st, json_t *res, void *arg)
{
    struct req *r = arg;
    struct app *a = r->app;
    if (st != STORE_OK) {
        http_reply_unavailable(r);
        return;
    }
    char hex[sizeof r->who.tok_hex];
    snprintf(hex, sizeof hex, "%s", r->who.tok_hex);
    json_t *rec = flat_to_object(res);
    int64_t expires_ms = 0;
    bool ok = rec && token_record_parse(rec, a->cfg, hex, &r->who, &expires_ms);
    json_decref(rec);
    if (!ok || (expires_ms && expires_ms <= app_now_ms(a))) {
        auth_failed(r);
        return;
    }
    tokcache_put(a->tokens, &r->who, expires_ms);
    dispatch(r, true);
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct app *a = arg;
    app_request_begin(a);
    /* First, before anything can fail: stops the connection's deadline. */
    const struct head_reject *refused = conns_request_begin(a->conns, ev);
    struct req *r = calloc(1, sizeof *r);
    if (!r) {
        evhttp_send_error(ev, 500, NULL);
        app_request_end(a);
        return;
    }
    r->app = a;
    r->ev = ev;
    r->start_us = mono_us();
    const char *rid = http_header(r, "X-Request-Id");
    if (rid && validate_request_id(rid))
        snprintf(r->id, sizeof r->id, "%s", rid);
    else
        snprintf(r->id, sizeof r->id, "%s-%llx", a->req_prefix, (unsigned long long)++a->req_seq);

    /* A head conns.c refused: this is its stand-in; the connection closes after
     * the answer (except after a 413, whose body is dropped as it arrives). */
    if (refused) {
        http_reply_error(r, refused->status, refused->code, refused->message, NULL);
        return;
    }
    const char *uri = evhttp_request_get_uri(ev);
    if (strlen(uri) > HTTP_URI_MAX) {
        http_reply_error(r, 414, "uri_too_long", "the request target exceeds 2048 bytes", NULL);
        return;
    }
    if (has_encoded_nul(uri)) {
        http_reply_error(r, 400, "bad_request", "the request target must not contain %00", NULL);
        return;
    }
    /* RFC 9112 §3.2: an HTTP/1.1 request without Host is malformed. */
    if (ev->major == 1 && ev->minor >= 1 && !http_header(r, "Host")) {
        http_reply_error(r, 400, "bad_request", "HTTP/1.1 requests need a Host header", NULL);
        return;
    }
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(ev);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    if (!path || !*path) {
        http_reply_error(r, 400, "bad_request", "malformed request target", NULL);
        return;
    }
    enum evhttp_cmd_type method = evhttp_request_get_command(ev);
    const struct route *hit = NULL;
    bool path_known = false;
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int m = match(routes[i].path, path, r);
        if (m < 0) {
            http_reply_error(r, 400, "bad_request", "malformed path parameter", NULL);
            return;
        }
        if (m == 0)
            continue;
        path_known = true;
        r->route = routes[i].name;
        snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "",
                 method_name(routes[i].method));
        if (routes[i].method == method) {
            hit = &routes[i];
            break;
        }
    }
    if (!hit) {
        if (path_known) {
            http_add_header(r, "Allow", allow);
            http_reply_error(r, 405, "method_not_allowed", "method not allowed on this path", NULL);
        } else
            http_reply_error(r, 404, "not_found", "no such resource", NULL);
        return;
    }
    r->handler = hit->handler;
    if (hit->access == PUBLIC) {
        hit->handler(r);
        return;
    }
    switch (auth_resolve(a->cfg, http_header(r, "Authorization"), &r->who)) {
    case AUTH_OK:
        dispatch(r, false);
        return;
    case AUTH_MISSING:
        http_add_header(r, "WWW-Authenticate", "Bearer");
        http_reply_error(r, 401, "unauthorized", "missing bearer token", NULL);
        return;
    case AUTH_INVALID:
        auth_failed(r);
        return;
    case AUTH_UNKNOWN:
        break;
    }
    /* Not a config token: an API-issued one, cached or looked up. */
    int64_t expires_ms = 0;
    if (tokcache_get(a->tokens, r->who.tok_hex, &r->who, &expires_ms)) {
        if (expires_ms && expires_ms <= app_now_ms(a)) {
            tokcache_drop(a->tokens, r->who.tok_hex);
            auth_failed(r);
            return;
        }
        dispatch(r, false);
        return;
    }
    /* Guessing is throttled before it costs Redis anything. */
    int wait = ratelimit_peek(a->authfail, http_peer(r),
                              a->cfg->rate_limits.auth_failures_per_minute / 60.0,
                              a->cfg->rate_limits.auth_failures_per_minute, app_now_ms(a));
    if (wait > 0) {
        http_reply_too_many(r, wait, "too many failed authentications from this address");
        return;
    }
    char key[KEY_MAX];
    key_token(key, sizeof key, r->who.tok_hex);
    const char *argv[2] = {"HGETALL", key};
    size_t lens[2] = {7, strlen(key)};
    if (store_command(a->store, 2, argv, lens, on_token_record, r) < 0)
        http_reply_unavailable(r);
}

void http_setup(struct evhttp *http, struct app *app)
{
    /* Accept every method so that wrong ones get our JSON 405, not evhttp's page. */
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                         EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http, on_request, app);
}
