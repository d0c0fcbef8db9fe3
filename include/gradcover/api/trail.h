/* The audit trail as handlers write it (docs/security.md): who, role,
 * action, object id, result, request id (ours, "rid"; the client's
 * X-Request-Id beside it as "crid" when it sent a sane one), time. A write script appends its
 * entry in the same atomic step as its write (the "audit" member of its
 * arguments, src/store/scripts/lib/prelude.lua); a read of personal data
 * appends one after the read, before its answer goes out. Objects are ids,
 * never personal data. */
#ifndef GRADCOVER_API_TRAIL_H
#define GRADCOVER_API_TRAIL_H

#include <jansson.h>

struct jw;
struct req;

/* Adds the audit record to a script's argument object (args may be NULL). */
void trail_attach(struct req *r, json_t *args, const char *action, const char *object);

/* The same for a request made without a token (an acknowledgement link):
 * who and role are given, e.g. "ack-link" and "link". */
void trail_attach_as(struct req *r, json_t *args, const char *who, const char *role,
                     const char *action, const char *object);

/* Writes the argument members every write script takes from the request into
 * an open object: "audit" (as trail_attach) and, for an API-issued token,
 * "tok" (the script refuses to write for a revoked one). */
void trail_members(struct jw *w, struct req *r, const char *action, const char *object);

/* Appends one entry (a read of personal data, or an outcome decided outside
 * a script) to the trail of `county` (NULL: the global one). The request's
 * answer waits for it (http_hold): if the entry cannot be written, the
 * answer is a 503 instead (docs/security.md: no personal data without its
 * audit entry), and the failure is logged. */
void trail_read(struct req *r, const char *county, const char *action, const char *object,
                const char *result);

/* The same, for a request from another county that concerned a graduate of
 * `county` (object: that graduate's id there): the entry also names the
 * county the request came from (member "from"). */
void trail_from(struct req *r, const char *county, const char *action, const char *object,
                const char *result, const char *from_county);

#endif
