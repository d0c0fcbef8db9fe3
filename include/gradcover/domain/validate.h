/* The pure step of each POST endpoint and of the request headers we check:
 * bytes or a parsed JSON body in, the validated fields or every field error
 * out. No I/O and no request context: the handlers reply with what these
 * return, and the fuzz targets in tests/fuzz/ call them directly. */
#ifndef GRADCOVER_DOMAIN_VALIDATE_H
#define GRADCOVER_DOMAIN_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gradcover/common.h"
#include "gradcover/domain/natid.h"
#include "gradcover/domain/verr.h"

struct config;

/* Parses a request body: JSON (duplicate keys rejected; \u0000 accepted so
 * that the field validators can name the field) that must be an object.
 * Returns a new reference, or NULL with a message for a 400 in msg (at least
 * 64 bytes are enough). The message never quotes the input (jansson's error
 * text does), only the line and column. */
json_t *validate_body(const char *data, size_t len, char *msg, size_t msglen) GC_MUSTCHECK;

/* ---- POST /api/v1/graduates ---- */

struct graduate_in {
    const char *id;     /* NULL: the server assigns one */
    const char *county; /* never NULL once valid */
    const char *name;
    const char *phone, *school, *major; /* NULL when absent */
    const char *assigned_to;            /* the counselor (token name) in charge; NULL when absent */
    int graduation_year;                /* 0 when absent */
    int64_t registered_at;              /* Unix ms; now when absent */
    char national_id[NATID_LEN + 1];    /* normalised (upper-case X) */
};

/* Validates a registration body against cfg's counties. default_county is the
 * caller's own county (a counselor's), used when the body names none; NULL
 * makes "county" required (an admin). now_ms bounds the times. Returns 0 with
 * *out filled (strings borrowed from body), or -1 with every field error
 * added to v. Scope (may this caller write that county) is not checked here. */
int validate_graduate(json_t *body, const struct config *cfg, const char *default_county,
                      int64_t now_ms, struct graduate_in *out, struct verr *v) GC_MUSTCHECK;

/* ---- PATCH /api/v1/graduates/{id} (SPEC §12, Corrections) ---- */

/* One correction: each field either absent (left as it is), set, or (the
 * optional ones) cleared by null. */
struct graduate_patch_in {
    const char *name;                   /* NULL: unchanged (never cleared) */
    const char *phone, *school, *major; /* NULL: unchanged or cleared */
    const char *assigned_to;            /* NULL: unchanged or cleared */
    bool clear_phone, clear_school, clear_major, clear_graduation_year, clear_assigned_to;
    int graduation_year; /* 0: unchanged or cleared */
    bool set_flags;      /* flags given: flags (possibly 0, no flag) replaces them */
    unsigned flags;      /* bit i: gc_flags[i] */
};

/* Validates a correction: name, phone, school, major and graduation_year by
 * the registration's rules (null clears the optional ones), flags an array
 * of distinct names of gc_flags (null or [] clears). national_id and county
 * are refused by name ("cannot be corrected: void the registration and
 * register again"), anything else counted under _unknown. An empty object
 * is valid (changes nothing). Returns 0 with *out filled (strings borrowed
 * from body), or -1 with every error in v. */
int validate_graduate_patch(json_t *body, const struct config *cfg, int64_t now_ms,
                            struct graduate_patch_in *out, struct verr *v) GC_MUSTCHECK;

/* The flags as stored and shown: their names in gc_flags order, comma-
 * separated, into out (at least VALIDATE_FLAGS_TEXT_MAX bytes). */
#define VALIDATE_FLAGS_TEXT_MAX 64
void validate_flags_text(unsigned flags, char *out, size_t n);

/* ---- POST /api/v1/graduates/{id}/transfer (SPEC §12; docs/design.md) ---- */

struct transfer_in {
    const char *county; /* the destination, a configured county */
    const char *reason; /* NULL when absent */
};

/* county required and configured; reason optional, 1..200 characters. */
int validate_transfer(json_t *body, const struct config *cfg, struct transfer_in *out,
                      struct verr *v) GC_MUSTCHECK;

