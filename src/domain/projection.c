/* The year-end projection from the last 30 days' pace (see projection.h). */
#include "gradcover/domain/projection.h"

#include "gradcover/domain/coverage.h"

/* Floor and ceiling of a / b for b > 0 and any sign of a (C truncates). */
static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static long long ceil_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}

bool projection_year_end(const struct history_point *days, size_t n, int days_left,
                         struct projection *out)
{
    if (n == 0 || days_left < 0)
        return false;
    size_t k = n - 1 < PROJECTION_WINDOW_DAYS ? n - 1 : PROJECTION_WINDOW_DAYS;
    if (k < PROJECTION_MIN_DAYS)
        return false;
    const struct history_point *from = &days[n - 1 - k], *to = &days[n - 1];
    long long reg =
        to->registered + ceil_div((to->registered - from->registered) * days_left, (long long)k);
    long long srv = to->served + floor_div((to->served - from->served) * days_left, (long long)k);
    if (reg < 0)
        reg = 0;
    if (srv > reg)
        srv = reg;
    if (srv < 0)
        srv = 0;
    out->registered = reg;
    out->served = srv;
    out->rate_bp = reg > 0 ? (long long)coverage_rate_bp((uint64_t)srv, (uint64_t)reg) : -1;
    out->window_days = (int)k;
    return true;
}
