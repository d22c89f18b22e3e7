/* Volume operations (storage.h). The checks that depend on the registry
 * (pool active, name, busy, used by a domain) run in the main loop; the
 * work (qemu-img, unlink of a big file, stat of many files) runs in a
 * GTask worker thread that sees only copies of what it needs. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/domain/start-phase.h"
#include "daemon/path-policy.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"
#include "util/vd-file.h"
#include "util/vd-path.h"

typedef enum { JOB_LIST, JOB_GET, JOB_CREATE, JOB_DELETE, JOB_RESIZE, JOB_CLONE } JobKind;

typedef struct {
    JobKind kind;
    char *pool_name;
    char *dir;
    char *path;        /* the volume (the source of a clone) */
    char *new_path;    /* what create and clone make */
    VdStorageVolDef *req;
    VdPathGuard *guard;  /* where volume (and backing) files may be */
    guint64 capacity;
    gboolean delta;
    gboolean shrink;
    /* Held in the main loop until _finish: the pool's job count and the
     * busy marks of path/new_path. */
    gboolean busy_path;
    gboolean busy_new;
    gboolean released;
    /* The ops of those marks (ref'd): the worker reports progress there. */
    VdStorageOp *op_path;
    VdStorageOp *op_new;
    GCancellable *cancel; /* clones: the task log's Cancel */
    char *partial_dir;    /* create and clone: vd_storage_partial_dir() */
} VolJob;

static void
vol_job_free(VolJob *job)
{
    g_free(job->pool_name);
    g_free(job->partial_dir);
    g_free(job->dir);
    g_free(job->path);
    g_free(job->new_path);
    vd_storage_vol_def_free(job->req);
    vd_path_guard_unref(job->guard);
    vd_storage_op_unref(job->op_path);
    vd_storage_op_unref(job->op_new);
    g_clear_object(&job->cancel);
    g_free(job);
}

/* ---- checks in the main loop ---- */

char *
vd_storage_vol_path(VdStoragePool *pool, const char *name, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!vd_storage_vol_name_validate(name, &local)) {
        if (name && strchr(name, '/'))
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid volume name '%s': a volume is a file directly in pool '%s' (%s); "
                        "give a file name without '/'",
                        name, pool->def->name, pool->def->target_path);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    return g_build_filename(pool->def->target_path, name, NULL);
}

char *
vd_storage_vol_existing_path(VdStoragePool *pool, const char *name, GError **error)
{
    struct stat st;
    g_autofree char *path = NULL;

    if (!vd_storage_check_active(pool, error) || !(path = vd_storage_vol_path(pool, name, error)))
        return NULL;
    /* Regular files only: a symlink could lead out of the pool. */
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NO_VOLUME,
                    "Storage volume not found: no storage vol with matching name '%s' in pool "
                    "'%s'",
                    name, pool->def->name);
        return NULL;
    }
    return g_steal_pointer(&path);
}

const char *
vd_storage_vol_user(VdDaemon *d, const char *pool, const char *name, const char *path)
{
    g_autoptr(GPtrArray) doms = vd_domain_list_all(d->domains);

    for (guint i = 0; i < doms->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(doms, i);
        if (!vd_state_is_active(dom->state) || !dom->live)
            continue;
        for (guint k = 0; dom->live->disks && k < dom->live->disks->len; k++) {
            const VdDiskDef *disk = g_ptr_array_index(dom->live->disks, k);
            if ((disk->source_file && g_str_equal(disk->source_file, path)) ||
                (disk->source_pool && disk->source_volume && g_str_equal(disk->source_pool, pool) &&
                 g_str_equal(disk->source_volume, name)))
                return dom->name; /* the registry keeps the object: the name outlives @doms */
        }
    }
    return NULL;
}

