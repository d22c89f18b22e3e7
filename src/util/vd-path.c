/* Paths a client names (vd-path.h). */
#include "vd-path.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vd-error.h"

/* Symlinks followed while resolving one path, as the kernel's limit. */
#define MAX_SYMLINKS 40

/* Appends @component to @resolved ("/" stays a single slash). */
static void
append_component(GString *resolved, const char *component)
{
    if (resolved->len == 0 || resolved->str[resolved->len - 1] != '/')
        g_string_append_c(resolved, '/');
    g_string_append(resolved, component);
}

static void
drop_last_component(GString *resolved)
{
    char *slash = strrchr(resolved->str, '/');
    g_string_truncate(resolved, slash && slash != resolved->str ? (gsize)(slash - resolved->str) : 1);
}

/* @pending is a stack whose last element is the next component: pushes
 * the components of @path so that they come next, in order. */
static void
push_components(GPtrArray *pending, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    for (gint i = (gint)g_strv_length(parts) - 1; i >= 0; i--) {
        if (*parts[i] && !g_str_equal(parts[i], "."))
            g_ptr_array_add(pending, g_strdup(parts[i]));
    }
}

/* Resolved component by component (lstat, readlink) rather than with
 * realpath(): a dangling symlink at the end ("file that QEMU will
 * create") must be followed too, or creating the file would land
 * wherever the link points. */
char *
vd_path_resolve(const char *path, GError **error)
{
    g_autoptr(GString) resolved = g_string_new("/");
    g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
    gboolean missing = FALSE;
    guint links = 0;

    if (!path || !g_path_is_absolute(path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "'%s' is not an absolute path", path ? path : "");
        return NULL;
    }
    push_components(pending, path);
    while (pending->len > 0) {
        g_autofree char *c = g_ptr_array_steal_index(pending, pending->len - 1);
        struct stat st;

        if (g_str_equal(c, "..")) {
            if (missing) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "'%s' has '..' after a directory that does not exist: give the "
                            "path without '..'",
                            path);
                return NULL;
            }
            drop_last_component(resolved);
            continue;
        }
        append_component(resolved, c);
        if (missing)
            continue;
        if (lstat(resolved->str, &st) < 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                missing = TRUE;
                continue;
            }
            int err = errno;
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot resolve '%s': %s: %s",
                        path, resolved->str, g_strerror(err));
            return NULL;
        }
        if (!S_ISLNK(st.st_mode))
            continue;
        g_autofree char *target = g_file_read_link(resolved->str, NULL);
        if (!target || ++links > MAX_SYMLINKS) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "cannot resolve '%s': too many symbolic links or an unreadable one at "
                        "'%s'",
                        path, resolved->str);
            return NULL;
        }
        drop_last_component(resolved);
        if (g_path_is_absolute(target))
            g_string_assign(resolved, "/");
        push_components(pending, target);
    }
    return g_string_free(g_steal_pointer(&resolved), FALSE);
}

/* ---- the guard ---- */

typedef struct {
    char *place; /* canonical, absolute */
    char *why;
} Place;

struct _VdPathGuard {
    gint refs;
    GArray *protected; /* Place */
    GPtrArray *allowed; /* char* */
};

static void
place_clear(Place *p)
{
    g_free(p->place);
    g_free(p->why);
}

VdPathGuard *
vd_path_guard_new(void)
{
    VdPathGuard *g = g_new0(VdPathGuard, 1);
    g->refs = 1;
    g->protected = g_array_new(FALSE, TRUE, sizeof(Place));
    g_array_set_clear_func(g->protected, (GDestroyNotify)place_clear);
    g->allowed = g_ptr_array_new_with_free_func(g_free);
    return g;
}

VdPathGuard *
vd_path_guard_ref(VdPathGuard *g)
{
    g_atomic_int_inc(&g->refs);
    return g;
}

void
vd_path_guard_unref(VdPathGuard *g)
{
    if (!g || !g_atomic_int_dec_and_test(&g->refs))
        return;
    g_array_unref(g->protected);
    g_ptr_array_unref(g->allowed);
    g_free(g);
}

static void
add_protected(VdPathGuard *g, const char *place, const char *why)
{
    for (guint i = 0; i < g->protected->len; i++) {
        if (g_str_equal(g_array_index(g->protected, Place, i).place, place))
            return;
    }
    Place p = {g_strdup(place), g_strdup(why)};
    g_array_append_val(g->protected, p);
}

void
vd_path_guard_protect(VdPathGuard *g, const char *place, const char *why)
{
    g_autofree char *clean = g_canonicalize_filename(place, "/");
    g_autofree char *real = vd_path_resolve(clean, NULL);

    add_protected(g, clean, why);
    if (real)
        add_protected(g, real, why);
}

