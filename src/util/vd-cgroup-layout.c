/* Which hierarchy holds each controller, and where the daemon's own
 * cgroup is in it (vd-cgroup.h). */
#include "util/vd-cgroup.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-cgroup-priv.h"
#include "util/vd-error.h"

static const char *const v1_names[VD_CGROUP_N] = {"cpu", "memory", "blkio", "pids"};
static const char *const v2_names[VD_CGROUP_N] = {"cpu", "memory", "io", "pids"};

const char *
vd_cgroup_controller_name(VdCgroupController c)
{
    return v2_names[c];
}

const char *
vd_cgroup_v1_name(VdCgroupController c)
{
    return v1_names[c];
}

void
vd_cgroup_layout_free(VdCgroupLayout *layout)
{
    if (!layout)
        return;
    for (int c = 0; c < VD_CGROUP_N; c++) {
        g_free(layout->base[c]);
        g_free(layout->mount[c]);
        g_free(layout->mount_root[c]);
        g_free(layout->why[c]);
    }
    g_free(layout);
}

static gboolean
list_has(const char *list, const char *sep, const char *word)
{
    g_auto(GStrv) items = g_strsplit_set(list, sep, -1);
    return g_strv_contains((const char *const *)items, word);
}

/* The path of /proc/.../cgroup for a v1 controller (@v1 non-NULL) or the
 * v2 tree (@v1 NULL); NULL when not listed. */
char *
vd_cgroup_proc_path(const char *proc_cgroup, const char *v1)
{
    g_auto(GStrv) lines = g_strsplit(proc_cgroup ? proc_cgroup : "", "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, ":", 3);
        if (g_strv_length(f) != 3)
            continue;
        if (v1 ? list_has(f[1], ",", v1) : (g_str_equal(f[0], "0") && !*f[1]))
            return g_strdup(f[2]);
    }
    return NULL;
}

/* @path (a hierarchy path) under the mount of @root: the part below it,
 * "" for the mount's root itself; NULL when outside. */
const char *
vd_cgroup_below_root(const char *path, const char *root)
{
    if (g_str_equal(root, "/"))
        return path;
    gsize n = strlen(root);
    if (strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == 0))
        return path + n;
    return NULL;
}

typedef struct {
    char *mount, *root;
} Mount;

static void
take_mount(Mount *m, char **fields, const char *prefix)
{
    if (m->mount)
        return; /* the first one counts, as the kernel attaches a controller once */
    g_autofree char *point = g_strcompress(fields[4]);
    m->mount = g_strconcat(prefix ? prefix : "", point, NULL);
    m->root = g_strcompress(fields[3]);
}

static void
set_base(VdCgroupLayout *layout, int c, const Mount *m, const char *own, gboolean v2)
{
    const char *below = own ? vd_cgroup_below_root(own, m->root) : NULL;
    layout->v2[c] = v2;
    layout->mount[c] = g_strdup(m->mount);
    layout->mount_root[c] = g_strdup(m->root);
    layout->base[c] = g_strconcat(m->mount, below ? below : "", NULL);
    /* "/sys/fs/cgroup/memory/" -> without the trailing slash */
    gsize n = strlen(layout->base[c]);
    if (n > 1 && layout->base[c][n - 1] == '/')
        layout->base[c][n - 1] = 0;
}

VdCgroupLayout *
vd_cgroup_layout_parse(const char *mountinfo, const char *self_cgroup, const char *prefix)
{
    VdCgroupLayout *layout = g_new0(VdCgroupLayout, 1);
    Mount v1[VD_CGROUP_N] = {{0}};
    Mount v2 = {0};
    g_auto(GStrv) lines = g_strsplit(mountinfo ? mountinfo : "", "\n", -1);

    layout->fake = prefix != NULL;
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, " ", -1);
        guint n = g_strv_length(f), sep = 6;
        while (sep < n && !g_str_equal(f[sep], "-"))
            sep++;
        if (sep + 3 >= n)
            continue;
        const char *fstype = f[sep + 1], *super = f[sep + 3];
        if (g_str_equal(fstype, "cgroup2"))
            take_mount(&v2, f, prefix);
        else if (g_str_equal(fstype, "cgroup"))
            for (int c = 0; c < VD_CGROUP_N; c++)
                if (list_has(super, ",", v1_names[c]))
                    take_mount(&v1[c], f, prefix);
    }

    g_autofree char *own2 = vd_cgroup_proc_path(self_cgroup, NULL);
    g_autofree char *v2_controllers = NULL;
    if (v2.mount) {
        const char *below = own2 ? vd_cgroup_below_root(own2, v2.root) : NULL;
        g_autofree char *file =
            g_strconcat(v2.mount, below ? below : "", "/cgroup.controllers", NULL);
        if (!g_file_get_contents(file, &v2_controllers, NULL, NULL))
            v2_controllers = g_strdup("");
        g_strchomp(v2_controllers);
    }
    for (int c = 0; c < VD_CGROUP_N; c++) {
        if (v1[c].mount) {
            g_autofree char *own = vd_cgroup_proc_path(self_cgroup, v1_names[c]);
            set_base(layout, c, &v1[c], own, FALSE);
        } else if (v2.mount && list_has(v2_controllers, " ", v2_names[c])) {
            set_base(layout, c, &v2, own2, TRUE);
        } else if (v2.mount) {
            layout->why[c] = g_strdup_printf(
                "no cgroup v1 hierarchy has the %s controller and the cgroup v2 tree at %s "
                "does not offer it (cgroup.controllers: '%s')",
                v1_names[c], v2.mount, v2_controllers);
        } else {
            layout->why[c] = g_strdup_printf(
                "no cgroup v1 hierarchy has the %s controller and no cgroup v2 tree is mounted",
                v1_names[c]);
        }
        if (layout->base[c] && !layout->fake && access(layout->base[c], W_OK) < 0) {
            int e = errno;
            layout->why[c] =
                g_strdup_printf("%s is not writable: %s", layout->base[c], g_strerror(e));
            g_clear_pointer(&layout->base[c], g_free);
        }
    }
    for (int c = 0; c < VD_CGROUP_N; c++) {
        g_free(v1[c].mount);
        g_free(v1[c].root);
    }
    g_free(v2.mount);
    g_free(v2.root);
    return layout;
}

VdCgroupLayout *
vd_cgroup_layout_detect(void)
{
    g_autofree char *mountinfo = NULL;
    g_autofree char *self = NULL;
    g_file_get_contents("/proc/self/mountinfo", &mountinfo, NULL, NULL);
    g_file_get_contents("/proc/self/cgroup", &self, NULL, NULL);
    return vd_cgroup_layout_parse(mountinfo, self, NULL);
}

char *
vd_cgroup_escape(const char *name)
{
    GString *s = g_string_new(NULL);
    for (const char *p = name; *p; p++) {
        guchar ch = (guchar)*p;
        gboolean keep = g_ascii_isalnum(ch) || ch == '_' || ch == ':' || (ch == '.' && p != name);
        if (keep)
            g_string_append_c(s, (char)ch);
        else
            g_string_append_printf(s, "\\x%02x", ch);
    }
    return g_string_free(s, FALSE);
}
