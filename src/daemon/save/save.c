/* save and managedsave: the guest is paused, its live XML written after
 * the image header, and QEMU streams its state into the same file through
 * a descriptor the daemon opened (getfd + migrate "fd:"). The file is a
 * temporary one beside FILE, renamed once the stream is complete and on
 * disk; then QEMU ends ("shut off (saved)"). A failure or domjobabort
 * removes the temporary file and lets the guest run on as before. */
#include "daemon/save/save-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>

#include "daemon/domain/domain-process.h"
#include "daemon/domain/start-phase.h"
#include "daemon/path-policy.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

/* How often QEMU's stream is asked how far it is: the save or restore
 * ends at the first answer that says completed, so this bounds the time
 * added to each (QEMU's MIGRATION events are off by default). */
#define POLL_MS 25
#define SAVE_FDNAME "vd-save"

typedef struct {
    int refs;
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    char *path;
    char *tmp;
    int fd;
    gboolean managed;
    gboolean was_running;
    gboolean migrating; /* QEMU accepted "migrate" */
    gboolean finishing; /* the stream is complete: QEMU is being ended */
    gboolean ended;     /* done() was called */
    gboolean qemu_gone;
    gboolean polling;
    guint poll;
    guint64 bandwidth_mib;
    guint64 data_offset; /* the header's length: QEMU's stream follows */
    VdDomainWaitFunc done;
    gpointer user_data;
} SaveOp;

static SaveOp *
save_op_ref(SaveOp *op)
{
    op->refs++;
    return op;
}

static void
save_op_unref(SaveOp *op)
{
    if (--op->refs > 0)
        return;
    if (op->fd >= 0)
        close(op->fd);
    vd_domain_obj_unref(op->dom);
    g_free(op->path);
    g_free(op->tmp);
    g_free(op);
}

gboolean
vd_save_has_managed(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *path = vd_paths_domain_managed_save(d->paths, dom->name);
    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

gboolean
vd_save_rename_managed(VdDaemon *d, const char *old_name, const char *new_name, GError **error)
{
    g_autofree char *from = vd_paths_domain_managed_save(d->paths, old_name);
    g_autofree char *to = vd_paths_domain_managed_save(d->paths, new_name);
    if (!g_file_test(from, G_FILE_TEST_IS_REGULAR))
        return TRUE;
    if (g_rename(from, to) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot move the managed save image '%s' to '%s': %s", from,
                    to, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_save_remove_managed(VdDaemon *d, VdDomainObj *dom, gboolean *removed, GError **error)
{
    g_autofree char *path = vd_paths_domain_managed_save(d->paths, dom->name);
    *removed = FALSE;
    if (dom->job == VD_JOB_SAVE ||
        (dom->job == VD_JOB_START && dom->async_job && vd_domain_async_job_current(dom))) {
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' is being saved or restored; try again when it has finished",
                    dom->name);
        return FALSE;
    }
    if (g_unlink(path) < 0) {
        if (errno == ENOENT)
            return TRUE;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: Failed to remove managed save file '%s': %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    *removed = TRUE;
    return TRUE;
}

gboolean
vd_save_undefine_check(VdDaemon *d, VdDomainObj *dom, gboolean remove, GError **error)
{
    if (!dom->persistent || !vd_save_has_managed(d, dom))
        return TRUE;
    if (!remove) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: Refusing to undefine while domain managed "
                    "save image exists; remove it with 'managedsave-remove %s' or undefine with "
                    "--managed-save",
                    dom->name);
        return FALSE;
    }
    gboolean removed;
    return vd_save_remove_managed(d, dom, &removed, error);
}

/* ---- the end of a save ---------------------------------------------------- */

static void
save_complete(SaveOp *op, const GError *error)
{
    VdDomainObj *dom = op->dom;
    if (op->ended)
        return;
    op->ended = TRUE;
    if (dom->save_op == op) {
        dom->save_op = NULL;
        save_op_unref(op);
    }
    if (dom->job == VD_JOB_SAVE)
        dom->job = VD_JOB_NONE;
    /* The guest is as it should be (resumed, or QEMU ended): a daemon
     * restart has nothing left to put right. */
    vd_save_record_remove(op->d, dom);
    vd_domain_async_job_end(dom, error == NULL);
    op->done(dom, error, op->user_data);
    vd_domain_list_forget_if_gone(op->d->domains, dom);
}

typedef struct {
    SaveOp *op;
    GError *error;
} ResumeWait;

static void
resumed(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    ResumeWait *w = data;
    SaveOp *op = w->op;
    VdDomainObj *dom = op->dom;
    (void)qmp;
    (void)result;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (!error && vd_state_is_active(dom->state)) {
        vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_UNPAUSED);
        vd_domain_status_save(op->d->domains, dom, NULL);
    } else if (error) {
        g_warning("domain '%s': cannot resume after a failed save: %s", dom->name, error->message);
    }
    save_complete(op, w->error);
    g_error_free(w->error);
    save_op_unref(op);
    g_free(w);
}

