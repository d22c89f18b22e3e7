/* image/vd-install-iso.c: the installer's kernel and initrd out of an ISO
 * image, on the images of fuzz/corpus/install-iso (made by
 * fuzz/make-seeds.py; the loop one found by fuzz/install-iso.c). */
#include <glib/gstdio.h>
#include <string.h>

#include "image/vd-install-tree.h"
#include "util/vd-error.h"

static void
extract(const char *name, gboolean found, const char *message_part)
{
    g_autofree char *path = g_build_filename(SRCDIR, "fuzz", "corpus", "install-iso", name, NULL);
    g_autofree char *data = NULL;
    gsize len;
    g_autofree char *stage = g_dir_make_tmp("vd-iso-XXXXXX", NULL);
    g_autofree char *kernel = NULL;
    g_autofree char *initrd = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    gboolean ok = vd_install_tree_extract_iso_memory(data, len, name, stage, &kernel, &initrd,
                                                     &error);
    if (found) {
        g_assert_no_error(error);
        g_assert_true(ok);
        g_autofree char *k = NULL;
        g_assert_true(g_file_get_contents(kernel, &k, NULL, NULL));
        g_assert_cmpstr(k, ==, "kernel\n");
        /* The same through the file. */
        g_autofree char *k2 = NULL;
        g_autofree char *i2 = NULL;
        g_assert_true(vd_install_tree_extract_iso(path, stage, &k2, &i2, &error));
        g_assert_no_error(error);
        g_unlink(kernel);
        g_unlink(initrd);
    } else {
        g_assert_false(ok);
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        if (!strstr(error->message, message_part))
            g_error("'%s' not in '%s'", message_part, error->message);
    }
    g_rmdir(stage);
}

static void
test_layouts(void)
{
    extract("iso-debian-rr", TRUE, NULL);     /* Rock Ridge names */
    extract("iso-fedora-plain", TRUE, NULL);  /* ISO 9660 names, upper case */
}

/* A directory that lists itself: libarchive returns its entries for ever
 * (minutes, gigabytes); the scan stops at the first path seen twice. */
static void
test_directory_loop(void)
{
    gint64 t0 = g_get_monotonic_time();

    extract("timeout-directory-loop", FALSE, "twice");
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
}

/* Volume descriptors that claim more than the image has: libarchive would
 * allocate the root directory's claimed size (4 GiB) at once; refused
 * first, from memory and from the file. */
static void
test_oversized_claims(void)
{
    extract("oom-root-size", FALSE, "root directory claims 4294967290 bytes");
    extract("oom-volume-size", FALSE, "volume descriptor claims 2147483648 bytes");

    g_autofree char *path =
        g_build_filename(SRCDIR, "fuzz", "corpus", "install-iso", "oom-root-size", NULL);
    g_autofree char *stage = g_dir_make_tmp("vd-iso-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    char *kernel = NULL, *initrd = NULL;

    g_assert_false(vd_install_tree_extract_iso(path, stage, &kernel, &initrd, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "truncated or corrupt"));
    g_rmdir(stage);
}

static void
test_not_an_iso(void)
{
    g_autofree char *stage = g_dir_make_tmp("vd-iso-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    char *kernel = NULL, *initrd = NULL;

    g_assert_false(vd_install_tree_extract_iso_memory("hello", 5, "x.iso", stage, &kernel,
                                                      &initrd, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "x.iso"));
    g_rmdir(stage);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/install-iso/layouts", test_layouts);
    g_test_add_func("/install-iso/directory-loop", test_directory_loop);
    g_test_add_func("/install-iso/not-an-iso", test_not_an_iso);
    g_test_add_func("/install-iso/oversized-claims", test_oversized_claims);
    return g_test_run();
}
