/* UEFI firmware selection from QEMU's firmware descriptors (tests/data/
 * firmware/usr holds Debian 12's ovmf descriptors; etc/ an administrator's
 * override of one and an empty file masking another). */
#include <glib/gstdio.h>

#include "conf/domain-firmware.h"
#include "qemu-test-util.h"
#include "qemu/firmware-select.h"
#include "util/vd-error.h"

static char *
data_dir(const char *sub)
{
    return g_build_filename(VD_TEST_DATA_DIR, "firmware", sub, NULL);
}

/* The executable chosen for a domain on @machine asking for @sb and @ek
 * (-1: nothing asked), or the error message prefixed with "ERROR: ". */
static char *
pick(const char *dirs, const char *machine, int sb, int ek, int smm, int secure)
{
    g_autoptr(TDef) def = tdef_new("fw", machine);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GPtrArray) descs = vd_firmware_desc_load(dirs);
    g_autofree char *m = vd_firmware_machine_name(machine, caps);
    g_autoptr(GError) error = NULL;

    def->os.firmware = g_strdup("efi");
    def->fw->secure_boot = sb;
    def->fw->enrolled_keys = ek;
    def->fw->smm = smm;
    def->fw->loader_secure = secure;
    const VdFirmwareDesc *d = vd_firmware_select(descs, def, m, dirs, &error);
    if (!d)
        return g_strdup_printf("ERROR: %s", error->message);
    g_assert_no_error(error);
    return g_path_get_basename(d->executable);
}

static void
test_debian(void)
{
    g_autofree char *usr = data_dir("usr");
    struct {
        const char *machine;
        int sb, ek, smm, secure;
        const char *expect;
    } cases[] = {
        /* libvirt's order: the first that fits, so nothing asked on q35
         * is secure boot with Microsoft's keys (as libvirt on Debian). */
        {"q35", -1, -1, -1, -1, "OVMF_CODE_4M.ms.fd"},
        {"pc-q35-7.2", 1, 1, -1, -1, "OVMF_CODE_4M.ms.fd"},
        {"q35", 1, 0, -1, -1, "OVMF_CODE_4M.secboot.fd"},
        {"q35", -1, 0, -1, -1, "OVMF_CODE_4M.secboot.fd"},
        {"q35", 0, -1, -1, -1, "OVMF_CODE_4M.fd"},
        {"q35", -1, -1, -1, 1, "OVMF_CODE_4M.ms.fd"},
        /* SMM off: only the firmware that does not need it. */
        {"q35", -1, -1, 0, -1, "OVMF_CODE_4M.fd"},
        /* i440fx: the secure builds are for q35 only. */
        {"pc", -1, -1, -1, -1, "OVMF_CODE_4M.fd"},
        {"pc-i440fx-6.1", -1, -1, -1, -1, "OVMF_CODE_4M.fd"},
        {"pc", 1, -1, -1, -1, "ERROR: secure boot needs machine type q35"},
        {"pc-i440fx-7.2", -1, 1, -1, -1, "ERROR: secure boot needs machine type q35"},
        {"q35", 0, 1, -1, -1, "ERROR: no UEFI firmware in "},
        {"microvm", -1, -1, -1, -1, "ERROR: no UEFI firmware in "},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got =
            pick(usr, cases[i].machine, cases[i].sb, cases[i].ek, cases[i].smm, cases[i].secure);
        if (!g_str_has_prefix(got, cases[i].expect))
            g_test_fail_printf("case %u (%s): got '%s', expected '%s'", i, cases[i].machine, got,
                               cases[i].expect);
    }
    /* Why none matched names each descriptor and what it lacks. */
    g_autofree char *why = pick(usr, "q35", 0, 1, -1, -1);
    g_assert_nonnull(strstr(why, "60-edk2-x86_64.json: no enrolled keys"));
    g_assert_nonnull(strstr(why, "40-edk2-x86_64-secure-enrolled.json: secure boot (refused"));
}

static void
test_override_and_mask(void)
{
    g_autofree char *usr = data_dir("usr");
    g_autofree char *etc = data_dir("etc");
    g_autofree char *dirs = g_strdup_printf("%s:%s", etc, usr);
    g_autoptr(GPtrArray) paths = vd_firmware_desc_paths(dirs);

    /* 40 masked by an empty file in etc, 60 taken from etc, 50 from usr. */
    g_assert_cmpuint(paths->len, ==, 2);
    g_autofree char *p50 = g_build_filename(usr, "50-edk2-x86_64-secure.json", NULL);
    g_autofree char *p60 = g_build_filename(etc, "60-edk2-x86_64.json", NULL);
    g_assert_cmpstr(g_ptr_array_index(paths, 0), ==, p50);
    g_assert_cmpstr(g_ptr_array_index(paths, 1), ==, p60);
    g_autofree char *q35 = pick(dirs, "q35", -1, -1, -1, -1);
    g_assert_cmpstr(q35, ==, "OVMF_CODE_4M.secboot.fd");
    g_autofree char *pc = pick(dirs, "pc", -1, -1, -1, -1);
    g_assert_cmpstr(pc, ==, "CODE.fd");
}

