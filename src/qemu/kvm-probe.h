/* Does /dev/kvm really run guest kernel code at hardware speed?
 *
 * On some hosts /dev/kvm is a paravirtual back end that emulates guest
 * ring-0 code thousands of times slower and eventually fails (DESIGN.md
 * §2). The presence of /dev/kvm proves nothing, so we measure: a throwaway
 * VM created with raw KVM ioctls runs a tight loop in guest kernel mode
 * (real mode, CPL 0) for a fixed number of iterations, in a child process
 * with a deadline, and we compare the rate with what hardware
 * virtualization achieves. */
#pragma once

#include <glib.h>

typedef enum {
    VD_KVM_USABLE,          /* ran at hardware speed */
    VD_KVM_ABSENT,          /* no /dev/kvm */
    VD_KVM_NO_ACCESS,       /* cannot open /dev/kvm */
    VD_KVM_SLOW,            /* guest kernel code runs, but emulated: far too slow
                             * (also when the loop does not finish in time:
                             * detail then says the progress is unknown) */
    VD_KVM_BROKEN,          /* ioctls failed, the vCPU stopped with an error, the
                             * probe crashed, or no VM could be created in time */
} VdKvmStatus;

typedef struct {
    VdKvmStatus status;
    double iterations_per_sec;  /* measured ring-0 loop rate, 0 when not run */
    char *detail;               /* one sentence: why, and what to do */
} VdKvmProbe;

void vd_kvm_probe_free(VdKvmProbe *probe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdKvmProbe, vd_kvm_probe_free)

/* Runs the probe (blocks for at most ~2.5 s: about 1 s when KVM is slow,
 * tens of ms on hardware). @dev is "/dev/kvm" or a test override. Never
 * fails: problems are a status. Forks: call it from a worker thread or at
 * start-up, not in a loop. */
VdKvmProbe *vd_kvm_probe_run(const char *dev);

const char *vd_kvm_status_to_string(VdKvmStatus status);
