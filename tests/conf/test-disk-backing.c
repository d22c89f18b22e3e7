/* conf/'s <backingStore> chain of a disk (domain-disk-backing.c), as block
 * jobs and external snapshots write it: set on a parsed disk, formatted
 * (golden tests/data/blockjob/disk-backing.xml), parsed back with no
 * report (kept as is), read back, replaced and removed. */
#include <glib.h>
#include <string.h>

#include "conf-test-util.h"
#include "conf/domain-def.h"
#include "golden.h"

static const char *const domain_xml =
    "<domain type='qemu'><name>t</name><uuid>8c2e3a4e-55b5-4d8c-9d7e-5b0c7a1f6a01</uuid><memory "
    "unit='MiB'>128</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
    "<source file='/i/base.raw'/><target dev='vda' bus='virtio'/></disk>"
    "</devices></domain>";

static void
test_chain(void)
{
    g_autoptr(VdDomainDef) def = tconf_define(domain_xml);
    VdDiskDef *disk = g_ptr_array_index(def->disks, 0);
    g_autoptr(GPtrArray) none = vd_disk_def_backing_paths(disk);
    g_assert_cmpuint(none->len, ==, 0);

    /* An overlay on an overlay on the raw base, as two snapshots leave it. */
    g_free(disk->source_file);
    disk->source_file = g_strdup("/i/base.snap2");
    disk->format = VD_DISK_FORMAT_QCOW2;
    const char *paths[] = {"/i/base.snap1", "/i/base.raw", NULL};
    const char *formats[] = {"qcow2", "raw", NULL};
    vd_disk_def_set_backing_chain(disk, paths, formats);
    g_autofree char *xml = vd_domain_def_format(def, 0);
    /* Beside the block jobs' goldens (the domain goldens are input/output pairs). */
    g_autofree char *dir = g_build_filename(g_getenv("VD_TEST_DATA_DIR"), "..", "blockjob", NULL);
    g_autofree char *golden = test_golden_path(dir, "disk-backing", ".xml");
    test_golden_check(golden, xml);

    /* Parsed back: kept, reported as nothing (libvirt writes it always). */
    g_autoptr(VdDomainDef) again = tconf_define(xml);
    for (guint i = 0; i < again->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(again->unsupported, i);
        g_assert_null(strstr(u->path, "backingStore"));
    }
    VdDiskDef *d2 = g_ptr_array_index(again->disks, 0);
    g_autoptr(GPtrArray) got = vd_disk_def_backing_paths(d2);
    g_assert_cmpuint(got->len, ==, 2);
    g_assert_cmpstr(got->pdata[0], ==, "/i/base.snap1");
    g_assert_cmpstr(got->pdata[1], ==, "/i/base.raw");

    /* Replaced by a shorter chain, then none: one element at most. */
    const char *one[] = {"/i/base.raw", NULL};
    vd_disk_def_set_backing_chain(d2, one, formats + 1);
    g_autoptr(GPtrArray) got1 = vd_disk_def_backing_paths(d2);
    g_assert_cmpuint(got1->len, ==, 1);
    vd_disk_def_set_backing_chain(d2, NULL, NULL);
    g_autofree char *plain = vd_domain_def_format(again, 0);
    g_assert_null(strstr(plain, "backingStore"));

    /* A copy carries the chain. */
    vd_disk_def_set_backing_chain(d2, paths, formats);
    g_autoptr(VdDiskDef) copy = vd_disk_def_copy(d2);
    g_autoptr(GPtrArray) got2 = vd_disk_def_backing_paths(copy);
    g_assert_cmpuint(got2->len, ==, 2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/disk-backing/chain", test_chain);
    return g_test_run();
}
