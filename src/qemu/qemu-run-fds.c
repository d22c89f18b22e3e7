/* Descriptors QEMU is given at its start. See qemu-run-fds.h. */
#include "qemu/qemu-run-fds.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/vd-error.h"

VdQemuFdRequest *
vd_qemu_fd_request_new(VdQemuFdKind kind, const char *path, int number)
{
    VdQemuFdRequest *r = g_new0(VdQemuFdRequest, 1);
    r->kind = kind;
    r->path = g_strdup(path);
    r->number = number;
    return r;
}

void
vd_qemu_fd_request_free(gpointer request)
{
    VdQemuFdRequest *r = request;
    if (!r)
        return;
    g_free(r->path);
    g_free(r);
}

/* @path as a unix socket address; refused when it does not fit. */
static gboolean
unix_address(const char *path, struct sockaddr_un *addr, GError **error)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr->sun_path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "socket path '%s' is longer than a UNIX socket path may be (%zu bytes)", path,
                    sizeof(addr->sun_path) - 1);
        return FALSE;
    }
    strcpy(addr->sun_path, path);
    return TRUE;
}

static int
open_listening(const char *path, GError **error)
{
    struct sockaddr_un addr;
    if (!unix_address(path, &addr, error))
        return -1;
    /* What QEMU did itself before: a socket left at the path (by an
     * earlier run) is replaced. Anything else is never removed. The
     * domain's file check (domain-files.c) has already refused a socket
     * someone still listens on. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "cannot make the socket '%s': a file that is not a socket is there; "
                        "remove it or choose another path",
                        path);
            return -1;
        }
        g_unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot make the socket '%s': %s", path, g_strerror(err));
        return -1;
    }
    return fd;
}

/* swtpm makes its socket before it writes the pid file the daemon waits
 * for, so it is there; a short wait covers a slow start all the same. */
#define CONNECT_TRIES 20
#define CONNECT_PAUSE_US 25000

static int
open_connected(const char *path, GError **error)
{
    struct sockaddr_un addr;
    if (!unix_address(path, &addr, error))
        return -1;
    int err = 0;
    for (int i = 0; i < CONNECT_TRIES; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            break;
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return fd;
        err = errno;
        close(fd);
        if (err != ENOENT && err != ECONNREFUSED)
            break;
        g_usleep(CONNECT_PAUSE_US);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "operation failed: cannot connect to the socket '%s': %s", path, g_strerror(err));
    return -1;
}

/* A disk image: never created, never a FIFO or device QEMU would block
 * on (O_NONBLOCK is taken back once it is open). */
static int
open_image(const char *path, gboolean writable, GError **error)
{
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st = {0};
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        int err = fd < 0 ? errno : S_ISREG(st.st_mode) ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot open the disk image '%s' %s for QEMU: %s", path,
                    writable ? "read-write" : "read-only",
                    err == EINVAL ? "it is not a regular file" : g_strerror(err));
        return -1;
    }
    /* Root opens any file read-write: an image without its owner's write
     * bit is kept from being written, as QEMU as its own user would be. */
    if (writable && !(st.st_mode & S_IWUSR)) {
        close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: the disk image '%s' is not writable (mode %04o): make it "
                    "writable (chmod u+w) or mark the disk <readonly/>",
                    path, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return fd;
}

int
vd_qemu_fd_request_open(const VdQemuFdRequest *r, GError **error)
{
    if (r->kind == VD_QEMU_FD_LISTEN)
        return open_listening(r->path, error);
    if (r->kind == VD_QEMU_FD_CONNECT)
        return open_connected(r->path, error);
    if (r->kind == VD_QEMU_FD_READ || r->kind == VD_QEMU_FD_READ_WRITE)
        return open_image(r->path, r->kind == VD_QEMU_FD_READ_WRITE, error);
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY;
    flags |= r->kind == VD_QEMU_FD_APPEND ? O_APPEND : O_TRUNC;
    int fd = open(r->path, flags, 0600);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot open '%s' for QEMU to write: %s", r->path,
                    g_strerror(err));
        return -1;
    }
    return fd;
}

static void
undo(GPtrArray *requests, GArray *fds, guint from, guint n)
{
    for (guint i = 0; i < n; i++) {
        const VdQemuFdRequest *r = g_ptr_array_index(requests, i);
        close(g_array_index(fds, int, from + i));
        if (r->kind == VD_QEMU_FD_LISTEN)
            g_unlink(r->path);
    }
    g_array_set_size(fds, from);
}

gboolean
vd_qemu_fd_requests_open(GPtrArray *requests, GArray *fds, GError **error)
{
    guint from = fds->len;
    for (guint i = 0; requests && i < requests->len; i++) {
        const VdQemuFdRequest *r = g_ptr_array_index(requests, i);
        int fd = vd_qemu_fd_request_open(r, error);
        if (fd < 0) {
            undo(requests, fds, from, i);
            return FALSE;
        }
        g_array_append_val(fds, fd);
    }
    return TRUE;
}
