/* Unit tests of the receiver kinds (SPEC §7): the json webhook's and
 * Alertmanager's bytes and headers, pinned to what gradcoverd sent before
 * the kinds were split out of notify.c; how answers are judged; the
 * receivers a configuration makes, in the metrics' order. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/receiver.h"
#include "gradcover/domain/config.h"

static const struct county_cfg SHANGZHOU = {
    .code = "611002", .name = "商州区", .threshold_bp = 9000};
static const struct county_cfg LUONAN = {.code = "611021", .name = "洛南县", .threshold_bp = 9200};

/* 2026-05-12T09:14:03.123+08:00, an hour later, and 2026-12-03T16:12:39+08:00. */
#define STARTED_MS 1778548443123LL
#define RESOLVED_MS 1778552043456LL
#define SENT_MS 1796285559000LL

static struct receiver_event firing(void)
{
    return (struct receiver_event){.event_id = "611002-2026-1:firing",
                                   .status = "firing",
                                   .county = &SHANGZHOU,
                                   .period = "2026",
                                   .registered = 100,
                                   .served = 87,
                                   .threshold_bp = 9000,
                                   .started_at = STARTED_MS,
                                   .sent_at = SENT_MS,
                                   .utc_offset_minutes = 480};
}

static struct receiver_event resolved(void)
{
    return (struct receiver_event){.event_id = "611021-2026-1:resolved",
                                   .status = "resolved",
                                   .resolved = true,
                                   .county = &LUONAN,
                                   .period = "2026",
                                   .registered = 11,
                                   .served = 10,
                                   .threshold_bp = 9200,
                                   .started_at = STARTED_MS,
                                   .resolved_at = RESOLVED_MS,
                                   .sent_at = SENT_MS,
                                   .utc_offset_minutes = 480};
}

static const struct receiver SIGNED = {.kind = &rcv_json_kind,
                                       .name = "signed",
                                       .url = "http://127.0.0.1:9000/hook/signed?x=1",
                                       .secret = "s3cret"};
static const struct receiver AM = {
    .kind = &rcv_alertmanager_kind, .name = "alertmanager", .url = "http://127.0.0.1:9093"};

/* What sendq.c does for one message of one event: build, then sign when
 * there is a secret. */
static void request(const struct receiver *r, const struct receiver_event *ev,
                    struct receiver_request *req)
{
    struct receiver_message m = {.events = ev,
                                 .n = 1,
                                 .sent_at = ev->sent_at,
                                 .sign_at = ev->sent_at,
                                 .utc_offset_minutes = 480};
    ck_assert_int_eq(r->kind->build(r, &m, req), 0);
    if (r->secret && r->kind->sign)
        ck_assert_int_eq(r->kind->sign(r, &m, req), 0);
}

/* The value of header name in req, NULL when absent. */
static const char *header(const struct receiver_request *req, const char *name)
{
    for (size_t i = 0; req->headers[i]; i += 2)
        if (strcmp(req->headers[i], name) == 0)
            return req->headers[i + 1];
    return NULL;
}

/* ---- json ---- */

START_TEST(test_json_firing_body_and_signature_are_unchanged)
{
    struct receiver_event ev = firing();
    struct receiver_request req = {0};
    request(&SIGNED, &ev, &req);
    ck_assert_str_eq(req.url, "http://127.0.0.1:9000/hook/signed?x=1");
    ck_assert_str_eq(
        req.body, "{\"version\":\"1\",\"event_id\":\"611002-2026-1:firing\",\"status\":\"firing\","
                  "\"county\":{\"code\":\"611002\",\"name\":\"商州区\"},\"period\":\"2026\","
                  "\"registered\":100,\"served\":87,\"rate\":0.87,\"threshold\":0.9,\"gap\":3,"
                  "\"started_at\":\"2026-05-12T09:14:03+08:00\",\"resolved_at\":null,"
                  "\"sent_at\":\"2026-12-03T16:12:39+08:00\"}");
    ck_assert_str_eq(req.headers[0], "X-Gradcover-Event-Id");
    ck_assert_str_eq(req.headers[1], "611002-2026-1:firing");
    ck_assert_str_eq(req.headers[2], "X-Gradcover-Signature");
    ck_assert_str_eq(req.headers[3],
                     "sha256=291e6f08a16fb24cfd37ab752067a469dba73f788bda2c3e590bc64e6808b29a");
    ck_assert_ptr_null(req.headers[4]);
    receiver_request_clear(&req);
}
END_TEST

