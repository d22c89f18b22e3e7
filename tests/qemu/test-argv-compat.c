/* What virt-install writes that QEMU takes only with help from the
 * builder (issue 10's measure, tests/integration/test_compat_start.py):
 * the adjustments are notes (vd_qemu_build_argv_notes), never errors. */
#include <string.h>

#include "qemu-test-util.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

/* A URL install's final XML keeps <cmdline> (and may keep <initrd>)
 * without <kernel>: QEMU refuses -append and -initrd without -kernel, so
 * they are left out, each with a note. */
static void
test_cmdline_without_kernel(void)
{
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(TDef) def = tdef_new("dom", "q35");
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;

    def->os.cmdline = g_strdup("foo bar baz");
    def->os.initrd = g_strdup("/boot/initrd.img");
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv_notes(def, caps, &trun_paths, notes, &error);
    g_assert_no_error(error);
    g_assert_nonnull(argv);
    g_assert_false(targv_has_opt(argv, "-append"));
    g_assert_false(targv_has_opt(argv, "-initrd"));
    g_assert_cmpuint(notes->len, ==, 2);
    g_assert_nonnull(strstr(g_ptr_array_index(notes, 0), "<initrd> ignored"));
    g_assert_nonnull(strstr(g_ptr_array_index(notes, 1), "<cmdline> ignored"));

    /* With a kernel both are passed, and nothing is noted. */
    g_ptr_array_set_size(notes, 0);
    def->os.kernel = g_strdup("/boot/vmlinuz");
    g_autoptr(GPtrArray) argv2 = vd_qemu_build_argv_notes(def, caps, &trun_paths, notes, &error);
    g_assert_no_error(error);
    g_assert_true(targv_has_opt(argv2, "-append"));
    g_assert_true(targv_has_opt(argv2, "-initrd"));
    g_assert_cmpuint(notes->len, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/argv-compat/cmdline-without-kernel", test_cmdline_without_kernel);
    return g_test_run();
}
