/* daemon/save/save-image.c: the save image's header, written and read
 * back, its golden bytes (tests/data/save/header-v1.hex; VD_REGENERATE=1
 * rewrites it), and every damaged header refused by name. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/save/save-priv.h"
#include "util/vd-error.h"

#define XML "<domain type='qemu'><name>vv</name></domain>"

static char *
hex_of(const guint8 *buf, gsize len)
{
    GString *s = g_string_new(NULL);
    for (gsize i = 0; i < len; i++)
        g_string_append_printf(s, "%02x%s", buf[i], i % 16 == 15 ? "\n" : " ");
    return g_string_free(s, FALSE);
}

static char *
write_temp(const guint8 *buf, gsize len)
{
    char *path = g_build_filename(g_get_tmp_dir(), "vv-save-test-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, buf, len), ==, (ssize_t)len);
    close(fd);
    return path;
}

static gboolean
read_path(const char *path, VdSaveImageHeader *h, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    gboolean ok = vd_save_image_header_read(fd, path, h, error);
    close(fd);
    return ok;
}

static void
test_golden(void)
{
    gsize len = 0;
    g_autofree guint8 *buf = vd_save_image_header_encode(XML, VD_SAVE_FLAG_RUNNING, &len);
    g_assert_cmpuint(len, ==, 8192); /* header + the XML padded to 4 KiB */
    /* The first 48 bytes carry every field; the rest is zeros and the XML. */
    g_autofree char *hex = hex_of(buf, 48);
    g_autofree char *golden = g_build_filename(SRCDIR, "tests/data/save/header-v1.hex", NULL);
    if (g_getenv("VD_REGENERATE")) {
        g_assert_true(g_file_set_contents(golden, hex, -1, NULL));
    } else {
        g_autofree char *want = NULL;
        g_assert_true(g_file_get_contents(golden, &want, NULL, NULL));
        g_assert_cmpstr(hex, ==, want);
    }
    for (gsize i = 48; i < 4096; i++)
        g_assert_cmpuint(buf[i], ==, 0);
    g_assert_cmpmem(buf + 4096, strlen(XML), XML, strlen(XML));
}

static void
test_roundtrip(void)
{
    gsize len = 0;
    g_autofree guint8 *buf = vd_save_image_header_encode(XML, 0, &len);
    g_autofree char *path = write_temp(buf, len);
    VdSaveImageHeader h = {0};
    g_autoptr(GError) error = NULL;
    g_assert_true(read_path(path, &h, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(h.version, ==, VD_SAVE_VERSION);
    g_assert_cmpuint(h.flags, ==, 0);
    g_assert_cmpuint(h.data_offset, ==, 8192);
    g_assert_cmpstr(h.xml, ==, XML);
    vd_save_image_header_clear(&h);
    g_unlink(path);
}

static void
check_refused(const guint8 *buf, gsize len, const char *what)
{
    g_autofree char *path = write_temp(buf, len);
    VdSaveImageHeader h = {0};
    g_autoptr(GError) error = NULL;
    g_assert_false(read_path(path, &h, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, what));
    g_assert_nonnull(strstr(error->message, path));
    g_assert_null(h.xml);
    g_unlink(path);
}

static void
test_refused(void)
{
    gsize len = 0;
    g_autofree guint8 *good = vd_save_image_header_encode(XML, 0, &len);
    g_autofree guint8 *buf = g_memdup2(good, len);

    check_refused(buf, 100, "not a save image"); /* shorter than a header */
    buf[0] = 'X';
    check_refused(buf, len, "not a save image"); /* magic */
    memcpy(buf, good, len);
    buf[9] = 'X'; /* "VirtdSaveX": not the magic */
    check_refused(buf, len, "not a save image");
    memcpy(buf, good, len);
    buf[16] = 2; /* version */
    check_refused(buf, len, "version 2");
    memcpy(buf, good, len);
    check_refused(buf, 4096 + 10, "damaged or truncated"); /* XML cut */
    buf[26] = 0x7f;                                        /* XML length absurd */
    check_refused(buf, len, "damaged or truncated");
    memcpy(buf, good, len);
    buf[32] = 0x10; /* offset not 4 KiB aligned */
    check_refused(buf, len, "damaged or truncated");
}

static void
test_migrate_figures(void)
{
    const char *answer = "{\"status\": \"active\", \"total-time\": 1200, \"ram\": {\"total\": "
                         "268435456, \"transferred\": 1048576, \"remaining\": 200000000, "
                         "\"mbps\": 8.0}, \"downtime\": 12}";
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, answer, -1, NULL));
    VdDomainAsyncJob job = {0};
    vd_save_job_update_from_migrate(&job, json_node_get_object(json_parser_get_root(p)));
    g_assert_cmpuint(job.mem_total, ==, 268435456);
    g_assert_cmpuint(job.data_processed, ==, 1048576);
    g_assert_cmpuint(job.data_remaining, ==, 200000000);
    g_assert_cmpuint(job.downtime_ms, ==, 12);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/save/header/golden", test_golden);
    g_test_add_func("/save/header/roundtrip", test_roundtrip);
    g_test_add_func("/save/header/refused", test_refused);
    g_test_add_func("/save/job/migrate-figures", test_migrate_figures);
    return g_test_run();
}
