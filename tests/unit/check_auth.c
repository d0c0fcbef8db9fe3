/* Unit tests of auth: bearer-token resolution against a parsed config and the
 * role/county scope rules of SPEC §6. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/core/pii.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/roles.h"

#define HOME "611002"  /* the county of the counselor and the county leader */
#define OTHER "611021" /* another configured county */

static struct config *cfg;

/* Builds and parses a config whose tokens hash the secrets used below. */
static struct config *make_config(bool anonymous_read)
{
    static const char *const secrets[] = {"admin-token", "zhang-token", "leader-token",
                                          "city-token", "grafana-token"};
    char hex[5][65];
    for (size_t i = 0; i < 5; i++)
        gc_sha256_hex(secrets[i], strlen(secrets[i]), hex[i]);
    char text[4096];
    int n =
        snprintf(text, sizeof text,
                 "{\"pii_key_file\": \"var/pii.key\", \"anonymous_read\": %s,"
                 " \"counties\": [{\"code\": \"" HOME "\", \"name\": \"商州区\"},"
                 " {\"code\": \"" OTHER "\", \"name\": \"洛南县\"}],"
                 " \"tokens\": ["
                 "  {\"name\": \"admin\", \"sha256\": \"%s\", \"role\": \"admin\"},"
                 "  {\"name\": \"zhang.counselor\", \"sha256\": \"%s\", \"role\": \"counselor\","
                 "   \"county\": \"" HOME "\"},"
                 "  {\"name\": \"shangzhou.leader\", \"sha256\": \"%s\", \"role\": \"leader\","
                 "   \"county\": \"" HOME "\"},"
                 "  {\"name\": \"city.leader\", \"sha256\": \"%s\", \"role\": \"leader\"},"
                 "  {\"name\": \"grafana\", \"sha256\": \"%s\", \"role\": \"viewer\"}]}",
                 anonymous_read ? "true" : "false", hex[0], hex[1], hex[2], hex[3], hex[4]);
    ck_assert(n > 0 && (size_t)n < sizeof text);
    char err[256] = "";
    struct config *c = config_parse(text, (size_t)n, err, sizeof err);
    ck_assert_msg(c != NULL, "config rejected: %s", err);
    return c;
}

static void setup(void)
{
    cfg = make_config(false);
}

static void setup_anonymous(void)
{
    cfg = make_config(true);
}

static void teardown(void)
{
    config_free(cfg);
    cfg = NULL;
}

/* The principal of a header that must resolve. */
static struct principal who(const char *authorization)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    ck_assert_msg(auth_resolve(cfg, authorization, &p) == AUTH_OK, "%s not resolved",
                  authorization ? authorization : "(no header)");
    return p;
}

static enum auth_result resolve(const char *authorization)
{
    struct principal p;
    return auth_resolve(cfg, authorization, &p);
}

/* token resolution */

START_TEST(test_admin_token_resolves_to_admin_of_every_county)
{
    struct principal p = who("Bearer admin-token");
    ck_assert_str_eq(p.name, "admin");
    ck_assert_int_eq(p.role, ROLE_ADMIN);
    ck_assert_str_eq(p.county, "");
}
END_TEST

START_TEST(test_counselor_token_resolves_to_its_county)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert_str_eq(p.name, "zhang.counselor");
    ck_assert_int_eq(p.role, ROLE_COUNSELOR);
    ck_assert_str_eq(p.county, HOME);
}
END_TEST

START_TEST(test_leader_token_resolves_to_its_county)
{
    struct principal p = who("Bearer leader-token");
    ck_assert_str_eq(p.name, "shangzhou.leader");
    ck_assert_int_eq(p.role, ROLE_LEADER);
    ck_assert_str_eq(p.county, HOME);
}
END_TEST

START_TEST(test_leader_token_without_county_resolves_to_all_counties)
{
    struct principal p = who("Bearer city-token");
    ck_assert_str_eq(p.name, "city.leader");
    ck_assert_int_eq(p.role, ROLE_LEADER);
    ck_assert_str_eq(p.county, "");
}
END_TEST

START_TEST(test_viewer_token_resolves_to_viewer)
{
    struct principal p = who("Bearer grafana-token");
    ck_assert_str_eq(p.name, "grafana");
    ck_assert_int_eq(p.role, ROLE_VIEWER);
    ck_assert_str_eq(p.county, "");
}
END_TEST

