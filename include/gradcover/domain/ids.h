/* Identifiers clients choose (graduate ids, token names): SPEC §6's
 * [A-Za-z0-9._-]{1,64}. They reach key names, URLs, logs and the audit
 * trail, so nothing else gets through, and nothing that is personal data
 * either (id_personal_data). Pure. */
#ifndef GRADCOVER_DOMAIN_IDS_H
#define GRADCOVER_DOMAIN_IDS_H

#include <stdbool.h>

bool id_valid(const char *s);

/* What an identifier is when it is personal data. */
enum id_personal {
    ID_PERSONAL_NONE = 0,
    ID_PERSONAL_NATID,  /* a valid GB 11643 national ID (natid.h), any birth date */
    ID_PERSONAL_MOBILE, /* a mainland mobile number, with or without 86 (phone.h) */
};

/* Whether s (any text) is shaped like a national ID or a mobile number: such
 * a string is refused wherever an id is taken (registration 422, path, body
 * and header 400), so that it is never written as a key name, an audit
 * object or a log field. The same rule everywhere: an id registration
 * accepts is usable on every route, and one refused on a route could never
 * have been registered. */
enum id_personal id_personal_data(const char *s);

#endif
