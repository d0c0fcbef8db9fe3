/* The "feishu" receiver kind: a Feishu (飞书) custom robot. SPEC §11:
 * {"msg_type": "text", "content": {"text": TEXT}}; with a secret the body
 * also carries "timestamp" (seconds, a string as the documentation's
 * example has it) and "sign" = base64 of HMAC-SHA256(key = timestamp +
 * "\n" + secret, message = "") (签名校验); done when code is 0; code 11232
 * (frequency limited) is retried; any other code fails for good.
 * Documentation: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
 * (自定义机器人使用指南). The signature is part of the body, so build signs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/message.h"
#include "gradcover/alerts/receiver.h"

/* The documentation limits the request body to 20 KB; the text is kept to
 * the 4,096 bytes the other robots take, a phone screen or two. */
#define FEISHU_TEXT_MAX 4096
/* "自定义机器人的频率控制和普通应用不同，为 100 次/分钟，5 次/秒": one a second
 * (60 a minute) keeps well inside both. */
#define FEISHU_SPACING_MS 1000
/* code 11232, "frequency limited". */
static const long FEISHU_RETRY[] = {11232};

static int feishu_build(const struct receiver *r, const struct receiver_message *m,
                        struct receiver_request *req)
{
    char *text = message_text(m, MESSAGE_PLAIN, FEISHU_TEXT_MAX);
    if (!text)
        return -1;
    req->url = r->url;
    json_t *body = json_object();
    if (body && r->secret) {
        /* Seconds of the system clock: the robot refuses a timestamp more
         * than an hour from its own. */
        char ts[24], key[24 + 1 + 512], sign[96];
        snprintf(ts, sizeof ts, "%lld", (long long)(m->sign_at / 1000));
        int kl = snprintf(key, sizeof key, "%s\n%s", ts, r->secret);
        if (kl < 0 || (size_t)kl >= sizeof key ||
            receiver_hmac_b64(key, (size_t)kl, "", 0, sign, sizeof sign) < 0) {
            free(text);
            json_decref(body);
            return -1;
        }
        json_object_set_new(body, "timestamp", json_string(ts));
        json_object_set_new(body, "sign", json_string(sign));
    }
    if (body) {
        json_object_set_new(body, "msg_type", json_string("text"));
        json_object_set_new(body, "content", json_pack("{s:s}", "text", text));
    }
    free(text);
    return receiver_request_body(req, body);
}

static enum receiver_verdict feishu_classify(int http_status, const char *body, size_t len,
                                             char *why, size_t whylen)
{
    return receiver_classify_code(http_status, body, len, "code", "msg", FEISHU_RETRY,
                                  sizeof FEISHU_RETRY / sizeof FEISHU_RETRY[0], why, whylen);
}

const struct receiver_kind rcv_feishu_kind = {
    .name = "feishu",
    .batches = true,
    .spacing_ms = FEISHU_SPACING_MS,
    .build = feishu_build,
    .classify = feishu_classify,
};
