/* qemu/kernel-image.c: synthetic bzImages for every payload compression,
 * and the host's real Debian kernel. */
#include <elf.h>
#include <glib/gstdio.h>
#include <lz4.h>
#include <lzma.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "qemu/kernel-image.h"

/* A minimal ELF64 with one PT_NOTE segment; with @pvh the note is Xen's
 * PHYS32_ENTRY (type 18), else some other note. Padded to @pad bytes so
 * the compressors have something to chew on. */
static GByteArray *
fake_vmlinux(gboolean pvh, gsize pad)
{
    GByteArray *b = g_byte_array_new();
    Elf64_Ehdr eh = {0};
    Elf64_Phdr ph = {0};
    struct {
        Elf64_Nhdr nh;
        char name[4];
        guint32 desc;
    } note = {{4, 4, pvh ? 18 : 5}, "Xen", 0x1000000};

    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_phoff = sizeof(eh);
    eh.e_phentsize = sizeof(ph);
    eh.e_phnum = 1;
    ph.p_type = PT_NOTE;
    ph.p_offset = sizeof(eh) + sizeof(ph);
    ph.p_filesz = sizeof(note);
    g_byte_array_append(b, (guint8 *)&eh, sizeof(eh));
    g_byte_array_append(b, (guint8 *)&ph, sizeof(ph));
    g_byte_array_append(b, (guint8 *)&note, sizeof(note));
    while (b->len < pad) {
        guint8 x = (guint8)(b->len * 7 % 251);
        g_byte_array_append(b, &x, 1);
    }
    return b;
}

static GByteArray *
compress_with(const char *how, GByteArray *in)
{
    GByteArray *out = g_byte_array_new();
    if (g_str_equal(how, "gzip")) {
        z_stream zs = {0};
        g_assert_cmpint(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
        g_byte_array_set_size(out, (guint)deflateBound(&zs, in->len));
        zs.next_in = in->data;
        zs.avail_in = in->len;
        zs.next_out = out->data;
        zs.avail_out = out->len;
        g_assert_cmpint(deflate(&zs, Z_FINISH), ==, Z_STREAM_END);
        g_byte_array_set_size(out, (guint)zs.total_out);
        deflateEnd(&zs);
    } else if (g_str_equal(how, "xz")) {
        size_t pos = 0;
        g_byte_array_set_size(out, in->len + 4096);
        g_assert_cmpint(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in->data, in->len,
                                                out->data, &pos, out->len), ==, LZMA_OK);
        g_byte_array_set_size(out, (guint)pos);
    } else if (g_str_equal(how, "zstd")) {
        g_byte_array_set_size(out, (guint)ZSTD_compressBound(in->len));
        size_t n = ZSTD_compress(out->data, out->len, in->data, in->len, 3);
        g_assert_false(ZSTD_isError(n));
        g_byte_array_set_size(out, (guint)n);
    } else if (g_str_equal(how, "lz4")) {
        /* The kernel's legacy lz4 framing: magic, then size + block. */
        guint8 magic[4] = {0x02, 0x21, 0x4c, 0x18};
        g_byte_array_append(out, magic, 4);
        int bound = LZ4_compressBound((int)in->len);
        g_autofree char *blk = g_malloc((gsize)bound);
        int n = LZ4_compress_default((const char *)in->data, blk, (int)in->len, bound);
        g_assert_cmpint(n, >, 0);
        guint32 le = GUINT32_TO_LE((guint32)n);
        g_byte_array_append(out, (guint8 *)&le, 4);
        g_byte_array_append(out, (guint8 *)blk, (guint)n);
    } else {
        g_assert_not_reached();
    }
    /* The kernel appends the uncompressed size. */
    guint32 size = GUINT32_TO_LE(in->len);
    g_byte_array_append(out, (guint8 *)&size, 4);
    return out;
}

/* A bzImage: 1 setup sector + the boot sector, header fields, payload. */
static char *
write_bzimage(const char *dir, const char *name, GByteArray *payload, guint16 version)
{
    GByteArray *img = g_byte_array_new();
    g_byte_array_set_size(img, 1024);
    memset(img->data, 0, 1024);
    img->data[0x1f1] = 1;
    memcpy(img->data + 0x202, "HdrS", 4);
    img->data[0x206] = version & 0xff;
    img->data[0x207] = version >> 8;
    guint32 off = GUINT32_TO_LE(16), len = GUINT32_TO_LE(payload->len);
    memcpy(img->data + 0x248, &off, 4);
    memcpy(img->data + 0x24c, &len, 4);
    guint8 pad[16] = {0};
    g_byte_array_append(img, pad, 16);
    g_byte_array_append(img, payload->data, payload->len);
    char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, (char *)img->data, img->len, NULL));
    g_byte_array_unref(img);
    return path;
}

