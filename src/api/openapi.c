/* GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API, embedded
 * at build time from docs/openapi.json (the file the integration tests check
 * every answer against), served as it is. */
#include "gradcover/api/handlers.h"
#include "gradcover/http/request.h"

#include <stddef.h>

extern const char gc_openapi_json[];
extern const size_t gc_openapi_json_len;

void api_openapi(struct req *r)
{
    http_reply_raw(r, 200, "application/json; charset=utf-8", gc_openapi_json, gc_openapi_json_len);
}
