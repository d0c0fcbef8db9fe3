/* Services and channels (see services.h). */
#include "gradcover/domain/services.h"

#include <stddef.h>
#include <string.h>

const char *const gc_services[GC_NSERVICES] = {"policy_briefing",
                                               "career_guidance",
                                               "job_referral",
                                               "training",
                                               "internship",
                                               "entrepreneurship",
                                               "small_loan",
                                               "tax_relief",
                                               "social_insurance_subsidy",
                                               "other"};
const char gc_services_text[] = "policy_briefing, career_guidance, job_referral, training, "
                                "internship, entrepreneurship, small_loan, tax_relief, "
                                "social_insurance_subsidy, other";

const char *const gc_channels[GC_NCHANNELS] = {"in_person", "phone", "online", "sms",
                                               "home_visit"};
const char gc_channels_text[] = "in_person, phone, online, sms, home_visit";

static int index_in(const char *name, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return i;
    return -1;
}

int service_index(const char *name)
{
    return index_in(name, gc_services, GC_NSERVICES);
}

int channel_index(const char *name)
{
    return index_in(name, gc_channels, GC_NCHANNELS);
}
