/* A contact as Redis stores it (docs/design.md, "Contact records"), read
 * without I/O; and a contact's id as the API gives it. Pure: the readers of
 * api/ turn a record into JSON, the unit tests hold the format still. */
#ifndef GRADCOVER_DOMAIN_CONTACT_RECORD_H
#define GRADCOVER_DOMAIN_CONTACT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"

/* A contact's own part of its id: alphanumerics, CONTACT_REC_ID_CHARS for
 * new contacts, 16 for those recorded before ids named their graduate. */
#define CONTACT_REC_ID_CHARS 10
#define CONTACT_REC_ID_MAX 16
/* Between the graduate's id and the contact's own part: "~" occurs in no
 * graduate id and is unreserved in a URL. */
#define CONTACT_ID_SEP '~'

/* One positional record:
 *   <id>|<svc>|<ch>|<occurred_at>|<recorded_at - occurred_at>|<period>|[<ext>|]<n>|<tail>
 * tail = the counselor's name (n bytes), the note, then the voider's name
 * and the void reason (their lengths in ext). ext is present only when one
 * of its items is: comma-separated, each a lowercase letter and a decimal:
 * o<k> the outcome index (absent: reached), v<ms> voided at, b<bytes> and
 * r<bytes> the lengths of the voider's name and the reason. Every piece
 * points into the text it was read from. */
struct contact_rec {
    const char *id;
    size_t id_len;
    int svc, ch, outcome; /* indexes in gc_services, gc_channels, gc_outcomes */
    int64_t occurred_at, recorded_at;
    int period;
    int64_t voided_at; /* 0: not voided */
    const char *counselor, *note, *voided_by, *reason;
    size_t counselor_len, note_len, voided_by_len, reason_len; /* 0: absent */
};

/* Reads text[0..len) into *out. false for anything else: a JSON record of
 * the first versions (api/contact_view.c reads those), a malformed one, an
 * index out of its list, lengths beyond the text. */
bool contact_rec_parse(const char *text, size_t len, struct contact_rec *out) GC_MUSTCHECK;

/* Splits an API contact id "<graduate id>~<own part>" into its graduate id
 * (gid, GC_ID_MAX + 1 bytes) and own part (own, CONTACT_REC_ID_MAX + 1
 * bytes). false unless the graduate id is a valid id and the own part 1..16
 * alphanumerics. */
bool contact_id_split(const char *id, char *gid, char *own) GC_MUSTCHECK;

#endif