void
vd_path_guard_allow(VdPathGuard *g, const char *place)
{
    g_autofree char *clean = g_canonicalize_filename(place, "/");
    g_autofree char *real = vd_path_resolve(clean, NULL);

    /* Only a place that is where it says: an allowed directory that is
     * a symlink into a protected one must not open that one up. */
    if (real && g_str_equal(real, clean))
        g_ptr_array_add(g->allowed, g_steal_pointer(&clean));
}

/* @path is @place or under it. */
static gboolean
path_within(const char *path, const char *place)
{
    gsize n = strlen(place);

    if (g_str_equal(place, "/"))
        return TRUE;
    return strncmp(path, place, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static const Place *
protected_place(const VdPathGuard *g, const char *resolved)
{
    for (guint i = 0; i < g->allowed->len; i++) {
        if (path_within(resolved, g_ptr_array_index(g->allowed, i)))
            return NULL;
    }
    for (guint i = 0; i < g->protected->len; i++) {
        const Place *p = &g_array_index(g->protected, Place, i);
        if (path_within(resolved, p->place))
            return p;
    }
    return NULL;
}

static gboolean
refuse_place(const Place *p, const char *what, const char *path, const char *resolved,
             GError **error)
{
    g_autofree char *via = g_str_equal(path, resolved)
                               ? g_strdup("")
                               : g_strdup_printf(" (it leads to '%s')", resolved);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "%s: '%s'%s is inside %s ('%s'), which no domain or pool may use: choose a "
                "path outside it",
                what, path, via, p->why, p->place);
    return FALSE;
}

char *
vd_path_guard_check(const VdPathGuard *g, const char *what, const char *path, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *resolved = NULL;
    const Place *p;

    if (!path || !g_path_is_absolute(path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s: path '%s' is relative: give an absolute path (the daemon's working "
                    "directory is not yours), e.g. /path/to/%s",
                    what, path ? path : "", path ? path : "file");
        return NULL;
    }
    if (!(resolved = vd_path_resolve(path, &local))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s: %s", what, local->message);
        return NULL;
    }
    if ((p = protected_place(g, resolved))) {
        refuse_place(p, what, path, resolved, error);
        return NULL;
    }
    return g_steal_pointer(&resolved);
}

gboolean
vd_path_guard_check_fd(const VdPathGuard *g, const char *what, const char *path, int fd,
                       GError **error)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    g_autofree char *real = g_file_read_link(link, NULL);
    const Place *p;

    if (!real) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "%s: cannot tell which file '%s' is (no /proc?)", what, path);
        return FALSE;
    }
    if ((p = protected_place(g, real)))
        return refuse_place(p, what, path, real, error);
    return TRUE;
}

/* ---- opening without blocking ---- */

const char *
vd_path_describe_mode(mode_t mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "a special file";
}

static gboolean
kind_ok(mode_t mode, VdPathOpenFlags flags)
{
    return ((flags & VD_PATH_REGULAR) && S_ISREG(mode)) ||
           ((flags & VD_PATH_BLOCK) && S_ISBLK(mode));
}

static void
refuse_kind(const char *what, const char *path, mode_t mode, VdPathOpenFlags flags,
            GError **error)
{
    const char *want = (flags & VD_PATH_BLOCK) ? "a regular file or a block device"
                                               : "a regular file";
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s: '%s' is %s; it must be %s", what,
                path, vd_path_describe_mode(mode), want);
}

static void
set_errno(const char *what, const char *path, int err, GError **error)
{
    if (err == ENOENT)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s: '%s' does not exist", what,
                    path);
    else
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "%s: cannot open '%s': %s",
                    what, path, g_strerror(err));
}

int
vd_path_open_checked(const char *what, const char *path, VdPathOpenFlags flags,
                     struct stat *st_out, GError **error)
{
    gboolean nofollow = (flags & VD_PATH_NOFOLLOW) != 0;
    struct stat st;
    int fd, fl;

    if ((nofollow ? lstat(path, &st) : stat(path, &st)) < 0) {
        set_errno(what, path, errno, error);
        return -1;
    }
    if (!kind_ok(st.st_mode, flags)) {
        refuse_kind(what, path, st.st_mode, flags, error);
        return -1;
    }
    fd = open(path, ((flags & VD_PATH_WRITE) ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_NOCTTY |
                        O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        int err = errno;
        if (err == ELOOP && nofollow)
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s: '%s' is a symbolic link; it must be %s", what, path,
                        (flags & VD_PATH_BLOCK) ? "a regular file or a block device"
                                                : "a regular file");
        else
            set_errno(what, path, err, error);
        return -1;
    }
    /* The file may have been replaced between stat() and open(). */
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        set_errno(what, path, err, error);
        return -1;
    }
    if (!kind_ok(st.st_mode, flags)) {
        close(fd);
        refuse_kind(what, path, st.st_mode, flags, error);
        return -1;
    }
    if ((fl = fcntl(fd, F_GETFL)) >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (st_out)
        *st_out = st;
    return fd;
}
