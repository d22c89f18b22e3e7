/* Finding the vmlinux inside a bzImage. See kernel-image.h.
 *
 * The bzImage layout (Documentation/x86/boot.rst): the setup header at
 * 0x1f1 gives setup_sects (the real-mode part is (setup_sects + 1) * 512
 * bytes, 0 meaning 4) and, from boot protocol 2.08, payload_offset and
 * payload_length, relative to the protected-mode code. The payload is the
 * compressed vmlinux; its format is told by its magic number. */
#include "kernel-image.h"

#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/vd-error.h"
#include "util/vd-file.h"

#define MAX_VMLINUX (512u * 1024 * 1024)
/* The most memory the xz/lzma decoder may use (its dictionary). */
#define LZMA_MEMLIMIT ((guint64)256 << 20)

static guint32
le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static GByteArray *
inflate_gzip(const guint8 *in, gsize len, gsize max, char **why)
{
    z_stream zs = {0};
    GByteArray *out = g_byte_array_new();
    guint8 buf[1 << 16];
    int rc;

    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        goto fail;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    do {
        zs.next_out = buf;
        zs.avail_out = sizeof(buf);
        rc = inflate(&zs, Z_NO_FLUSH);
        g_byte_array_append(out, buf, sizeof(buf) - zs.avail_out);
        if (out->len > max)
            rc = Z_MEM_ERROR;
    } while (rc == Z_OK);
    inflateEnd(&zs);
    if (rc == Z_STREAM_END)
        return out;
fail:
    *why = g_strdup("the gzip payload does not decompress");
    g_byte_array_unref(out);
    return NULL;
}

static GByteArray *
inflate_lzma(const guint8 *in, gsize len, gboolean xz, gsize max, char **why)
{
    lzma_stream ls = LZMA_STREAM_INIT;
    GByteArray *out = g_byte_array_new();
    guint8 buf[1 << 16];
    /* The header sets the dictionary's size, up to 4 GiB, allocated at
     * once: a 13-byte hostile payload would make the daemon allocate 2 GiB
     * (fuzz/kernel-image.c). Kernels use 32-64 MiB (xz -9: 64 MiB). */
    lzma_ret rc = xz ? lzma_stream_decoder(&ls, LZMA_MEMLIMIT, 0)
                     : lzma_alone_decoder(&ls, LZMA_MEMLIMIT);

    if (rc != LZMA_OK)
        goto fail;
    ls.next_in = in;
    ls.avail_in = len;
    do {
        ls.next_out = buf;
        ls.avail_out = sizeof(buf);
        rc = lzma_code(&ls, LZMA_FINISH);
        g_byte_array_append(out, buf, sizeof(buf) - ls.avail_out);
        if (out->len > max)
            rc = LZMA_MEM_ERROR;
    } while (rc == LZMA_OK);
    lzma_end(&ls);
    if (rc == LZMA_STREAM_END)
        return out;
    if (rc == LZMA_MEMLIMIT_ERROR) {
        *why = g_strdup_printf("the %s payload needs more than %u MiB of memory to decompress",
                               xz ? "xz" : "lzma", (guint)(LZMA_MEMLIMIT >> 20));
        g_byte_array_unref(out);
        return NULL;
    }
fail:
    *why = g_strdup_printf("the %s payload does not decompress", xz ? "xz" : "lzma");
    g_byte_array_unref(out);
    return NULL;
}

static GByteArray *
inflate_zstd(const guint8 *in, gsize len, gsize max, char **why)
{
    ZSTD_DStream *zs = ZSTD_createDStream();
    GByteArray *out = g_byte_array_new();
    guint8 buf[1 << 16];
    ZSTD_inBuffer ib = {in, len, 0};
    size_t rc = 1;

    /* The kernel appends the uncompressed size after the frame: stop at
     * the end of the first frame. */
    ZSTD_initDStream(zs);
    while (rc != 0 && ib.pos < ib.size) {
        ZSTD_outBuffer ob = {buf, sizeof(buf), 0};
        rc = ZSTD_decompressStream(zs, &ob, &ib);
        if (ZSTD_isError(rc) || out->len > max)
            break;
        g_byte_array_append(out, buf, ob.pos);
    }
    ZSTD_freeDStream(zs);
    if (rc == 0)
        return out;
    *why = g_strdup("the zstd payload does not decompress");
    g_byte_array_unref(out);
    return NULL;
}

/* The kernel's lz4 is the legacy format: magic, then blocks of a 32-bit
 * compressed size and at most 8 MiB of output each. */
static GByteArray *
inflate_lz4(const guint8 *in, gsize len, gsize max, char **why)
{
    const gsize block_max = 8u << 20;
    GByteArray *out = g_byte_array_new();
    gsize pos = 4;

    while (pos + 4 <= len) {
        guint32 clen = le32(in + pos);
        if (clen == 0x184C2102) { /* a new stream (concatenated) */
            pos += 4;
            continue;
        }
        pos += 4;
        if (clen == 0 || clen > len - pos || out->len > max)
            break;
        gsize at = out->len;
        g_byte_array_set_size(out, (guint)(at + block_max));
        int n = LZ4_decompress_safe((const char *)in + pos, (char *)out->data + at, (int)clen,
                                    (int)block_max);
        if (n < 0) {
            g_byte_array_set_size(out, (guint)at);
            break;
        }
        g_byte_array_set_size(out, (guint)(at + (gsize)n));
        pos += clen;
    }
    if (out->len > 0 && memcmp(out->data, ELFMAG, SELFMAG) == 0)
        return out;
    *why = g_strdup("the lz4 payload does not decompress");
    g_byte_array_unref(out);
    return NULL;
}

