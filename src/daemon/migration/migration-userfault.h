/* Whether the destination's QEMU can get a userfaultfd, which post-copy
 * migration needs (QEMU registers the guest's memory with it to fetch
 * missing pages from the source). An unprivileged QEMU (qemu-confine.h:
 * virtd-qemu, no capabilities) gets one only when the host allows it:
 * vm.unprivileged_userfaultfd = 1, or /dev/userfaultfd usable by QEMU's
 * user and a QEMU that opens it (8.1 and later). Debian 12 has neither
 * (the sysctl is 0, QEMU is 7.2): a post-copy migration into it is
 * refused before anything moves, naming the fixes. docs/security.md. */
#pragma once

#include <glib.h>

typedef struct {
    gboolean qemu_privileged; /* QEMU runs as root with its capabilities (--qemu-user root) */
    const char *qemu_user;    /* its user's name, for the message */
    int sysctl;               /* vm.unprivileged_userfaultfd; -1: unreadable */
    guint qemu_major, qemu_minor;
    gboolean dev_usable;      /* /dev/userfaultfd exists and QEMU's user may read-write it */
} VdUserfaultHost;

/* The pure rule: refuses post-copy into domain @name (the error names the
 * cause and the fixes) when QEMU cannot get a userfaultfd on @h. */
gboolean vd_mig_rule_userfault(const char *name, const VdUserfaultHost *h, GError **error);

/* Reads this host (QEMU's user from qemu-confine.h, the sysctl, the
 * device) for a QEMU of version @major.@minor. */
void vd_userfault_host_read(VdUserfaultHost *h, guint major, guint minor);
