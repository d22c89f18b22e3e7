/* Copied storage on the destination (migration-priv.h, "Storage";
 * docs/migration-storage.md): where each copied disk goes, its image
 * made in a worker (qemu-img create, never on the main loop), QEMU's NBD
 * server and one writable export per disk for a live migration, and at
 * the end the server stopped or, on abort, every file made removed.
 *
 * Where a disk goes: a <disk type='volume'> into the pool of the same
 * name here (two hosts with separate storage usually name pool and
 * volume); a file disk to the path the definition names (the source's,
 * unless --xml changed it) when its directory exists here and the file
 * does not. A file that exists is never written: if it is the very same
 * file as the source's (dev/ino of the offer), the storage is shared and
 * --copy-storage-* is the mistake; otherwise it is someone else's file.
 *
 * The incoming migrations with copied disks are kept by id, so that the
 * offline disk streams (api/api-migration-disk.c) find where each disk
 * goes. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/path-policy.h"
#include "daemon/storage/storage.h"
#include "migration-priv.h"
#include "qemu/qemu-command.h"
#include "qemu/qemu-migration-storage.h"
#include "util/vd-error.h"

typedef struct {
    char *target;
    char *path;   /* here */
    char *format; /* qcow2, raw */
    guint64 capacity;
    char *backing;    /* --copy-storage-inc: the overlay's backing file (here too) */
    char *node;       /* the format node QEMU opens it as */
    guint64 dev, ino; /* the source's file */
    char *pool;       /* a pool volume: its pool (for the messages) */
} DestDisk;

typedef struct {
    char *id;
    VdDomainObj *dom; /* a reference */
    GPtrArray *disks; /* DestDisk* */
    gboolean offline;
    VdMigrateCopy copy;
    gboolean nbd;         /* QEMU's NBD server started */
    gboolean busy;        /* a prepare or export is under way: it frees an abandoned one */
    gboolean abandoned;   /* finished (out of the table) while busy */
    gboolean remove_made; /* ... by an abort: the files made meanwhile go too */
} Incoming;

static GHashTable *incoming_by_id; /* id -> Incoming* */

static void
dest_disk_free(gpointer p)
{
    DestDisk *dd = p;
    g_free(dd->target);
    g_free(dd->path);
    g_free(dd->format);
    g_free(dd->backing);
    g_free(dd->node);
    g_free(dd->pool);
    g_free(dd);
}

static void
incoming_free(gpointer p)
{
    Incoming *in = p;
    g_free(in->id);
    vd_domain_obj_unref(in->dom);
    g_ptr_array_unref(in->disks);
    g_free(in);
}

static GHashTable *
table(void)
{
    if (!incoming_by_id)
        incoming_by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, incoming_free);
    return incoming_by_id;
}

static Incoming *
incoming_of(VdDomainObj *dom)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, table());
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (((Incoming *)v)->dom == dom)
            return v;
    }
    return NULL;
}

static VdDiskDef *
def_disk(const VdDomainDef *def, const char *target)
{
    for (guint i = 0; def && def->disks && i < def->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        if (disk->target_dev && g_str_equal(disk->target_dev, target))
            return disk;
    }
    return NULL;
}

/* Where @disk of the offer goes here (main loop: pool lookups). */
static DestDisk *
plan_disk(VdDaemon *d, VdDomainObj *dom, const VdMigrationDisk *disk, GError **error)
{
    VdDiskDef *def = def_disk(vd_domain_obj_current_def(dom), disk->target);
    g_autoptr(GError) local = NULL;
    DestDisk *dd = g_new0(DestDisk, 1);

    dd->target = g_strdup(disk->target);
    dd->format = g_strdup(disk->format ? disk->format : "raw");
    dd->capacity = disk->capacity;
    dd->backing = g_strdup(disk->backing);
    dd->dev = disk->dev;
    dd->ino = disk->ino;
    if (def && def->type == VD_DISK_TYPE_VOLUME && def->source_pool && def->source_volume) {
        VdStoragePool *pool = vd_storage_lookup(d->storage, def->source_pool, &local);
        if (!pool || !vd_storage_check_active(pool, &local) ||
            !(dd->path = vd_storage_vol_path(pool, def->source_volume, &local))) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "disk '%s': cannot copy it into pool '%s' on the destination: %s "
                        "(define and start a pool of that name there, or give the disk a "
                        "path with --xml)",
                        disk->target, def->source_pool, local->message);
            dest_disk_free(dd);
            return NULL;
        }
        dd->pool = g_strdup(def->source_pool);
    } else {
        const char *path = def && def->source_file ? def->source_file : disk->path;
        if (!path || !g_path_is_absolute(path)) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "disk '%s' has no file to copy: only file and volume disks can be "
                        "copied with --copy-storage-*",
                        disk->target);
            dest_disk_free(dd);
            return NULL;
        }
        dd->path = g_strdup(path);
    }
    /* The node the argv builder gives the disk's format layer: what the
     * guest sees, so the copy is exported at that level. */
    VdDiskDef named = {.target_dev = disk->target};
    dd->node = vd_qemu_disk_node_name(def ? def : &named);
    return dd;
}

