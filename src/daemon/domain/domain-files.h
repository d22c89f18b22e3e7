/* The files a domain definition names, checked off the main loop.
 *
 * Every path a client puts in a definition (disk sources, <kernel>,
 * <initrd>, <loader>, <nvram>, <emulator>, serial/console/channel files
 * and sockets) is checked at define, so that bad input changes nothing,
 * and again at start, on what is there then (files change between the
 * two, symlinks can be swapped):
 *
 * - the path policy (daemon/path-policy.h): nothing may resolve into the
 *   daemon's own state, run, log or cache directories;
 * - the kind of file: a disk is a regular file or a block device, a
 *   kernel, initrd or firmware a regular file; a FIFO, socket, device or
 *   directory is refused by name, never opened in a way that blocks;
 * - disk formats: read from the image header (at define recorded in the
 *   definition when it gives none; at start checked against it).
 *
 * All of it runs in a worker thread: an open() or stat() of a path on a
 * hung network file system, or a FIFO, must never stall the daemon.
 */
#pragma once

#include <gio/gio.h>

#include "conf/domain-def.h"
#include "daemon/daemon.h"

typedef enum {
    VD_DOMAIN_FILES_DEFINE, /* what exists must be right; missing files are fine */
    VD_DOMAIN_FILES_START,  /* disks, kernel, initrd, loader must exist */
} VdDomainFilesWhen;

/* Checks the files of @def in a worker thread. @def is borrowed and
 * written (disk formats found): the caller must not touch it until
 * @callback runs (in the main loop). */
void vd_domain_files_check_async(VdDaemon *d, VdDomainDef *def, VdDomainFilesWhen when,
                                 GAsyncReadyCallback callback, gpointer user_data);
/* The notes for define's warnings (formats recorded; possibly empty), or
 * NULL with an error naming the element, the path and why. */
GPtrArray *vd_domain_files_check_finish(GAsyncResult *result, GError **error);