/* The save failed (or was aborted): no image, and the guest as it was. */
static void
save_fail(SaveOp *op, GError *error)
{
    VdDomainObj *dom = op->dom;
    if (op->ended) {
        g_error_free(error);
        return;
    }
    g_clear_handle_id(&op->poll, g_source_remove);
    if (op->tmp)
        g_unlink(op->tmp);
    if (dom->job == VD_JOB_SAVE)
        dom->job = VD_JOB_NONE;
    if (!op->qemu_gone && dom->qmp && vd_state_is_active(dom->state)) {
        /* QEMU keeps the descriptor until told: the unlinked file's
         * space is freed only once it lets go. */
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "fdname", SAVE_FDNAME);
        vd_qmp_command(dom->qmp, "closefd", args, NULL, NULL);
        if (op->was_running) {
            ResumeWait *w = g_new0(ResumeWait, 1);
            w->op = save_op_ref(op);
            w->error = error;
            dom->internal_transition++;
            vd_qmp_command(dom->qmp, "cont", NULL, resumed, w);
            return;
        }
        vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
        vd_domain_status_save(op->d->domains, dom, NULL);
    }
    save_complete(op, error);
    g_error_free(error);
}

static void
qemu_ended(VdDomainObj *dom, const GError *error, gpointer data)
{
    SaveOp *op = data;
    (void)dom;
    /* The image is complete and renamed whatever the end of QEMU said. */
    if (error)
        g_warning("domain '%s': after its save: %s", op->dom->name, error->message);
    save_complete(op, NULL);
    save_op_unref(op);
}

/* "quit" may be answered by the connection closing as QEMU ends; only
 * a QEMU still there after a refusal is made to end. */
static void
quit_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    (void)qmp;
    (void)result;
    if (error && dom->pid > 0 && vd_state_is_active(dom->state) && kill(dom->pid, 0) == 0) {
        g_warning("domain '%s': QEMU refused to quit after its save (%s): SIGTERM", dom->name,
                  error->message);
        kill(dom->pid, SIGTERM);
    }
    vd_domain_obj_unref(dom);
}

static void
synced(GObject *source, GAsyncResult *res, gpointer data)
{
    SaveOp *op = data;
    VdDomainObj *dom = op->dom;
    g_autoptr(GError) error = NULL;
    (void)source;

    /* Tests: a daemon killed with the stream complete and synced, before
     * the rename (save-recover.c finishes it at restart). */
    vd_start_crash_point("save-synced");
    if (!g_task_propagate_boolean(G_TASK(res), &error) ||
        (!op->ended && g_rename(op->tmp, op->path) < 0 &&
         (g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                      "operation failed: cannot rename '%s' to '%s': %s", op->tmp, op->path,
                      g_strerror(errno)),
          TRUE))) {
        op->finishing = FALSE;
        save_fail(op, g_steal_pointer(&error));
        save_op_unref(op);
        return;
    }
    if (op->ended) {
        save_op_unref(op);
        return;
    }
    g_clear_pointer(&op->tmp, g_free); /* renamed: nothing to remove now */
    {
        g_autofree char *dir = g_path_get_dirname(op->path);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    if (!vd_state_is_active(dom->state)) {
        save_complete(op, NULL);
        save_op_unref(op);
        return;
    }
    /* QEMU's state is in the file: end it as "shut off (saved)". The
     * reason is set first, so that QEMU's SHUTDOWN and the end of its
     * QMP connection are taken as ours. */
    dom->stop_reason = VD_REASON_SAVED;
    vd_domain_obj_wait_inactive(dom, qemu_ended, op); /* keeps our reference */
    vd_qmp_command(dom->qmp, "quit", NULL, quit_reply, vd_domain_obj_ref(dom));
}

