/* The firmware family of the domain model (conf/domain-firmware.h): what
 * virt-install writes for UEFI parses into typed fields, nothing of it is
 * left unsupported, and the live definition the daemon fills in formats
 * back as libvirt shows it. */
#include <glib.h>
#include <string.h>

#include "conf/domain-def.h"
#include "conf/domain-firmware.h"
#include "util/vd-error.h"

static VdDomainDef *
parse(const char *os, const char *features, GError **error)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>fw</name><memory>65536</memory><vcpu>1</vcpu>%s%s</domain>", os,
        features);
    return vd_domain_def_parse(xml, -1, error);
}

static void
assert_nothing_unsupported(const VdDomainDef *def)
{
    for (guint i = 0; i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_test_fail_printf("unsupported: %s", u->path);
    }
}

static void
test_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = parse(
        "<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>"
        "<firmware><feature enabled='yes' name='secure-boot'/>"
        "<feature enabled='no' name='enrolled-keys'/></firmware>"
        "<loader readonly='yes' secure='yes' type='pflash' format='raw'>/usr/share/OVMF/"
        "OVMF_CODE_4M.secboot.fd</loader>"
        "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd' format='raw'>/srv/fw_VARS.fd</nvram>"
        "</os>",
        "<features><acpi/><smm state='on'/></features>", &error);
    g_assert_no_error(error);
    g_assert_cmpint(def->fw->secure_boot, ==, 1);
    g_assert_cmpint(def->fw->enrolled_keys, ==, 0);
    g_assert_cmpint(def->fw->loader_secure, ==, 1);
    g_assert_false(def->fw->loader_stateless);
    g_assert_cmpstr(def->fw->nvram_template, ==, "/usr/share/OVMF/OVMF_VARS_4M.fd");
    g_assert_cmpint(def->fw->smm, ==, 1);
    g_assert_true(vd_firmware_wants_secure(def));
    g_assert_true(vd_firmware_needs_nvram(def));
    assert_nothing_unsupported(def);
    g_assert_true(vd_domain_def_check_startable(def, &error));

    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    g_assert_cmpstr(copy->fw->nvram_template, ==, def->fw->nvram_template);
    g_assert_true(copy->fw->nvram_template != def->fw->nvram_template);
    g_assert_cmpint(copy->fw->enrolled_keys, ==, 0);

    /* virt-install's ROM loader: stateless, no nvram. */
    g_autoptr(VdDomainDef) rom = parse(
        "<os><type machine='q35'>hvm</type>"
        "<loader readonly='yes' secure='no' type='rom' stateless='yes'>/tmp/foo</loader></os>",
        "<features><smm state='off'/></features>", &error);
    g_assert_no_error(error);
    g_assert_true(rom->fw->loader_stateless);
    g_assert_cmpint(rom->fw->loader_secure, ==, 0);
    g_assert_cmpint(rom->fw->smm, ==, 0);
    g_assert_false(vd_firmware_needs_nvram(rom));
    assert_nothing_unsupported(rom);

    /* Nothing asked: no requirement. */
    g_autoptr(VdDomainDef) plain = parse("<os firmware='efi'><type>hvm</type></os>", "", &error);
    g_assert_no_error(error);
    g_assert_cmpint(plain->fw->secure_boot, ==, -1);
    g_assert_cmpint(plain->fw->smm, ==, -1);
    g_assert_false(vd_firmware_wants_secure(plain));
    g_assert_true(vd_firmware_needs_nvram(plain));
}

static void
test_errors(void)
{
    struct {
        const char *os, *features, *message;
    } cases[] = {
        {"<os><firmware><feature enabled='yes' name='fast-boot'/></firmware></os>", "",
         "unknown firmware feature 'fast-boot'"},
        {"<os><firmware><feature name='secure-boot'/></firmware></os>", "",
         "needs enabled='yes' or 'no'"},
        {"<os><firmware><feature enabled='maybe' name='secure-boot'/></firmware></os>", "",
         "maybe"},
        {"<os><loader secure='perhaps'>/x</loader></os>", "", "perhaps"},
        {"<os/>", "<features><smm state='sometimes'/></features>", "sometimes"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdDomainDef) def = parse(cases[i].os, cases[i].features, &error);
        g_assert_null(def);
        g_assert_error(error, VD_ERROR, VD_ERROR_XML);
        if (!strstr(error->message, cases[i].message))
            g_test_fail_printf("'%s' lacks '%s'", error->message, cases[i].message);
    }
    /* A relative template, as virt-install's tests write, is refused by
     * define's validation, naming it. */
    g_autoptr(GError) rel_error = NULL;
    g_autoptr(VdDomainDef) rel = parse("<os><nvram template='VARS.fd'/></os>", "", &rel_error);
    g_assert_no_error(rel_error);
    vd_domain_def_apply_defaults(rel);
    g_assert_false(vd_domain_def_validate(rel, &rel_error));
    if (!strstr(rel_error->message, "<nvram template=>: path 'VARS.fd' is relative"))
        g_test_fail_printf("got: %s", rel_error->message);

    /* A qcow2 variable store is refused at start, with its path named. */
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) q = parse("<os><nvram format='qcow2'>/v.qcow2</nvram></os>", "", &error);
    g_assert_no_error(error);
    g_assert_false(vd_domain_def_check_startable(q, &error));
    g_assert_nonnull(strstr(error->message, "nvram"));
}

