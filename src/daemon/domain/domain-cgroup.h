/* Each QEMU in a cgroup of its own (issue 15), with the definition's
 * <cputune> shares/period/quota, <memtune> and <blkiotune> applied and a
 * pids limit.
 *
 * Where: below the daemon's own cgroup in every hierarchy,
 * PARTITION/machine-virtd-NAME.scope, where PARTITION is virtd.slice for
 * the system daemon and virtd-HASH.slice for a `--root DIR` instance (so
 * that test daemons never share one); NAME is escaped as systemd does
 * (the UUID when that would be too long). util/vd-cgroup.h picks cgroup
 * v1 or v2 per controller.
 *
 * When: made and limited before the fork; the child's pid is written to
 * its cgroup.procs before the child is let exec QEMU (the go pipe of
 * qemu-spawn.c), so QEMU's first instruction already runs inside; removed
 * when QEMU has ended. A restarted daemon reads a running QEMU's cgroup
 * from /proc/PID/cgroup, and removes the empty cgroups of domains that
 * no longer run. */
#pragma once

#include <glib.h>

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

/* The pids limit when the daemon is not told otherwise (--qemu-pids-max):
 * QEMU under TCG or KVM needs a thread per vCPU plus a few dozen. */
#define VD_QEMU_PIDS_MAX_DEFAULT 4096

/* Reads the host's cgroup layout once and says in the log, once, which
 * controllers are unavailable and why. @pids_max: 0 for no pids limit. */
void vd_domain_cgroups_init(VdDaemon *d, guint64 pids_max);
void vd_domain_cgroups_free(VdDaemon *d);

/* Before the spawn: makes the domain's cgroup and writes its limits
 * (dom->cgroup). A limit the definition asks for that cannot be applied
 * (controller unavailable, the kernel refuses the value) fails the start
 * with the reason; without such limits, a host without usable cgroups
 * only adds a note to @notes (the start's warnings). */
gboolean vd_domain_cgroup_prepare(VdDaemon *d, VdDomainObj *dom, const VdDomainDef *live,
                                  GPtrArray *notes, GError **error);
/* After the pid is recorded, before QEMU may exec: moves @pid in. */
gboolean vd_domain_cgroup_attach(VdDomainObj *dom, pid_t pid, GError **error);
/* QEMU has ended (or never started): removes the cgroup. */
void vd_domain_cgroup_release(VdDaemon *d, VdDomainObj *dom);
/* After a daemon restart, for a QEMU that still runs: finds its cgroup. */
void vd_domain_cgroup_reconnect(VdDaemon *d, VdDomainObj *dom);
/* After the reconnects: removes the empty cgroups no running domain owns. */
void vd_domain_cgroups_sweep(VdDaemon *d);
