/* Tests of vsh xml's pure half: a sample definition and one change, parsed
 * by vsh install's parsers, give the expected definition and device
 * elements; the selectors; the refusals; the unified diff. No daemon. */
#include <string.h>

#include "util/vd-error.h"
#include "vsh/vsh-args.h"
#include "vsh/vsh-xml.h"

static const char *const sample = "<domain type='qemu'>\n"
                                  "  <name>hx-sample</name>\n"
                                  "  <memory unit='MiB'>256</memory>\n"
                                  "  <currentMemory unit='MiB'>256</currentMemory>\n"
                                  "  <vcpu placement='static' current='1'>4</vcpu>\n"
                                  "  <devices>\n"
                                  "    <disk type='file' device='disk'>\n"
                                  "      <driver name='qemu' type='qcow2'/>\n"
                                  "      <source file='/img/a.qcow2'/>\n"
                                  "      <target dev='vda' bus='virtio'/>\n"
                                  "    </disk>\n"
                                  "    <disk type='file' device='disk'>\n"
                                  "      <driver name='qemu' type='raw'/>\n"
                                  "      <source file='/img/b.raw'/>\n"
                                  "      <target dev='vdb' bus='virtio'/>\n"
                                  "    </disk>\n"
                                  "    <interface type='network'>\n"
                                  "      <mac address='52:54:00:00:00:01'/>\n"
                                  "      <source network='default'/>\n"
                                  "      <model type='virtio'/>\n"
                                  "    </interface>\n"
                                  "    <serial type='pty'><target port='0'/></serial>\n"
                                  "  </devices>\n"
                                  "</domain>\n";

static char *
apply_ok(const VshXmlChange *c, VshXmlResult *res)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(vsh_xml_apply(sample, c, res, &error));
    g_assert_no_error(error);
    return res->xml;
}

static void
must_contain(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        g_error("'%s' lacks '%s'", hay, needle);
}

static void
must_lack(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        g_error("'%s' has '%s'", hay, needle);
}

static void
test_normalize(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *n = vsh_xml_normalize(sample, &error);
    g_autofree char *again = vsh_xml_normalize(n, &error);

    g_assert_no_error(error);
    must_lack(n, "<?xml");
    must_contain(n, "    <disk type=\"file\" device=\"disk\">\n");
    g_assert_cmpstr(n, ==, again);
    g_assert_null(vsh_xml_normalize("<domain>", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_XML);
}

static void
test_next_target(void)
{
    g_autofree char *vd = vsh_xml_next_target(sample, NULL, FALSE, NULL);
    g_autofree char *sd = vsh_xml_next_target(sample, "sata", FALSE, NULL);
    g_autofree char *hd = vsh_xml_next_target(sample, NULL, TRUE, NULL);

    g_assert_cmpstr(vd, ==, "vdc");
    g_assert_cmpstr(sd, ==, "sda");
    g_assert_cmpstr(hd, ==, "hda");
}

static void
test_add_disk(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VshInstallDisk) d =
        vsh_install_parse_disk("/img/new.qcow2,bus=virtio,cache=none", &error);
    g_auto(VshXmlResult) res = {0};
    VshXmlChange c = {.action = VSH_XML_ADD, .kind = VSH_XML_DISK, .disk = d};
    const char *xml;

    g_assert_no_error(error);
    d->format = g_strdup("qcow2");
    d->target = g_strdup("vdc");
    xml = apply_ok(&c, &res);
    must_contain(xml, "<source file=\"/img/new.qcow2\"/>");
    must_contain(xml, "<driver name=\"qemu\" type=\"qcow2\" cache=\"none\"/>");
    /* After the last disk, before the interface. */
    g_assert_true(strstr(xml, "vdc") < strstr(xml, "<interface"));
    g_assert_true(strstr(xml, "vdb") < strstr(xml, "vdc"));
    g_assert_cmpuint(res.devices->len, ==, 1);
    must_contain(g_ptr_array_index(res.devices, 0), "<target dev=\"vdc\" bus=\"virtio\"/>");
    g_assert_true(g_str_has_prefix(g_ptr_array_index(res.devices, 0), "<disk"));
}

