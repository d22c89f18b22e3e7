/* The cpu-ext family's argv (CPU features, Hyper-V, timers, NUMA, pm)
 * against reviewed goldens (tests/data/argv/NAME.args, VD_REGENERATE=1
 * rewrites them), with the notes each build must give. Unlike test-argv.c
 * the inputs are XML (tests/data/argv/NAME.xml) through conf's define
 * steps: this family is mostly parsing and defaults (memory from the
 * cells), and the same files feed the real-QEMU run in test-argv-qemu.c. */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/domain-cpu-ext.h"
#include "qemu-test-util.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

/* 2023-11-14T22:13:20Z: the "now" of <clock offset='variable'>. */
#define START_TIME 1700000000

typedef struct {
    const char *name; /* NAME.args */
    const char *xml;  /* NAME.xml */
    const char *accel;
    const char *notes[4]; /* exactly these, in order */
} Case;

static const Case cases[] = {
    {"cpu-features",
     "cpu-features",
     "tcg",
     {"CPU feature 'osxsave' left out: QEMU never sets it (the guest OS or the host does)"}},
    {"hyperv-kvm", "hyperv", "kvm", {NULL}},
    {"hyperv-tcg",
     "hyperv",
     "tcg",
     {"<cpu mode='host-passthrough'> runs as QEMU's 'max' CPU: TCG has no host CPU; 'max' has "
      "every feature TCG emulates",
      "Hyper-V enlightenments 'relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', "
      "'stimer', 'reset', 'vendor_id', 'frequencies', 'reenlightenment', 'tlbflush', 'ipi', "
      "'avic', 'hypervclock' dropped: TCG has none (they only speed up Windows under KVM)",
      "<apic eoi='on'>, <timer name='tsc' frequency='2500000000'> dropped: only KVM implements "
      "it, and this domain runs under TCG"}},
    {"numa", "numa", "tcg", {NULL}},
    {"timers-pm",
     "timers-pm",
     "tcg",
     {"<timer name='pit' tickpolicy='catchup'> not applied: only KVM's in-kernel PIT has a "
      "lost-tick policy"}},
};

static VdDomainDef *
load(const char *name, GError **error)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    g_autofree char *path = g_build_filename(VD_TEST_DATA_DIR, "argv", file, NULL);
    g_autofree char *xml = NULL;
    if (!g_file_get_contents(path, &xml, NULL, error))
        return NULL;
    return vd_domain_def_new_from_xml(xml, -1, error);
}

static GPtrArray *
build(const VdDomainDef *def, const VdQemuCaps *caps, const char *accel, GPtrArray *notes,
      GError **error)
{
    VdQemuRunPaths paths = trun_paths;
    paths.start_time = START_TIME;
    paths.accel = accel;
    return vd_qemu_build_argv_notes(def, caps, &paths, notes, error);
}

static void
test_golden(gconstpointer data)
{
    const Case *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = load(c->xml, &error);
    g_assert_no_error(error);
    /* Start's own check comes first in the daemon: it must pass. */
    g_assert_true(vd_domain_def_check_startable(def, &error));
    g_assert_no_error(error);

    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) argv = build(def, caps, c->accel, notes, &error);
    g_assert_no_error(error);
    g_autofree char *text = vd_qemu_argv_to_string(argv);

    guint want = 0;
    while (want < G_N_ELEMENTS(c->notes) && c->notes[want])
        want++;
    for (guint i = 0; i < notes->len; i++)
        g_test_message("note: %s", (const char *)notes->pdata[i]);
    g_assert_cmpuint(notes->len, ==, want);
    for (guint i = 0; i < want; i++)
        g_assert_cmpstr(notes->pdata[i], ==, c->notes[i]);

    tgolden_check(c->name, text);
}

static VdDomainDef *
define(const char *body, GError **error)
{
    g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>x</name>"
                                           "<uuid>6a0c1d7e-1c2b-4b9a-9a51-0f4c7d1e2b09</uuid>"
                                           "<memory unit='MiB'>256</memory>%s</domain>",
                                           body);
    return vd_domain_def_new_from_xml(xml, -1, error);
}

static char *
build_error(const char *body, const char *accel, VdQemuCaps *caps)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = define(body, &error);
    g_assert_no_error(error);
    g_autoptr(VdQemuCaps) fake = caps ? NULL : tcaps_fake();
    g_autoptr(GPtrArray) argv = build(def, caps ? caps : fake, accel, NULL, &error);
    g_assert_null(argv);
    g_assert_nonnull(error);
    return g_strdup(error->message);
}

