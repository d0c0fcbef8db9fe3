/* The roles of SPEC §6 and the one rule about which of them carry a county:
 * names, parsing, and the sets of roles a route admits. Pure. */
#ifndef GRADCOVER_DOMAIN_ROLES_H
#define GRADCOVER_DOMAIN_ROLES_H

#include <stdbool.h>

enum role { ROLE_ADMIN = 0, ROLE_COUNSELOR, ROLE_LEADER, ROLE_VIEWER };
#define ROLE_COUNT 4

/* Sets of roles (a route's "who may call it"): one bit per role. */
#define ROLE_BIT(r) (1u << (r))
#define ROLES_ALL                                                                                  \
    (ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_COUNSELOR) | ROLE_BIT(ROLE_LEADER) |                     \
     ROLE_BIT(ROLE_VIEWER))
/* Who reads graduates, contacts, queues and alerts of a scope. */
#define ROLES_READERS (ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_COUNSELOR) | ROLE_BIT(ROLE_LEADER))
/* Who registers graduates, changes status and records contacts. */
#define ROLES_WRITERS (ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_COUNSELOR))

/* "admin", "counselor", "leader", "viewer" ("unknown" for anything else). */
const char *role_name(enum role r);

/* The role named s; false for anything else. */
bool role_parse(const char *s, enum role *out);

/* Counselors belong to one county, leaders to one or (without) all of them,
 * admins and viewers to none. NULL when a token of this role may have
 * (has_county) or lack a county, else why not, e.g. "a counselor token needs
 * a county" (static text, the same in the config, the API and the tool). */
const char *role_county_problem(enum role r, bool has_county);

#endif
