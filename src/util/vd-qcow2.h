/* What a qcow2 image's header says about its backing file.
 *
 * The header is the image's own word, written by whoever made the file
 * (qemu-img create -b, an upload, a guest's block job): the daemon reads
 * it to know which files QEMU will open behind a disk, and checks those
 * like the files a client names (daemon/path-policy.h, access/access.h).
 */
#pragma once

#include <glib.h>

/* A chain deeper than this is not followed (QEMU's own limit is higher,
 * but no chain the daemon makes comes near). */
#define VD_QCOW2_MAX_CHAIN 64

/* The backing file the qcow2 header of @path names, resolved against
 * @path's directory as QEMU resolves it; NULL for another format, no
 * backing file, an unreadable file or a protocol name ("nbd:..."). Reads
 * 20 bytes and the name (at most 1023): cheap enough for the main loop,
 * as reading a format's magic is. */
char *vd_qcow2_backing_file(const char *path);

/* The format the qcow2 header of @path names for its backing file (the
 * backing-format extension, e.g. "qcow2" or "raw"); NULL when @path is
 * not qcow2 or names none. */
char *vd_qcow2_backing_format(const char *path);

/* Whether @path starts with qcow2's magic. */
gboolean vd_qcow2_is_qcow2(const char *path);
