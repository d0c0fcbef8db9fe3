/* POST /api/v1/contacts: body bytes -> validate_body() -> validate_contact(). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gradcover/api/counts.h"
#include "gradcover/domain/services.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"

static const char *const known[] = {"graduate_id", "service", "channel", "outcome",
                                    "occurred_at", "note",    NULL};

static bool listed(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const channels[] = {"in_person", "phone", "online", "sms", "home_visit"};
    char msg[96];
    json_t *body = validate_body((const char *)data, size, msg, sizeof msg);
    if (!body) {
        fuzz_check_parse_error(msg);
        fuzz_verdict(msg);
        fuzz_expect(false);
        return 0;
    }
    struct verr v = {0};
    struct contact_in in;
    if (validate_contact(body, FUZZ_NOW_MS, &in, &v) < 0) {
        fuzz_check_field_errors(body, v.fields, known);
        fuzz_verdict_fields(v.fields);
        fuzz_expect(false);
        goto out;
    }
    FUZZ_CHECK(!verr_any(&v) && fuzz_only_known_keys(body, known));
    FUZZ_CHECK(in.graduate_id && ref_id_ok(in.graduate_id));
    FUZZ_CHECK(in.service && listed(in.service, gc_services, GC_NSERVICES));
    FUZZ_CHECK(in.channel && listed(in.channel, channels, 5));
    FUZZ_CHECK(!in.note || ref_text_ok(in.note, 500));
    FUZZ_CHECK(in.occurred_at <= FUZZ_NOW_MS);
    fuzz_verdict("valid");
    fuzz_expect(true);
    json_t *again = fuzz_roundtrip(body);
    struct contact_in in2;
    FUZZ_CHECK(validate_contact(again, FUZZ_NOW_MS, &in2, &v) == 0);
    FUZZ_CHECK(strcmp(in.graduate_id, in2.graduate_id) == 0 && in.occurred_at == in2.occurred_at);
    FUZZ_CHECK(strcmp(in.service, in2.service) == 0 && strcmp(in.channel, in2.channel) == 0);
    json_decref(again);
out:
    json_decref(v.fields);
    json_decref(body);
    return 0;
}
