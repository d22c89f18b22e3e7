/* Shared by save.c (save, managedsave), save-image.c (the file's header,
 * restore) and domain-job-query.c (domjobinfo, domjobabort). */
#pragma once

#include "daemon/save/save.h"

/* The header at the start of every save image (little-endian, padded
 * with zeros to VD_SAVE_HEADER_SIZE); the domain's live XML follows, then
 * QEMU's migration stream at data_offset (a multiple of 4 KiB). */
#define VD_SAVE_MAGIC "VirtdSave"
#define VD_SAVE_MAGIC_LEN 16
#define VD_SAVE_VERSION 1
#define VD_SAVE_HEADER_SIZE 4096
#define VD_SAVE_XML_MAX (16 * 1024 * 1024)
#define VD_SAVE_FLAG_RUNNING (1u << 0) /* the guest ran when it was saved */

typedef struct {
    guint32 version;
    guint32 flags;
    guint64 data_offset;
    char *xml; /* NUL-terminated */
} VdSaveImageHeader;

void vd_save_image_header_clear(VdSaveImageHeader *h);
/* The header and the XML as written at the start of an image; @len gets
 * the size (the data offset). */
guint8 *vd_save_image_header_encode(const char *xml, guint32 flags, gsize *len);
/* Reads and checks the header and the XML of the image open on @fd
 * (blocking: worker threads). @path is for the messages. */
gboolean vd_save_image_header_read(int fd, const char *path, VdSaveImageHeader *h, GError **error);

/* Fills @job's figures from a query-migrate answer. */
void vd_save_job_update_from_migrate(VdDomainAsyncJob *job, JsonObject *info);

/* Whether the save in flight on @dom is streaming (migrate_cancel
 * stops it). */
gboolean vd_save_op_migrating(VdDomainObj *dom);

/* save-recover.c: what a daemon killed in the middle of a save or of a
 * managed restore left, recorded beside the status file (written before
 * the guest is paused / the image loaded; removed at the end). */
gboolean vd_save_record_save(VdDaemon *d, VdDomainObj *dom, const char *tmp, const char *path,
                             guint64 data_offset, gboolean was_running, GError **error);
gboolean vd_save_record_restore(VdDaemon *d, VdDomainObj *dom, const char *image, GError **error);
void vd_save_record_remove(VdDaemon *d, VdDomainObj *dom);
