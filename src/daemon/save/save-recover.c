/* A daemon killed in the middle of a save or of a managed save's restore:
 * what it left is put right when the next daemon finds the domain again.
 *
 * Before a save pauses the guest it records, beside the domain's status
 * file (run_domains_dir/NAME.save-job), QEMU's pid, the temporary and the
 * final file, the header's length and whether the guest ran. At
 * reconnect, QEMU is asked how far its stream got: a complete stream is
 * finished as the daemon would have (sync, rename, QEMU ends: "shut off
 * (saved)"); anything else is cancelled, the temporary file removed and
 * the guest resumed if it ran. A managed restore records the image it
 * loads: once the guest has run from it (the start completed) the image
 * is spent and removed; a start that did not complete keeps it, so that
 * "start" again restores it. The pid guards against a record that
 * outlived its QEMU. */
#include "daemon/save/save-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/domain/start-phase.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

#define GROUP "save-job"
#define RECOVER_POLL_MS 50
#define RECOVER_MAX_POLLS 400 /* 20 s for QEMU to end its stream after migrate_cancel */

static char *
record_path(VdDaemon *d, VdDomainObj *dom)
{
    return vd_paths_domain_run(d->paths, dom->name, "save-job");
}

static gboolean
record_write(VdDaemon *d, VdDomainObj *dom, GKeyFile *kf, GError **error)
{
    g_autofree char *path = record_path(d, dom);
    gsize len = 0;
    g_autofree char *text = g_key_file_to_data(kf, &len, NULL);
    if (!vd_file_replace(path, text, (gssize)len, 0600, error)) {
        g_prefix_error(error,
                       "operation failed: cannot record the save of domain '%s': ", dom->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_save_record_save(VdDaemon *d, VdDomainObj *dom, const char *tmp, const char *path,
                    guint64 data_offset, gboolean was_running, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, GROUP, "kind", "save");
    g_key_file_set_integer(kf, GROUP, "pid", (int)dom->pid);
    g_key_file_set_string(kf, GROUP, "tmp", tmp);
    g_key_file_set_string(kf, GROUP, "path", path);
    g_key_file_set_uint64(kf, GROUP, "data-offset", data_offset);
    g_key_file_set_boolean(kf, GROUP, "was-running", was_running);
    return record_write(d, dom, kf, error);
}

gboolean
vd_save_record_restore(VdDaemon *d, VdDomainObj *dom, const char *image, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, GROUP, "kind", "restore");
    g_key_file_set_integer(kf, GROUP, "pid", (int)dom->pid);
    g_key_file_set_string(kf, GROUP, "path", image);
    return record_write(d, dom, kf, error);
}

void
vd_save_record_remove(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *path = record_path(d, dom);
    g_unlink(path);
}

/* The record of @dom's QEMU, or NULL (none, unreadable, or another
 * QEMU's: those are removed). */
static GKeyFile *
record_load(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *path = record_path(d, dom);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return NULL;
    if (g_key_file_get_integer(kf, GROUP, "pid", NULL) != (int)dom->pid || dom->pid <= 0) {
        g_unlink(path);
        return NULL;
    }
    return g_steal_pointer(&kf);
}

/* ---- a save the previous daemon did not finish --------------------------- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    char *tmp;
    char *path;
    guint64 data_offset;
    gboolean was_running;
    gboolean cancel_sent;
    int polls;
} Recover;

static void
recover_free(Recover *r)
{
    vd_domain_obj_unref(r->dom);
    g_free(r->tmp);
    g_free(r->path);
    g_free(r);
}

static gboolean
recover_gone(Recover *r)
{
    if (vd_state_is_active(r->dom->state) && r->dom->qmp)
        return FALSE;
    g_warning("domain '%s': QEMU ended while its interrupted save was being put right",
              r->dom->name);
    g_unlink(r->tmp);
    recover_free(r);
    return TRUE;
}

static void
recover_resumed(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    VdDomainObj *dom = r->dom;
    (void)qmp;
    (void)result;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (vd_state_is_active(dom->state)) {
        if (error)
            g_warning("domain '%s': cannot resume it after its interrupted save: %s", dom->name,
                      error->message);
        else
            vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_UNPAUSED);
        vd_domain_status_save(r->d->domains, dom, NULL);
    }
    recover_free(r);
}

/* The stream did not complete: no image, and the guest as it was. */
static void
recover_cancel(Recover *r)
{
    VdDomainObj *dom = r->dom;
    g_warning("domain '%s': the daemon stopped while it was being saved to '%s'; the save is "
              "cancelled%s",
              dom->name, r->path, r->was_running ? " and the guest resumed" : "");
    g_unlink(r->tmp);
    vd_save_record_remove(r->d, dom);
    if (dom->job == VD_JOB_SAVE)
        dom->job = VD_JOB_NONE;
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "fdname", "vd-save");
    vd_qmp_command(dom->qmp, "closefd", args, NULL, NULL);
    if (r->was_running) {
        dom->internal_transition++;
        vd_qmp_command(dom->qmp, "cont", NULL, recover_resumed, r);
        return;
    }
    vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
    vd_domain_status_save(r->d->domains, dom, NULL);
    recover_free(r);
}

