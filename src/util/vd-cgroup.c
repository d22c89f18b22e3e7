/* One cgroup in every hierarchy, and the v1 and v2 writers of its limits
 * (vd-cgroup.h). */
#include "util/vd-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-cgroup-priv.h"
#include "util/vd-error.h"

static VdCgroup *
cgroup_alloc(const VdCgroupLayout *layout)
{
    VdCgroup *cg = g_new0(VdCgroup, 1);
    cg->fake = layout->fake;
    for (int c = 0; c < VD_CGROUP_N; c++) {
        cg->base[c] = g_strdup(layout->base[c]);
        cg->v2[c] = layout->v2[c];
    }
    return cg;
}

VdCgroup *
vd_cgroup_new(const VdCgroupLayout *layout, const char *relpath)
{
    VdCgroup *cg = cgroup_alloc(layout);
    cg->relpath = g_strdup(relpath);
    for (int c = 0; c < VD_CGROUP_N; c++)
        if (layout->base[c])
            cg->dir[c] = g_build_filename(layout->base[c], relpath, NULL);
    return cg;
}

VdCgroup *
vd_cgroup_of_pid(const VdCgroupLayout *layout, pid_t pid, GError **error)
{
    g_autofree char *file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(file, &text, NULL, error))
        return NULL;
    g_autoptr(VdCgroup) cg = cgroup_alloc(layout);
    for (int c = VD_CGROUP_N - 1; c >= 0; c--) { /* the first controller's relpath wins */
        if (!layout->base[c])
            continue;
        g_autofree char *path =
            vd_cgroup_proc_path(text, layout->v2[c] ? NULL : vd_cgroup_v1_name(c));
        const char *below = path ? vd_cgroup_below_root(path, layout->mount_root[c]) : NULL;
        if (!below)
            continue;
        g_autofree char *dir = g_strconcat(layout->mount[c], below, NULL);
        gsize n = strlen(layout->base[c]);
        if (strncmp(dir, layout->base[c], n) != 0 || dir[n] != '/')
            continue; /* not below the daemon's own cgroup: not one of ours */
        g_free(cg->relpath);
        cg->relpath = g_strdup(dir + n + 1);
        cg->dir[c] = g_steal_pointer(&dir);
    }
    if (!cg->relpath) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "process %d is in no cgroup below the daemon's own", (int)pid);
        return NULL;
    }
    return g_steal_pointer(&cg);
}

void
vd_cgroup_free(VdCgroup *cg)
{
    if (!cg)
        return;
    g_free(cg->relpath);
    for (int c = 0; c < VD_CGROUP_N; c++) {
        g_free(cg->base[c]);
        g_free(cg->dir[c]);
    }
    g_free(cg);
}

const char *
vd_cgroup_relpath(const VdCgroup *cg)
{
    return cg->relpath;
}

const char *
vd_cgroup_dir(const VdCgroup *cg, VdCgroupController c)
{
    return cg->dir[c];
}

/* ---- files ------------------------------------------------------------ */

gboolean
vd_cgroup_write(const VdCgroup *cg, const char *dir, const char *file, const char *value,
                GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    int flags = O_WRONLY | O_CLOEXEC;
    if (cg->fake)
        flags |= O_CREAT | O_APPEND; /* every write is seen by the test */
    int fd = open(path, flags, 0644);
    ssize_t n = -1;
    int e = 0;
    if (fd >= 0) {
        g_autofree char *line = cg->fake ? g_strconcat(value, "\n", NULL) : g_strdup(value);
        n = write(fd, line, strlen(line));
        e = errno;
        close(fd);
    } else {
        e = errno;
    }
    if (n < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot write '%s' to %s: %s", value, path, g_strerror(e));
        errno = e; /* for callers that explain some errors */
        return FALSE;
    }
    return TRUE;
}

const char *
vd_cgroup_pick_file(const VdCgroup *cg, const char *dir, const char *a, const char *b)
{
    g_autofree char *pa = g_build_filename(dir, a, NULL);
    g_autofree char *pb = b ? g_build_filename(dir, b, NULL) : NULL;
    if (cg->fake || g_file_test(pa, G_FILE_TEST_EXISTS))
        return a;
    return pb && g_file_test(pb, G_FILE_TEST_EXISTS) ? b : NULL;
}

/* ---- create, join, remove --------------------------------------------- */

static gboolean
make_dir(const char *path, GError **error)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        int e = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot create the cgroup %s: %s", path, g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

/* Directories are per hierarchy: controllers sharing one (v1's
 * "cpu,cpuacct", or every v2 controller) get one directory. */
static gboolean
seen_before(const VdCgroup *cg, int c)
{
    for (int o = 0; o < c; o++)
        if (cg->dir[o] && g_str_equal(cg->dir[o], cg->dir[c]))
            return TRUE;
    return FALSE;
}

