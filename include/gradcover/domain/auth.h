/* Who is calling: bearer tokens looked up by SHA-256 (constant-time compare),
 * roles and county scope of SPEC §6. Pure decisions; no I/O. */
#ifndef GRADCOVER_DOMAIN_AUTH_H
#define GRADCOVER_DOMAIN_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "gradcover/common.h"
#include "gradcover/domain/config.h"

/* A resolved caller. Self-contained (copies, no borrowed pointers), so it
 * outlives a revoked token's cache entry. */
struct principal {
    char name[GC_ID_MAX + 1]; /* the token's name; "anonymous" for viewers without one */
    enum role role;
    char county[GC_COUNTY_MAX + 1]; /* "" = every county (admin, viewer, city-wide leader) */
    char tok_hex[65];               /* SHA-256 hex of an API-issued token; "" for config tokens */
};

enum auth_result {
    AUTH_OK = 0,
    AUTH_MISSING, /* no Authorization header (and no anonymous reads) */
    AUTH_INVALID, /* malformed, or not a bearer token */
    AUTH_UNKNOWN, /* well-formed but not a config token: out->tok_hex names it for
                   * a look-up among the API-issued tokens */
};

/* A token longer than this is not one of ours (ours are 43 base64url chars). */
#define AUTH_TOKEN_MAX_LEN 512

/* The token of an Authorization value "Bearer <token>" (scheme in any case,
 * spaces before the token skipped): a pointer into authorization, borrowed,
 * with its length in *len; NULL when the value is not a bearer credential of
 * 1..AUTH_TOKEN_MAX_LEN bytes. */
const char *auth_bearer_token(const char *authorization, size_t *len);

/* Resolves an Authorization header value (may be NULL) against the config's
 * tokens. With anonymous_read a missing header is a viewer. */
enum auth_result auth_resolve(const struct config *cfg, const char *authorization,
                              struct principal *out);

/* May see per-county aggregates (coverage) of this county. */
bool auth_can_see_coverage(const struct principal *p, const char *county);
/* May read graduates, contacts and the queue of this county. */
bool auth_can_read_county(const struct principal *p, const char *county);
/* May register graduates, change status and log contacts in this county. */
bool auth_can_write_county(const struct principal *p, const char *county);
/* Sees personal data (phone) unmasked: admin and the county's counselor. */
bool auth_sees_full_pii(const struct principal *p, const char *county);

#endif
