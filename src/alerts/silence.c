/* The delivery side's questions about silences (see silence.h): each one
 * script call, its answer mapped to plain structs before it leaves this file. */
#include "gradcover/alerts/silence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"

/* One call in flight: whose callback, and how many counties were asked. */
struct call {
    union {
        silence_check_fn check;
        silence_ends_fn ends;
        silence_claim_fn claim;
        silence_done_fn done;
    } cb;
    void *arg;
    size_t n;
};

/* Runs script under key with the argument text in w (freed here); the call
 * c is handed to on_reply, or freed on failure (-1). */
static int run(struct store *st, const char *script, const char *key, struct jw *w,
               store_cb on_reply, struct call *c)
{
    size_t len = 0;
    const char *text = jw_text(w, &len);
    int rc = -1;
    if (text) {
        const char *argv[2] = {key, text};
        size_t lens[2] = {strlen(key), len};
        rc = store_script(st, script, 1, 2, argv, lens, on_reply, c);
    }
    jw_free(w);
    if (rc < 0)
        free(c);
    return rc;
}

static struct call *call_new(void *arg)
{
    struct call *c = calloc(1, sizeof *c);
    if (c)
        c->arg = arg;
    return c;
}

/* ---- silence_check ---- */

static void on_checked(enum store_status st, json_t *res, void *arg)
{
    struct call *c = arg;
    json_t *until = json_object_get(res, "until"), *ids = json_object_get(res, "ids");
    struct silence_status *s = NULL;
    if (st == STORE_OK) {
        s = calloc(c->n ? c->n : 1, sizeof *s);
        if (!s)
            st = STORE_FAILED;
    }
    for (size_t i = 0; s && i < c->n; i++) {
        s[i].until_ms = jsonx_ll(json_array_get(until, i));
        s[i].silenced = s[i].until_ms > 0;
        const char *id = json_string_value(json_array_get(ids, i));
        snprintf(s[i].id, sizeof s[i].id, "%s", s[i].silenced && id ? id : "");
    }
    c->cb.check(c->arg, st, s, st == STORE_OK ? c->n : 0);
    free(s);
    free(c);
}

int silence_check(struct store *st, const char *const *counties, size_t n, int64_t at_ms,
                  silence_check_fn cb, void *arg)
{
    return silence_check_span(st, counties, n, at_ms, at_ms, cb, arg);
}

int silence_check_span(struct store *st, const char *const *counties, size_t n, int64_t since_ms,
                       int64_t at_ms, silence_check_fn cb, void *arg)
{
    struct call *c = call_new(arg);
    if (!c)
        return -1;
    c->cb.check = cb;
    c->n = n;
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "at");
    jw_int(&w, at_ms);
    if (since_ms < at_ms) {
        jw_key(&w, "since");
        jw_int(&w, since_ms);
    }
    jw_key(&w, "counties");
    jw_arr(&w);
    for (size_t i = 0; i < n; i++)
        jw_str(&w, counties[i]);
    jw_arr_end(&w);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    return run(st, "silence_check", key, &w, on_checked, c);
}

/* ---- silence_ends_due ---- */

static void on_ends(enum store_status st, json_t *res, void *arg)
{
    struct call *c = arg;
    /* An empty Lua table encodes as {}: no ends. */
    json_t *list = json_object_get(res, "ends");
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    struct silence_end *e = NULL;
    if (st == STORE_OK && n) {
        e = calloc(n, sizeof *e);
        if (!e)
            st = STORE_FAILED;
    }
    for (size_t i = 0; e && i < n; i++) {
        json_t *o = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *county = json_string_value(json_object_get(o, "county"));
        snprintf(e[i].id, sizeof e[i].id, "%s", id ? id : "");
        snprintf(e[i].county, sizeof e[i].county, "%s", county ? county : "");
        e[i].ends_at_ms = jsonx_ll(json_object_get(o, "ends_at"));
    }
    c->cb.ends(c->arg, st, e, st == STORE_OK ? n : 0);
    free(e);
    free(c);
}

int silence_ends_due(struct store *st, int64_t now_ms, silence_ends_fn cb, void *arg)
{
    struct call *c = call_new(arg);
    if (!c)
        return -1;
    c->cb.ends = cb;
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "now");
    jw_int(&w, now_ms);
    jw_key(&w, "keep_ms");
    jw_int(&w, SILENCE_KEEP_MS);
    jw_key(&w, "limit");
    jw_int(&w, SILENCE_ENDS_MAX);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    return run(st, "silence_ends_due", key, &w, on_ends, c);
}

/* ---- silence_end_claim ---- */

static void on_claimed(enum store_status st, json_t *res, void *arg)
{
    struct call *c = arg;
    struct silence_claim cl = {0};
    if (st == STORE_OK) {
        cl.claimed = json_is_true(json_object_get(res, "claimed"));
        cl.firing = json_is_true(json_object_get(res, "firing"));
        const char *ep = json_string_value(json_object_get(res, "episode"));
        const char *ev = json_string_value(json_object_get(res, "event_id"));
        snprintf(cl.episode, sizeof cl.episode, "%s", ep ? ep : "");
        snprintf(cl.event_id, sizeof cl.event_id, "%s", ev ? ev : "");
    }
    c->cb.claim(c->arg, st, st == STORE_OK ? &cl : NULL);
    free(c);
}

int silence_end_claim(struct store *st, const char *silence_id, const char *county, int64_t now_ms,
                      silence_claim_fn cb, void *arg)
{
    if (!config_valid_county_code(county))
        return -1;
    struct call *c = call_new(arg);
    if (!c)
        return -1;
    c->cb.claim = cb;
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "sid");
    jw_str(&w, silence_id);
    jw_key(&w, "now");
    jw_int(&w, now_ms);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_county(key, sizeof key, county);
    return run(st, "silence_end_claim", key, &w, on_claimed, c);
}

/* ---- silence_end_done ---- */

static void on_done(enum store_status st, json_t *res, void *arg)
{
    (void)res;
    struct call *c = arg;
    c->cb.done(c->arg, st);
    free(c);
}

int silence_end_done(struct store *st, const char *silence_id, silence_done_fn cb, void *arg)
{
    struct call *c = call_new(arg);
    if (!c)
        return -1;
    c->cb.done = cb;
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "id");
    jw_str(&w, silence_id);
    jw_obj_end(&w);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    return run(st, "silence_end_done", key, &w, on_done, c);
}
