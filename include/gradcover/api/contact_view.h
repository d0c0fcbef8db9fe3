/* A stored contact record (domain/contact_record.h, or the JSON of the first
 * versions) as the API shows it: its id "<graduate id>~<own part>", names
 * for the indexes, times in the configured offset, the outcome, and the
 * void when there is one. */
#ifndef GRADCOVER_API_CONTACT_VIEW_H
#define GRADCOVER_API_CONTACT_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* {id, service, channel, outcome, occurred_at, period, recorded_at,
 * counselor, note?, voided?: {at, by, reason?}} of the record text[0..len)
 * of graduate gid, times in offset_min. *occurred_ms (may be NULL) gets
 * occurred_at in ms, for ordering. New reference; NULL for a record that
 * cannot be read (or no memory). */
json_t *contact_view(const char *gid, const char *text, size_t len, int offset_min,
                     int64_t *occurred_ms);

#endif
