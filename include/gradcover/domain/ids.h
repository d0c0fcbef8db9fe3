/* Identifiers clients choose (graduate ids, token names): SPEC §6's
 * [A-Za-z0-9._-]{1,64}. They reach key names, URLs, logs and the audit
 * trail, so nothing else gets through. Pure. */
#ifndef GRADCOVER_DOMAIN_IDS_H
#define GRADCOVER_DOMAIN_IDS_H

#include <stdbool.h>

bool id_valid(const char *s);

#endif
