/* The rules of the checks before a migration moves anything
 * (migration-check.c), as pure functions: no daemon state and no I/O (but
 * vd_host_cpu_read, which reads one file), so that tests/migration/
 * covers every refusal. migration-check.c looks things up (the registry,
 * networks, files, QEMU's capabilities) and hands the answers here.
 *
 * Each refusal names the thing and the fix, in virsh's or libvirt's words
 * where they have some (docs/migration-checks.md lists them all). */
#pragma once

#include "conf/domain-def.h"
#include "daemon/domain/domain-state.h"
#include "daemon/migration/migration-priv.h"
#include "qemu/qemu-caps.h"

/* ---- Source, at begin ---- */

/* The flags together: --offline needs --persistent and takes neither
 * --live, --postcopy, --copy-storage-inc nor --timeout; --timeout-* needs
 * --timeout; --postcopy-after-precopy and --timeout-postcopy need
 * --postcopy; --persistent-xml needs --persistent; --dname is a valid
 * domain name. VD_ERROR_INVALID_ARG (virsh's wording) or
 * VD_ERROR_INVALID_STATE (libvirt's "Requested operation is not valid"). */
gboolean vd_mig_rule_flags(const VdMigrateParams *p, GError **error);

/* The domain's state for these flags: a shut-off domain moves only with
 * --offline (its definition); --offline --copy-storage-all needs it shut
 * off (a running guest's disks change under the copy); a transient domain
 * has no definition to move offline. VD_ERROR_INVALID_STATE. */
gboolean vd_mig_rule_state(const char *name, VdState state, gboolean persistent,
                           const VdMigrateParams *p, GError **error);

/* --xml: the definition the destination runs instead of @cur (the live
 * one): the same UUID, the name the migration gives it (@dname, else
 * @cur's), and the same guest ABI: type, architecture, machine type,
 * vCPUs, memory, CPU, and the same devices (disks by target, bus and
 * device; interfaces by MAC and model; videos, serials, consoles,
 * channels, inputs, sound-free families compared by count and model).
 * Host-side details may differ (disk sources, cache modes, networks and
 * bridges, graphics). libvirt's "Target ... does not match source ..."
 * messages. */
gboolean vd_mig_rule_xml_abi(const VdDomainDef *cur, const VdDomainDef *xml, const char *dname,
                             GError **error);

/* The offer's entry for @disk: target, path (@path when given: a pool
 * volume's file, resolved by the caller; else the disk's source), format,
 * readonly (readonly, shareable or a CD-ROM/floppy: never copied), copy (a
 * writable file or volume disk when @copy asks for storage), cache, and
 * the first backing file. Sizes and dev/ino are the caller's (they need
 * stat). */
VdMigrationDisk *vd_mig_disk_from_def(const VdDiskDef *disk, const char *path, VdMigrateCopy copy);

/* libvirt's rule for shared storage: a writable disk that stays where it
 * is (not copied) must use cache='none' or 'directsync', else the
 * destination may read stale data from its page cache; QEMU's default
 * (no cache attribute) is writeback and counts as unsafe too.
 * VD_ERROR_UNSUPPORTED "Unsafe migration: ..." unless --unsafe. */
gboolean vd_mig_rule_disk_cache(const char *dom_name, const VdMigrationDisk *disk, gboolean unsafe,
                                GError **error);

/* ---- Source, once the destination answered ---- */

/* The destination is this very daemon (the same instance UUID): refused
 * (libvirt: "Attempt to migrate guest to the same host"). */
gboolean vd_mig_rule_peer(const char *mine, const char *theirs, const char *dest_uri,
                          GError **error);

/* ---- Destination, at prepare ---- */

/* @name and @uuid free here, as libvirt's registry rules them: a domain
 * called @name with another UUID (@by_name_uuid: its UUID, NULL: none),
 * or another domain with @uuid (@by_uuid_name: its name, NULL: none), is
 * VD_ERROR_EXISTS ("operation failed: domain 'X' already exists with uuid
 * U", "... is already defined with uuid U"). The same domain (name and
 * UUID) is refused while active here (@same_active), and allowed while
 * only defined (a migration back to a host that kept its definition). */
gboolean vd_mig_rule_name_uuid(const char *name, const char *uuid, const char *by_name_uuid,
                               const char *by_uuid_name, gboolean same_active, GError **error);

/* The machine type of @def is one this QEMU has. VD_ERROR_UNSUPPORTED. */
gboolean vd_mig_rule_machine(const VdDomainDef *def, const VdQemuCaps *caps, GError **error);

/* Every "-device" of @argv (the command line this host would start the
 * incoming QEMU with) is a device this QEMU has. VD_ERROR_UNSUPPORTED
 * naming the devices. */
gboolean vd_mig_rule_devices(const char *dom_name, const GPtrArray *argv, const VdQemuCaps *caps,
                             GError **error);

/* A named CPU model (<cpu mode='custom'><model>) this QEMU knows.
 * VD_ERROR_UNSUPPORTED. */
gboolean vd_mig_rule_cpu_model(const VdDomainDef *def, const VdQemuCaps *caps, GError **error);

/* host-passthrough / host-model: the guest sees the source host's CPU
 * (@src, from the offer), so this host's (@here) must be the same: vendor,
 * family, model, stepping, and every flag the source has. Refused with
 * VD_ERROR_UNSUPPORTED unless @unsafe. @src NULL (not recorded): passes. */
gboolean vd_mig_rule_host_cpu(const VdDomainDef *def, const VdHostCpu *src, const VdHostCpu *here,
                              gboolean unsafe, GError **error);

/* <interface type='network'>: the network is @defined and @active here. */
gboolean vd_mig_rule_network(const char *dom_name, guint index, const char *network,
                             gboolean defined, gboolean active, GError **error);
/* <interface type='bridge'>: the bridge @exists here and @is_bridge. */
gboolean vd_mig_rule_bridge(const char *dom_name, guint index, const char *bridge, gboolean exists,
                            gboolean is_bridge, GError **error);

/* What this host has at @path, for a disk of the offer (@disk: the
 * source's view; @path: where the destination's definition has it). */
typedef struct {
    gboolean exists;
    guint64 dev, ino;
    gboolean backing_exists; /* the disk's backing file (--copy-storage-inc) */
    gboolean dir_exists;     /* the directory a copy goes into */
} VdMigDestFile;

/* Without copy: @path must exist here (shared storage); with copy: it must
 * not be the very file the source uses (dev/ino: shared storage, no copy
 * needed) nor any other file (a copy never writes over one), its
 * directory must exist, and for --copy-storage-inc its backing file must
 * be here. */
gboolean vd_mig_rule_disk_dest(const char *dom_name, const VdMigrationDisk *disk, const char *path,
                               VdMigrateCopy copy, const VdMigDestFile *here, GError **error);

/* Room for the copies going into @dir: @needed bytes (their allocation on
 * the source) against @available. VD_ERROR_OPERATION_FAILED. */
gboolean vd_mig_rule_space(const char *dir, const char *targets, guint64 needed, guint64 available,
                           GError **error);

/* ---- The host CPU ---- */

/* /proc/cpuinfo's first processor: vendor_id, model name, cpu family,
 * model, stepping and flags (sorted); on ARM, CPU implementer, part,
 * variant/revision and Features. VD_ERROR_INTERNAL when it names none. */
VdHostCpu *vd_host_cpu_parse(const char *text, GError **error);
/* "AuthenticAMD AMD EPYC (family 25 model 17 stepping 1)" */
char *vd_host_cpu_describe(const VdHostCpu *cpu);
