/* virt-clone in the daemon (clone.h). Three steps, two of them in worker
 * threads: the plan (formats probed, names checked against the files
 * that exist), the busy marks of the new images taken in the main loop
 * (so GET /v1/jobs shows them), the copies with their progress, and the
 * definition back in the main loop only when every disk is ready. A
 * failure at any step removes the images this clone made. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/clone/clone.h"
#include "daemon/domain/domain-files.h"
#include "daemon/path-policy.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;          /* ref'd; NULL for --original-xml */
    VdDomainDef *orig;
    VdCloneOptions *opts;
    GStrv paths;               /* per disk of orig */
    GStrv formats;
    gboolean active, paused;
    gboolean owns_job;         /* set dom->job = VD_JOB_CLONE (a --print-xml run does not) */
    GHashTable *names, *uuids, *macs;   /* taken in the registry, snapshot for the worker */
    VdClonePlan *plan;
    GPtrArray *ops;            /* VdStorageOp* (ref'd), per COPY/LINK disk, same order */
    GPtrArray *made;           /* char*: files this clone created (removed on failure) */
    GError *error;
    VdCloneDone done;
    gpointer data;
} CloneRun;

static void
clone_run_free(CloneRun *run)
{
    if (run->dom) {
        if (run->owns_job)
            run->dom->job = VD_JOB_NONE;
        vd_domain_obj_unref(run->dom);
    }
    vd_domain_def_free(run->orig);
    vd_clone_options_free(run->opts);
    g_strfreev(run->paths);
    g_strfreev(run->formats);
    g_hash_table_unref(run->names);
    g_hash_table_unref(run->uuids);
    g_hash_table_unref(run->macs);
    vd_clone_plan_free(run->plan);
    if (run->ops)
        g_ptr_array_unref(run->ops);
    g_ptr_array_unref(run->made);
    g_clear_error(&run->error);
    g_free(run);
}

static void
finish(CloneRun *run, VdDomainObj *clone)
{
    /* The job ends before the answer: a client that starts the original
     * right after the clone's answer must not find it busy. */
    if (run->dom && run->owns_job) {
        run->owns_job = FALSE;
        run->dom->job = VD_JOB_NONE;
        /* Undefined meanwhile (undefine is allowed during a clone): the
         * registry kept it only for the job. */
        vd_domain_list_forget_if_gone(run->d->domains, run->dom);
    }
    run->done(run->d, run->plan, clone, run->error, run->data);
    clone_run_free(run);
}

/* ---- the journal: what a daemon killed halfway leaves is removed ----
 *
 * state_dir/clone/UUID.list names every file this clone created, written
 * (atomically) right after each is created and before anything is
 * written into it; removed once the clone is defined or its files are
 * gone. At the next start, vd_clone_recover() removes the files of every
 * journal left whose domain was not defined. */

static char *
journal_dir(const VdPaths *paths)
{
    return g_build_filename(paths->state_dir, "clone", NULL);
}

static char *
journal_path(CloneRun *run)
{
    g_autofree char *dir = journal_dir(run->d->paths);
    g_autofree char *leaf = g_strdup_printf("%s.list", run->plan->def->uuid);
    return g_build_filename(dir, leaf, NULL);
}

/* @pending (may be NULL): the file about to be created, recorded first
 * so that a kill between its creation and the next write of the journal
 * cannot leave it unrecorded. */
static gboolean
journal_write(CloneRun *run, const char *pending, GError **error)
{
    g_autofree char *dir = journal_dir(run->d->paths);
    g_autofree char *path = journal_path(run);
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < run->made->len; i++)
        g_string_append_printf(text, "made %s\n", (char *)g_ptr_array_index(run->made, i));
    if (pending)
        g_string_append_printf(text, "pending %s\n", pending);
    return vd_dir_ensure(dir, 0700, error) &&
           vd_file_write_atomic(path, text->str, (gssize)text->len, 0600, error);
}

static void
journal_remove(CloneRun *run)
{
    g_autofree char *path = journal_path(run);
    if (g_unlink(path) < 0 && errno != ENOENT)
        g_warning("clone: cannot remove '%s': %s", path, g_strerror(errno));
}

