/* Where a graduate is, within the caller's scope (see locate.h). */
#include "gradcover/api/locate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/app.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/roles.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

struct locate {
    struct req *r;
    located_fn then;
    bool for_write;
};

static void on_located(enum store_status st, json_t *result, void *arg)
{
    struct locate *l = arg;
    struct req *r = l->r;
    located_fn then = l->then;
    bool for_write = l->for_write;
    free(l);
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    const char *county = json_string_value(result);
    if (!county || !auth_can_read_county(&r->who, county)) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    if (for_write && !auth_can_write_county(&r->who, county)) {
        http_reply_error(r, 403, "forbidden", "this token may not change this graduate", NULL);
        return;
    }
    char c[GC_COUNTY_MAX + 1];
    snprintf(c, sizeof c, "%s", county);
    then(r, c);
}

void locate_graduate(struct req *r, const char *id, bool for_write, located_fn then)
{
    if (r->who.role == ROLE_COUNSELOR) {
        then(r, r->who.county);
        return;
    }
    struct locate *l = malloc(sizeof *l);
    if (!l) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    l->r = r;
    l->then = then;
    l->for_write = for_write;
    char key[KEY_MAX];
    key_graduate_county(key, sizeof key, id);
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, strlen(key)};
    if (store_command_within(r->app->store, call_budget_ms(r), 2, argv, lens, on_located, l) < 0) {
        free(l);
        http_reply_unavailable(r);
    }
}