START_TEST(test_bearer_scheme_is_case_insensitive)
{
    struct principal p = who("bearer zhang-token");
    ck_assert_int_eq(p.role, ROLE_COUNSELOR);
}
END_TEST

START_TEST(test_unknown_token_is_looked_up_by_hash)
{
    /* Not a config token: the caller looks its SHA-256 up among API tokens. */
    struct principal p;
    ck_assert_int_eq(auth_resolve(cfg, "Bearer not-a-token", &p), AUTH_UNKNOWN);
    char hex[65];
    gc_sha256_hex("not-a-token", strlen("not-a-token"), hex);
    ck_assert_str_eq(p.tok_hex, hex);
}
END_TEST

START_TEST(test_prefix_of_a_token_is_invalid)
{
    ck_assert_int_eq(resolve("Bearer admin-toke"), AUTH_UNKNOWN);
}
END_TEST

START_TEST(test_token_hash_in_header_is_invalid)
{
    /* Only the token itself authenticates, never its stored hash. */
    char hex[65], header[80];
    gc_sha256_hex("admin-token", strlen("admin-token"), hex);
    snprintf(header, sizeof header, "Bearer %s", hex);
    ck_assert_int_eq(resolve(header), AUTH_UNKNOWN);
}
END_TEST

START_TEST(test_missing_header_is_missing)
{
    ck_assert_int_eq(resolve(NULL), AUTH_MISSING);
}
END_TEST

START_TEST(test_basic_auth_is_invalid)
{
    ck_assert_int_eq(resolve("Basic YWRtaW46YWRtaW4tdG9rZW4="), AUTH_INVALID);
}
END_TEST

START_TEST(test_bearer_without_token_is_invalid)
{
    ck_assert_int_eq(resolve("Bearer "), AUTH_INVALID);
}
END_TEST

START_TEST(test_bare_token_without_scheme_is_invalid)
{
    ck_assert_int_eq(resolve("admin-token"), AUTH_INVALID);
}
END_TEST

START_TEST(test_overlong_token_is_invalid)
{
    char header[1200];
    memcpy(header, "Bearer ", 7);
    memset(header + 7, 'a', 1100);
    header[1107] = '\0';
    ck_assert_int_eq(resolve(header), AUTH_INVALID);
}
END_TEST

/* with anonymous_read */

START_TEST(test_anonymous_read_makes_missing_header_a_viewer)
{
    struct principal p = who(NULL);
    ck_assert_int_eq(p.role, ROLE_VIEWER);
    ck_assert_str_eq(p.county, "");
    ck_assert_str_eq(p.name, "anonymous");
}
END_TEST

START_TEST(test_anonymous_read_still_rejects_unknown_token)
{
    ck_assert_int_eq(resolve("Bearer not-a-token"), AUTH_UNKNOWN);
}
END_TEST

START_TEST(test_anonymous_read_still_rejects_basic_auth)
{
    ck_assert_int_eq(resolve("Basic YWRtaW46YWRtaW4tdG9rZW4="), AUTH_INVALID);
}
END_TEST

START_TEST(test_anonymous_read_still_resolves_real_tokens)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert_int_eq(p.role, ROLE_COUNSELOR);
}
END_TEST

START_TEST(test_anonymous_viewer_sees_coverage)
{
    struct principal p = who(NULL);
    ck_assert(auth_can_see_coverage(&p, HOME));
}
END_TEST

START_TEST(test_anonymous_viewer_cannot_read_county_data)
{
    struct principal p = who(NULL);
    ck_assert(!auth_can_read_county(&p, HOME));
}
END_TEST

START_TEST(test_anonymous_viewer_cannot_write)
{
    struct principal p = who(NULL);
    ck_assert(!auth_can_write_county(&p, HOME));
}
END_TEST

/* admin */

START_TEST(test_admin_sees_coverage_of_every_county)
{
    struct principal p = who("Bearer admin-token");
    ck_assert(auth_can_see_coverage(&p, HOME));
    ck_assert(auth_can_see_coverage(&p, OTHER));
}
END_TEST

