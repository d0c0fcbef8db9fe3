/* Who is calling: bearer tokens looked up by SHA-256 (constant-time compare),
 * roles and county scope of SPEC §6. Pure decisions; no I/O. */
#ifndef GRADCOVER_AUTH_H
#define GRADCOVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "gradcover/config.h"

struct principal {
    const char *name; /* borrowed from the config; "anonymous" for viewers without a token */
    enum role role;
    const char *county; /* NULL = every county (admin, viewer, city-wide leader) */
};

enum auth_result { AUTH_OK = 0, AUTH_MISSING, AUTH_INVALID };

/* A token longer than this is not one of ours (ours are 43 base64url chars). */
#define AUTH_TOKEN_MAX_LEN 512

/* The token of an Authorization value "Bearer <token>" (scheme in any case,
 * spaces before the token skipped): a pointer into authorization, borrowed,
 * with its length in *len; NULL when the value is not a bearer credential of
 * 1..AUTH_TOKEN_MAX_LEN bytes. */
const char *auth_bearer_token(const char *authorization, size_t *len);

/* Resolves an Authorization header value (may be NULL). With anonymous_read a
 * missing header is a viewer; a present but unknown token is always invalid. */
enum auth_result auth_resolve(const struct config *cfg, const char *authorization,
                              struct principal *out);

/* May see per-county aggregates (coverage) of this county. */
bool auth_can_see_coverage(const struct principal *p, const char *county);
/* May read graduates, contacts and the queue of this county. */
bool auth_can_read_county(const struct principal *p, const char *county);
/* May register graduates, change status and log contacts in this county. */
bool auth_can_write_county(const struct principal *p, const char *county);
/* Sees personal data (phone) unmasked: admin and the county's counselor. */
bool auth_sees_full_pii(const struct principal *p);

#endif
