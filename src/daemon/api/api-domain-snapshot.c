/* The API's snapshot routes under /v1/domains/D/: snapshots/...: snapshot-create, list, info, dumpxml, current, parent, revert, delete.
 * (Skeleton: the routes are documented in docs/api.md.) */
#include "api-internal.h"

gboolean
vd_api_domain_snapshot_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    (void)req;
    (void)dom;
    (void)method;
    return FALSE;
}
