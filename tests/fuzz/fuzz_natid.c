/* National IDs (src/domain/natid.c) against a reference written from GB 11643's
 * definition in fuzz_common.c: the two must agree on every input, and what
 * is accepted is normalised and masked as documented. */
#include <string.h>

#include "fuzz.h"
#include "gradcover/domain/natid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char norm[NATID_LEN + 1];
    enum natid_err e = natid_validate(s, size, FUZZ_TODAY_DAYS, norm);
    FUZZ_CHECK((e == NATID_OK) == ref_natid_ok(s, size));
    const char *why = natid_strerror(e);
    FUZZ_CHECK(why && *why && strlen(why) < 64);
    fuzz_verdict(why);
    fuzz_expect(e == NATID_OK);
    if (e != NATID_OK) {
        FUZZ_CHECK(e == NATID_BAD_LENGTH || e == NATID_BAD_CHARS || e == NATID_BAD_BIRTH_DATE ||
                   e == NATID_BAD_CHECKSUM);
        FUZZ_CHECK((e == NATID_BAD_LENGTH) == (size != NATID_LEN));
        return 0;
    }
    FUZZ_CHECK(strlen(norm) == NATID_LEN && memcmp(norm, s, 17) == 0);
    FUZZ_CHECK(norm[17] == (s[17] == 'x' ? 'X' : s[17]));
    FUZZ_CHECK(natid_check_char(norm) == norm[17]);
    FUZZ_CHECK(natid_validate(norm, NATID_LEN, FUZZ_TODAY_DAYS, norm) == NATID_OK);
    char masked[NATID_LEN + 1];
    natid_mask(norm, masked);
    FUZZ_CHECK(strlen(masked) == NATID_LEN && memcmp(masked, norm, 6) == 0);
    FUZZ_CHECK(memcmp(masked + 6, "********", 8) == 0 && memcmp(masked + 14, norm + 14, 4) == 0);
    return 0;
}
