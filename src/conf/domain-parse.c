/* Step 1 of conf/: domain XML text -> VdDomainDef (everything but the
 * devices, which are in domain-parse-devices.c).
 *
 * The parser is strict about the shape of what virtd models (a memory
 * that is not a number fails, naming the element and the value) and
 * silent about the rest: elements it does not model stay in def->doc and
 * are classified by domain-unsupported.c. Untrusted input: no network
 * access, no entity expansion, no DTD at all.
 *
 * "No defaults" has two exceptions forced by the model, whose zero values
 * are real values: on_reboot is restart and id is -1 when absent (as in
 * vd_domain_def_new()), and <graphics> without autoport= gets autoport
 * from whether a port was given, as libvirt's parser does.
 */
#include "conf/domain-private.h"

#include "conf/domain-cpu-ext.h"
#include "conf/domain-firmware.h"
#include "conf/domain-media.h"
#include "conf/domain-platform.h"
#include "conf/domain-memory.h"
#include "conf/domain-cputune.h"
#include "conf/domain-restune.h"
#include "conf/domain-tpm.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "util/vd-error.h"
#include "util/vd-names.h"
#include "util/vd-units.h"

typedef struct {
    char *message;
    int line;
} FirstError;

/* libxml2 calls this for every problem; the first error is the one worth
 * showing (later ones are usually consequences of it). */
static void
on_xml_error(void *data, xmlError *err)
{
    xmlParserCtxt *ctxt = data;
    FirstError *fe = ctxt ? ctxt->_private : NULL;

    if (!fe || fe->message || err->level < XML_ERR_ERROR)
        return;
    fe->message = g_strchomp(g_strdup(err->message ? err->message : "unknown error"));
    fe->line = err->line;
}

xmlDoc *
vd_xml_read_doc(const char *xml, gssize len, GError **error)
{
    FirstError fe = {0};
    xmlParserCtxt *ctxt;
    xmlDoc *doc;

    if (!xml)
        len = 0;
    else if (len < 0)
        len = (gssize)strlen(xml);
    if (len == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "empty XML document: expected <domain>");
        return NULL;
    }
    vd_xml_init();
    if (len > G_MAXINT) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "XML document too large");
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create an XML parser");
        return NULL;
    }
    ctxt->_private = &fe;
    ctxt->sax->serror = on_xml_error;
    /* No XML_PARSE_NOENT / DTDLOAD / DTDATTR: entities are not expanded
     * and nothing is fetched; NOERROR/NOWARNING keep libxml2 off stderr
     * (errors still reach on_xml_error). */
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING);
    if (!doc || fe.message || !ctxt->wellFormed) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "malformed XML at line %d: %s", fe.line,
                    fe.message ? fe.message : "not well-formed");
        if (doc)
            xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    g_free(fe.message);
    if (doc && (doc->intSubset || doc->extSubset)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<!DOCTYPE> is not allowed in domain XML: remove the DOCTYPE declaration");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    return doc;
}

static gboolean
parse_type(VdDomainDef *def, const xmlNode *root, GError **error)
{
    /* Types libvirt knows for other drivers: valid XML, not for us. */
    static const char *const others[] = {"xen",    "lxc",   "uml",  "openvz",    "test",  "vmware",
                                         "hyperv", "vbox",  "phyp", "parallels", "bhyve", "vz",
                                         "hvf",    "kqemu", "none", NULL};
    g_autofree char *type = vd_xml_prop(root, "type");
    int t;

    if (!type) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing domain type: write <domain type='kvm'> (or type='qemu' to "
                    "emulate without KVM)");
        return FALSE;
    }
    t = vd_virt_type_from_string(type);
    if (t >= 0) {
        def->virt_type = t;
        return TRUE;
    }
    if (g_strv_contains(others, type)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported domain type '%s' in <domain type=>: virtd runs QEMU guests "
                    "only; use type='kvm' or type='qemu'",
                    type);
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "unknown domain type '%s' in <domain type=>: expected kvm or qemu", type);
    }
    return FALSE;
}

