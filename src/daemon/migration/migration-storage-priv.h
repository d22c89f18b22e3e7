/* What the migration-storage-*.c files share. */
#pragma once

#include "migration-priv.h"

/* The copied disks' progress on @dom, for vd_migration_storage_progress
 * (both live mirrors and offline streams report here). */
void vd_migration_storage_progress_set(VdDomainObj *dom, guint64 total, guint64 processed);
void vd_migration_storage_progress_clear(VdDomainObj *dom);

/* The body of an offline disk stream (PUT /v1/migrations/ID/disks/T,
 * docs/migration-storage.md): records of a 16-byte header, offset and
 * length (big-endian u64), then that many bytes of the file at that
 * offset; holes are not sent. The last record has length 0 and the
 * file's size as offset. */
#define VD_DISK_STREAM_TYPE "application/vnd.virtd.disk-extents"
#define VD_DISK_STREAM_HEADER 16

/* The encoder (source): a stream of @fd's data extents, up to @size;
 * takes @fd. Reads block: run them in a worker (libsoup does). */
GInputStream *vd_disk_stream_new(int fd, guint64 size);
/* How far in the file the stream is (any thread). */
guint64 vd_disk_stream_sent(GInputStream *stream);
guint64 vd_disk_stream_size(GInputStream *stream);

/* The decoder (destination): chunks of the body in, the extents written
 * to @fd at their offsets. Complete when @ended; @size is then the
 * file's size (the caller truncates the file to it). */
typedef struct {
    guint8 header[VD_DISK_STREAM_HEADER];
    guint header_have;
    guint64 offset, left; /* the extent being written */
    guint64 end_of_data;  /* extents come in order, never overlapping */
    gboolean ended;
    guint64 size;
    guint64 written; /* data bytes */
} VdDiskStreamParser;
gboolean vd_disk_stream_take(VdDiskStreamParser *p, const guint8 *data, gsize len, int fd,
                             GError **error);
/* The virtual size of the image in @fd: a qcow2 header's, else @file_size. */
guint64 vd_disk_image_virtual_size(int fd, guint64 file_size);
