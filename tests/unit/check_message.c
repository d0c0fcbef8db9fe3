/* Unit tests of the robots' words (alerts/message.c, SPEC §11): the exact
 * text of a firing, a resolution (how long it lasted), a repeat, an
 * escalation, the end of a silence, several counties at once (ordered by
 * urgency, cut to the robot's size with a count of the rest) and the daily
 * digest, in Chinese and English, in each robot's style. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/message.h"
#include "gradcover/domain/config.h"

static const struct county_cfg SHANGZHOU = {
    .code = "611002", .name = "商州区", .threshold_bp = 9000};
static const struct county_cfg LUONAN = {.code = "611021", .name = "洛南县", .threshold_bp = 9250};

/* 2026-05-12T09:14:03.123+08:00; 2 days, 3 hours and 5 minutes later. */
#define STARTED_MS 1778548443123LL
#define LATER_MS (STARTED_MS + ((2 * 24 + 3) * 60 + 5) * 60000LL)
#define PUBLIC "https://gc.example.gov.cn"
#define ACK PUBLIC "/ack/611002AAAAAwBqJ3hXq1n0bq0wVvQpE7b2UaYt"

static struct receiver_event firing(void)
{
    return (struct receiver_event){.event_id = "611002-2026-3:firing",
                                   .status = "firing",
                                   .kind = RECEIVER_FIRING,
                                   .county = &SHANGZHOU,
                                   .period = "2026",
                                   .registered = 11,
                                   .served = 9,
                                   .threshold_bp = 9000,
                                   .started_at = STARTED_MS,
                                   .sent_at = STARTED_MS + 5000,
                                   .utc_offset_minutes = 480,
                                   .ack_url = ACK};
}

static struct receiver_event resolved(void)
{
    struct receiver_event ev = firing();
    ev.event_id = "611021-2026-1:resolved";
    ev.status = "resolved";
    ev.resolved = true;
    ev.kind = RECEIVER_RESOLVED;
    ev.county = &LUONAN;
    ev.threshold_bp = 9250;
    ev.registered = 40;
    ev.served = 37;
    ev.resolved_at = LATER_MS;
    ev.sent_at = LATER_MS;
    ev.ack_url = NULL;
    return ev;
}

static char *text_of(const struct receiver_event *evs, size_t n, enum receiver_lang lang,
                     enum message_style style, const char *public_url, size_t max)
{
    struct receiver_message m = {.events = evs,
                                 .n = n,
                                 .lang = lang,
                                 .public_url = public_url,
                                 .sent_at = evs[0].sent_at,
                                 .utc_offset_minutes = 480};
    char *t = message_text(&m, style, max);
    ck_assert_ptr_nonnull(t);
    return t;
}

#define assert_text(got, want)                                                                     \
    do {                                                                                           \
        char *got_ = (got);                                                                        \
        ck_assert_msg(strcmp(got_, want) == 0, "text:\n%s\n--- wanted:\n%s", got_, want);          \
        free(got_);                                                                                \
    } while (0)

START_TEST(test_firing_zh_markdown_says_rate_counts_gap_since_and_links)
{
    struct receiver_event ev = firing();
    assert_text(text_of(&ev, 1, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096),
                "**商州区 就业服务率低于目标**\n"
                "服务率 81.8%（9/11），目标 90%，还需服务 1 人\n"
                "自 2026-05-12 09:14 起低于目标\n"
                "[确认收到](" ACK ") · [查看看板](" PUBLIC "/)");
}
END_TEST

START_TEST(test_firing_en)
{
    struct receiver_event ev = firing();
    assert_text(text_of(&ev, 1, RECEIVER_EN, MESSAGE_MARKDOWN, PUBLIC, 4096),
                "**商州区: service rate below target**\n"
                "Service rate 81.8% (9/11), target 90%, 1 more to serve\n"
                "Below target since 2026-05-12 09:14\n"
                "[Acknowledge](" ACK ") · [Dashboard](" PUBLIC "/)");
}
END_TEST

START_TEST(test_resolved_says_how_long_it_lasted_and_has_nothing_to_acknowledge)
{
    struct receiver_event ev = resolved();
    assert_text(text_of(&ev, 1, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096),
                "**洛南县 就业服务率已达标**\n"
                "服务率 92.5%（37/40），目标 92.5%\n"
                "低于目标持续 2 天 3 小时（2026-05-12 09:14 至 2026-05-14 12:19）\n"
                "[查看看板](" PUBLIC "/)");
    assert_text(text_of(&ev, 1, RECEIVER_EN, MESSAGE_PLAIN, PUBLIC, 4096),
                "洛南县: service rate back on target\n"
                "Service rate 92.5% (37/40), target 92.5%\n"
                "Below target for 2 d 3 h (2026-05-12 09:14 to 2026-05-14 12:19)\n"
                "Dashboard: " PUBLIC "/");
}
END_TEST

