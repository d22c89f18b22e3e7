/* The argv builder's part for the domain's TPM devices and their swtpm emulator (issue 10).
 * See conf/domain-tpm.h for the model. */
#include "conf/domain-tpm.h"
#include "qemu/qemu-command-priv.h"

gboolean
vd_qemu_build_tpm(VdQemuCmd *cmd, GError **error)
{
    (void)cmd;
    (void)error;
    return TRUE;
}
