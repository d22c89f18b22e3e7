/* The install-tree locator on an ISO image (image/vd-install-iso.c,
 * libarchive's ISO9660 reader): an untrusted image given to vsh install
 * --location or POST /v1/install-media. Found or not, it answers with a
 * kernel and initrd it copied out, or an error. The stage directory is on
 * tmpfs. */
#include "fuzz-common.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "image/vd-install-tree.h"

static char *stage_dir;

static void
remove_stage_dir(void)
{
    g_rmdir(stage_dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *kernel = NULL;
    g_autofree char *initrd = NULL;

    if (!stage_dir) {
        stage_dir = g_strdup_printf("%s/fuzz-install-iso-%d", fuzz_scratch_dir(), (int)getpid());
        FUZZ_ASSERT(g_mkdir_with_parents(stage_dir, 0700) == 0, "cannot make %s", stage_dir);
        atexit(remove_stage_dir);
    }
    if (vd_install_tree_extract_iso_memory(data, size, "fuzz.iso", stage_dir, &kernel, &initrd,
                                           &error)) {
        FUZZ_ASSERT(g_file_test(kernel, G_FILE_TEST_IS_REGULAR) &&
                        g_file_test(initrd, G_FILE_TEST_IS_REGULAR),
                    "found, but no kernel and initrd staged");
        g_unlink(kernel);
        g_unlink(initrd);
    } else {
        FUZZ_ASSERT(error && error->message && !kernel && !initrd, "failed without a message");
    }
    return 0;
}
