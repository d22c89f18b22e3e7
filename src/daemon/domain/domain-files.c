/* The files a domain definition names (domain-files.h). Everything below
 * the async entry point runs in a worker thread and sees only the
 * definition (borrowed from its caller for the time) and the guard. */
#include "daemon/domain/domain-files.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/domain/disk-prepare.h"
#include "daemon/path-policy.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"
#include "util/vd-path.h"

typedef struct {
    VdDomainDef *def; /* borrowed */
    VdDomainFilesWhen when;
    VdPathGuard *guard;
    GPtrArray *pools; /* "NAME\0TARGET" of every pool, for serial outputs */
    char *own_nvram;  /* the domain's variable store in the daemon's nvram directory */
} FilesJob;

static void
files_job_free(FilesJob *job)
{
    vd_path_guard_unref(job->guard);
    g_ptr_array_unref(job->pools);
    g_free(job->own_nvram);
    g_free(job);
}

/* The pool whose directory holds @resolved, or NULL: its files are disk
 * images, and a serial file or socket there would overwrite one. */
static const char *
pool_holding(FilesJob *job, const char *resolved)
{
    for (guint i = 0; i < job->pools->len; i++) {
        const char *name = g_ptr_array_index(job->pools, i);
        g_autofree char *target = vd_path_resolve(name + strlen(name) + 1, NULL);
        gsize n = target ? strlen(target) : 0;
        if (target && strncmp(resolved, target, n) == 0 && resolved[n] == '/')
            return name;
    }
    return NULL;
}

/* Whether @path exists (following symlinks): a file that does not exist
 * yet is only checked for where it would be. */
static gboolean
exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}

/* A file the daemon or QEMU reads: where it is, and what it is. With
 * @must_exist unset a missing file passes (define, before the image is
 * made). Returns the open descriptor in @fd_out when asked for, else
 * closes it. */
static gboolean
check_file(FilesJob *job, const char *what, const char *path, VdPathOpenFlags kinds,
           gboolean must_exist, int *fd_out, GError **error)
{
    g_autofree char *resolved = vd_path_guard_check(job->guard, what, path, error);
    int fd;

    if (fd_out)
        *fd_out = -1;
    if (!resolved)
        return FALSE;
    if (!must_exist && !exists(path))
        return TRUE;
    if ((fd = vd_path_open_checked(what, path, kinds, NULL, error)) < 0)
        return FALSE;
    /* On what was opened: a symlink swapped since the check above. */
    if (!vd_path_guard_check_fd(job->guard, what, path, fd, error)) {
        close(fd);
        return FALSE;
    }
    if (fd_out)
        *fd_out = fd;
    else
        close(fd);
    return TRUE;
}

