/* Before a revert to a snapshot with memory stops the running guest: the
 * snapshot is in every image that takes part, its memory state is there
 * and readable, and its head matches the command line the snapshot's
 * definition gives (qemu/qemu-vmstate.h). What fails here fails the revert
 * with the guest still running; what only QEMU's load can find (a device
 * without RAM in another slot) is the start's to report. */
#include "daemon/snapshot/snapshot-live.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "daemon/migration/migration.h"
#include "qemu/qemu-command.h"
#include "qemu/qemu-snapshot.h"
#include "qemu/qemu-vmstate.h"
#include "util/vd-error.h"

/* Enough for the configuration and the list of RAM blocks. */
#define HEAD_BYTES (256 * 1024)

typedef struct {
    char *tag;
    GPtrArray *paths;   /* char*: the images that take part */
    char *vmstate_path; /* the one holding the memory */
    GPtrArray *argv;    /* NULL: not built (the start will say why) */
} Check;

static void
check_free(Check *c)
{
    g_free(c->tag);
    g_ptr_array_unref(c->paths);
    g_free(c->vmstate_path);
    if (c->argv)
        g_ptr_array_unref(c->argv);
    g_free(c);
}

static gboolean
check_image(const Check *c, const char *path, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED, "cannot open image '%s': %s", path,
                            g_strerror(errno));
    g_autoptr(GError) e = NULL;
    g_autoptr(VdQcow2Snapshot) snap = vd_qcow2_snapshot_find(fd, path, c->tag, &e);
    gboolean ok = TRUE;
    if (!snap) {
        /* A layout not read here is QEMU's to judge. */
        ok = g_error_matches(e, VD_ERROR, VD_ERROR_UNSUPPORTED);
        if (ok)
            g_info("revert check: %s", e->message);
        else
            g_propagate_error(error, g_steal_pointer(&e));
    } else if (g_strcmp0(path, c->vmstate_path) == 0) {
        g_autoptr(GBytes) head = NULL;
        if (snap->vm_state_size == 0) {
            ok = vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                              "image '%s' holds snapshot '%s' without its memory state", path,
                              c->tag);
        } else if (!(head = vd_qcow2_vmstate_read(fd, path, snap, HEAD_BYTES, &e))) {
            ok = g_error_matches(e, VD_ERROR, VD_ERROR_UNSUPPORTED);
            if (ok)
                g_info("revert check: %s", e->message);
            else
                g_propagate_error(error, g_steal_pointer(&e));
        } else {
            gsize len;
            const guint8 *bytes = g_bytes_get_data(head, &len);
            g_autoptr(VdVmstateHead) h = vd_vmstate_head_parse(bytes, len, &e);
            if (!h)
                ok = vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                                  "the memory state of snapshot '%s' in image '%s' is not "
                                  "readable: %s",
                                  c->tag, path, e->message);
            else if (c->argv)
                ok = vd_vmstate_head_matches(h, c->argv, error);
        }
    }
    close(fd);
    return ok;
}

static void
check_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    const Check *c = data;
    GError *e = NULL;
    for (guint i = 0; i < c->paths->len; i++) {
        if (!check_image(c, g_ptr_array_index(c->paths, i), &e)) {
            g_task_return_error(task, e);
            return;
        }
    }
    g_task_return_boolean(task, TRUE);
}

void
vd_snapshot_revert_check_async(VdDaemon *d, const VdDomainDef *domain, const VdSnapshotDef *snap,
                               GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GError) e = NULL;
    g_autofree char *vmstate = NULL;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    g_autoptr(GPtrArray) nodes =
        vd_qemu_snapshot_nodes(domain->name, domain, snap, VD_QEMU_SNAPSHOT_LOAD, &vmstate, &e);
    if (!nodes) {
        g_task_return_error(task, g_steal_pointer(&e));
        return;
    }
    Check *c = g_new0(Check, 1);
    c->tag = g_strdup(snap->name);
    c->paths = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < domain->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(domain->disks, i);
        g_autofree char *node = vd_qemu_disk_node_name(disk);
        if (!disk->source_file || !g_ptr_array_find_with_equal_func(nodes, node, g_str_equal, NULL))
            continue;
        g_ptr_array_add(c->paths, g_strdup(disk->source_file));
        if (g_strcmp0(node, vmstate) == 0)
            c->vmstate_path = g_strdup(disk->source_file);
    }
    c->argv = vd_migration_dry_run_argv(d, domain, &e);
    if (!c->argv)
        g_info("domain '%s': revert to '%s': the memory state is not compared with a command "
               "line: %s",
               domain->name, snap->name, e->message);
    g_task_set_task_data(task, c, (GDestroyNotify)check_free);
    g_task_run_in_thread(task, check_thread);
}

gboolean
vd_snapshot_revert_check_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}
