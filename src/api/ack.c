/* Acknowledging a county's current alert episode (SPEC §11): POST
 * /api/v1/alerts/{county}/ack with a bearer token, and the acknowledgement
 * link /ack/{token} that every message carries: GET shows a confirm page and
 * changes nothing (chat apps fetch links to preview them), POST acknowledges
 * once. Both end in alert_ack.lua, which stores the acknowledgement on the
 * episode together with its audit entry. The link's token is its own
 * credential (domain/acklink.h): the form on the page carries nothing else,
 * so another site can forge nothing it could not do with the link itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/trail.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/log.h"
#include "gradcover/core/pii.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/acklink.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"
#include "gradcover/http/authn.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"

/* Who acknowledged through a link, in the episode and the audit trail: the
 * link is a bearer credential, so the person is not known. */
#define LINK_ACTOR "ack-link"
#define LINK_ROLE "link"

/* ---- POST /api/v1/alerts/{county}/ack ---- */

static void on_acked(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err && strcmp(err, "not_firing") == 0) {
        http_reply_error(r, 409, "not_firing",
                         "the county has no firing alert to acknowledge (it is ok or pending)",
                         NULL);
        return;
    }
    bool already = err && strcmp(err, "already_acked") == 0;
    const char *ep = json_string_value(json_object_get(res, "episode"));
    const struct county_cfg *cc = config_county(r->app->cfg, r->params[0]);
    if ((err && !already) || !ep || !cc) {
        http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    if (!already)
        log_info("event=alert_acked request_id=%s county=%s episode=%s by=%s via=api", r->id,
                 cc->code, ep, r->who.name);
    json_t *comment = json_object_get(res, "comment");
    http_reply_json(r, 200,
                    json_pack("{s:s, s:{s:s, s:s}, s:o, s:O, s:O, s:b}", "id", ep, "county", "code",
                              cc->code, "name", cc->name, "acked_at",
                              jsonx_time(r->app->cfg->utc_offset_minutes,
                                         jsonx_ll(json_object_get(res, "acked_at"))),
                              "acked_by", json_object_get(res, "acked_by"), "comment",
                              json_is_string(comment) ? comment : json_null(), "already_acked",
                              already));
}

