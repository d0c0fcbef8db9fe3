/* PATCH /api/v1/graduates/{id}: body bytes -> validate_body() ->
 * validate_graduate_patch(). The three fields that are never corrected are
 * named with their own message; every other error is checked as for the
 * other bodies (fuzz_check_field_errors). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gradcover/domain/services.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"

static const char *const known[] = {"name",  "phone",       "school", "major", "graduation_year",
                                    "flags", "assigned_to", NULL};
static const char *const fixed[] = {"national_id", "county", "id"};
#define FIXED_MESSAGE "cannot be corrected: void the registration and register again"

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
    struct verr v = {0};
    struct graduate_patch_in in;
    if (validate_graduate_patch(body, fuzz_config(), FUZZ_NOW_MS, &in, &v) < 0) {
        json_t *rest = json_copy(body), *fields = json_copy(v.fields);
        FUZZ_CHECK(rest && fields);
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
            json_t *m = json_object_get(v.fields, fixed[i]);
            FUZZ_CHECK((m != NULL) == (json_object_get(body, fixed[i]) != NULL));
            FUZZ_CHECK(!m || strcmp(json_string_value(m), FIXED_MESSAGE) == 0);
            json_object_del(rest, fixed[i]);
            json_object_del(fields, fixed[i]);
        }
        if (json_object_size(fields) > 0)
            fuzz_check_field_errors(rest, fields, known);
        fuzz_verdict_fields(v.fields);
        fuzz_expect(false);
        json_decref(rest);
        json_decref(fields);
        goto out;
    }
    FUZZ_CHECK(!verr_any(&v) && fuzz_only_known_keys(body, known));
    FUZZ_CHECK(!in.name || ref_text_ok(in.name, 64));
    FUZZ_CHECK(!(in.phone && in.clear_phone) && !(in.school && in.clear_school));
    FUZZ_CHECK(!in.graduation_year ||
               (in.graduation_year >= 1950 && in.graduation_year <= FUZZ_TODAY_Y + 1));
    FUZZ_CHECK(in.flags < (1u << GC_NFLAGS));
    FUZZ_CHECK(in.set_flags == (json_object_get(body, "flags") != NULL));
    char text[VALIDATE_FLAGS_TEXT_MAX];
    validate_flags_text(in.flags, text, sizeof text);
    FUZZ_CHECK(strlen(text) < sizeof text - 1);
    fuzz_verdict("valid");
    fuzz_expect(true);
    json_t *again = fuzz_roundtrip(body);
    struct graduate_patch_in in2;
    FUZZ_CHECK(validate_graduate_patch(again, fuzz_config(), FUZZ_NOW_MS, &in2, &v) == 0);
    FUZZ_CHECK(in.flags == in2.flags && in.graduation_year == in2.graduation_year);
    json_decref(again);
out:
    json_decref(v.fields);
    json_decref(body);
    return 0;
}
