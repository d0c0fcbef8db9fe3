/* Coverage arithmetic of SPEC §3 in integers (basis points). No I/O.
 * Counts are at most 2^32 (a Redis set's size), so every product fits in 64 bits. */
#ifndef GRADCOVER_DOMAIN_COVERAGE_H
#define GRADCOVER_DOMAIN_COVERAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* 100% in basis points. */
#define COVERAGE_BP_ONE 10000u
/* SPEC §3: default threshold 0.90. */
#define COVERAGE_DEFAULT_BP 9000u

/* served * 10000 < threshold_bp * registered. Exactly on target is not below. */
bool coverage_below(uint64_t served, uint64_t registered, uint32_t threshold_bp);

/* max(0, ceil(threshold_bp * registered / 10000) - served). */
uint64_t coverage_gap(uint64_t served, uint64_t registered, uint32_t threshold_bp);

/* served/registered truncated to 4 decimals, for display; registered must be > 0. */
double coverage_rate(uint64_t served, uint64_t registered);

/* SPEC §3's rate as JSON: coverage_rate, or null when nobody is registered.
 * New reference. */
json_t *coverage_rate_json(uint64_t served, uint64_t registered);

/* The same rate in whole basis points (coverage_rate = this / 10000). */
uint64_t coverage_rate_bp(uint64_t served, uint64_t registered);

/* Parses a threshold given as a JSON number in (0, 1] into basis points,
 * rejecting more than 4 decimals of precision. */
bool coverage_threshold_bp(double v, uint32_t *bp_out);

#endif
