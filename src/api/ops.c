/* Liveness and readiness probes: /readyz names the state of Redis that keeps
 * the server from taking writes. */
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/app.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

void api_healthz(struct req *r)
{
    http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void on_ping(struct req *r, enum store_status st, json_t *res)
{
    if (st == STORE_REFUSED) {
        /* MISCONF refuses even PING: it says why. */
        http_reply_unwritable(r, store_writes(r->app->store));
        return;
    }
    bool cluster = store_is_cluster(r->app->store);
    bool answered = st == STORE_OK &&
                    (cluster ? json_is_integer(res)
                             : json_is_string(res) && strcmp(json_string_value(res), "PONG") == 0);
    if (!answered) {
        http_reply_error(r, 503, "redis_unavailable",
                         cluster ? "the master of gc:{@}'s slot does not answer a read in time, or "
                                   "the Redis Cluster refuses queries (CLUSTERDOWN: a slot without "
                                   "a master while cluster-require-full-coverage is yes)"
                                 : "Redis does not answer",
                         NULL);
        return;
    }
    json_t *body = json_pack("{s:s, s:b, s:b}", "status", "ready", "redis", 1, "scripts_loaded", 1);
    struct store_health h;
    if (body && store_health(r->app->store, &h))
        json_object_set_new(body, "cluster",
                            json_pack("{s:i, s:i, s:I, s:I}", "masters", h.masters,
                                      "masters_writable", h.masters_writable, "slots_unowned",
                                      (json_int_t)h.slots_unowned, "slots_unavailable",
                                      (json_int_t)h.slots_unavailable));
    http_reply_json(r, 200, body);
}

/* Ready means connected, scripts loaded, Redis accepting writes (the PII
 * key checked, maxmemory-policy noeviction, no OOM, READONLY or MISCONF
 * refusal since the last probe), and Redis answering now (a frozen Redis
 * keeps the socket open but fails the PING deadline). A 503 names the state.
 * On a Redis Cluster all of this is about the master of gc:{@}'s slot
 * (tokens and graduate ids: every request's first steps), once the slot map
 * is known: a master away or refusing writes makes its own counties' writes
 * answer 503, not the server unready (every server sees the same cluster:
 * a proxy or orchestrator would take them all out at once). The 200 then
 * says what is missing in "cluster" (slots_unavailable > 0). */
void api_readyz(struct req *r)
{
    /* First of all: a stopping server takes no new work (its proxy or
     * orchestrator stops sending; docs/operations.md, "Several servers
     * behind nginx"). */
    if (r->app->draining) {
        http_reply_error(r, 503, "draining", "this server is stopping; send requests to another",
                         NULL);
        return;
    }
    if (r->app->pii_mismatch) {
        http_reply_error(r, 503, "pii_key_mismatch",
                         "this server's PII key is not the one the data was written with", NULL);
        return;
    }
    enum store_writes w = store_writes(r->app->store);
    if (w == STORE_WRITES_DOWN) {
        const char *why = store_down_reason(r->app->store);
        http_reply_error(r, 503, "redis_unavailable",
                         why ? why : "not connected to Redis or scripts not loaded yet", NULL);
        return;
    }
    if (w != STORE_WRITES_OK) {
        http_reply_unwritable(r, w);
        return;
    }
    if (store_is_cluster(r->app->store)) {
        /* PING is answered also while the cluster refuses every query
         * (CLUSTERDOWN); a read of gc:{@}'s slot is not. */
        char key[KEY_MAX];
        key_global(key, sizeof key);
        call_command(r, 2, (const char *[]){"EXISTS", key}, on_ping);
        return;
    }
    call_command(r, 1, (const char *[]){"PING"}, on_ping);
}