static void
test_compressions(void)
{
    g_autofree char *dir = g_dir_make_tmp("vd-kimg-XXXXXX", NULL);
    g_autoptr(GByteArray) elf = fake_vmlinux(TRUE, 300000);
    const char *hows[] = {"gzip", "xz", "zstd", "lz4"};

    for (guint i = 0; i < G_N_ELEMENTS(hows); i++) {
        g_autoptr(GByteArray) payload = compress_with(hows[i], elf);
        g_autofree char *img = write_bzimage(dir, hows[i], payload, 0x020f);
        g_autofree char *out = g_build_filename(dir, "out.elf", NULL);
        g_autofree char *why = NULL;
        g_autofree char *got = NULL;
        gsize got_len;
        VdKernelExtractResult r;
        g_test_message("%s", hows[i]);
        g_assert_true(vd_kernel_extract_vmlinux(img, out, &r, &why, NULL));
        g_assert_cmpint(r, ==, VD_KERNEL_EXTRACTED);
        g_assert_true(g_file_get_contents(out, &got, &got_len, NULL));
        g_assert_cmpmem(got, got_len, elf->data, elf->len);
        g_unlink(out);
        g_unlink(img);
    }
    g_rmdir(dir);
}

static void
test_unusable(void)
{
    g_autofree char *dir = g_dir_make_tmp("vd-kimg-XXXXXX", NULL);
    g_autofree char *out = g_build_filename(dir, "out.elf", NULL);
    VdKernelExtractResult r;

    /* No PVH note: QEMU could not boot it, so it is not used. */
    g_autoptr(GByteArray) nopvh = fake_vmlinux(FALSE, 1000);
    g_autoptr(GByteArray) p1 = compress_with("gzip", nopvh);
    g_autofree char *img1 = write_bzimage(dir, "nopvh", p1, 0x020f);
    g_autofree char *why1 = NULL;
    g_assert_true(vd_kernel_extract_vmlinux(img1, out, &r, &why1, NULL));
    g_assert_cmpint(r, ==, VD_KERNEL_UNUSABLE);
    g_assert_nonnull(strstr(why1, "PVH"));
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

    /* A corrupt payload. */
    g_autoptr(GByteArray) elf = fake_vmlinux(TRUE, 5000);
    g_autoptr(GByteArray) p2 = compress_with("xz", elf);
    memset(p2->data + p2->len / 2, 0xff, 16);
    g_autofree char *img2 = write_bzimage(dir, "corrupt", p2, 0x020f);
    g_autofree char *why2 = NULL;
    g_assert_true(vd_kernel_extract_vmlinux(img2, out, &r, &why2, NULL));
    g_assert_cmpint(r, ==, VD_KERNEL_UNUSABLE);
    g_assert_nonnull(strstr(why2, "xz"));

    /* An old boot protocol without payload fields. */
    g_autofree char *img3 = write_bzimage(dir, "old", p2, 0x0206);
    g_autofree char *why3 = NULL;
    g_assert_true(vd_kernel_extract_vmlinux(img3, out, &r, &why3, NULL));
    g_assert_cmpint(r, ==, VD_KERNEL_UNUSABLE);

    /* Not a bzImage at all: an ELF vmlinux is booted as it is. */
    g_autofree char *plain = g_build_filename(dir, "vmlinux", NULL);
    g_assert_true(g_file_set_contents(plain, (char *)elf->data, elf->len, NULL));
    g_assert_true(vd_kernel_extract_vmlinux(plain, out, &r, NULL, NULL));
    g_assert_cmpint(r, ==, VD_KERNEL_NOT_BZIMAGE);

    /* A missing file is an error. */
    g_autoptr(GError) error = NULL;
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    g_assert_false(vd_kernel_extract_vmlinux(missing, out, &r, NULL, &error));
    g_assert_nonnull(error);

    g_unlink(img1);
    g_unlink(img2);
    g_unlink(img3);
    g_unlink(plain);
    g_rmdir(dir);
}

/* The PVH note at offsets that are not aligned (fuzz/kernel-image.c found
 * such an image read through a misaligned Elf64_Nhdr pointer: undefined
 * behaviour, reported by UBSan): still found, anywhere in the buffer. */
