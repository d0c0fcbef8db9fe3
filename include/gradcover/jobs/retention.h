/* The retention job (docs/security.md): graduates that left `seeking` more
 * than pii_retention_days ago lose their name and phone, county by county in
 * small slices so that Redis never sees a burst. A pass runs when the store
 * becomes ready and every few hours after. */
#ifndef GRADCOVER_JOBS_RETENTION_H
#define GRADCOVER_JOBS_RETENTION_H

struct app;
struct retention;

/* Starts the job's timer on the app's loop. NULL on allocation failure. */
struct retention *retention_new(struct app *a);
void retention_free(struct retention *rt);

/* Begins a pass over every county now (unless one is under way). */
void retention_start(struct retention *rt);

#endif