/* <memory unit='GiB'>2</memory> -> KiB, rounded up like libvirt. */
static gboolean
parse_memory(const xmlNode *root, const char *name, guint64 *kib, GError **error)
{
    const xmlNode *node = vd_xml_child(root, name);
    g_autofree char *text = NULL;
    g_autofree char *unit = NULL;
    g_autofree char *where = NULL;
    g_autoptr(GError) local = NULL;
    guint64 value, bytes;

    if (!node)
        return TRUE;
    text = vd_xml_text(node);
    unit = vd_xml_prop(node, "unit");
    where = g_strdup_printf("<%s>", name);
    if (!vd_xml_parse_uint(text, where, G_MAXUINT64, &value, error))
        return FALSE;
    if (!vd_units_to_bytes(value, unit, "KiB", &bytes, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid <%s unit='%s'>: %s", name,
                    unit ? unit : "", local->message);
        return FALSE;
    }
    /* 0 is how the model says "absent": an explicit 0 would become the
     * default (or "missing") without a word. */
    if (value == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<%s> 0 gives the guest no memory: give its size, e.g. <%s "
                    "unit='MiB'>1024</%s>%s",
                    name, name, name,
                    g_str_equal(name, "currentMemory") ? ", or remove <currentMemory> to use "
                                                         "all of <memory>"
                                                       : "");
        return FALSE;
    }
    *kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    return TRUE;
}

static gboolean
parse_vcpu(VdDomainDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *node = vd_xml_child(root, "vcpu");
    g_autofree char *text = NULL;
    gboolean present = FALSE;
    guint64 n;

    if (!node)
        return TRUE;
    text = vd_xml_text(node);
    if (!vd_xml_parse_uint(text, "<vcpu>", G_MAXUINT64, &n, error))
        return FALSE;
    /* 0 is how the model says "absent" (then 1): an explicit 0 is refused,
     * not turned into 1. */
    if (n == 0 || n > VD_MAX_VCPUS) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    n ? "<vcpu> %" G_GUINT64_FORMAT " is more than the maximum of %d vCPUs"
                      : "<vcpu> %" G_GUINT64_FORMAT " is not a number of vCPUs: give 1 to %d",
                    n, VD_MAX_VCPUS);
        return FALSE;
    }
    def->vcpus = (guint)n;
    if (!vd_xml_prop_uint(node, "current", "<vcpu current=>", G_MAXUINT, &def->vcpus_current,
                          &present, error))
        return FALSE;
    /* 0 is how the model says "absent" */
    if (present && def->vcpus_current == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<vcpu current=> must be at least 1");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_os(VdDomainDef *def, const xmlNode *root, GError **error)
{
    static const char *const firmwares[] = {"bios", "efi", NULL};
    static const char *const loader_types[] = {"rom", "pflash", NULL};
    const xmlNode *os = vd_xml_child(root, "os");
    const xmlNode *n;

    if (!os)
        return TRUE;
    def->os.firmware = vd_xml_prop(os, "firmware");
    if (!vd_xml_check_choice(def->os.firmware, firmwares, "<os firmware=>", error))
        return FALSE;
    if ((n = vd_xml_child(os, "type"))) {
        g_autofree char *type = vd_xml_text(n);
        g_strstrip(type);
        def->os.type = *type ? g_steal_pointer(&type) : NULL;
        def->os.arch = vd_xml_prop(n, "arch");
        def->os.machine = vd_xml_prop(n, "machine");
    }
    for (n = vd_xml_child(os, "boot"); n; n = vd_xml_next(n, "boot")) {
        int dev = 0;
        gboolean present;

        if (!vd_xml_prop_enum(n, "dev", "boot device", "<os><boot dev=>", vd_boot_dev_from_string,
                              vd_boot_dev_list, NULL, &dev, &present, error))
            return FALSE;
        if (!present) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "missing dev= in <os><boot>: use hd, cdrom, network or fd");
            return FALSE;
        }
        if (def->os.nboot >= VD_BOOT_LAST) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "too many <os><boot> elements: at most %d",
                        VD_BOOT_LAST);
            return FALSE;
        }
        def->os.boot[def->os.nboot++] = dev;
    }
    if ((n = vd_xml_child(os, "bootmenu")) &&
        !vd_xml_prop_bool(n, "enable", "<os><bootmenu enable=>", FALSE, &def->os.bootmenu, NULL,
                          error))
        return FALSE;
    if ((n = vd_xml_child(os, "kernel")))
        def->os.kernel = vd_xml_text(n);
    if ((n = vd_xml_child(os, "initrd")))
        def->os.initrd = vd_xml_text(n);
    if ((n = vd_xml_child(os, "cmdline")))
        def->os.cmdline = vd_xml_text(n);
    if ((n = vd_xml_child(os, "loader"))) {
        g_autofree char *path = g_strstrip(vd_xml_text(n));
        def->os.loader = *path ? g_steal_pointer(&path) : NULL;
        def->os.loader_type = vd_xml_prop(n, "type");
        if (!vd_xml_check_choice(def->os.loader_type, loader_types, "<os><loader type=>", error))
            return FALSE;
        if (!vd_xml_prop_bool(n, "readonly", "<os><loader readonly=>", FALSE,
                              &def->os.loader_readonly, NULL, error))
            return FALSE;
    }
    if ((n = vd_xml_child(os, "nvram"))) {
        g_autofree char *path = g_strstrip(vd_xml_text(n));
        def->os.nvram = *path ? g_steal_pointer(&path) : NULL;
        /* A pflash loader next to an <nvram> (a store or a template) is the
         * code half of split firmware: read-only unless readonly='no' says
         * otherwise (virt-install's win7 files leave the attribute out; a
         * writable one would let the guest write the host's shared
         * OVMF_CODE file, which an unprivileged QEMU cannot even open). */
        xmlNode *loader = vd_xml_child(os, "loader");
        g_autofree char *ro = loader ? vd_xml_prop(loader, "readonly") : NULL;
        if (loader && !ro && g_strcmp0(def->os.loader_type, "pflash") == 0)
            def->os.loader_readonly = TRUE;
    }
    return TRUE;
}

