/* conf/storage-*: pool and volume XML round trips and bad input. */
#include <string.h>

#include "conf/storage-pool-def.h"
#include "conf/storage-vol-def.h"
#include "util/vd-error.h"

/* What libvirt's `virsh pool-dumpxml` prints for a dir pool, and what
 * virtd must print back after parsing it (live figures zeroed). */
static const char pool_golden[] =
    "<pool type='dir'>\n"
    "  <name>default</name>\n"
    "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
    "  <capacity unit='bytes'>0</capacity>\n"
    "  <allocation unit='bytes'>0</allocation>\n"
    "  <available unit='bytes'>0</available>\n"
    "  <source>\n"
    "  </source>\n"
    "  <target>\n"
    "    <path>/var/lib/libvirt/images</path>\n"
    "    <permissions>\n"
    "      <mode>0711</mode>\n"
    "      <owner>0</owner>\n"
    "      <group>0</group>\n"
    "    </permissions>\n"
    "  </target>\n"
    "</pool>\n";

static void
test_pool_roundtrip(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStoragePoolDef) def = vd_storage_pool_def_parse(pool_golden, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->name, ==, "default");
    g_assert_cmpstr(def->target_path, ==, "/var/lib/libvirt/images");
    g_assert_cmpuint(def->perms.mode, ==, 0711);
    g_autofree char *out = vd_storage_pool_def_format(def);
    g_assert_cmpstr(out, ==, pool_golden);

    /* Live figures are formatted, never parsed back. */
    def->capacity = 100;
    g_autofree char *out2 = vd_storage_pool_def_format(def);
    g_assert_nonnull(strstr(out2, "<capacity unit='bytes'>100</capacity>"));
    g_autoptr(VdStoragePoolDef) again = vd_storage_pool_def_parse(out2, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(again->capacity, ==, 0);
}

static void
test_pool_minimal(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStoragePoolDef) def = vd_storage_pool_def_parse(
        "<pool type='dir'><name>p1</name><target><path>/srv/img/</path></target></pool>", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->target_path, ==, "/srv/img");
    g_assert_cmpuint(strlen(def->uuid), ==, 36);
    g_autofree char *out = vd_storage_pool_def_format(def);
    g_assert_null(strstr(out, "<permissions>"));

    g_autoptr(VdStoragePoolDef) d2 = vd_storage_pool_def_new_dir("p2", "/srv/x//y/", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(d2->target_path, ==, "/srv/x/y");
}

static void
test_pool_bad(void)
{
    const struct {
        const char *xml;
        VdErrorCode code;
        const char *needle;
    } cases[] = {
        {"<pool type='logical'><name>vg</name><target><path>/dev/vg</path></target></pool>",
         VD_ERROR_UNSUPPORTED, "'logical'"},
        {"<pool type='netfs'><name>n</name></pool>", VD_ERROR_UNSUPPORTED, "'netfs'"},
        {"<pool><name>x</name><target><path>/a</path></target></pool>", VD_ERROR_XML, "type"},
        {"<pool type='dir'><target><path>/a</path></target></pool>", VD_ERROR_XML, "<name>"},
        {"<pool type='dir'><name>a/b</name><target><path>/a</path></target></pool>",
         VD_ERROR_INVALID_ARG, "pool name"},
        {"<pool type='dir'><name>x</name></pool>", VD_ERROR_XML, "<target><path>"},
        {"<pool type='dir'><name>x</name><target><path>rel/dir</path></target></pool>",
         VD_ERROR_XML, "relative"},
        {"<pool type='dir'><name>x</name><uuid>nope</uuid><target><path>/a</path></target>"
         "</pool>",
         VD_ERROR_XML, "'nope'"},
        {"<pool type='dir'><name>x</name><target><path>/a</path><permissions><mode>999</mode>"
         "</permissions></target></pool>",
         VD_ERROR_XML, "'999'"},
        {"<volume/>", VD_ERROR_XML, "<pool>"},
        {"<pool type='dir'><name>x", VD_ERROR_XML, "malformed"},
        {"", VD_ERROR_XML, "empty"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdStoragePoolDef) def = vd_storage_pool_def_parse(cases[i].xml, &error);
        g_assert_null(def);
        g_assert_error(error, VD_ERROR, (int)cases[i].code);
        if (!strstr(error->message, cases[i].needle))
            g_error("case %u: '%s' not in '%s'", i, cases[i].needle, error->message);
    }
}

