/* Helpers shared by the API handlers: field validation that collects every
 * error, locating a graduate's county under the caller's scope, pipelined
 * batches of store calls, and JSON formatting of stored records. */
#ifndef GRADCOVER_API_COMMON_H
#define GRADCOVER_API_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gradcover/common.h"
#include "gradcover/store/store.h"

struct req;
struct app;
struct jw;

/* SPEC §6: client clocks may run up to 5 minutes ahead. */
#define API_CLOCK_SKEW_MS (5 * 60 * 1000)

/* Collected validation errors, replied as one 422. */
struct verr {
    json_t *fields; /* NULL until the first error */
};

void verr_add(struct verr *v, const char *field, const char *message);
bool verr_any(const struct verr *v);
/* Replies 422 with every collected field, frees r. */
void verr_reply(struct req *r, struct verr *v);

/* Rejects keys of body not in allowed (NULL-terminated). */
void check_known_fields(json_t *body, const char *const *allowed, struct verr *v);

/* A string field: absent -> *out NULL (an error when required); present must be
 * a string of 1..max_chars Unicode characters without control characters. */
void get_text(json_t *body, const char *key, size_t max_chars, bool required, const char **out,
              struct verr *v);

/* [A-Za-z0-9._-]{1,64} (SPEC §6). */
bool valid_id(const char *s);

/* An optional RFC 3339 field not later than now + skew; *out = dflt when absent. */
void get_time(json_t *body, const char *key, int64_t now, int64_t dflt, int64_t *out,
              struct verr *v);

/* Number of Unicode characters in valid UTF-8. */
size_t utf8_chars(const char *s);

/* "2026-03-05T10:30:00+08:00" in the configured offset; a new JSON string. */
json_t *json_time(const struct app *a, int64_t ms);

/* SPEC §3's rate as JSON: served/registered truncated to 4 decimals, or null
 * when nobody is registered. New reference. */
json_t *json_rate(long long served, long long registered);

/* "138****0000"; out >= 32 bytes. */
void mask_phone(const char *phone, char *out, size_t n);

/* Formats a stored graduate hash (as returned by scripts or HGETALL mapped to an
 * object) for the caller: phone masked unless the caller may see it. Returns a
 * new reference. */
json_t *graduate_json(struct req *r, json_t *stored);

/* A stored number: a JSON integer, or a decimal string as Redis hashes hold
 * them; 0 when absent or malformed. */
long long json_ll(json_t *j);

/* Turns an HGETALL reply (flat array) into an object; new reference. */
json_t *flat_to_object(json_t *flat);

/* Continuation after a graduate's county is known (and readable or writable by
 * the caller, as asked). r is still unanswered. */
typedef void (*located_fn)(struct req *r, const char *county);

/* Finds the county of graduate `id` within the caller's scope: a counselor's
 * own county directly (the store then answers "no such graduate" for anyone
 * else's), otherwise one GET of the global id -> county key. Replies 404 when
 * the graduate is unknown or outside the scope (existence is not revealed),
 * 403 when the caller may not write, 503 when Redis is down. */
void locate_graduate(struct req *r, const char *id, bool for_write, located_fn then);

/* Every store call below gets the request's remaining Redis time (the store's
 * deadline counted from the request's arrival, across all its steps), so that
 * a request answers within one deadline however many steps it takes. */

/* Pipelined store calls that finish together. Each slot gets its result (new
 * reference, or NULL with its status); `done` runs once when all have answered
 * or timed out, with the request still unanswered; the batch is freed right
 * after `done` returns. Only `done` answers the request. */
struct batch;
typedef void (*batch_done_fn)(struct req *r, struct batch *b);

struct batch *batch_new(struct req *r, size_t n, batch_done_fn done);
/* Issue slot i; a slot that cannot be sent counts as STORE_DOWN (store not
 * ready) or STORE_TIMEOUT (the request's Redis time is spent). */
void batch_command(struct batch *b, size_t i, int argc, const char **argv, const size_t *lens);
void batch_script(struct batch *b, size_t i, const char *script, int nkeys, int argc,
                  const char **argv, const size_t *lens);
/* Call after issuing every slot. */
void batch_start(struct batch *b);
size_t batch_size(const struct batch *b);
enum store_status batch_status(const struct batch *b, size_t i);
json_t *batch_result(const struct batch *b, size_t i); /* borrowed */
/* The worst status over all slots (STORE_OK when every slot succeeded). */
enum store_status batch_worst(const struct batch *b);

/* Redis time this request has left (ms): the store's deadline counts from
 * the request's arrival across all of its steps. 0 when spent. */
int req_budget_ms(const struct req *r);

/* Runs one script with a JSON argument object (taken) under key prefix `key`;
 * cb gets r back, exactly once: with the result, or at once with STORE_DOWN
 * (store not ready) or STORE_TIMEOUT (the request's Redis time is spent) when
 * the script cannot be sent. */
typedef void (*script_fn)(struct req *r, enum store_status st, json_t *result);
void run_script(struct req *r, const char *script, const char *key, json_t *args, script_fn cb);

/* The same with the argument object already written as JSON text in `args`
 * (freed here). Unlike run_script it adds nothing: the text must carry "tok"
 * for API-issued tokens (write_request_members does). A failed text is a 500. */
void run_script_jw(struct req *r, const char *script, const char *key, struct jw *args,
                   script_fn cb);

/* Writes the argument members every write script takes from the request into
 * an open object: "audit" (see audit_attach) and, for an API-issued token,
 * "tok". */
void write_request_members(struct jw *w, struct req *r, const char *action, const char *object);

/* Writes "alert": {threshold_bp, clear_bp, for_ms} (as alert_args) for the
 * county at index i of the configuration into an open object. */
void write_alert_args(struct jw *w, const struct app *a, size_t i);

/* The alert parameters scripts evaluate with (SPEC §7) for this county:
 * {threshold_bp, clear_bp, for_ms}. New reference; NULL for an unknown county. */
json_t *alert_args(const struct app *a, const char *county);

/* Logs an alert transition a script reported (res.alert), if any. */
void log_alert_transition(struct req *r, const char *county, json_t *res);
/* The same for a transition already read out of the answer. */
void log_transition(struct req *r, const char *county, const char *transition);

/* Adds the audit record to a script's arguments (A.audit): the script appends
 * who/role/action/object/result/request id to the county's audit stream in the
 * same atomic step as its write (scripts/lib/prelude.lua). object: an id, never
 * a personal data value. */
void audit_attach(struct req *r, json_t *args, const char *action, const char *object);

/* Appends one audit entry (a read of personal data, or an outcome decided
 * outside a script) to the stream of `county` (NULL: the global one), without
 * holding up the reply. */
void audit_read(struct req *r, const char *county, const char *action, const char *object,
                const char *result);

/* A plain command for one request; same rules as run_script. */
void run_command(struct req *r, int argc, const char **argv, script_fn cb);

#endif