void
vd_clone_recover(VdDaemon *d)
{
    g_autofree char *dir = journal_dir(d->paths);
    g_autoptr(GDir) gdir = g_dir_open(dir, 0, NULL);
    const char *leaf;

    while (gdir && (leaf = g_dir_read_name(gdir))) {
        g_autofree char *path = g_build_filename(dir, leaf, NULL);
        g_autofree char *uuid = g_strndup(leaf, strcspn(leaf, "."));
        g_autofree char *text = NULL;
        if (!g_str_has_suffix(leaf, ".list"))
            continue;
        /* Defined: the clone was complete, only the journal's removal
         * was missed. */
        if (!vd_domain_list_find_uuid(d->domains, uuid) &&
            g_file_get_contents(path, &text, NULL, NULL)) {
            g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
            for (guint i = 0; lines[i]; i++) {
                /* A pending file was maybe not created by this clone: it
                 * goes only if it is still the empty file a claim makes. */
                const char *file = NULL;
                struct stat st;
                if (g_str_has_prefix(lines[i], "made /"))
                    file = lines[i] + 5;
                else if (g_str_has_prefix(lines[i], "pending /") &&
                         g_lstat(lines[i] + 8, &st) == 0 && S_ISREG(st.st_mode) &&
                         st.st_size == 0)
                    file = lines[i] + 8;
                if (file && g_unlink(file) == 0)
                    g_message("clone: removed '%s', left by a clone that did not finish", file);
            }
        }
        g_unlink(path);
    }
}

/* ---- worker: the plan ---- */

static gboolean
taken(VdCloneTaken what, const char *value, gpointer data)
{
    CloneRun *run = data;

    switch (what) {
    case VD_CLONE_TAKEN_NAME:
        return g_hash_table_contains(run->names, value);
    case VD_CLONE_TAKEN_UUID:
        return g_hash_table_contains(run->uuids, value);
    case VD_CLONE_TAKEN_MAC:
        return g_hash_table_contains(run->macs, value);
    case VD_CLONE_TAKEN_PATH:
        return g_file_test(value, G_FILE_TEST_EXISTS) ||
               g_file_test(value, G_FILE_TEST_IS_SYMLINK);
    }
    return FALSE;
}

static void
plan_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    CloneRun *run = data;
    g_autoptr(GRand) rand = g_rand_new();

    for (guint i = 0; run->paths[i]; i++) {
        if (!*run->formats[i] && *run->paths[i]) {
            g_free(run->formats[i]);
            run->formats[i] = vd_storage_probe_format(run->paths[i]);
        }
    }
    /* An empty string stands for "no file" in the GStrv. */
    guint n = g_strv_length(run->paths);
    g_autofree const char **paths = g_new0(const char *, n + 1);
    for (guint i = 0; i < n; i++)
        paths[i] = *run->paths[i] ? run->paths[i] : NULL;
    run->plan = vd_clone_plan_make(run->orig, paths, (const char *const *)run->formats,
                                   run->active, run->paused, run->opts, taken, run, rand,
                                   &run->error);
    /* The sizes for the client's "Allocating" lines: qemu-img info. */
    for (guint i = 0; run->plan && i < run->plan->disks->len; i++) {
        VdCloneDisk *cd = g_ptr_array_index(run->plan->disks, i);
        if (cd->action == VD_CLONE_DISK_COPY || cd->action == VD_CLONE_DISK_LINK) {
            g_autoptr(VdStorageVolDef) vol = vd_storage_vol_inspect(cd->src_path, NULL);
            cd->capacity = vol ? vol->capacity : 0;
        }
    }
    g_task_return_boolean(task, run->plan != NULL);
}

/* ---- worker: the copies ---- */

static void
on_progress(double percent, gpointer data)
{
    vd_storage_op_set_progress(data, percent);
}

/* Creates @path exclusively: a file that appeared since the plan is
 * someone else's and is never overwritten. */