static gboolean
check_disks(FilesJob *job, GPtrArray *notes, GError **error)
{
    gboolean at_start = job->when == VD_DOMAIN_FILES_START;

    for (guint i = 0; i < job->def->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(job->def->disks, i);
        g_autofree char *what = NULL;
        int fd = -1;
        gboolean ok;

        if ((disk->type != VD_DISK_TYPE_FILE && disk->type != VD_DISK_TYPE_BLOCK &&
             disk->type != VD_DISK_TYPE_VOLUME) ||
            !disk->source_file)
            continue;
        what = g_strdup_printf("disk '%s'", disk->target_dev ? disk->target_dev : "?");
        if (at_start && !exists(disk->source_file)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s: source file '%s' does not exist: create it (qemu-img create) "
                        "or fix <source file=...>",
                        what, disk->source_file);
            return FALSE;
        }
        if (!check_file(job, what, disk->source_file, VD_PATH_REGULAR | VD_PATH_BLOCK, at_start,
                        &fd, error))
            return FALSE;
        if (fd < 0)
            continue; /* define, no image yet: its first start reads the format */
        ok = TRUE;
        if (at_start)
            ok = vd_disk_check_format(disk, fd, error);
        else if (disk->type == VD_DISK_TYPE_FILE)
            vd_disk_record_format(disk, fd, notes);
        close(fd);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_os(FilesJob *job, GError **error)
{
    const VdDomainDef *def = job->def;
    gboolean at_start = job->when == VD_DOMAIN_FILES_START;

    /* QEMU reads these at start; the daemon reads the kernel too (its
     * vmlinux cache). The nvram is written, and may be missing. */
    return (!def->os.kernel ||
            check_file(job, "<kernel>", def->os.kernel, VD_PATH_REGULAR, at_start, NULL,
                       error)) &&
           (!def->os.initrd ||
            check_file(job, "<initrd>", def->os.initrd, VD_PATH_REGULAR, at_start, NULL,
                       error)) &&
           (!def->os.loader ||
            check_file(job, "<loader>", def->os.loader, VD_PATH_REGULAR, at_start, NULL,
                       error)) &&
           /* The daemon's own store for this domain (the live XML names
            * it) is in its state directory, where the guard refuses
            * client paths: that one file is the domain's. */
           (!def->os.nvram || g_strcmp0(def->os.nvram, job->own_nvram) == 0 ||
            check_file(job, "<nvram>", def->os.nvram, VD_PATH_REGULAR, FALSE, NULL, error)) &&
           (!def->emulator ||
            check_file(job, "<emulator>", def->emulator, VD_PATH_REGULAR, FALSE, NULL, error));
}

/* Whether a program accepts connections on the UNIX socket at @path. */
static gboolean
socket_in_use(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;
    gboolean used;

    if (strlen(path) >= sizeof(addr.sun_path))
        return FALSE; /* QEMU cannot bind it either, and says so */
    strcpy(addr.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return FALSE;
    used = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 || errno == EAGAIN ||
           errno == EPROTOTYPE;
    close(fd);
    return used;
}

/* A serial, console or channel of type file or unix: QEMU creates or
 * appends to the file, binds (after removing what is there) or
 * connects to the socket. */
static gboolean
check_chr(FilesJob *job, const VdChrDef *chr, const char *what, GError **error)
{
    g_autofree char *resolved = NULL;
    const char *pool;
    struct stat st;

    if ((chr->type != VD_CHR_FILE && chr->type != VD_CHR_UNIX) || !chr->path)
        return TRUE;
    if (!(resolved = vd_path_guard_check(job->guard, what, chr->path, error)))
        return FALSE;
    if ((pool = pool_holding(job, resolved))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s: '%s' is in the directory of storage pool '%s', whose files are disk "
                    "images: choose a path outside it",
                    what, chr->path, pool);
        return FALSE;
    }
    if (stat(chr->path, &st) < 0)
        return TRUE; /* QEMU makes it */
    if (chr->type == VD_CHR_FILE && !S_ISREG(st.st_mode)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s: '%s' is %s; the output file must be a regular file (or not exist "
                    "yet: QEMU creates it)",
                    what, chr->path, vd_path_describe_mode(st.st_mode));
        return FALSE;
    }
    if (chr->type == VD_CHR_UNIX && !S_ISSOCK(st.st_mode)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s: '%s' is %s, not a socket%s", what, chr->path,
                    vd_path_describe_mode(st.st_mode),
                    chr->unix_listen ? ": QEMU would delete it to make its socket there; "
                                       "choose a path that does not exist"
                                     : "");
        return FALSE;
    }
    /* Binding removes the old socket first: a live one would be taken
     * from whoever serves it. A stale one (nobody listening) is the
     * domain's own from an earlier run. */
    if (chr->type == VD_CHR_UNIX && chr->unix_listen && job->when == VD_DOMAIN_FILES_START &&
        socket_in_use(chr->path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s: a program is listening on socket '%s': QEMU would take it over; "
                    "choose another path",
                    what, chr->path);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_chrs(FilesJob *job, GPtrArray *chrs, const char *kind, GError **error)
{
    for (guint i = 0; chrs && i < chrs->len; i++) {
        g_autofree char *what = g_strdup_printf("%s %u", kind, i);
        if (!check_chr(job, g_ptr_array_index(chrs, i), what, error))
            return FALSE;
    }
    return TRUE;
}

static void
files_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    FilesJob *job = data;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    GError *error = NULL;

    if (check_disks(job, notes, &error) && check_os(job, &error) &&
        check_chrs(job, job->def->serials, "serial", &error) &&
        check_chrs(job, job->def->consoles, "console", &error) &&
        check_chrs(job, job->def->channels, "channel", &error))
        g_task_return_pointer(task, g_steal_pointer(&notes), (GDestroyNotify)g_ptr_array_unref);
    else
        g_task_return_error(task, error);
}

/* In the main loop: the run-time files of a domain are named after it,
 * or after its UUID when the name is long; a domain named like another's
 * UUID would meet that one's QMP socket (its start removes it, and the
 * daemon, restarted, would drive the wrong QEMU). */
static gboolean
check_run_files_free(VdDaemon *d, const VdDomainDef *def, GError **error)
{
    g_autofree char *mine = vd_paths_domain_socket(d->paths, def->name, def->uuid, "qmp");
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);

    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *o = g_ptr_array_index(all, i);
        if (g_str_equal(o->name, def->name) || !vd_state_is_active(o->state))
            continue;
        g_autofree char *theirs = vd_paths_domain_socket(d->paths, o->name, o->uuid, "qmp");
        if (g_str_equal(mine, theirs)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                        "Requested operation is not valid: domain '%s' would use the run-time "
                        "files of running domain '%s' ('%s'): rename one of them",
                        def->name, o->name, mine);
            return FALSE;
        }
    }
    return TRUE;
}

void
vd_domain_files_check_async(VdDaemon *d, VdDomainDef *def, VdDomainFilesWhen when,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    FilesJob *job = g_new0(FilesJob, 1);
    GError *error = NULL;

    job->def = def;
    job->when = when;
    job->guard = vd_path_policy_guard(d->paths);
    job->own_nvram = def->name ? vd_paths_domain_nvram(d->paths, def->name) : NULL;
    job->pools = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) pools = vd_storage_list(d->storage);
    for (guint i = 0; i < pools->len; i++) {
        const VdStoragePool *p = g_ptr_array_index(pools, i);
        g_autofree char *both = g_strconcat(p->def->name, "|", p->def->target_path, NULL);
        both[strlen(p->def->name)] = 0;
        g_ptr_array_add(job->pools, g_steal_pointer(&both));
    }
    g_task_set_source_tag(task, vd_domain_files_check_async);
    g_task_set_task_data(task, job, (GDestroyNotify)files_job_free);
    if (when == VD_DOMAIN_FILES_START && !check_run_files_free(d, def, &error)) {
        g_task_return_error(task, error);
        return;
    }
    g_task_run_in_thread(task, files_thread);
}

GPtrArray *
vd_domain_files_check_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
