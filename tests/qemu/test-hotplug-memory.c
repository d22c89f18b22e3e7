/* The QMP arguments memory hot-plug sends (qemu-hotplug-memory.c)
 * against golden files tests/data/hotplug/memory-*.json (VD_REGENERATE=1
 * rewrites them). */
#include <string.h>

#include "../common/golden.h"
#include "conf/domain-memory.h"
#include "qemu-test-util.h"
#include "qemu/qemu-hotplug-memory.h"

static void
check(const char *name, JsonObject *args)
{
    g_autofree char *json = vd_qemu_json_to_string(args);
    g_autofree char *text = g_strconcat(json, "\n", NULL);
    g_autofree char *path = test_golden_path(VD_TEST_DATA_DIR "/hotplug", name, ".json");
    json_object_unref(args);
    test_golden_check(path, text);
}

static VdMemoryDeviceDef *
device(const char *xml, const char *alias)
{
    g_autoptr(GError) error = NULL;
    VdMemoryDeviceDef *m = vd_memory_device_def_new_from_xml(xml, &error);
    g_assert_no_error(error);
    m->alias = g_strdup(alias);
    return m;
}

static void
test_dimm(void)
{
    g_autoptr(VdDomainDef) def = tdef_from_xml("pc", 256, "", "", "");
    g_autoptr(VdMemoryDeviceDef) m = device(
        "<memory model='dimm'><target><size unit='MiB'>128</size></target></memory>", "dimm0");

    check("memory-dimm-object-add", vd_qemu_memdev_backend(m));
    check("memory-dimm-device-add", vd_qemu_memdev_device(def, m, NULL));
    check("memory-dimm-device-del", vd_qemu_memdev_device_del(m));
    check("memory-dimm-object-del", vd_qemu_memdev_object_del(m));
    m->node = 0;
    check("memory-dimm-device-add-node", vd_qemu_memdev_device(def, m, NULL));
}

static void
test_virtio_mem(void)
{
    g_autoptr(VdDomainDef) def = tdef_from_xml("q35", 256, "", "", "");
    g_autoptr(VdMemoryDeviceDef) m =
        device("<memory model='virtio-mem'><target><size unit='MiB'>512</size>"
               "<block unit='KiB'>2048</block><requested unit='MiB'>0</requested>"
               "</target></memory>",
               "virtiomem0");

    check("memory-virtio-mem-object-add", vd_qemu_memdev_backend(m));
    check("memory-virtio-mem-device-add-q35", vd_qemu_memdev_device(def, m, "pci.3"));
    check("memory-virtio-mem-qom-set", vd_qemu_memdev_set_requested(m, 256 * 1024));
}

static void
test_parse_info(void)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(
        p,
        "{\"type\": \"virtio-mem\", \"data\": {\"memaddr\": 4294967296, \"node\": 0, "
        "\"requested-size\": 268435456, \"size\": 268435456, \"max-size\": 536870912, "
        "\"block-size\": 2097152, \"memdev\": \"/objects/memvirtiomem0\", \"id\": "
        "\"virtiomem0\"}}",
        -1, NULL));
    const char *id = NULL;
    guint64 kib = 0;
    g_assert_true(
        vd_qemu_memdev_parse_info(json_node_get_object(json_parser_get_root(p)), &id, &kib));
    g_assert_cmpstr(id, ==, "virtiomem0");
    g_assert_cmpuint(kib, ==, 262144);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/hotplug-memory/dimm", test_dimm);
    g_test_add_func("/qemu/hotplug-memory/virtio-mem", test_virtio_mem);
    g_test_add_func("/qemu/hotplug-memory/parse-info", test_parse_info);
    return g_test_run();
}