/* ---- the images, in a worker ---- */

typedef struct {
    Incoming *in;       /* the table keeps it; an abandoned one is freed here */
    GPtrArray *created; /* the caller's: filled before each file is made */
    GPtrArray *made;    /* char*: the same, for an abort that came meanwhile */
    VdPathGuard *guard; /* the daemon's path policy: no copy into its own files */
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    char *listen_host;
    VdMigrationAnswer *answer;
    VdMigrationStepDone done;
    gpointer data;
    int listen_fd;
    guint next_export;
} Prep;

/* The NBD server listens on @listen_host, else --migration-host. */
static Prep *
prep_new(Incoming *in, VdDaemon *d, VdDomainObj *dom, const char *listen_host,
         VdMigrationAnswer *answer, VdMigrationStepDone done, gpointer user_data)
{
    Prep *p = g_new0(Prep, 1);
    p->in = in;
    p->d = d;
    p->dom = vd_domain_obj_ref(dom);
    p->listen_host = g_strdup(listen_host ? listen_host : d->migration_host);
    p->answer = answer;
    p->done = done;
    p->data = user_data;
    p->listen_fd = -1;
    return p;
}

static void remove_files(char **files);

static void
prep_free(Prep *p)
{
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    if (p->made)
        g_ptr_array_unref(p->made);
    if (p->guard)
        vd_path_guard_unref(p->guard);
    vd_domain_obj_unref(p->dom);
    g_free(p->listen_host);
    g_free(p);
}

static void
prep_end(Prep *p, const GError *error)
{
    g_autoptr(GError) aborted = NULL;
    p->in->busy = FALSE;
    if (p->in->abandoned) {
        /* vd_migration_storage_finish(abort) came meanwhile: what this
         * step made after it goes too. */
        if (p->in->remove_made && p->made && p->made->len) {
            g_ptr_array_add(p->made, NULL);
            remove_files((char **)p->made->pdata);
        }
        incoming_free(p->in);
        if (!error)
            error = aborted = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                          "the incoming migration was aborted");
    }
    p->done(p->dom, error, p->data);
    prep_free(p);
}

static gboolean
check_free(const VdPathGuard *guard, const DestDisk *dd, GError **error)
{
    struct stat st;
    g_autofree char *dir = g_path_get_dirname(dd->path);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "disk '%s': directory '%s' does not exist on the destination: create "
                            "it there, or give the disk another path with --xml",
                            dd->target, dir);
    /* The path comes from the source: not into this daemon's own state
     * (definitions, sockets, logs), as for any disk a client names. */
    g_autofree char *what = g_strdup_printf("disk '%s'", dd->target);
    g_autofree char *real = vd_path_guard_check(guard, what, dir, error);
    if (!real)
        return FALSE;
    if (lstat(dd->path, &st) == 0) {
        if ((guint64)st.st_dev == dd->dev && (guint64)st.st_ino == dd->ino)
            return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                "disk '%s': '%s' is the same file on both hosts (shared "
                                "storage): migrate without --copy-storage-all/--copy-storage-inc",
                                dd->target, dd->path);
        return vd_set_error(error, VD_ERROR_EXISTS,
                            "disk '%s': '%s' already exists on the destination: remove it "
                            "there, or give the disk another path with --xml",
                            dd->target, dd->path);
    }
    if (dd->backing && !g_file_test(dd->backing, G_FILE_TEST_IS_REGULAR))
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "disk '%s': its backing file '%s' is missing on the destination "
                            "(--copy-storage-inc copies only the top image): copy it there "
                            "first, or use --copy-storage-all",
                            dd->target, dd->backing);
    return TRUE;
}

