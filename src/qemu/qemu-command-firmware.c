/* The argv builder's part for the domain's UEFI: firmware auto-selection features, secure boot,
 * nvram templates, SMM (issue 10). See conf/domain-firmware.h for the model. The selection itself
 * happens in the daemon before the build (qemu/firmware-select.h): here the loader and the variable
 * store are known files. */
#include "conf/domain-firmware.h"
#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

static void
add_pflash(VdQemuCmd *cmd, guint unit, const char *path, gboolean readonly)
{
    g_autofree char *file_node = g_strdup_printf("pflash%u-storage", unit);
    g_autofree char *fmt_node = g_strdup_printf("pflash%u-format", unit);
    JsonObject *f = json_object_new();
    json_object_set_string_member(f, "driver", "file");
    json_object_set_string_member(f, "filename", path);
    json_object_set_string_member(f, "node-name", file_node);
    json_object_set_boolean_member(f, "auto-read-only", TRUE);
    if (readonly)
        json_object_set_boolean_member(f, "read-only", TRUE);
    vd_qemu_cmd_opt_json(cmd, "-blockdev", f);
    JsonObject *r = json_object_new();
    json_object_set_string_member(r, "node-name", fmt_node);
    json_object_set_boolean_member(r, "read-only", readonly);
    json_object_set_string_member(r, "driver", "raw");
    json_object_set_string_member(r, "file", file_node);
    vd_qemu_cmd_opt_json(cmd, "-blockdev", r);
}

gboolean
vd_qemu_build_loader(VdQemuCmd *cmd, const char *loader, gboolean *pflash0, gboolean *pflash1,
                     GError **error)
{
    const VdDomainDef *def = cmd->def;
    const VdFirmwareDef *fw = def->fw;
    gboolean secure = fw->loader_secure == 1;

    if (!vd_qemu_check_path(loader, "<loader>", error))
        return FALSE;
    if (secure && !cmd->q35) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "secure boot (<loader secure='yes'>) needs machine type q35: its UEFI "
                    "variables live in flash only SMM may write, and machine '%s' cannot protect "
                    "it; use <type machine='q35'> or remove secure='yes'",
                    cmd->machine);
        return FALSE;
    }
    if (secure && fw->smm == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "secure boot (<loader secure='yes'>) needs SMM: remove <smm state='off'> "
                    "from <features>");
        return FALSE;
    }
    if (!def->os.loader_type || g_str_equal(def->os.loader_type, "rom")) {
        if (secure) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "<loader secure='yes'> needs type='pflash': a ROM firmware has no flash "
                        "to protect");
            return FALSE;
        }
        vd_qemu_cmd_opt(cmd, "-bios", loader);
        return TRUE;
    }
    if (!g_str_equal(def->os.loader_type, "pflash")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "loader type '%s' is not supported (use 'rom' or 'pflash')",
                    def->os.loader_type);
        return FALSE;
    }
    const char *nvram = cmd->paths->nvram_path ? cmd->paths->nvram_path : def->os.nvram;
    gboolean split = nvram && !fw->loader_stateless;
    /* With a variable store of its own (split firmware), the code part is
     * never the firmware's to write: read-only even without
     * readonly='yes' (virt-install's win7 files lack it), or a guest could
     * write the host's shared OVMF_CODE file, and an unprivileged QEMU
     * could not open it at all. */
    add_pflash(cmd, 0, loader, def->os.loader_readonly || split);
    *pflash0 = TRUE;
    if (split) {
        if (!vd_qemu_check_path(nvram, "<nvram>", error))
            return FALSE;
        add_pflash(cmd, 1, nvram, FALSE);
        *pflash1 = TRUE;
    }
    return TRUE;
}

gboolean
vd_qemu_build_firmware(VdQemuCmd *cmd, GError **error)
{
    (void)cmd;
    (void)error;
    return TRUE;
}