static void
test_errors(void)
{
    g_autofree char *m1 =
        build_error("<cpu mode='custom'><model>Skylake</model></cpu>", "tcg", NULL);
    g_assert_cmpstr(m1, ==,
                    "QEMU 7.2 has no CPU model 'Skylake' (close ones: Skylake-Client, "
                    "Skylake-Client-IBRS, Skylake-Client-noTSX-IBRS, Skylake-Server): "
                    "`/usr/bin/qemu-system-x86_64 -cpu help` lists them all");
    g_autofree char *m2 = build_error("<cpu mode='custom'><model>host</model></cpu>", "tcg", NULL);
    g_assert_nonnull(strstr(m2, "CPU model 'host' needs KVM"));

    g_autoptr(VdQemuCaps) nodev = tcaps_fake();
    g_hash_table_remove(nodev->devices, "vmcoreinfo");
    g_autofree char *m3 = build_error("<features><vmcoreinfo/></features>", "tcg", nodev);
    g_assert_nonnull(strstr(m3, "<features><vmcoreinfo> needs QEMU device 'vmcoreinfo'"));

    /* Under KVM, QEMU's dependencies between enlightenments, with the fix. */
    g_autofree char *m5 =
        build_error("<features><hyperv><synic state='on'/></hyperv></features>", "kvm", NULL);
    g_assert_cmpstr(m5, ==,
                    "Hyper-V enlightenment 'synic' needs 'vpindex', which QEMU requires with it: "
                    "add it to <hyperv> with state='on'");
    g_autofree char *m6 = build_error("<features><hyperv><vpindex state='on'/><synic state='on'/>"
                                      "<stimer state='on'/></hyperv></features>",
                                      "kvm", NULL);
    g_assert_nonnull(strstr(m6, "'stimer' needs 'hypervclock', which QEMU requires with it: add "
                                "<clock><timer name='hypervclock' present='yes'/>"));
    g_autofree char *m7 = build_error("<features><hyperv><vapic state='on'/><tlbflush "
                                      "state='on'><direct state='on'/></tlbflush></hyperv>"
                                      "</features>",
                                      "kvm", NULL);
    g_assert_nonnull(strstr(m7, "'tlbflush' needs 'vpindex'"));

    g_autofree char *m4 =
        build_error("<os><type machine='microvm'>hvm</type></os><pm><suspend-to-mem "
                    "enabled='no'/></pm>",
                    "tcg", NULL);
    g_assert_nonnull(strstr(m4, "machine 'microvm' has none: remove <pm>"));
}

/* A model QEMU did not list is trusted when the caps have no list (a
 * cache from before the probe asked): QEMU's own error then. */
static void
test_unprobed_models(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def =
        define("<cpu mode='custom'><model>Future-CPU</model></cpu>", &error);
    g_assert_no_error(error);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_hash_table_remove_all(caps->cpu_models);
    g_autoptr(GPtrArray) argv = build(def, caps, "tcg", NULL, &error);
    g_assert_no_error(error);
    gboolean found = FALSE;
    for (guint i = 0; i + 1 < argv->len; i++)
        found |=
            g_str_equal(argv->pdata[i], "-cpu") && g_str_equal(argv->pdata[i + 1], "Future-CPU");
    g_assert_true(found);
}

/* Properties without a model go on qemu64 (QEMU's default, as libvirt);
 * <cpu> with only a topology gives no -cpu. */
static void
test_default_model(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = define("<features><pmu state='on'/></features>", &error);
    g_assert_no_error(error);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GPtrArray) argv = build(def, caps, "tcg", NULL, &error);
    g_assert_no_error(error);
    g_autofree char *text = vd_qemu_argv_to_string(argv);
    g_assert_nonnull(strstr(text, "\n-cpu\nqemu64,pmu=on\n"));

    g_autoptr(VdDomainDef) plain = define("<vcpu>2</vcpu><cpu><topology sockets='1' cores='2' "
                                          "threads='1'/></cpu>",
                                          &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) argv2 = build(plain, caps, "tcg", NULL, &error);
    g_assert_no_error(error);
    g_autofree char *text2 = vd_qemu_argv_to_string(argv2);
    g_assert_null(strstr(text2, "-cpu\n"));
}

/* offset='timezone': the zone's wall time at START_TIME (22:13:20Z is
 * 23:13:20 in Paris in November); absolute: the given instant. */
static void
test_clock_bases(void)
{
    const struct {
        const char *clock, *rtc;
    } c[] = {
        {"<clock offset='timezone' timezone='Europe/Paris'/>", "base=2023-11-14T23:13:20"},
        {"<clock offset='variable' adjustment='-86400'/>", "base=2023-11-13T22:13:20"},
        {"<clock offset='absolute' start='1000000000'/>", "base=2001-09-09T01:46:40"},
        {"<clock offset='utc'><timer name='rtc' track='wall'/></clock>", "base=utc,clock=host"},
    };
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    for (guint i = 0; i < G_N_ELEMENTS(c); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdDomainDef) def = define(c[i].clock, &error);
        g_assert_no_error(error);
        g_assert_true(vd_domain_def_check_startable(def, &error));
        g_autoptr(GPtrArray) argv = build(def, caps, "tcg", NULL, &error);
        g_assert_no_error(error);
        g_autofree char *want = g_strdup_printf("\n-rtc\n%s\n", c[i].rtc);
        g_autofree char *text = vd_qemu_argv_to_string(argv);
        if (!strstr(text, want))
            g_test_fail_printf("%s: expected -rtc %s in\n%s", c[i].clock, c[i].rtc, text);
    }
}