static void
test_add_network(void)
{
    g_autoptr(GError) error = NULL;
    VshInstallNetwork net = {0};
    g_auto(VshXmlResult) res = {0};
    VshXmlChange c = {.action = VSH_XML_ADD, .kind = VSH_XML_NETWORK, .net = &net};
    const char *xml;

    g_assert_true(vsh_install_parse_network("network=hx-net,mac=52:54:00:aa:bb:cc", &net, &error));
    g_assert_no_error(error);
    xml = apply_ok(&c, &res);
    must_contain(xml, "<source network=\"hx-net\"/>");
    must_contain(xml, "<mac address=\"52:54:00:aa:bb:cc\"/>");
    g_assert_true(strstr(xml, "52:54:00:00:00:01") < strstr(xml, "52:54:00:aa:bb:cc"));
    g_assert_true(strstr(xml, "52:54:00:aa:bb:cc") < strstr(xml, "<serial"));
    vsh_install_network_clear(&net);
}

static void
test_edit_disk(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VshInstallDisk) d = vsh_install_parse_disk_edit("cache=none", &error);
    g_auto(VshXmlResult) res = {0};
    g_auto(VshXmlResult) all = {0};
    g_auto(VshXmlResult) ro = {0};
    g_autoptr(VshInstallDisk) r = vsh_install_parse_disk_edit("readonly=on", &error);
    VshXmlChange c = {.action = VSH_XML_EDIT, .kind = VSH_XML_DISK, .selector = "vdb", .disk = d};
    const char *xml;

    g_assert_no_error(error);
    xml = apply_ok(&c, &res);
    must_contain(xml, "<driver name=\"qemu\" type=\"raw\" cache=\"none\"/>");
    must_contain(xml, "<driver name=\"qemu\" type=\"qcow2\"/>"); /* vda untouched */
    g_assert_cmpuint(res.devices->len, ==, 1);
    must_contain(g_ptr_array_index(res.devices, 0), "vdb");

    c.selector = "all";
    xml = apply_ok(&c, &all);
    g_assert_cmpuint(all.devices->len, ==, 2);
    must_contain(xml, "<driver name=\"qemu\" type=\"qcow2\" cache=\"none\"/>");

    /* No selector: the first; "target=" and paths select too. */
    c.selector = "";
    c.disk = r;
    xml = apply_ok(&c, &ro);
    g_assert_cmpuint(ro.devices->len, ==, 1);
    must_contain(g_ptr_array_index(ro.devices, 0), "vda");
    must_contain(g_ptr_array_index(ro.devices, 0), "<readonly/>");
}