static gboolean
parse_features(VdDomainDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *features = vd_xml_child(root, "features");
    const xmlNode *vmport;
    gboolean on = TRUE;

    if (!features)
        return TRUE;
    def->features.acpi = vd_xml_child(features, "acpi") != NULL;
    def->features.apic = vd_xml_child(features, "apic") != NULL;
    def->features.pae = vd_xml_child(features, "pae") != NULL;
    if ((vmport = vd_xml_child(features, "vmport"))) {
        if (!vd_xml_prop_bool(vmport, "state", "<features><vmport state=>", TRUE, &on, NULL, error))
            return FALSE;
        def->features.vmport_off = !on;
    }
    return TRUE;
}

static gboolean
parse_cpu(VdDomainDef *def, const xmlNode *root, GError **error)
{
    static const char *const checks[] = {"none", "partial", "full", NULL};
    const xmlNode *cpu = vd_xml_child(root, "cpu");
    const xmlNode *n;
    int mode = VD_CPU_MODE_CUSTOM;

    if (!cpu)
        return TRUE;
    def->cpu.present = TRUE;
    if (!vd_xml_prop_enum(cpu, "mode", "cpu mode", "<cpu mode=>", vd_cpu_mode_from_string,
                          vd_cpu_mode_list, NULL, &mode, NULL, error))
        return FALSE;
    def->cpu.mode = mode;
    def->cpu.check = vd_xml_prop(cpu, "check");
    if (!vd_xml_check_choice(def->cpu.check, checks, "<cpu check=>", error))
        return FALSE;
    if ((n = vd_xml_child(cpu, "model"))) {
        g_autofree char *model = g_strstrip(vd_xml_text(n));
        def->cpu.model = *model ? g_steal_pointer(&model) : NULL;
    }
    if ((n = vd_xml_child(cpu, "topology"))) {
        const struct {
            const char *attr;
            guint *value;
        } parts[] = {{"sockets", &def->cpu.sockets},
                     {"dies", &def->cpu.dies},
                     {"cores", &def->cpu.cores},
                     {"threads", &def->cpu.threads}};
        for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
            g_autofree char *where = g_strdup_printf("<cpu><topology %s=>", parts[i].attr);
            gboolean present;
            if (!vd_xml_prop_uint(n, parts[i].attr, where, 4096, parts[i].value, &present, error))
                return FALSE;
            /* 0 is how the model says "absent" (then 1): refused, not turned into 1. */
            if (present && *parts[i].value == 0) {
                g_set_error(error, VD_ERROR, VD_ERROR_XML,
                            "%s 0 is not a topology: sockets, dies, cores and threads are each "
                            "at least 1",
                            where);
                return FALSE;
            }
        }
    }
    return TRUE;
}

