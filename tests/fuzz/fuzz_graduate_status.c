/* POST /api/v1/graduates/{id}/status: body bytes -> validate_body() ->
 * validate_status(). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"

static const char *const known[] = {"status", "at", "reason", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const statuses[] = {"seeking", "employed", "not_seeking", "withdrawn"};
    char msg[96];
    json_t *body = validate_body((const char *)data, size, msg, sizeof msg);
    if (!body) {
        fuzz_check_parse_error(msg);
        fuzz_verdict(msg);
        fuzz_expect(false);
        return 0;
    }
    struct verr v = {0};
    struct status_in in;
    if (validate_status(body, FUZZ_NOW_MS, &in, &v) < 0) {
        fuzz_check_field_errors(body, v.fields, known);
        fuzz_verdict_fields(v.fields);
        fuzz_expect(false);
        goto out;
    }
    FUZZ_CHECK(!verr_any(&v) && fuzz_only_known_keys(body, known));
    bool listed = false;
    for (size_t i = 0; in.status && i < 4; i++)
        listed = listed || strcmp(in.status, statuses[i]) == 0;
    FUZZ_CHECK(listed);
    FUZZ_CHECK(!in.reason || ref_text_ok(in.reason, 200));
    FUZZ_CHECK(in.at <= FUZZ_NOW_MS);
    if (!json_is_string(json_object_get(body, "at")))
        FUZZ_CHECK(in.at == FUZZ_NOW_MS);
    fuzz_verdict("valid");
    fuzz_expect(true);
    json_t *again = fuzz_roundtrip(body);
    struct status_in in2;
    FUZZ_CHECK(validate_status(again, FUZZ_NOW_MS, &in2, &v) == 0);
    FUZZ_CHECK(strcmp(in.status, in2.status) == 0 && in.at == in2.at);
    json_decref(again);
out:
    json_decref(v.fields);
    json_decref(body);
    return 0;
}
