/* Lower-case hexadecimal, the one encoding of digests and keys in text. */
#ifndef GRADCOVER_CORE_HEX_H
#define GRADCOVER_CORE_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* Writes 2 * n hex digits and a NUL into out (2 * n + 1 bytes). */
void hex_encode(const unsigned char *bytes, size_t n, char *out);

/* Reads exactly 2 * n hex digits (either case) from s into bytes; false for
 * anything else (shorter, longer, not hex). */
bool hex_decode(const char *s, unsigned char *bytes, size_t n);

#endif
