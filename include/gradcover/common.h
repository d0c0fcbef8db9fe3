/* Small shared definitions: attributes and limits used across modules. */
#ifndef GRADCOVER_COMMON_H
#define GRADCOVER_COMMON_H

#define GC_MUSTCHECK __attribute__((warn_unused_result))
#define GC_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* County codes become part of Redis key names and URL paths: [A-Za-z0-9_-]. */
#define GC_COUNTY_MAX 32
/* Graduate ids, SPEC §6: [A-Za-z0-9._-]{1,64}. */
#define GC_ID_MAX 64
/* A contact's id is its graduate's id, "~" and the contact's own 10..16
 * alphanumerics (16 for contacts recorded before ids named their graduate):
 * the id locates the contact without an index (docs/design.md). */
#define GC_CONTACT_ID_MAX (GC_ID_MAX + 1 + 16)
/* Request ids echoed from clients; longer ones are replaced by our own. */
#define GC_REQID_MAX 64

#endif
