/* The transfer repair job (see transfers.h): every TICK_MS, the transfers
 * older than STALE_MS of the next COUNTIES_PER_TICK counties are resumed:
 * step 1 again (it changes nothing and answers the payload), then
 * store/transfer.c's chain. */
#include "gradcover/jobs/transfers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"
#include "gradcover/store/transfer.h"

/* A transfer's four steps take milliseconds; one still open after this was
 * abandoned (its request ended with a 503, or its server died). Short enough
 * that a moved graduate is uncounted only briefly, long enough never to race
 * the request that is still running it. */
#define STALE_MS 10000
/* Counties looked at per tick, round robin: one small read each, so that
 * 3,000 counties cost Redis 50 reads a second and every county is looked at
 * within a minute; a city's few counties every second. */
#define TICK_MS 1000
#define COUNTIES_PER_TICK 50
/* Transfers resumed per county and tick: they are rare. */
#define PER_COUNTY 8

struct transfers {
    struct transfers_deps d;
    struct event *timer;
    size_t outstanding; /* calls and chains not yet answered */
    size_t next;        /* the county the next tick starts at */
};

struct call {
    struct transfers *t;
    size_t county;
};

static json_t *repair_audit(const struct transfers *t)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "who", "transfer-repair", "role", "system",
                     "action", "graduate.transfer_out", "object", "", "rid", "-", "keep_ms",
                     (json_int_t)t->d.cfg->audit_retention_days * 86400000);
}

static int script(struct transfers *t, struct call *c, const char *name, json_t *args, store_cb cb)
{
    char key[KEY_MAX];
    key_county(key, sizeof key, t->d.cfg->counties[c->county].code);
    char *text = args ? jw_dumps(args, 0) : NULL;
    json_decref(args);
    if (!text)
        return -1;
    const char *argv[2] = {key, text};
    size_t lens[2] = {strlen(key), strlen(text)};
    int rc = store_script(t->d.store, name, 1, 2, argv, lens, cb, c);
    free(text);
    if (rc == 0)
        t->outstanding++;
    return rc;
}

static void on_repaired(void *arg, enum store_status st, const char *err, json_t *dest)
{
    (void)dest;
    struct call *c = arg;
    c->t->outstanding--;
    if (st == STORE_OK)
        log_info("event=transfer_repaired county=%s", c->t->d.cfg->counties[c->county].code);
    else
        log_warn("event=transfer_repair_failed county=%s err=\"%s\"",
                 c->t->d.cfg->counties[c->county].code, *err ? err : "store");
    free(c);
}

static void on_resumed(enum store_status st, json_t *res, void *arg)
{
    struct call *c = arg;
    struct transfers *t = c->t;
    t->outstanding--;
    /* A refusal: the transfer is done or gone (transfer_out.lua dropped
     * the index entry); a store failure: the next tick tries again. */
    if (st != STORE_OK || json_object_get(res, "err")) {
        free(c);
        return;
    }
    json_t *au = repair_audit(t);
    const char *id = json_string_value(json_object_get(json_object_get(res, "graduate"), "id"));
    if (au && id)
        json_object_set_new(au, "object", json_string(id));
    if (transfer_finish(t->d.store, t->d.cfg, res, au, clock_now_ms(t->d.clock), on_repaired, c) ==
        0)
        t->outstanding++;
    else
        free(c);
    json_decref(au);
}

static void on_pending(enum store_status st, json_t *res, void *arg)
{
    struct call *c = arg;
    struct transfers *t = c->t;
    t->outstanding--;
    size_t i;
    json_t *id;
    int64_t now = clock_now_ms(t->d.clock);
    int off = t->d.cfg->utc_offset_minutes;
    json_array_foreach(st == STORE_OK ? json_object_get(res, "ids") : NULL, i, id)
    {
        struct call *one = malloc(sizeof *one);
        if (!one)
            break;
        *one = *c;
        json_t *args = json_pack("{s:O, s:b, s:s, s:s, s:s, s:I, s:i, s:i}", "id", id, "resume", 1,
                                 "to", "", "xid", "", "actor", "transfer-repair", "now",
                                 (json_int_t)now, "cur", period_of(now, off), "off", off);
        if (script(t, one, "transfer_out", args, on_resumed) < 0)
            free(one);
    }
    free(c);
}

static void tick(struct transfers *t)
{
    if (t->outstanding > 0 || !store_writable(t->d.store))
        return;
    int64_t before = clock_now_ms(t->d.clock) - STALE_MS;
    size_t n = t->d.cfg->ncounties;
    for (size_t k = 0; k < COUNTIES_PER_TICK && k < n; k++) {
        size_t i = t->next % n;
        struct call *c = malloc(sizeof *c);
        if (!c)
            return;
        t->next = i + 1;
        c->t = t;
        c->county = i;
        json_t *args = json_pack("{s:I, s:i}", "before", (json_int_t)before, "limit", PER_COUNTY);
        if (script(t, c, "transfer_pending", args, on_pending) < 0) {
            free(c);
            return;
        }
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tick(arg);
}

struct transfers *transfers_new(const struct transfers_deps *deps)
{
    struct transfers *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->d = *deps;
    t->timer = event_new(deps->base, -1, EV_PERSIST, on_tick, t);
    struct timeval tv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};
    if (!t->timer || event_add(t->timer, &tv) < 0) {
        transfers_free(t);
        return NULL;
    }
    return t;
}

int transfers_reconfigure(struct transfers *t, const struct config *cfg)
{
    t->d.cfg = cfg; /* the next tick; t->next wraps modulo the new count */
    return 0;
}

void transfers_free(struct transfers *t)
{
    if (!t)
        return;
    if (t->timer)
        event_free(t->timer);
    free(t);
}
