/* The identifier grammar (see ids.h). */
#include "gradcover/domain/ids.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "gradcover/common.h"
#include "gradcover/domain/natid.h"
#include "gradcover/domain/phone.h"

bool id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '.' && s[n] != '_' && s[n] != '-')
            return false;
    return n >= 1 && n <= GC_ID_MAX;
}

enum id_personal id_personal_data(const char *s)
{
    char norm[NATID_LEN + 1];
    /* Any birth date up to 9999: a number is no less someone's because the
     * date is still to come, and the rule must not change from one day to the
     * next (an id accepted today must still be usable tomorrow). */
    if (natid_validate(s, strlen(s), LONG_MAX, norm) == NATID_OK)
        return ID_PERSONAL_NATID;
    if (phone_looks_mobile(s))
        return ID_PERSONAL_MOBILE;
    return ID_PERSONAL_NONE;
}
