/* The kinds of service and the channels of SPEC §6, the outcomes of a
 * contact and the hardship flags of SPEC §12, in API order. Contacts store
 * services, channels and outcomes as their index in these lists (a few
 * bytes per contact): never reorder them, only append. */
#ifndef GRADCOVER_DOMAIN_SERVICES_H
#define GRADCOVER_DOMAIN_SERVICES_H

#define GC_NSERVICES 10
extern const char *const gc_services[GC_NSERVICES];
/* "policy_briefing, career_guidance, ..." in list order, for messages. */
extern const char gc_services_text[];

#define GC_NCHANNELS 5
extern const char *const gc_channels[GC_NCHANNELS];
extern const char gc_channels_text[];
/* A contact without a channel was in person (SPEC §6). */
#define GC_DEFAULT_CHANNEL "in_person"

/* SPEC §12: what became of a contact. Only `reached` serves the graduate;
 * the others are attempts, kept and counted but never serving. Stored as
 * the index (reached, the default, as nothing at all). */
#define GC_NOUTCOMES 3
#define GC_OUTCOME_REACHED 0
extern const char *const gc_outcomes[GC_NOUTCOMES];
extern const char gc_outcomes_text[];

/* SPEC §12: the hardship flags a graduate may carry (the ranked queue puts
 * them first). Stored by name, in this order. */
#define GC_NFLAGS 4
extern const char *const gc_flags[GC_NFLAGS];
extern const char gc_flags_text[];

/* The index of name in the list, or -1. */
int service_index(const char *name);
int channel_index(const char *name);
int outcome_index(const char *name);
int flag_index(const char *name);

#endif
