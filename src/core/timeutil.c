/* RFC 3339 timestamps and calendar-year periods in a fixed UTC offset, using
 * day-count arithmetic (no timezone database, no locale, no libc mktime). */
#include "gradcover/core/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY 86400000LL
#define MS_PER_MIN 60000LL

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

static int days_in_month(int y, unsigned m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

bool rfc3339_parse(const char *s, int64_t *ms_out)
{
    int y, mo, d, h, mi, sec, frac_ms = 0;
    const char *p = s;
    if (!s)
        return false;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d))
        return false;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return false;
    p++;
    if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') ||
        !digits(&p, 2, &sec))
        return false;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return false;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int off_min;
    if (*p == 'Z' || *p == 'z') {
        off_min = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        off_min = sign * (oh * 60 + om);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    if (y < GC_YEAR_MIN || y > GC_YEAR_MAX || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, (unsigned)mo) || h > 23 || mi > 59 || sec > 59)
        return false;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t ms = days * MS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac_ms;
    *ms_out = ms - (int64_t)off_min * MS_PER_MIN;
    return true;
}

/* Floor division for possibly negative numerators. */
static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

void rfc3339_format(int64_t ms, int offset_min, char *out, size_t n)
{
    int64_t local = ms + (int64_t)offset_min * MS_PER_MIN;
    int64_t days = floordiv(local, MS_PER_DAY);
    int64_t rem = local - days * MS_PER_DAY;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int secs = (int)(rem / 1000);
    int aoff = offset_min < 0 ? -offset_min : offset_min;
    snprintf(out, n, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", y, m, d, secs / 3600,
             secs / 60 % 60, secs % 60, offset_min < 0 ? '-' : '+', aoff / 60, aoff % 60);
}

int64_t local_day_of(int64_t ms, int offset_min)
{
    return floordiv(ms + (int64_t)offset_min * MS_PER_MIN, MS_PER_DAY);
}

int period_of(int64_t ms, int offset_min)
{
    int64_t days = local_day_of(ms, offset_min);
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    return y;
}

int64_t period_start_ms(int year, int offset_min)
{
    return days_from_civil(year, 1, 1) * MS_PER_DAY - (int64_t)offset_min * MS_PER_MIN;
}

bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s) || *s == '+')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end != '\0')
        return false;
    *out = v;
    return true;
}