START_TEST(test_json_resolved_body_is_unchanged)
{
    struct receiver_event ev = resolved();
    struct receiver_request req = {0};
    request(&SIGNED, &ev, &req);
    ck_assert_str_eq(
        req.body,
        "{\"version\":\"1\",\"event_id\":\"611021-2026-1:resolved\",\"status\":\"resolved\","
        "\"county\":{\"code\":\"611021\",\"name\":\"洛南县\"},\"period\":\"2026\","
        "\"registered\":11,\"served\":10,\"rate\":0.909,\"threshold\":0.92,\"gap\":1,"
        "\"started_at\":\"2026-05-12T09:14:03+08:00\","
        "\"resolved_at\":\"2026-05-12T10:14:03+08:00\","
        "\"sent_at\":\"2026-12-03T16:12:39+08:00\"}");
    ck_assert_str_eq(header(&req, "X-Gradcover-Signature"),
                     "sha256=ca1736f9bcb3a650febc889d77f41e1576728b7bee462a092c63f4388b1312e7");
    receiver_request_clear(&req);
}
END_TEST

START_TEST(test_json_without_secret_is_unsigned)
{
    struct receiver r = SIGNED;
    r.secret = NULL;
    struct receiver_event ev = firing();
    struct receiver_request req = {0};
    request(&r, &ev, &req);
    ck_assert_str_eq(header(&req, "X-Gradcover-Event-Id"), "611002-2026-1:firing");
    ck_assert_ptr_null(header(&req, "X-Gradcover-Signature"));
    receiver_request_clear(&req);
}
END_TEST

/* ---- Alertmanager ---- */

START_TEST(test_alertmanager_firing_body_is_unchanged)
{
    struct receiver_event ev = firing();
    struct receiver_request req = {0};
    request(&AM, &ev, &req);
    ck_assert_str_eq(req.url, "http://127.0.0.1:9093/api/v2/alerts");
    ck_assert_str_eq(
        req.body,
        "[{\"labels\":{\"alertname\":\"GraduateServiceCoverageLow\",\"county\":\"611002\","
        "\"county_name\":\"商州区\",\"period\":\"2026\",\"severity\":\"warning\"},"
        "\"annotations\":{\"summary\":\"商州区 高校毕业生就业服务率 87.0%，低于目标 90.0%\","
        "\"description\":\"商州区 (611002), period 2026: 87 of 100 registered graduates served "
        "(87.0%), target 90.0%; 3 more must be served.\"},"
        "\"startsAt\":\"2026-05-12T01:14:03+00:00\"}]");
    ck_assert_str_eq(header(&req, "X-Gradcover-Event-Id"), "611002-2026-1:firing");
    ck_assert_ptr_null(header(&req, "X-Gradcover-Signature"));
    receiver_request_clear(&req);
}
END_TEST

START_TEST(test_alertmanager_resolved_body_ends_the_alert)
{
    struct receiver_event ev = resolved();
    struct receiver_request req = {0};
    request(&AM, &ev, &req);
    ck_assert_str_eq(
        req.body,
        "[{\"labels\":{\"alertname\":\"GraduateServiceCoverageLow\",\"county\":\"611021\","
        "\"county_name\":\"洛南县\",\"period\":\"2026\",\"severity\":\"warning\"},"
        "\"annotations\":{\"summary\":\"洛南县 高校毕业生就业服务率 90.9%，低于目标 92.0%\","
        "\"description\":\"洛南县 (611021), period 2026: 10 of 11 registered graduates served "
        "(90.9%), target 92.0%; 1 more must be served.\"},"
        "\"startsAt\":\"2026-05-12T01:14:03+00:00\",\"endsAt\":\"2026-05-12T02:14:03+00:00\"}]");
    receiver_request_clear(&req);
}
END_TEST

