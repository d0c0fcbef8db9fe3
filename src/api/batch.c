/* Pipelined store calls of one request (see batch.h). */
#include "gradcover/api/batch.h"

#include <stdlib.h>

#include "gradcover/api/call.h"
#include "gradcover/app.h"
#include "gradcover/http/request.h"

struct batch_slot {
    struct batch *b;
    enum store_status st;
    json_t *result;
};

struct batch {
    struct req *r;
    size_t n, pending;
    bool started;
    batch_done_fn done;
    struct batch_slot *slots;
};

struct batch *batch_new(struct req *r, size_t n, batch_done_fn done)
{
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->r = r;
    b->done = done;
    b->n = b->pending = n;
    b->slots = calloc(n ? n : 1, sizeof *b->slots);
    if (!b->slots) {
        free(b);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        b->slots[i].b = b;
    return b;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->slots[i].result);
    free(b->slots);
    free(b);
}

static void batch_finish(struct batch *b)
{
    b->done(b->r, b);
    batch_free(b);
}

static void on_batch_slot(enum store_status st, json_t *result, void *arg)
{
    struct batch_slot *s = arg;
    struct batch *b = s->b;
    s->st = st;
    s->result = json_incref(result);
    if (--b->pending == 0 && b->started)
        batch_finish(b);
}

void batch_command(struct batch *b, size_t i, int argc, const char **argv, const size_t *lens)
{
    enum store_status refused = argc > 1 ? call_key_refused(b->r, argv[1], lens[1]) : STORE_OK;
    if (refused != STORE_OK) {
        b->slots[i].st = refused;
        b->pending--;
        return;
    }
    int budget = call_budget_ms(b->r);
    if (store_command_within(b->r->app->store, budget, argc, argv, lens, on_batch_slot,
                             &b->slots[i]) < 0) {
        b->slots[i].st = call_unsent(budget);
        b->pending--;
    }
}

void batch_script(struct batch *b, size_t i, const char *script, int nkeys, int argc,
                  const char **argv, const size_t *lens)
{
    enum store_status refused = call_key_refused(b->r, argv[0], lens[0]);
    if (refused != STORE_OK) {
        b->slots[i].st = refused;
        b->pending--;
        return;
    }
    int budget = call_budget_ms(b->r);
    if (store_script_within(b->r->app->store, budget, script, nkeys, argc, argv, lens,
                            on_batch_slot, &b->slots[i]) < 0) {
        b->slots[i].st = call_unsent(budget);
        b->pending--;
    }
}

void batch_start(struct batch *b)
{
    b->started = true;
    if (b->pending == 0)
        batch_finish(b);
}

size_t batch_size(const struct batch *b)
{
    return b->n;
}

enum store_status batch_status(const struct batch *b, size_t i)
{
    return b->slots[i].st;
}

json_t *batch_result(const struct batch *b, size_t i)
{
    return b->slots[i].result;
}

enum store_status batch_worst(const struct batch *b)
{
    enum store_status w = STORE_OK;
    for (size_t i = 0; i < b->n; i++)
        if (b->slots[i].st != STORE_OK)
            w = b->slots[i].st;
    return w;
}