/* What the daemon does to the live definition after selecting a firmware
 * shows in the live XML: loader, secure, template, nvram and SMM. */
static void
test_live_format(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def =
        parse("<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>", "", &error);
    g_assert_no_error(error);
    def->os.loader = g_strdup("/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
    def->os.loader_type = g_strdup("pflash");
    def->os.loader_readonly = TRUE;
    def->os.nvram = g_strdup("/var/lib/virtd/nvram/fw_VARS.fd");
    def->fw->nvram_template = g_strdup("/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
    def->fw->loader_secure = 1;
    def->fw->smm = 1;
    g_autofree char *xml = vd_domain_def_format(def, 0);
    if (!strstr(xml, "<loader readonly='yes' type='pflash' secure='yes'>"
                     "/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>") ||
        !strstr(xml, "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'>"
                     "/var/lib/virtd/nvram/fw_VARS.fd</nvram>") ||
        !strstr(xml, "<smm state='on'/>"))
        g_test_fail_printf("live XML lacks the firmware:\n%s", xml);

    /* And parses back to the same model. */
    g_autoptr(VdDomainDef) back = vd_domain_def_parse(xml, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(back->fw->loader_secure, ==, 1);
    g_assert_cmpint(back->fw->smm, ==, 1);
    g_assert_cmpstr(back->fw->nvram_template, ==, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
    g_assert_cmpstr(back->os.nvram, ==, "/var/lib/virtd/nvram/fw_VARS.fd");
    assert_nothing_unsupported(back);
}

/* Every UEFI file of the corpus: nothing about its firmware left
 * unsupported (the relative 'CODE.fd' loaders are refused by define's
 * validation instead). */
/* A pflash loader beside an <nvram> is the read-only code half unless
 * readonly='no' says otherwise; alone, a writable flash (libvirt's). */
static void
test_split_readonly(void)
{
    static const struct {
        const char *loader_attrs, *nvram;
        gboolean readonly;
    } cases[] = {
        {"type='pflash'", "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/>", TRUE},
        {"type='pflash'", "<nvram>/srv/x_VARS.fd</nvram>", TRUE},
        {"type='pflash' readonly='no'", "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/>",
         FALSE},
        {"type='pflash'", "", FALSE},
        {"type='rom'", "<nvram>/srv/x_VARS.fd</nvram>", FALSE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *os = g_strdup_printf(
            "<os><type arch='x86_64' machine='q35'>hvm</type>"
            "<loader %s>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>%s</os>",
            cases[i].loader_attrs, cases[i].nvram);
        g_autoptr(VdDomainDef) def = parse(os, "", &error);
        g_assert_no_error(error);
        g_assert_cmpint(def->os.loader_readonly, ==, cases[i].readonly);
        g_assert_cmpint(vd_firmware_needs_nvram(def), ==, cases[i].readonly);
    }
}

static void
test_corpus(void)
{
    const char *dir = g_getenv("VD_COMPAT_DIR");
    const char *files[] = {
        "win11-1.xml",    "win7-uefi-1.xml", "boot-uefi-oldcaps.xml",    "singleton-config-2-1.xml",
        "qemu-plain.xml", "amd-sev.xml",     "cloud-init-options1-1.xml"};
    g_assert_nonnull(dir);
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(dir, files[i], NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) error = NULL;
        g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
        g_autoptr(VdDomainDef) def = vd_domain_def_parse(xml, -1, &error);
        g_assert_no_error(error);
        for (guint j = 0; j < def->unsupported->len; j++) {
            const VdUnsupported *u = g_ptr_array_index(def->unsupported, j);
            if (g_str_has_prefix(u->path, "/domain/os/loader") ||
                g_str_has_prefix(u->path, "/domain/os/nvram") ||
                g_str_has_prefix(u->path, "/domain/os/firmware") ||
                g_str_has_prefix(u->path, "/domain/features/smm"))
                g_test_fail_printf("%s: %s still unsupported", files[i], u->path);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-firmware/parse", test_parse);
    g_test_add_func("/domain-firmware/errors", test_errors);
    g_test_add_func("/domain-firmware/live-format", test_live_format);
    g_test_add_func("/domain-firmware/split-readonly", test_split_readonly);
    g_test_add_func("/domain-firmware/corpus", test_corpus);
    return g_test_run();
}
