/* Phone number rules (see phone.h). */
#include "gradcover/domain/phone.h"

#include <stdio.h>
#include <string.h>

bool phone_valid(const char *p)
{
    size_t n = strlen(p);
    if (n < 5 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '-' || (p[i] == '+' && i == 0)))
            return false;
    return true;
}

bool phone_looks_mobile(const char *s)
{
    if (strncmp(s, "+86", 3) == 0 || strncmp(s, "86", 2) == 0)
        s += s[0] == '+' ? 3 : 2;
    if (strlen(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
        return false;
    return strspn(s, "0123456789") == 11;
}

void phone_mask(const char *phone, char *out, size_t n)
{
    size_t len = strlen(phone);
    if (len < 7) {
        snprintf(out, n, "****");
        return;
    }
    snprintf(out, n, "%.3s****%s", phone, phone + len - 4);
}
