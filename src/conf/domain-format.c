/* Step 4 of conf/: VdDomainDef -> libvirt-compatible XML text.
 *
 * How the round trip works (the design choice of this layer):
 *
 *   The typed fields are the truth; the parsed document (def->doc) is the
 *   record of everything else the user wrote. Format copies that document
 *   and writes every typed field into the copy:
 *
 *   - Scalars (name, uuid, memory, vcpu, os, features, cpu, clock, on_*):
 *     the element is updated in place, created at libvirt's canonical
 *     position when missing, removed when the typed field says "absent".
 *     Attributes and children virtd does not model are not touched.
 *
 *   - Devices of the classes virtd models (disk, interface, serial,
 *     console, channel, input, graphics, video, memballoon, rng, panic,
 *     emulator): <devices> is rebuilt. Each typed device carries a detached
 *     copy of the element it was parsed from (->xml, see domain-def.h);
 *     format starts from that copy (or from an empty element for a device
 *     built in code), writes the typed fields into it and appends it. So
 *     adding, removing or reordering devices in the typed arrays is all a
 *     caller does; unknown attributes and children of a device travel with
 *     it. Children of <devices> virtd does not model (controller, hostdev,
 *     sound ...) are kept with their order among themselves; everything is
 *     laid out in libvirt's device order, as libvirt's dumpxml does.
 *     Comments stay in front of the element that followed them.
 *
 *   Without a document (a definition built from the model alone) the same
 *   code starts from an empty <domain>.
 *
 * Flags: LIVE adds id='N', live graphics ports, pty paths and tap names;
 * without SECURE the VNC password is left out (libvirt's behaviour), so
 * the daemon must format with SECURE when it writes its own config file.
 * Output is indented by two spaces and has no XML declaration, like
 * virsh dumpxml.
 */
#include "conf/domain-cputune.h"
#include "conf/domain-firmware.h"
#include "conf/domain-memory.h"
#include "conf/domain-private.h"
#include "conf/xml-writer.h"

/* libvirt's order of <domain>'s children (domain-private.h). */
const char *const vd_domain_child_order[] = {"name",
                                             "uuid",
                                             "genid",
                                             "title",
                                             "description",
                                             "metadata",
                                             "maxMemory",
                                             "memory",
                                             "currentMemory",
                                             "blkiotune",
                                             "memtune",
                                             "memoryBacking",
                                             "vcpu",
                                             "vcpus",
                                             "iothreads",
                                             "iothreadids",
                                             "defaultiothread",
                                             "cputune",
                                             "numatune",
                                             "resource",
                                             "sysinfo",
                                             "bootloader",
                                             "bootloader_args",
                                             "os",
                                             "idmap",
                                             "features",
                                             "cpu",
                                             "clock",
                                             "on_poweroff",
                                             "on_reboot",
                                             "on_crash",
                                             "on_lockfailure",
                                             "pm",
                                             "perf",
                                             "devices",
                                             "seclabel",
                                             "keywrap",
                                             "launchSecurity",
                                             NULL};

static const char *const os_order[] = {"type",     "firmware", "init", "loader", "nvram", "kernel",
                                       "initrd",   "cmdline",  "shim", "dtb",    "acpi",  "boot",
                                       "bootmenu", "smbios",   "bios", NULL};

static const char *const features_order[] = {
    "acpi", "apic",       "pae", "hap",    "viridian", "privnet", "hyperv", "kvm",
    "xen",  "pvspinlock", "pmu", "vmport", "gic",      "smm",     "ioapic", NULL};

static const char *const cpu_order[] = {"model",   "vendor", "topology", "cache",
                                        "feature", "numa",   NULL};

static void
format_memory(xmlNode *root, const char *name, guint64 kib)
{
    g_autofree char *text = NULL;
    xmlNode *n;

    if (kib == 0) {
        vd_xml_remove_all(root, name);
        return;
    }
    text = g_strdup_printf("%" G_GUINT64_FORMAT, kib);
    n = vd_xml_ensure(root, name, vd_domain_child_order);
    vd_xml_set_text(n, text);
    vd_xml_set_prop(n, "unit", "KiB");
}

