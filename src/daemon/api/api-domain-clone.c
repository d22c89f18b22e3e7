/* The API's clone routes under /v1/domains/D/: clone, rename.
 * (Skeleton: the routes are documented in docs/api.md.) */
#include "api-internal.h"

gboolean
vd_api_domain_clone_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    (void)req;
    (void)dom;
    (void)method;
    return FALSE;
}
