/* The API's save routes under /v1/domains/D/: save, managedsave, job (domjobinfo/domjobabort).
 * (Skeleton: the routes are documented in docs/api.md.) */
#include "api-internal.h"

#include "util/vd-error.h"

gboolean
vd_api_domain_save_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    (void)req;
    (void)dom;
    (void)method;
    return FALSE;
}

/* /v1/save-images/...: restore a save image, read or change its XML
 * (vsh restore, save-image-dumpxml, save-image-define). */
void
vd_api_save_images_dispatch(VdApiRequest *req, const char *method)
{
    (void)method;
    g_autoptr(GError) error =
        g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource: save images are not implemented yet");
    vd_api_reply_error(req, error);
}
