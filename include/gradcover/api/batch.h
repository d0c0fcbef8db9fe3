/* Pipelined store calls of one request that finish together: each slot gets
 * its result, and one continuation answers the request once all have
 * answered or timed out (under the request's remaining Redis time). */
#ifndef GRADCOVER_API_BATCH_H
#define GRADCOVER_API_BATCH_H

#include <stddef.h>

#include <jansson.h>

#include "gradcover/store/store.h"

struct req;
struct batch;

/* Called once with the request still unanswered; the batch is freed right
 * after it returns. Only `done` answers the request. */
typedef void (*batch_done_fn)(struct req *r, struct batch *b);

/* NULL when memory ran out. */
struct batch *batch_new(struct req *r, size_t n, batch_done_fn done);
/* Issue slot i; a slot that cannot be sent counts as STORE_DOWN (store not
 * ready) or STORE_TIMEOUT (the request's Redis time is spent). */
void batch_command(struct batch *b, size_t i, int argc, const char **argv, const size_t *lens);
void batch_script(struct batch *b, size_t i, const char *script, int nkeys, int argc,
                  const char **argv, const size_t *lens);
/* Call after issuing every slot. */
void batch_start(struct batch *b);
size_t batch_size(const struct batch *b);
enum store_status batch_status(const struct batch *b, size_t i);
json_t *batch_result(const struct batch *b, size_t i); /* borrowed */
/* The worst status over all slots (STORE_OK when every slot succeeded). */
enum store_status batch_worst(const struct batch *b);

#endif