static gboolean
claim(CloneRun *run, const char *path, GError **error)
{
    if (!journal_write(run, path, error)) {
        g_prefix_error(error, "cannot record the clone's files: ");
        return FALSE;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;
        g_autoptr(GError) ignored = NULL;
        journal_write(run, NULL, &ignored);
        g_set_error(error, VD_ERROR, err == EEXIST ? VD_ERROR_EXISTS : VD_ERROR_OPERATION_FAILED,
                    "cannot create '%s': %s", path, g_strerror(err));
        return FALSE;
    }
    close(fd);
    g_ptr_array_add(run->made, g_strdup(path));
    if (!journal_write(run, NULL, error)) {
        g_prefix_error(error, "cannot record the clone's files: ");
        return FALSE;
    }
    return TRUE;
}

static gboolean
copy_disk(CloneRun *run, VdCloneDisk *cd, VdStorageOp *op, GError **error)
{
    if (!claim(run, cd->new_path, error))
        return FALSE;
    if (cd->action == VD_CLONE_DISK_LINK) {
        /* The backing file by its absolute path, its format recorded
         * (-F): nothing is probed again at each start. */
        const char *args[] = {"create", "-q", "-f", "qcow2", "-F", cd->src_format, "-b",
                              cd->src_path, cd->new_path, NULL};
        if (!vd_storage_qemu_img(args, NULL, error))
            return FALSE;
        vd_storage_op_set_progress(op, 100);
        return TRUE;
    }
    if (run->opts->reflink) {
        g_autoptr(GSubprocess) p = g_subprocess_new(
            G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error, "cp",
            "--reflink=always", "--sparse=auto", "--", cd->src_path, cd->new_path, NULL);
        g_autofree char *err = NULL;
        if (!p || !g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err, error))
            return FALSE;
        if (!g_subprocess_get_successful(p)) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "reflink copy of '%s' failed: %s; the file system must support "
                        "reflinks (btrfs, XFS): clone without --reflink",
                        cd->src_path, g_strstrip(err ? err : g_strdup("")));
            return FALSE;
        }
        vd_storage_op_set_progress(op, 100);
        return TRUE;
    }
    /* A full copy in the original's format, sparse unless --nonsparse
     * (-S 0: every zero written; qcow2 also preallocated). A backing
     * chain is flattened so that the clone stands alone. */
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, "convert");
    g_ptr_array_add(a, "-U");
    g_ptr_array_add(a, "-p");
    g_ptr_array_add(a, "-f");
    g_ptr_array_add(a, cd->src_format);
    g_ptr_array_add(a, "-O");
    g_ptr_array_add(a, cd->src_format);
    if (run->opts->nonsparse) {
        g_ptr_array_add(a, "-S");
        g_ptr_array_add(a, "0");
        if (g_str_equal(cd->src_format, "qcow2")) {
            g_ptr_array_add(a, "-o");
            g_ptr_array_add(a, "preallocation=falloc");
        }
    }
    g_ptr_array_add(a, cd->src_path);
    g_ptr_array_add(a, cd->new_path);
    g_ptr_array_add(a, NULL);
    gboolean ok = vd_storage_qemu_img_progress((const char *const *)a->pdata, on_progress, op,
                                               error);
    g_ptr_array_free(a, TRUE);
    return ok;
}

static void
unlink_made(CloneRun *run)
{
    for (guint i = 0; i < run->made->len; i++) {
        const char *p = g_ptr_array_index(run->made, i);
        if (g_unlink(p) < 0 && errno != ENOENT)
            g_warning("clone: cannot remove '%s': %s", p, g_strerror(errno));
    }
    g_ptr_array_set_size(run->made, 0);
    journal_remove(run);
}

