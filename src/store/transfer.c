/* The chain of a transfer's steps 2-4 (see transfer.h): one state object,
 * freed when the chain ends, whichever way. */
#include "gradcover/store/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"

struct chain {
    struct store *store;
    char id[GC_ID_MAX + 1];
    char from[GC_COUNTY_MAX + 1], to[GC_COUNTY_MAX + 1];
    char xid[64];
    json_t *index_args; /* step 3's arguments, owned */
    json_t *done_args;  /* step 4's */
    json_t *dest;       /* step 2's answer, owned */
    transfer_cb cb;
    void *arg;
};

static void chain_end(struct chain *c, enum store_status st, const char *err)
{
    if (st != STORE_OK)
        log_warn("event=transfer_unfinished graduate=%s from=%s to=%s xid=%s err=\"%s\"", c->id,
                 c->from, c->to, c->xid, err && *err ? err : "store");
    c->cb(c->arg, st, err ? err : "", st == STORE_OK ? c->dest : NULL);
    json_decref(c->index_args);
    json_decref(c->done_args);
    json_decref(c->dest);
    free(c);
}

/* Sends script name with args (borrowed) on key; -1 when not sent. */
static int send(struct chain *c, const char *name, const char *key, json_t *args, store_cb cb)
{
    char *text = jw_dumps(args, 0);
    if (!text)
        return -1;
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), strlen(text)};
    int rc = store_script(c->store, name, 1, 2, argv, lens, cb, c);
    free(text);
    return rc;
}

static const char *refusal(json_t *res)
{
    return json_string_value(json_object_get(res, "err"));
}

static void on_done(enum store_status st, json_t *res, void *arg)
{
    struct chain *c = arg;
    if (st == STORE_OK && refusal(res))
        st = STORE_FAILED;
    chain_end(c, st, st == STORE_OK ? NULL : refusal(res));
}

static void on_index(enum store_status st, json_t *res, void *arg)
{
    struct chain *c = arg;
    if (st == STORE_OK && refusal(res)) {
        chain_end(c, STORE_FAILED, refusal(res));
        return;
    }
    if (st != STORE_OK) {
        chain_end(c, st, NULL);
        return;
    }
    char key[KEY_MAX];
    key_county(key, sizeof key, c->from);
    if (send(c, "transfer_done", key, c->done_args, on_done) < 0)
        chain_end(c, STORE_DOWN, NULL);
}

static void on_in(enum store_status st, json_t *res, void *arg)
{
    struct chain *c = arg;
    if (st == STORE_OK && refusal(res)) {
        chain_end(c, STORE_FAILED, refusal(res));
        return;
    }
    if (st != STORE_OK) {
        chain_end(c, st, NULL);
        return;
    }
    c->dest = json_incref(res);
    char key[KEY_MAX];
    key_global(key, sizeof key);
    if (send(c, "transfer_index", key, c->index_args, on_index) < 0)
        chain_end(c, STORE_DOWN, NULL);
}

int transfer_finish(struct store *s, const struct config *cfg, json_t *out, json_t *audit,
                    int64_t now_ms, transfer_cb cb, void *arg)
{
    const char *id = json_string_value(json_object_get(json_object_get(out, "graduate"), "id"));
    const char *from = json_string_value(json_object_get(out, "from"));
    const char *to = json_string_value(json_object_get(out, "to"));
    const char *xid = json_string_value(json_object_get(out, "xid"));
    if (!id || !from || !to || !xid || !json_is_integer(json_object_get(out, "xn")) ||
        strlen(id) > GC_ID_MAX || strlen(from) > GC_COUNTY_MAX || strlen(to) > GC_COUNTY_MAX ||
        strlen(xid) >= 64 || !config_county(cfg, to))
        return -1;
    struct chain *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->store = s;
    c->cb = cb;
    c->arg = arg;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->from, sizeof c->from, "%s", from);
    snprintf(c->to, sizeof c->to, "%s", to);
    snprintf(c->xid, sizeof c->xid, "%s", xid);
    int off = cfg->utc_offset_minutes;
    json_t *in = json_pack(
        "{s:s, s:s, s:s, s:O, s:O, s:b, s:I, s:i, s:i, s:o}", "id", id, "from", from, "xid", xid,
        "graduate", json_object_get(out, "graduate"), "contacts", json_object_get(out, "contacts"),
        "served", json_is_true(json_object_get(out, "served")), "now", (json_int_t)now_ms, "cur",
        period_of(now_ms, off), "off", off, "alert", alert_params_json(cfg, to));
    json_t *pk = config_package_json(cfg);
    if (in && pk)
        json_object_set_new(in, "pk", pk);
    else
        json_decref(pk);
    if (in && audit) {
        json_t *au = json_deep_copy(audit);
        if (au) {
            json_object_set_new(au, "action", json_string("graduate.transfer_in"));
            json_object_set_new(au, "from", json_string(from));
            json_object_set_new(in, "audit", au);
        }
    }
    const char *hmac =
        json_string_value(json_object_get(json_object_get(out, "graduate"), "nid_hmac"));
    json_int_t xn = json_integer_value(json_object_get(out, "xn"));
    c->index_args = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "from", from, "to", to, "xn", xn);
    if (c->index_args && hmac)
        json_object_set_new(c->index_args, "hmac", json_string(hmac));
    c->done_args = json_pack("{s:s, s:s}", "id", id, "xid", xid);
    char key[KEY_MAX];
    key_county(key, sizeof key, to);
    if (!in || !c->index_args || !c->done_args || send(c, "transfer_in", key, in, on_in) < 0) {
        json_decref(in);
        json_decref(c->index_args);
        json_decref(c->done_args);
        free(c);
        return -1;
    }
    json_decref(in);
    return 0;
}
