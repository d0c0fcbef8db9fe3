/* Shared by the fuzz targets: the libFuzzer entry point, an invariant check
 * that aborts (libFuzzer and the replay driver both report an abort as a
 * failure), a fixed clock, and reference checks written here independently
 * of src/ so that a target compares two implementations. */
#ifndef GC_FUZZ_H
#define GC_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct config;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(#cond, __FILE__, __LINE__);                                                  \
    } while (0)

_Noreturn void fuzz_fail(const char *what, const char *file, int line);

/* The corpus file being replayed (set by replay.c; NULL under libFuzzer). */
extern const char *fuzz_input_name;

/* Holds a replayed seed to what its name promises: "valid*" must be
 * accepted, "any*" and libFuzzer's "crash-*" may go either way, and every
 * other name must be refused. No-op under libFuzzer. */
void fuzz_expect(bool accepted);

/* With GC_FUZZ_VERBOSE set, prints what the target made of the input (for
 * reviewing a corpus: `GC_FUZZ_VERBOSE=1 fuzz_natid_replay corpus/natid`). */
void fuzz_verdict(const char *what);
void fuzz_verdict_fields(json_t *fields); /* the 422 field errors, as JSON */

/* "Now" for every target: 2026-06-01T12:00:00Z, so that replaying a corpus
 * gives the same answers on any day. FUZZ_TODAY_DAYS is the same day as days
 * since 1970-01-01 (date -u -d 2026-06-01 +%s, / 86400). */
#define FUZZ_NOW_MS 1780315200000LL
#define FUZZ_TODAY_DAYS 20605L
#define FUZZ_TODAY_Y 2026
#define FUZZ_TODAY_M 6
#define FUZZ_TODAY_D 1

/* A configuration with counties 611002, 611021 and shangdan-park and two
 * tokens (FUZZ_ADMIN_SECRET, FUZZ_COUNSELOR_SECRET), parsed once; borrowed. */
#define FUZZ_ADMIN_SECRET "fuzz-admin-token"
#define FUZZ_COUNSELOR_SECRET "fuzz-counselor-611002"
const struct config *fuzz_config(void);

/* A NUL-terminated copy of data up to its first NUL, in a buffer of exactly
 * that size (so that ASan sees any read past the end). Caller frees. */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* GB 11643, checked from the definition: 17 digits, a digit or X/x, a real
 * birth date from 1900-01-01 to FUZZ_TODAY, and the ISO 7064 MOD 11-2 check
 * character with weights computed by doubling mod 11 (no table). */
bool ref_natid_ok(const char *s, size_t len);

/* [A-Za-z0-9._-]{1,64}. */
bool ref_id_ok(const char *s);

/* Personal data where an id belongs: a GB 11643 number with any birth date
 * from 1900 to 9999, or a mainland mobile number (1[3-9] and nine digits,
 * after an optional 86 or +86). */
bool ref_personal_id(const char *s);

/* 1..max_chars UTF-8 characters, no control characters but \n and \t. */
bool ref_text_ok(const char *s, size_t max_chars);

/* The 400 message of validate_body(): the position only, never the input. */
void fuzz_check_parse_error(const char *msg);

/* For a body that failed validation: every field named is a known field,
 * with one of the validators' fixed texts, never a piece of the input; the
 * body's unknown members, if any, are only counted, under "_unknown" ("<n>
 * unknown field(s); allowed: <known, in order>"), never named. */
void fuzz_check_field_errors(json_t *body, json_t *fields, const char *const *known);

/* Every key of body is in known (NULL-terminated). */
bool fuzz_only_known_keys(json_t *body, const char *const *known);

/* The body as a client would send it again: dumped and parsed back. New
 * reference; never NULL for a body validate_body() accepted. */
json_t *fuzz_roundtrip(json_t *body);

#endif