/* Every file of the compatibility corpus (what virt-install writes):
 * this family's parts pass start's check and build under KVM and under
 * TCG, with the installed QEMU's capabilities. The devices and firmware
 * are other families' (and name files that do not exist here), so they
 * are removed first. */
static void
test_corpus(void)
{
    const char *dir = g_getenv("VD_COMPAT_DIR");
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = dir ? g_dir_open(dir, 0, &error) : NULL;
    /* The installed QEMU's CPU models: the corpus names many. */
    const VdQemuCaps *caps = tcaps_real();
    guint built = 0, hyperv_notes = 0, refused_kvm = 0;
    const char *entry;

    if (!d) {
        g_test_fail_printf("compat corpus not found (VD_COMPAT_DIR=%s): %s", dir ? dir : "unset",
                           error ? error->message : "");
        return;
    }
    while ((entry = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        g_autofree char *text = NULL;
        if (!g_str_has_suffix(entry, ".xml") || !g_file_get_contents(path, &text, NULL, NULL))
            continue;
        xmlDoc *doc = xmlReadMemory(text, (int)strlen(text), entry, NULL, XML_PARSE_NONET);
        g_assert_nonnull(doc);
        xmlNode *root = xmlDocGetRootElement(doc);
        g_autoptr(GPtrArray) drop = g_ptr_array_new();
        for (xmlNode *n = root->children; n; n = n->next) {
            if (n->type == XML_ELEMENT_NODE &&
                (xmlStrEqual(n->name, BAD_CAST "devices") || xmlStrEqual(n->name, BAD_CAST "os") ||
                 /* the platform family's: refused for what the host lacks */
                 xmlStrEqual(n->name, BAD_CAST "launchSecurity") ||
                 xmlStrEqual(n->name, BAD_CAST "memoryBacking")))
                g_ptr_array_add(drop, n);
        }
        for (guint i = 0; i < drop->len; i++) {
            xmlUnlinkNode(drop->pdata[i]);
            xmlFreeNode(drop->pdata[i]);
        }
        xmlChar *out = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &out, &len);
        xmlFreeDoc(doc);
        g_autoptr(VdDomainDef) def = vd_domain_def_new_from_xml((const char *)out, len, &error);
        xmlFree(out);
        if (!def) {
            /* hvf-*.xml: another hypervisor's type, refused by define. */
            g_test_message("%s: %s", entry, error->message);
            g_assert_true(g_str_has_prefix(entry, "hvf"));
            g_clear_error(&error);
            continue;
        }
        if (!vd_cpu_ext_check_startable(def, &error))
            g_test_fail_printf("%s: %s", entry, error->message);
        g_clear_error(&error);
        for (guint k = 0; k < 2; k++) {
            g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
            g_autoptr(GPtrArray) argv = build(def, caps, k ? "kvm" : "tcg", notes, &error);
            /* Under KVM, a definition QEMU would refuse (an enlightenment
             * without the one it needs, as virt-install's test file
             * hyperv_enable_tlbflush_direct_and_extended.xml) is refused
             * with the fix; under TCG everything builds. */
            if (!argv && k && g_str_has_prefix(error->message, "Hyper-V enlightenment '"))
                refused_kvm++;
            else if (!argv)
                g_test_fail_printf("%s (%s): %s", entry, k ? "kvm" : "tcg", error->message);
            g_clear_error(&error);
            for (guint i = 0; !k && i < notes->len; i++)
                hyperv_notes += g_str_has_prefix(notes->pdata[i], "Hyper-V enlightenments");
        }
        built++;
    }
    g_test_message("corpus: %u files built under TCG (%u with Hyper-V dropped), under KVM all "
                   "but %u refused for a missing enlightenment",
                   built, hyperv_notes, refused_kvm);
    g_assert_cmpuint(refused_kvm, <=, 1);
    g_assert_cmpuint(built, >=, 40);
    g_assert_cmpuint(hyperv_notes, >=, 10);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv-cpu-ext/golden/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_golden);
    }
    g_test_add_func("/qemu/argv-cpu-ext/errors", test_errors);
    g_test_add_func("/qemu/argv-cpu-ext/unprobed-models", test_unprobed_models);
    g_test_add_func("/qemu/argv-cpu-ext/default-model", test_default_model);
    g_test_add_func("/qemu/argv-cpu-ext/clock-bases", test_clock_bases);
    g_test_add_func("/qemu/argv-cpu-ext/corpus", test_corpus);
    return g_test_run();
}
