/* Phone numbers as personal data: what a stored one may look like, how it is
 * shown masked, and how to recognise a mobile number where none belongs (an
 * id). Pure; never logs a number. */
#ifndef GRADCOVER_DOMAIN_PHONE_H
#define GRADCOVER_DOMAIN_PHONE_H

#include <stdbool.h>
#include <stddef.h>

/* 5..20 of digits and '-', with an optional leading '+'. */
bool phone_valid(const char *p);

/* A mainland mobile number (1[3-9] and 9 more digits), with or without +86. */
bool phone_looks_mobile(const char *s);

/* "138****0000" (first three, last four); "****" for numbers under 7
 * characters. out: at least 32 bytes. */
void phone_mask(const char *phone, char *out, size_t n);

#endif
