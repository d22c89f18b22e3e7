/* Shared by vcpu-live.c (the thread cache, setvcpus, the hooks) and
 * vcpu-pin.c (vcpuinfo, the pins): the run-time state hung on
 * VdDomainObj.hp_vcpu. Not for other files: they use vcpu-live.h. */
#pragma once

#include "daemon/hotplug/vcpu-live.h"

typedef struct {
    guint vcpu;
    pid_t tid;
    char *qom_path;
} VcpuThread;

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    VdDomainWaitFunc done;
    gpointer data;
} Waiter;

typedef struct _VcpuOp VcpuOp;

typedef struct {
    GArray *threads;    /* of VcpuThread, by vCPU; NULL when not loaded */
    GSList *waiters;    /* of Waiter: a query-cpus-fast in flight */
    VcpuOp *op;         /* the setvcpus --live in flight, if any */
    gboolean unplugged; /* this QEMU released a CPU (see slots_reply) */
} VcpuState;

/* @dom's state, created on first use. */
VcpuState *vd_vcpu_state(VdDomainObj *dom);
/* <vcpu current=> with its default (the maximum). */
guint vd_vcpu_current(const VdDomainDef *def);
/* The cached thread of vCPU @vcpu, or NULL (offline, or not loaded). */
const VcpuThread *vd_vcpu_thread_of(VdDomainObj *dom, guint vcpu);
/* The live definition's vcpupin and emulatorpin onto the cached threads
 * (at start, after a hot-plug); a failure is logged. */
void vd_vcpu_apply_pins(VdDomainObj *dom);