static void
recover_quit_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    (void)qmp;
    (void)result;
    if (error && r->dom->pid > 0 && vd_state_is_active(r->dom->state)) {
        g_warning("domain '%s': QEMU refused to quit after its save (%s): SIGTERM", r->dom->name,
                  error->message);
        kill(r->dom->pid, SIGTERM);
    }
    recover_free(r);
}

static void
recover_synced(GObject *source, GAsyncResult *res, gpointer data)
{
    Recover *r = data;
    VdDomainObj *dom = r->dom;
    g_autoptr(GError) error = NULL;
    (void)source;
    if (recover_gone(r))
        return;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        g_warning("domain '%s': %s", dom->name, error->message);
        recover_cancel(r);
        return;
    }
    g_info("domain '%s': its save to '%s' had completed when the daemon stopped; finished now",
           dom->name, r->path);
    /* QEMU ends as after any save: "shut off (saved)". The record goes
     * with it (vd_save_stopped), so that a daemon killed in between still
     * finds a QEMU to end. */
    dom->stop_reason = VD_REASON_SAVED;
    vd_qmp_command(dom->qmp, "quit", NULL, recover_quit_reply, r);
}

/* Worker: the complete stream synced and renamed to its final name. */
static void
recover_sync_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Recover *r = data;
    (void)source;
    (void)cancellable;
    int fd = open(r->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        /* Renamed already (the daemon stopped after the rename). */
        if (errno == ENOENT && g_file_test(r->path, G_FILE_TEST_IS_REGULAR)) {
            g_task_return_boolean(task, TRUE);
            return;
        }
        g_task_return_new_error(task, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot open '%s': %s",
                                r->tmp, g_strerror(errno));
        return;
    }
    int rc = fdatasync(fd);
    int e = errno;
    close(fd);
    if (rc < 0 || g_rename(r->tmp, r->path) < 0) {
        if (rc == 0)
            e = errno;
        g_task_return_new_error(task, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "cannot finish the save image '%s': %s", r->path, g_strerror(e));
        return;
    }
    g_autofree char *dir = g_path_get_dirname(r->path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    g_task_return_boolean(task, TRUE);
}

/* Whether QEMU's complete stream is in the file: more than the header in
 * the temporary file (a "completed" status could be an earlier stream's if
 * "migrate" never reached QEMU), or the final file if renamed already. */
static gboolean
stream_in_file(Recover *r)
{
    struct stat st;
    if (stat(r->tmp, &st) == 0)
        return (guint64)st.st_size > r->data_offset;
    return errno == ENOENT && g_file_test(r->path, G_FILE_TEST_IS_REGULAR);
}

static gboolean recover_poll(gpointer data);

static void
recover_migrate_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    (void)qmp;
    if (recover_gone(r))
        return;
    JsonObject *info =
        !error && result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
    const char *status =
        info ? json_object_get_string_member_with_default(info, "status", "none") : "none";
    if (g_str_equal(status, "completed") && stream_in_file(r)) {
        GTask *task = g_task_new(NULL, NULL, recover_synced, r);
        g_task_set_task_data(task, r, NULL);
        g_task_run_in_thread(task, recover_sync_thread);
        g_object_unref(task);
        return;
    }
    if (g_str_equal(status, "none") || g_str_equal(status, "failed") ||
        g_str_equal(status, "cancelled") || g_str_equal(status, "completed") ||
        ++r->polls > RECOVER_MAX_POLLS) {
        recover_cancel(r);
        return;
    }
    /* Still streaming: stop it, and wait until QEMU says it stopped
     * before the guest may run again. */
    if (!r->cancel_sent) {
        r->cancel_sent = TRUE;
        vd_qmp_command(r->dom->qmp, "migrate_cancel", NULL, NULL, NULL);
    }
    g_timeout_add(RECOVER_POLL_MS, recover_poll, r);
}

static gboolean
recover_poll(gpointer data)
{
    Recover *r = data;
    if (!recover_gone(r))
        vd_qmp_command(r->dom->qmp, "query-migrate", NULL, recover_migrate_reply, r);
    return G_SOURCE_REMOVE;
}