gboolean
vd_storage_vol_check_unused(VdDaemon *d, VdStoragePool *pool, const char *name, const char *path, GError **error)
{
    const char *user = vd_storage_vol_user(d, pool->def->name, name, path);

    if (!user)
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                "Requested operation is not valid: volume '%s' is in use by running domain '%s': "
                "stop the domain (or detach the disk) first",
                path, user);
    return FALSE;
}

/* A new volume at @path must not exist yet (as anything). */
static gboolean
check_absent(VdStoragePool *pool, const char *name, const char *path, GError **error)
{
    struct stat st;

    if (lstat(path, &st) == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "storage volume '%s' already exists in pool '%s'", name, pool->def->name);
        return FALSE;
    }
    return TRUE;
}

/* ---- worker threads ---- */

/* Creates @path exclusively: the new volume is ours from here on, and
 * cleaning up after a failure never removes somebody else's file. */
static gboolean
claim_path(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, err == EEXIST ? VD_ERROR_EXISTS : VD_ERROR_OPERATION_FAILED,
                    "cannot create volume '%s': %s", path, g_strerror(err));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* A volume being made is recorded first, fsync'd, in the daemon's own
 * state (storage/partial/SHA256-OF-PATH holding the path): a daemon
 * killed before the volume is whole removes the partial file at its next
 * start (vd_storage_load) instead of listing a torn volume. The file stays
 * at its final name meanwhile, so the list shows it with its progress. */
static char *
partial_record(VolJob *job)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, job->new_path, -1);
    return g_build_filename(job->partial_dir, sum, NULL);
}

static gboolean
partial_begin(VolJob *job, GError **error)
{
    g_autofree char *record = partial_record(job);
    if (!vd_dir_ensure(job->partial_dir, 0700, error))
        return FALSE;
    return vd_file_write_atomic(record, job->new_path, -1, 0600, error);
}

static void
partial_end(VolJob *job)
{
    g_autofree char *record = partial_record(job);
    g_unlink(record);
}

static int
compare_vols(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VdStorageVolDef *const *)a)->name, (*(VdStorageVolDef *const *)b)->name);
}

