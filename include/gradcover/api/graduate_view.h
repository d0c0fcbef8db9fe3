/* A stored graduate (a hash, as HGETALL or a script returns it) formatted for
 * the caller: national ID masked always, phone masked unless the caller
 * serves the graduate (PIPL Art. 51), times in the configured offset. */
#ifndef GRADCOVER_API_GRADUATE_VIEW_H
#define GRADCOVER_API_GRADUATE_VIEW_H

#include <jansson.h>

struct req;

/* New reference (stored is borrowed); NULL when memory ran out. */
json_t *graduate_view(struct req *r, json_t *stored);

#endif
