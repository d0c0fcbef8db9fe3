/* Small helpers on jansson values that stored data needs: numbers Redis
 * keeps as decimal text, HGETALL's flat arrays, times in the configured
 * offset. */
#ifndef GRADCOVER_CORE_JSONX_H
#define GRADCOVER_CORE_JSONX_H

#include <stdint.h>

#include <jansson.h>

/* A stored number: a JSON integer, or a decimal string as Redis hashes hold
 * them; 0 when absent or malformed. v is borrowed. */
long long jsonx_ll(json_t *v);

/* An HGETALL reply ([k1, v1, k2, v2, ...]) as an object; new reference
 * (values shared with flat), NULL when memory ran out. */
json_t *jsonx_from_flat(json_t *flat);

/* "2026-03-05T10:30:00+08:00": the instant ms in offset_min; new reference. */
json_t *jsonx_time(int offset_min, int64_t ms);

#endif