static GPtrArray *
list_in_thread(VolJob *job, GError **error)
{
    g_autoptr(GDir) dir = g_dir_open(job->dir, 0, error);
    g_autoptr(GPtrArray) vols = g_ptr_array_new_with_free_func((GDestroyNotify)vd_storage_vol_def_free);
    const char *file;

    if (!dir)
        return NULL;
    while ((file = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(job->dir, file, NULL);
        struct stat st;
        g_autoptr(GError) e = NULL;
        if (file[0] == '.' || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        VdStorageVolDef *vol = vd_storage_vol_inspect(path, &e);
        if (!vol) {
            /* A file qemu-img cannot read is still a volume; list it raw. */
            g_debug("volume '%s': %s", path, e->message);
            vol = vd_storage_vol_def_new();
            vol->name = g_strdup(file);
            vol->path = g_strdup(path);
            vol->key = g_strdup(path);
            vol->format = g_strdup("raw");
            vol->capacity = vol->physical = (guint64)st.st_size;
            vol->allocation = (guint64)st.st_blocks * 512;
        }
        g_ptr_array_add(vols, vol);
    }
    g_ptr_array_sort(vols, compare_vols);
    return g_steal_pointer(&vols);
}

/* A backing volume: a name in the pool or an absolute path, existing. */
static char *
backing_path(VolJob *job, const char *backing, GError **error)
{
    g_autofree char *path = backing[0] == '/' ? g_canonicalize_filename(backing, "/")
                                              : g_build_filename(job->dir, backing, NULL);

    if (!strchr(backing, '/') || backing[0] == '/') {
        /* The new volume's guest reads the backing file: not one of the
         * daemon's own (path-policy.h), and an image, not a FIFO. */
        g_autofree char *resolved =
            backing[0] == '/' ? vd_path_guard_check(job->guard, "backing volume", path, error)
                              : g_strdup(path);
        if (!resolved)
            return NULL;
        int fd = vd_path_open_checked("backing volume", path, VD_PATH_REGULAR | VD_PATH_BLOCK,
                                      NULL, NULL);
        if (fd >= 0) {
            gboolean ok = vd_path_guard_check_fd(job->guard, "backing volume", path, fd, error);
            close(fd);
            return ok ? g_steal_pointer(&path) : NULL;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_NO_VOLUME,
                "backing volume '%s' not found: give a volume name of pool '%s' or the "
                "absolute path of an existing image",
                backing, job->pool_name);
    return NULL;
}

static VdStorageVolDef *
create_in_thread(VolJob *job, GError **error)
{
    VdStorageVolDef *req = job->req;
    const char *format = req->format ? req->format : "raw";
    g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, req->capacity);
    g_autofree char *bpath = NULL;
    g_autofree char *bformat = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();

    if (req->backing_path) {
        if (!(bpath = backing_path(job, req->backing_path, error)))
            return NULL;
        bformat = req->backing_format ? g_strdup(req->backing_format)
                                      : vd_storage_probe_format(bpath);
    }
    g_ptr_array_add(args, "create");
    g_ptr_array_add(args, "-q");
    g_ptr_array_add(args, "-f");
    g_ptr_array_add(args, (gpointer)format);
    if (bpath) {
        g_ptr_array_add(args, "-b");
        g_ptr_array_add(args, bpath);
        g_ptr_array_add(args, "-F");
        g_ptr_array_add(args, bformat);
    }
    if (g_str_equal(format, "raw") && req->has_allocation && req->allocation >= req->capacity &&
        req->capacity > 0) {
        /* Fully allocated raw, as libvirt does for allocation == capacity. */
        g_ptr_array_add(args, "-o");
        g_ptr_array_add(args, "preallocation=falloc");
    }
    g_ptr_array_add(args, job->new_path);
    /* With a backing file and no size, qemu-img takes the backing size. */
    if (!(bpath && req->capacity == 0))
        g_ptr_array_add(args, size);
    g_ptr_array_add(args, NULL);

    if (!partial_begin(job, error))
        return NULL;
    if (!claim_path(job->new_path, error)) {
        partial_end(job);
        return NULL;
    }
    vd_start_crash_point("volume-claimed");
    /* qemu-img create says nothing while it preallocates: 0 until done. */
    if (!vd_storage_qemu_img((const char *const *)args->pdata, NULL, error)) {
        g_unlink(job->new_path);
        partial_end(job);
        return NULL;
    }
    partial_end(job);
    vd_storage_op_set_progress(job->op_new, 100.0);
    return vd_storage_vol_inspect(job->new_path, error);
}

static VdStorageVolDef *
resize_in_thread(VolJob *job, GError **error)
{
    g_autoptr(VdStorageVolDef) vol = vd_storage_vol_inspect(job->path, error);
    guint64 target = job->capacity;

    if (!vol)
        return NULL;
    if (job->delta) {
        if (job->shrink) {
            if (job->capacity > vol->capacity) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "cannot shrink volume '%s' by %" G_GUINT64_FORMAT
                            " bytes: it has only %" G_GUINT64_FORMAT,
                            vol->name, job->capacity, vol->capacity);
                return NULL;
            }
            target = vol->capacity - job->capacity;
        } else {
            target = vol->capacity + job->capacity;
        }
    }
    if (target < vol->capacity && !job->shrink) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Can't shrink capacity below current capacity unless shrink flag explicitly "
                    "specified (volume '%s' has %" G_GUINT64_FORMAT " bytes)",
                    vol->name, vol->capacity);
        return NULL;
    }
    g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, target);
    const char *args[8];
    guint n = 0;
    args[n++] = "resize";
    args[n++] = "-q";
    args[n++] = "-f";
    args[n++] = vol->format;
    if (job->shrink)
        args[n++] = "--shrink";
    args[n++] = job->path;
    args[n++] = size;
    args[n] = NULL;
    if (!vd_storage_qemu_img(args, NULL, error))
        return NULL;
    return vd_storage_vol_inspect(job->path, error);
}

