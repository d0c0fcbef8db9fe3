/* One point per day from the sparse points a county stores (see history.h). */
#include "gradcover/domain/history.h"

#include <stdlib.h>

static int by_day(const void *a, const void *b)
{
    int64_t x = ((const struct history_point *)a)->day, y = ((const struct history_point *)b)->day;
    return (x > y) - (x < y);
}

size_t history_series(struct history_point *stored, size_t n, int64_t lo, int64_t hi,
                      long long live_reg, long long live_srv, struct history_point *out)
{
    if (n > 1)
        qsort(stored, n, sizeof *stored, by_day);
    int64_t start = hi;
    if (n > 0 && stored[0].day < hi)
        start = stored[0].day > lo ? stored[0].day : lo;
    size_t k = 0, w = 0;
    long long reg = 0, srv = 0;
    for (int64_t d = start; d <= hi; d++) {
        /* The latest stored point on or before day d. */
        for (; k < n && stored[k].day <= d; k++) {
            reg = stored[k].registered;
            srv = stored[k].served;
        }
        out[w].day = d;
        out[w].registered = d == hi ? live_reg : reg;
        out[w].served = d == hi ? live_srv : srv;
        w++;
    }
    return w;
}
