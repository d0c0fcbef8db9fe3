/* Steps 2 to 4 of moving a graduate to another county (docs/design.md,
 * "Transfers"): the destination county's step, the global index, the
 * source's clean-up, each one atomic script, run in that order after step 1
 * (transfer_out.lua) answered. Each step is idempotent, so the API and the
 * repair job (jobs/transfers.c) run the same chain, as often as needed. */
#ifndef GRADCOVER_STORE_TRANSFER_H
#define GRADCOVER_STORE_TRANSFER_H

#include <stdint.h>

#include <jansson.h>

#include "gradcover/common.h"
#include "gradcover/store/store.h"

struct config;

/* Called once: STORE_OK with the destination step's answer (borrowed: the
 * graduate as now stored there, and the transition its write made to the
 * destination's alert), or the failing step's status with err, the script's
 * refusal if it refused ("" otherwise). The intent stays in the source
 * county until step 4 succeeded: the repair job finishes it. */
typedef void (*transfer_cb)(void *arg, enum store_status st, const char *err, json_t *dest);

/* Runs steps 2-4 for step 1's answer out (borrowed: its xid, from, to,
 * graduate, contacts, served). audit (borrowed, may be NULL) is the audit
 * object of step 1; the destination's entry is the same with action
 * "graduate.transfer_in" and from = the source county. -1 when nothing
 * could be sent (cb is then not called). */
int transfer_finish(struct store *s, const struct config *cfg, json_t *out, json_t *audit,
                    int64_t now_ms, transfer_cb cb, void *arg) GC_MUSTCHECK;

#endif