START_TEST(test_repeat_escalation_and_unsilenced_headlines)
{
    struct receiver_event ev = firing();
    ev.kind = RECEIVER_REPEAT;
    ev.repeat = 2;
    char *t = text_of(&ev, 1, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096);
    ck_assert_msg(strncmp(t, "**商州区 仍低于目标（第 2 次提醒）**\n",
                          strlen("**商州区 仍低于目标（第 2 次提醒）**\n")) == 0,
                  "%s", t);
    free(t);
    ev.kind = RECEIVER_ESCALATION;
    ev.sent_at = STARTED_MS + 26 * 3600000LL;
    t = text_of(&ev, 1, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096);
    ck_assert_msg(strstr(t, "**【升级】商州区 低于目标已 1 天 2 小时，尚无人确认**\n") == t, "%s",
                  t);
    ck_assert_ptr_nonnull(strstr(t, "[确认收到](" ACK ")"));
    free(t);
    t = text_of(&ev, 1, RECEIVER_EN, MESSAGE_MARKDOWN, PUBLIC, 4096);
    ck_assert_msg(
        strstr(t, "**[Escalation] 商州区: below target for 1 d 2 h, not acknowledged**\n") == t,
        "%s", t);
    free(t);
    ev.kind = RECEIVER_UNSILENCED;
    t = text_of(&ev, 1, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096);
    ck_assert_msg(strstr(t, "**商州区 静默结束，仍低于目标**\n") == t, "%s", t);
    free(t);
}
END_TEST

START_TEST(test_dingtalk_style_leaves_a_blank_line_between_lines)
{
    struct receiver_event ev = firing();
    assert_text(text_of(&ev, 1, RECEIVER_ZH, MESSAGE_MARKDOWN_PARA, PUBLIC, 4096),
                "**商州区 就业服务率低于目标**\n\n"
                "服务率 81.8%（9/11），目标 90%，还需服务 1 人\n\n"
                "自 2026-05-12 09:14 起低于目标\n\n"
                "[确认收到](" ACK ") · [查看看板](" PUBLIC "/)");
}
END_TEST

START_TEST(test_without_public_url_there_are_no_links)
{
    struct receiver_event ev = firing();
    assert_text(text_of(&ev, 1, RECEIVER_ZH, MESSAGE_PLAIN, NULL, 4096),
                "商州区 就业服务率低于目标\n"
                "服务率 81.8%（9/11），目标 90%，还需服务 1 人\n"
                "自 2026-05-12 09:14 起低于目标");
}
END_TEST

START_TEST(test_rate_is_cut_never_rounded_up_to_the_target)
{
    struct receiver_event ev = firing();
    ev.registered = 10000;
    ev.served = 8999; /* 89.99% */
    char *t = text_of(&ev, 1, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096);
    ck_assert_msg(strstr(t, "服务率 89.9%（8999/10000），目标 90%，还需服务 1 人") != NULL, "%s",
                  t);
    free(t);
}
END_TEST

START_TEST(test_several_counties_are_one_message_most_urgent_first)
{
    struct receiver_event evs[3] = {resolved(), firing(), firing()};
    evs[2].kind = RECEIVER_REPEAT;
    evs[2].repeat = 2;
    evs[2].served = 5; /* 6 to serve: before the firing with 1 */
    assert_text(text_of(evs, 3, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096),
                "**就业服务率提醒：3 个县区**\n"
                "低于目标 2 个，已达标 1 个\n"
                "- **商州区** 45.4%（5/11），还需服务 5 人，第 2 次提醒 [确认收到](" ACK ")\n"
                "- **商州区** 81.8%（9/11），还需服务 1 人 [确认收到](" ACK ")\n"
                "- **洛南县** 已达标 92.5%（37/40），低于目标持续 2 天 3 小时\n"
                "[查看看板](" PUBLIC "/)");
}
END_TEST

START_TEST(test_many_counties_are_cut_to_the_robots_size_with_a_count_of_the_rest)
{
    enum { N = 60 };
    static struct county_cfg counties[N];
    struct receiver_event evs[N];
    for (int i = 0; i < N; i++) {
        snprintf(counties[i].code, sizeof counties[i].code, "C%02d", i);
        counties[i].name = "测试县";
        counties[i].threshold_bp = 9000;
        evs[i] = firing();
        evs[i].county = &counties[i];
    }
    char *t = text_of(evs, N, RECEIVER_ZH, MESSAGE_MARKDOWN, PUBLIC, 4096);
    ck_assert_uint_le(strlen(t), 4096);
    size_t listed = 0;
    for (const char *p = t; (p = strstr(p, "\n- ")); p++)
        listed++;
    ck_assert_uint_gt(listed, 10);
    ck_assert_uint_lt(listed, N);
    char more[160];
    snprintf(more, sizeof more, "\n……另有 %d 个县区，详见看板\n[查看看板](" PUBLIC "/)",
             (int)(N - listed));
    ck_assert_msg(strstr(t, more) != NULL, "no \"%s\" in:\n%s", more, t);
    ck_assert(strncmp(t, "**就业服务率提醒：60 个县区**\n低于目标 60 个，已达标 0 个\n",
                      strlen("**就业服务率提醒：60 个县区**\n低于目标 60 个，已达标 0 个\n")) == 0);
    free(t);
}
END_TEST

