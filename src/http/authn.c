/* Authentication of a request, API tokens and rate limits (see authn.h),
 * and the same judgment on a head whose body has not been read yet. */
#include "gradcover/http/authn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/log.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/tokens.h"
#include "gradcover/http/conns.h"
#include "gradcover/http/ratelimit.h"
#include "gradcover/http/request.h"
#include "gradcover/http/router.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

static int64_t now_ms(const struct req *r)
{
    return clock_now_ms(r->rt->deps.clock);
}

/* Failed authentications per client address (a token cannot be guessed at
 * Redis's speed): the whole seconds the client must wait, 0 when it may go
 * on. `spend` counts a failure; otherwise the bucket is only looked at. */
static int authfail_wait(struct router *rt, const char *client, bool spend)
{
    int per_min = rt->deps.cfg->rate_limits.auth_failures_per_minute;
    int64_t now = clock_now_ms(rt->deps.clock);
    return spend ? ratelimit_take(rt->authfail, client, per_min / 60.0, per_min, now)
                 : ratelimit_peek(rt->authfail, client, per_min / 60.0, per_min, now);
}

int authn_link_wait(struct req *r, bool failed)
{
    return authfail_wait(r->rt, http_peer(r), failed);
}

/* Reads the stored record of the API-issued token hex (HGETALL); -1 when the
 * store is not ready (cb will not be called). */
static int fetch_token_record(struct router *rt, const char *hex, store_cb cb, void *arg)
{
    char key[KEY_MAX];
    key_token(key, sizeof key, hex);
    const char *argv[2] = {"HGETALL", key};
    size_t lens[2] = {7, strlen(key)};
    return store_command(rt->deps.store, 2, argv, lens, cb, arg);
}

/* A failed authentication: 401, or 429 once the client address has failed
 * too often. */
static void auth_failed(struct req *r)
{
    int wait = authfail_wait(r->rt, http_peer(r), true);
    log_warn("event=auth_failed request_id=%s peer=%s", r->id, http_peer(r));
    if (wait > 0) {
        http_reply_too_many(r, wait, HTTP_MSG_AUTH_THROTTLED);
        return;
    }
    http_reply_revoked(r);
}

static void on_guard(enum store_status st, json_t *res, void *arg)
{
    struct req *r = arg;
    r->guard_pending = false;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (st != STORE_OK)
        r->guard = HTTP_GUARD_FAILED;
    else if (err && strcmp(err, "token_revoked") == 0) {
        r->guard = HTTP_GUARD_REVOKED;
        tokcache_drop(r->rt->tokens, r->who.tok_hex);
    } else
        r->guard = HTTP_GUARD_OK;
    if (r->held && r->holds == 0)
        http_send_held(r);
}

/* The caller's read or write bucket: its token's name, or for anonymous
 * reads the client address. */
static void rate_key(const struct principal *who, bool read, const char *client, char *key,
                     size_t n)
{
    if (strcmp(who->name, "anonymous") == 0 && !who->tok_hex[0])
        snprintf(key, n, "%c:@%s", read ? 'r' : 'w', client);
    else
        snprintf(key, n, "%c:%s", read ? 'r' : 'w', who->name);
}

/* Spends (or, with !spend, only looks at) one request of the caller's rate
 * limit; 0, or the seconds to wait. */
static int rate_limited(struct router *rt, const struct principal *who, bool read,
                        const char *client, bool spend)
{
    const struct rate_limits_cfg *rl = &rt->deps.cfg->rate_limits;
    char key[GC_ID_MAX + 80];
    rate_key(who, read, client, key, sizeof key);
    double rate = read ? rl->reads_per_second : rl->writes_per_second;
    double burst = read ? rl->read_burst : rl->write_burst;
    int64_t now = clock_now_ms(rt->deps.clock);
    return spend ? ratelimit_take(rt->limits, key, rate, burst, now)
                 : ratelimit_peek(rt->limits, key, rate, burst, now);
}

static const char *rate_message(bool read)
{
    return read ? "read rate limit of this token exceeded"
                : "write rate limit of this token exceeded";
}

/* After authentication: the caller's rate limit, the liveness check of an
 * API token (skipped when it was just read from Redis), then the route. */
