/* util/: names, UUIDs, units, atomic writes. */
#include <glib/gstdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-file.h"
#include "util/vd-names.h"
#include "util/vd-units.h"

static void
test_names(void)
{
    const char *good[] = {"web1", "a,b \"c'd", "ünïcode", "x.y-z_1"};
    const char *bad[] = {"",          "a/b",  "..",      ".hidden",   "-opt",
                         "tab\there", "nl\n", "del\x7f", "c1\xc2\x85"};
    const char *spaced[] = {" ", "   ", " web1", "web1 ", "web1\u00a0", "\u3000x"};
    for (guint i = 0; i < G_N_ELEMENTS(spaced); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(vd_name_check_spacing(spaced[i], "domain name", &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    }
    g_assert_true(vd_name_check_spacing("a b", "domain name", NULL));
    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_true(vd_name_validate(good[i], "domain name", &error));
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(vd_name_validate(bad[i], "domain name", &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "domain name"));
    }
    g_autofree char *longname = g_strnfill(201, 'a');
    g_autoptr(GError) error = NULL;
    g_assert_false(vd_name_validate(longname, "domain name", &error));
}

/* virsh's reading of a domain argument: id, then UUID, then name. */
static void
test_keys(void)
{
    int id = -1;
    char uuid[37];
    g_assert_true(vd_key_as_id("1", &id) && id == 1);
    g_assert_true(vd_key_as_id("007", &id) && id == 7);
    g_assert_false(vd_key_as_id("-1", &id));
    g_assert_false(vd_key_as_id("+1", &id));
    g_assert_false(vd_key_as_id("1x", &id));
    g_assert_false(vd_key_as_id("99999999999", &id));
    g_assert_false(vd_key_as_id("web1", &id));
    g_assert_true(vd_key_as_uuid("4DEA22B3-1D52-D8F3-2516-782E98AB3FA0", uuid));
    g_assert_cmpstr(uuid, ==, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    /* virsh tries a UUID only for 36 characters. */
    g_assert_false(vd_key_as_uuid("4dea22b31d52d8f32516782e98ab3fa0", uuid));
    g_assert_false(vd_key_as_uuid("web1", uuid));
}

static void
test_uuid(void)
{
    char out[37];
    g_assert_true(vd_uuid_parse("4DEA22B31D52D8F32516782E98AB3FA0", out));
    g_assert_cmpstr(out, ==, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    g_assert_true(vd_uuid_parse("4dea22b3-1d52-d8f3-2516-782e98ab3fa0", out));
    g_assert_false(vd_uuid_parse("4dea22b3-1d52-d8f3-2516-782e98ab3fa", out));
    g_assert_false(vd_uuid_parse("zzea22b3-1d52-d8f3-2516-782e98ab3fa0", out));
    vd_uuid_generate(out);
    char again[37];
    g_assert_true(vd_uuid_parse(out, again));
    g_assert_cmpstr(out, ==, again);
}

static void
test_units(void)
{
    guint64 b;
    g_assert_true(vd_size_parse("2G", "KiB", &b, NULL));
    g_assert_cmpuint(b, ==, 2ULL << 30);
    g_assert_true(vd_size_parse("512MB", "KiB", &b, NULL));
    g_assert_cmpuint(b, ==, 512000000ULL);
    g_assert_true(vd_size_parse("1024", "KiB", &b, NULL));
    g_assert_cmpuint(b, ==, 1024ULL * 1024);
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_assert_false(vd_size_parse("12X", "KiB", &b, &e1));
    g_assert_nonnull(strstr(e1->message, "'X'"));
    g_assert_false(vd_size_parse("abc", "KiB", &b, &e2));
    g_assert_false(vd_size_parse("99999999999999999999", NULL, &b, &e3));
    g_assert_nonnull(strstr(e1->message, "'12X'"));
    g_assert_nonnull(strstr(e2->message, "GiB"));

    /* vol-create-as / vol-resize: bytes by default, virsh's suffixes. */
    const struct {
        const char *in;
        guint64 out;
    } ok[] = {{"100", 100},           {"1b", 1},
              {"1k", 1024},          {"1KiB", 1024},
              {"1KB", 1000},         {"3M", 3 << 20},
              {"2MB", 2000000},      {"1G", 1ULL << 30},
              {"1GB", 1000000000ULL}, {"2T", 2ULL << 40}};
    for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_assert_true(vd_size_parse(ok[i].in, "b", &b, NULL));
        g_assert_cmpuint(b, ==, ok[i].out);
    }
    const char *bad[] = {"", "-1", "1.5G", "10Q", "G", "1GiBs"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_false(vd_size_parse(bad[i], "b", &b, &e));
        g_assert_error(e, VD_ERROR, VD_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(e->message, "MiB"));
    }
}

static void
test_pretty_size(void)
{
    const struct {
        guint64 in;
        const char *out;
    } cases[] = {{0, "0.00 B"},
                 {512, "512.00 B"},
                 {1024, "1.00 KiB"},
                 {196608, "192.00 KiB"},
                 {1ULL << 30, "1.00 GiB"},
                 {53666402304ULL, "49.98 GiB"},
                 {3ULL << 40, "3.00 TiB"}};
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *s = vd_size_format_pretty(cases[i].in);
        g_assert_cmpstr(s, ==, cases[i].out);
    }
}

static void
test_atomic_write(void)
{
    g_autofree char *dir = g_dir_make_tmp("vd-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "f.xml", NULL);
    g_autofree char *text = NULL;
    g_assert_true(vd_file_write_atomic(path, "one", -1, 0600, NULL));
    g_assert_true(vd_file_write_atomic(path, "two", -1, 0600, NULL));
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "two");
    /* No temporary file is left behind. */
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name(d))
        n++;
    g_assert_cmpint(n, ==, 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *bad = g_build_filename(dir, "missing", "f.xml", NULL);
    g_assert_false(vd_file_write_atomic(bad, "x", -1, 0600, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INTERNAL);
    /* The no-fsync variant replaces just as atomically. */
    g_assert_true(vd_file_replace(path, "three", -1, 0600, NULL));
    g_free(text);
    text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "three");
    g_unlink(path);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/util/names", test_names);
    g_test_add_func("/util/uuid", test_uuid);
    g_test_add_func("/util/keys", test_keys);
    g_test_add_func("/util/units", test_units);
    g_test_add_func("/util/pretty-size", test_pretty_size);
    g_test_add_func("/util/atomic-write", test_atomic_write);
    return g_test_run();
}