static void
copy_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    CloneRun *run = data;
    guint k = 0;
    g_autoptr(VdPathGuard) guard = vd_path_policy_guard(run->d->paths);

    /* What is read must be a client's to read, and what is written its
     * to write (an --original-xml names any path). */
    for (guint i = 0; i < run->plan->disks->len && !run->error; i++) {
        VdCloneDisk *cd = g_ptr_array_index(run->plan->disks, i);
        g_autofree char *src = NULL;
        g_autofree char *dst = NULL;
        if (cd->action != VD_CLONE_DISK_COPY && cd->action != VD_CLONE_DISK_LINK)
            continue;
        src = vd_path_guard_check(guard, "disk", cd->src_path, &run->error);
        if (src)
            dst = vd_path_guard_check(guard, "new disk", cd->new_path, &run->error);
    }
    if (!run->error && run->plan->nvram_src) {
        g_autofree char *src =
            vd_path_guard_check(guard, "UEFI variable store", run->plan->nvram_src, &run->error);
        g_autofree char *dst =
            src ? vd_path_guard_check(guard, "new UEFI variable store", run->plan->nvram_dst,
                                      &run->error)
                : NULL;
    }

    for (guint i = 0; i < run->plan->disks->len && !run->error; i++) {
        VdCloneDisk *cd = g_ptr_array_index(run->plan->disks, i);
        if (cd->action == VD_CLONE_DISK_COPY || cd->action == VD_CLONE_DISK_LINK)
            copy_disk(run, cd, g_ptr_array_index(run->ops, k++), &run->error);
    }
    if (!run->error && run->plan->nvram_src) {
        g_autoptr(GFile) src = g_file_new_for_path(run->plan->nvram_src);
        g_autoptr(GFile) dst = g_file_new_for_path(run->plan->nvram_dst);
        if (claim(run, run->plan->nvram_dst, &run->error) &&
            !g_file_copy(src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &run->error))
            g_prefix_error(&run->error, "cannot copy the UEFI variable store '%s': ",
                           run->plan->nvram_src);
    }
    if (run->error)
        unlink_made(run);
    g_task_return_boolean(task, run->error == NULL);
}

static void
cleanup_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    unlink_made(data);
    g_task_return_boolean(task, TRUE);
}

/* ---- the main loop's steps ---- */

static void
release_ops(CloneRun *run)
{
    for (guint i = 0; run->ops && i < run->ops->len; i++) {
        VdStorageOp *op = g_ptr_array_index(run->ops, i);
        if (run->error) /* the task log's result (issue 14) */
            vd_storage_op_set_failure(op, run->error->message);
        vd_storage_busy_release(run->d->storage, op->path);
    }
}

static void
cleaned(GObject *source, GAsyncResult *res, gpointer data)
{
    finish(data, NULL);
}

static void
copied(GObject *source, GAsyncResult *res, gpointer data)
{
    CloneRun *run = data;
    VdDomainObj *clone = NULL;

    release_ops(run);
    if (!run->error) {
        /* The list takes the definition it keeps: give it a copy, the
         * plan's stays for the answer. */
        VdDomainDef *def = vd_domain_def_copy(run->plan->def);
        if (vd_domain_def_validate_input(def, TRUE, &run->error))
            clone = vd_domain_list_define(run->d->domains, def, &run->error);
        if (!clone) {
            vd_domain_def_free(def);
            GTask *task = g_task_new(NULL, NULL, cleaned, run);
            g_task_set_task_data(task, run, NULL);
            g_task_run_in_thread(task, cleanup_thread);
            g_object_unref(task);
            return;
        }
        journal_remove(run);
    }
    finish(run, clone);
}

static void
files_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    CloneRun *run = data;
    g_autoptr(GPtrArray) notes = vd_domain_files_check_finish(res, &run->error);

    if (!notes) {
        finish(run, NULL);
        return;
    }
    run->ops = g_ptr_array_new_with_free_func((GDestroyNotify)vd_storage_op_unref);
    for (guint i = 0; i < run->plan->disks->len; i++) {
        VdCloneDisk *cd = g_ptr_array_index(run->plan->disks, i);
        if (cd->action != VD_CLONE_DISK_COPY && cd->action != VD_CLONE_DISK_LINK)
            continue;
        g_autofree char *pool = NULL;
        g_autofree char *dir = g_path_get_dirname(cd->new_path);
        g_autoptr(GPtrArray) pools = vd_storage_list(run->d->storage);
        for (guint j = 0; j < pools->len && !pool; j++) {
            VdStoragePool *p = g_ptr_array_index(pools, j);
            if (g_str_equal(p->def->target_path, dir))
                pool = g_strdup(p->def->name);
        }
        VdStorageOp *op = vd_storage_busy_acquire(run->d->storage, pool ? pool : "",
                                                  cd->new_path, "clone", &run->error);
        if (!op) {
            release_ops(run);
            finish(run, NULL);
            return;
        }
        g_ptr_array_add(run->ops, vd_storage_op_ref(op));
    }
    GTask *task = g_task_new(NULL, NULL, copied, run);
    g_task_set_task_data(task, run, NULL);
    g_task_run_in_thread(task, copy_thread);
    g_object_unref(task);
}

