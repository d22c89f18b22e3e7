/* The argv builder's part for the domain's SMBIOS/sysinfo, watchdogs, vsock, controllers, and what this host cannot give (hostdev, launchSecurity, GL) (issue 10).
 * See conf/domain-platform.h for the model. */
#include "conf/domain-platform.h"
#include "qemu/qemu-command-priv.h"

gboolean
vd_qemu_build_platform(VdQemuCmd *cmd, GError **error)
{
    (void)cmd;
    (void)error;
    return TRUE;
}