static void dispatch(struct req *r, bool fresh)
{
    struct router *rt = r->rt;
    enum evhttp_cmd_type m = evhttp_request_get_command(r->ev);
    bool read = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
    int wait = rate_limited(rt, &r->who, read, http_peer(r), true);
    if (wait > 0) {
        http_reply_too_many(r, wait, rate_message(read));
        return;
    }
    if (r->who.tok_hex[0]) {
        bool touch = tokcache_touch_due(rt->tokens, r->who.tok_hex, now_ms(r));
        if (!fresh || touch) {
            char gkey[KEY_MAX], tkey[KEY_MAX];
            key_global(gkey, sizeof gkey);
            key_token(tkey, sizeof tkey, r->who.tok_hex);
            json_t *args = json_pack("{s:s}", "tok", tkey);
            if (touch)
                json_object_set_new(args, "touch", json_integer(now_ms(r)));
            char *text = args ? jw_dumps(args, 0) : NULL;
            json_decref(args);
            if (!text) {
                http_reply_error(r, 500, "internal", "out of memory", NULL);
                return;
            }
            const char *argv[2] = {gkey, text};
            size_t lens[2] = {strlen(gkey), strlen(text)};
            r->guard_pending =
                store_script(rt->deps.store, "token_guard", 1, 2, argv, lens, on_guard, r) == 0;
            if (!r->guard_pending)
                r->guard = HTTP_GUARD_FAILED;
            free(text);
        }
    }
    r->authenticated(r);
}

static void on_token_record(enum store_status st, json_t *res, void *arg)
{
    struct req *r = arg;
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    char hex[sizeof r->who.tok_hex];
    snprintf(hex, sizeof hex, "%s", r->who.tok_hex);
    json_t *rec = jsonx_from_flat(res);
    int64_t expires_ms = 0;
    bool ok = rec && token_record_parse(rec, r->rt->deps.cfg, hex, &r->who, &expires_ms);
    json_decref(rec);
    if (!ok || (expires_ms && expires_ms <= now_ms(r))) {
        auth_failed(r);
        return;
    }
    tokcache_put(r->rt->tokens, &r->who, expires_ms);
    dispatch(r, true);
}

void authn_request(struct req *r, void (*then)(struct req *r))
{
    r->authenticated = then;
    struct router *rt = r->rt;
    const struct config *cfg = rt->deps.cfg;
    switch (auth_resolve(cfg, http_header(r, "Authorization"), &r->who)) {
    case AUTH_OK:
        dispatch(r, false);
        return;
    case AUTH_MISSING:
        http_add_header(r, "WWW-Authenticate", HTTP_AUTH_NO_TOKEN);
        http_reply_error(r, 401, "unauthorized", HTTP_MSG_NO_TOKEN, NULL);
        return;
    case AUTH_INVALID:
        auth_failed(r);
        return;
    case AUTH_UNKNOWN:
        break;
    }
    /* Not a config token: an API-issued one, cached or looked up. */
    int64_t expires_ms = 0;
    if (tokcache_get(rt->tokens, r->who.tok_hex, &r->who, &expires_ms)) {
        if (expires_ms && expires_ms <= now_ms(r)) {
            tokcache_drop(rt->tokens, r->who.tok_hex);
            auth_failed(r);
            return;
        }
        dispatch(r, false);
        return;
    }
    /* Guessing is throttled before it costs Redis anything. */
    int wait = authfail_wait(rt, http_peer(r), false);
    if (wait > 0) {
        http_reply_too_many(r, wait, HTTP_MSG_AUTH_THROTTLED);
        return;
    }
    if (fetch_token_record(rt, r->who.tok_hex, on_token_record, r) < 0)
        http_reply_unavailable(r);
}

/* ---- the same on a head alone (Expect: 100-continue) ---- */

/* One head being judged; freed when the verdict is given. */
struct judging {
    struct router *rt;
    const struct route *route;
    struct conns_gate *g;
    bool read;
    struct principal who;
    char client[64];  /* the client's address (a trusted proxy's X-Real-IP) */
    char retry_s[16]; /* Retry-After of a 429 */
};

/* Gives the verdict (NULL: accepted) and frees j. */
static void judged(struct judging *j, const struct head_reject *rej)
{
    conns_gate_done(j->g, rej);
    free(j);
}

