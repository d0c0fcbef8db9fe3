/* Finding a graduate's county within the caller's scope, the first step of
 * every request about one graduate. */
#ifndef GRADCOVER_API_LOCATE_H
#define GRADCOVER_API_LOCATE_H

#include <stdbool.h>

struct req;

/* Continuation once the graduate's county is known (and readable, or
 * writable, by the caller as asked); r is still unanswered. county is valid
 * during the call. */
typedef void (*located_fn)(struct req *r, const char *county);

/* A counselor's own county directly (the store then answers "no such
 * graduate" for anyone else's), otherwise one GET of the global id -> county
 * key. Replies 404 when the graduate is unknown or outside the scope
 * (existence is not revealed), 403 when the caller may not write, 503 when
 * Redis is down. */
void locate_graduate(struct req *r, const char *id, bool for_write, located_fn then);

#endif
