/* The "json" receiver kind: SPEC §7's webhook body, with X-Gradcover-Event-Id
 * and, when the webhook has a secret, X-Gradcover-Signature (HMAC-SHA256 of
 * the raw body); judged by the status alone. Builds bytes; sends nothing. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gradcover/alerts/receiver.h"
#include "gradcover/core/hex.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"

static json_t *webhook_body(const struct receiver_event *ev)
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

static int json_build(const struct receiver *r, const struct receiver_message *m,
                      struct receiver_request *req)
{
    const struct receiver_event *ev = &m->events[0];
    req->url = r->url;
    if (receiver_request_body(req, webhook_body(ev)) < 0 ||
        receiver_request_header(req, "X-Gradcover-Event-Id", ev->event_id) < 0)
        return -1;
    /* SPEC §7's body says firing or resolved; a repeat, an escalation or the
     * end of a silence is "firing" there, and this header says which. */
    if (ev->kind != RECEIVER_FIRING && ev->kind != RECEIVER_RESOLVED)
        return receiver_request_header(req, "X-Gradcover-Event-Kind",
                                       receiver_event_kind_name(ev->kind));
    return 0;
}

/* X-Gradcover-Signature: "sha256=<hex HMAC-SHA256(secret, raw body)>". */
static int json_sign(const struct receiver *r, const struct receiver_message *m,
                     struct receiver_request *req)
{
    (void)m;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), r->secret, (int)strlen(r->secret), (const unsigned char *)req->body,
              strlen(req->body), md, &len))
        return -1;
    char sig[sizeof "sha256=" + 2 * EVP_MAX_MD_SIZE];
    strcpy(sig, "sha256=");
    hex_encode(md, len, sig + 7);
    return receiver_request_header(req, "X-Gradcover-Signature", sig);
}

const struct receiver_kind rcv_json_kind = {
    .name = "json",
    .batches = false,
    .spacing_ms = 0,
    .build = json_build,
    .sign = json_sign,
    .classify = receiver_classify_http,
};