static void
planned(GObject *source, GAsyncResult *res, gpointer data)
{
    CloneRun *run = data;

    if (!run->plan || run->opts->print_xml) {
        finish(run, NULL);
        return;
    }
    /* The clone's files pass define's checks before anything is made:
     * the daemon's own directories are no place for an image. */
    vd_domain_files_check_async(run->d, run->plan->def, VD_DOMAIN_FILES_DEFINE, files_checked,
                                run);
}

/* What the other domains hold: the plan must not reuse it. */
static void
snapshot_registry(CloneRun *run)
{
    g_autoptr(GPtrArray) all = vd_domain_list_all(run->d->domains);

    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *o = g_ptr_array_index(all, i);
        g_hash_table_add(run->names, g_strdup(o->name));
        g_hash_table_add(run->uuids, g_strdup(o->uuid));
        const VdDomainDef *defs[] = {vd_domain_obj_def(o), o->live};
        for (guint k = 0; k < G_N_ELEMENTS(defs); k++) {
            for (guint j = 0; defs[k] && j < defs[k]->interfaces->len; j++) {
                VdNetDef *net = g_ptr_array_index(defs[k]->interfaces, j);
                if (net->mac)
                    g_hash_table_add(run->macs, g_ascii_strdown(net->mac, -1));
            }
        }
    }
}

void
vd_clone_start(VdDaemon *d, VdDomainObj *dom, VdDomainDef *orig, VdCloneOptions *opts,
               VdCloneDone done, gpointer data)
{
    CloneRun *run = g_new0(CloneRun, 1);

    run->d = d;
    run->opts = opts;
    run->done = done;
    run->data = data;
    run->made = g_ptr_array_new_with_free_func(g_free);
    run->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    run->uuids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    run->macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (dom) {
        if (!vd_domain_obj_check(dom, VD_OP_CLONE, &run->error)) {
            finish(run, NULL);
            return;
        }
        run->orig = vd_domain_def_copy(vd_domain_obj_def(dom));
        run->active = vd_state_is_active(dom->state);
        run->paused = dom->state == VD_STATE_PAUSED;
    } else {
        run->orig = orig;
    }
    snapshot_registry(run);
    guint n = run->orig->disks->len;
    run->paths = g_new0(char *, n + 1);
    run->formats = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        VdDiskDef *disk = g_ptr_array_index(run->orig->disks, i);
        char *path = NULL;
        if (disk->type == VD_DISK_TYPE_VOLUME && disk->source_pool && disk->source_volume) {
            if (!vd_storage_resolve_volume(d, disk->source_pool, disk->source_volume, &path,
                                           NULL, &run->error)) {
                finish(run, NULL);
                return;
            }
        } else if (disk->type == VD_DISK_TYPE_FILE || disk->type == VD_DISK_TYPE_BLOCK) {
            path = g_strdup(disk->source_file);
        }
        run->paths[i] = path ? path : g_strdup("");
        run->formats[i] = g_strdup(disk->format == VD_DISK_FORMAT_QCOW2 ? "qcow2"
                                   : disk->format == VD_DISK_FORMAT_RAW ? "raw"
                                                                         : "");
    }
    if (dom) {
        run->dom = vd_domain_obj_ref(dom);
        /* Until the copies end: a start would write the images being read. */
        if (!opts->print_xml) {
            dom->job = VD_JOB_CLONE;
            run->owns_job = TRUE;
        }
    }
    GTask *task = g_task_new(NULL, NULL, planned, run);
    g_task_set_task_data(task, run, NULL);
    g_task_run_in_thread(task, plan_thread);
    g_object_unref(task);
}
