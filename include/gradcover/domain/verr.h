/* Reading the fields of a request body and collecting every error on the way
 * (answered as one 422 naming each field). Pure: no I/O, no request. */
#ifndef GRADCOVER_DOMAIN_VERR_H
#define GRADCOVER_DOMAIN_VERR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* SPEC §6: client clocks may run up to 5 minutes ahead. */
#define VERR_CLOCK_SKEW_MS (5 * 60 * 1000)

/* Collected validation errors: field name -> message (the first per field). */
struct verr {
    json_t *fields; /* owned; NULL until the first error */
};

void verr_add(struct verr *v, const char *field, const char *message);
bool verr_any(const struct verr *v);
/* Takes the collected fields (a new reference, NULL when none) and empties v. */
json_t *verr_take(struct verr *v);
/* Drops what was collected. */
void verr_clear(struct verr *v);

/* The one entry of a 422 that stands for every member of the body that the
 * endpoint does not know: their names are the caller's bytes (a <script>, a
 * national ID used as a key, thousands of them), so they are counted, never
 * named. Starts with '_', which no known member does. */
#define VERR_UNKNOWN_FIELD "_unknown"
/* Room for the count and the longest list of allowed members (the
 * registration's nine names, ~110 bytes). */
#define VERR_UNKNOWN_MSG_MAX 256

/* When body has members not in allowed (NULL-terminated), adds one error
 * under VERR_UNKNOWN_FIELD: "<n> unknown field(s); allowed: a, b, c" (the
 * allowed names in their order, so a client can tell what to fix). */
void verr_unknown_keys(json_t *body, const char *const *allowed, struct verr *v);

/* A string field: absent or null -> *out NULL (an error when required);
 * present, it must be a string of 1..max_chars Unicode characters without NUL
 * or control characters (tab and newline allowed). *out is borrowed from body. */
void verr_text(json_t *body, const char *key, size_t max_chars, bool required, const char **out,
               struct verr *v);

/* An optional RFC 3339 time not later than now + VERR_CLOCK_SKEW_MS; *out =
 * dflt when absent; a time a little ahead (within the skew) becomes now. */
void verr_time(json_t *body, const char *key, int64_t now, int64_t dflt, int64_t *out,
               struct verr *v);

#endif
