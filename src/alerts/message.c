/* The words of the robots' messages (see message.h): the phrases of both
 * languages side by side in one table, the numbers formatted in integers
 * (a rate is cut, never rounded, to 0.1%: 89.99% must not read as 90.0%),
 * and long lists cut to the robot's size with a count of what was left out. */
#include "gradcover/alerts/message.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"

#define DAY_MS 86400000LL

/* Every phrase, Chinese then English: T_X(zh) is a string literal either way,
 * so that the compiler checks each format against its arguments. */
#define T_FIRING(zh) ((zh) ? "%s 就业服务率低于目标" : "%s: service rate below target")
#define T_RESOLVED(zh) ((zh) ? "%s 就业服务率已达标" : "%s: service rate back on target")
#define T_REPEAT(zh)                                                                               \
    ((zh) ? "%s 仍低于目标（第 %d 次提醒）" : "%s: still below target (reminder %d)")
#define T_ESCALATION(zh)                                                                           \
    ((zh) ? "【升级】%s 低于目标已 %s，尚无人确认"                                  \
          : "[Escalation] %s: below target for %s, not acknowledged")
#define T_UNSILENCED(zh) ((zh) ? "%s 静默结束，仍低于目标" : "%s: silence over, still below target")
#define T_COUNTS(zh) ((zh) ? "服务率 %s（%lld/%lld）" : "Service rate %s (%lld/%lld)")
#define T_TARGET(zh) ((zh) ? "，目标 %s" : ", target %s")
#define T_GAP(zh) ((zh) ? "，还需服务 %llu 人" : ", %llu more to serve")
#define T_SINCE(zh) ((zh) ? "自 %s 起低于目标" : "Below target since %s")
#define T_LASTED(zh) ((zh) ? "低于目标持续 %s（%s 至 %s）" : "Below target for %s (%s to %s)")
#define T_ACK(zh) ((zh) ? "确认收到" : "Acknowledge")
#define T_DASHBOARD(zh) ((zh) ? "查看看板" : "Dashboard")
#define T_LINK_SEP(zh) ((zh) ? " · " : " · ")
#define T_PLAIN_LINK(zh) ((zh) ? "%s：%s" : "%s: %s")
#define T_BATCH_TITLE(zh)                                                                          \
    ((zh) ? "就业服务率提醒：%zu 个县区" : "Service rate alerts: %zu counties")
#define T_BATCH_SUMMARY(zh)                                                                        \
    ((zh) ? "低于目标 %zu 个，已达标 %zu 个" : "%zu below target, %zu back on target")
#define T_LINE_RESOLVED(zh) ((zh) ? "已达标 " : "back on target ")
#define T_LINE_REPEAT(zh) ((zh) ? "，第 %d 次提醒" : ", reminder %d")
#define T_LINE_ESCALATION(zh) ((zh) ? "，已 %s无人确认" : ", not acknowledged for %s")
#define T_LINE_UNSILENCED(zh) ((zh) ? "，静默已结束" : ", silence over")
#define T_PAIR(zh) ((zh) ? "（%lld/%lld）" : " (%lld/%lld)")
#define T_LASTED_SHORT(zh) ((zh) ? "，低于目标持续 %s" : ", below target for %s")
#define T_MORE(zh)                                                                                 \
    ((zh) ? "……另有 %zu 个县区，详见看板" : "... and %zu more counties: see the dashboard")
#define T_DIGEST_TITLE(zh) ((zh) ? "就业服务日报 %s" : "Daily summary %s")
#define T_DIGEST_BELOW(zh)                                                                          \
    ((zh) ? "%zu 个县区低于目标，合计还需服务 %llu 人；昨日记录服务 %lld 次" \
          : "%zu counties below target, %llu more to serve in all; %lld contacts "                  \
            "recorded yesterday")
#define T_DIGEST_NONE(zh)                                                                          \
    ((zh) ? "全部县区达到目标；昨日记录服务 %lld 次"                               \
          : "Every county on target; %lld contacts recorded yesterday")
#define T_DIGEST_COUNTY(zh)                                                                                 \
    ((zh) ? "，还需服务 %llu 人；昨日服务 %lld 次；待服务 %lld 人，最久等待 %lld 天" \
          : ", %llu more to serve; %lld contacts yesterday; %lld waiting, longest %lld "                    \
            "days")
#define T_DIGEST_OTHERS(zh) ((zh) ? "其余 %zu 个县区达到目标" : "%zu other counties on target")
#define T_DIGEST_SILENCED(zh)                                                                      \
    ((zh) ? "%zu 个县区静默中，未列出" : "%zu silenced counties not listed")
