/* The cache of uncompressed kernels.
 *
 * A domain booting a bzImage with <kernel> is booted from the vmlinux the
 * bzImage carries (qemu/kernel-image.h), seconds faster under TCG. The
 * extraction runs once per kernel content, in a worker thread; the result
 * lives in cache_dir/kernels/SHA256.vmlinux, keyed by the hash of the
 * bzImage's bytes, so a changed kernel file is extracted again and an
 * unchanged one is never re-read (the hash is remembered per file
 * identity: device, inode, size, mtime, ctime). Invisible to the user:
 * the XML keeps the kernel path as written.
 */
#pragma once

#include <gio/gio.h>

typedef struct _VdKernelCache VdKernelCache;

VdKernelCache *vd_kernel_cache_new(const char *cache_dir);
void vd_kernel_cache_free(VdKernelCache *cache);

/* Resolves @kernel to the file QEMU should boot. The result (finish) is
 * the cached vmlinux, or NULL when the kernel is to be booted as it is
 * (not a bzImage, or its payload is unusable: logged once). Errors only
 * for unreadable kernels. */
void vd_kernel_cache_resolve_async(VdKernelCache *cache, const char *kernel,
                                   GAsyncReadyCallback callback, gpointer user_data);
char *vd_kernel_cache_resolve_finish(VdKernelCache *cache, GAsyncResult *result, GError **error);

/* Resolves @kernel in the background and forgets the answer: called when
 * a domain is defined, so that even its first start finds the vmlinux
 * ready. NULL @cache or @kernel do nothing. */
void vd_kernel_cache_prefetch(VdKernelCache *cache, const char *kernel);
