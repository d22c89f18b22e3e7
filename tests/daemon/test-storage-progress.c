/* daemon/storage-progress.c and the busy registry: how far a volume
 * operation is, from qemu-img -p's output to the job list. */
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/paths.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"

static void
test_parse_line(void)
{
    double p = -1;

    g_assert_true(vd_storage_progress_parse_line("    (12.34/100%)", &p));
    g_assert_cmpfloat_with_epsilon(p, 12.34, 1e-9);
    g_assert_true(vd_storage_progress_parse_line("(0.00/100%)", &p));
    g_assert_cmpfloat(p, ==, 0.0);
    g_assert_true(vd_storage_progress_parse_line("    (100.00/100%)  ", &p));
    g_assert_cmpfloat(p, ==, 100.0);
    const char *bad[] = {"", "   ", "12.34/100%", "(12.34/100%", "(/100%)", "(abc/100%)",
                         "(12.34/50%)", "(101.00/100%)", "(-1.00/100%)",
                         "qemu-img: Could not open 'x': No such file"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        p = -1;
        g_assert_false(vd_storage_progress_parse_line(bad[i], &p));
        g_assert_cmpfloat(p, ==, -1);
    }
}

static void
test_feed(void)
{
    g_autoptr(GString) pending = g_string_new(NULL);
    g_autoptr(GString) other = g_string_new(NULL);
    double p = -1;

    /* A line split across reads is taken once it is complete. */
    g_assert_false(vd_storage_progress_feed(pending, "    (1.", 7, &p, other));
    g_assert_cmpfloat(p, ==, -1);
    const char *more = "50/100%)\r    (3.00/100%)\r    (4";
    g_assert_true(vd_storage_progress_feed(pending, more, strlen(more), &p, other));
    g_assert_cmpfloat_with_epsilon(p, 3.0, 1e-9);
    g_assert_cmpstr(pending->str, ==, "    (4");
    /* Messages (stderr merged in) are kept for the error, blanks dropped. */
    const char *rest = ".00/100%)\rqemu-img: error while writing: No space left\n\n";
    g_assert_true(vd_storage_progress_feed(pending, rest, strlen(rest), &p, other));
    g_assert_cmpfloat_with_epsilon(p, 4.0, 1e-9);
    g_assert_cmpstr(other->str, ==, "qemu-img: error while writing: No space left");
    g_assert_cmpuint(pending->len, ==, 0);
}

typedef struct {
    GPtrArray *seen;
} Seen;

static void
on_progress(double percent, gpointer data)
{
    double *v = g_new(double, 1);
    *v = percent;
    g_ptr_array_add(((Seen *)data)->seen, v);
}

/* A stand-in qemu-img: progress on stdout, then maybe a message on
 * stderr and a failure. */
static char *
fake_qemu_img(const char *dir, gboolean fail)
{
    g_autofree char *script = g_build_filename(dir, fail ? "fail-img" : "ok-img", NULL);
    const char *text = fail ? "#!/bin/sh\nprintf '    (0.00/100%%)\\r    (40.00/100%%)\\r'\n"
                              "echo \"qemu-img: $3: No space left on device\" >&2\nexit 1\n"
                            : "#!/bin/sh\nprintf '    (0.00/100%%)\\r    (50.00/100%%)\\r'\n"
                              "printf '    (100.00/100%%)\\r'\nexit 0\n";
    g_assert_true(g_file_set_contents(script, text, -1, NULL));
    g_assert_cmpint(g_chmod(script, 0755), ==, 0);
    return g_steal_pointer(&script);
}

static void
test_run(void)
{
    g_autofree char *dir = g_dir_make_tmp("vd-progress-XXXXXX", NULL);
    g_autofree char *ok = fake_qemu_img(dir, FALSE);
    g_autofree char *fail = fake_qemu_img(dir, TRUE);
    const char *args[] = {"convert", "-p", "/src.img", "/dst.img", NULL};
    Seen seen = {g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(GError) error = NULL;

    g_setenv("VIRTD_QEMU_IMG", ok, TRUE);
    g_assert_true(vd_storage_qemu_img_progress(args, on_progress, &seen, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(seen.seen->len, >=, 1);
    g_assert_cmpfloat(*(double *)g_ptr_array_index(seen.seen, seen.seen->len - 1), ==, 100.0);

    g_setenv("VIRTD_QEMU_IMG", fail, TRUE);
    g_assert_false(vd_storage_qemu_img_progress(args, on_progress, &seen, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    /* qemu-img's own message, without the progress lines around it. */
    g_assert_cmpstr(error->message, ==,
                    "qemu-img convert failed: qemu-img: /src.img: No space left on device");
    g_ptr_array_unref(seen.seen);
    g_unlink(ok);
    g_unlink(fail);
    g_rmdir(dir);
}

static void
test_registry(void)
{
    g_autofree char *dir = g_dir_make_tmp("vd-busy-XXXXXX", NULL);
    VdPaths paths = {.config_dir = dir, .run_dir = dir, .state_dir = dir};
    VdStorage *s = vd_storage_new(&paths);
    g_autoptr(GError) error = NULL;

    VdStorageOp *src = vd_storage_busy_acquire(s, "p", "/i/a.img", "clone-source", &error);
    g_assert_nonnull(src);
    g_assert_cmpstr(src->volume, ==, "a.img");
    g_assert_null(vd_storage_busy_acquire(s, "p", "/i/a.img", "delete", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "clone-source"));
    g_clear_error(&error);
    VdStorageOp *held = vd_storage_op_ref(vd_storage_busy_acquire(s, "p", "/i/b.img", "clone",
                                                                  NULL));
    vd_storage_op_set_progress(held, 42.6); /* in quarters of a percent */
    vd_storage_op_set_progress(src, 250.0); /* clamped */
    g_assert_cmpfloat(vd_storage_op_get_progress(vd_storage_busy_lookup(s, "/i/b.img")), ==, 42.5);
    g_assert_cmpfloat(vd_storage_op_get_progress(src), ==, 100.0);
    g_autoptr(GPtrArray) ops = vd_storage_ops_list(s);
    g_assert_cmpuint(ops->len, ==, 2);
    /* A worker's reference outlives the release. */
    vd_storage_busy_release(s, "/i/b.img");
    vd_storage_busy_release(s, "/i/a.img");
    g_assert_null(vd_storage_busy_lookup(s, "/i/b.img"));
    vd_storage_op_set_progress(held, 50.0);
    g_assert_cmpstr(held->kind, ==, "clone");
    vd_storage_op_unref(held);
    g_clear_pointer(&ops, g_ptr_array_unref);
    ops = vd_storage_ops_list(s);
    g_assert_cmpuint(ops->len, ==, 0);
    vd_storage_free(s);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage/progress/parse-line", test_parse_line);
    g_test_add_func("/storage/progress/feed", test_feed);
    g_test_add_func("/storage/progress/run", test_run);
    g_test_add_func("/storage/busy-registry", test_registry);
    return g_test_run();
}
