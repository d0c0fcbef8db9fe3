/* Services, channels, outcomes and hardship flags (see services.h). */
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

const char *const gc_channels[GC_NCHANNELS] = {"in_person", "phone", "online", "sms", "home_visit"};
const char gc_channels_text[] = "in_person, phone, online, sms, home_visit";

const char *const gc_outcomes[GC_NOUTCOMES] = {"reached", "unreachable", "declined"};
const char gc_outcomes_text[] = "reached, unreachable, declined";

const char *const gc_flags[GC_NFLAGS] = {"zero_employment_family", "hardship", "disabled",
                                         "low_income"};
const char gc_flags_text[] = "zero_employment_family, hardship, disabled, low_income";

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

int outcome_index(const char *name)
{
    return index_in(name, gc_outcomes, GC_NOUTCOMES);
}

int flag_index(const char *name)
{
    return index_in(name, gc_flags, GC_NFLAGS);
}
