/* conf/snapshot-def.c: libvirt's domainsnapshot XML parsed, aligned to a
 * domain and formatted, compared with golden files in tests/data/snapshot/
 * (NAME.xml in, NAME.out.xml the aligned snapshot, NAME.err a refusal's
 * message). VD_REGENERATE=1 rewrites the golden files. */
#include <glib.h>
#include <string.h>

#include "conf/snapshot-def.h"
#include "util/vd-error.h"

#define DOMAIN_HEAD                                                                                \
    "<domain type='qemu'><name>web1</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"          \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"

static const char *const domains[] = {
    /* qcow2 vda, raw-free; a cdrom that is never snapshotted */
    DOMAIN_HEAD "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                "<source file='/images/web1.qcow2'/><target dev='vda' bus='virtio'/></disk>"
                "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                "<source file='/images/web1-data.qcow2'/><target dev='vdb' bus='virtio'/></disk>"
                "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                "<source file='/images/install.iso'/><target dev='sda' bus='sata'/>"
                "<readonly/></disk></devices></domain>",
    /* a raw disk */
    DOMAIN_HEAD "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                "<source file='/images/web1.img'/><target dev='vda' bus='virtio'/></disk>"
                "</devices></domain>",
    /* no disk at all */
    DOMAIN_HEAD "</devices></domain>",
};

typedef struct {
    const char *name;
    guint domain;
    gboolean running;
    gboolean disk_only;
} Case;

static const Case cases[] = {
    {"offline-default", 0, FALSE, FALSE},
    {"running-default", 0, TRUE, FALSE},
    {"disk-only", 0, TRUE, TRUE},
    {"diskspec-external", 0, FALSE, TRUE},
    {"disk-excluded", 0, FALSE, FALSE},
    {"disk-by-source", 0, FALSE, FALSE},
    {"raw-internal", 1, FALSE, FALSE},
    {"raw-disk-only", 1, FALSE, TRUE},
    {"no-disk", 2, FALSE, FALSE},
    {"unknown-element", 0, FALSE, FALSE},
    {"unknown-disk", 0, FALSE, FALSE},
    {"disk-twice", 0, FALSE, FALSE},
    {"mixed", 0, FALSE, FALSE},
    {"memory-external", 0, TRUE, FALSE},
    {"memory-offline", 0, FALSE, FALSE},
    {"bad-name", 0, FALSE, FALSE},
    {"bad-location", 0, FALSE, FALSE},
    {"cdrom-named", 0, FALSE, FALSE},
};

static char *
data_path(const char *file)
{
    return g_build_filename(g_getenv("VD_SNAPSHOT_DATA_DIR"), file, NULL);
}

static void
golden(const char *file, const char *text)
{
    g_autofree char *path = data_path(file);
    g_autofree char *want = NULL;
    if (g_getenv("VD_REGENERATE")) {
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        return;
    }
    if (!g_file_get_contents(path, &want, NULL, NULL))
        g_error("missing golden file %s (VD_REGENERATE=1 writes it); got:\n%s", path, text);
    g_assert_cmpstr(text, ==, want);
}

static void
run_case(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *in_name = g_strdup_printf("%s.xml", c->name);
    g_autofree char *in_path = data_path(in_name);
    g_autofree char *in = NULL;
    g_autoptr(GError) error = NULL;
    const char *dxml = domains[c->domain];

    g_assert_true(g_file_get_contents(in_path, &in, NULL, NULL));
    g_autoptr(VdDomainDef) dom = vd_domain_def_new_from_xml(dxml, -1, &error);
    g_assert_no_error(error);
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(in, FALSE, &error);
    if (def && !def->name)
        def->name = g_strdup("s1");
    if (def && vd_snapshot_def_align(def, dom, c->disk_only, c->running, &error)) {
        g_autofree char *out = vd_snapshot_def_format(def);
        g_autofree char *file = g_strdup_printf("%s.out.xml", c->name);
        golden(file, out);
        /* the output is input again, and stays the same */
        g_autoptr(VdSnapshotDef) again = vd_snapshot_def_parse(out, FALSE, &error);
        g_assert_no_error(error);
        g_autofree char *out2 = vd_snapshot_def_format(again);
        g_assert_cmpstr(out, ==, out2);
        return;
    }
    g_assert_nonnull(error);
    g_autofree char *msg = g_strdup_printf("%s\n", error->message);
    g_autofree char *file = g_strdup_printf("%s.err", c->name);
    golden(file, msg);
}

/* The daemon's own metadata: every field read back, <domain> kept. */
static void
test_metadata_roundtrip(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = data_path("metadata.xml");
    g_autofree char *in = NULL;
    g_assert_true(g_file_get_contents(path, &in, NULL, NULL));
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(in, TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->name, ==, "before-upgrade");
    g_assert_cmpstr(def->parent, ==, "base");
    g_assert_cmpstr(def->state, ==, "shutoff");
    g_assert_cmpint(def->creation_time, ==, 1700000000);
    g_assert_nonnull(def->domain_xml);
    /* <inactiveDomain> is kept as a <domain> element, renamed back on output */
    g_assert_true(g_str_has_prefix(def->domain_xml, "<domain type='qemu'>\n"));
    g_assert_true(g_str_has_suffix(def->domain_xml, "\n</domain>"));
    g_assert_true(g_str_has_prefix(def->inactive_xml, "<domain type='qemu'>\n"));
    g_assert_true(g_str_has_suffix(def->inactive_xml, "\n</domain>"));
    g_assert_nonnull(strstr(def->inactive_xml, "<title>before the upgrade</title>"));
    g_assert_null(strstr(def->domain_xml, "<title>"));
    g_autofree char *out = vd_snapshot_def_format(def);
    golden("metadata.out.xml", out);
    g_autoptr(VdSnapshotDef) copy = vd_snapshot_def_copy(def);
    g_autofree char *out2 = vd_snapshot_def_format(copy);
    g_assert_cmpstr(out, ==, out2);
    /* a load and save cycle of the daemon's file changes nothing */
    g_autoptr(VdSnapshotDef) reread = vd_snapshot_def_parse(out, TRUE, &error);
    g_assert_no_error(error);
    g_autofree char *out3 = vd_snapshot_def_format(reread);
    g_assert_cmpstr(out, ==, out3);

    /* a user's input: the daemon's fields are ignored, as libvirt does */
    g_autoptr(VdSnapshotDef) user = vd_snapshot_def_parse(in, FALSE, &error);
    g_assert_no_error(error);
    g_assert_null(user->parent);
    g_assert_null(user->state);
    g_assert_null(user->domain_xml);
    g_assert_null(user->inactive_xml);
    g_assert_cmpint(user->creation_time, ==, 0);
}

