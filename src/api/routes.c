/* The route table (see routes.h). One row per method and path: who may call
 * it is decided here, before the handler runs; what a caller may see of a
 * county (its scope) is decided by the handler. */
#include "gradcover/api/routes.h"

#include "gradcover/api/handlers.h"
#include "gradcover/domain/roles.h"

#define ADMIN ROLE_BIT(ROLE_ADMIN)
#define LEADER ROLE_BIT(ROLE_LEADER)

/* The query parameters each route takes (router.h: anything else is a 400). */
#define Q_NONE NULL
static const char *const Q_LOOKUP[] = {"national_id", "county", "q",           "status",
                                       "cursor",      "limit",  "assigned_to", NULL};
static const char *const Q_PERIOD[] = {"period", NULL};
static const char *const Q_QUEUE[] = {"limit",  "view",   "assigned_to", "sort",
                                      "cursor", "format", NULL};
/* Routes with spreadsheet exports (api/export.h) also take format. */
static const char *const Q_PERIOD_EXPORT[] = {"period", "format", NULL};
static const char *const Q_ALERTS[] = {"state", "county", "limit", NULL};
static const char *const Q_AUDIT[] = {"county", "since", "after", "limit", NULL};

/* Why each group of roles is refused, as the 403 says it. */
#define NOT_WRITER "this token may not change graduates"
#define NOT_READER "viewers see aggregates only"
#define NOT_SILENCER "only admins and the city leader silence alerts"