static void
sync_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SaveOp *op = data;
    (void)source;
    (void)cancellable;
    if (fdatasync(op->fd) < 0) {
        g_task_return_new_error(task, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: cannot write '%s' to disk: %s", op->tmp,
                                g_strerror(errno));
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static void
stream_complete(SaveOp *op)
{
    op->finishing = TRUE;
    g_clear_handle_id(&op->poll, g_source_remove);
    GTask *task = g_task_new(NULL, NULL, synced, save_op_ref(op));
    g_task_set_task_data(task, op, NULL);
    g_task_run_in_thread(task, sync_thread);
    g_object_unref(task);
}

/* ---- the stream ---------------------------------------------------------- */

static void
migrate_polled(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    SaveOp *op = data;
    VdDomainObj *dom = op->dom;
    (void)qmp;
    op->polling = FALSE;
    if (op->ended || op->finishing) {
        save_op_unref(op);
        return;
    }
    if (error) {
        save_fail(op, g_error_copy(error));
        save_op_unref(op);
        return;
    }
    JsonObject *info =
        result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
    const char *status = info ? json_object_get_string_member_with_default(info, "status", "") : "";
    VdDomainAsyncJob *job = vd_domain_async_job_current(dom);
    if (job && info)
        vd_save_job_update_from_migrate(job, info);
    if (g_str_equal(status, "completed")) {
        stream_complete(op);
    } else if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
        gboolean aborted = job && job->abort_requested;
        const char *desc = json_object_get_string_member_with_default(info, "error-desc", status);
        save_fail(op, aborted ? g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                            "operation aborted: job 'domain save' canceled by "
                                            "client; domain '%s' runs on as before",
                                            dom->name)
                              : g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                            "operation failed: domain save job: %s", desc));
    }
    save_op_unref(op);
}

static gboolean
poll_tick(gpointer data)
{
    SaveOp *op = data;
    if (!op->polling && op->dom->qmp) {
        op->polling = TRUE;
        vd_qmp_command(op->dom->qmp, "query-migrate", NULL, migrate_polled, save_op_ref(op));
    }
    return G_SOURCE_CONTINUE;
}

static void step_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data);

static void
migrate_started(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    SaveOp *op = data;
    (void)qmp;
    (void)result;
    if (op->ended) {
        save_op_unref(op);
        return;
    }
    if (error) {
        save_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: QEMU refused to save domain '%s': %s",
                                  op->dom->name, error->message));
        save_op_unref(op);
        return;
    }
    op->migrating = TRUE;
    VdDomainAsyncJob *job = vd_domain_async_job_current(op->dom);
    if (job && job->abort_requested) /* domjobabort came while we set up */
        vd_qmp_command(op->dom->qmp, "migrate_cancel", NULL, NULL, NULL);
    op->poll = g_timeout_add(POLL_MS, poll_tick, op);
    poll_tick(op);
    save_op_unref(op);
}

/* After "stop" (or at once for a paused guest): the speed limit, the
 * descriptor, the stream. */
static void
send_stream(SaveOp *op)
{
    VdDomainObj *dom = op->dom;
    VdDomainAsyncJob *job = vd_domain_async_job_current(dom);
    if (job && job->abort_requested) {
        save_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation aborted: job 'domain save' canceled by client"));
        return;
    }
    JsonObject *params = json_object_new();
    /* Unlimited unless asked (QEMU's default is a network's 128 MiB/s). */
    gint64 bw = op->bandwidth_mib ? (gint64)op->bandwidth_mib * 1024 * 1024 : G_MAXINT64;
    json_object_set_int_member(params, "max-bandwidth", bw);
    vd_qmp_command(dom->qmp, "migrate-set-parameters", params, NULL, NULL);

    int qfd = dup(op->fd);
    if (qfd < 0) {
        save_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "operation failed: dup: %s",
                                  g_strerror(errno)));
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "fdname", SAVE_FDNAME);
    vd_qmp_command_with_fd(dom->qmp, "getfd", args, qfd, step_reply, save_op_ref(op));
    JsonObject *margs = json_object_new();
    json_object_set_string_member(margs, "uri", "fd:" SAVE_FDNAME);
    vd_qmp_command(dom->qmp, "migrate", margs, migrate_started, save_op_ref(op));
}

/* getfd: its failure makes "migrate" fail too, which reports it. */
static void
step_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    SaveOp *op = data;
    (void)qmp;
    (void)result;
    if (error)
        g_warning("domain '%s': getfd for the save: %s", op->dom->name, error->message);
    save_op_unref(op);
}

static void
stopped(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    SaveOp *op = data;
    VdDomainObj *dom = op->dom;
    (void)qmp;
    (void)result;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (op->ended) {
        save_op_unref(op);
        return;
    }
    if (error) {
        op->was_running = FALSE; /* it did not stop: nothing to resume */
        save_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: cannot pause domain '%s' to save it: %s",
                                  dom->name, error->message));
        save_op_unref(op);
        return;
    }
    vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_SAVED);
    vd_domain_status_save(op->d->domains, dom, NULL);
    send_stream(op);
    save_op_unref(op);
}

/* ---- the request ---------------------------------------------------------- */