#define T_DAY(zh) ((zh) ? "%lld 天" : "%lld d")
#define T_DAYS_HOURS(zh) ((zh) ? "%lld 天 %lld 小时" : "%lld d %lld h")
#define T_HOURS(zh) ((zh) ? "%lld 小时" : "%lld h")
#define T_HOURS_MINUTES(zh) ((zh) ? "%lld 小时 %lld 分钟" : "%lld h %lld min")
#define T_MINUTES(zh) ((zh) ? "%lld 分钟" : "%lld min")
#define T_UNDER_A_MINUTE(zh) ((zh) ? "不到 1 分钟" : "under a minute")

/* ---- a growing string ---- */

struct sb {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...) GC_PRINTF(2, 3);
static void sb_printf(struct sb *b, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* ---- numbers and times ---- */

/* "81.8%": cut to 0.1%; "-" without anyone registered. */
static void fmt_rate(char *out, size_t n, long long srv, long long reg)
{
    if (reg <= 0) {
        snprintf(out, n, "-");
        return;
    }
    unsigned long long pm = (unsigned long long)srv * 1000 / (unsigned long long)reg;
    snprintf(out, n, "%llu.%llu%%", pm / 10, pm % 10);
}

/* "90%", "92.5%", "92.25%". */
static void fmt_target(char *out, size_t n, uint32_t bp)
{
    unsigned whole = bp / 100, frac = bp % 100;
    if (frac == 0)
        snprintf(out, n, "%u%%", whole);
    else if (frac % 10 == 0)
        snprintf(out, n, "%u.%u%%", whole, frac / 10);
    else
        snprintf(out, n, "%u.%02u%%", whole, frac);
}

/* "2026-05-12 09:14" in the configured offset. */
static void fmt_time(char *out, size_t n, int64_t ms, int off)
{
    int64_t local = ms + (int64_t)off * 60000;
    int64_t day = local >= 0 ? local / DAY_MS : -((-local + DAY_MS - 1) / DAY_MS);
    int64_t in_day = (local - day * DAY_MS) / 60000;
    int y;
    unsigned mo, d;
    civil_from_days(day, &y, &mo, &d);
    snprintf(out, n, "%04d-%02u-%02u %02d:%02d", y, mo, d, (int)(in_day / 60), (int)(in_day % 60));
}

static void fmt_date(char *out, size_t n, int64_t day)
{
    int y;
    unsigned mo, d;
    civil_from_days(day, &y, &mo, &d);
    snprintf(out, n, "%04d-%02u-%02u", y, mo, d);
}

/* "2 天 3 小时", "3 h 5 min", ...: two units at most, cut (not rounded). */
static void fmt_duration(char *out, size_t n, int64_t ms, bool zh)
{
    long long min = ms > 0 ? (long long)(ms / 60000) : 0;
    long long days = min / 1440, hours = min % 1440 / 60, mins = min % 60;
    if (days > 0 && hours > 0)
        snprintf(out, n, T_DAYS_HOURS(zh), days, hours);
    else if (days > 0)
        snprintf(out, n, T_DAY(zh), days);
    else if (hours > 0 && mins > 0)
        snprintf(out, n, T_HOURS_MINUTES(zh), hours, mins);
    else if (hours > 0)
        snprintf(out, n, T_HOURS(zh), hours);
    else if (mins > 0)
        snprintf(out, n, T_MINUTES(zh), mins);
    else
        snprintf(out, n, "%s", T_UNDER_A_MINUTE(zh));
}

static unsigned long long gap_of(long long srv, long long reg, uint32_t bp)
{
    if (srv < 0 || reg <= 0)
        return 0;
    return (unsigned long long)coverage_gap((uint64_t)srv, (uint64_t)reg, bp);
}

/* ---- markup ---- */

struct out {
    struct sb b;
    enum message_style style;
    bool zh;
};

static const char *nl(const struct out *o)
{
    return o->style == MESSAGE_MARKDOWN_PARA ? "\n\n" : "\n";
}

static void bold(struct out *o, const char *s)
{
    if (o->style == MESSAGE_PLAIN) {
        sb_puts(&o->b, s);
        return;
    }
    sb_puts(&o->b, "**");
    sb_puts(&o->b, s);
    sb_puts(&o->b, "**");
}

static void link(struct out *o, const char *label, const char *url)
{
    if (o->style == MESSAGE_PLAIN)
        sb_printf(&o->b, T_PLAIN_LINK(o->zh), label, url);
    else
        sb_printf(&o->b, "[%s](%s)", label, url);
}

/* "服务率 81.8%（9/11）" and, when asked, "，目标 90%" and "，还需服务 1 人". */
static void counts(struct out *o, long long srv, long long reg, uint32_t bp, bool target, bool gap)
{
    char rate[48], tgt[16];
    fmt_rate(rate, sizeof rate, srv, reg);
    sb_printf(&o->b, T_COUNTS(o->zh), rate, srv, reg);
    if (target) {
        fmt_target(tgt, sizeof tgt, bp);
        sb_printf(&o->b, T_TARGET(o->zh), tgt);
    }
    if (gap)
        sb_printf(&o->b, T_GAP(o->zh), gap_of(srv, reg, bp));
}

/* The links line: the acknowledgement (when there is one) and the dashboard. */
static void links(struct out *o, const struct receiver_message *m, const char *ack_url)
{
    if (!m->public_url)
        return;
    if (ack_url) {
        link(o, T_ACK(o->zh), ack_url);
        sb_puts(&o->b, T_LINK_SEP(o->zh));
    }
    char dash[300];
    snprintf(dash, sizeof dash, "%s/", m->public_url);
    link(o, T_DASHBOARD(o->zh), dash);
    sb_puts(&o->b, nl(o));
}

/* ---- one event ---- */

static void headline(char *out, size_t n, const struct receiver_event *ev, bool zh)
{
    char dur[64];
    switch (ev->kind) {
    case RECEIVER_FIRING:
        snprintf(out, n, T_FIRING(zh), ev->county->name);
        break;
    case RECEIVER_RESOLVED:
        snprintf(out, n, T_RESOLVED(zh), ev->county->name);
        break;
    case RECEIVER_REPEAT:
        snprintf(out, n, T_REPEAT(zh), ev->county->name, ev->repeat);
        break;
    case RECEIVER_ESCALATION:
        fmt_duration(dur, sizeof dur, ev->sent_at - ev->started_at, zh);
        snprintf(out, n, T_ESCALATION(zh), ev->county->name, dur);
        break;
    case RECEIVER_UNSILENCED:
        snprintf(out, n, T_UNSILENCED(zh), ev->county->name);
        break;
    }
}

static void one_event(struct out *o, const struct receiver_message *m)
{
    const struct receiver_event *ev = &m->events[0];
    char head[256], t0[32], t1[32], dur[64];
    headline(head, sizeof head, ev, o->zh);
    bold(o, head);
    sb_puts(&o->b, nl(o));
    counts(o, ev->served, ev->registered, ev->threshold_bp, true, !ev->resolved);
    sb_puts(&o->b, nl(o));
    fmt_time(t0, sizeof t0, ev->started_at, ev->utc_offset_minutes);
    if (ev->resolved) {
        fmt_time(t1, sizeof t1, ev->resolved_at, ev->utc_offset_minutes);
        fmt_duration(dur, sizeof dur, ev->resolved_at - ev->started_at, o->zh);
        sb_printf(&o->b, T_LASTED(o->zh), dur, t0, t1);
    } else {
        sb_printf(&o->b, T_SINCE(o->zh), t0);
    }
    sb_puts(&o->b, nl(o));
    links(o, m, ev->resolved ? NULL : ev->ack_url);
}

/* ---- several events ---- */

/* Firing kinds first, most to serve first; then the resolved; by code. */
static int by_urgency(const void *a, const void *b)
{
    const struct receiver_event *x = *(const struct receiver_event *const *)a;
    const struct receiver_event *y = *(const struct receiver_event *const *)b;
    if (x->resolved != y->resolved)
        return x->resolved ? 1 : -1;
    unsigned long long gx = x->resolved ? 0 : gap_of(x->served, x->registered, x->threshold_bp);
    unsigned long long gy = y->resolved ? 0 : gap_of(y->served, y->registered, y->threshold_bp);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    return strcmp(x->county->code, y->county->code);
}

/* One county's line of a list: "- **商州区** 低于目标 81.8%（9/11），还需服务 1 人 [确认收到](…)".
 */
static void event_line(struct out *o, const struct receiver_message *m,
                       const struct receiver_event *ev)
{
    char dur[64], rate[48];
    fmt_rate(rate, sizeof rate, ev->served, ev->registered);
    sb_puts(&o->b, "- ");
    bold(o, ev->county->name);
    sb_puts(&o->b, " ");
    if (ev->resolved)
        sb_puts(&o->b, T_LINE_RESOLVED(o->zh));
    sb_puts(&o->b, rate);
    sb_printf(&o->b, T_PAIR(o->zh), ev->served, ev->registered);
    if (ev->resolved) {
        fmt_duration(dur, sizeof dur, ev->resolved_at - ev->started_at, o->zh);
        sb_printf(&o->b, T_LASTED_SHORT(o->zh), dur);
        sb_puts(&o->b, nl(o));
        return;
    }
    sb_printf(&o->b, T_GAP(o->zh), gap_of(ev->served, ev->registered, ev->threshold_bp));
    switch (ev->kind) {
    case RECEIVER_REPEAT:
        sb_printf(&o->b, T_LINE_REPEAT(o->zh), ev->repeat);
        break;
    case RECEIVER_ESCALATION:
        fmt_duration(dur, sizeof dur, ev->sent_at - ev->started_at, o->zh);
        sb_printf(&o->b, T_LINE_ESCALATION(o->zh), dur);
        break;
    case RECEIVER_UNSILENCED:
        sb_puts(&o->b, T_LINE_UNSILENCED(o->zh));
        break;
    case RECEIVER_FIRING:
    case RECEIVER_RESOLVED:
        break;
    }
    if (m->public_url && ev->ack_url) {
        sb_puts(&o->b, " ");
        link(o, T_ACK(o->zh), ev->ack_url);
    }
    sb_puts(&o->b, nl(o));
}

/* After the header: as many of the lines as fit in max with the footer,
 * then the footer: "and N more" (when some were left out), tail (NULL:
 * none) and the links. */
static void fit_lines(struct out *o, const struct receiver_message *m, char **lines, size_t n,
                      size_t max, const char *tail)
{
    struct out foot = {.style = o->style, .zh = o->zh};
    if (tail)
        sb_puts(&foot.b, tail);
    links(&foot, m, NULL);
    size_t more_room = strlen(T_MORE(o->zh)) + 24 + strlen(nl(o));
    size_t used = o->b.len + foot.b.len, k = 0;
    for (; k < n; k++) {
        size_t l = strlen(lines[k]);
        bool last = k + 1 == n;
        if (used + l + (last ? 0 : more_room) > max)
            break;
        used += l;
    }
    for (size_t i = 0; i < k; i++)
        sb_puts(&o->b, lines[i]);
    if (k < n) {
        sb_printf(&o->b, T_MORE(o->zh), n - k);
        sb_puts(&o->b, nl(o));
    }
    if (foot.b.p)
        sb_puts(&o->b, foot.b.p);
    o->b.oom |= foot.b.oom;
    free(foot.b.p);
}

static void many_events(struct out *o, const struct receiver_message *m, size_t max)
{
    const struct receiver_event **sorted = calloc(m->n, sizeof *sorted);
    char **lines = calloc(m->n, sizeof *lines);
    if (!sorted || !lines) {
        o->b.oom = true;
        goto out_free;
    }
    size_t below = 0;
    for (size_t i = 0; i < m->n; i++) {
        sorted[i] = &m->events[i];
        below += !m->events[i].resolved;
    }
    qsort(sorted, m->n, sizeof *sorted, by_urgency);
    char head[128];
    snprintf(head, sizeof head, T_BATCH_TITLE(o->zh), m->n);
    bold(o, head);
    sb_puts(&o->b, nl(o));
    sb_printf(&o->b, T_BATCH_SUMMARY(o->zh), below, m->n - below);
    sb_puts(&o->b, nl(o));
    for (size_t i = 0; i < m->n; i++) {
        struct out line = {.style = o->style, .zh = o->zh};
        event_line(&line, m, sorted[i]);
        lines[i] = line.b.p;
        o->b.oom |= line.b.oom || !line.b.p;
    }
    if (!o->b.oom)
        fit_lines(o, m, lines, m->n, max, NULL);
out_free:
    for (size_t i = 0; lines && i < m->n; i++)
        free(lines[i]);
    free(lines);
    free(sorted);
}

/* ---- the digest ---- */

static int by_gap(const void *a, const void *b)
{
    const struct receiver_digest_county *x = *(const struct receiver_digest_county *const *)a;
    const struct receiver_digest_county *y = *(const struct receiver_digest_county *const *)b;
    unsigned long long gx = gap_of(x->served, x->registered, x->threshold_bp);
    unsigned long long gy = gap_of(y->served, y->registered, y->threshold_bp);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    return strcmp(x->county->code, y->county->code);
}

static void digest(struct out *o, const struct receiver_message *m, size_t max)
{
    const struct receiver_digest *d = m->digest;
    const struct receiver_digest_county **sorted = calloc(d->nbelow + 1, sizeof *sorted);
    char **lines = calloc(d->nbelow + 1, sizeof *lines);
    if (!sorted || !lines) {
        o->b.oom = true;
        goto out_free;
    }
    unsigned long long gap_all = 0;
    for (size_t i = 0; i < d->nbelow; i++) {
        sorted[i] = &d->below[i];
        gap_all += gap_of(d->below[i].served, d->below[i].registered, d->below[i].threshold_bp);
    }
    qsort(sorted, d->nbelow, sizeof *sorted, by_gap);
    char date[16], head[96];
    fmt_date(date, sizeof date, d->day);
    snprintf(head, sizeof head, T_DIGEST_TITLE(o->zh), date);
    bold(o, head);
    sb_puts(&o->b, nl(o));
    if (d->nbelow > 0)
        sb_printf(&o->b, T_DIGEST_BELOW(o->zh), d->nbelow, gap_all, d->yesterday_all);
    else
        sb_printf(&o->b, T_DIGEST_NONE(o->zh), d->yesterday_all);
    sb_puts(&o->b, nl(o));
    for (size_t i = 0; i < d->nbelow; i++) {
        const struct receiver_digest_county *c = sorted[i];
        struct out line = {.style = o->style, .zh = o->zh};
        sb_puts(&line.b, "- ");
        bold(&line, c->county->name);
        sb_puts(&line.b, " ");
        counts(&line, c->served, c->registered, c->threshold_bp, false, false);
        long long longest = c->oldest_ms > 0 && m->sent_at > c->oldest_ms
                                ? (long long)((m->sent_at - c->oldest_ms) / DAY_MS)
                                : 0;
        sb_printf(&line.b, T_DIGEST_COUNTY(o->zh),
                  gap_of(c->served, c->registered, c->threshold_bp), c->yesterday, c->waiting,
                  longest);
        if (m->public_url && c->ack_url) {
            sb_puts(&line.b, " ");
            link(&line, T_ACK(o->zh), c->ack_url);
        }
        sb_puts(&line.b, nl(o));
        lines[i] = line.b.p;
        o->b.oom |= line.b.oom || !line.b.p;
    }
    if (o->b.oom)
        goto out_free;
    /* What is not listed, before the links. */
    struct out tail = {.style = o->style, .zh = o->zh};
    if (d->nbelow > 0 && d->on_target > 0) {
        sb_printf(&tail.b, T_DIGEST_OTHERS(o->zh), d->on_target);
        sb_puts(&tail.b, nl(o));
    }
    if (d->silenced > 0) {
        sb_printf(&tail.b, T_DIGEST_SILENCED(o->zh), d->silenced);
        sb_puts(&tail.b, nl(o));
    }
    fit_lines(o, m, lines, d->nbelow, max, tail.b.p);
    o->b.oom |= tail.b.oom;
    free(tail.b.p);
out_free:
    for (size_t i = 0; lines && i < d->nbelow; i++)
        free(lines[i]);
    free(lines);
    free(sorted);
}

/* ---- the interface ---- */

char *message_text(const struct receiver_message *m, enum message_style style, size_t max)
{
    struct out o = {.style = style, .zh = m->lang != RECEIVER_EN};
    if (max < MESSAGE_MIN_MAX)
        max = MESSAGE_MIN_MAX;
    if (m->digest)
        digest(&o, m, max);
    else if (m->n == 1)
        one_event(&o, m);
    else if (m->n > 1)
        many_events(&o, m, max);
    if (o.b.oom || !o.b.p) {
        free(o.b.p);
        return NULL;
    }
    /* No trailing line break: robots show it as an empty last line. */
    size_t l = strlen(nl(&o));
    while (o.b.len >= l && memcmp(o.b.p + o.b.len - l, nl(&o), l) == 0) {
        o.b.len -= l;
        o.b.p[o.b.len] = '\0';
    }
    return o.b.p;
}

void message_title(const struct receiver_message *m, char *out, size_t n)
{
    bool zh = m->lang != RECEIVER_EN;
    char date[16];
    if (m->digest) {
        fmt_date(date, sizeof date, m->digest->day);
        snprintf(out, n, T_DIGEST_TITLE(zh), date);
    } else if (m->n == 1) {
        headline(out, n, &m->events[0], zh);
    } else {
        snprintf(out, n, T_BATCH_TITLE(zh), m->n);
    }
}
