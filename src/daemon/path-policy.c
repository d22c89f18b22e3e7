/* Which paths a client may name (path-policy.h). */
#include "daemon/path-policy.h"

#include <string.h>
#include <sys/stat.h>

#include "util/vd-error.h"

VdPathGuard *
vd_path_policy_guard(const VdPaths *p)
{
    VdPathGuard *g = vd_path_guard_new();
    g_autofree char *images = g_build_filename(p->state_dir, "images", NULL);

    vd_path_guard_protect(g, p->config_dir, "the daemon's configuration");
    vd_path_guard_protect(g, p->run_dir, "the daemon's run-time state (sockets of domains)");
    vd_path_guard_protect(g, p->log_dir, "the daemon's logs");
    vd_path_guard_protect(g, p->cache_dir, "the daemon's cache");
    vd_path_guard_protect(g, p->state_dir, "the daemon's state");
    vd_path_guard_protect(g, p->socket_path, "the daemon's API socket");
    vd_path_guard_allow(g, images);
    return g;
}

/* Directories a pool may not be: a pool may write any regular file
 * directly in its directory. */
static const char *const shared_dirs[] = {
    "/", "/home", "/root", "/tmp", "/var", "/var/tmp", "/var/lib", "/var/log", "/var/cache",
    "/var/spool", "/var/mail", "/run", "/srv", "/opt", "/mnt", "/media", "/lost+found",
};

/* Trees a pool may not be in: the system's own files. */
static const char *const system_trees[] = {
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot",
    "/proc", "/sys", "/dev", "/run/lock", "/var/run",
};

static gboolean
under(const char *path, const char *tree)
{
    gsize n = strlen(tree);
    return strncmp(path, tree, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* The system tree @path (or, when given, @also) is in; NULL for none. */
static const char *
system_tree_of(const char *path, const char *also)
{
    for (guint i = 0; i < G_N_ELEMENTS(system_trees); i++)
        if (under(path, system_trees[i]) || (also && under(also, system_trees[i])))
            return system_trees[i];
    return NULL;
}

gboolean
vd_path_policy_check_pool_target(const VdPaths *paths, const char *pool, const char *target,
                                 GError **error)
{
    g_autoptr(VdPathGuard) guard = vd_path_policy_guard(paths);
    g_autofree char *what = g_strdup_printf("target of pool '%s'", pool);
    g_autofree char *resolved = vd_path_guard_check(guard, what, target, error);

    if (!resolved)
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(shared_dirs); i++) {
        if (g_str_equal(resolved, shared_dirs[i]) || g_str_equal(target, shared_dirs[i])) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s: '%s' is %s, shared with the rest of the system: a pool may "
                        "overwrite any file directly in its directory; use a directory of its "
                        "own such as '%s/virtd-images'",
                        what, target,
                        g_str_equal(resolved, "/") ? "the root directory" : "a system directory",
                        g_str_equal(resolved, "/") ? "/srv" : resolved);
            return FALSE;
        }
    }
    const char *tree = system_tree_of(resolved, target);
    if (tree) {
        g_autofree char *via = g_str_equal(resolved, target)
                                   ? g_strdup("")
                                   : g_strdup_printf(" (it leads to '%s')", resolved);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s: '%s'%s is inside '%s', the system's own files: use a directory "
                    "of its own such as /srv/images",
                    what, target, via, tree);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_path_policy_check_backing(const VdPaths *paths, const char *image, const char *backing,
                             GError **error)
{
    g_autoptr(VdPathGuard) guard = vd_path_policy_guard(paths);
    g_autofree char *what = g_strdup_printf("backing file named in the header of '%s'", image);
    g_autofree char *resolved = vd_path_guard_check(guard, what, backing, error);
    struct stat st;

    if (!resolved)
        return FALSE;
    const char *tree = system_tree_of(resolved, NULL);
    if (tree) {
        g_set_error(error, VD_ERROR, VD_ERROR_DENIED,
                    "%s: '%s' is inside '%s', the system's own files: virtd gives no such "
                    "file to a guest; give the image a backing file of its own (qemu-img "
                    "rebase -u -b NEW -F FORMAT '%s')",
                    what, backing, tree, image);
        return FALSE;
    }
    if (stat(resolved, &st) == 0 && !S_ISREG(st.st_mode)) {
        g_set_error(error, VD_ERROR, VD_ERROR_DENIED,
                    "%s: '%s' is not a regular file: a backing file must be an image file; "
                    "fix the header with qemu-img rebase -u -b NEW -F FORMAT '%s'",
                    what, backing, image);
        return FALSE;
    }
    return TRUE;
}