/* ---- POST /api/v1/graduates/{id}/status ---- */

struct status_in {
    const char *status; /* seeking, employed, not_seeking or withdrawn */
    const char *reason; /* NULL when absent */
    int64_t at;         /* Unix ms; now when absent */
};

int validate_status(json_t *body, int64_t now_ms, struct status_in *out,
                    struct verr *v) GC_MUSTCHECK;

/* ---- POST /api/v1/contacts ---- */

struct contact_in {
    const char *graduate_id;
    const char *service;
    const char *channel; /* "in_person" when absent */
    const char *outcome; /* "reached" when absent */
    const char *note;    /* NULL when absent */
    int64_t occurred_at; /* Unix ms; now when absent */
};

int validate_contact(json_t *body, int64_t now_ms, struct contact_in *out,
                     struct verr *v) GC_MUSTCHECK;

/* ---- POST /api/v1/contacts/{contact_id}/void ---- */

/* Why the contact is void ("logged against the wrong graduate"): shown with
 * the contact, erased with the graduate's personal data. */
#define VALIDATE_VOID_REASON_MAX 200

struct void_in {
    const char *reason;
};

/* reason required, 1..VALIDATE_VOID_REASON_MAX characters; nothing else. */
int validate_void(json_t *body, struct void_in *out, struct verr *v) GC_MUSTCHECK;

/* ---- POST /api/v1/tokens ----
 * (SPEC §6 Administration.) Its body validator belongs here, next to the
 * others, as validate_token(); tests/fuzz/CMakeLists.txt has the matching
 * place for its fuzz target. */

/* ---- POST /api/v1/alerts/{county}/ack ---- */

/* SPEC §11: a comment of at most 500 characters, like a contact's note. */
#define VALIDATE_ACK_COMMENT_MAX 500

struct ack_in {
    const char *comment; /* NULL when absent */
};

/* body may be NULL (a request without a body acknowledges without comment). */
int validate_ack(json_t *body, struct ack_in *out, struct verr *v) GC_MUSTCHECK;

/* ---- POST /api/v1/silences ---- */

/* A silence is for a known, bounded stretch (a holiday, a migration, a county
 * being reorganised): a quarter is the longest a bureau plans such a thing
 * ahead, and a county that should not be watched for longer needs another
 * threshold or to leave the configuration, not a silence. */
#define VALIDATE_SILENCE_AHEAD_MAX_MS (90LL * 86400 * 1000)
/* The reason is shown to every leader who wonders why nothing came. */
#define VALIDATE_SILENCE_REASON_MAX 200
/* "*": every county. */
#define SILENCE_ALL_COUNTIES "*"

struct silence_in {
    const char *county; /* a configured county's code, or SILENCE_ALL_COUNTIES */
    int64_t starts_at;  /* Unix ms; now when absent */
    int64_t ends_at;
    const char *reason;
};

/* county a configured code or "*"; starts_at optional (default now, not more
 * than VERR_CLOCK_SKEW_MS in the past: a silence cannot take back what was
 * sent); ends_at required, after starts_at and at most
 * VALIDATE_SILENCE_AHEAD_MAX_MS after now; reason required. Strings borrowed
 * from body. */
int validate_silence(json_t *body, const struct config *cfg, int64_t now_ms, struct silence_in *out,
                     struct verr *v) GC_MUSTCHECK;

/* ---- headers ---- */

/* SPEC §6: Idempotency-Key is 1..128 visible ASCII characters (0x21..0x7e). */
#define VALIDATE_IDEMPOTENCY_KEY_MAX 128
bool validate_idempotency_key(const char *k);

/* A client's X-Request-Id is echoed in our reply, and kept beside our own id
 * in the log and the audit trail, only when it is 1..GC_REQID_MAX of
 * [A-Za-z0-9._:-] (nothing that could split a header or a key=value log
 * line) and not shaped like a national ID or a mobile number
 * (id_personal_data). */
bool validate_request_id(const char *s);

#endif