START_TEST(test_admin_reads_every_county)
{
    struct principal p = who("Bearer admin-token");
    ck_assert(auth_can_read_county(&p, HOME));
    ck_assert(auth_can_read_county(&p, OTHER));
}
END_TEST

START_TEST(test_admin_writes_every_county)
{
    struct principal p = who("Bearer admin-token");
    ck_assert(auth_can_write_county(&p, HOME));
    ck_assert(auth_can_write_county(&p, OTHER));
}
END_TEST

START_TEST(test_admin_sees_full_pii)
{
    struct principal p = who("Bearer admin-token");
    ck_assert(auth_sees_full_pii(&p, HOME));
    ck_assert(auth_sees_full_pii(&p, OTHER));
}
END_TEST

/* counselor of 611002 */

START_TEST(test_counselor_reads_own_county)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(auth_can_read_county(&p, HOME));
}
END_TEST

START_TEST(test_counselor_writes_own_county)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(auth_can_write_county(&p, HOME));
}
END_TEST

START_TEST(test_counselor_sees_full_pii_of_own_county_only)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(auth_sees_full_pii(&p, HOME));
    ck_assert(!auth_sees_full_pii(&p, OTHER));
}
END_TEST

START_TEST(test_counselor_sees_own_county_coverage)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(auth_can_see_coverage(&p, HOME));
}
END_TEST

START_TEST(test_counselor_cannot_read_other_county)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(!auth_can_read_county(&p, OTHER));
}
END_TEST

START_TEST(test_counselor_cannot_write_other_county)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(!auth_can_write_county(&p, OTHER));
}
END_TEST

START_TEST(test_counselor_cannot_see_other_county_coverage)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(!auth_can_see_coverage(&p, OTHER));
}
END_TEST

START_TEST(test_counselor_scope_is_exact_code_not_prefix)
{
    struct principal p = who("Bearer zhang-token");
    ck_assert(!auth_can_write_county(&p, "6110021"));
    ck_assert(!auth_can_read_county(&p, "61100"));
}
END_TEST

/* leader of 611002 */

START_TEST(test_leader_reads_own_county)
{
    struct principal p = who("Bearer leader-token");
    ck_assert(auth_can_read_county(&p, HOME));
}
END_TEST

START_TEST(test_leader_sees_own_county_coverage)
{
    struct principal p = who("Bearer leader-token");
    ck_assert(auth_can_see_coverage(&p, HOME));
}
END_TEST

START_TEST(test_leader_cannot_read_other_county)
{
    struct principal p = who("Bearer leader-token");
    ck_assert(!auth_can_read_county(&p, OTHER));
}
END_TEST

START_TEST(test_leader_cannot_see_other_county_coverage)
{
    struct principal p = who("Bearer leader-token");
    ck_assert(!auth_can_see_coverage(&p, OTHER));
}
END_TEST

START_TEST(test_leader_never_writes_own_county)
{
    struct principal p = who("Bearer leader-token");
    ck_assert(!auth_can_write_county(&p, HOME));
}
END_TEST

START_TEST(test_leader_sees_masked_pii_only)
{
    struct principal p = who("Bearer leader-token");
    ck_assert(!auth_sees_full_pii(&p, HOME));
}
END_TEST

/* leader without a county */

START_TEST(test_city_leader_reads_every_county)
{
    struct principal p = who("Bearer city-token");
    ck_assert(auth_can_read_county(&p, HOME));
    ck_assert(auth_can_read_county(&p, OTHER));
}
END_TEST

START_TEST(test_city_leader_sees_every_county_coverage)
{
    struct principal p = who("Bearer city-token");
    ck_assert(auth_can_see_coverage(&p, HOME));
    ck_assert(auth_can_see_coverage(&p, OTHER));
}
END_TEST

START_TEST(test_city_leader_never_writes)
{
    struct principal p = who("Bearer city-token");
    ck_assert(!auth_can_write_county(&p, HOME));
    ck_assert(!auth_can_write_county(&p, OTHER));
}
END_TEST

/* viewer */

START_TEST(test_viewer_sees_coverage_of_every_county)
{
    struct principal p = who("Bearer grafana-token");
    ck_assert(auth_can_see_coverage(&p, HOME));
    ck_assert(auth_can_see_coverage(&p, OTHER));
}
END_TEST

