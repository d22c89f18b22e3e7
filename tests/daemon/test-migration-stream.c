/* The offline disk stream of --copy-storage-all (migration-storage-stream.c):
 * a sparse file goes through the encoder and the decoder whole, its holes
 * are not sent, and a broken stream is refused. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/migration/migration-storage-priv.h"

static char *
tmp_file(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static void
fill(int fd, guint64 off, gsize len, guint8 byte)
{
    g_autofree guint8 *buf = g_malloc(len);
    memset(buf, byte, len);
    g_assert_cmpint(pwrite(fd, buf, len, (off_t)off), ==, (gssize)len);
}

/* The whole encoding of @path. */
static GByteArray *
encode(const char *path, guint64 *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    *size = (guint64)lseek(fd, 0, SEEK_END);
    g_autoptr(GInputStream) s = vd_disk_stream_new(fd, *size);
    GByteArray *out = g_byte_array_new();
    guint8 buf[7000]; /* not a multiple of anything: headers split across reads */
    gssize n;
    while ((n = g_input_stream_read(s, buf, sizeof(buf), NULL, NULL)) > 0)
        g_byte_array_append(out, buf, (guint)n);
    g_assert_cmpint(n, ==, 0);
    g_assert_cmpuint(vd_disk_stream_sent(s), ==, *size);
    return out;
}

static void
test_roundtrip(void)
{
    g_autofree char *dir = g_dir_make_tmp("vd-stream-XXXXXX", NULL);
    g_autofree char *src = tmp_file(dir, "src.img");
    g_autofree char *dst = tmp_file(dir, "dst.img");
    const guint64 size = 8 * 1024 * 1024;
    int fd = open(src, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    fill(fd, 0, 4096, 0x11);
    fill(fd, 1024 * 1024, 65536, 0x22);
    fill(fd, 5 * 1024 * 1024 + 4096, 8192, 0x33);
    close(fd);

    guint64 got_size = 0;
    g_autoptr(GByteArray) enc = encode(src, &got_size);
    g_assert_cmpuint(got_size, ==, size);
    /* Three extents and the end: the 8 MiB of holes are not in it. */
    g_assert_cmpuint(enc->len, ==, 4 * VD_DISK_STREAM_HEADER + 4096 + 65536 + 8192);

    int out = open(dst, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    VdDiskStreamParser p = {0};
    g_autoptr(GError) error = NULL;
    /* In uneven pieces, as chunks arrive. */
    for (guint off = 0, step = 1; off < enc->len; off += step, step = step * 3 + 1) {
        guint n = MIN(step, enc->len - off);
        g_assert_true(vd_disk_stream_take(&p, enc->data + off, n, out, &error));
        g_assert_no_error(error);
    }
    g_assert_true(p.ended);
    g_assert_cmpuint(p.size, ==, size);
    g_assert_cmpuint(p.written, ==, 4096 + 65536 + 8192);
    g_assert_cmpint(ftruncate(out, (off_t)p.size), ==, 0);
    close(out);

    g_autofree char *a = NULL, *b = NULL;
    gsize la, lb;
    g_assert_true(g_file_get_contents(src, &a, &la, NULL));
    g_assert_true(g_file_get_contents(dst, &b, &lb, NULL));
    g_assert_cmpuint(la, ==, lb);
    g_assert_true(memcmp(a, b, la) == 0);

    /* Anything after the end is refused. */
    g_assert_false(vd_disk_stream_take(&p, (const guint8 *)"x", 1, -1, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);

    /* Extents that go backwards are refused. */
    VdDiskStreamParser q = {0};
    out = open(dst, O_RDWR | O_CLOEXEC);
    g_assert_true(vd_disk_stream_take(
        &q, enc->data, VD_DISK_STREAM_HEADER + 4096 + VD_DISK_STREAM_HEADER + 65536, out, &error));
    g_assert_false(vd_disk_stream_take(&q, enc->data, VD_DISK_STREAM_HEADER, out, &error));
    g_assert_nonnull(error);
    close(out);

    /* An empty file is only its end record. */
    g_autofree char *empty = tmp_file(dir, "empty.img");
    g_assert_true(g_file_set_contents(empty, "", 0, NULL));
    g_autoptr(GByteArray) e = encode(empty, &got_size);
    g_assert_cmpuint(e->len, ==, VD_DISK_STREAM_HEADER);

    g_unlink(src);
    g_unlink(dst);
    g_unlink(empty);
    g_rmdir(dir);
}

static void
test_virtual_size(void)
{
    g_autofree char *dir = g_dir_make_tmp("vd-stream-XXXXXX", NULL);
    g_autofree char *path = tmp_file(dir, "q.qcow2");
    guint8 h[32] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    h[24 + 4] = 0x04; /* 64 MiB = 0x04000000 */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(write(fd, h, sizeof(h)), ==, (gssize)sizeof(h));
    g_assert_cmpuint(vd_disk_image_virtual_size(fd, 32), ==, 64 * 1024 * 1024);
    g_assert_cmpint(pwrite(fd, "RAW!", 4, 0), ==, 4);
    g_assert_cmpuint(vd_disk_image_virtual_size(fd, 32), ==, 32);
    close(fd);
    g_unlink(path);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration-stream/roundtrip", test_roundtrip);
    g_test_add_func("/migration-stream/virtual-size", test_virtual_size);
    return g_test_run();
}
