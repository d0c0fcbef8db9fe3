/* The wall and monotonic clocks (see clock.h). */
#include "gradcover/core/clock.h"

#include <time.h>

static int64_t system_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_start_at(struct clock *c, int64_t now_ms)
{
    c->skew_ms = now_ms - system_ms();
}

int64_t clock_now_ms(const struct clock *c)
{
    return system_ms() + c->skew_ms;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}
