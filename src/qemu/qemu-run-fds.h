/* Descriptors QEMU is given at its start instead of paths to open.
 *
 * The argv builder decides what QEMU needs (a listening socket for the
 * QMP monitor, the console and every server chardev; a file to write for
 * the console log and each <serial type='file'>), names each one by the
 * descriptor number QEMU will hold it at, and lists it as a request. The
 * daemon (and the QEMU argv tests) open the requests in order, as root,
 * and hand them to the child at those numbers. So QEMU needs no right to
 * create or write a file in any directory: run/qemu and log/console are
 * the daemon's alone.
 *
 * QEMU takes them as:
 * - a socket:  -chardev socket,id=X,fd=N,server=on,wait=off (QEMU listens
 *   on the descriptor; socket_listen() accepts an already-bound socket),
 *   or -chardev socket,id=X,fd=N for one already connected (QEMU's client
 *   end of swtpm's control channel);
 * - a file:    -add-fd fd=N,set=N,opaque=PATH and the path /dev/fdset/N
 *   (qemu_open() dups the set's descriptor whose access mode matches, so
 *   each file is opened write-only, as QEMU's chardevs open them);
 * - a disk image: the same, one set per image holding a read-only
 *   descriptor and, for a writable disk, a read-write one (QEMU reopens
 *   an image read-only <-> read-write: auto-read-only, block commit). */
#pragma once

#include <glib.h>

typedef enum {
    VD_QEMU_FD_LISTEN,   /* a unix socket bound at path and listening */
    VD_QEMU_FD_CONNECT,  /* a unix socket connected to path (swtpm's control socket) */
    VD_QEMU_FD_APPEND,   /* a file opened write-only to append, made 0600 if missing */
    VD_QEMU_FD_TRUNCATE, /* the same, emptied first (<serial type='file'> without append) */
    VD_QEMU_FD_READ,     /* an existing file (a disk image) opened read-only */
    VD_QEMU_FD_READ_WRITE, /* the same read-write (a writable disk's images) */
} VdQemuFdKind;

typedef struct {
    VdQemuFdKind kind;
    char *path;
    int number; /* the descriptor number QEMU holds it at (the argv names it) */
} VdQemuFdRequest;

VdQemuFdRequest *vd_qemu_fd_request_new(VdQemuFdKind kind, const char *path, int number);
void vd_qemu_fd_request_free(gpointer request);

/* Opens @request as the daemon (close-on-exec; the spawn clears it at
 * the number QEMU gets). A socket's path may hold a stale socket, which
 * is removed; anything else there is refused, naming it. Returns the
 * descriptor, or -1 with @error set. */
int vd_qemu_fd_request_open(const VdQemuFdRequest *request, GError **error);

/* Opens every request of @requests in order and appends the descriptors
 * to @fds (an array of int); on a failure closes what it opened, removes
 * the sockets it bound and returns FALSE. */
gboolean vd_qemu_fd_requests_open(GPtrArray *requests, GArray *fds, GError **error);
