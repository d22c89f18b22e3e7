/* SKELETON (helper: vcpu): /vcpus..., /emulatorpin. */
#include "api-internal.h"

#include "util/vd-error.h"

gboolean
vd_api_domain_vcpu_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    return FALSE;
}