START_TEST(test_viewer_cannot_read_county_data)
{
    struct principal p = who("Bearer grafana-token");
    ck_assert(!auth_can_read_county(&p, HOME));
    ck_assert(!auth_can_read_county(&p, OTHER));
}
END_TEST

START_TEST(test_viewer_cannot_write)
{
    struct principal p = who("Bearer grafana-token");
    ck_assert(!auth_can_write_county(&p, HOME));
    ck_assert(!auth_can_write_county(&p, OTHER));
}
END_TEST

START_TEST(test_viewer_does_not_see_full_pii)
{
    struct principal p = who("Bearer grafana-token");
    ck_assert(!auth_sees_full_pii(&p, HOME));
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_admin_token_resolves_to_admin_of_every_county);
    tcase_add_test(tc, test_counselor_token_resolves_to_its_county);
    tcase_add_test(tc, test_leader_token_resolves_to_its_county);
    tcase_add_test(tc, test_leader_token_without_county_resolves_to_all_counties);
    tcase_add_test(tc, test_viewer_token_resolves_to_viewer);
    tcase_add_test(tc, test_bearer_scheme_is_case_insensitive);
    tcase_add_test(tc, test_unknown_token_is_looked_up_by_hash);
    tcase_add_test(tc, test_prefix_of_a_token_is_invalid);
    tcase_add_test(tc, test_token_hash_in_header_is_invalid);
    tcase_add_test(tc, test_missing_header_is_missing);
    tcase_add_test(tc, test_basic_auth_is_invalid);
    tcase_add_test(tc, test_bearer_without_token_is_invalid);
    tcase_add_test(tc, test_bare_token_without_scheme_is_invalid);
    tcase_add_test(tc, test_overlong_token_is_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("anonymous_read");
    tcase_add_checked_fixture(tc, setup_anonymous, teardown);
    tcase_add_test(tc, test_anonymous_read_makes_missing_header_a_viewer);
    tcase_add_test(tc, test_anonymous_read_still_rejects_unknown_token);
    tcase_add_test(tc, test_anonymous_read_still_rejects_basic_auth);
    tcase_add_test(tc, test_anonymous_read_still_resolves_real_tokens);
    tcase_add_test(tc, test_anonymous_viewer_sees_coverage);
    tcase_add_test(tc, test_anonymous_viewer_cannot_read_county_data);
    tcase_add_test(tc, test_anonymous_viewer_cannot_write);
    suite_add_tcase(s, tc);

    tc = tcase_create("scope");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_admin_sees_coverage_of_every_county);
    tcase_add_test(tc, test_admin_reads_every_county);
    tcase_add_test(tc, test_admin_writes_every_county);
    tcase_add_test(tc, test_admin_sees_full_pii);
    tcase_add_test(tc, test_counselor_reads_own_county);
    tcase_add_test(tc, test_counselor_writes_own_county);
    tcase_add_test(tc, test_counselor_sees_full_pii_of_own_county_only);
    tcase_add_test(tc, test_counselor_sees_own_county_coverage);
    tcase_add_test(tc, test_counselor_cannot_read_other_county);
    tcase_add_test(tc, test_counselor_cannot_write_other_county);
    tcase_add_test(tc, test_counselor_cannot_see_other_county_coverage);
    tcase_add_test(tc, test_counselor_scope_is_exact_code_not_prefix);
    tcase_add_test(tc, test_leader_reads_own_county);
    tcase_add_test(tc, test_leader_sees_own_county_coverage);
    tcase_add_test(tc, test_leader_cannot_read_other_county);
    tcase_add_test(tc, test_leader_cannot_see_other_county_coverage);
    tcase_add_test(tc, test_leader_never_writes_own_county);
    tcase_add_test(tc, test_leader_sees_masked_pii_only);
    tcase_add_test(tc, test_city_leader_reads_every_county);
    tcase_add_test(tc, test_city_leader_sees_every_county_coverage);
    tcase_add_test(tc, test_city_leader_never_writes);
    tcase_add_test(tc, test_viewer_sees_coverage_of_every_county);
    tcase_add_test(tc, test_viewer_cannot_read_county_data);
    tcase_add_test(tc, test_viewer_cannot_write);
    tcase_add_test(tc, test_viewer_does_not_see_full_pii);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