const struct route api_routes[] = {
    /* method, path, who may call it, the 403 for anyone else, handler,
     * ROUTE_WRITES for writes and reads of personal data (audited), and the
     * query parameters it takes (Q_NONE: none) */
    {EVHTTP_REQ_GET, "/healthz", ROUTE_PUBLIC, NULL, api_healthz, 0, Q_NONE},
    {EVHTTP_REQ_GET, "/readyz", ROUTE_PUBLIC, NULL, api_readyz, 0, Q_NONE},
    {EVHTTP_REQ_GET, "/", ROUTE_PUBLIC, NULL, api_dashboard, 0, Q_NONE},
    /* SPEC §12: the counselors' page; it holds no data (the API checks the
     * token it is given). */
    {EVHTTP_REQ_GET, "/counselor", ROUTE_PUBLIC, NULL, api_counselor_page, 0, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/openapi.json", ROUTE_PUBLIC, NULL, api_openapi, 0, Q_NONE},
    /* Acknowledgement links: the token in the path is the credential. */
    {EVHTTP_REQ_GET, "/ack/{token}", ROUTE_PUBLIC, NULL, api_ack_link_get, 0, Q_NONE},
    {EVHTTP_REQ_POST, "/ack/{token}", ROUTE_PUBLIC, NULL, api_ack_link_post, ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/metrics", ROLES_ALL, NULL, api_metrics, 0, Q_NONE},
    {EVHTTP_REQ_POST, "/api/v1/graduates", ROLES_WRITERS, "this token may not register graduates",
     api_graduate_create, ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/graduates", ROLES_READERS, NOT_READER, api_graduate_lookup,
     ROUTE_WRITES, Q_LOOKUP},
    {EVHTTP_REQ_GET, "/api/v1/graduates/{id}", ROLES_READERS, NOT_READER, api_graduate_get,
     ROUTE_WRITES, Q_NONE},
    /* SPEC §12: corrections of a record by who may change the graduate. */
    {EVHTTP_REQ_PATCH, "/api/v1/graduates/{id}", ROLES_WRITERS, NOT_WRITER, api_graduate_patch,
     ROUTE_WRITES, Q_NONE},
    /* SPEC §12 / docs/design.md "Transfers": admins and the city leader (the
     * handler refuses a county's leader). */
    {EVHTTP_REQ_POST, "/api/v1/graduates/{id}/transfer", ADMIN | LEADER,
     "only admins and the city leader transfer graduates", api_graduate_transfer, ROUTE_WRITES,
     Q_NONE},
    {EVHTTP_REQ_POST, "/api/v1/graduates/{id}/status", ROLES_WRITERS, NOT_WRITER,
     api_graduate_status, ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/graduates/{id}/contacts", ROLES_READERS, NOT_READER, api_contact_list,
     ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_POST, "/api/v1/contacts", ROLES_WRITERS, "this token may not record contacts",
     api_contact_create, ROUTE_WRITES, Q_NONE},
    /* SPEC §12: a contact by its id (its note is personal data: audited),
     * and its void: counselors of the county within 7 days of recording it
     * (checked by the script), admins at any time. */
    {EVHTTP_REQ_GET, "/api/v1/contacts/{contact_id}", ROLES_READERS, NOT_READER, api_contact_get,
     ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_POST, "/api/v1/contacts/{contact_id}/void", ROLES_WRITERS,
     "this token may not void contacts", api_contact_void, ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/coverage", ROLES_ALL, NULL, api_coverage_all, 0, Q_PERIOD_EXPORT},
    {EVHTTP_REQ_GET, "/api/v1/counties/{code}/coverage", ROLES_ALL, NULL, api_coverage_county, 0,
     Q_PERIOD},
    {EVHTTP_REQ_GET, "/api/v1/alerts", ADMIN | LEADER, "alerts are for leaders and admins",
     api_alerts, 0, Q_ALERTS},
    /* SPEC §11: admins, and leaders whose scope holds the county (checked
     * by the handler). */
    {EVHTTP_REQ_POST, "/api/v1/alerts/{county}/ack", ADMIN | LEADER,
     "only leaders and admins acknowledge alerts", api_alert_ack, ROUTE_WRITES, Q_NONE},
    /* SPEC §11: admins and the city leader (a leader without a county,
     * checked by the handler) silence; every leader sees the silences of
     * their scope. */
    {EVHTTP_REQ_POST, "/api/v1/silences", ADMIN | LEADER, NOT_SILENCER, api_silence_create,
     ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/silences", ADMIN | LEADER, "silences are for leaders and admins",
     api_silence_list, 0, Q_NONE},
    {EVHTTP_REQ_DELETE, "/api/v1/silences/{id}", ADMIN | LEADER, NOT_SILENCER, api_silence_delete,
     ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/counties/{code}/queue", ROLES_READERS, NOT_READER, api_queue,
     ROUTE_WRITES, Q_QUEUE},
    /* SPEC §12, caseloads: leaders (and admins) see each counselor's counts. */
    {EVHTTP_REQ_GET, "/api/v1/counties/{code}/caseloads", ADMIN | LEADER,
     "only admins and leaders see caseloads", api_caseloads, 0, Q_NONE},
    /* A county's coverage day by day: whoever may read its coverage may read
     * its past (the same numbers, which a viewer could have polled itself). */
    {EVHTTP_REQ_GET, "/api/v1/counties/{code}/history", ROLES_ALL, NULL, api_history, 0,
     Q_PERIOD_EXPORT},
    /* Contacts per counselor: about staff, for the leaders of the county. */
    {EVHTTP_REQ_GET, "/api/v1/counties/{code}/activity", ADMIN | LEADER,
     "counselors' activity is for leaders and admins", api_activity, 0, Q_NONE},
    {EVHTTP_REQ_DELETE, "/api/v1/graduates/{id}", ADMIN, "only admins erase personal data",
     api_graduate_erase, ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_POST, "/api/v1/tokens", ADMIN, "only admins manage tokens", api_token_create,
     ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/tokens", ADMIN, "only admins manage tokens", api_token_list, 0,
     Q_NONE},
    {EVHTTP_REQ_DELETE, "/api/v1/tokens/{name}", ADMIN, "only admins manage tokens",
     api_token_delete, ROUTE_WRITES, Q_NONE},
    {EVHTTP_REQ_GET, "/api/v1/audit", ADMIN | LEADER,
     "only admins and leaders read the audit trail", api_audit, 0, Q_AUDIT},
    {EVHTTP_REQ_POST, "/api/v1/maintenance/rewrite-aof", ADMIN,
     "only admins run maintenance on the data store", api_rewrite_aof, ROUTE_WRITES, Q_NONE},
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