static void
recover_restore(VdDaemon *d, VdDomainObj *dom, GKeyFile *kf, const char *status)
{
    g_autofree char *image = g_key_file_get_string(kf, GROUP, "path", NULL);
    vd_save_record_remove(d, dom);
    /* The start's phase logic decides (domain-reconnect.c recover_start):
     * an unfinished start whose QEMU does not run is killed, the guest
     * never ran from the image, which stays for the next start. */
    if (dom->start_phase != VD_START_PHASE_NONE && g_strcmp0(status, "running") != 0) {
        g_warning("domain '%s': its restore from the managed save image '%s' did not complete; "
                  "the image is kept: 'start' restores it again",
                  dom->name, image);
        return;
    }
    if (dom->start_phase != VD_START_PHASE_NONE) {
        /* "cont" was answered: the start is complete, as recover_start()
         * would say, but the guest runs on from its saved state. */
        dom->start_phase = VD_START_PHASE_NONE;
        dom->job = VD_JOB_NONE;
        dom->stop_reason = VD_REASON_UNKNOWN;
        vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_RESTORED);
    }
    if (image && g_unlink(image) < 0 && errno != ENOENT)
        g_warning("domain '%s': cannot remove its spent managed save image '%s': %s", dom->name,
                  image, g_strerror(errno));
    else
        g_info("domain '%s': restored from its managed save image before the daemon stopped; "
               "the image is removed",
               dom->name);
}

void
vd_save_reconnected(VdDaemon *d, VdDomainObj *dom, JsonNode *query_status)
{
    const char *status = query_status && JSON_NODE_HOLDS_OBJECT(query_status)
                             ? json_object_get_string_member_with_default(
                                   json_node_get_object(query_status), "status", "")
                             : NULL;
    /* A save or start this daemon began before QEMU answered its
     * reconnection is its own, not one to put right. */
    if (!vd_state_is_active(dom->state) || dom->save_op || dom->start_op)
        return;
    g_autoptr(GKeyFile) kf = record_load(d, dom);
    if (!kf)
        return;
    g_autofree char *kind = g_key_file_get_string(kf, GROUP, "kind", NULL);
    if (g_strcmp0(kind, "restore") == 0) {
        recover_restore(d, dom, kf, status);
        return;
    }
    Recover *r = g_new0(Recover, 1);
    r->d = d;
    r->dom = vd_domain_obj_ref(dom);
    r->tmp = g_key_file_get_string(kf, GROUP, "tmp", NULL);
    r->path = g_key_file_get_string(kf, GROUP, "path", NULL);
    r->data_offset = g_key_file_get_uint64(kf, GROUP, "data-offset", NULL);
    r->was_running = g_key_file_get_boolean(kf, GROUP, "was-running", NULL);
    if (!status || !dom->qmp) {
        /* QEMU did not answer: the record stays for the next restart. */
        g_warning("domain '%s': a save was interrupted, and QEMU does not answer: the guest "
                  "stays paused, '%s' stays",
                  dom->name, r->tmp ? r->tmp : "?");
        recover_free(r);
        return;
    }
    if (!r->tmp || !r->path) {
        g_warning("domain '%s': unusable record of an interrupted save; removed", dom->name);
        if (r->tmp)
            g_unlink(r->tmp);
        vd_save_record_remove(d, dom);
        recover_free(r);
        return;
    }
    /* Nothing else may touch the domain until this is decided. */
    dom->job = VD_JOB_SAVE;
    vd_qmp_command(dom->qmp, "query-migrate", NULL, recover_migrate_reply, r);
}

void
vd_save_reconnect_dead(VdDaemon *d, VdDomainObj *dom)
{
    g_autoptr(GKeyFile) kf = record_load(d, dom);
    if (!kf)
        return;
    g_autofree char *kind = g_key_file_get_string(kf, GROUP, "kind", NULL);
    g_autofree char *path = g_key_file_get_string(kf, GROUP, "path", NULL);
    g_autofree char *tmp = g_key_file_get_string(kf, GROUP, "tmp", NULL);
    vd_save_record_remove(d, dom);
    if (g_strcmp0(kind, "restore") == 0) {
        /* A guest that ran from the image (its start completed) has moved
         * on from it: restoring it again would undo what its disks saw. */
        if (dom->start_phase == VD_START_PHASE_NONE && path)
            g_unlink(path);
        return;
    }
    /* A save: its QEMU ended after the image was renamed ("quit" was
     * sent), or the image cannot be trusted. */
    if (tmp && !g_file_test(tmp, G_FILE_TEST_EXISTS) && path &&
        g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        if (dom->start_phase == VD_START_PHASE_NONE)
            dom->stop_reason = VD_REASON_SAVED;
        return;
    }
    if (tmp)
        g_unlink(tmp);
}
