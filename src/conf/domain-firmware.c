/* Parsing of the domain's UEFI: firmware auto-selection features, secure boot, nvram templates, SMM
 * (issue 10): see domain-firmware.h. */
#include "conf/domain-firmware.h"

#include "conf/domain-private.h"
#include "util/vd-error.h"

VdFirmwareDef *
vd_firmware_def_new(void)
{
    VdFirmwareDef *x = g_new0(VdFirmwareDef, 1);
    x->secure_boot = x->enrolled_keys = x->loader_secure = x->smm = -1;
    return x;
}

void
vd_firmware_def_free(VdFirmwareDef *x)
{
    if (!x)
        return;
    g_free(x->nvram_template);
    g_free(x);
}

VdFirmwareDef *
vd_firmware_def_copy(const VdFirmwareDef *x)
{
    VdFirmwareDef *c = g_new0(VdFirmwareDef, 1);
    *c = *x;
    c->nvram_template = g_strdup(x->nvram_template);
    return c;
}

static gboolean
parse_tristate(const xmlNode *n, const char *attr, const char *where, gboolean on_off, int *out,
               GError **error)
{
    gboolean v = FALSE, present = FALSE;
    if (!vd_xml_prop_bool(n, attr, where, on_off, &v, &present, error))
        return FALSE;
    if (present)
        *out = v ? 1 : 0;
    return TRUE;
}

static gboolean
parse_features(VdFirmwareDef *fw, const xmlNode *firmware, GError **error)
{
    for (const xmlNode *n = vd_xml_child(firmware, "feature"); n; n = vd_xml_next(n, "feature")) {
        g_autofree char *name = vd_xml_prop(n, "name");
        int *slot;
        int enabled = -1;

        if (g_strcmp0(name, "secure-boot") == 0)
            slot = &fw->secure_boot;
        else if (g_strcmp0(name, "enrolled-keys") == 0)
            slot = &fw->enrolled_keys;
        else {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "unknown firmware feature '%s' in <os><firmware><feature name=>: expected "
                        "secure-boot or enrolled-keys",
                        name ? name : "");
            return FALSE;
        }
        if (!parse_tristate(n, "enabled", "<os><firmware><feature enabled=>", FALSE, &enabled,
                            error))
            return FALSE;
        if (enabled < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<os><firmware><feature name='%s'> needs enabled='yes' or 'no'", name);
            return FALSE;
        }
        *slot = enabled;
    }
    return TRUE;
}

gboolean
vd_domain_firmware_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    VdFirmwareDef *fw = def->fw;
    const xmlNode *os = vd_xml_child(root, "os");
    const xmlNode *features = vd_xml_child(root, "features");
    const xmlNode *n;

    if (os && (n = vd_xml_child(os, "firmware")) && !parse_features(fw, n, error))
        return FALSE;
    if (os && (n = vd_xml_child(os, "loader"))) {
        if (!parse_tristate(n, "secure", "<os><loader secure=>", FALSE, &fw->loader_secure,
                            error) ||
            !vd_xml_prop_bool(n, "stateless", "<os><loader stateless=>", FALSE,
                              &fw->loader_stateless, NULL, error))
            return FALSE;
    }
    if (os && (n = vd_xml_child(os, "nvram"))) {
        g_autofree char *template = vd_xml_prop(n, "template");
        /* A relative one is refused by validate, as <loader> is. */
        if (template && *template)
            fw->nvram_template = g_steal_pointer(&template);
    }
    if (features && (n = vd_xml_child(features, "smm")) &&
        !parse_tristate(n, "state", "<features><smm state=>", TRUE, &fw->smm, error))
        return FALSE;
    /* <smm/> without state is on, as libvirt reads it. */
    if (features && n && fw->smm < 0)
        fw->smm = 1;
    return TRUE;
}

void
vd_domain_firmware_format(const VdDomainDef *def, xmlNode *root)
{
    static const char *const features_order[] = {
        "acpi", "apic",       "pae", "hap",    "viridian", "privnet", "hyperv", "kvm",
        "xen",  "pvspinlock", "pmu", "vmport", "gic",      "smm",     "ioapic", NULL};
    const VdFirmwareDef *fw = def->fw;
    xmlNode *os = vd_xml_child(root, "os");
    xmlNode *n;

    if (os && (n = vd_xml_child(os, "loader")) && fw->loader_secure >= 0)
        vd_xml_set_prop(n, "secure", fw->loader_secure ? "yes" : "no");
    if (os && (n = vd_xml_child(os, "nvram")) && fw->nvram_template)
        vd_xml_set_prop(n, "template", fw->nvram_template);
    if (fw->smm >= 0) {
        /* After <os>, before <cpu>, where libvirt writes it. */
        static const char *const domain_order[] = {"os", "features", "cpu", "clock", NULL};
        xmlNode *features = vd_xml_ensure(root, "features", domain_order);
        n = vd_xml_child(features, "smm");
        if (!n)
            n = vd_xml_ensure(features, "smm", features_order);
        vd_xml_set_prop(n, "state", fw->smm ? "on" : "off");
    }
}

gboolean
vd_firmware_wants_secure(const VdDomainDef *def)
{
    return def->fw->secure_boot == 1 || def->fw->enrolled_keys == 1 || def->fw->loader_secure == 1;
}

gboolean
vd_firmware_needs_nvram(const VdDomainDef *def)
{
    if (def->fw->loader_stateless)
        return FALSE;
    if (g_strcmp0(def->os.firmware, "efi") == 0)
        return TRUE;
    return def->os.loader && g_strcmp0(def->os.loader_type, "pflash") == 0 &&
           def->os.loader_readonly;
}
