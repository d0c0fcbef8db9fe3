/* GB 11643-1999 identity numbers: 6-digit region, 8-digit birth date, 3-digit
 * sequence, ISO 7064 MOD 11-2 check character. */
#include "gradcover/domain/natid.h"

#include <string.h>

#include "gradcover/core/timeutil.h"

char natid_check_char(const char *first17)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (first17[i] - '0') * weights[i];
    return checks[sum % 11];
}

enum natid_err natid_validate(const char *s, size_t len, long today_days, char *norm)
{
    if (len != NATID_LEN)
        return NATID_BAD_LENGTH;
    for (size_t i = 0; i < 17; i++)
        if (s[i] < '0' || s[i] > '9')
            return NATID_BAD_CHARS;
    char last = s[17] == 'x' ? 'X' : s[17];
    if (!((last >= '0' && last <= '9') || last == 'X'))
        return NATID_BAD_CHARS;

    int y = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 + (s[9] - '0');
    unsigned m = (unsigned)((s[10] - '0') * 10 + (s[11] - '0'));
    unsigned d = (unsigned)((s[12] - '0') * 10 + (s[13] - '0'));
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > 31)
        return NATID_BAD_BIRTH_DATE;
    int64_t days = days_from_civil(y, m, d);
    int ry;
    unsigned rm, rd;
    civil_from_days(days, &ry, &rm, &rd);
    if (ry != y || rm != m || rd != d || days > today_days)
        return NATID_BAD_BIRTH_DATE;

    if (natid_check_char(s) != last)
        return NATID_BAD_CHECKSUM;
    memcpy(norm, s, 17);
    norm[17] = last;
    norm[18] = '\0';
    return NATID_OK;
}

const char *natid_strerror(enum natid_err e)
{
    switch (e) {
    case NATID_OK:
        return "valid";
    case NATID_BAD_LENGTH:
        return "must be 18 characters";
    case NATID_BAD_CHARS:
        return "must be 17 digits followed by a digit or X";
    case NATID_BAD_BIRTH_DATE:
        return "birth date is not a valid past date";
    case NATID_BAD_CHECKSUM:
        return "checksum does not match";
    }
    return "invalid";
}

void natid_mask(const char *norm, char *out)
{
    memcpy(out, norm, 6);
    memset(out + 6, '*', 8);
    memcpy(out + 14, norm + 14, 4);
    out[18] = '\0';
}
