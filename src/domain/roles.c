/* Role names and the county rule (see roles.h). */
#include "gradcover/domain/roles.h"

#include <stddef.h>
#include <string.h>

static const char *const names[ROLE_COUNT] = {"admin", "counselor", "leader", "viewer"};

const char *role_name(enum role r)
{
    return r >= ROLE_ADMIN && r < ROLE_COUNT ? names[r] : "unknown";
}

bool role_parse(const char *s, enum role *out)
{
    for (int r = 0; r < ROLE_COUNT; r++)
        if (strcmp(s, names[r]) == 0) {
            *out = (enum role)r;
            return true;
        }
    return false;
}

const char *role_county_problem(enum role r, bool has_county)
{
    if (has_county && r != ROLE_COUNSELOR && r != ROLE_LEADER)
        return "only counselor and leader tokens have a county";
    if (!has_county && r == ROLE_COUNSELOR)
        return "a counselor token needs a county";
    return NULL;
}
