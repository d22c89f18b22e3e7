/* SKELETON (helper: disk): <disk> and <controller> devices, /disks/... routes. */
#include "api-internal.h"

#include "util/vd-error.h"

void
vd_api_disk_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml, gboolean live,
       gboolean config)
{
    g_autoptr(GError) error =
        g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED, "Operation not supported: not yet (SKELETON)");
    vd_api_reply_error(req, error);
}

void
vd_api_controller_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml, gboolean live,
       gboolean config)
{
    g_autoptr(GError) error =
        g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED, "Operation not supported: not yet (SKELETON)");
    vd_api_reply_error(req, error);
}

gboolean
vd_api_domain_disk_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    return FALSE;
}