static gboolean
parse_clock(VdDomainDef *def, const xmlNode *root, GError **error)
{
    static const char *const offsets[] = {"utc",      "localtime", "timezone",
                                          "variable", "absolute",  NULL};
    const xmlNode *clock = vd_xml_child(root, "clock");

    if (!clock)
        return TRUE;
    def->clock.offset = vd_xml_prop(clock, "offset");
    return vd_xml_check_choice(def->clock.offset, offsets, "<clock offset=>", error);
}

static gboolean
parse_lifecycle(const xmlNode *root, const char *name, VdLifecycleAction *out, GError **error)
{
    const xmlNode *node = vd_xml_child(root, name);
    g_autofree char *text = NULL;
    g_autofree char *list = NULL;
    int a;

    if (!node)
        return TRUE;
    text = g_strstrip(vd_xml_text(node));
    a = vd_lifecycle_action_from_string(text);
    if (a < 0) {
        list = vd_lifecycle_action_list();
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "unknown action '%s' in <%s>: expected one of %s", text, name, list);
        return FALSE;
    }
    *out = a;
    return TRUE;
}

/* Elements libvirt reads once: a second copy would be kept in the
 * document but never acted on, so it is refused instead. */
static gboolean
check_single(const xmlNode *parent, const char *const *names, const char *where, GError **error)
{
    for (guint i = 0; names[i]; i++) {
        const xmlNode *first = vd_xml_child(parent, names[i]);
        if (first && vd_xml_next(first, names[i])) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "more than one <%s> in %s: write it once",
                        names[i], where);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
check_singletons(const xmlNode *root, GError **error)
{
    static const char *const top[] = {
        "name",     "uuid", "title", "description", "memory",    "currentMemory", "vcpu",    "os",
        "features", "cpu",  "clock", "on_poweroff", "on_reboot", "on_crash",      "devices", NULL};
    static const char *const os[] = {"type",   "loader",  "nvram",    "kernel",
                                     "initrd", "cmdline", "bootmenu", NULL};
    static const char *const devices[] = {"emulator", NULL};

    return check_single(root, top, "<domain>", error) &&
           check_single(vd_xml_child(root, "os"), os, "<os>", error) &&
           check_single(vd_xml_child(root, "devices"), devices, "<devices>", error);
}

VdDomainDef *
vd_domain_def_parse(const char *xml, gssize len, GError **error)
{
    g_autoptr(xmlDoc) doc = vd_xml_read_doc(xml, len, error);
    g_autoptr(VdDomainDef) def = NULL;
    xmlNode *root;
    const xmlNode *n;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (root && root->ns && g_str_equal((const char *)root->name, "domain")) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<domain> must not be in an XML namespace (found xmlns='%s'): remove "
                    "the xmlns attribute",
                    root->ns->href ? (const char *)root->ns->href : "");
        return NULL;
    }
    if (!vd_xml_is(root, "domain")) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "expected <domain> as the root element, found <%s>",
                    root ? (const char *)root->name : "");
        return NULL;
    }
    def = vd_domain_def_new();
    if (!parse_type(def, root, error) || !check_singletons(root, error))
        return NULL;
    if (!vd_xml_prop_int(root, "id", "<domain id=>", -1, G_MAXINT, &def->id, NULL, error))
        return NULL;

    if ((n = vd_xml_child(root, "name")))
        def->name = vd_xml_text(n);
    if ((n = vd_xml_child(root, "uuid"))) {
        g_autofree char *uuid = vd_xml_text(n);
        if (!vd_uuid_parse(uuid, def->uuid)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "invalid <uuid> '%s': expected 32 hex digits such as "
                        "4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
                        uuid);
            return NULL;
        }
    }
    if ((n = vd_xml_child(root, "title")))
        def->title = vd_xml_text(n);
    if ((n = vd_xml_child(root, "description")))
        def->description = vd_xml_text(n);

    if (!parse_memory(root, "memory", &def->memory_kib, error) ||
        !parse_memory(root, "currentMemory", &def->current_memory_kib, error) ||
        !parse_vcpu(def, root, error) || !parse_os(def, root, error) ||
        !parse_features(def, root, error) || !parse_cpu(def, root, error) ||
        !parse_clock(def, root, error) ||
        !parse_lifecycle(root, "on_poweroff", &def->on_poweroff, error) ||
        !parse_lifecycle(root, "on_reboot", &def->on_reboot, error) ||
        !parse_lifecycle(root, "on_crash", &def->on_crash, error))
        return NULL;

    if ((n = vd_xml_child(root, "devices")) && !vd_domain_parse_devices(def, n, error))
        return NULL;
    if (!vd_domain_media_parse(def, root, error) || !vd_domain_tpm_parse(def, root, error) ||
        !vd_domain_firmware_parse(def, root, error) || !vd_domain_cpu_ext_parse(def, root, error) ||
        !vd_domain_platform_parse(def, root, error) || !vd_domain_memory_parse(def, root, error) ||
        !vd_domain_cputune_parse(def, root, error) || !vd_domain_restune_parse(def, root, error))
        return NULL;

    g_clear_pointer(&def->unsupported, g_ptr_array_unref);
    def->unsupported = vd_domain_unsupported_scan(root);
    def->doc = g_steal_pointer(&doc);
    return g_steal_pointer(&def);
}

