/* The host facts probe (daemon/host-probe.c) over a fake root: what each
 * file or device node under /dev and /sys turns into in VdHostFacts, the
 * DMI values for <smbios mode='host'>, and vhost-vsock's refusals. */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/host-probe.h"
#include "util/vd-error.h"

static void
put(const char *root, const char *rel, const char *text)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
rmtree(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            rmtree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

static void
test_empty_host(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-host-XXXXXX", NULL);
    g_autoptr(VdHostInfo) info = vd_host_info_probe(root);
    g_assert_false(info->facts.vhost_vsock);
    g_assert_false(info->facts.vfio);
    g_assert_false(info->facts.render_node);
    g_assert_false(info->facts.sev);
    g_assert_false(info->facts.tdx);
    g_assert_null(info->facts.smbios_host);
    g_assert_null(info->facts.swtpm); /* only looked up on the real root */

    guint cid = 0;
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(vd_host_vsock_open(root, 0, &cid, &error), ==, -1);
    g_assert_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "modprobe vhost_vsock"));
    rmtree(root);
}

static void
test_rich_host(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-host-XXXXXX", NULL);
    put(root, "dev/vhost-vsock", "");
    put(root, "dev/vfio/vfio", "");
    put(root, "sys/kernel/iommu_groups/7/type", "DMA\n");
    put(root, "dev/dri/renderD128", "");
    put(root, "dev/sev", "");
    put(root, "sys/module/kvm_amd/parameters/sev", "Y\n");
    put(root, "sys/module/kvm_intel/parameters/tdx", "N\n");
    put(root, "sys/class/dmi/id/sys_vendor", "HP\n");
    put(root, "sys/class/dmi/id/product_name", "ProLiant, DL360\n");
    put(root, "sys/class/dmi/id/bios_vendor", "\n"); /* empty: left out */
    put(root, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "300\n");
    g_autoptr(VdHostInfo) info = vd_host_info_probe(root);
    g_assert_true(info->facts.vhost_vsock);
    g_assert_true(info->facts.vfio);
    g_assert_true(info->facts.render_node);
    g_assert_true(info->facts.sev);
    g_assert_false(info->facts.tdx);
    g_assert_cmpuint(info->facts.hugepages_free_2m_kib, ==, 300 * 2048);
    g_assert_cmpuint(info->facts.hugepages_free_1g_kib, ==, 0);
    const char *const *dmi = info->facts.smbios_host;
    g_assert_nonnull(dmi);
    g_assert_cmpuint(g_strv_length((char **)dmi), ==, 4);
    g_assert_cmpstr(dmi[0], ==, "system.manufacturer");
    g_assert_cmpstr(dmi[1], ==, "HP");
    g_assert_cmpstr(dmi[2], ==, "system.product");
    g_assert_cmpstr(dmi[3], ==, "ProLiant, DL360");

    /* A regular file is no vhost-vsock device: the CID ioctl fails, named. */
    guint cid = 0;
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(vd_host_vsock_open(root, 5, &cid, &error), ==, -1);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "<vsock><cid address='5'>"));
    rmtree(root);
}

/* VFIO needs both the container device and an IOMMU group; SEV both the
 * device and kvm_amd's parameter. */
static void
test_half_host(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-host-XXXXXX", NULL);
    put(root, "dev/vfio/vfio", "");
    put(root, "dev/sev", "");
    put(root, "sys/module/kvm_amd/parameters/sev", "0\n");
    put(root, "dev/dri/card0", "");
    g_autoptr(VdHostInfo) info = vd_host_info_probe(root);
    g_assert_false(info->facts.vfio);
    g_assert_false(info->facts.sev);
    g_assert_false(info->facts.render_node);
    rmtree(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host-facts/empty", test_empty_host);
    g_test_add_func("/host-facts/rich", test_rich_host);
    g_test_add_func("/host-facts/half", test_half_host);
    return g_test_run();
}
