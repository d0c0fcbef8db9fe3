/* The "dingtalk" receiver kind: a DingTalk (钉钉) custom robot. SPEC §11:
 * {"msgtype": "markdown", "markdown": {"title": TITLE, "text": TEXT}};
 * with a secret the URL gets &timestamp=<ms>&sign=<url-encoded base64 of
 * HMAC-SHA256(key = secret, message = timestamp + "\n" + secret)> (加签);
 * done when errcode is 0; 130101 (over 20 messages a minute) is retried;
 * any other errcode fails for good. Documentation:
 * https://open.dingtalk.com/document/robots/custom-robot-access (自定义机器人接入,
 * 安全设置: 加签) and .../robots/customize-robot-security-settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/message.h"
#include "gradcover/alerts/receiver.h"

/* DingTalk documents no size for markdown text; WeCom's 4,096 bytes is a
 * phone screen or two, and the dashboard holds the rest. */
#define DINGTALK_TEXT_MAX 4096
/* "每个机器人每分钟最多发送20条消息到群里，如果超过20条，会限流10分钟": one every
 * 3 s is 20 a minute; 3.3 s keeps clear of the limit, whose penalty (ten
 * minutes of silence) is far worse than a slower queue. */
#define DINGTALK_SPACING_MS 3300
/* errcode 130101, "send too fast, exceed 20 times per minute". */
static const long DINGTALK_RETRY[] = {130101};

static int dingtalk_build(const struct receiver *r, const struct receiver_message *m,
                          struct receiver_request *req)
{
    char *text = message_text(m, MESSAGE_MARKDOWN_PARA, DINGTALK_TEXT_MAX);
    if (!text)
        return -1;
    char title[256];
    message_title(m, title, sizeof title);
    req->url = r->url;
    json_t *body = json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown", "title",
                             title, "text", text);
    free(text);
    return receiver_request_body(req, body);
}

/* Percent-encodes base64's "+", "/" and "=" (what urlEncode changes in it). */
static void url_encode_b64(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 4 < n; in++) {
        if (*in == '+' || *in == '/' || *in == '=')
            k += (size_t)snprintf(out + k, n - k, "%%%02X", (unsigned char)*in);
        else
            out[k++] = *in;
    }
    out[k] = '\0';
}

static int dingtalk_sign(const struct receiver *r, const struct receiver_message *m,
                         struct receiver_request *req)
{
    /* The robot refuses a timestamp more than an hour from its own clock:
     * the system clock's, never the --now shifted one. */
    char ts[24], msg[24 + 1 + 512], b64[96], sign[160];
    snprintf(ts, sizeof ts, "%lld", (long long)m->sign_at);
    int ml = snprintf(msg, sizeof msg, "%s\n%s", ts, r->secret);
    if (ml < 0 || (size_t)ml >= sizeof msg ||
        receiver_hmac_b64(r->secret, strlen(r->secret), msg, (size_t)ml, b64, sizeof b64) < 0)
        return -1;
    url_encode_b64(b64, sign, sizeof sign);
    int ul = snprintf(req->urlbuf, sizeof req->urlbuf, "%s%stimestamp=%s&sign=%s", r->url,
                      strchr(r->url, '?') ? "&" : "?", ts, sign);
    if (ul < 0 || (size_t)ul >= sizeof req->urlbuf)
        return -1;
    req->url = req->urlbuf;
    return 0;
}

static enum receiver_verdict dingtalk_classify(int http_status, const char *body, size_t len,
                                               char *why, size_t whylen)
{
    return receiver_classify_code(http_status, body, len, "errcode", "errmsg", DINGTALK_RETRY,
                                  sizeof DINGTALK_RETRY / sizeof DINGTALK_RETRY[0], why, whylen);
}

const struct receiver_kind rcv_dingtalk_kind = {
    .name = "dingtalk",
    .batches = true,
    .spacing_ms = DINGTALK_SPACING_MS,
    .build = dingtalk_build,
    .sign = dingtalk_sign,
    .classify = dingtalk_classify,
};