VdNetDef *
vd_net_def_new_from_xml(const char *xml, gssize len, gboolean match_only, GError **error)
{
    g_autoptr(xmlDoc) doc = vd_xml_read_doc(xml, len, error);
    g_autoptr(VdDomainDef) def = NULL;
    xmlNode *root, *devices;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || root->ns || !vd_xml_is(root, "interface")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: attaching or detaching <%s> is not supported "
                    "yet: only <interface> devices can be hot-plugged",
                    root ? (const char *)root->name : "");
        return NULL;
    }
    /* The element parses as it would inside a domain's <devices>. */
    xmlUnlinkNode(root);
    devices = xmlNewDocNode(doc, NULL, (const xmlChar *)"devices", NULL);
    xmlDocSetRootElement(doc, devices);
    xmlAddChild(devices, root);
    def = vd_domain_def_new();
    if (!vd_domain_parse_devices(def, devices, error))
        return NULL;
    def->name = g_strdup("fragment");
    def->memory_kib = def->current_memory_kib = 1024;
    vd_domain_def_apply_defaults(def);
    if (!match_only && (!vd_domain_validate_interfaces(def, error) ||
                        !vd_domain_check_interfaces_input(def->interfaces, error)))
        return NULL;
    return g_ptr_array_steal_index(def->interfaces, 0);
}
