/* The retention job (see retention.h): retention.lua on COUNTIES_PER_TICK
 * counties every TICK_MS while a pass is under way. */
#include "gradcover/jobs/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/core/sweep.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

/* 64 counties a second, in small slices so that no tick is a burst of Redis
 * work that requests queue behind. */
#define COUNTIES_PER_TICK 16
#define TICK_MS 250
/* Graduates erased per county and call: a small script each time. */
#define ERASE_PER_CALL 200
/* A new pass this long after the previous one ended. */
#define PASS_EVERY_MS (6 * 3600 * 1000LL)

struct retention {
    struct retention_deps d;
    struct event *timer;
    bool active;
    struct sweep pass;  /* the counties of the pass, COUNTIES_PER_TICK at a time */
    size_t outstanding; /* calls of the current tick not yet answered */
    int64_t next_pass_ms;
    long erased; /* in this pass */
};

struct call {
    struct retention *rt;
    size_t county;
};

static void on_retention(enum store_status st, json_t *res, void *arg)
{
    struct call *c = arg;
    struct retention *rt = c->rt;
    rt->outstanding--;
    if (st == STORE_OK) {
        long n = (long)json_integer_value(json_object_get(res, "erased"));
        rt->erased += n;
        if (n > 0)
            log_info("event=retention_erased county=%s graduates=%ld",
                     rt->d.cfg->counties[c->county].code, n);
        /* More due in this county: take it again on the next tick. */
        if (json_is_true(json_object_get(res, "more")))
            sweep_again(&rt->pass, c->county);
    } else {
        /* Not done (Redis down, refusing writes, slow): this county again,
         * once Redis takes writes (tick). */
        sweep_again(&rt->pass, c->county);
    }
    free(c);
}

static void tick(struct retention *rt)
{
    const struct retention_deps *d = &rt->d;
    int64_t now = clock_now_ms(d->clock);
    if (!rt->active && now >= rt->next_pass_ms && rt->next_pass_ms > 0)
        retention_start(rt);
    if (!rt->active || rt->outstanding > 0 || !store_writable(d->store))
        return;
    if (sweep_over(&rt->pass)) {
        rt->active = false;
        rt->next_pass_ms = now + PASS_EVERY_MS;
        log_info("event=retention_pass_done erased=%ld", rt->erased);
        return;
    }
    int64_t cutoff = now - (int64_t)d->cfg->pii_retention_days * 86400000;
    json_t *args =
        json_pack("{s:I, s:I, s:i, s:{s:s, s:s, s:s, s:s, s:s, s:I}}", "cutoff", (json_int_t)cutoff,
                  "now", (json_int_t)now, "limit", ERASE_PER_CALL, "audit", "who", "retention",
                  "role", "system", "action", "retention.erase", "object", "", "rid", "-",
                  "keep_ms", (json_int_t)d->cfg->audit_retention_days * 86400000);
    char *text = args ? jw_dumps(args, 0) : NULL;
    json_decref(args);
    if (!text)
        return;
    size_t from = rt->pass.next, end = sweep_chunk(&rt->pass, COUNTIES_PER_TICK);
    rt->pass.next = end;
    for (size_t i = from; i < end; i++) {
        struct call *c = malloc(sizeof *c);
        if (!c)
            break;
        c->rt = rt;
        c->county = i;
        char key[KEY_MAX];
        key_county(key, sizeof key, d->cfg->counties[i].code);
        const char *argv[2] = {key, text};
        size_t lens[2] = {strlen(key), strlen(text)};
        if (store_script(d->store, "retention", 1, 2, argv, lens, on_retention, c) < 0) {
            free(c);
            rt->pass.next = i; /* not sent: retry from here */
            break;
        }
        rt->outstanding++;
    }
    free(text);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tick(arg);
}

struct retention *retention_new(const struct retention_deps *deps)
{
    struct retention *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->d = *deps;
    sweep_init_unpaced(&rt->pass, deps->cfg->ncounties);
    rt->timer = event_new(deps->base, -1, EV_PERSIST, on_tick, rt);
    struct timeval tv = {0, TICK_MS * 1000};
    if (!rt->timer || event_add(rt->timer, &tv) < 0) {
        retention_free(rt);
        return NULL;
    }
    return rt;
}

int retention_reconfigure(struct retention *rt, const struct config *cfg)
{
    rt->d.cfg = cfg;
    if (!sweep_over(&rt->pass))
        rt->pass.n = cfg->ncounties; /* a pass in progress takes in the new counties */
    else
        rt->pass.n = rt->pass.next = cfg->ncounties;
    return 0;
}

void retention_free(struct retention *rt)
{
    if (!rt)
        return;
    if (rt->timer)
        event_free(rt->timer);
    free(rt);
}

void retention_start(struct retention *rt)
{
    if (rt->active)
        return;
    rt->active = true;
    sweep_start(&rt->pass);
    rt->erased = 0;
}
