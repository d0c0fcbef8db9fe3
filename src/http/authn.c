/* Authentication of a request, API tokens and rate limits (see authn.h). */
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
#include "gradcover/domain/tokens.h"
#include "gradcover/http/ratelimit.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

static int64_t now_ms(const struct req *r)
{
    return clock_now_ms(r->rt->deps.clock);
}

/* A failed authentication: 401, or 429 once the client address has failed
 * too often (a token cannot be guessed at Redis's speed). */
static void auth_failed(struct req *r)
{
    struct router *rt = r->rt;
    int per_min = rt->deps.cfg->rate_limits.auth_failures_per_minute;
    int wait = ratelimit_take(rt->authfail, http_peer(r), per_min / 60.0, per_min, now_ms(r));
    log_warn("event=auth_failed request_id=%s peer=%s", r->id, http_peer(r));
    if (wait > 0) {
        http_reply_too_many(r, wait, "too many failed authentications from this address");
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

/* After authentication: the caller's rate limit, the liveness check of an
 * API token (skipped when it was just read from Redis), then the route. */
static void dispatch(struct req *r, bool fresh)
{
    struct router *rt = r->rt;
    const struct rate_limits_cfg *rl = &rt->deps.cfg->rate_limits;
    enum evhttp_cmd_type m = evhttp_request_get_command(r->ev);
    bool read = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
    char key[GC_ID_MAX + 80];
    if (strcmp(r->who.name, "anonymous") == 0 && !r->who.tok_hex[0])
        snprintf(key, sizeof key, "%c:@%s", read ? 'r' : 'w', http_peer(r));
    else
        snprintf(key, sizeof key, "%c:%s", read ? 'r' : 'w', r->who.name);
    int wait =
        read ? ratelimit_take(rt->limits, key, rl->reads_per_second, rl->read_burst, now_ms(r))
             : ratelimit_take(rt->limits, key, rl->writes_per_second, rl->write_burst, now_ms(r));
    if (wait > 0) {
        http_reply_too_many(r, wait,
                            read ? "read rate limit of this token exceeded"
                                 : "write rate limit of this token exceeded");
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
    int per_min = cfg->rate_limits.auth_failures_per_minute;
    int wait = ratelimit_peek(rt->authfail, http_peer(r), per_min / 60.0, per_min, now_ms(r));
    if (wait > 0) {
        http_reply_too_many(r, wait, "too many failed authentications from this address");
        return;
    }
    char key[KEY_MAX];
    key_token(key, sizeof key, r->who.tok_hex);
    const char *argv[2] = {"HGETALL", key};
    size_t lens[2] = {7, strlen(key)};
    if (store_command(rt->deps.store, 2, argv, lens, on_token_record, r) < 0)
        http_reply_unavailable(r);
}
