/* Unit tests of peers: connection counts by client address for the
 * per-address limit. Addresses normalised (IPv4-mapped IPv6 is IPv4), IPv6
 * counted by /64, the table bounded, and entries found again after many
 * insertions and removals (backward-shift deletion keeps every probe run
 * intact). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gradcover/http/peers.h"

static struct peer_addr addr(const char *s)
{
    struct peer_addr a;
    ck_assert_msg(peer_addr_parse(s, &a), "%s is an address", s);
    return a;
}

START_TEST(test_ipv4_and_mapped_ipv6_are_one_address)
{
    struct peer_addr a = addr("192.0.2.7"), b = addr("::ffff:192.0.2.7");
    ck_assert_int_eq(a.len, 4);
    ck_assert(peer_addr_equal(&a, &b));
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &sa.sin6_addr);
    struct peer_addr c;
    char text[64];
    ck_assert(peer_addr_of((struct sockaddr *)&sa, &c, text, sizeof text));
    ck_assert_str_eq(text, "192.0.2.7");
    ck_assert(peer_addr_equal(&a, &c));
}
END_TEST

START_TEST(test_non_ip_addresses_are_not_counted)
{
    struct peer_addr a;
    ck_assert(!peer_addr_parse("localhost", &a));
    ck_assert(!peer_addr_parse("", &a));
    struct sockaddr sa = {.sa_family = AF_UNIX};
    char text[64];
    ck_assert(!peer_addr_of(&sa, &a, text, sizeof text));
    ck_assert_str_eq(text, "?");
    struct peers *p = peers_new(4, 1);
    ck_assert_ptr_null(peers_get(p, &a, true));
    peers_free(p);
}
END_TEST

START_TEST(test_ipv6_counts_by_its_64_prefix)
{
    struct peers *p = peers_new(8, 42);
    struct peer_addr a = addr("2001:db8:1:2::1"), b = addr("2001:db8:1:2:ffff::9"),
                     c = addr("2001:db8:1:3::1");
    ck_assert(!peer_addr_equal(&a, &b)); /* distinct addresses (trusted-proxy checks) */
    struct peer_entry *e = peers_get(p, &a, true);
    ck_assert_ptr_nonnull(e);
    e->open = 3;
    ck_assert_uint_eq(peers_get(p, &b, false)->open, 3); /* the same /64 */
    ck_assert_ptr_null(peers_get(p, &c, false));         /* another /64 */
    peers_drop(p, &b);
    ck_assert_ptr_null(peers_get(p, &a, false));
    ck_assert_uint_eq(peers_count(p), 0);
    peers_free(p);
}
END_TEST

START_TEST(test_table_holds_at_most_max_entries)
{
    struct peers *p = peers_new(3, 7);
    struct peer_addr a = addr("10.0.0.1"), b = addr("10.0.0.2"), c = addr("10.0.0.3"),
                     d = addr("10.0.0.4");
    ck_assert_ptr_nonnull(peers_get(p, &a, true));
    ck_assert_ptr_nonnull(peers_get(p, &b, true));
    ck_assert_ptr_nonnull(peers_get(p, &c, true));
    ck_assert_ptr_null(peers_get(p, &d, true));
    ck_assert_uint_eq(peers_count(p), 3);
    peers_drop(p, &a);
    ck_assert_ptr_nonnull(peers_get(p, &d, true));
    peers_free(p);
}
END_TEST

/* Fill, drop every other entry, refill, drop the rest: every remaining entry
 * keeps its count throughout (a broken deletion loses entries behind it). */
START_TEST(test_entries_survive_many_drops)
{
    enum { N = 500 };
    struct peers *p = peers_new(N, 12345);
    struct peer_addr a[N];
    char s[32];
    for (int i = 0; i < N; i++) {
        snprintf(s, sizeof s, "10.%d.%d.1", i / 256, i % 256);
        a[i] = addr(s);
        struct peer_entry *e = peers_get(p, &a[i], true);
        ck_assert_ptr_nonnull(e);
        e->open = (unsigned)i + 1;
    }
    for (int i = 0; i < N; i += 2)
        peers_drop(p, &a[i]);
    for (int i = 0; i < N; i++) {
        struct peer_entry *e = peers_get(p, &a[i], false);
        if (i % 2 == 0)
            ck_assert_ptr_null(e);
        else
            ck_assert_msg(e && e->open == (unsigned)i + 1, "entry %d lost", i);
    }
    for (int i = 0; i < N; i += 2)
        peers_get(p, &a[i], true)->open = (unsigned)i + 1;
    for (int i = 1; i < N; i += 2)
        peers_drop(p, &a[i]);
    for (int i = 0; i < N; i += 2)
        ck_assert_msg(peers_get(p, &a[i], false)->open == (unsigned)i + 1, "entry %d lost", i);
    ck_assert_uint_eq(peers_count(p), N / 2);
    peers_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("peers");
    TCase *tc = tcase_create("peers");
    tcase_add_test(tc, test_ipv4_and_mapped_ipv6_are_one_address);
    tcase_add_test(tc, test_non_ip_addresses_are_not_counted);
    tcase_add_test(tc, test_ipv6_counts_by_its_64_prefix);
    tcase_add_test(tc, test_table_holds_at_most_max_entries);
    tcase_add_test(tc, test_entries_survive_many_drops);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
