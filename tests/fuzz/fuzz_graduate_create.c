/* POST /api/v1/graduates: body bytes -> validate_body() -> validate_graduate(),
 * as an admin (county required) and as a counselor of 611002. A body that
 * validates has every required field, each passing an independent check; one
 * that does not names only real fields, with fixed messages. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"

static const char *const known[] = {
    "id",    "county",          "name",          "national_id", "phone", "school",
    "major", "graduation_year", "registered_at", "assigned_to", NULL};

/* Earliest instant rfc3339_parse() accepts: 2000-01-01T00:00:00+14:00. */
#define EARLIEST_MS (946684800000LL - 14 * 3600 * 1000LL)

static bool phone_ref(const char *p)
{
    size_t n = strlen(p);
    if (n < 5 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(p[i] >= '0' && p[i] <= '9') && p[i] != '-' && !(p[i] == '+' && i == 0))
            return false;
    return true;
}

static void check_valid(json_t *body, const char *own, const struct graduate_in *in)
{
    FUZZ_CHECK(fuzz_only_known_keys(body, known));
    FUZZ_CHECK(in->name && ref_text_ok(in->name, 64));
    FUZZ_CHECK(in->name == json_string_value(json_object_get(body, "name")));
    FUZZ_CHECK(in->county && config_county(fuzz_config(), in->county));
    if (!json_is_string(json_object_get(body, "county")))
        FUZZ_CHECK(own && strcmp(in->county, own) == 0);
    FUZZ_CHECK(!in->id || (ref_id_ok(in->id) && !ref_personal_id(in->id)));
    FUZZ_CHECK(!in->id == !json_is_string(json_object_get(body, "id")));
    FUZZ_CHECK(!in->phone || phone_ref(in->phone));
    FUZZ_CHECK(!in->school || ref_text_ok(in->school, 100));
    FUZZ_CHECK(!in->major || ref_text_ok(in->major, 100));
    FUZZ_CHECK(in->graduation_year == 0 ||
               (in->graduation_year >= 1950 && in->graduation_year <= FUZZ_TODAY_Y + 1));
    FUZZ_CHECK(in->registered_at >= EARLIEST_MS && in->registered_at <= FUZZ_NOW_MS);
    /* The national ID: the body's, normalised, and right by the definition. */
    const char *raw = json_string_value(json_object_get(body, "national_id"));
    FUZZ_CHECK(raw && strlen(raw) == 18 && strlen(in->national_id) == 18);
    FUZZ_CHECK(ref_natid_ok(in->national_id, 18));
    FUZZ_CHECK(memcmp(raw, in->national_id, 17) == 0 &&
               (raw[17] == in->national_id[17] || (raw[17] == 'x' && in->national_id[17] == 'X')));
}

static bool one(json_t *body, const char *own)
{
    struct verr v = {0};
    struct graduate_in in;
    if (validate_graduate(body, fuzz_config(), own, FUZZ_NOW_MS, &in, &v) < 0) {
        fuzz_check_field_errors(body, v.fields, known);
        fuzz_verdict_fields(v.fields);
        json_decref(v.fields);
        return false;
    }
    FUZZ_CHECK(!verr_any(&v));
    check_valid(body, own, &in);
    fuzz_verdict("valid");
    /* The same body sent again validates to the same fields. */
    json_t *again = fuzz_roundtrip(body);
    struct graduate_in in2;
    FUZZ_CHECK(validate_graduate(again, fuzz_config(), own, FUZZ_NOW_MS, &in2, &v) == 0);
    FUZZ_CHECK(strcmp(in.name, in2.name) == 0 && strcmp(in.county, in2.county) == 0);
    FUZZ_CHECK(strcmp(in.national_id, in2.national_id) == 0);
    FUZZ_CHECK(in.registered_at == in2.registered_at);
    FUZZ_CHECK(in.graduation_year == in2.graduation_year);
    json_decref(again);
    json_decref(v.fields);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[96];
    json_t *body = validate_body((const char *)data, size, msg, sizeof msg);
    if (!body) {
        fuzz_check_parse_error(msg);
        fuzz_verdict(msg);
        fuzz_expect(false);
        return 0;
    }
    /* Seeds hold to their name as an admin; a counselor may leave out county. */
    bool admin = one(body, NULL);
    bool counselor = one(body, "611002");
    fuzz_expect(admin);
    FUZZ_CHECK(counselor || !admin);
    json_decref(body);
    return 0;
}
