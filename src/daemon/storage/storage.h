/* Storage pools and volumes (docs/storage.md).
 *
 * A pool is a directory of image files (libvirt's 'dir' pools); a volume
 * is one regular file directly in it. The registry (storage.c) holds the
 * pools and their files: definitions in config_dir/storage/NAME.xml,
 * autostart links in config_dir/storage/autostart/, and the active state
 * in run_dir/storage/NAME.xml so that a daemon restart keeps an active
 * pool active (the run dir is emptied by a host reboot, after which
 * autostart decides). Everything here runs in the main loop; volume work
 * that can take long (qemu-img, copies) runs in worker threads
 * (storage-vol.c) and comes back through GAsyncReadyCallbacks.
 */
#pragma once

#include <gio/gio.h>

#include "conf/storage-pool-def.h"
#include "conf/storage-vol-def.h"
#include "daemon/daemon.h"

typedef struct {
    VdStoragePoolDef *def;
    gboolean active;
    gboolean autostart;
    guint jobs;          /* volume operations in flight: destroy/undefine wait for none */
} VdStoragePool;

VdStorage *vd_storage_new(const VdPaths *paths);
void vd_storage_free(VdStorage *storage);

/* Loads the pool definitions and active states. On the very first start
 * (no config_dir/storage yet) defines, builds, starts and marks autostart
 * the pool 'default' at state_dir/images. Problems are logged, never
 * fatal: a broken pool file must not keep the daemon from serving.
 * First removes the partial files of volumes a killed daemon was making
 * (their records in vd_storage_partial_dir()). */
void vd_storage_load(VdStorage *storage);

/* state_dir/storage/partial: one record per volume being created or
 * cloned, written (fsync'd) before its file and removed once it is whole
 * or gone. */
char *vd_storage_partial_dir(const VdPaths *paths);
/* Starts the inactive autostart pools. */
void vd_storage_autostart(VdStorage *storage);

/* By name or UUID; VD_ERROR_NO_POOL otherwise. Borrowed. */
VdStoragePool *vd_storage_lookup(VdStorage *storage, const char *key, GError **error);
/* All pools sorted by name (borrowed pointers; free the array). */
GPtrArray *vd_storage_list(VdStorage *storage);

/* Defines (or redefines, same name and UUID) a pool; takes @def. */
VdStoragePool *vd_storage_define(VdStorage *storage, VdStoragePoolDef *def, GError **error);
gboolean vd_storage_undefine(VdStorage *storage, VdStoragePool *pool, GError **error);
gboolean vd_storage_build(VdStorage *storage, VdStoragePool *pool, GError **error);
gboolean vd_storage_start(VdStorage *storage, VdStoragePool *pool, GError **error);
gboolean vd_storage_destroy(VdStorage *storage, VdStoragePool *pool, GError **error);
gboolean vd_storage_set_autostart(VdStorage *storage, VdStoragePool *pool, gboolean on,
                                  GError **error);
/* Fails with VD_ERROR_INVALID_STATE unless @pool is active. */
gboolean vd_storage_check_active(VdStoragePool *pool, GError **error);
/* capacity/allocation/available of the file system under the target
 * (statvfs); zeros when inactive. */
void vd_storage_pool_refresh_stats(VdStoragePool *pool);

/* ---- volumes (storage-vol.c) ---- */

/* The absolute path of volume @name in @pool after checking the name
 * (no '/', no leading '.'); the error names the pool and the fix. */
char *vd_storage_vol_path(VdStoragePool *pool, const char *name, GError **error);
/* The path of existing volume @name of active @pool (a regular file:
 * a symlink could lead out of the pool); VD_ERROR_NO_VOLUME otherwise. */
char *vd_storage_vol_existing_path(VdStoragePool *pool, const char *name, GError **error);
/* Fails with VD_ERROR_INVALID_STATE naming the running domain that uses
 * the volume, if any. */
gboolean vd_storage_vol_check_unused(VdDaemon *d, VdStoragePool *pool, const char *name,
                                     const char *path, GError **error);
/* The running domain whose live definition uses @path (a disk source
 * file, or <source pool= volume=>), or NULL. */
const char *vd_storage_vol_user(VdDaemon *d, const char *pool, const char *name,
                                const char *path);

/* An operation running on a volume: the "busy" registry, which also
 * answers GET /v1/jobs and the "operation" of a volume summary. The
 * registry holds one reference until release; a worker thread that
 * reports progress holds its own, so the op outlives a release that
 * races with the last update. */
typedef struct {
    char *kind;          /* "clone", "clone-source", "create", "upload", ... */
    char *pool;
    char *volume;
    char *path;
    gint64 started_at;   /* g_get_real_time(), microseconds */
    gint progress;       /* quarters of a percent (0..400): binary fractions
                          * print exactly in JSON (0.29 would not). Atomic:
                          * a worker thread writes, the main loop reads */
    char *failure;       /* why it failed, set before release (the task log) */
    /* Issue 14, the task log (main loop only): */
    guint64 task_id;     /* its task (events/tasks.c) */
    char *detail;        /* what it does now ("2/7 Building the root tree"), or NULL */
    gboolean cancelled;  /* a cancel was asked for: the task ends "cancelled" */
    /* Set by an operation that can be stopped (image build, upload): asked
     * once by POST /v1/tasks/ID/cancel; the operation then ends, releasing
     * the volume as usual. */
    void (*cancel)(gpointer data);
    gpointer cancel_data;
} VdStorageOp;