static void
test_none_installed(void)
{
    g_autofree char *empty = tmkdtemp();
    g_autofree char *dirs = g_strdup_printf("%s:/nonexistent/firmware", empty);
    g_autofree char *got = pick(dirs, "q35", -1, -1, -1, -1);
    g_assert_true(g_str_has_prefix(got, "ERROR: no UEFI firmware for <os firmware='efi'>"));
    g_assert_nonnull(strstr(got, "install ovmf"));
    g_assert_nonnull(strstr(got, "/nonexistent/firmware"));
    g_rmdir(empty);
}

static void
test_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdFirmwareDesc) bad =
        vd_firmware_desc_parse("{\"mapping\": {}}", -1, "/x.json", &error);
    g_assert_null(bad);
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "/x.json"));
    g_clear_error(&error);
    g_autoptr(VdFirmwareDesc) notjson = vd_firmware_desc_parse("{", -1, "/y.json", &error);
    g_assert_null(notjson);
    g_assert_nonnull(strstr(error->message, "not valid JSON"));
    g_clear_error(&error);

    g_autofree char *p =
        g_build_filename(VD_TEST_DATA_DIR, "firmware", "usr", "50-edk2-x86_64-secure.json", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
    g_autoptr(VdFirmwareDesc) d = vd_firmware_desc_parse(text, -1, p, &error);
    g_assert_no_error(error);
    g_assert_true(d->uefi && d->flash && d->raw && d->secure_boot && d->requires_smm);
    g_assert_false(d->enrolled_keys);
    g_assert_cmpstr(d->nvram_template, ==, "/usr/share/OVMF/OVMF_VARS_4M.fd");
    g_assert_cmpuint(d->machines->len, ==, 1);

    /* An explicit loader finds its template through its descriptor. */
    g_autoptr(GPtrArray) descs = g_ptr_array_new();
    g_ptr_array_add(descs, d);
    const VdFirmwareDesc *f =
        vd_firmware_find_executable(descs, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    g_assert_true(f == d);
    g_assert_null(vd_firmware_find_executable(descs, "/usr/share/OVMF/OVMF_CODE.fd"));
}

static void
test_apply_and_guess(void)
{
    g_autofree char *g1 = vd_firmware_guess_template("/usr/share/OVMF/OVMF_CODE_4M.fd");
    g_assert_cmpstr(g1, ==, "/usr/share/OVMF/OVMF_VARS_4M.fd");
    g_autofree char *g2 = vd_firmware_guess_template("/usr/share/qemu/edk2-x86_64-code.fd");
    g_assert_cmpstr(g2, ==, "/usr/share/qemu/edk2-x86_64-vars.fd");
    g_assert_null(vd_firmware_guess_template("/srv/bios.bin"));

    g_autofree char *usr = data_dir("usr");
    g_autoptr(GPtrArray) descs = vd_firmware_desc_load(usr);
    g_autoptr(TDef) def = tdef_new("fw", "q35");
    def->os.firmware = g_strdup("efi");
    const VdFirmwareDesc *d = vd_firmware_select(descs, def, "pc-q35-7.2", usr, NULL);
    g_assert_nonnull(d);
    vd_firmware_apply(def, d);
    g_assert_cmpstr(def->os.loader, ==, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
    g_assert_cmpstr(def->os.loader_type, ==, "pflash");
    g_assert_true(def->os.loader_readonly);
    g_assert_cmpint(def->fw->loader_secure, ==, 1);
    g_assert_cmpint(def->fw->smm, ==, 1);
    g_assert_cmpstr(def->fw->nvram_template, ==, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/firmware/debian", test_debian);
    g_test_add_func("/qemu/firmware/override-and-mask", test_override_and_mask);
    g_test_add_func("/qemu/firmware/none-installed", test_none_installed);
    g_test_add_func("/qemu/firmware/parse", test_parse);
    g_test_add_func("/qemu/firmware/apply-and-guess", test_apply_and_guess);
    return g_test_run();
}
