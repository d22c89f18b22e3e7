/* Paths a client names: where they really lead, whether they may be
 * used, and opening them without blocking.
 *
 * A client of the API names files on the daemon's host: disk images,
 * kernels, serial log files, sockets, pool directories. The daemon runs
 * as root and hands these paths to QEMU (or opens them itself), so a path
 * that leads, after symlinks and '..', into the daemon's own state (its
 * definitions, the sockets of running domains, logs) would let one client
 * damage the daemon or another domain. One guard decides for every such
 * path (vd_path_guard_check); the daemon builds it from its directories
 * (daemon/paths.h).
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

/* Where @path leads: realpath() of its longest existing prefix, followed
 * by the rest normalized ('.' and repeated '/' dropped). A '..' in the
 * part that does not exist yet is refused (it could not be resolved the
 * way the kernel will once the directories exist). @path must be
 * absolute. Blocking (it touches the file system): worker threads. */
char *vd_path_resolve(const char *path, GError **error);

typedef struct _VdPathGuard VdPathGuard;

/* An empty guard; immutable once shared: any thread may check with it. */
VdPathGuard *vd_path_guard_new(void);
VdPathGuard *vd_path_guard_ref(VdPathGuard *guard);
void vd_path_guard_unref(VdPathGuard *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdPathGuard, vd_path_guard_unref)

/* Refuses @place and everything under it; @why is shown in the error
 * ("the daemon's configuration"). Both its name as given and where it
 * resolves to are protected. */
void vd_path_guard_protect(VdPathGuard *guard, const char *place, const char *why);
/* Allows @place and everything under it even inside a protected place
 * (the default storage pool lives under the daemon's state directory). */
void vd_path_guard_allow(VdPathGuard *guard, const char *place);

/* Checks a client-supplied @path for @what ("disk 'vda'", "<kernel>"):
 * absolute, and not resolving into a protected place. Returns the
 * resolved path, or NULL with VD_ERROR_INVALID_ARG naming @what, @path
 * and why. Blocking: worker threads. */
char *vd_path_guard_check(const VdPathGuard *guard, const char *what, const char *path,
                          GError **error);
/* The same for what @fd really is (its /proc/self/fd link): for files
 * the daemon opens itself, so that a symlink swapped after the check
 * cannot lead it elsewhere. */
gboolean vd_path_guard_check_fd(const VdPathGuard *guard, const char *what, const char *path,
                                int fd, GError **error);

/* "a regular file", "a FIFO", "a directory", ... */
const char *vd_path_describe_mode(mode_t mode);

typedef enum {
    VD_PATH_REGULAR = 1 << 0,
    VD_PATH_BLOCK = 1 << 1,
    VD_PATH_NOFOLLOW = 1 << 2, /* the last component must not be a symlink */
    VD_PATH_WRITE = 1 << 3,    /* open for writing, not reading */
} VdPathOpenFlags;

/* Opens @path for @what without ever blocking on it: a FIFO, socket or
 * device must not freeze the caller. stat() first, so that a device of
 * the wrong kind is refused without being opened (opening some has
 * effects); then open() with O_NONBLOCK|O_NOCTTY|O_CLOEXEC and fstat()
 * the descriptor, so the check is on what was really opened. @flags says
 * which kinds are accepted (VD_PATH_REGULAR, VD_PATH_BLOCK). Returns the
 * descriptor (blocking mode restored), or -1 with an error naming @what,
 * @path and what it is. ENOENT gives VD_ERROR_INVALID_ARG too; @st_out
 * (may be NULL) receives the fstat. */
int vd_path_open_checked(const char *what, const char *path, VdPathOpenFlags flags,
                         struct stat *st_out, GError **error);
