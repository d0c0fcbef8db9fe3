/* The API handlers; each parses and validates, calls the store, replies. */
#ifndef GRADCOVER_API_HANDLERS_H
#define GRADCOVER_API_HANDLERS_H

#include <stddef.h>

struct req;

void api_graduate_create(struct req *r);
void api_graduate_get(struct req *r);
void api_graduate_lookup(struct req *r);
void api_graduate_status(struct req *r);
/* PATCH /api/v1/graduates/{id}: corrects name, phone, school, major,
 * graduation_year, flags (graduates.c; SPEC §12, Corrections). */
void api_graduate_patch(struct req *r);
/* POST /api/v1/graduates/{id}/transfer: moves a seeking graduate to another
 * county (transfers.c; docs/design.md, "Transfers"). */
void api_graduate_transfer(struct req *r);
void api_contact_create(struct req *r);
void api_contact_list(struct req *r);
/* GET /api/v1/contacts/{contact_id} and POST .../void: one contact by its id
 * (contacts.c; SPEC §12, Corrections). */
void api_contact_get(struct req *r);
void api_contact_void(struct req *r);
void api_coverage_all(struct req *r);
void api_coverage_county(struct req *r);
void api_queue(struct req *r);
/* GET /api/v1/counties/{code}/caseloads: per-counselor counts (caseloads.c). */
void api_caseloads(struct req *r);
/* GET /api/v1/counties/{code}/history: one point per day of a period (history.c). */
void api_history(struct req *r);
/* GET /api/v1/counties/{code}/activity: contacts per counselor, 7 and 30 days (history.c). */
void api_activity(struct req *r);
void api_healthz(struct req *r);
void api_readyz(struct req *r);
/* GET /: the page, under app->dashboard_csp. */
void api_dashboard(struct req *r);
/* The page's Content-Security-Policy, from the embedded page itself: its
 * inline <script> and <style> elements allowed by their SHA-256 (CSP level 2
 * hash sources), no 'unsafe-inline'. Writes it into out (n bytes); -1 when it
 * does not fit or the page has an unclosed element. Call once, at start. */
int api_dashboard_csp(char *out, size_t n);
/* GET /counselor: the counselors' page (SPEC §12), under app->counselor_csp. */
void api_counselor_page(struct req *r);
/* Its policy, made like the dashboard's (page_csp.h). Call once, at start. */
int api_counselor_csp(char *out, size_t n);
/* GET /api/v1/openapi.json: docs/openapi.json, embedded at build time. */
void api_openapi(struct req *r);
void api_metrics(struct req *r);
void api_alerts(struct req *r);
/* POST /api/v1/alerts/{county}/ack: acknowledges the county's current
 * episode (ack.c). */
void api_alert_ack(struct req *r);
/* GET /ack/{token}: the confirm page of an acknowledgement link; changes
 * nothing. POST /ack/{token}: acknowledges, once (ack.c). */
void api_ack_link_get(struct req *r);
void api_ack_link_post(struct req *r);
/* Silences (silences.c): POST (admins, the city leader), GET (admins and
 * leaders, by scope), DELETE /api/v1/silences/{id} (as POST). */
void api_silence_create(struct req *r);
void api_silence_list(struct req *r);
void api_silence_delete(struct req *r);
/* The link pages' Content-Security-Policy (their one style element by its
 * SHA-256, a form posting to the page itself, nothing else) into out (n
 * bytes); -1 when it does not fit. Call once, at start. */
int api_ack_csp(char *out, size_t n);
void api_graduate_erase(struct req *r);
void api_token_create(struct req *r);
void api_token_list(struct req *r);
void api_token_delete(struct req *r);
void api_audit(struct req *r);
/* POST /api/v1/maintenance/rewrite-aof: BGREWRITEAOF, audited (maintenance.c). */
void api_rewrite_aof(struct req *r);

#endif
