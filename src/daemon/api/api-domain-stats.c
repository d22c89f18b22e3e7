/* SKELETON (helper: stats): /stats, /v1/domain-stats. */
#include "api-internal.h"

#include "util/vd-error.h"

gboolean
vd_api_domain_stats_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    return FALSE;
}

void
vd_api_stats_dispatch(VdApiRequest *req, const char *method)
{
    vd_api_reply_not_allowed(req, method);
}
