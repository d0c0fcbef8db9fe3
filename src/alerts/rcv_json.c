/* The "json" receiver kind: SPEC §7's webhook body, signed with the
 * webhook's secret (X-Gradcover-Signature). Builds bytes; sends nothing. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gradcover/alerts/receiver.h"
#include "gradcover/core/hex.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"

json_t *rcv_json_body(const struct receiver_event *ev)
{
    const struct county_cfg *cc = ev->county;
    long long reg = ev->registered, srv = ev->served;
    uint32_t bp = ev->threshold_bp;
    int off = ev->utc_offset_minutes;
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:I, s:I, s:o, s:f, s:I, s:o, s:o, s:o}",
                     "version", "1", "event_id", ev->event_id, "status", ev->status, "county",
                     "code", cc->code, "name", cc->name, "period", ev->period, "registered",
                     (json_int_t)reg, "served", (json_int_t)srv, "rate",
                     coverage_rate_json(srv, reg), "threshold", (double)bp / COVERAGE_BP_ONE, "gap",
                     (json_int_t)coverage_gap((uint64_t)srv, (uint64_t)reg, bp), "started_at",
                     jsonx_time(off, ev->started_at), "resolved_at",
                     ev->resolved ? jsonx_time(off, ev->resolved_at) : json_null(), "sent_at",
                     jsonx_time(off, ev->sent_at));
}

void rcv_json_sign(const char *secret, const char *body, char out[RCV_JSON_SIG_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), md,
         &len);
    strcpy(out, "sha256=");
    hex_encode(md, len, out + 7);
}
