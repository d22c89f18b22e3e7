/* Live changes to a domain (issue 11): what disks, vCPUs, memory and
 * memory devices share, and the hooks the process code calls.
 *
 * The files of this folder, one per class of live change:
 *   hotplug.c      the scope rule, the config edit, the QMP event and
 *                  stop hooks (this header)
 *   disk-live.c    disks and cdrom media: attach, detach, change-media,
 *                  blockresize, domblkinfo; SCSI controllers (disk-live.h)
 *   pci-slot.c     the free hot-plug slot of q35 (a pcie-root-port) for a
 *                  PCI device, shared by disks, NICs and memory devices
 *   vcpu-live.c    setvcpus, vcpuinfo, vcpupin, emulatorpin (vcpu-live.h)
 *   balloon.c      setmem, setmaxmem, dommemstat (balloon.h)
 *   memdev-live.c  DIMM and virtio-mem devices (memdev-live.h)
 * Interfaces came first and live in domain/domain-net-live.c.
 *
 * The rules every live change follows (docs/hot-expansion.md):
 *   - the scope is virsh's: vd_domain_affect();
 *   - a live change updates dom->live and the status file only once QEMU
 *     has answered (vd_domain_live_save), so a failure leaves the live
 *     definition as QEMU has it and a daemon restart keeps what was done;
 *   - a config change goes through vd_domain_config_edit(): a copy of the
 *     persistent definition edited, validated and written atomically, so
 *     a change that would not define changes nothing;
 *   - with both, config is checked first (it cannot fail half-way), then
 *     the live change runs, then config is written;
 *   - a live operation first asks vd_domain_obj_check(dom, VD_OP_CONSOLE)
 *     (busy during a start or destroy, refused when not running).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "daemon/daemon.h"

/* virsh's scope: with neither @live nor @config, the current state (live
 * when running, else config). Refuses a live change on a shut-off domain
 * and a config change of a transient one, with virsh's wording. */
gboolean vd_domain_affect(VdDomainObj *dom, gboolean *live, gboolean *config, GError **error);

/* Edits a copy of the persistent definition with @edit, validates it and
 * defines it (written atomically). Nothing changes when any step fails. */
typedef gboolean (*VdDomainConfigEdit)(VdDomainDef *def, gpointer data, GError **error);
gboolean vd_domain_config_edit(VdDaemon *d, VdDomainObj *dom, VdDomainConfigEdit edit,
                               gpointer data, GError **error);
/* Whether @edit would succeed on the persistent definition (nothing is
 * written): the check made before a live change that also goes to config. */
gboolean vd_domain_config_check(VdDomainObj *dom, VdDomainConfigEdit edit, gpointer data,
                                GError **error);

/* Writes the status file after a live change to dom->live. */
gboolean vd_domain_live_save(VdDaemon *d, VdDomainObj *dom, GError **error);
/* vd_domain_live_save once QEMU has made the change: a failure is only
 * logged ("domain 'x': cannot record @what: ..."), the change stays. */
void vd_hotplug_live_record(VdDaemon *d, VdDomainObj *dom, const char *what);

/* What the steps of a QMP chain share. */
/* "operation failed: domain 'x' stopped meanwhile" unless the domain still
 * runs with QMP connected: asked before each command of a chain. */
gboolean vd_hotplug_qmp_ready(VdDomainObj *dom, GError **error);
/* vd_qmp_command when vd_hotplug_qmp_ready, else @args dropped and FALSE
 * with its error: a step of a chain that the stopping domain ends. */
/* query-block when vd_hotplug_qmp_ready, its file names read back as
 * the daemon's paths (qemu/qemu-fdset-paths.h), else FALSE. */
gboolean vd_hotplug_live_query_block(VdDomainObj *dom, VdQmpReplyFunc reply, gpointer data,
                                     GError **error);
gboolean vd_hotplug_live_command(VdDomainObj *dom, const char *name, JsonObject *args,
                                 VdQmpReplyFunc reply, gpointer data, GError **error);
/* "operation failed: domain 'x' stopped during the detach": the error of
 * a detach still waiting on the guest when QEMU ends. */
GError *vd_hotplug_detach_stopped(VdDomainObj *dom);
/* QEMU's @error as VD_ERROR_OPERATION_FAILED ("operation failed: ..."). */
GError *vd_hotplug_qmp_error(const GError *error);
/* {"@key": "@value"}: the arguments of most QMP commands. */
JsonObject *vd_hotplug_args(const char *key, const char *value);

/* Called by domain-process.c for every QMP event of a running domain
 * (DEVICE_DELETED, BALLOON_CHANGE, MEMORY_DEVICE_SIZE_CHANGE,
 * ACPI_DEVICE_OST, DEVICE_UNPLUG_GUEST_ERROR ...): hands it to each class. */
void vd_hotplug_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
/* Called when a domain's QEMU has ended: fails the operations waiting
 * on the guest and drops what each class kept about the running QEMU. */
void vd_hotplug_stopped(VdDomainObj *dom);
/* Called when a domain object is freed (the daemon exiting while its
 * QEMU runs): frees what each class hung on the object. */
void vd_hotplug_obj_free(VdDomainObj *dom);
