/* The kinds of service and the channels of SPEC §6, in API order. Contacts
 * store each as its index in these lists (a few bytes per contact): never
 * reorder them, only append. */
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

/* The index of name in the list, or -1. */
int service_index(const char *name);
int channel_index(const char *name);

#endif
