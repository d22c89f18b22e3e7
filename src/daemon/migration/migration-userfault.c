/* Can the destination's QEMU get a userfaultfd (migration-userfault.h). */
#include "migration-userfault.h"

#include <sys/stat.h>
#include <unistd.h>

#include "daemon/domain/qemu-confine.h"
#include "util/vd-error.h"

#define SYSCTL_PATH "/proc/sys/vm/unprivileged_userfaultfd"
#define DEV_PATH "/dev/userfaultfd"

gboolean
vd_mig_rule_userfault(const char *name, const VdUserfaultHost *h, GError **error)
{
    if (h->qemu_privileged || h->sysctl == 1)
        return TRUE;
    /* QEMU opens /dev/userfaultfd (and its ioctl needs no privilege) only
     * from 8.1; older ones call userfaultfd(2), which the sysctl guards. */
    gboolean reads_dev = h->qemu_major > 8 || (h->qemu_major == 8 && h->qemu_minor >= 1);
    if (reads_dev && h->dev_usable)
        return TRUE;
    g_autofree char *dev_why =
        reads_dev ? g_strdup_printf("%s is missing or not read-write for user '%s'", DEV_PATH,
                                    h->qemu_user)
                  : g_strdup_printf("QEMU %u.%u does not use %s (8.1 and later do)",
                                    h->qemu_major, h->qemu_minor, DEV_PATH);
    return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                        "argument unsupported: post-copy migration of domain '%s' needs a "
                        "userfaultfd for QEMU on the destination, which runs as the unprivileged "
                        "user '%s' and cannot get one here: vm.unprivileged_userfaultfd is %d "
                        "and %s. On the destination host, either allow it "
                        "(sysctl vm.unprivileged_userfaultfd=1) or run QEMU as root "
                        "(virtd --qemu-user root); or migrate without --postcopy",
                        name, h->qemu_user, h->sysctl, dev_why);
}

void
vd_userfault_host_read(VdUserfaultHost *h, guint major, guint minor)
{
    g_autofree char *text = NULL;
    struct stat st;

    h->qemu_privileged = vd_confine_uid() == 0;
    h->qemu_user = vd_confine_user();
    h->sysctl = -1;
    if (g_file_get_contents(SYSCTL_PATH, &text, NULL, NULL))
        h->sysctl = (int)g_ascii_strtoll(text, NULL, 10);
    h->qemu_major = major;
    h->qemu_minor = minor;
    h->dev_usable = stat(DEV_PATH, &st) == 0 && S_ISCHR(st.st_mode) && vd_confine_may(&st, 6);
}
