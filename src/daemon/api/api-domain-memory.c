/* SKELETON (helper: balloon): /memory... */
#include "api-internal.h"

#include "util/vd-error.h"

gboolean
vd_api_domain_memory_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    return FALSE;
}