/* Marks @path (a volume of pool @pool) busy for an operation of @kind
 * (VD_ERROR_BUSY if it already is). Returns the op, borrowed: valid until
 * vd_storage_busy_release unless ref'd. */
VdStorageOp *vd_storage_busy_acquire(VdStorage *storage, const char *pool, const char *path,
                                     const char *kind, GError **error);
void vd_storage_busy_release(VdStorage *storage, const char *path);
/* The operation running on @path, or NULL. Borrowed. */
VdStorageOp *vd_storage_busy_lookup(VdStorage *storage, const char *path);
/* Every running operation (ref'd; free the array), oldest first. */
GPtrArray *vd_storage_ops_list(VdStorage *storage);
VdStorageOp *vd_storage_op_ref(VdStorageOp *op);
void vd_storage_op_unref(VdStorageOp *op);
/* Any thread. @percent is clamped to 0..100. */
void vd_storage_op_set_progress(VdStorageOp *op, double percent);
double vd_storage_op_get_progress(VdStorageOp *op);
/* Records why the operation failed, for the task log (main loop). */
void vd_storage_op_set_failure(VdStorageOp *op, const char *message);
/* What it does now, for the task log (main loop). */
void vd_storage_op_set_detail(VdStorageOp *op, const char *detail);

/* Asynchronous volume operations; each _finish must be called (from the
 * callback, in the main loop): it releases what the operation held. */
void vd_storage_vol_list_async(VdDaemon *d, VdStoragePool *pool, GAsyncReadyCallback cb,
                               gpointer data);
/* VdStorageVolDef* sorted by name. */
GPtrArray *vd_storage_vol_list_finish(VdDaemon *d, GAsyncResult *res, GError **error);

void vd_storage_vol_get_async(VdDaemon *d, VdStoragePool *pool, const char *name,
                              GAsyncReadyCallback cb, gpointer data);
/* @req: name, capacity, allocation, format, backing_path (a volume name
 * of the pool or an absolute path), backing_format; taken. */
void vd_storage_vol_create_async(VdDaemon *d, VdStoragePool *pool, VdStorageVolDef *req,
                                 GAsyncReadyCallback cb, gpointer data);
void vd_storage_vol_delete_async(VdDaemon *d, VdStoragePool *pool, const char *name,
                                 GAsyncReadyCallback cb, gpointer data);
void vd_storage_vol_resize_async(VdDaemon *d, VdStoragePool *pool, const char *name,
                                 guint64 capacity, gboolean delta, gboolean shrink,
                                 GAsyncReadyCallback cb, gpointer data);
void vd_storage_vol_clone_async(VdDaemon *d, VdStoragePool *pool, const char *name,
                                const char *new_name, GAsyncReadyCallback cb, gpointer data);
/* The volume of get/create/delete (as it was)/resize/clone (the new one). */
VdStorageVolDef *vd_storage_vol_finish(VdDaemon *d, GAsyncResult *res, GError **error);

/* Runs qemu-img @args (NULL-terminated, without the program name),
 * blocking: for worker threads. qemu-img's own message is the error's. */
gboolean vd_storage_qemu_img(const char *const *args, char **out, GError **error);
/* Like vd_storage_qemu_img for a command given -p (convert): its
 * progress lines are parsed as they come and passed to @cb (in the
 * calling worker thread). */
typedef void (*VdStorageProgressFunc)(double percent, gpointer data);
gboolean vd_storage_qemu_img_progress(const char *const *args, VdStorageProgressFunc cb,
                                      gpointer data, GError **error);
/* The same; cancelling @cancel (any thread) kills qemu-img (the task
 * log's Cancel of a volume clone), which then fails. */
gboolean vd_storage_qemu_img_progress_cancellable(const char *const *args,
                                                  VdStorageProgressFunc cb, gpointer data,
                                                  GCancellable *cancel, GError **error);
/* qemu-img -p output: "    (12.34/100%)" lines ended by '\r' (or '\n').
 * Appends @len bytes of @chunk to @pending and consumes every complete
 * line: the last progress figure goes to @percent (TRUE if there was
 * one), other non-empty lines to @other (qemu-img's messages, for the
 * error), when not NULL. */
gboolean vd_storage_progress_feed(GString *pending, const char *chunk, gsize len,
                                  double *percent, GString *other);
/* One line: TRUE and the figure if it is "(N/100%)" with blanks around. */
gboolean vd_storage_progress_parse_line(const char *line, double *percent);
/* Facts of one volume file, blocking (qemu-img info): for worker threads. */
VdStorageVolDef *vd_storage_vol_inspect(const char *path, GError **error);
/* The format from the file's header ("qcow2", ..., else "raw"); reads a
 * few bytes, so the main loop may call it. */
char *vd_storage_probe_format(const char *path);

/* ---- the internal API of other daemon parts (domain start, undefine) ---- */

/* <source pool= volume=> -> path and format ("qcow2", "raw", ...); the
 * pool must be running and the volume exist. */
gboolean vd_storage_resolve_volume(VdDaemon *d, const char *pool, const char *volume,
                                   char **path_out, char **format_out, GError **error);
/* The pool volume at @path, if any (pool active, file directly in its
 * target directory). */
gboolean vd_storage_find_volume_by_path(VdDaemon *d, const char *path, char **pool_out,
                                        char **volume_out);
