/* The entries of the county search index (search.lua; docs/design.md,
 * "Finding people") computed from a name and a phone: HMACs under the PII
 * key, so the index holds no name or number in clear. */
#ifndef GRADCOVER_API_SEARCH_IX_H
#define GRADCOVER_API_SEARCH_IX_H

#include <stddef.h>

#include <jansson.h>

struct pii;

/* Name prefixes indexed: names are 2-4 characters; a longer query is
 * matched on its first SEARCH_IX_PREFIX_MAX and filtered by the script. */
#define SEARCH_IX_PREFIX_MAX 8
/* Hex digits of the HMAC kept per entry: 96 bits, no collision in a county. */
#define SEARCH_IX_HEX 24

/* "n:<hex>" for each prefix of name (1..SEARCH_IX_PREFIX_MAX characters):
 * a new array (empty for NULL); NULL on allocation failure. */
json_t *search_ix_name(const struct pii *p, const char *name);

/* ["p:<hex>"] for the phone's last four digits (empty when it has fewer or
 * is NULL); NULL on allocation failure. */
json_t *search_ix_phone(const struct pii *p, const char *phone);

/* The entry base a query q looks up: "n:<hex>" of its first
 * SEARCH_IX_PREFIX_MAX characters into out (at least 32 bytes). */
void search_ix_query_name(const struct pii *p, const char *q, char *out, size_t n);

/* "p:<hex>" for a four-digit q into out, or "" for any other q. */
void search_ix_query_phone(const struct pii *p, const char *q, char *out, size_t n);

#endif
