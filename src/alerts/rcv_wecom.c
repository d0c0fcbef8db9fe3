/* The "wecom" receiver kind: a WeCom (企业微信) group robot. SPEC §11:
 * {"msgtype": "markdown", "markdown": {"content": TEXT}}; done on HTTP 200
 * with errcode 0; errcode 45009 (frequency limit) is retried with backoff;
 * any other errcode fails for good with errcode and errmsg as the reason.
 * WeCom signs nothing: the robot's key is in its URL. Documentation:
 * https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明). */
#include <stdlib.h>

#include "gradcover/alerts/message.h"
#include "gradcover/alerts/receiver.h"

/* "markdown内容，最长不超过4096个字节，必须是utf8编码" (the markdown type's
 * content field). */
#define WECOM_TEXT_MAX 4096
/* "消息发送频率限制：每个机器人发送的消息不能超过20条/分钟": 20 a minute is one
 * every 3 s; 3.3 s (18 a minute) leaves room for the robot's clock and the
 * network to bunch two of ours together. */
#define WECOM_SPACING_MS 3300
/* errcode 45009, "api freq out of limit": the robot's rate limit. */
static const long WECOM_RETRY[] = {45009};

static int wecom_build(const struct receiver *r, const struct receiver_message *m,
                       struct receiver_request *req)
{
    char *text = message_text(m, MESSAGE_MARKDOWN, WECOM_TEXT_MAX);
    if (!text)
        return -1;
    req->url = r->url;
    json_t *body = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown", "markdown", "content", text);
    free(text);
    return receiver_request_body(req, body);
}

static enum receiver_verdict wecom_classify(int http_status, const char *body, size_t len,
                                            char *why, size_t whylen)
{
    return receiver_classify_code(http_status, body, len, "errcode", "errmsg", WECOM_RETRY,
                                  sizeof WECOM_RETRY / sizeof WECOM_RETRY[0], why, whylen);
}

const struct receiver_kind rcv_wecom_kind = {
    .name = "wecom",
    .batches = true,
    .spacing_ms = WECOM_SPACING_MS,
    .build = wecom_build,
    .classify = wecom_classify,
};