static void judge_too_many(struct judging *j, int wait, const char *message)
{
    snprintf(j->retry_s, sizeof j->retry_s, "%d", wait);
    struct head_reject rej = {429, "too_many_requests", message, "Retry-After", j->retry_s};
    judged(j, &rej);
}

static void judge_failed(struct judging *j)
{
    int wait = authfail_wait(j->rt, j->client, true);
    log_warn("event=auth_failed request_id=- peer=%s expect=100-continue", j->client);
    if (wait > 0) {
        judge_too_many(j, wait, HTTP_MSG_AUTH_THROTTLED);
        return;
    }
    static const struct head_reject bad = {401, "unauthorized", HTTP_MSG_BAD_TOKEN,
                                           "WWW-Authenticate", HTTP_AUTH_BAD_TOKEN};
    judged(j, &bad);
}

/* Who is calling is known: the route's roles, then the rate limit. */
static void judge_authenticated(struct judging *j)
{
    if (!(j->route->roles & ROLE_BIT(j->who.role))) {
        struct head_reject rej = {403, "forbidden", j->route->denied, NULL, NULL};
        judged(j, &rej);
        return;
    }
    int wait = rate_limited(j->rt, &j->who, j->read, j->client, false);
    if (wait > 0) {
        judge_too_many(j, wait, rate_message(j->read));
        return;
    }
    judged(j, NULL);
}

static void on_judge_token_record(enum store_status st, json_t *res, void *arg)
{
    struct judging *j = arg;
    if (st != STORE_OK) {
        /* http_reply_error adds Retry-After to every 503. */
        static const struct head_reject down = {503, "redis_unavailable", HTTP_MSG_UNAVAILABLE,
                                                NULL, NULL};
        judged(j, &down);
        return;
    }
    char hex[sizeof j->who.tok_hex];
    snprintf(hex, sizeof hex, "%s", j->who.tok_hex);
    json_t *rec = jsonx_from_flat(res);
    int64_t expires_ms = 0;
    bool ok = rec && token_record_parse(rec, j->rt->deps.cfg, hex, &j->who, &expires_ms);
    json_decref(rec);
    if (!ok || (expires_ms && expires_ms <= clock_now_ms(j->rt->deps.clock))) {
        judge_failed(j);
        return;
    }
    tokcache_put(j->rt->tokens, &j->who, expires_ms);
    judge_authenticated(j);
}

void authn_judge(struct router *rt, const struct route *route, struct conns_gate *g,
                 const struct conns_gate_head *h)
{
    struct judging *j = calloc(1, sizeof *j);
    if (!j) {
        /* The request itself is judged in full once its body is read. */
        conns_gate_done(g, NULL);
        return;
    }
    const struct config *cfg = rt->deps.cfg;
    j->rt = rt;
    j->route = route;
    j->g = g;
    j->read = strcmp(h->method, "GET") == 0 || strcmp(h->method, "HEAD") == 0;
    snprintf(j->client, sizeof j->client, "%s", http_client_of(cfg, h->peer, h->real_ip));
    switch (auth_resolve(cfg, h->authorization, &j->who)) {
    case AUTH_OK:
        judge_authenticated(j);
        return;
    case AUTH_MISSING: {
        static const struct head_reject missing = {401, "unauthorized", HTTP_MSG_NO_TOKEN,
                                                   "WWW-Authenticate", HTTP_AUTH_NO_TOKEN};
        judged(j, &missing);
        return;
    }
    case AUTH_INVALID:
        judge_failed(j);
        return;
    case AUTH_UNKNOWN:
        break;
    }
    int64_t now = clock_now_ms(rt->deps.clock), expires_ms = 0;
    if (tokcache_get(rt->tokens, j->who.tok_hex, &j->who, &expires_ms)) {
        if (expires_ms && expires_ms <= now) {
            tokcache_drop(rt->tokens, j->who.tok_hex);
            judge_failed(j);
            return;
        }
        judge_authenticated(j);
        return;
    }
    int wait = authfail_wait(rt, j->client, false);
    if (wait > 0) {
        judge_too_many(j, wait, HTTP_MSG_AUTH_THROTTLED);
        return;
    }
    if (fetch_token_record(rt, j->who.tok_hex, on_judge_token_record, j) < 0)
        on_judge_token_record(STORE_DOWN, NULL, j);
}