/* The file itself, made with O_EXCL: whatever appeared meanwhile is not
 * ours to overwrite (nor to remove on abort). */
static gboolean
claim(const DestDisk *dd, GError **error)
{
    int fd = open(dd->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int err = errno;
        return vd_set_error(error, err == ENOSPC ? VD_ERROR_OPERATION_FAILED : VD_ERROR_INVALID_ARG,
                            "disk '%s': cannot create '%s' on the destination: %s", dd->target,
                            dd->path, g_strerror(err));
    }
    close(fd);
    return TRUE;
}

static gboolean
create_image(const Incoming *in, const DestDisk *dd, GError **error)
{
    g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, dd->capacity);
    g_autoptr(GError) local = NULL;
    gboolean ok;

    if (in->offline)
        return TRUE; /* the stream brings the file whole (api-migration-disk.c) */
    if (dd->backing) {
        g_autofree char *bfmt = vd_storage_probe_format(dd->backing);
        const char *args[] = {"create", "-q", "-f",     "qcow2", "-b", dd->backing,
                              "-F",     bfmt, dd->path, size,    NULL};
        ok = vd_storage_qemu_img(args, NULL, &local);
    } else {
        const char *args[] = {"create", "-q", "-f", dd->format, dd->path, size, NULL};
        ok = vd_storage_qemu_img(args, NULL, &local);
    }
    if (!ok)
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "disk '%s': cannot create its copy on the destination: %s", dd->target,
                            local->message);
    return TRUE;
}

static void
images_worker(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    Prep *p = data;
    GError *error = NULL;

    /* Every disk is checked before any file is made. */
    for (guint i = 0; i < p->in->disks->len; i++) {
        if (!check_free(p->guard, g_ptr_array_index(p->in->disks, i), &error)) {
            g_task_return_error(task, error);
            return;
        }
    }
    for (guint i = 0; i < p->in->disks->len; i++) {
        DestDisk *dd = g_ptr_array_index(p->in->disks, i);
        if (!claim(dd, &error)) {
            g_task_return_error(task, error);
            return;
        }
        /* Named before it is more than an empty file of ours: the caller
         * waits for done() and touches @created only after it. */
        g_ptr_array_add(p->created, g_strdup(dd->path));
        g_ptr_array_add(p->made, g_strdup(dd->path));
        if (!create_image(p->in, dd, &error)) {
            g_task_return_error(task, error);
            return;
        }
    }
    g_task_return_boolean(task, TRUE);
}

/* ---- QEMU's NBD server ---- */

static void export_next(Prep *p);

static void
nbd_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Prep *p = data;
    (void)qmp, (void)result;
    if (error) {
        g_autoptr(GError) e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                          "cannot export the disks over NBD: %s", error->message);
        prep_end(p, e);
        return;
    }
    export_next(p);
}

static void
export_next(Prep *p)
{
    g_autoptr(GError) error = NULL;
    if (!p->dom->qmp || !vd_qmp_is_connected(p->dom->qmp)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the incoming QEMU of domain '%s' ended before its disks were exported",
                    p->dom->name);
        prep_end(p, error);
        return;
    }
    if (p->next_export >= p->in->disks->len) {
        prep_end(p, NULL);
        return;
    }
    DestDisk *dd = g_ptr_array_index(p->in->disks, p->next_export++);
    VdMigrationNbdDisk *nd = g_new0(VdMigrationNbdDisk, 1);
    nd->target = g_strdup(dd->target);
    nd->export_name = g_strdup(dd->target);
    if (!p->answer->nbd_disks)
        p->answer->nbd_disks = g_ptr_array_new();
    g_ptr_array_add(p->answer->nbd_disks, nd);
    vd_qmp_command(p->dom->qmp, "block-export-add", vd_qemu_nbd_export_add(dd->target, dd->node),
                   nbd_reply, p);
}

static void
server_started(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Prep *p = data;
    if (!error)
        p->in->nbd = TRUE;
    nbd_reply(qmp, result, error, data);
}

static void
fd_passed(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Prep *p = data;
    (void)result;
    if (error) {
        nbd_reply(qmp, NULL, error, p);
        return;
    }
    vd_qmp_command(qmp, "nbd-server-start", vd_qemu_nbd_server_start_fd("migrate-nbd"),
                   server_started, p);
}