/* The ELF's headers are copied out rather than pointed at: an image's
 * offsets need not be aligned, and a misaligned Elf64_Phdr or Elf64_Nhdr
 * access is undefined behaviour (found by fuzz/kernel-image.c). */
gboolean
vd_elf_has_pvh_note(const guint8 *data, gsize len)
{
    Elf64_Ehdr eh;

    if (len < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) != 0 ||
        data[EI_CLASS] != ELFCLASS64)
        return FALSE;
    memcpy(&eh, data, sizeof(eh));
    if (eh.e_phoff > len || eh.e_phnum > 256 ||
        eh.e_phoff + (guint64)eh.e_phnum * sizeof(Elf64_Phdr) > len)
        return FALSE;
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, data + eh.e_phoff + (gsize)i * sizeof(Elf64_Phdr), sizeof(ph));
        if (ph.p_type != PT_NOTE || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
            continue;
        gsize pos = ph.p_offset, end = ph.p_offset + ph.p_filesz;
        while (pos + sizeof(Elf64_Nhdr) <= end) {
            Elf64_Nhdr nh;
            memcpy(&nh, data + pos, sizeof(nh));
            gsize name_at = pos + sizeof(Elf64_Nhdr);
            gsize desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
            gsize next = desc_at + ((nh.n_descsz + 3) & ~3u);
            if (next > end || next <= pos)
                break;
            /* XEN_ELFNOTE_PHYS32_ENTRY is 18, in the "Xen" namespace. */
            if (nh.n_type == 18 && nh.n_namesz == 4 && memcmp(data + name_at, "Xen", 4) == 0)
                return TRUE;
            pos = next;
        }
    }
    return FALSE;
}

VdKernelExtractResult
vd_kernel_vmlinux_from_image(const guint8 *img, gsize len, gsize max_vmlinux, GByteArray **elf_out,
                             char **why)
{
    g_autofree char *reason = NULL;
    g_autoptr(GByteArray) elf = NULL;

    *elf_out = NULL;
    /* "HdrS" at 0x202 marks the setup header of a bzImage. */
    if (len < 0x260 || memcmp(img + 0x202, "HdrS", 4) != 0) {
        if (why)
            *why = g_strdup("not a bzImage");
        return VD_KERNEL_NOT_BZIMAGE;
    }
    guint16 version = (guint16)(img[0x206] | img[0x207] << 8);
    guint setup_sects = img[0x1f1] ? img[0x1f1] : 4;
    gsize pm_start = (gsize)(setup_sects + 1) * 512;
    guint32 payload_offset = le32(img + 0x248);
    guint32 payload_length = le32(img + 0x24c);

    if (version < 0x208) {
        reason = g_strdup_printf("boot protocol %x.%02x has no payload fields", version >> 8,
                                 version & 0xff);
    } else if (pm_start + payload_offset >= len ||
               payload_length > len - pm_start - payload_offset || payload_length < 8) {
        reason = g_strdup("the payload lies outside the file");
    } else {
        const guint8 *p = img + pm_start + payload_offset;
        gsize n = payload_length;
        if (p[0] == 0x1f && p[1] == 0x8b)
            elf = inflate_gzip(p, n, max_vmlinux, &reason);
        else if (memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
            elf = inflate_lzma(p, n, TRUE, max_vmlinux, &reason);
        else if (p[0] == 0x5d && p[1] == 0 && p[2] == 0)
            elf = inflate_lzma(p, n, FALSE, max_vmlinux, &reason);
        else if (memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
            elf = inflate_zstd(p, n, max_vmlinux, &reason);
        else if (memcmp(p, "\x02\x21\x4c\x18", 4) == 0)
            elf = inflate_lz4(p, n, max_vmlinux, &reason);
        else
            reason = g_strdup_printf("the payload's compression (magic %02x %02x %02x %02x) is "
                                     "not supported",
                                     p[0], p[1], p[2], p[3]);
    }
    if (elf && !vd_elf_has_pvh_note(elf->data, elf->len)) {
        reason = g_strdup("the kernel has no PVH entry point (CONFIG_PVH is off)");
        g_clear_pointer(&elf, g_byte_array_unref);
    }
    if (!elf) {
        if (why)
            *why = g_steal_pointer(&reason);
        return VD_KERNEL_UNUSABLE;
    }
    *elf_out = g_steal_pointer(&elf);
    return VD_KERNEL_EXTRACTED;
}

gboolean
vd_kernel_extract_vmlinux(const char *path, const char *out_path, VdKernelExtractResult *result,
                          char **why, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    g_autoptr(GByteArray) elf = NULL;

    *result = VD_KERNEL_UNUSABLE;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read kernel '%s': %s", path,
                    local->message);
        return FALSE;
    }
    VdKernelExtractResult found =
        vd_kernel_vmlinux_from_image((const guint8 *)data, len, MAX_VMLINUX, &elf, why);
    if (found != VD_KERNEL_EXTRACTED) {
        *result = found;
        return TRUE;
    }
    if (!vd_file_write_atomic(out_path, (const char *)elf->data, (gssize)elf->len, 0600, error))
        return FALSE;
    *result = VD_KERNEL_EXTRACTED;
    return TRUE;
}
