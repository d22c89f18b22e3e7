/* Live changes of vCPUs: setvcpus (hot-plug and hot-unplug over QMP, the
 * guest agent's online/offline), vcpuinfo, vcpupin, emulatorpin.
 *
 * vCPU N is QEMU's cpu-index N (the place of its slot in topology order).
 * The vCPU threads (query-cpus-fast's thread-id) are cached per running
 * domain and refreshed after each hot-plug, so vcpuinfo and the pins read
 * /proc and call sched_*affinity without a QMP round trip. */
#pragma once

#include <sys/types.h>

#include "daemon/hotplug/hotplug.h"

/* A QMP event of a running domain (hotplug.c hands every one). */
void vd_vcpu_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
/* The domain's QEMU ended: fail what waits on the guest, drop run-time state. */
void vd_vcpu_live_stopped(VdDomainObj *dom);
/* The domain object is being freed. */
void vd_vcpu_live_obj_free(VdDomainObj *dom);

/* Seconds a hot-unplug waits for the guest to release the CPU. */
#define VD_VCPU_UNPLUG_TIMEOUT_S 10

/* setvcpus: @count vCPUs (@maximum: the maximum, config only) in the
 * scope @live/@config (already resolved by vd_domain_affect). @done is
 * called once, possibly from inside this call (a refusal): callers pause
 * their request first. Refusals change nothing: 0 vCPUs, above the
 * maximum (virsh's words and how to raise it), --maximum with --live, a
 * change already in flight, a plug after an unplug under TCG. */
void vd_vcpu_set_count(VdDaemon *d, VdDomainObj *dom, guint count, gboolean maximum, gboolean live,
                       gboolean config, VdDomainWaitFunc done, gpointer data);
/* setvcpus --guest: onlines the first @count of the guest's CPUs and
 * offlines the others through the guest agent. */
void vd_vcpu_set_guest(VdDaemon *d, VdDomainObj *dom, guint count, VdDomainWaitFunc done,
                       gpointer data);
/* vcpucount --guest: the guest's online CPUs (agent guest-get-vcpus);
 * @done gets the count in *@out set before it is called. */
void vd_vcpu_guest_count(VdDaemon *d, VdDomainObj *dom, guint *out, VdDomainWaitFunc done,
                         gpointer data);

/* Loads the vCPU threads of running @dom if not cached, then @done. */
void vd_vcpu_threads(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer data);

typedef struct {
    guint vcpu;
    pid_t tid;
    int cpu;             /* host CPU it last ran on, -1 when unknown */
    guint64 cpu_time_ns; /* user + system */
    char *affinity;      /* "0-3" */
} VdVcpuInfo;
void vd_vcpu_info_free(VdVcpuInfo *info);
/* The vCPUs of running @dom from the cached threads (vd_vcpu_threads
 * first), by vCPU number: GPtrArray of VdVcpuInfo. */
GPtrArray *vd_vcpu_info(VdDomainObj *dom);
/* The QEMU threads' affinity that are not vCPU threads (its main
 * thread's), or NULL. */
char *vd_vcpu_emulator_affinity(VdDomainObj *dom);

/* The number of host CPUs (configured, online or not). */
guint vd_host_cpus(void);

/* vcpupin: pins vCPU @vcpu to @cpuset (normalized, checked against the
 * host) in @live (threads cached) and/or @config. */
gboolean vd_vcpu_pin(VdDaemon *d, VdDomainObj *dom, guint vcpu, const char *cpuset, gboolean live,
                     gboolean config, GError **error);
/* emulatorpin: the same for the QEMU threads that are not vCPUs. */
gboolean vd_vcpu_emulator_pin(VdDaemon *d, VdDomainObj *dom, const char *cpuset, gboolean live,
                              gboolean config, GError **error);
/* At start, once QMP is up: applies the live definition's vcpupin and
 * emulatorpin (asynchronous; a failure is logged, the guest runs). */
void vd_vcpu_live_started(VdDaemon *d, VdDomainObj *dom);
