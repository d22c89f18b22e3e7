/* The API's blockjob routes under /v1/domains/D/: disks/TARGET/commit|pull, blockjobs/TARGET.
 * (Skeleton: the routes are documented in docs/api.md.) */
#include "api-internal.h"

gboolean
vd_api_domain_blockjob_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    (void)req;
    (void)dom;
    (void)method;
    return FALSE;
}
