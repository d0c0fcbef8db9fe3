/* The two clocks: the wall clock (Unix ms, shifted by --now for drills and
 * tests of the year boundary) that periods and stored times use, and the
 * monotonic clock that deadlines, durations and sweeps use. */
#ifndef GRADCOVER_CORE_CLOCK_H
#define GRADCOVER_CORE_CLOCK_H

#include <stdint.h>

/* The wall clock of one process: the system time plus a fixed shift. */
struct clock {
    int64_t skew_ms; /* added to the system time; 0 unless --now */
};

/* A clock that reads now_ms at this instant and keeps ticking from there. */
void clock_start_at(struct clock *c, int64_t now_ms);

/* Wall-clock now in Unix ms, shifted. */
int64_t clock_now_ms(const struct clock *c);

/* Monotonic time since an arbitrary start (never jumps with the wall clock). */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);

#endif
