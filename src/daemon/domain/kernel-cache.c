/* The cache of uncompressed kernels. See kernel-cache.h. */
#include "kernel-cache.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/domain/qemu-access.h"
#include "qemu/kernel-image.h"
#include "util/vd-error.h"
#include "util/vd-file.h"
#include "util/vd-path.h"

struct _VdKernelCache {
    gint refs;              /* the daemon's and one per resolution under way */
    char *dir;
    GMutex lock;            /* guards identities and serializes extractions */
    GHashTable *identities; /* "path|dev|ino|size|mtime|ctime" -> sha256 hex */
};

/* The cache holds the content of kernels whose files may be readable by
 * their owner only: the directory is the daemon's alone (0700, also when
 * an older virtd made it 0755), and so is every file in it (0600). */
static gboolean
ensure_private_dir(const char *dir, GError **error)
{
    if (!vd_dir_ensure(dir, 0700, error))
        return FALSE;
    if (chmod(dir, 0700) < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot make '%s' private: %s", dir,
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

VdKernelCache *
vd_kernel_cache_new(const char *cache_dir)
{
    VdKernelCache *c = g_new0(VdKernelCache, 1);
    c->refs = 1;
    c->dir = g_build_filename(cache_dir, "kernels", NULL);
    g_mutex_init(&c->lock);
    c->identities = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    /* An older virtd left it world-readable: close it before any use. */
    if (g_file_test(c->dir, G_FILE_TEST_IS_DIR) && chmod(c->dir, 0700) < 0)
        g_warning("cannot make the kernel cache '%s' private: %s", c->dir, g_strerror(errno));
    return c;
}

static VdKernelCache *
cache_ref(VdKernelCache *c)
{
    g_atomic_int_inc(&c->refs);
    return c;
}

/* The daemon's free drops its reference: a resolution still running in a
 * worker (a define's prefetch when the daemon stops) keeps the cache until
 * it ends, instead of reading freed memory. */
void
vd_kernel_cache_free(VdKernelCache *c)
{
    if (!c || !g_atomic_int_dec_and_test(&c->refs))
        return;
    g_hash_table_destroy(c->identities);
    g_mutex_clear(&c->lock);
    g_free(c->dir);
    g_free(c);
}

static char *
hash_file(int fd, GError **error)
{
    g_autoptr(GMappedFile) map = g_mapped_file_new_from_fd(fd, FALSE, error);
    if (!map)
        return NULL;
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                       (const guchar *)g_mapped_file_get_contents(map),
                                       g_mapped_file_get_length(map));
}

/* Runs in a worker thread. */
static void
resolve_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    VdKernelCache *c = g_object_get_data(G_OBJECT(task), "vd-kernel-cache");
    const char *kernel = data;
    struct stat st;
    g_autoptr(GError) error = NULL;
    /* Opened once, without blocking (a FIFO named as a kernel must not
     * hang this thread), and read only through this descriptor: the
     * file hashed is the file extracted. */
    int fd = vd_path_open_checked("<kernel>", kernel, VD_PATH_REGULAR, &st, &error);

    if (fd < 0) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_autofree char *by_fd = g_strdup_printf("/proc/self/fd/%d", fd);
    g_autofree char *identity = g_strdup_printf(
        "%s|%ju|%ju|%jd|%ld.%09ld|%ld.%09ld", kernel, (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
        (intmax_t)st.st_size, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
        (long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);

    g_mutex_lock(&c->lock);
    char *known = g_strdup(g_hash_table_lookup(c->identities, identity));
    g_mutex_unlock(&c->lock);
    g_autofree char *hash = known ? known : hash_file(fd, &error);
    if (!hash) {
        close(fd);
        g_task_return_new_error(task, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read kernel '%s': %s",
                                kernel, error->message);
        return;
    }

    g_autofree char *vmlinux = g_strdup_printf("%s/%s.vmlinux", c->dir, hash);
    g_autofree char *plain = g_strdup_printf("%s/%s.plain", c->dir, hash);
    char *result = NULL;

    /* One extraction at a time: concurrent starts of the same kernel
     * wait for the first and then find its result. */
    g_mutex_lock(&c->lock);
    g_hash_table_replace(c->identities, g_strdup(identity), g_strdup(hash));
    if (g_file_test(vmlinux, G_FILE_TEST_EXISTS)) {
        result = g_strdup(vmlinux);
    } else if (!g_file_test(plain, G_FILE_TEST_EXISTS) && ensure_private_dir(c->dir, &error)) {
        VdKernelExtractResult r;
        g_autofree char *why = NULL;
        gint64 t0 = g_get_monotonic_time();
        if (!vd_kernel_extract_vmlinux(by_fd, vmlinux, &r, &why, &error)) {
            g_warning("kernel '%s': cannot extract its vmlinux: %s", kernel, error->message);
        } else if (r == VD_KERNEL_EXTRACTED) {
            g_info("kernel '%s': extracted its vmlinux in %.2f s (cached as %s)", kernel,
                   (double)(g_get_monotonic_time() - t0) / 1e6, vmlinux);
            result = g_strdup(vmlinux);
        } else {
            /* Remember not to try again; boot the image as it is. */
            if (r == VD_KERNEL_UNUSABLE)
                g_info("kernel '%s': booting it as it is: %s", kernel, why ? why : "");
            vd_file_replace(plain, why ? why : "", -1, 0600, NULL);
        }
    }
    /* QEMU reads it as its own user (qemu-access.h): the directory and
     * the file are its group's to read, nobody else's. */
    if (result) {
        vd_qemu_access_share_read(c->dir, TRUE);
        vd_qemu_access_share_read(result, FALSE);
    }
    g_mutex_unlock(&c->lock);
    close(fd);
    g_task_return_pointer(task, result, g_free);
}

void
vd_kernel_cache_resolve_async(VdKernelCache *c, const char *kernel, GAsyncReadyCallback callback,
                              gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    g_task_set_source_tag(task, vd_kernel_cache_resolve_async);
    g_task_set_task_data(task, g_strdup(kernel), g_free);
    /* A GTask's source object must be a GObject: the cache rides along
     * as object data instead. */
    g_object_set_data_full(G_OBJECT(task), "vd-kernel-cache", cache_ref(c),
                           (GDestroyNotify)vd_kernel_cache_free);
    g_task_run_in_thread(task, resolve_thread);
}

char *
vd_kernel_cache_resolve_finish(VdKernelCache *c, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

void
vd_kernel_cache_prefetch(VdKernelCache *c, const char *kernel)
{
    if (c && kernel)
        vd_kernel_cache_resolve_async(c, kernel, NULL, NULL);
}
