/* SKELETON (helper: memdev): <memory> devices, /memory-devices/... */
#include "api-internal.h"

#include "util/vd-error.h"

void
vd_api_memdev_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml, gboolean live,
       gboolean config)
{
    g_autoptr(GError) error =
        g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED, "Operation not supported: not yet (SKELETON)");
    vd_api_reply_error(req, error);
}

gboolean
vd_api_domain_memdev_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    return FALSE;
}