void api_alert_ack(struct req *r)
{
    const char *county = r->params[0];
    /* The body is optional: a bare POST acknowledges without a comment. */
    if (http_has_body(r) && http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    struct ack_in in;
    if (validate_ack(r->body, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    if (!config_county(r->app->cfg, county)) {
        http_reply_error(r, 404, "not_found", "no such county", NULL);
        return;
    }
    if (!auth_can_read_county(&r->who, county)) {
        http_reply_error(r, 403, "forbidden", "this token may not acknowledge that county's alerts",
                         NULL);
        return;
    }
    json_t *args = json_pack("{s:I, s:s, s:s}", "now", (json_int_t)app_now_ms(r->app), "by",
                             r->who.name, "via", "api");
    if (args && in.comment)
        json_object_set_new(args, "comment", json_string(in.comment));
    trail_attach(r, args, "alert.ack", county);
    char key[KEY_MAX];
    key_county(key, sizeof key, county);
    call_script(r, "alert_ack", key, args, on_acked);
}

/* ---- the link's pages ---- */

/* The pages' one style element; the Content-Security-Policy allows it by its
 * SHA-256 (api_ack_csp) and nothing else runs or loads. */
static const char PAGE_STYLE[] =
    "body{margin:0;background:#f4f5f7;color:#1f2328;font:16px/1.6 system-ui,-apple-system,"
    "\"PingFang SC\",\"Microsoft YaHei\",sans-serif}"
    "main{max-width:32rem;margin:0 auto;padding:1.5rem 1rem}"
    ".card{background:#fff;border-radius:.6rem;padding:1.25rem;box-shadow:0 1px 3px #0002}"
    "h1{font-size:1.35rem;margin:0}.en{color:#57606a;font-size:.9rem;margin:.2rem 0 .8rem}"
    ".ok h1{color:#1a7f37}.no h1{color:#b42318}"
    "button{width:100%;margin-top:1rem;padding:.9rem;border:0;border-radius:.5rem;"
    "background:#0969da;color:#fff;font-size:1.15rem}"
    "footer{color:#8c959f;font-size:.8rem;margin-top:1rem;text-align:center}";

int api_ack_csp(char *out, size_t n)
{
    unsigned char md[32];
    gc_sha256(PAGE_STYLE, sizeof PAGE_STYLE - 1, md);
    char b64[48];
    EVP_EncodeBlock((unsigned char *)b64, md, sizeof md);
    /* The form posts back to the page's own URL; the icon is an empty data:
     * URL (no /favicon.ico request); nothing may frame the page (the button
     * must not be clicked through an overlay) or change its base URL. */
    int w = snprintf(out, n,
                     "default-src 'none'; style-src 'sha256-%s'; img-src data:; "
                     "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                     b64);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* Appends s to w with &, <, >, " and ' escaped. */
static void html_text(struct jw *w, const char *s)
{
    for (const char *p = s; *p; p++) {
        const char *e = *p == '&'    ? "&amp;"
                        : *p == '<'  ? "&lt;"
                        : *p == '>'  ? "&gt;"
                        : *p == '"'  ? "&quot;"
                        : *p == '\'' ? "&#39;"
                                     : NULL;
        if (e)
            jw_raw(w, e, strlen(e));
        else
            jw_raw(w, p, 1);
    }
}

static void html_raw(struct jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

/* "2026-05-12 09:14" in the configured offset. */
static void short_time(const struct req *r, int64_t ms, char *out, size_t n)
{
    char full[40];
    rfc3339_format(ms, r->app->cfg->utc_offset_minutes, full, sizeof full);
    snprintf(out, n, "%.10s %.5s", full, full + 11);
}

/* What a page says: a heading and a paragraph in Chinese, then in English.
 * zh and en are HTML (built with html_text for anything not ours). */
struct page {
    int status;
    bool good; /* the green heading of a page that went as wished */
    bool form; /* the confirm button */
    const char *h_zh, *h_en;
    struct jw zh, en; /* paragraphs */
};

static void page_init(struct page *p, int status, bool good, const char *h_zh, const char *h_en)
{
    memset(p, 0, sizeof *p);
    p->status = status;
    p->good = good;
    p->h_zh = h_zh;
    p->h_en = h_en;
    jw_init(&p->zh);
    jw_init(&p->en);
}

/* Answers the page (HTML, under the pages' policy) and frees p's text. */
static void reply_page(struct req *r, struct page *p)
{
    struct jw w;
    jw_init(&w);
    html_raw(&w, "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<meta name=\"robots\" content=\"noindex\"><link rel=\"icon\" href=\"data:,\">"
                 "<title>");
    html_raw(&w, p->h_zh);
    html_raw(&w, " · gradcover</title><style>");
    html_raw(&w, PAGE_STYLE);
    html_raw(&w, "</style></head><body><main><div class=\"card ");
    html_raw(&w, p->good ? "ok" : "no");
    html_raw(&w, "\"><h1>");
    html_raw(&w, p->h_zh);
    html_raw(&w, "</h1><p class=\"en\">");
    html_raw(&w, p->h_en);
    html_raw(&w, "</p><p>");
    size_t len = 0;
    const char *t = jw_text(&p->zh, &len);
    jw_raw(&w, t ? t : "", t ? len : 0);
    html_raw(&w, "</p><p class=\"en\">");
    t = jw_text(&p->en, &len);
    jw_raw(&w, t ? t : "", t ? len : 0);
    html_raw(&w, "</p>");
    if (p->form)
        html_raw(&w, "<form method=\"post\"><button type=\"submit\">确认收到 · Acknowledge"
                     "</button></form>");
    html_raw(&w,
             "</div><footer>gradcover · 高校毕业生就业服务率监测</footer></main></body></html>\n");
    jw_free(&p->zh);
    jw_free(&p->en);
    http_add_header(r, "Content-Security-Policy", r->app->ack_csp);
    http_add_header(r, "X-Frame-Options", "DENY");
    /* The token is in the URL: never send it on as a Referer. */
    http_add_header(r, "Referrer-Policy", "no-referrer");
    if (p->status == 503) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", store_retry_after_s(r->app->store));
        http_add_header(r, "Retry-After", ra);
    }
    http_reply_text(r, p->status, "text/html; charset=utf-8", &w);
}

/* A page with a fixed text. */
static void reply_simple(struct req *r, int status, const char *h_zh, const char *h_en,
                         const char *zh, const char *en)
{
    struct page p;
    page_init(&p, status, false, h_zh, h_en);
    html_raw(&p.zh, zh);
    html_raw(&p.en, en);
    reply_page(r, &p);
}

/* Too many links that were refused from this address (authn.h). */
static void reply_throttled(struct req *r, int wait)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%d", wait);
    http_add_header(r, "Retry-After", ra);
    struct page p;
    page_init(&p, 429, false, "请稍后再试", "Too many attempts");
    html_raw(&p.zh, "从这个网络地址打开的无效或已失效链接太多。请在 ");
    html_raw(&p.zh, ra);
    html_raw(&p.zh, " 秒后再试。什么都没有改变。");
    html_raw(&p.en, "Too many invalid or spent links from this network address. Try again in ");
    html_raw(&p.en, ra);
    html_raw(&p.en, " seconds. Nothing was changed.");
    reply_page(r, &p);
}

/* A refused link counts against the client address (as a bad bearer token
 * does): true when that made it wait, and a 429 was answered instead. */
static bool throttled_after_refusal(struct req *r)
{
    int wait = authn_link_wait(r, true);
    if (wait > 0)
        reply_throttled(r, wait);
    return wait > 0;
}

static void reply_unavailable(struct req *r)
{
    reply_simple(r, 503, "暂时无法处理", "Temporarily unavailable",
                 "服务暂时无法访问数据，请稍后再打开此链接。什么都没有改变。",
                 "The service cannot reach its data right now; open this link again in a "
                 "moment. Nothing was changed.");
}

/* "商州区的告警（自 2026-05-12 09:14 起）" and its English. */
static void describe_episode(struct req *r, struct page *p, const struct county_cfg *cc,
                             int64_t started_at)
{
    char since[32];
    short_time(r, started_at, since, sizeof since);
    html_text(&p->zh, cc->name);
    html_raw(&p->zh, " 高校毕业生就业服务率低于目标的告警（自 ");
    html_raw(&p->zh, since);
    html_raw(&p->zh, " 起）");
    html_text(&p->en, cc->name);
    html_raw(&p->en, " (");
    html_raw(&p->en, cc->code);
    html_raw(&p->en, "): the alert that graduate service coverage is below target, since ");
    html_raw(&p->en, since);
}

/* The episode is over (resolved, or another one is current). */
static void reply_over(struct req *r, const struct county_cfg *cc)
{
    struct page p;
    page_init(&p, 409, false, "此告警已结束", "This alert is over");
    html_text(&p.zh, cc->name);
    html_raw(&p.zh, " 的这次告警已经结束（已恢复，或已有新的告警）。此链接只对它有效，"
                    "什么都没有改变。若仍低于目标，请使用最新消息中的链接。");
    html_text(&p.en, cc->name);
    html_raw(&p.en, "'s alert this link was made for has ended (resolved, or a newer alert "
                    "has begun). The link acknowledges that alert only; nothing was changed. "
                    "If the county is below target again, use the link in the latest message.");
    reply_page(r, &p);
}

/* Already acknowledged: by whom and when. */
static void reply_used(struct req *r, const struct county_cfg *cc, int64_t started_at,
                       const char *by, int64_t at)
{
    struct page p;
    page_init(&p, 409, false, "此告警已被确认", "Already acknowledged");
    char when[32];
    short_time(r, at, when, sizeof when);
    bool link = by && strcmp(by, LINK_ACTOR) == 0;
    describe_episode(r, &p, cc, started_at);
    html_raw(&p.zh, "已于 ");
    html_raw(&p.zh, when);
    if (link) {
        html_raw(&p.zh, " 通过确认链接确认");
    } else {
        html_raw(&p.zh, " 由 ");
        html_text(&p.zh, by ? by : "?");
        html_raw(&p.zh, " 确认");
    }
    html_raw(&p.zh, "。链接只能使用一次，这次什么都没有改变。");
    html_raw(&p.en, " was acknowledged at ");
    html_raw(&p.en, when);
    if (link) {
        html_raw(&p.en, " through an acknowledgement link");
    } else {
        html_raw(&p.en, " by ");
        html_text(&p.en, by ? by : "?");
    }
    html_raw(&p.en, ". A link works once; nothing was changed now.");
    reply_page(r, &p);
}

/* The checks both methods make before Redis: the token's form, signature
 * and expiry, its county. 0 with *l and *cc filled, or -1: answered. */
static int link_or_reply(struct req *r, struct acklink *l, const struct county_cfg **cc)
{
    if (http_id_not_personal_or_reply(r, r->params[0], "the link in the path") < 0)
        return -1;
    /* An address that sent too many bad links: refused before the check. */
    int wait = authn_link_wait(r, false);
    if (wait > 0) {
        reply_throttled(r, wait);
        return -1;
    }
    if (r->app->pii_mismatch) {
        /* Links are signed with a key derived from the PII key: with another
         * key, every genuine link would look forged. */
        reply_unavailable(r);
        return -1;
    }
    enum acklink_verdict v = acklink_check(&r->app->ack_key, r->params[0], app_now_ms(r->app), l);
    *cc = v == ACKLINK_INVALID ? NULL : config_county(r->app->cfg, l->county);
    if (v == ACKLINK_INVALID || !*cc) {
        if (throttled_after_refusal(r))
            return -1;
        reply_simple(r, 403, "链接无效", "Invalid link",
                     "这个确认链接不完整或已被改动，无法使用。什么都没有改变。"
                     "请打开消息中的原始链接。",
                     "This acknowledgement link is incomplete or has been altered. Nothing was "
                     "changed. Open the link exactly as it came in the message.");
        return -1;
    }
    if (v == ACKLINK_EXPIRED) {
        struct page p;
        page_init(&p, 410, false, "链接已过期", "Link expired");
        char when[32];
        short_time(r, l->expires_ms, when, sizeof when);
        html_raw(&p.zh, "这个确认链接已于 ");
        html_raw(&p.zh, when);
        html_raw(&p.zh, " 过期（有效期 7 天）。什么都没有改变。若告警仍在，"
                        "请使用最新消息中的链接。");
        html_raw(&p.en, "This acknowledgement link expired at ");
        html_raw(&p.en, when);
        html_raw(&p.en, " (links last 7 days). Nothing was changed. If the alert goes on, use "
                        "the link in the latest message.");
        reply_page(r, &p);
        return -1;
    }
    return 0;
}

/* GET /ack/{token}: what the link would do, changing nothing. */

static void on_viewed(struct req *r, enum store_status st, json_t *res)
{
    if (st != STORE_OK || !json_is_array(res)) {
        reply_unavailable(r);
        return;
    }
    struct acklink *l = r->state;
    const struct county_cfg *cc = config_county(r->app->cfg, l->county);
    const char *status = json_string_value(json_array_get(res, 0));
    int64_t started = jsonx_ll(json_array_get(res, 1));
    json_t *acked_at = json_array_get(res, 2);
    if (!status || strcmp(status, "firing") != 0) {
        reply_over(r, cc);
        return;
    }
    if (json_is_string(acked_at)) {
        reply_used(r, cc, started, json_string_value(json_array_get(res, 3)), jsonx_ll(acked_at));
        return;
    }
    struct page p;
    page_init(&p, 200, true, "确认收到告警", "Acknowledge the alert");
    p.form = true;
    describe_episode(r, &p, cc, started);
    html_raw(&p.zh, "。确认后，这次告警不再重复提醒；确认记入审计记录。");
    html_raw(&p.en, ". Once acknowledged, this alert is not repeated; the acknowledgement is "
                    "recorded in the audit trail.");
    reply_page(r, &p);
}

static void link_state_free(void *p)
{
    free(p);
}

void api_ack_link_get(struct req *r)
{
    struct acklink *l = calloc(1, sizeof *l);
    const struct county_cfg *cc;
    if (!l) {
        reply_unavailable(r);
        return;
    }
    r->state = l;
    r->state_free = link_state_free;
    if (link_or_reply(r, l, &cc) < 0)
        return;
    char key[KEY_MAX + ACKLINK_EPISODE_MAX];
    key_alert_episode(key, sizeof key, cc->code, l->episode);
    const char *argv[] = {"HMGET", key, "status", "started_at", "acked_at", "acked_by"};
    call_command(r, 6, argv, on_viewed);
}

/* POST /ack/{token}: acknowledges, once. */

static void on_link_acked(struct req *r, enum store_status st, json_t *res)
{
    if (st != STORE_OK) {
        reply_unavailable(r);
        return;
    }
    struct acklink *l = r->state;
    const struct county_cfg *cc = config_county(r->app->cfg, l->county);
    const char *err = json_string_value(json_object_get(res, "err"));
    int64_t started = jsonx_ll(json_object_get(res, "started_at"));
    /* Refused in Redis (and audited): counted like a bad link, so that one
     * address cannot fill the trail with refusals. */
    bool refused = err && (strcmp(err, "episode_over") == 0 || strcmp(err, "already_acked") == 0);
    if (refused && throttled_after_refusal(r))
        return;
    if (err && strcmp(err, "episode_over") == 0) {
        reply_over(r, cc);
        return;
    }
    if (err && strcmp(err, "already_acked") == 0) {
        reply_used(r, cc, started, json_string_value(json_object_get(res, "acked_by")),
                   jsonx_ll(json_object_get(res, "acked_at")));
        return;
    }
    if (err) {
        reply_unavailable(r);
        return;
    }
    log_info("event=alert_acked request_id=%s county=%s episode=%s by=" LINK_ACTOR " via=link",
             r->id, cc->code, l->episode);
    struct page p;
    page_init(&p, 200, true, "已确认", "Acknowledged");
    describe_episode(r, &p, cc, started);
    html_raw(&p.zh, "已确认，不再重复提醒。谢谢！");
    html_raw(&p.en, " is acknowledged; it will not be repeated. Thank you.");
    reply_page(r, &p);
}

void api_ack_link_post(struct req *r)
{
    struct acklink *l = calloc(1, sizeof *l);
    const struct county_cfg *cc;
    if (!l) {
        reply_unavailable(r);
        return;
    }
    r->state = l;
    r->state_free = link_state_free;
    /* The body (an empty form) is not read: the token is the credential. */
    if (link_or_reply(r, l, &cc) < 0)
        return;
    json_t *args = json_pack("{s:I, s:s, s:s, s:s}", "now", (json_int_t)app_now_ms(r->app), "by",
                             LINK_ACTOR, "via", "link", "ep", l->episode);
    trail_attach_as(r, args, LINK_ACTOR, LINK_ROLE, "alert.ack", l->episode);
    char key[KEY_MAX];
    key_county(key, sizeof key, cc->code);
    call_script(r, "alert_ack", key, args, on_link_acked);
}