/* In the worker thread: the copy is as far along on both volumes. */
static void
on_clone_progress(double percent, gpointer data)
{
    VolJob *job = data;

    vd_storage_op_set_progress(job->op_path, percent);
    vd_storage_op_set_progress(job->op_new, percent);
}

static VdStorageVolDef *
clone_in_thread(VolJob *job, GError **error)
{
    g_autoptr(VdStorageVolDef) src = vd_storage_vol_inspect(job->path, error);

    if (!src || !partial_begin(job, error))
        return NULL;
    if (!claim_path(job->new_path, error)) {
        partial_end(job);
        return NULL;
    }
    /* A full copy in the source's format (a backing chain is flattened,
     * so the clone stands alone). */
    const char *args[] = {"convert", "-U", "-p", "-f", src->format, "-O", src->format,
                          job->path, job->new_path, NULL};
    if (!vd_storage_qemu_img_progress_cancellable(args, on_clone_progress, job, job->cancel,
                                                  error)) {
        g_unlink(job->new_path);
        partial_end(job);
        return NULL;
    }
    partial_end(job);
    return vd_storage_vol_inspect(job->new_path, error);
}

/* Where the volume files really are, now: a pool directory swapped for
 * a symlink into the daemon's state while the pool was active must not
 * lead a delete, resize, clone or create there. */
static gboolean
job_paths_allowed(VolJob *job, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *new_path = NULL;
    g_autofree char *dir = NULL;

    if (job->kind == JOB_LIST &&
        !(dir = vd_path_guard_check(job->guard, "pool directory", job->dir, error)))
        return FALSE;
    return (!job->path ||
            (path = vd_path_guard_check(job->guard, "volume", job->path, error)) != NULL) &&
           (!job->new_path ||
            (new_path = vd_path_guard_check(job->guard, "new volume", job->new_path, error)) !=
                NULL);
}

static void
job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    VolJob *job = data;
    GError *error = NULL;
    VdStorageVolDef *vol = NULL;

    if (!job_paths_allowed(job, &error)) {
        g_task_return_error(task, error);
        return;
    }
    switch (job->kind) {
    case JOB_LIST: {
        GPtrArray *vols = list_in_thread(job, &error);
        if (vols)
            g_task_return_pointer(task, vols, (GDestroyNotify)g_ptr_array_unref);
        else
            g_task_return_error(task, error);
        return;
    }
    case JOB_GET:
        vol = vd_storage_vol_inspect(job->path, &error);
        break;
    case JOB_CREATE:
        vol = create_in_thread(job, &error);
        break;
    case JOB_DELETE:
        vol = vd_storage_vol_inspect(job->path, &error);
        if (vol && g_unlink(job->path) < 0) {
            int err = errno;
            g_clear_pointer(&vol, vd_storage_vol_def_free);
            g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "cannot delete volume '%s': %s", job->path, g_strerror(err));
        }
        break;
    case JOB_RESIZE:
        vol = resize_in_thread(job, &error);
        break;
    case JOB_CLONE:
        vol = clone_in_thread(job, &error);
        break;
    }
    if (vol)
        g_task_return_pointer(task, vol, (GDestroyNotify)vd_storage_vol_def_free);
    else
        g_task_return_error(task, error);
}

/* ---- starting and finishing jobs ---- */

static VolJob *
job_new(JobKind kind, VdStoragePool *pool)
{
    VolJob *job = g_new0(VolJob, 1);

    job->kind = kind;
    job->pool_name = g_strdup(pool->def->name);
    job->dir = g_strdup(pool->def->target_path);
    return job;
}

static void
cancel_clone(gpointer cancel)
{
    g_cancellable_cancel(cancel);
}

