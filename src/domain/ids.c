/* The identifier grammar (see ids.h). */
#include "gradcover/domain/ids.h"

#include <ctype.h>
#include <stddef.h>

#include "gradcover/common.h"

bool id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '.' && s[n] != '_' && s[n] != '-')
            return false;
    return n >= 1 && n <= GC_ID_MAX;
}