gboolean
vd_cgroup_create(VdCgroup *cg, GError **error)
{
    for (int c = 0; c < VD_CGROUP_N; c++) {
        if (!cg->dir[c])
            continue;
        /* v2 hands a controller down one level at a time: each parent
         * enables it for its children before the child is made. */
        g_auto(GStrv) parts = g_strsplit(cg->relpath, "/", -1);
        g_autofree char *at = g_strdup(cg->base[c]);
        for (char **p = parts; *p; p++) {
            if (!**p)
                continue;
            if (cg->v2[c]) {
                g_autofree char *enable = g_strconcat("+", vd_cgroup_controller_name(c), NULL);
                if (!vd_cgroup_write(cg, at, "cgroup.subtree_control", enable, error)) {
                    if (errno == EBUSY)
                        g_prefix_error(error, "the daemon's cgroup holds processes, so cgroup v2 "
                                              "cannot hand controllers to child cgroups (run "
                                              "virtd as virtd.service, or in a delegated "
                                              "cgroup of its own): ");
                    return FALSE;
                }
            }
            char *next = g_build_filename(at, *p, NULL);
            g_free(at);
            at = next;
            if (!make_dir(at, error))
                return FALSE;
        }
    }
    return TRUE;
}

gboolean
vd_cgroup_add_pid(VdCgroup *cg, pid_t pid, GError **error)
{
    g_autofree char *text = g_strdup_printf("%d", (int)pid);
    for (int c = 0; c < VD_CGROUP_N; c++)
        if (cg->dir[c] && !seen_before(cg, c) &&
            !vd_cgroup_write(cg, cg->dir[c], "cgroup.procs", text, error))
            return FALSE;
    return TRUE;
}

GArray *
vd_cgroup_pids(const VdCgroup *cg)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
    for (int c = 0; c < VD_CGROUP_N && pids->len == 0; c++) {
        if (!cg->dir[c])
            continue;
        g_autofree char *path = g_build_filename(cg->dir[c], "cgroup.procs", NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue;
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            pid_t pid = (pid_t)g_ascii_strtoll(*l, NULL, 10);
            if (pid > 0)
                g_array_append_val(pids, pid);
        }
    }
    return pids;
}

gboolean
vd_cgroup_remove(VdCgroup *cg, GError **error)
{
    for (int c = 0; c < VD_CGROUP_N; c++) {
        if (!cg->dir[c] || seen_before(cg, c))
            continue;
        if (cg->fake) {
            /* A test tree's directories hold the files written. */
            g_autoptr(GDir) dir = g_dir_open(cg->dir[c], 0, NULL);
            const char *e;
            while (dir && (e = g_dir_read_name(dir))) {
                g_autofree char *f = g_build_filename(cg->dir[c], e, NULL);
                unlink(f);
            }
        }
        if (rmdir(cg->dir[c]) < 0 && errno != ENOENT) {
            int e = errno;
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: cannot remove the cgroup %s: %s", cg->dir[c],
                        g_strerror(e));
            return FALSE;
        }
    }
    return TRUE;
}

GPtrArray *
vd_cgroup_list_children(const VdCgroupLayout *layout, const char *relparent)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (int c = 0; c < VD_CGROUP_N; c++) {
        if (!layout->base[c])
            continue;
        g_autofree char *parent = g_build_filename(layout->base[c], relparent, NULL);
        g_autoptr(GDir) dir = g_dir_open(parent, 0, NULL);
        const char *e;
        while (dir && (e = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(parent, e, NULL);
            if (!g_file_test(path, G_FILE_TEST_IS_DIR))
                continue;
            gboolean known = FALSE;
            for (guint i = 0; i < names->len && !known; i++)
                known = g_str_equal(names->pdata[i], e);
            if (!known)
                g_ptr_array_add(names, g_strdup(e));
        }
    }
    return names;
}

gboolean
vd_cgroup_layout_leave_v2_base(const VdCgroupLayout *layout, pid_t pid, GError **error)
{
    const char *base = NULL;
    for (int c = 0; c < VD_CGROUP_N && !base; c++)
        if (layout->v2[c] && layout->base[c])
            base = layout->base[c];
    if (!base)
        return TRUE; /* no v2 controller: v1 has no such rule */
    g_autoptr(VdCgroup) leaf = vd_cgroup_new(layout, VD_CGROUP_SUPERVISOR);
    g_autofree char *dir = g_build_filename(base, VD_CGROUP_SUPERVISOR, NULL);
    g_autofree char *text = g_strdup_printf("%d", (int)pid);
    if (!make_dir(dir, error) || !vd_cgroup_write(leaf, dir, "cgroup.procs", text, error)) {
        g_prefix_error(error, "cannot move the daemon into its own leaf cgroup: ");
        return FALSE;
    }
    return TRUE;
}