static void
test_select(void)
{
    const char *const hits[][2] = {
        {"2", "vdb"},
        {"target=vdb", "vdb"},
        {"/img/a.qcow2", "vda"},
        {"path=/img/b.raw", "vdb"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(hits); i++) {
        g_auto(VshXmlResult) res = {0};
        VshXmlChange c = {.action = VSH_XML_REMOVE, .kind = VSH_XML_DISK, .selector = hits[i][0]};
        const char *xml = apply_ok(&c, &res);
        g_autofree char *gone = g_strdup_printf("dev=\"%s\"", hits[i][1]);

        g_assert_cmpuint(res.devices->len, ==, 1);
        must_contain(g_ptr_array_index(res.devices, 0), gone);
        must_lack(xml, gone);
    }
}

static void
test_remove_network(void)
{
    g_auto(VshXmlResult) res = {0};
    VshXmlChange c = {
        .action = VSH_XML_REMOVE, .kind = VSH_XML_NETWORK, .selector = "52:54:00:00:00:01"};
    const char *xml = apply_ok(&c, &res);

    must_lack(xml, "<interface");
    must_contain(g_ptr_array_index(res.devices, 0), "<source network=\"default\"/>");
}

static void
test_edit_network(void)
{
    g_autoptr(GError) error = NULL;
    VshInstallNetwork model = {0};
    VshInstallNetwork bridge = {0};
    g_auto(VshXmlResult) a = {0};
    g_auto(VshXmlResult) b = {0};
    VshXmlChange c = {.action = VSH_XML_EDIT,
                      .kind = VSH_XML_NETWORK,
                      .selector = "mac=52:54:00:00:00:01",
                      .net = &model};
    const char *xml;

    g_assert_true(vsh_install_parse_network("model=e1000", &model, &error));
    g_assert_true(vsh_install_parse_network("bridge=hxbr0", &bridge, &error));
    g_assert_no_error(error);
    /* model= alone: the type and source stay. */
    xml = apply_ok(&c, &a);
    must_contain(xml, "<model type=\"e1000\"/>");
    must_contain(xml, "<interface type=\"network\">");
    must_contain(xml, "<source network=\"default\"/>");
    /* bridge=: the type and the source change, the MAC and model stay. */
    c.net = &bridge;
    c.selector = "";
    xml = apply_ok(&c, &b);
    must_contain(xml, "<interface type=\"bridge\">\n      <mac address=\"52:54:00:00:00:01\"/>\n"
                      "      <source bridge=\"hxbr0\"/>\n      <model type=\"virtio\"/>");
    must_lack(xml, "network=");
    vsh_install_network_clear(&model);
    vsh_install_network_clear(&bridge);
}

static void
test_refusals(void)
{
    const char *const none[] = {"vdz", "3", "mac=52:54:00:00:00:09", "target=sda"};

    for (guint i = 0; i < G_N_ELEMENTS(none); i++) {
        g_autoptr(GError) error = NULL;
        g_auto(VshXmlResult) res = {0};
        VshXmlChange c = {.action = VSH_XML_REMOVE, .kind = VSH_XML_DISK, .selector = none[i]};
        g_autofree char *want = g_strdup_printf("No matching objects found for --disk %s", none[i]);

        g_assert_false(vsh_xml_apply(sample, &c, &res, &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, want);
        g_assert_null(res.xml);
    }
    {
        g_autoptr(GError) error = NULL;
        g_auto(VshXmlResult) res = {0};
        VshXmlChange c = {.action = VSH_XML_REMOVE, .kind = VSH_XML_DISK, .selector = "colour=red"};

        g_assert_false(vsh_xml_apply(sample, &c, &res, &error));
        must_contain(error->message, "unknown option 'colour'");
    }
    {
        g_autoptr(GError) error = NULL;
        g_auto(VshXmlResult) res = {0};
        VshXmlChange c = {.action = VSH_XML_ADD, .kind = VSH_XML_VCPUS, .vcpus = 2};

        g_assert_false(vsh_xml_apply(sample, &c, &res, &error));
        must_contain(error->message, "--vcpus is not a device");
    }
    {
        /* An option install does not know, and the keys an edit refuses. */
        g_autoptr(GError) error = NULL;
        g_assert_null(vsh_install_parse_disk_edit("cache=none,colour=red", &error));
        must_contain(error->message, "unknown option 'colour'");
        g_clear_error(&error);
        g_assert_null(vsh_install_parse_disk_edit("size=5", &error));
        must_contain(error->message, "--add-device");
        g_clear_error(&error);
        g_assert_null(vsh_install_parse_disk("/a,cache=sometimes", &error));
        must_contain(error->message, "unknown cache 'sometimes'");
    }
}

static void
test_vcpus(void)
{
    g_auto(VshXmlResult) up = {0};
    g_auto(VshXmlResult) full = {0};
    g_auto(VshXmlResult) over = {0};
    g_auto(VshXmlResult) max = {0};
    VshXmlChange c = {.action = VSH_XML_EDIT, .kind = VSH_XML_VCPUS, .vcpus = 2};

    /* The maximum stays: a later hot-plug is still possible. */
    must_contain(apply_ok(&c, &up), "<vcpu placement=\"static\" current=\"2\">4</vcpu>");
    g_assert_cmpuint(up.vcpus, ==, 2);
    c.vcpus = 4;
    must_contain(apply_ok(&c, &full), "<vcpu placement=\"static\">4</vcpu>");
    c.vcpus = 6;
    must_contain(apply_ok(&c, &over), "<vcpu placement=\"static\">6</vcpu>");
    c.vcpus = 2;
    c.max_vcpus = 8;
    must_contain(apply_ok(&c, &max), "<vcpu placement=\"static\" current=\"2\">8</vcpu>");
}

static void
test_memory(void)
{
    g_auto(VshXmlResult) down = {0};
    g_auto(VshXmlResult) up = {0};
    g_auto(VshXmlResult) max = {0};
    VshXmlChange c = {.action = VSH_XML_EDIT, .kind = VSH_XML_MEMORY, .memory_mib = 128};
    const char *xml;

    xml = apply_ok(&c, &down);
    must_contain(xml, "<memory unit=\"KiB\">262144</memory>");
    must_contain(xml, "<currentMemory unit=\"KiB\">131072</currentMemory>");
    g_assert_cmpuint(down.memory_kib, ==, 131072);
    c.memory_mib = 512;
    xml = apply_ok(&c, &up);
    must_contain(xml, "<memory unit=\"KiB\">524288</memory>");
    must_contain(xml, "<currentMemory unit=\"KiB\">524288</currentMemory>");
    c.memory_mib = 256;
    c.max_memory_mib = 1024;
    xml = apply_ok(&c, &max);
    must_contain(xml, "<memory unit=\"KiB\">1048576</memory>");
    must_contain(xml, "<currentMemory unit=\"KiB\">262144</currentMemory>");
}

static void
test_diff(void)
{
    const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
    const char *b = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n20\nnew\n";
    g_autofree char *d = vsh_xml_diff(a, b, "Original XML", "Altered XML");
    g_autofree char *same = vsh_xml_diff(a, a, "x", "y");
    g_autofree char *near =
        vsh_xml_diff("a\nb\nc\nd\ne\nf\ng\nh\ni\n", "a\nB\nc\nd\ne\nf\ng\nH\ni\n", "o", "n");
    g_autofree char *empty = vsh_xml_diff("", "x\n", "o", "n");

    /* What python3's difflib.unified_diff(..., lineterm='') writes. */
    g_assert_cmpstr(d, ==,
                    "--- Original XML\n+++ Altered XML\n"
                    "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
                    "@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n 20\n+new\n");
    g_assert_cmpstr(same, ==, "");
    /* Two changes 5 lines apart: one hunk. */
    g_assert_cmpstr(near, ==,
                    "--- o\n+++ n\n@@ -1,9 +1,9 @@\n a\n-b\n+B\n c\n d\n e\n f\n g\n-h\n+H\n i\n");
    g_assert_cmpstr(empty, ==, "--- o\n+++ n\n@@ -0,0 +1 @@\n+x\n");
}

static void
test_edit_option_value(void)
{
    /* --edit's value may be left out: virt-xml's "--edit --vcpus 4". */
    const VshCmdDef *def = vsh_command_find("xml");
    const char *const bare[] = {"hx-1", "--edit", "--vcpus", "4", NULL};
    const char *const sel[] = {"hx-1", "--edit", "vdb", "--disk", "cache=none", NULL};
    const char *const last[] = {"hx-1", "--disk", "cache=none", "--edit", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(VshCmd) a = vsh_cmd_parse_def(def, bare, &error);
    g_autoptr(VshCmd) b = vsh_cmd_parse_def(def, sel, &error);
    g_autoptr(VshCmd) c = vsh_cmd_parse_def(def, last, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(vsh_cmd_get_string(a, "edit"), ==, "");
    g_assert_cmpstr(vsh_cmd_get_string(a, "vcpus"), ==, "4");
    g_assert_cmpstr(vsh_cmd_get_string(b, "edit"), ==, "vdb");
    g_assert_cmpstr(vsh_cmd_get_string(b, "disk"), ==, "cache=none");
    g_assert_cmpstr(vsh_cmd_get_string(c, "edit"), ==, "");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/xml/normalize", test_normalize);
    g_test_add_func("/vsh/xml/next-target", test_next_target);
    g_test_add_func("/vsh/xml/add-disk", test_add_disk);
    g_test_add_func("/vsh/xml/add-network", test_add_network);
    g_test_add_func("/vsh/xml/edit-disk", test_edit_disk);
    g_test_add_func("/vsh/xml/select", test_select);
    g_test_add_func("/vsh/xml/edit-network", test_edit_network);
    g_test_add_func("/vsh/xml/remove-network", test_remove_network);
    g_test_add_func("/vsh/xml/refusals", test_refusals);
    g_test_add_func("/vsh/xml/vcpus", test_vcpus);
    g_test_add_func("/vsh/xml/memory", test_memory);
    g_test_add_func("/vsh/xml/diff", test_diff);
    g_test_add_func("/vsh/xml/edit-option", test_edit_option_value);
    return g_test_run();
}