static void
test_misaligned_note(void)
{
    g_autoptr(GByteArray) elf = fake_vmlinux(TRUE, 0);
    for (guint shift = 1; shift < 8; shift++) {
        /* The note moved @shift bytes later: a gap after the headers. */
        g_autoptr(GByteArray) moved = g_byte_array_new();
        gsize note_at = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
        g_byte_array_append(moved, elf->data, (guint)note_at);
        for (guint i = 0; i < shift; i++)
            g_byte_array_append(moved, (const guint8 *)"", 1);
        g_byte_array_append(moved, elf->data + note_at, elf->len - (guint)note_at);
        Elf64_Phdr ph;
        memcpy(&ph, moved->data + sizeof(Elf64_Ehdr), sizeof(ph));
        ph.p_offset += shift;
        memcpy(moved->data + sizeof(Elf64_Ehdr), &ph, sizeof(ph));
        g_assert_true(vd_elf_has_pvh_note(moved->data, moved->len));

        /* The whole image at an odd address. */
        g_autofree guint8 *odd = g_malloc(moved->len + shift);
        memcpy(odd + shift, moved->data, moved->len);
        g_assert_true(vd_elf_has_pvh_note(odd + shift, moved->len));
    }
}

/* The same reader on bytes in memory, with the output cap it is given. */
static void
test_from_image_cap(void)
{
    g_autoptr(GByteArray) elf = fake_vmlinux(TRUE, 300000);
    g_autoptr(GByteArray) payload = compress_with("gzip", elf);
    g_autofree char *dir = g_dir_make_tmp("vd-kimg-XXXXXX", NULL);
    g_autofree char *path = write_bzimage(dir, "cap", payload, 0x020f);
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_autoptr(GByteArray) out = NULL;
    g_autofree char *why = NULL;
    g_assert_cmpint(vd_kernel_vmlinux_from_image((guint8 *)data, len, 1 << 20, &out, &why), ==,
                    VD_KERNEL_EXTRACTED);
    g_assert_cmpmem(out->data, out->len, elf->data, elf->len);
    g_clear_pointer(&out, g_byte_array_unref);
    /* Over the cap: unusable, not extracted. */
    g_assert_cmpint(vd_kernel_vmlinux_from_image((guint8 *)data, len, 100000, &out, &why), ==,
                    VD_KERNEL_UNUSABLE);
    g_assert_null(out);
    g_assert_nonnull(strstr(why, "gzip"));
    g_unlink(path);

    /* An lzma header asking for a 2 GiB dictionary: refused by the
     * decoder's memory limit instead of allocated (fuzz/kernel-image.c). */
    static const guint8 lzma_2g[] = {0x5d, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03};
    g_autoptr(GByteArray) big = g_byte_array_new();
    g_byte_array_append(big, lzma_2g, sizeof(lzma_2g));
    g_autofree char *bomb = write_bzimage(dir, "lzma-2g", big, 0x020f);
    g_clear_pointer(&data, g_free);
    g_assert_true(g_file_get_contents(bomb, &data, &len, NULL));
    g_clear_pointer(&why, g_free);
    g_assert_cmpint(vd_kernel_vmlinux_from_image((guint8 *)data, len, 1 << 20, &out, &why), ==,
                    VD_KERNEL_UNUSABLE);
    g_assert_nonnull(strstr(why, "needs more than 256 MiB of memory"));
    g_unlink(bomb);
    g_rmdir(dir);
}

/* The host's Debian kernel (installed by scripts/deps.sh): the case that
 * matters. */
static void
test_real_kernel(void)
{
    g_autoptr(GDir) boot = g_dir_open("/boot", 0, NULL);
    g_autofree char *kernel = NULL;
    const char *e;
    while (boot && (e = g_dir_read_name(boot)))
        if (g_str_has_prefix(e, "vmlinuz-") && (!kernel || strcmp(e, kernel) > 0)) {
            g_free(kernel);
            kernel = g_strdup(e);
        }
    g_assert_nonnull(kernel); /* linux-image-amd64 is a test dependency */
    g_autofree char *path = g_build_filename("/boot", kernel, NULL);
    g_autofree char *dir = g_dir_make_tmp("vd-kimg-XXXXXX", NULL);
    g_autofree char *out = g_build_filename(dir, "vmlinux", NULL);
    g_autofree char *why = NULL;
    VdKernelExtractResult r;
    g_assert_true(vd_kernel_extract_vmlinux(path, out, &r, &why, NULL));
    g_assert_cmpstr(why, ==, NULL);
    g_assert_cmpint(r, ==, VD_KERNEL_EXTRACTED);
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(out, &data, &len, NULL));
    g_assert_true(vd_elf_has_pvh_note((guint8 *)data, len));
    g_unlink(out);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernel-image/compressions", test_compressions);
    g_test_add_func("/kernel-image/misaligned-note", test_misaligned_note);
    g_test_add_func("/kernel-image/from-image-cap", test_from_image_cap);
    g_test_add_func("/kernel-image/unusable", test_unusable);
    g_test_add_func("/kernel-image/real-kernel", test_real_kernel);
    return g_test_run();
}
