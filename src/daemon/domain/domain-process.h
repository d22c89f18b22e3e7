/* The life of a domain's QEMU process.
 *
 * Start: check the definition can run here, resolve what QEMU needs (disk
 * formats from image headers), build the argv (qemu/qemu-command.c), spawn
 * QEMU detached (fork + setsid, qemu-spawn.c: it outlives the daemon) with its
 * output appended to the domain's log, connect QMP, finish set-up, "cont".
 * While it runs, QMP events drive the state machine and the on_poweroff /
 * on_reboot / on_crash actions. Its end is seen as QMP's EOF (QEMU is not
 * our child after a daemon restart, so we never rely on SIGCHLD).
 *
 * Every operation completes through a VdDomainWaitFunc, called once.
 */
#pragma once

#include "daemon/daemon.h"
#include "qemu/qemu-command.h"

void vd_domain_start(VdDaemon *d, VdDomainObj *dom, gboolean paused, VdDomainWaitFunc done,
                     gpointer user_data);
/* Starts with @once (taken; may be NULL) instead of the persistent
 * definition, for this run only: libvirt's createXML over a defined
 * domain, which virt-install uses for its install phase (boot the
 * installer once, then the disk on every later start). */
void vd_domain_start_with(VdDaemon *d, VdDomainObj *dom, VdDomainDef *once, gboolean paused,
                          VdDomainWaitFunc done, gpointer user_data);
/* A start that brings a saved state back instead of booting the guest
 * (restore, a managed save, a snapshot revert; later an incoming
 * migration). The start runs as any other (files, taps, spawn with -S,
 * QMP set-up: passwords, links, balloon), then, before "cont", calls
 * load(); the guest resumes only when load's done() reports success (or
 * stays paused with @paused). A failure of load() fails the start: QEMU is
 * killed, the domain is "shut off (failed)", and the saved state is
 * untouched. finish() is called exactly once, when the start has ended
 * either way (also when it fails before QEMU exists), and frees @self. */
typedef struct _VdStartRestore VdStartRestore;
typedef void (*VdStartRestoreDone)(VdDomainObj *dom, const GError *error, gpointer start);
struct _VdStartRestore {
    gboolean incoming;           /* QEMU starts with "-incoming defer" (a migration stream) */
    VdStateReason running_reason; /* the reason once running: VD_REASON_RESTORED,
                                   * VD_REASON_FROM_SNAPSHOT */
    VdStateReason paused_reason;  /* set by load() before it answers: no "cont", the
                                   * domain stays paused for this reason (an incoming
                                   * post-copy that broke before the guest ran here) */
    void (*load)(VdStartRestore *self, VdDomainObj *dom, VdStartRestoreDone done,
                 gpointer start);
    void (*finish)(VdStartRestore *self, VdDomainObj *dom, const GError *error);
};
/* Starts @dom from @def (taken; NULL: the persistent definition) for this
 * run only, and @restore (taken) loads its state before "cont". */
void vd_domain_start_restore(VdDaemon *d, VdDomainObj *dom, VdDomainDef *def,
                             VdStartRestore *restore, gboolean paused, VdDomainWaitFunc done,
                             gpointer user_data);
/* What a start checks about the host for @def before anything else: QEMU
 * usable (capabilities probed), KVM usable for <domain type='kvm'>. The
 * same errors as start (vsh domcheck lists them as blockers). */
gboolean vd_domain_start_check_host(VdDaemon *d, const VdDomainDef *def, GError **error);
/* The run paths a start gives the builder for @live, so that domcheck
 * builds the same argv: the sockets and log named (no pid file: the
 * daemon writes it), paused, the
 * accelerator, the fast firmware, @live's UEFI loader and store, the
 * host's facts. What only a start makes (tap and vsock descriptors, the
 * swtpm socket, a cached kernel) is the caller's to add. Borrows every
 * string. */
VdQemuRunPaths vd_domain_run_paths(VdDaemon *d, const VdDomainDef *live, const char *qmp,
                                   const char *console, const char *console_log);
/* Pull the plug: SIGTERM, SIGKILL after 5 s; completes once QEMU is gone. */
void vd_domain_destroy(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data);
/* ACPI power button; completes when QEMU accepted it. */
void vd_domain_shutdown(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data);
/* ACPI power button, then a reset instead of the power-off (as libvirt's
 * "fake reboot"); completes when QEMU accepted the button press. */
void vd_domain_reboot(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data);
void vd_domain_reset(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data);
void vd_domain_suspend(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data);
void vd_domain_resume(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data);

/* At daemon start: re-attach to the QEMU of every domain with a status
 * file, or record that it died. Then autostart. */
void vd_domains_reconnect_all(VdDaemon *d);
void vd_domains_autostart(VdDaemon *d);
