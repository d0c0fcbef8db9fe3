/* Coverage, gap and below-target in integer basis points (SPEC §3). */
#include "gradcover/domain/coverage.h"

#include <math.h>

bool coverage_below(uint64_t served, uint64_t registered, uint32_t threshold_bp)
{
    return served * COVERAGE_BP_ONE < (uint64_t)threshold_bp * registered;
}

uint64_t coverage_gap(uint64_t served, uint64_t registered, uint32_t threshold_bp)
{
    uint64_t need = ((uint64_t)threshold_bp * registered + COVERAGE_BP_ONE - 1) / COVERAGE_BP_ONE;
    return need > served ? need - served : 0;
}

uint64_t coverage_rate_bp(uint64_t served, uint64_t registered)
{
    /* Truncated to whole basis points in integers, never rounded up: a county at
     * 89.995% must not display 0.9 while it is below a 90% target. */
    return served * COVERAGE_BP_ONE / registered;
}

double coverage_rate(uint64_t served, uint64_t registered)
{
    return (double)coverage_rate_bp(served, registered) / COVERAGE_BP_ONE;
}

bool coverage_threshold_bp(double v, uint32_t *bp_out)
{
    if (!(v > 0.0) || v > 1.0)
        return false;
    double scaled = v * COVERAGE_BP_ONE;
    double r = round(scaled);
    if (fabs(scaled - r) > 1e-6)
        return false;
    *bp_out = (uint32_t)r;
    return *bp_out > 0;
}

json_t *coverage_rate_json(uint64_t served, uint64_t registered)
{
    return registered > 0 ? json_real(coverage_rate(served, registered)) : json_null();
}
