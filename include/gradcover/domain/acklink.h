/* Acknowledgement links (SPEC §11): "{public_url}/ack/{token}", a credential
 * that acknowledges one county's one alert episode, signed and expiring.
 * Pure: the delivery side makes one for every message it sends, and whichever
 * server receives the click verifies it (every server derives the same key
 * from the PII key they share); nothing is stored for a link. The token is
 *
 *   <county code><32 characters: base64url of 24 bytes>
 *
 * the bytes being the episode's period - 2000 (1), its sequence number
 * (3, big-endian), the expiry in Unix seconds (4, big-endian) and the first
 * 16 bytes of HMAC-SHA256(key, county || 0x00 || those 8 bytes). County codes
 * are [A-Za-z0-9_-], base64url's own alphabet, so a token is at most 64
 * characters of it: one path segment the router takes (GC_ID_MAX), safe in a
 * URL, a markdown link and HTML without escaping. */
#ifndef GRADCOVER_DOMAIN_ACKLINK_H
#define GRADCOVER_DOMAIN_ACKLINK_H

#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"

struct pii;

/* SPEC §11: a link acknowledges for 7 days after it was made. */
#define ACKLINK_TTL_MS (7LL * 86400 * 1000)
/* 24 bytes in base64url without padding. */
#define ACKLINK_TAIL_LEN 32
/* The longest token: a 32-character county code and the tail (= GC_ID_MAX). */
#define ACKLINK_TOKEN_MAX (GC_COUNTY_MAX + ACKLINK_TAIL_LEN)
/* An episode id "<county>-<YYYY>-<seq>" (the seq below 2^24: 8 digits). */
#define ACKLINK_EPISODE_MAX (GC_COUNTY_MAX + 1 + 4 + 1 + 8)
/* "{public_url}/ack/{token}": public_url is at most 256 characters (config.c). */
#define ACKLINK_URL_MAX (256 + 5 + ACKLINK_TOKEN_MAX + 1)

/* The links' key: derived from the PII key (acklink_key_derive), never stored. */
struct acklink_key {
    unsigned char bytes[32];
};

/* Derives the link key from the PII key (pii.h, label "gradcover ack link key
 * v1"): every server with the same pii_key_file derives the same key. */
void acklink_key_derive(const struct pii *p, struct acklink_key *out);

/* Writes the token for episode_id ("611002-2026-3", as the outbox event's
 * "episode" and /api/v1/alerts' "id" name it) expiring at expires_ms into out
 * (n >= ACKLINK_TOKEN_MAX + 1). -1 when the id is not of that form (a county
 * code, a period in 2000..2255, a sequence number in 1..2^24-1), the expiry is
 * outside 1970..2106, or out is too small. */
int acklink_token(const struct acklink_key *k, const char *episode_id, int64_t expires_ms,
                  char *out, size_t n) GC_MUSTCHECK;

/* The link the delivery side puts in every message for the county's current
 * episode: "{public_url}/ack/{token}", valid ACKLINK_TTL_MS from now_ms, into
 * out (n >= ACKLINK_URL_MAX). public_url: config's alerts.public_url (no
 * trailing slash). -1 as acklink_token, or when public_url is NULL. */
int acklink_url(const struct acklink_key *k, const char *public_url, const char *episode_id,
                int64_t now_ms, char *out, size_t n) GC_MUSTCHECK;

/* What a token says once checked. */
struct acklink {
    char county[GC_COUNTY_MAX + 1];
    char episode[ACKLINK_EPISODE_MAX + 1]; /* "<county>-<YYYY>-<seq>" */
    int64_t expires_ms;
};

enum acklink_verdict {
    ACKLINK_VALID,   /* signed by us and not expired: *out is filled */
    ACKLINK_INVALID, /* not a token, or not signed by us (tampered, made up) */
    ACKLINK_EXPIRED, /* signed by us, expired at out->expires_ms: *out is filled */
};

/* Checks a token (from the path of /ack/{token}) at now_ms: its form, its
 * signature (compared in constant time) and, only for a genuine one, its
 * expiry. Whether its county is configured and its episode still the
 * county's current one is the caller's to check. */
enum acklink_verdict acklink_check(const struct acklink_key *k, const char *token, int64_t now_ms,
                                   struct acklink *out);

#endif