/* A listening TCP socket on @host (an address; anything else: every
 * address) with a port the kernel picks: QEMU gets the socket itself, so
 * no other process can take the port between our choice and its bind. */
static int
listen_socket(const char *host, guint16 *port, GError **error)
{
    g_autoptr(GInetAddress) ia = host ? g_inet_address_new_from_string(host) : NULL;
    if (!ia)
        ia = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, error);
    if (!sock)
        return -1;
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, 0);
    if (!g_socket_bind(sock, sa, FALSE, error) || !g_socket_listen(sock, error))
        return -1;
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, error);
    if (!bound)
        return -1;
    *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    int fd = fcntl(g_socket_get_fd(sock), F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot duplicate a socket: %s",
                    g_strerror(errno));
    return fd;
}

static void
nbd_start(Prep *p)
{
    g_autoptr(GError) error = NULL;
    guint16 port = 0;

    if (p->in->disks->len == 0) {
        prep_end(p, NULL);
        return;
    }
    if (!p->dom->qmp || !vd_qmp_is_connected(p->dom->qmp)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the incoming QEMU of domain '%s' is not running: its disks cannot be "
                    "exported",
                    p->dom->name);
        prep_end(p, error);
        return;
    }
    int fd = listen_socket(p->listen_host, &port, &error);
    if (fd < 0) {
        g_prefix_error(&error, "cannot listen for the disks' NBD on '%s': ",
                       p->listen_host ? p->listen_host : "*");
        prep_end(p, error);
        return;
    }
    /* A wildcard address is no address to give the source: it then
     * connects where QEMU's RAM stream goes (the answer's migrate_uri). */
    g_autoptr(GInetAddress) ia =
        p->listen_host ? g_inet_address_new_from_string(p->listen_host) : NULL;
    g_free(p->answer->nbd_host);
    p->answer->nbd_host =
        p->listen_host && !(ia && g_inet_address_get_is_any(ia)) ? g_strdup(p->listen_host) : NULL;
    p->answer->nbd_port = port;
    vd_qmp_command_with_fd(p->dom->qmp, "getfd", vd_qemu_getfd("migrate-nbd"), fd, fd_passed, p);
}

static void
images_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Prep *p = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        prep_end(p, error);
        return;
    }
    if (p->in->offline || !p->dom->qmp) {
        /* Offline: the streams come next. Live with QEMU not started yet:
         * vd_migration_storage_export once it runs. */
        prep_end(p, NULL);
        return;
    }
    nbd_start(p);
}

void
vd_migration_storage_prepare(VdDaemon *d, VdDomainObj *dom, const VdMigrationOffer *offer,
                             const char *listen_host, GPtrArray *created, VdMigrationAnswer *answer,
                             VdMigrationStepDone done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    Incoming *in = NULL;

    for (guint i = 0; offer->disks && i < offer->disks->len; i++) {
        VdMigrationDisk *disk = g_ptr_array_index(offer->disks, i);
        if (!disk->copy || disk->readonly)
            continue;
        if (!in) {
            in = g_new0(Incoming, 1);
            in->id = g_strdup(offer->id);
            in->dom = vd_domain_obj_ref(dom);
            in->disks = g_ptr_array_new_with_free_func(dest_disk_free);
            in->offline = offer->params.offline;
            in->copy = offer->params.copy_storage;
        }
        DestDisk *dd = plan_disk(d, dom, disk, &error);
        if (!dd) {
            incoming_free(in);
            done(dom, error, user_data);
            return;
        }
        if (in->copy != VD_MIGRATE_COPY_INC)
            g_clear_pointer(&dd->backing, g_free);
        g_ptr_array_add(in->disks, dd);
    }
    if (!in) {
        done(dom, NULL, user_data);
        return;
    }
    if (!offer->id || g_hash_table_contains(table(), offer->id)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_EXISTS, "migration '%s' is already prepared here",
                    offer->id ? offer->id : "");
        incoming_free(in);
        done(dom, error, user_data);
        return;
    }
    g_hash_table_insert(table(), in->id, in);

    Prep *p = prep_new(in, d, dom, listen_host, answer, done, user_data);
    p->created = created;
    p->made = g_ptr_array_new_with_free_func(g_free);
    p->guard = vd_path_policy_guard(d->paths);
    in->busy = TRUE;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, images_done, p);
    g_task_set_task_data(task, p, NULL);
    g_task_run_in_thread(task, images_worker);
}