static void
format_general(const VdDomainDef *def, xmlNode *root)
{
    vd_xml_set_child_text(root, "name", def->name, vd_domain_child_order);
    vd_xml_set_child_text(root, "uuid", def->uuid[0] ? def->uuid : NULL, vd_domain_child_order);
    vd_xml_set_child_text(root, "title", def->title, vd_domain_child_order);
    vd_xml_set_child_text(root, "description", def->description, vd_domain_child_order);
    format_memory(root, "memory", def->memory_kib);
    format_memory(root, "currentMemory", def->current_memory_kib);
    if (def->vcpus > 0) {
        g_autofree char *text = g_strdup_printf("%u", def->vcpus);
        xmlNode *n = vd_xml_ensure(root, "vcpu", vd_domain_child_order);

        vd_xml_set_text(n, text);
        if (def->vcpus_current && def->vcpus_current != def->vcpus)
            vd_xml_set_prop_int(n, "current", def->vcpus_current);
        else
            vd_xml_set_prop(n, "current", NULL);
    } else {
        vd_xml_remove_all(root, "vcpu");
    }
}

/* An element holding a path as text: updated, created or emptied; removed
 * when nothing is left in it. */
static xmlNode *
format_path_element(xmlNode *parent, const char *name, const char *text, gboolean wanted)
{
    xmlNode *n = vd_xml_child(parent, name);

    if (!n && !wanted)
        return NULL;
    if (!n)
        n = vd_xml_ensure(parent, name, os_order);
    vd_xml_set_text(n, text);
    return n;
}

static void
format_os(const VdDomainDef *def, xmlNode *root)
{
    xmlNode *os = vd_xml_ensure(root, "os", vd_domain_child_order);
    xmlNode *type = vd_xml_ensure(os, "type", os_order);
    xmlNode *n;

    vd_xml_set_prop(os, "firmware", def->os.firmware);
    vd_xml_set_prop(type, "arch", def->os.arch);
    vd_xml_set_prop(type, "machine", def->os.machine);
    vd_xml_set_text(type, def->os.type);

    n = format_path_element(os, "loader", def->os.loader,
                            def->os.loader || def->os.loader_type || def->os.loader_readonly);
    if (n) {
        g_autofree char *ro = vd_xml_prop(n, "readonly");
        vd_xml_set_prop(n, "readonly", def->os.loader_readonly ? "yes" : ro ? "no" : NULL);
        vd_xml_set_prop(n, "type", def->os.loader_type);
        vd_xml_prune(n);
    }
    n = format_path_element(os, "nvram", def->os.nvram, def->os.nvram != NULL);
    vd_xml_prune(n);

    vd_xml_set_child_text(os, "kernel", def->os.kernel, os_order);
    vd_xml_set_child_text(os, "initrd", def->os.initrd, os_order);
    vd_xml_set_child_text(os, "cmdline", def->os.cmdline, os_order);

    vd_xml_remove_all(os, "boot");
    for (guint i = 0; i < def->os.nboot && i < VD_BOOT_LAST; i++) {
        n = xmlNewDocNode(os->doc, NULL, (const xmlChar *)"boot", NULL);
        vd_xml_set_prop(n, "dev", vd_boot_dev_to_string(def->os.boot[i]));
        vd_xml_insert(os, n, os_order);
    }
    n = vd_xml_child(os, "bootmenu");
    if (def->os.bootmenu)
        vd_xml_set_prop(vd_xml_ensure(os, "bootmenu", os_order), "enable", "yes");
    else if (n)
        vd_xml_set_prop(n, "enable", "no");
}

static void
format_features(const VdDomainDef *def, xmlNode *root)
{
    xmlNode *f = vd_xml_child(root, "features");
    xmlNode *vmport;

    if (!f && !def->features.acpi && !def->features.apic && !def->features.pae &&
        !def->features.vmport_off)
        return;
    f = vd_xml_ensure(root, "features", vd_domain_child_order);
    vd_xml_set_child_flag(f, "acpi", def->features.acpi, features_order);
    vd_xml_set_child_flag(f, "apic", def->features.apic, features_order);
    vd_xml_set_child_flag(f, "pae", def->features.pae, features_order);
    vmport = vd_xml_child(f, "vmport");
    if (def->features.vmport_off) {
        vd_xml_set_prop(vd_xml_ensure(f, "vmport", features_order), "state", "off");
    } else if (vmport) {
        g_autofree char *state = vd_xml_prop(vmport, "state");
        if (g_strcmp0(state, "off") == 0)
            vd_xml_remove_all(f, "vmport");
    }
}