static void
test_vol_roundtrip(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStorageVolDef) def = vd_storage_vol_def_parse(
        "<volume><name>vm1.qcow2</name><capacity unit='G'>10</capacity>"
        "<allocation unit='M'>1</allocation><target><format type='qcow2'/></target>"
        "<backingStore><path>/p/base.qcow2</path><format type='qcow2'/></backingStore>"
        "</volume>",
        &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->capacity, ==, 10ULL << 30);
    g_assert_true(def->has_allocation);
    g_assert_cmpuint(def->allocation, ==, 1 << 20);
    g_assert_cmpstr(def->format, ==, "qcow2");
    g_assert_cmpstr(def->backing_path, ==, "/p/base.qcow2");

    def->path = g_strdup("/p/vm1.qcow2");
    def->allocation = 196608;
    def->physical = 196608;
    g_autofree char *out = vd_storage_vol_def_format(def);
    g_assert_cmpstr(out, ==,
                    "<volume type='file'>\n"
                    "  <name>vm1.qcow2</name>\n"
                    "  <key>/p/vm1.qcow2</key>\n"
                    "  <capacity unit='bytes'>10737418240</capacity>\n"
                    "  <allocation unit='bytes'>196608</allocation>\n"
                    "  <physical unit='bytes'>196608</physical>\n"
                    "  <target>\n"
                    "    <path>/p/vm1.qcow2</path>\n"
                    "    <format type='qcow2'/>\n"
                    "  </target>\n"
                    "  <backingStore>\n"
                    "    <path>/p/base.qcow2</path>\n"
                    "    <format type='qcow2'/>\n"
                    "  </backingStore>\n"
                    "</volume>\n");
    /* The formatted document parses back to the same volume. */
    g_autoptr(VdStorageVolDef) again = vd_storage_vol_def_parse(out, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(again->capacity, ==, def->capacity);
    g_assert_cmpstr(again->backing_format, ==, "qcow2");
}

static void
test_vol_bad(void)
{
    const struct {
        const char *xml;
        VdErrorCode code;
        const char *needle;
    } cases[] = {
        {"<volume type='block'><name>a</name><capacity>1</capacity></volume>",
         VD_ERROR_UNSUPPORTED, "'block'"},
        {"<volume><capacity>1</capacity></volume>", VD_ERROR_XML, "<name>"},
        {"<volume><name>a</name></volume>", VD_ERROR_XML, "<capacity>"},
        {"<volume><name>a</name><capacity unit='Q'>1</capacity></volume>", VD_ERROR_XML, "'Q'"},
        {"<volume><name>a</name><capacity>ten</capacity></volume>", VD_ERROR_XML, "ten"},
        {"<volume><name>a</name><capacity>1</capacity><backingStore/></volume>", VD_ERROR_XML,
         "<backingStore>"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdStorageVolDef) def = vd_storage_vol_def_parse(cases[i].xml, &error);
        g_assert_null(def);
        g_assert_error(error, VD_ERROR, (int)cases[i].code);
        if (!strstr(error->message, cases[i].needle))
            g_error("case %u: '%s' not in '%s'", i, cases[i].needle, error->message);
    }
}

static void
test_vol_names(void)
{
    const char *good[] = {"vm1.qcow2", "a b", "x..y", "disk-1_raw"};
    const char *bad[] = {"", "../x", "a/b", "/etc/passwd", ".hidden", "..", ".", "nl\nx"};
    for (guint i = 0; i < G_N_ELEMENTS(good); i++)
        g_assert_true(vd_storage_vol_name_validate(good[i], NULL));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(vd_storage_vol_name_validate(bad[i], &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    }
    g_assert_true(vd_storage_vol_format_creatable("qcow2", NULL));
    g_assert_true(vd_storage_vol_format_creatable("raw", NULL));
    g_autoptr(GError) error = NULL;
    g_assert_false(vd_storage_vol_format_creatable("vmdk", &error));
    g_assert_nonnull(strstr(error->message, "'vmdk'"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage/pool/roundtrip", test_pool_roundtrip);
    g_test_add_func("/storage/pool/minimal", test_pool_minimal);
    g_test_add_func("/storage/pool/bad", test_pool_bad);
    g_test_add_func("/storage/vol/roundtrip", test_vol_roundtrip);
    g_test_add_func("/storage/vol/bad", test_vol_bad);
    g_test_add_func("/storage/vol/names", test_vol_names);
    return g_test_run();
}