static gboolean
write_all(int fd, const guint8 *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        buf += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Claims the temporary file beside @op->path and writes the header. */
static gboolean
open_image(SaveOp *op, guint32 flags, GError **error)
{
    VdDomainObj *dom = op->dom;
    g_autofree char *dir = g_path_get_dirname(op->path);
    g_autofree char *base = g_path_get_basename(op->path);
    struct stat st;

    if (op->managed && !vd_dir_ensure(dir, 0700, error))
        return FALSE;
    if (!op->managed && lstat(op->path, &st) == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "operation failed: file '%s' already exists: a save never overwrites a "
                    "file; choose another name or remove it first",
                    op->path);
        return FALSE;
    }
    g_autofree char *tmp_base = g_strdup_printf(".%s.vdsave-tmp", base);
    op->tmp = g_build_filename(dir, tmp_base, NULL);
    op->fd = open(op->tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (op->fd < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == EEXIST ? VD_ERROR_BUSY : VD_ERROR_OPERATION_FAILED,
                    e == EEXIST ? "operation failed: '%s' exists: another save to '%s' is in "
                                  "progress, or one was interrupted (then remove it)"
                                : "operation failed: cannot create '%s' for '%s': %s",
                    op->tmp, op->path, g_strerror(e));
        g_clear_pointer(&op->tmp, g_free); /* not ours to remove */
        return FALSE;
    }
    if (!op->managed) {
        g_autoptr(VdPathGuard) guard = vd_path_policy_guard(op->d->paths);
        if (!vd_path_guard_check_fd(guard, "save image", op->path, op->fd, error))
            return FALSE;
    }
    g_autofree char *xml = vd_domain_def_format(dom->live, VD_DOMAIN_FORMAT_SECURE);
    gsize len = 0;
    g_autofree guint8 *head = vd_save_image_header_encode(xml, flags, &len);
    if (!write_all(op->fd, head, len)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot write '%s': %s", op->tmp, g_strerror(errno));
        return FALSE;
    }
    op->data_offset = len;
    return TRUE;
}

void
vd_save_domain(VdDaemon *d, VdDomainObj *dom, const char *path, const VdSaveOptions *opts,
               VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    if (!vd_domain_obj_check(dom, VD_OP_SAVE, &error)) {
        done(dom, error, user_data);
        return;
    }
    if (!path && !dom->persistent) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot do managed save for transient "
                    "domain");
        done(dom, error, user_data);
        return;
    }
    if (path && !g_path_is_absolute(path)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the save file '%s' must be an absolute path", path);
        done(dom, error, user_data);
        return;
    }
    if (opts->running && opts->paused) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --running and --paused are mutually exclusive");
        done(dom, error, user_data);
        return;
    }
    SaveOp *op = g_new0(SaveOp, 1);
    op->refs = 1;
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->fd = -1;
    op->managed = path == NULL;
    op->path = path ? g_strdup(path) : vd_paths_domain_managed_save(d->paths, dom->name);
    op->was_running = dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED;
    op->bandwidth_mib = opts->max_bandwidth_mib;
    op->done = done;
    op->user_data = user_data;
    dom->daemon = d;

    gboolean run_after = opts->running || (!opts->paused && op->was_running);
    /* Recorded before the guest is paused: a daemon killed from here on
     * finds at its restart what to finish or undo (save-recover.c). */
    if (!open_image(op, run_after ? VD_SAVE_FLAG_RUNNING : 0, &error) ||
        !vd_save_record_save(d, dom, op->tmp, op->path, op->data_offset, op->was_running, &error)) {
        if (op->tmp)
            g_unlink(op->tmp);
        done(dom, error, user_data);
        save_op_unref(op);
        return;
    }
    dom->job = VD_JOB_SAVE;
    dom->save_op = op; /* holds the first reference */
    vd_domain_async_job_begin(dom, "Save", VD_ASYNC_JOB_MIGRATION, NULL, TRUE);
    if (op->was_running) {
        /* The image is consistent only if the guest does not run while
         * it is written (libvirt pauses too); the STOP event is ours. */
        dom->internal_transition++;
        vd_qmp_command(dom->qmp, "stop", NULL, stopped, save_op_ref(op));
        return;
    }
    send_stream(op);
}

/* ---- hooks ---------------------------------------------------------------- */

void
vd_save_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    (void)dom;
    (void)event;
    (void)data;
}

void
vd_save_stopped(VdDomainObj *dom)
{
    SaveOp *op = dom->save_op;
    /* QEMU is gone: no save of it is left to finish or undo. */
    if (dom->daemon)
        vd_save_record_remove(dom->daemon, dom);
    if (!op || op->finishing)
        return;
    op->qemu_gone = TRUE;
    save_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                              "operation failed: domain '%s' stopped while it was being saved",
                              dom->name));
}

void
vd_save_obj_free(VdDomainObj *dom)
{
    (void)dom;
}

gboolean
vd_save_op_migrating(VdDomainObj *dom)
{
    SaveOp *op = dom->save_op;
    return op && op->migrating && !op->finishing;
}
