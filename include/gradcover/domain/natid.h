/* Chinese resident identity numbers (GB 11643-1999): validation, normalisation
 * and masking. Pure; never logs or stores the number. */
#ifndef GRADCOVER_DOMAIN_NATID_H
#define GRADCOVER_DOMAIN_NATID_H

#include <stdbool.h>
#include <stddef.h>

#define NATID_LEN 18

enum natid_err {
    NATID_OK = 0,
    NATID_BAD_LENGTH,
    NATID_BAD_CHARS,
    NATID_BAD_BIRTH_DATE,
    NATID_BAD_CHECKSUM,
};

/* Validates s (len bytes): 17 digits then a digit or X/x, a real birth date
 * between 1900-01-01 and today_days (days since 1970-01-01), and the
 * ISO 7064 MOD 11-2 check character. On success writes the normalised form
 * (upper-case X) to norm (NATID_LEN + 1 bytes). */
enum natid_err natid_validate(const char *s, size_t len, long today_days, char *norm);

/* Human-readable reason, without the number. */
const char *natid_strerror(enum natid_err e);

/* "611002********123X": region code, 8 stars, last four. out: NATID_LEN + 1. */
void natid_mask(const char *norm, char *out);

/* The check character for the first 17 digits. */
char natid_check_char(const char *first17);

#endif
