/* A request's store calls (see call.h). */
#include "gradcover/api/call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/app.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/domain/tokens.h"
#include "gradcover/http/request.h"
#include "gradcover/http/router.h"
#include "gradcover/store/keys.h"

int call_budget_ms(const struct req *r)
{
    int64_t left = store_timeout_ms(r->app->store) - (clock_mono_us() - r->start_us) / 1000;
    return left > 0 ? (int)left : 0;
}

enum store_status call_unsent(int budget_ms)
{
    return budget_ms > 0 ? STORE_DOWN : STORE_TIMEOUT;
}

enum store_status call_key_refused(struct req *r, const char *key, size_t len)
{
    /* One Redis: the route's check (router.c) was the same; the request
     * goes on as it always did (an undo step is still sent). */
    if (!r->matched || !(r->matched->flags & ROUTE_WRITES) || !store_is_cluster(r->app->store))
        return STORE_OK;
    enum store_writes w = store_writes_for(r->app->store, key, len);
    if (w == STORE_WRITES_OK)
        return STORE_OK;
    r->key_writes = w;
    return w == STORE_WRITES_DOWN ? STORE_DOWN : STORE_REFUSED;
}

struct single {
    struct req *r;
    call_fn cb;
    char key[KEY_MAX]; /* the call's key ("" none): whose refusal a 503 names */
};

static void on_single(enum store_status st, json_t *result, void *arg)
{
    struct single *s = arg;
    struct req *r = s->r;
    call_fn cb = s->cb;
    if (st == STORE_REFUSED && s->key[0])
        r->key_writes = store_writes_for(r->app->store, s->key, strlen(s->key));
    free(s);
    const char *err = json_string_value(json_object_get(result, "err"));
    if (st == STORE_OK && err && strcmp(err, "token_revoked") == 0) {
        /* Revoked on some server while this request was under way: nothing
         * was written. */
        http_reply_revoked(r);
        return;
    }
    cb(r, st, result);
}

void call_script_jw(struct req *r, const char *script, const char *key, struct jw *args, call_fn cb)
{
    size_t len = 0;
    const char *text = jw_text(args, &len);
    struct single *s = text ? malloc(sizeof *s) : NULL;
    if (!s) {
        jw_free(args);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    s->r = r;
    s->cb = cb;
    snprintf(s->key, sizeof s->key, "%s", key);
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), len};
    enum store_status refused = call_key_refused(r, key, lens[0]);
    if (refused != STORE_OK) {
        jw_free(args);
        free(s);
        cb(r, refused, NULL);
        return;
    }
    int budget = call_budget_ms(r);
    int rc = store_script_within(r->app->store, budget, script, 1, 2, argv, lens, on_single, s);
    jw_free(args);
    if (rc < 0) {
        free(s);
        cb(r, call_unsent(budget), NULL);
    }
}

void call_script(struct req *r, const char *script, const char *key, json_t *args, call_fn cb)
{
    if (args && r->who.tok_hex[0]) {
        /* The script refuses to change anything for a revoked token. */
        char tkey[KEY_MAX];
        key_token(tkey, sizeof tkey, r->who.tok_hex);
        json_object_set_new(args, "tok", json_string(tkey));
    }
    struct jw w;
    jw_init(&w);
    if (json_is_object(args))
        jw_json(&w, args, 0);
    else
        w.failed = true;
    json_decref(args);
    call_script_jw(r, script, key, &w, cb);
}

void call_command(struct req *r, int argc, const char **argv, call_fn cb)
{
    size_t lens[8];
    for (int i = 0; i < argc && i < 8; i++)
        lens[i] = strlen(argv[i]);
    struct single *s = malloc(sizeof *s);
    if (!s) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    s->r = r;
    s->cb = cb;
    s->key[0] = '\0';
    if (argc > 1) {
        snprintf(s->key, sizeof s->key, "%s", argv[1]);
        enum store_status refused = call_key_refused(r, argv[1], lens[1]);
        if (refused != STORE_OK) {
            free(s);
            cb(r, refused, NULL);
            return;
        }
    }
    int budget = call_budget_ms(r);
    if (store_command_within(r->app->store, budget, argc, argv, lens, on_single, s) < 0) {
        free(s);
        cb(r, call_unsent(budget), NULL);
    }
}