/* ---- chat robots (SPEC §11) ---- */

/* A robot's message of one event, signed at SIGN_MS by the system clock. */
#define SIGN_MS 1778548443123LL

static void robot_request(const struct receiver *r, const struct receiver_event *ev,
                          struct receiver_request *req)
{
    struct receiver_message m = {.events = ev,
                                 .n = 1,
                                 .sent_at = ev->sent_at,
                                 .sign_at = SIGN_MS,
                                 .utc_offset_minutes = 480};
    ck_assert_int_eq(r->kind->build(r, &m, req), 0);
    if (r->secret && r->kind->sign)
        ck_assert_int_eq(r->kind->sign(r, &m, req), 0);
}

START_TEST(test_wecom_posts_markdown_content)
{
    const struct receiver r = {.kind = &rcv_wecom_kind,
                               .name = "wecom",
                               .url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"};
    struct receiver_event ev = firing();
    struct receiver_request req = {0};
    robot_request(&r, &ev, &req);
    ck_assert_str_eq(req.url, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k");
    ck_assert_str_eq(req.body, "{\"msgtype\":\"markdown\",\"markdown\":{\"content\":"
                               "\"**商州区 就业服务率低于目标**\\n服务率 87.0%（87/100），目标 "
                               "90%，还需服务 3 人\\n自 2026-05-12 09:14 起低于目标\"}}");
    ck_assert_ptr_null(req.headers[0]);
    receiver_request_clear(&req);
}
END_TEST

/* The values below were computed apart from this code (Python's hmac and
 * base64 with DingTalk's and Feishu's published recipes). */
START_TEST(test_dingtalk_signs_the_url_with_timestamp_and_sign)
{
    const struct receiver r = {.kind = &rcv_dingtalk_kind,
                               .name = "dingtalk",
                               .url = "https://oapi.dingtalk.com/robot/send?access_token=t",
                               .secret = "SEC0123456789abcdef"};
    struct receiver_event ev = firing();
    struct receiver_request req = {0};
    robot_request(&r, &ev, &req);
    ck_assert_str_eq(req.url, "https://oapi.dingtalk.com/robot/send?access_token=t"
                              "&timestamp=1778548443123"
                              "&sign=meCkrWF8JRPGdbqPAfmz50DpZFcNva36V3gznvlSJFk%3D");
    ck_assert_msg(
        strncmp(req.body,
                "{\"msgtype\":\"markdown\",\"markdown\":{\"title\":\"商州区 "
                "就业服务率低于目标\",\"text\":\"**商州区 就业服务率低于目标**\\n\\n",
                strlen("{\"msgtype\":\"markdown\",\"markdown\":{\"title\":\"商州区 "
                       "就业服务率低于目标\",\"text\":\"**商州区 就业服务率低于目标**\\n\\n")) == 0,
        "%s", req.body);
    receiver_request_clear(&req);
}
END_TEST

START_TEST(test_dingtalk_without_secret_keeps_its_url)
{
    const struct receiver r = {.kind = &rcv_dingtalk_kind,
                               .name = "dingtalk",
                               .url = "https://oapi.dingtalk.com/robot/send?access_token=t"};
    struct receiver_event ev = firing();
    struct receiver_request req = {0};
    robot_request(&r, &ev, &req);
    ck_assert_str_eq(req.url, "https://oapi.dingtalk.com/robot/send?access_token=t");
    receiver_request_clear(&req);
}
END_TEST

START_TEST(test_feishu_signs_the_body_with_timestamp_and_sign)
{
    const struct receiver r = {.kind = &rcv_feishu_kind,
                               .name = "feishu",
                               .url = "https://open.feishu.cn/open-apis/bot/v2/hook/h",
                               .secret = "s3cret-feishu"};
    struct receiver_event ev = firing();
    struct receiver_request req = {0};
    robot_request(&r, &ev, &req);
    ck_assert_str_eq(req.url, "https://open.feishu.cn/open-apis/bot/v2/hook/h");
    ck_assert_str_eq(req.body, "{\"timestamp\":\"1778548443\","
                               "\"sign\":\"81R1U19mKHNdxximt6Grf0zKLHdS0yRmyKHapOt+sE8=\","
                               "\"msg_type\":\"text\",\"content\":{\"text\":\"商州区 "
                               "就业服务率低于目标\\n服务率 87.0%（87/100），目标 90%，还需服务 3 "
                               "人\\n自 2026-05-12 09:14 起低于目标\"}}");
    receiver_request_clear(&req);
}
END_TEST

static enum receiver_verdict judge_body(const struct receiver_kind *k, int status, const char *body,
                                        char *why)
{
    why[0] = '\0';
    return k->classify(status, body, strlen(body), why, 128);
}

START_TEST(test_wecom_errcodes)
{
    char why[128];
    const struct receiver_kind *k = &rcv_wecom_kind;
    ck_assert_int_eq(judge_body(k, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", why), RECEIVER_DONE);
    ck_assert_int_eq(
        judge_body(k, 200, "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}", why),
        RECEIVER_RETRY);
    ck_assert_str_eq(why, "errcode 45009: api freq out of limit");
    ck_assert_int_eq(
        judge_body(k, 200, "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}", why),
        RECEIVER_PERMANENT);
    ck_assert_str_eq(why, "errcode 93000: invalid webhook url");
    ck_assert_int_eq(judge_body(k, 200, "<html>ok</html>", why), RECEIVER_PERMANENT);
    ck_assert_int_eq(judge_body(k, 502, "", why), RECEIVER_RETRY);
    ck_assert_str_eq(why, "HTTP 502");
    ck_assert_int_eq(judge_body(k, 404, "", why), RECEIVER_PERMANENT);
    /* Only 200 carries the robot's verdict. */
    ck_assert_int_eq(judge_body(k, 204, "", why), RECEIVER_PERMANENT);
}
END_TEST

START_TEST(test_dingtalk_and_feishu_codes)
{
    char why[128];
    ck_assert_int_eq(judge_body(&rcv_dingtalk_kind, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", why),
                     RECEIVER_DONE);
    ck_assert_int_eq(
        judge_body(&rcv_dingtalk_kind, 200,
                   "{\"errcode\":130101,\"errmsg\":\"send too fast, exceed 20 times per minute\"}",
                   why),
        RECEIVER_RETRY);
    ck_assert_int_eq(judge_body(&rcv_dingtalk_kind, 200,
                                "{\"errcode\":310000,\"errmsg\":\"sign not match\"}", why),
                     RECEIVER_PERMANENT);
    ck_assert_str_eq(why, "errcode 310000: sign not match");
    ck_assert_int_eq(
        judge_body(&rcv_feishu_kind, 200, "{\"code\":0,\"msg\":\"success\",\"data\":{}}", why),
        RECEIVER_DONE);
    ck_assert_int_eq(
        judge_body(&rcv_feishu_kind, 200, "{\"code\":11232,\"msg\":\"frequency limited\"}", why),
        RECEIVER_RETRY);
    ck_assert_int_eq(judge_body(&rcv_feishu_kind, 200,
                                "{\"code\":19021,\"msg\":\"sign match fail\",\"data\":{}}", why),
                     RECEIVER_PERMANENT);
    ck_assert_str_eq(why, "code 19021: sign match fail");
    /* Feishu answers errcode-less bodies: a WeCom-shaped answer is not its. */
    ck_assert_int_eq(judge_body(&rcv_feishu_kind, 200, "{\"errcode\":0}", why), RECEIVER_PERMANENT);
}
END_TEST

START_TEST(test_robots_batch_and_keep_their_documented_pace)
{
    ck_assert(rcv_wecom_kind.batches && rcv_dingtalk_kind.batches && rcv_feishu_kind.batches);
    ck_assert(!rcv_json_kind.batches && !rcv_alertmanager_kind.batches);
    /* 20 messages a minute for WeCom and DingTalk, 100 for Feishu: never more. */
    ck_assert_int_ge(rcv_wecom_kind.spacing_ms, 60000 / 20);
    ck_assert_int_ge(rcv_dingtalk_kind.spacing_ms, 60000 / 20);
    ck_assert_int_ge(rcv_feishu_kind.spacing_ms, 60000 / 100);
    ck_assert_int_eq(rcv_json_kind.spacing_ms, 0);
}
END_TEST

START_TEST(test_every_config_format_names_a_kind)
{
    for (const char *const *f = config_webhook_formats(); *f; f++)
        ck_assert_msg(receiver_kind_named(*f) != NULL, "format %s has no kind", *f);
}
END_TEST

START_TEST(test_who_takes_which_event)
{
    struct receiver leaders = {.kind = &rcv_wecom_kind, .name = "leaders"};
    struct receiver city = {.kind = &rcv_feishu_kind, .name = "city", .escalation = true};
    struct receiver am = {.kind = &rcv_alertmanager_kind, .name = "alertmanager"};
    for (int k = RECEIVER_FIRING; k <= RECEIVER_UNSILENCED; k++) {
        ck_assert(receiver_takes(&leaders, (enum receiver_event_kind)k) ==
                  (k != RECEIVER_ESCALATION));
        ck_assert(receiver_takes(&city, (enum receiver_event_kind)k) == (k == RECEIVER_ESCALATION));
        ck_assert(receiver_takes(&am, (enum receiver_event_kind)k) ==
                  (k == RECEIVER_FIRING || k == RECEIVER_RESOLVED));
    }
    enum receiver_event_kind kind;
    ck_assert(receiver_event_kind_parse(NULL, "resolved", &kind) && kind == RECEIVER_RESOLVED);
    ck_assert(receiver_event_kind_parse("unsilenced", "firing", &kind) &&
              kind == RECEIVER_UNSILENCED);
    ck_assert(!receiver_event_kind_parse("bogus", "firing", &kind));
}
END_TEST

/* ---- answers ---- */

static enum receiver_verdict judge(const struct receiver_kind *k, int status, char *why)
{
    why[0] = '\0';
    return k->classify(status, "", 0, why, 64);
}

START_TEST(test_2xx_is_done)
{
    const struct receiver_kind *kinds[] = {&rcv_json_kind, &rcv_alertmanager_kind};
    char why[64];
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(judge(kinds[i], 200, why), RECEIVER_DONE);
        ck_assert_int_eq(judge(kinds[i], 204, why), RECEIVER_DONE);
    }
}
END_TEST

START_TEST(test_429_and_5xx_are_retried)
{
    const struct receiver_kind *kinds[] = {&rcv_json_kind, &rcv_alertmanager_kind};
    char why[64];
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(judge(kinds[i], 429, why), RECEIVER_RETRY);
        ck_assert_str_eq(why, "HTTP 429");
        ck_assert_int_eq(judge(kinds[i], 500, why), RECEIVER_RETRY);
        ck_assert_int_eq(judge(kinds[i], 503, why), RECEIVER_RETRY);
        ck_assert_str_eq(why, "HTTP 503");
    }
}
END_TEST

START_TEST(test_other_statuses_are_permanent)
{
    const struct receiver_kind *kinds[] = {&rcv_json_kind, &rcv_alertmanager_kind};
    char why[64];
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(judge(kinds[i], 400, why), RECEIVER_PERMANENT);
        ck_assert_str_eq(why, "HTTP 400");
        ck_assert_int_eq(judge(kinds[i], 404, why), RECEIVER_PERMANENT);
        ck_assert_int_eq(judge(kinds[i], 301, why), RECEIVER_PERMANENT);
    }
}
END_TEST

/* ---- the configured receivers ---- */

static const char CONFIG[] =
    "{\"pii_key_file\": \"x\","
    " \"counties\": [{\"code\": \"611002\", \"name\": \"商州区\"},"
    "                {\"code\": \"611021\", \"name\": \"洛南县\"}],"
    " \"alerts\": {\"webhooks\": ["
    "   {\"name\": \"shangzhou\", \"url\": \"http://127.0.0.1:9000/a\", \"secret\": \"k\","
    "    \"counties\": [\"611002\"]},"
    "   {\"name\": \"city\", \"url\": \"http://127.0.0.1:9000/b\"}],"
    "  \"alertmanager_url\": \"http://127.0.0.1:9093\"}}";

START_TEST(test_webhooks_then_alertmanager_in_order)
{
    char err[256];
    struct config *cfg = config_parse(CONFIG, strlen(CONFIG), err, sizeof err);
    ck_assert_msg(cfg != NULL, "%s", err);
    struct receiver_set set = {0};
    enum receiver_change *ch = NULL;
    ck_assert_int_eq(receivers_sync(&set, cfg, &ch), 0);
    ck_assert_uint_eq(set.n, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(ch[i], RECEIVER_ADDED);
    free(ch);
    ck_assert_str_eq(set.r[0]->name, "shangzhou");
    ck_assert_ptr_eq(set.r[0]->kind, &rcv_json_kind);
    ck_assert_str_eq(set.r[0]->secret, "k");
    ck_assert_str_eq(set.r[1]->name, "city");
    ck_assert_ptr_eq(set.r[1]->kind, &rcv_json_kind);
    ck_assert_ptr_null(set.r[1]->secret);
    ck_assert_str_eq(set.r[2]->name, "alertmanager");
    ck_assert_ptr_eq(set.r[2]->kind, &rcv_alertmanager_kind);
    ck_assert_str_eq(set.r[2]->url, "http://127.0.0.1:9093");
    receivers_clear(&set);
    config_free(cfg);
}
END_TEST

START_TEST(test_a_webhook_wants_only_its_counties)
{
    char err[256];
    struct config *cfg = config_parse(CONFIG, strlen(CONFIG), err, sizeof err);
    ck_assert_msg(cfg != NULL, "%s", err);
    struct receiver_set set = {0};
    enum receiver_change *ch = NULL;
    ck_assert_int_eq(receivers_sync(&set, cfg, &ch), 0);
    free(ch);
    ck_assert(receiver_wants(set.r[0], "611002"));
    ck_assert(!receiver_wants(set.r[0], "611021"));
    ck_assert(receiver_wants(set.r[1], "611021"));
    ck_assert(receiver_wants(set.r[2], "611021"));
    receivers_clear(&set);
    config_free(cfg);
}
END_TEST

/* A reload: city's URL changed, shangzhou removed, "county" added first,
 * Alertmanager removed. Slots follow names, not positions. */
static const char CONFIG2[] =
    "{\"pii_key_file\": \"x\","
    " \"counties\": [{\"code\": \"611002\", \"name\": \"商州区\"},"
    "                {\"code\": \"611021\", \"name\": \"洛南县\"}],"
    " \"alerts\": {\"webhooks\": ["
    "   {\"name\": \"county\", \"url\": \"http://127.0.0.1:9000/c\", \"format\": \"wecom\"},"
    "   {\"name\": \"city\", \"url\": \"http://127.0.0.1:9000/b2\"}]}}";

START_TEST(test_sync_keeps_slots_by_name)
{
    char err[256];
    struct config *cfg = config_parse(CONFIG, strlen(CONFIG), err, sizeof err);
    struct config *cfg2 = config_parse(CONFIG2, strlen(CONFIG2), err, sizeof err);
    ck_assert_msg(cfg && cfg2, "%s", err);
    struct receiver_set set = {0};
    enum receiver_change *ch = NULL;
    ck_assert_int_eq(receivers_sync(&set, cfg, &ch), 0);
    free(ch);
    struct receiver *city = set.r[1];
    ck_assert_int_eq(receivers_sync(&set, cfg2, &ch), 0);
    ck_assert_uint_eq(set.n, 4);
    ck_assert_ptr_eq(set.r[1], city); /* the same object: queues keep pointers */
    ck_assert_int_eq(ch[0], RECEIVER_REMOVED);
    ck_assert(set.r[0]->removed);
    ck_assert_int_eq(ch[1], RECEIVER_CHANGED);
    ck_assert_str_eq(set.r[1]->url, "http://127.0.0.1:9000/b2");
    ck_assert_int_eq(ch[2], RECEIVER_REMOVED);
    ck_assert(set.r[2]->removed);
    ck_assert_int_eq(ch[3], RECEIVER_ADDED);
    ck_assert_str_eq(set.r[3]->name, "county");
    ck_assert_ptr_eq(set.r[3]->kind, &rcv_wecom_kind);
    ck_assert_int_eq(receivers_find(&set, "county"), 3);
    free(ch);
    /* The same again: nothing changes. */
    ck_assert_int_eq(receivers_sync(&set, cfg2, &ch), 0);
    for (size_t i = 0; i < set.n; i++)
        ck_assert_int_eq(ch[i], RECEIVER_KEPT);
    free(ch);
    /* Back: the removed ones get their slots again. */
    ck_assert_int_eq(receivers_sync(&set, cfg, &ch), 0);
    ck_assert_uint_eq(set.n, 4);
    ck_assert_int_eq(ch[0], RECEIVER_ADDED);
    ck_assert(!set.r[0]->removed);
    ck_assert_int_eq(ch[2], RECEIVER_ADDED);
    ck_assert_int_eq(ch[3], RECEIVER_REMOVED);
    free(ch);
    receivers_clear(&set);
    config_free(cfg);
    config_free(cfg2);
}
END_TEST

START_TEST(test_kinds_by_name)
{
    ck_assert_ptr_eq(receiver_kind_named("json"), &rcv_json_kind);
    ck_assert_ptr_eq(receiver_kind_named("alertmanager"), &rcv_alertmanager_kind);
    ck_assert_ptr_eq(receiver_kind_named("wecom"), &rcv_wecom_kind);
    ck_assert_ptr_eq(receiver_kind_named("dingtalk"), &rcv_dingtalk_kind);
    ck_assert_ptr_eq(receiver_kind_named("feishu"), &rcv_feishu_kind);
    ck_assert_ptr_null(receiver_kind_named("slack"));
}
END_TEST

static Suite *receivers_suite(void)
{
    Suite *s = suite_create("receivers");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, test_json_firing_body_and_signature_are_unchanged);
    tcase_add_test(tc, test_json_resolved_body_is_unchanged);
    tcase_add_test(tc, test_json_without_secret_is_unsigned);
    suite_add_tcase(s, tc);

    tc = tcase_create("alertmanager");
    tcase_add_test(tc, test_alertmanager_firing_body_is_unchanged);
    tcase_add_test(tc, test_alertmanager_resolved_body_ends_the_alert);
    suite_add_tcase(s, tc);

    tc = tcase_create("robots");
    tcase_add_test(tc, test_wecom_posts_markdown_content);
    tcase_add_test(tc, test_dingtalk_signs_the_url_with_timestamp_and_sign);
    tcase_add_test(tc, test_dingtalk_without_secret_keeps_its_url);
    tcase_add_test(tc, test_feishu_signs_the_body_with_timestamp_and_sign);
    tcase_add_test(tc, test_wecom_errcodes);
    tcase_add_test(tc, test_dingtalk_and_feishu_codes);
    tcase_add_test(tc, test_robots_batch_and_keep_their_documented_pace);
    tcase_add_test(tc, test_every_config_format_names_a_kind);
    tcase_add_test(tc, test_who_takes_which_event);
    suite_add_tcase(s, tc);

    tc = tcase_create("answers");
    tcase_add_test(tc, test_2xx_is_done);
    tcase_add_test(tc, test_429_and_5xx_are_retried);
    tcase_add_test(tc, test_other_statuses_are_permanent);
    suite_add_tcase(s, tc);

    tc = tcase_create("configured");
    tcase_add_test(tc, test_webhooks_then_alertmanager_in_order);
    tcase_add_test(tc, test_a_webhook_wants_only_its_counties);
    tcase_add_test(tc, test_kinds_by_name);
    tcase_add_test(tc, test_sync_keeps_slots_by_name);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(receivers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
