/* Acknowledgement link tokens (see acklink.h): made and checked, nothing
 * stored. */
#include "gradcover/domain/acklink.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gradcover/core/pii.h"
#include "gradcover/domain/config.h"

/* The derivation label: a new one (v2) would invalidate every link made
 * under this one, which is what changing the token's layout needs. */
#define KEY_LABEL "gradcover ack link key v1"
/* Period byte, sequence number (3 bytes), expiry (4 bytes). */
#define FIELDS_LEN 8
/* 128 bits of HMAC-SHA256: RFC 2104 §5's "not less than half the length of
 * the hash output"; forging one is 2^128 guesses, each a request. */
#define MAC_LEN 16
#define RAW_LEN (FIELDS_LEN + MAC_LEN)
/* Periods are years 2000..2199 (timeutil.h); one byte holds 2000..2255. */
#define PERIOD_BASE 2000
#define PERIOD_SPAN 256
/* Three bytes of sequence number: 16.7 million episodes of one county. */
#define SEQ_MAX 0xFFFFFF

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void acklink_key_derive(const struct pii *p, struct acklink_key *out)
{
    pii_derive_key(p, KEY_LABEL, out->bytes);
}

/* RAW_LEN bytes (a multiple of 3) into ACKLINK_TAIL_LEN characters. */
static void b64url_encode(const unsigned char *in, char *out)
{
    for (size_t i = 0, o = 0; i < RAW_LEN; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64URL[v >> 18 & 63];
        out[o++] = B64URL[v >> 12 & 63];
        out[o++] = B64URL[v >> 6 & 63];
        out[o++] = B64URL[v & 63];
    }
    out[ACKLINK_TAIL_LEN] = '\0';
}

static int b64url_value(char c)
{
    const char *p = c ? strchr(B64URL, c) : NULL;
    return p ? (int)(p - B64URL) : -1;
}

/* ACKLINK_TAIL_LEN characters back into RAW_LEN bytes; false for any other
 * character. */
static bool b64url_decode(const char *in, unsigned char *out)
{
    for (size_t i = 0, o = 0; i < ACKLINK_TAIL_LEN; i += 4) {
        unsigned v = 0;
        for (size_t j = 0; j < 4; j++) {
            int d = b64url_value(in[i + j]);
            if (d < 0)
                return false;
            v = v << 6 | (unsigned)d;
        }
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    return true;
}

static void mac(const struct acklink_key *k, const char *county, const unsigned char *fields,
                unsigned char *out)
{
    unsigned char msg[GC_COUNTY_MAX + 1 + FIELDS_LEN], md[32];
    size_t cl = strlen(county);
    memcpy(msg, county, cl);
    msg[cl] = 0; /* county codes hold no NUL: the message splits one way only */
    memcpy(msg + cl + 1, fields, FIELDS_LEN);
    gc_hmac_sha256(k->bytes, sizeof k->bytes, msg, cl + 1 + FIELDS_LEN, md);
    memcpy(out, md, MAC_LEN);
    OPENSSL_cleanse(md, sizeof md);
}

/* "<county>-<YYYY>-<seq>" into its parts; false unless every part is valid. */
static bool parse_episode(const char *ep, char *county, unsigned *period, unsigned long *seq)
{
    const char *dash2 = strrchr(ep, '-');
    if (!dash2 || dash2 - ep < 6)
        return false;
    const char *dash1 = dash2 - 5;
    if (*dash1 != '-')
        return false;
    size_t cl = (size_t)(dash1 - ep);
    if (cl > GC_COUNTY_MAX)
        return false;
    unsigned p = 0;
    for (const char *c = dash1 + 1; c < dash2; c++) {
        if (*c < '0' || *c > '9')
            return false;
        p = p * 10 + (unsigned)(*c - '0');
    }
    unsigned long s = 0;
    size_t digits = strlen(dash2 + 1);
    if (digits == 0 || digits > 8 || dash2[1] == '0')
        return false;
    for (const char *c = dash2 + 1; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        s = s * 10 + (unsigned long)(*c - '0');
    }
    memcpy(county, ep, cl);
    county[cl] = '\0';
    if (!config_valid_county_code(county) || p < PERIOD_BASE || p >= PERIOD_BASE + PERIOD_SPAN ||
        s < 1 || s > SEQ_MAX)
        return false;
    *period = p;
    *seq = s;
    return true;
}

int acklink_token(const struct acklink_key *k, const char *episode_id, int64_t expires_ms,
                  char *out, size_t n)
{
    char county[GC_COUNTY_MAX + 1];
    unsigned period;
    unsigned long seq;
    int64_t exp_s = expires_ms / 1000;
    if (!episode_id || !parse_episode(episode_id, county, &period, &seq) || exp_s <= 0 ||
        exp_s > 0xFFFFFFFFLL)
        return -1;
    size_t cl = strlen(county);
    if (n < cl + ACKLINK_TAIL_LEN + 1)
        return -1;
    unsigned char raw[RAW_LEN];
    raw[0] = (unsigned char)(period - PERIOD_BASE);
    raw[1] = (unsigned char)(seq >> 16);
    raw[2] = (unsigned char)(seq >> 8);
    raw[3] = (unsigned char)seq;
    raw[4] = (unsigned char)(exp_s >> 24);
    raw[5] = (unsigned char)(exp_s >> 16);
    raw[6] = (unsigned char)(exp_s >> 8);
    raw[7] = (unsigned char)exp_s;
    mac(k, county, raw, raw + FIELDS_LEN);
    memcpy(out, county, cl);
    b64url_encode(raw, out + cl);
    return 0;
}

int acklink_url(const struct acklink_key *k, const char *public_url, const char *episode_id,
                int64_t now_ms, char *out, size_t n)
{
    char token[ACKLINK_TOKEN_MAX + 1];
    if (!public_url ||
        acklink_token(k, episode_id, now_ms + ACKLINK_TTL_MS, token, sizeof token) < 0)
        return -1;
    int w = snprintf(out, n, "%s/ack/%s", public_url, token);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

enum acklink_verdict acklink_check(const struct acklink_key *k, const char *token, int64_t now_ms,
                                   struct acklink *out)
{
    size_t len = token ? strlen(token) : 0;
    if (len <= ACKLINK_TAIL_LEN || len > ACKLINK_TOKEN_MAX)
        return ACKLINK_INVALID;
    size_t cl = len - ACKLINK_TAIL_LEN;
    char county[GC_COUNTY_MAX + 1];
    memcpy(county, token, cl);
    county[cl] = '\0';
    unsigned char raw[RAW_LEN], want[MAC_LEN];
    if (!config_valid_county_code(county) || !b64url_decode(token + cl, raw))
        return ACKLINK_INVALID;
    mac(k, county, raw, want);
    if (CRYPTO_memcmp(want, raw + FIELDS_LEN, MAC_LEN) != 0)
        return ACKLINK_INVALID;
    unsigned long seq = (unsigned long)raw[1] << 16 | (unsigned long)raw[2] << 8 | raw[3];
    int64_t exp_s = (int64_t)raw[4] << 24 | (int64_t)raw[5] << 16 | (int64_t)raw[6] << 8 | raw[7];
    memcpy(out->county, county, cl + 1);
    snprintf(out->episode, sizeof out->episode, "%s-%u-%lu", county, PERIOD_BASE + raw[0], seq);
    out->expires_ms = exp_s * 1000;
    return now_ms >= out->expires_ms ? ACKLINK_EXPIRED : ACKLINK_VALID;
}