void
vd_migration_storage_export(VdDaemon *d, VdDomainObj *dom, const char *listen_host,
                            VdMigrationAnswer *answer, VdMigrationStepDone done, gpointer user_data)
{
    Incoming *in = incoming_of(dom);
    if (!in || in->offline || in->nbd) {
        done(dom, NULL, user_data);
        return;
    }
    Prep *p = prep_new(in, d, dom, listen_host, answer, done, user_data);
    in->busy = TRUE;
    nbd_start(p);
}

/* ---- the end ---- */

static void
stop_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    char *name = data;
    (void)qmp, (void)result;
    if (error)
        g_message("domain '%s': nbd-server-stop: %s", name, error->message);
    g_free(name);
}

static void
remove_worker(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    char **files = data;
    for (char **f = files; f && *f; f++) {
        g_autofree char *tmp = vd_migration_storage_temp_name(*f);
        if (unlink(tmp) < 0 && errno != ENOENT)
            g_warning("cannot remove '%s': %s", tmp, g_strerror(errno));
        if (unlink(*f) < 0 && errno != ENOENT)
            g_warning("cannot remove '%s' made by an aborted migration: %s", *f, g_strerror(errno));
    }
    g_task_return_boolean(task, TRUE);
}

typedef struct {
    VdDomainObj *dom;
    VdMigrationStepDone done;
    gpointer user_data;
} StopExports;

static void
exports_stopped(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    StopExports *s = data;
    (void)qmp, (void)result;
    if (error)
        g_message("domain '%s': nbd-server-stop: %s", s->dom->name, error->message);
    s->done(s->dom, NULL, s->user_data);
    vd_domain_obj_unref(s->dom);
    g_free(s);
}

void
vd_migration_storage_stop_exports(VdDaemon *d, VdDomainObj *dom, VdMigrationStepDone done,
                                  gpointer user_data)
{
    (void)d;
    Incoming *in = incoming_of(dom);
    if (!in || !in->nbd || !dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        done(dom, NULL, user_data);
        return;
    }
    in->nbd = FALSE; /* stopped now: finish has nothing left to stop */
    StopExports *s = g_new0(StopExports, 1);
    s->dom = vd_domain_obj_ref(dom);
    s->done = done;
    s->user_data = user_data;
    vd_qmp_command(dom->qmp, "nbd-server-stop", NULL, exports_stopped, s);
}

void
vd_migration_storage_finish(VdDaemon *d, VdDomainObj *dom, gboolean ok, char **created)
{
    (void)d;
    Incoming *in = incoming_of(dom);
    if (in && in->nbd && dom->qmp && vd_qmp_is_connected(dom->qmp))
        vd_qmp_command(dom->qmp, "nbd-server-stop", NULL, stop_reply, g_strdup(dom->name));
    if (in && in->busy) {
        /* Its worker or QMP chain still holds it: freed when it ends. */
        in->abandoned = TRUE;
        in->remove_made = !ok;
        g_hash_table_steal(table(), in->id);
    } else if (in) {
        g_hash_table_remove(table(), in->id);
    }
    if (!ok && created && *created)
        remove_files(created);
}

static void
remove_files(char **files)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, NULL, NULL);
    g_task_set_task_data(task, g_strdupv(files), (GDestroyNotify)g_strfreev);
    g_task_run_in_thread(task, remove_worker);
}

char *
vd_migration_storage_temp_name(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *name = g_strdup_printf(".%s.vdmigrate-tmp", base);
    return g_build_filename(dir, name, NULL);
}

char *
vd_migration_storage_upload_target(const char *id, const char *target, guint64 *capacity,
                                   GError **error)
{
    Incoming *in = id ? g_hash_table_lookup(table(), id) : NULL;
    if (!in) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no incoming migration '%s' with copied disks here", id ? id : "");
        return NULL;
    }
    for (guint i = 0; i < in->disks->len; i++) {
        DestDisk *dd = g_ptr_array_index(in->disks, i);
        if (g_str_equal(dd->target, target)) {
            if (!in->offline) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                            "migration '%s' is live: its disks come over NBD, not streams", id);
                return NULL;
            }
            if (capacity)
                *capacity = dd->capacity;
            return g_strdup(dd->path);
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "migration '%s' copies no disk '%s'", id,
                target);
    return NULL;
}
