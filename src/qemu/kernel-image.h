/* Linux kernel images: find the vmlinux inside a bzImage.
 *
 * QEMU boots an uncompressed vmlinux through the PVH entry point directly,
 * skipping the bzImage's real-mode setup and its decompressor, which under
 * TCG emulation costs seconds (DESIGN.md §2: ~1.7 s against ~4.4 s for the
 * same kernel). The guest runs the very same kernel either way. This file
 * only transforms bytes; the daemon decides when and caches the result.
 */
#pragma once

#include <glib.h>

typedef enum {
    VD_KERNEL_EXTRACTED,     /* @out_path now holds a vmlinux QEMU can boot via PVH */
    VD_KERNEL_NOT_BZIMAGE,   /* not a bzImage (maybe already a vmlinux): boot it as it is */
    VD_KERNEL_UNUSABLE,      /* a bzImage whose payload we cannot use: boot it as it is */
} VdKernelExtractResult;

/* Reads @path; if it is a bzImage with a payload compressed with gzip, xz,
 * lzma, zstd or lz4 whose ELF has a PVH entry note, writes that ELF to
 * @out_path atomically. @why (may be NULL) says why an image is unusable.
 * FALSE + @error only for I/O errors. Blocking: run it in a worker thread. */
gboolean vd_kernel_extract_vmlinux(const char *path, const char *out_path,
                                   VdKernelExtractResult *result, char **why, GError **error);

/* The same on the image's bytes (@len of @img), without I/O: the vmlinux
 * in *@elf_out with VD_KERNEL_EXTRACTED (NULL otherwise); a payload that
 * decompresses to more than @max_vmlinux bytes is unusable. */
VdKernelExtractResult vd_kernel_vmlinux_from_image(const guint8 *img, gsize len, gsize max_vmlinux,
                                                   GByteArray **elf_out, char **why);

/* Whether @data is a 64-bit ELF image carrying the Xen PVH entry note
 * (XEN_ELFNOTE_PHYS32_ENTRY), which QEMU needs to boot it with -kernel. */
gboolean vd_elf_has_pvh_note(const guint8 *data, gsize len);
