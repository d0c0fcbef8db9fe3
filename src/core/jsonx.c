/* Helpers on jansson values (see jsonx.h). */
#include "gradcover/core/jsonx.h"

#include "gradcover/core/timeutil.h"

long long jsonx_ll(json_t *v)
{
    int64_t n = 0;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v) && parse_i64(json_string_value(v), &n))
        return n;
    return 0;
}

json_t *jsonx_from_flat(json_t *flat)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i + 1 < json_array_size(flat); i += 2) {
        json_t *k = json_array_get(flat, i);
        if (json_is_string(k))
            json_object_set(o, json_string_value(k), json_array_get(flat, i + 1));
    }
    return o;
}

json_t *jsonx_time(int offset_min, int64_t ms)
{
    char buf[40];
    rfc3339_format(ms, offset_min, buf, sizeof buf);
    return json_string(buf);
}
