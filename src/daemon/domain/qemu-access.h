/* What an unprivileged QEMU (qemu-confine.h) may open by path, the way
 * libvirt's DAC driver gives it: the daemon's directories QEMU works in
 * reachable by its user, and each file a guest uses that QEMU opens by
 * path (block devices, <kernel>, <initrd>, the UEFI variable store, a
 * disk image whose descriptors could not be added while running; not
 * file disks' images, chardev files or sockets, which it gets as
 * descriptors: disk-chains.h, qemu/qemu-run-fds.h) handed to that user for
 * the domain's life: chown to QEMU's user with the owner remembered in
 * run/domains/NAME.owners (a directory QEMU cannot write), given back
 * when the domain's QEMU ends, also when a restarted daemon sees it end.
 *
 * A file QEMU can already use (world-readable for a read-only use,
 * world-writable for a read-write one) is left as it is. Directories
 * above a file are never changed: a disk in a directory QEMU's user
 * cannot search is refused by QEMU (permission denied), as in libvirt.
 * Everything here does nothing when QEMU runs as root (--qemu-user root).
 * docs/security.md. */
#pragma once

#include <glib.h>

#include "conf/domain-def.h"
#include "daemon/paths.h"

/* At daemon start: the daemon's root, run, cache, state and nvram
 * directories searchable (not listable) by QEMU's user; run/qemu (the
 * sockets QEMU listens on, its pid file) and log/console (the console
 * logs) the daemon's alone, 0700: QEMU gets descriptors for what is in
 * them (qemu/qemu-run-fds.h). */
gboolean vd_qemu_access_setup(const VdPaths *p, GError **error);

/* Gives QEMU's user @path (read-write when @writable) for the domain
 * @dom_name, remembering the owner. A qcow2 image's backing files are
 * given read-only (block commit reopens them read-write: @writable
 * then applies to the whole chain). */
gboolean vd_qemu_access_grant(const VdPaths *p, const char *dom_name, const char *path,
                              gboolean writable, GError **error);

/* Grants every file of @def that QEMU opens by path at start: disk
 * images with their backing chains (not a disk in @fd_disks, target_dev
 * -> anything: QEMU gets its images as descriptors, disk-chains.h),
 * <kernel>, <initrd>, <dtb>, the variable store @nvram (may be NULL). */
gboolean vd_qemu_access_grant_domain(const VdPaths *p, const VdDomainDef *def, const char *nvram,
                                     GHashTable *fd_disks, GError **error);

/* Gives back every file granted for @dom_name and forgets them. */
void vd_qemu_access_restore(const VdPaths *p, const char *dom_name);

/* The kernel cache: its directory and files readable by QEMU's group. */
void vd_qemu_access_share_read(const char *path, gboolean is_dir);