START_TEST(test_digest_lists_counties_below_target_with_gap_yesterday_and_longest_wait)
{
    struct receiver_digest_county below[2] = {
        {.county = &LUONAN,
         .registered = 40,
         .served = 30,
         .threshold_bp = 9250,
         .yesterday = 0,
         .waiting = 10,
         .oldest_ms = STARTED_MS - 12 * 86400000LL},
        {.county = &SHANGZHOU,
         .registered = 11,
         .served = 9,
         .threshold_bp = 9000,
         .yesterday = 3,
         .waiting = 2,
         .oldest_ms = STARTED_MS - 40 * 86400000LL - 1000,
         .ack_url = ACK},
    };
    /* 2026-05-12 */
    struct receiver_digest d = {.day = 20585,
                                .below = below,
                                .nbelow = 2,
                                .on_target = 5,
                                .silenced = 1,
                                .yesterday_all = 45};
    struct receiver_message m = {
        .digest = &d, .public_url = PUBLIC, .sent_at = STARTED_MS, .utc_offset_minutes = 480};
    assert_text(message_text(&m, MESSAGE_MARKDOWN, 4096),
                "**就业服务日报 2026-05-12**\n"
                "2 个县区低于目标，合计还需服务 8 人；昨日记录服务 45 次\n"
                "- **洛南县** 服务率 75.0%（30/40），还需服务 7 人；昨日服务 0 次；待服务 10 "
                "人，最久等待 12 天\n"
                "- **商州区** 服务率 81.8%（9/11），还需服务 1 人；昨日服务 3 次；待服务 2 人，"
                "最久等待 40 天 [确认收到](" ACK ")\n"
                "其余 5 个县区达到目标\n"
                "1 个县区静默中，未列出\n"
                "[查看看板](" PUBLIC "/)");
    char title[128];
    message_title(&m, title, sizeof title);
    ck_assert_str_eq(title, "就业服务日报 2026-05-12");
    d.nbelow = 0;
    d.silenced = 0;
    m.lang = RECEIVER_EN;
    assert_text(message_text(&m, MESSAGE_PLAIN, 4096),
                "Daily summary 2026-05-12\n"
                "Every county on target; 45 contacts recorded yesterday\n"
                "Dashboard: " PUBLIC "/");
}
END_TEST

START_TEST(test_titles_are_one_line_without_markup)
{
    struct receiver_event evs[2] = {firing(), resolved()};
    struct receiver_message m = {.events = evs, .n = 1, .sent_at = STARTED_MS};
    char title[128];
    message_title(&m, title, sizeof title);
    ck_assert_str_eq(title, "商州区 就业服务率低于目标");
    m.n = 2;
    m.lang = RECEIVER_EN;
    message_title(&m, title, sizeof title);
    ck_assert_str_eq(title, "Service rate alerts: 2 counties");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("message");
    TCase *tc = tcase_create("one event");
    tcase_add_test(tc, test_firing_zh_markdown_says_rate_counts_gap_since_and_links);
    tcase_add_test(tc, test_firing_en);
    tcase_add_test(tc, test_resolved_says_how_long_it_lasted_and_has_nothing_to_acknowledge);
    tcase_add_test(tc, test_repeat_escalation_and_unsilenced_headlines);
    tcase_add_test(tc, test_dingtalk_style_leaves_a_blank_line_between_lines);
    tcase_add_test(tc, test_without_public_url_there_are_no_links);
    tcase_add_test(tc, test_rate_is_cut_never_rounded_up_to_the_target);
    suite_add_tcase(s, tc);
    tc = tcase_create("several");
    tcase_add_test(tc, test_several_counties_are_one_message_most_urgent_first);
    tcase_add_test(tc, test_many_counties_are_cut_to_the_robots_size_with_a_count_of_the_rest);
    tcase_add_test(tc, test_titles_are_one_line_without_markup);
    suite_add_tcase(s, tc);
    tc = tcase_create("digest");
    tcase_add_test(tc, test_digest_lists_counties_below_target_with_gap_yesterday_and_longest_wait);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