/* Takes the busy marks and the pool's job count, and runs @job. */
static void
job_run(VdDaemon *d, VdStoragePool *pool, VolJob *job, const char *what, GAsyncReadyCallback cb,
        gpointer data)
{
    GTask *task = g_task_new(NULL, NULL, cb, data);
    GError *error = NULL;

    g_task_set_task_data(task, job, (GDestroyNotify)vol_job_free);
    if (!job->guard)
        job->guard = vd_path_policy_guard(d->paths);
    if (job->new_path)
        job->partial_dir = vd_storage_partial_dir(d->paths);
    if (job->path && job->kind != JOB_LIST && job->kind != JOB_GET) {
        /* A clone's source is read, not written: say so in the job list. */
        VdStorageOp *op = vd_storage_busy_acquire(d->storage, job->pool_name, job->path,
                                                  job->kind == JOB_CLONE ? "clone-source" : what,
                                                  &error);
        if (!op)
            goto fail;
        job->op_path = vd_storage_op_ref(op);
        job->busy_path = TRUE;
    }
    if (job->new_path) {
        VdStorageOp *op = vd_storage_busy_acquire(d->storage, job->pool_name, job->new_path, what,
                                                  &error);
        if (!op)
            goto fail;
        job->op_new = vd_storage_op_ref(op);
        job->busy_new = TRUE;
    }
    if (job->kind == JOB_CLONE) {
        /* Cancellable from the task log, on either volume's task. */
        job->cancel = g_cancellable_new();
        for (guint i = 0; i < 2; i++) {
            VdStorageOp *op = i ? job->op_new : job->op_path;
            op->cancel = cancel_clone;
            op->cancel_data = job->cancel;
        }
    }
    pool->jobs++;
    g_task_run_in_thread(task, job_thread);
    g_object_unref(task);
    return;
fail:
    /* Nothing was taken from the pool: _finish releases only the marks. */
    job->pool_name[0] = 0;
    g_task_return_error(task, error);
    g_object_unref(task);
}

/* A job that fails its main-loop checks answers through the same path. */
static void
job_fail(VolJob *job, GError *error, GAsyncReadyCallback cb, gpointer data)
{
    GTask *task = g_task_new(NULL, NULL, cb, data);

    job->pool_name[0] = 0;
    g_task_set_task_data(task, job, (GDestroyNotify)vol_job_free);
    g_task_return_error(task, error);
    g_object_unref(task);
}

/* @failure: the job's error, or NULL (the task log records it). */
static void
job_release(VdDaemon *d, GAsyncResult *res, const GError *failure)
{
    VolJob *job = g_task_get_task_data(G_TASK(res));

    if (job->released)
        return;
    job->released = TRUE;
    for (guint i = 0; i < 2; i++) {
        const char *path = i == 0 ? job->path : job->new_path;
        if (!(i == 0 ? job->busy_path : job->busy_new))
            continue;
        VdStorageOp *op = vd_storage_busy_lookup(d->storage, path);
        if (op && failure)
            vd_storage_op_set_failure(op, failure->message);
        if (op)
            op->cancel = NULL;
        /* Either task's Cancel stops the one copy: both end cancelled. */
        if (op && failure && job->cancel && g_cancellable_is_cancelled(job->cancel))
            op->cancelled = TRUE;
        vd_storage_busy_release(d->storage, path);
    }
    if (job->pool_name[0]) {
        VdStoragePool *pool = vd_storage_lookup(d->storage, job->pool_name, NULL);
        if (pool && pool->jobs > 0)
            pool->jobs--;
    }
}

GPtrArray *
vd_storage_vol_list_finish(VdDaemon *d, GAsyncResult *res, GError **error)
{
    GError *failure = NULL;
    GPtrArray *list = g_task_propagate_pointer(G_TASK(res), &failure);

    job_release(d, res, failure);
    if (failure)
        g_propagate_error(error, failure);
    return list;
}

