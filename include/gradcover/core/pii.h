/* The PII key: a 32-byte secret in a file (created 0600 on first start) used to
 * HMAC national IDs so they can be looked up without being stored. */
#ifndef GRADCOVER_CORE_PII_H
#define GRADCOVER_CORE_PII_H

#include <stddef.h>

#include "gradcover/common.h"

#define PII_KEY_LEN 32
#define PII_HMAC_HEX_LEN 64

struct pii;

/* Loads the key file, creating it with mode 0600 and fresh random bytes when
 * missing. A file that exists but is group/world readable or of the wrong size
 * is an error. Returns a new object (pii_free) or NULL with err set. */
struct pii *pii_open(const char *path, char *err, size_t errlen);
void pii_free(struct pii *p);

/* Lower-case hex HMAC-SHA256(key, data); out has PII_HMAC_HEX_LEN + 1 bytes. */
void pii_hmac_hex(const struct pii *p, const char *data, size_t len, char *out);

/* A fingerprint of the key (an HMAC of a fixed label), safe to store in Redis
 * to detect a server started with another key. out: PII_HMAC_HEX_LEN + 1. */
void pii_fingerprint(const struct pii *p, char *out);

/* A key for another purpose, derived from the PII key: HMAC-SHA256(PII key,
 * label), so that every server holding the PII key derives the same one and a
 * MAC under it tells nothing about the national-ID HMACs (or the other way
 * round). label names the purpose and its version, e.g. "gradcover ack link
 * key v1". out: PII_KEY_LEN bytes. */
void pii_derive_key(const struct pii *p, const char *label, unsigned char *out);

/* HMAC-SHA256 of data under key into out (32 bytes). */
void gc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char *out);

/* Fills buf with n cryptographically random bytes; -1 on failure. */
int gc_random_bytes(void *buf, size_t n) GC_MUSTCHECK;

/* A URL-safe random id of `chars` characters from [A-Za-z0-9] (out: chars + 1). */
int gc_random_id(char *out, size_t chars) GC_MUSTCHECK;

/* The same id made from `chars` random bytes the caller already has. */
void gc_id_from_bytes(const unsigned char *raw, size_t chars, char *out);

/* SHA-256 of data into out (32 bytes). Two to three times cheaper than
 * OpenSSL 3's SHA256(), which looks the digest up by name on every call. */
void gc_sha256(const void *data, size_t len, unsigned char *out);

/* Lower-case hex SHA-256 of data; out has 65 bytes. */
void gc_sha256_hex(const void *data, size_t len, char *out);

#endif