static void
format_cpu(const VdDomainDef *def, xmlNode *root)
{
    xmlNode *cpu;

    if (!def->cpu.present) {
        vd_xml_remove_all(root, "cpu");
        return;
    }
    cpu = vd_xml_ensure(root, "cpu", vd_domain_child_order);
    vd_xml_set_prop(cpu, "mode", vd_cpu_mode_to_string(def->cpu.mode));
    vd_xml_set_prop(cpu, "check", def->cpu.check);
    vd_xml_order_props(cpu, (const char *const[]){"mode", "match", "check", NULL});
    vd_xml_set_child_text(cpu, "model", def->cpu.model, cpu_order);
    if (def->cpu.sockets || def->cpu.cores || def->cpu.threads) {
        xmlNode *t = vd_xml_ensure(cpu, "topology", cpu_order);
        vd_xml_set_prop_int(t, "sockets", def->cpu.sockets);
        if (def->cpu.dies)
            vd_xml_set_prop_int(t, "dies", def->cpu.dies);
        else
            vd_xml_set_prop(t, "dies", NULL);
        vd_xml_set_prop_int(t, "cores", def->cpu.cores);
        vd_xml_set_prop_int(t, "threads", def->cpu.threads);
        vd_xml_order_props(
            t, (const char *const[]){"sockets", "dies", "clusters", "cores", "threads", NULL});
    } else {
        vd_xml_remove_all(cpu, "topology");
    }
}

static void
format_clock(const VdDomainDef *def, xmlNode *root)
{
    xmlNode *clock = vd_xml_child(root, "clock");

    if (def->clock.offset)
        vd_xml_set_prop(vd_xml_ensure(root, "clock", vd_domain_child_order), "offset",
                        def->clock.offset);
    else if (clock)
        vd_xml_set_prop(clock, "offset", NULL);
}

xmlDoc *
vd_domain_def_to_doc(const VdDomainDef *def, VdDomainFormatFlags flags)
{
    xmlDoc *doc;
    xmlNode *root;

    vd_xml_init();
    if (def->doc && xmlDocGetRootElement(def->doc)) {
        doc = xmlCopyDoc(def->doc, 1);
        root = xmlDocGetRootElement(doc);
    } else {
        doc = xmlNewDoc((const xmlChar *)"1.0");
        root = xmlNewDocNode(doc, NULL, (const xmlChar *)"domain", NULL);
        xmlDocSetRootElement(doc, root);
    }

    vd_xml_set_prop(root, "type", vd_virt_type_to_string(def->virt_type));
    if ((flags & VD_DOMAIN_FORMAT_LIVE) && def->id >= 0)
        vd_xml_set_prop_int(root, "id", def->id);
    else
        vd_xml_set_prop(root, "id", NULL);
    vd_xml_order_props(root, (const char *const[]){"type", "id", NULL});

    format_general(def, root);
    format_os(def, root);
    format_features(def, root);
    vd_domain_firmware_format(def, root);
    format_cpu(def, root);
    format_clock(def, root);
    vd_xml_set_child_text(root, "on_poweroff", vd_lifecycle_action_to_string(def->on_poweroff),
                          vd_domain_child_order);
    vd_xml_set_child_text(root, "on_reboot", vd_lifecycle_action_to_string(def->on_reboot),
                          vd_domain_child_order);
    vd_xml_set_child_text(root, "on_crash", vd_lifecycle_action_to_string(def->on_crash),
                          vd_domain_child_order);
    vd_domain_cputune_format(def, root);
    vd_domain_format_devices(def, doc, vd_xml_ensure(root, "devices", vd_domain_child_order),
                             flags);
    vd_domain_memory_format(def, root, flags);
    return doc;
}

char *
vd_domain_def_format(const VdDomainDef *def, VdDomainFormatFlags flags)
{
    g_autoptr(xmlDoc) doc = vd_domain_def_to_doc(def, flags);
    return vd_xml_write_libvirt_style(doc);
}