VdStorageVolDef *
vd_storage_vol_finish(VdDaemon *d, GAsyncResult *res, GError **error)
{
    GError *failure = NULL;
    VdStorageVolDef *vol = g_task_propagate_pointer(G_TASK(res), &failure);

    job_release(d, res, failure);
    if (failure)
        g_propagate_error(error, failure);
    return vol;
}

void
vd_storage_vol_list_async(VdDaemon *d, VdStoragePool *pool, GAsyncReadyCallback cb, gpointer data)
{
    VolJob *job = job_new(JOB_LIST, pool);
    GError *error = NULL;

    if (!vd_storage_check_active(pool, &error))
        return job_fail(job, error, cb, data);
    job_run(d, pool, job, "list", cb, data);
}

void
vd_storage_vol_get_async(VdDaemon *d, VdStoragePool *pool, const char *name,
                         GAsyncReadyCallback cb, gpointer data)
{
    VolJob *job = job_new(JOB_GET, pool);
    GError *error = NULL;

    if (!(job->path = vd_storage_vol_existing_path(pool, name, &error)))
        return job_fail(job, error, cb, data);
    job_run(d, pool, job, "lookup", cb, data);
}

void
vd_storage_vol_create_async(VdDaemon *d, VdStoragePool *pool, VdStorageVolDef *req,
                            GAsyncReadyCallback cb, gpointer data)
{
    VolJob *job = job_new(JOB_CREATE, pool);
    GError *error = NULL;

    job->req = req;
    job->guard = vd_path_policy_guard(d->paths);
    if (!req->format)
        req->format = g_strdup("raw");
    if (!vd_storage_check_active(pool, &error) ||
        !(job->new_path = vd_storage_vol_path(pool, req->name, &error)) ||
        !vd_storage_vol_format_creatable(req->format, &error) ||
        !check_absent(pool, req->name, job->new_path, &error))
        return job_fail(job, error, cb, data);
    if (req->backing_path && g_str_equal(req->format, "raw")) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "a raw volume cannot have a backing volume: use --format qcow2");
        return job_fail(job, error, cb, data);
    }
    if (req->backing_format && !vd_storage_vol_format_creatable(req->backing_format, &error))
        return job_fail(job, error, cb, data);
    job_run(d, pool, job, "create", cb, data);
}

void
vd_storage_vol_delete_async(VdDaemon *d, VdStoragePool *pool, const char *name,
                            GAsyncReadyCallback cb, gpointer data)
{
    VolJob *job = job_new(JOB_DELETE, pool);
    GError *error = NULL;

    if (!(job->path = vd_storage_vol_existing_path(pool, name, &error)) ||
        !vd_storage_vol_check_unused(d, pool, name, job->path, &error))
        return job_fail(job, error, cb, data);
    job_run(d, pool, job, "delete", cb, data);
}

void
vd_storage_vol_resize_async(VdDaemon *d, VdStoragePool *pool, const char *name, guint64 capacity,
                            gboolean delta, gboolean shrink, GAsyncReadyCallback cb,
                            gpointer data)
{
    VolJob *job = job_new(JOB_RESIZE, pool);
    GError *error = NULL;

    job->capacity = capacity;
    job->delta = delta;
    job->shrink = shrink;
    if (!(job->path = vd_storage_vol_existing_path(pool, name, &error)))
        return job_fail(job, error, cb, data);
    job_run(d, pool, job, "resize", cb, data);
}

void
vd_storage_vol_clone_async(VdDaemon *d, VdStoragePool *pool, const char *name,
                           const char *new_name, GAsyncReadyCallback cb, gpointer data)
{
    VolJob *job = job_new(JOB_CLONE, pool);
    GError *error = NULL;

    if (!(job->path = vd_storage_vol_existing_path(pool, name, &error)) ||
        !(job->new_path = vd_storage_vol_path(pool, new_name, &error)) ||
        !check_absent(pool, new_name, job->new_path, &error))
        return job_fail(job, error, cb, data);
    job_run(d, pool, job, "clone", cb, data);
}
