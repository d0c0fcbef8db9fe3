/* The API as data: every route the server answers, with the roles that may
 * call it (SPEC §6) and its handler; given to the router (http/router.h). */
#ifndef GRADCOVER_API_ROUTES_H
#define GRADCOVER_API_ROUTES_H

#include <stddef.h>

#include "gradcover/http/router.h"

extern const struct route api_routes[];
extern const size_t api_nroutes;

#endif
