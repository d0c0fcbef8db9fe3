/* Sweeps in slices (see sweep.h): integer arithmetic over times the caller
 * reads; no timers, no I/O. */
#include "gradcover/core/sweep.h"

int64_t sweep_tick_ms(int64_t interval_ms, size_t n, size_t per_tick, int64_t min_ms,
                      int64_t max_ms)
{
    int64_t ms = interval_ms * (int64_t)per_tick / (int64_t)(n ? n : 1);
    return ms < min_ms ? min_ms : ms > max_ms ? max_ms : ms;
}

void sweep_init(struct sweep *s, size_t n, int64_t interval_ms, enum sweep_restart restart,
                int64_t now_ms)
{
    *s = (struct sweep){
        .n = n, .next = n, .interval_ms = interval_ms, .round_start = now_ms, .restart = restart};
}

bool sweep_round(struct sweep *s, int64_t now_ms)
{
    if (s->next < s->n)
        return true;
    if (now_ms - s->round_start < s->interval_ms)
        return false;
    if (s->restart == SWEEP_KEEP_PHASE) {
        s->round_start += s->interval_ms;
        if (now_ms - s->round_start >= s->interval_ms)
            s->round_start = now_ms;
    } else {
        s->round_start = now_ms;
    }
    s->next = 0;
    return true;
}

size_t sweep_due(const struct sweep *s, int64_t now_ms)
{
    int64_t elapsed = now_ms - s->round_start;
    size_t due = (size_t)(elapsed * (int64_t)s->n / s->interval_ms) + 1;
    return due > s->n ? s->n : due;
}

void sweep_init_unpaced(struct sweep *s, size_t n)
{
    *s = (struct sweep){.n = n, .next = n};
}

void sweep_start(struct sweep *s)
{
    s->next = 0;
}

size_t sweep_chunk(const struct sweep *s, size_t max)
{
    size_t end = s->next + max;
    return end > s->n ? s->n : end;
}

bool sweep_over(const struct sweep *s)
{
    return s->next >= s->n;
}

void sweep_again(struct sweep *s, size_t i)
{
    if (i < s->next)
        s->next = i;
}