/* Another writer's layout (not our indent): libxml's text of each, the
 * inactive one renamed <domain>. */
static void
test_inactive_foreign_layout(void)
{
    g_autoptr(GError) error = NULL;
    const char *in = "<domainsnapshot><name>a</name><state>running</state>"
                     "<domain type='qemu'><name>w</name></domain>"
                     "<inactiveDomain type='qemu'><name>w</name><title>t</title>"
                     "</inactiveDomain></domainsnapshot>";
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(in, TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->domain_xml, ==, "<domain type=\"qemu\">\n  <name>w</name>\n</domain>");
    g_assert_cmpstr(def->inactive_xml, ==,
                    "<domain type=\"qemu\">\n  <name>w</name>\n  <title>t</title>\n</domain>");
    g_autofree char *out = vd_snapshot_def_format(def);
    g_assert_nonnull(strstr(out, "\n  <inactiveDomain type=\"qemu\">\n    <name>w</name>\n"
                                 "    <title>t</title>\n  </inactiveDomain>\n</domainsnapshot>"));
    g_autoptr(VdSnapshotDef) again = vd_snapshot_def_parse(out, TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(again->inactive_xml, ==, def->inactive_xml);
    g_assert_cmpstr(again->domain_xml, ==, def->domain_xml);
}

/* A <domain> whose end tag follows text on its line (mixed content): a
 * load and save cycle must not indent that text once more each time
 * (fuzz/xml-snapshot.c). */
static void
test_domain_end_after_text(void)
{
    static const char in[] = "<domainsnapshot>\n"
                             "  <name>s1</name>\n"
                             "  <domain type='qemu'>\n"
                             "    <name>web1</name>\n"
                             "  x </domain>\n"
                             "</domainsnapshot>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(in, TRUE, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(def->domain_xml, ==, "<domain type='qemu'>\n  <name>web1</name>\nx </domain>");
    g_autofree char *out = vd_snapshot_def_format(def);
    g_assert_nonnull(strstr(out, "\n  x </domain>\n"));
    for (int round = 0; round < 3; round++) {
        g_autoptr(VdSnapshotDef) again = vd_snapshot_def_parse(out, TRUE, &error);
        g_assert_no_error(error);
        g_autofree char *out2 = vd_snapshot_def_format(again);
        g_assert_cmpstr(out2, ==, out);
    }
}

/* An element given twice would replace the first one's value: refused,
 * naming it (fuzz/corpus/xml-snapshot/leak-source-twice.xml). */
static void
test_element_twice(void)
{
    static const char *const twice[][2] = {
        {"<domainsnapshot><name>a</name><name>b</name></domainsnapshot>",
         "<name> is given twice in <domainsnapshot>"},
        {"<domainsnapshot><disks><disk name='vda'><source file='/a'/><source file='/b'/>"
         "</disk></disks></domainsnapshot>",
         "<source> is given twice in <disk name='vda'>"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(twice); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(twice[i][0], TRUE, &error);

        g_assert_null(def);
        g_assert_error(error, VD_ERROR, VD_ERROR_XML);
        if (!strstr(error->message, twice[i][1]))
            g_error("'%s' not in '%s'", twice[i][1], error->message);
    }
}

/* A "</domain>" line in a comment after the element: the element's text
 * ends at its own end tag, not there (the last such line, as it did:
 * fuzz/corpus/xml-snapshot/crash-domain-text-beyond-element.xml). */
static void
test_domain_text_beyond_element(void)
{
    static const char in[] = "<domainsnapshot>\n"
                             "  <name>s1</name>\n"
                             "  <domain type='qemu'>\n"
                             "    <name>web1</name>\n"
                             "  </domain>\n"
                             "  <!-- </domain>\n -->\n"
                             "</domainsnapshot>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(in, TRUE, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(def->domain_xml, ==, "<domain type='qemu'>\n  <name>web1</name>\n</domain>");
    g_autofree char *out = vd_snapshot_def_format(def);
    g_autoptr(VdSnapshotDef) again = vd_snapshot_def_parse(out, TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(again->domain_xml, ==, def->domain_xml);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/snapshot-def/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], run_case);
    }
    g_test_add_func("/snapshot-def/metadata", test_metadata_roundtrip);
    g_test_add_func("/snapshot-def/inactive-foreign-layout", test_inactive_foreign_layout);
    g_test_add_func("/snapshot-def/domain-end-after-text", test_domain_end_after_text);
    g_test_add_func("/snapshot-def/element-twice", test_element_twice);
    g_test_add_func("/snapshot-def/domain-text-beyond-element", test_domain_text_beyond_element);
    return g_test_run();
}
