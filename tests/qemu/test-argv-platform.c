/* The platform family's argv (issue 10): <sysinfo>/<smbios>, fw_cfg,
 * watchdogs, vsock, controllers, and the refusals for what the host
 * lacks, each given a fake VdHostFacts. The definitions come from domain
 * XML (as users write them: virt-install's controller lists), through
 * conf's parse and defaults; goldens in tests/data/argv/NAME.args
 * (VD_REGENERATE=1 rewrites them). Real QEMU runs these in
 * test-argv-qemu.c. */
#include <string.h>

#include "conf/domain-platform.h"
#include "qemu-test-util.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

#define UUID TDEF_XML_UUID

static VdQemuCaps *
caps_platform(void)
{
    /* The fake 7.2 caps, and the devices this family uses (QEMU 7.2 has
     * them all: qemu-system-x86_64 -device help). */
    static const char *const more[] = {"i6300esb",
                                       "ib700",
                                       "vhost-vsock-pci",
                                       "pcie-root-port",
                                       "pci-bridge",
                                       "pcie-pci-bridge",
                                       "ich9-usb-ehci1",
                                       "ich9-usb-uhci1",
                                       "ich9-usb-uhci2",
                                       "ich9-usb-uhci3",
                                       "nec-usb-xhci",
                                       "lsi53c895a",
                                       "nvme",
                                       "nvme-ns",
                                       "pcnet",
                                       "ne2k_pci",
                                       "i82559er",
                                       "vmxnet3",
                                       "i82551",
                                       "i82557b",
                                       "i82801",
                                       "virtio-keyboard-pci",
                                       "virtio-mouse-pci",
                                       "virtio-tablet-pci",
                                       "tulip",
                                       "e1000-82545em",
                                       "virtio-net-pci-transitional"};
    VdQemuCaps *caps = tcaps_fake();
    for (guint i = 0; i < G_N_ELEMENTS(more); i++)
        g_hash_table_add(caps->devices, g_strdup(more[i]));
    return caps;
}

/* 256 MiB: the goldens' size. */
static VdDomainDef *
def_from(const char *machine, const char *os_extra, const char *top_extra, const char *devices)
{
    return tdef_from_xml(machine, 256, os_extra, top_extra, devices);
}

static const char *const host_dmi[] = {"bios.vendor",
                                       "American Megatrends, Inc.",
                                       "bios.version",
                                       "F.42",
                                       "system.manufacturer",
                                       "HP",
                                       "system.product",
                                       "ProLiant DL360",
                                       "system.uuid",
                                       "00000000-1111-2222-3333-444444444444",
                                       NULL};

/* A host with everything: vhost-vsock, VFIO, a render node, SEV. */
static const VdHostFacts rich_host = {
    .vhost_vsock = TRUE,
    .render_node = TRUE,
    .vfio = TRUE,
    .sev = TRUE,
    .smbios_host = host_dmi,
};
/* This CI host: none of it. */
static const VdHostFacts poor_host = {0};

static GPtrArray *
build(const VdDomainDef *def, const VdHostFacts *host, GPtrArray *notes, GError **error)
{
    g_autoptr(VdQemuCaps) caps = caps_platform();
    VdQemuRunPaths paths = trun_paths;
    paths.host = host;
    paths.vsock_fd = 40;
    paths.vsock_cid = 7;
    return vd_qemu_build_argv_notes(def, caps, &paths, notes, error);
}

/* ---- goldens ---- */

static VdDomainDef *
def_sysinfo(void)
{
    return def_from(
        "pc", "<smbios mode='sysinfo'/>",
        "<sysinfo type='smbios'>"
        "<bios><entry name='vendor'>LENOVO</entry><entry name='version'>N1,ET</entry>"
        "<entry name='date'>01/01/2021</entry><entry name='release'>1.2</entry></bios>"
        "<system><entry name='manufacturer'>Fedora</entry>"
        "<entry name='product'>Virt-Manager</entry><entry name='version'>0.9.4</entry>"
        "<entry name='serial'>ds=nocloud;s=http://10.0.0.1/,x</entry>"
        "<entry name='uuid'>" UUID "</entry><entry name='sku'>1234567890</entry>"
        "<entry name='family'>Red Hat</entry></system>"
        "<baseBoard><entry name='manufacturer'>LENOVO</entry>"
        "<entry name='product'>20BE0061MC</entry><entry name='serial'>W1KS427111E</entry>"
        "<entry name='location'>Part A</entry></baseBoard>"
        "<chassis><entry name='manufacturer'>Dell Inc.</entry>"
        "<entry name='asset'>40000101</entry></chassis>"
        "<oemStrings><entry>myappname:some arbitrary data</entry>"
        "<entry>otherappname:more, arbitrary data</entry></oemStrings>"
        "</sysinfo>"
        "<sysinfo type='fwcfg'><entry name='opt/com.example/name'>example,value</entry>"
        "<entry name='opt/com.coreos/config' file='/etc/virtd/ign,1.json'/></sysinfo>",
        "");
}

static VdDomainDef *
def_smbios_host(void)
{
    return def_from("pc", "<smbios mode='host'/>", "", "");
}

static VdDomainDef *
def_watchdog(void)
{
    return def_from("q35", "", "",
                    "<watchdog model='i6300esb' action='pause'/>"
                    "<watchdog model='itco' action='pause'/>");
}

static VdDomainDef *
def_watchdog_pc(void)
{
    return def_from("pc", "", "", "<watchdog model='ib700'/>");
}

static VdDomainDef *
def_vsock(void)
{
    return def_from("q35", "", "", "<vsock model='virtio'><cid address='42'/></vsock>");
}

static VdDomainDef *
def_vsock_auto(void)
{
    return def_from("pc", "", "", "<vsock model='virtio'><cid auto='yes'/></vsock>");
}

#define RP "<controller type='pci' model='pcie-root-port'/>"

/* What virt-install writes for a q35 guest (the corpus's set). */
static VdDomainDef *
def_controllers_q35(void)
{
    return def_from(
        "q35", "", "",
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/virtd/images/root.qcow2'/><target dev='vda' bus='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></disk>"
        "<controller type='usb' model='qemu-xhci' ports='15'/>"
        "<controller type='pci' model='pcie-root'/>" RP RP RP RP RP RP RP RP RP RP RP RP RP RP
        "<controller type='virtio-serial' index='0' ports='16' vectors='4'/>"
        "<controller type='scsi' index='0' model='virtio-scsi'/>"
        "<controller type='sata' index='0'/>"
        "<input type='tablet' bus='usb'/>");
}

static VdDomainDef *
def_controllers_pc(void)
{
    return def_from(
        "pc", "", "",
        "<controller type='usb' index='0' model='ich9-ehci1'/>"
        "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>"
        "<controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/></controller>"
        "<controller type='usb' index='0' model='ich9-uhci3'><master startport='4'/></controller>"
        "<controller type='pci' index='0' model='pci-root'/>"
        "<controller type='pci' index='1' model='pci-bridge'/>"
        "<controller type='sata' index='0'/><controller type='ide' index='0'/>"
        "<controller type='fdc' index='0'/>"
        "<input type='tablet' bus='usb'/>");
}

/* Every NIC QEMU emulates on x86, under libvirt's names. */
static VdDomainDef *
def_nics(void)
{
    static const char *const models[] = {
        "pcnet", "ne2k_pci", "i82559er",      "vmxnet3",
        "tulip", "i82551",   "e1000-82545em", "virtio-transitional",
        NULL};
    g_autoptr(GString) devices = g_string_new(NULL);
    for (guint i = 0; models[i]; i++)
        g_string_append_printf(devices,
                               "<interface type='user'><mac address='52:54:00:00:00:%02x'/>"
                               "<model type='%s'/></interface>",
                               i, models[i]);
    return def_from("pc", "", "", devices->str);
}

/* Emulated NVMe: two namespaces of nvme0 and one of nvme1. */
static VdDomainDef *
def_nvme(void)
{
    return def_from(
        "q35", "", "",
        "<controller type='nvme' index='0'/>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/virtd/images/a.qcow2'/><target dev='nvme0n1' bus='nvme'/>"
        "<serial>NVME,0001</serial><boot order='1'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/var/lib/virtd/images/b.raw'/><target dev='nvme0n2' bus='nvme'/></disk>"
        "<disk type='block' device='disk'><driver name='qemu' type='raw'/>"
        "<source dev='/dev/vg/c'/><target dev='nvme1n1'/></disk>");
}

/* <memoryBacking> shared memfd: the machine's RAM is a memfd object. */
static VdDomainDef *
def_memfd(void)
{
    return def_from("q35", "",
                    "<memoryBacking><source type='memfd'/><access mode='shared'/>"
                    "<nosharepages/><locked/></memoryBacking>",
                    "");
}

typedef struct {
    const char *name;
    VdDomainDef *(*make)(void);
    const VdHostFacts *host;
} GoldenCase;

static const GoldenCase golden_cases[] = {
    {"sysinfo", def_sysinfo, &poor_host},
    {"smbios-host", def_smbios_host, &rich_host},
    {"watchdog", def_watchdog, &poor_host},
    {"watchdog-pc", def_watchdog_pc, &poor_host},
    {"vsock", def_vsock, &rich_host},
    {"vsock-auto", def_vsock_auto, &rich_host},
    {"controllers-q35", def_controllers_q35, &poor_host},
    {"controllers-pc", def_controllers_pc, &poor_host},
    {"nics", def_nics, &poor_host},
    {"nvme", def_nvme, &poor_host},
    {"memfd", def_memfd, &poor_host},
};

static void
test_golden(gconstpointer data)
{
    const GoldenCase *c = data;
    g_autoptr(VdDomainDef) def = c->make();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = build(def, c->host, NULL, &error);
    g_assert_no_error(error);
    g_autofree char *text = vd_qemu_argv_to_string(argv);
    tgolden_check(c->name, text);
}

/* ---- beyond the goldens ---- */

static guint
argv_count(GPtrArray *argv, const char *opt, const char *needle)
{
    guint n = 0;
    for (guint i = 0; i + 1 < argv->len; i++)
        if (g_str_equal(argv->pdata[i], opt) && strstr(argv->pdata[i + 1], needle))
            n++;
    return n;
}

/* Values with commas stay one value; the uuid is the domain's. */
static void
test_sysinfo_values(void)
{
    g_autoptr(VdDomainDef) def = def_sysinfo();
    g_autoptr(GPtrArray) argv = build(def, &poor_host, NULL, NULL);
    g_assert_nonnull(argv);
    g_assert_true(targv_has(argv, "-smbios",
                            "type=0,vendor=LENOVO,version=N1,,ET,date=01/01/2021,release=1.2"));
    g_assert_true(targv_has(argv, "-smbios",
                            "type=11,value=myappname:some arbitrary data,"
                            "value=otherappname:more,, arbitrary data"));
    g_assert_true(targv_has(argv, "-fw_cfg", "name=opt/com.example/name,string=example,,value"));
    g_assert_true(
        targv_has(argv, "-fw_cfg", "name=opt/com.coreos/config,file=/etc/virtd/ign,,1.json"));
}

/* Without <smbios mode='sysinfo'> (or with 'emulate') QEMU's own tables,
 * as libvirt; the first says so in a note. */
static void
test_sysinfo_modes(void)
{
    g_autoptr(VdDomainDef) none = def_from(
        "pc", "",
        "<sysinfo type='smbios'><system><entry name='product'>X</entry></system></sysinfo>", "");
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) a1 = build(none, &poor_host, notes, NULL);
    g_assert_nonnull(a1);
    g_assert_cmpuint(argv_count(a1, "-smbios", "type="), ==, 0);
    g_assert_cmpuint(notes->len, ==, 1);
    g_assert_nonnull(strstr(notes->pdata[0], "mode='sysinfo'"));

    g_autoptr(VdDomainDef) emulate = def_from(
        "pc", "<smbios mode='emulate'/>",
        "<sysinfo type='smbios'><system><entry name='product'>X</entry></system></sysinfo>", "");
    g_autoptr(GPtrArray) a2 = build(emulate, &poor_host, NULL, NULL);
    g_assert_cmpuint(argv_count(a2, "-smbios", "type="), ==, 0);

    /* Host mode: the host's values, never its UUID. */
    g_autoptr(VdDomainDef) host = def_smbios_host();
    g_autoptr(GPtrArray) a3 = build(host, &rich_host, NULL, NULL);
    g_assert_true(targv_has(a3, "-smbios", "type=1,manufacturer=HP,product=ProLiant DL360"));
    g_assert_cmpuint(argv_count(a3, "-smbios", "444444444444"), ==, 0);
}

/* The watchdog's action reaches QEMU; libvirt's 'dump' becomes a pause
 * with a note saying so. */
static void
test_watchdog_actions(void)
{
    static const char *const actions[][2] = {
        {"reset", "watchdog=reset"},       {"shutdown", "watchdog=shutdown"},
        {"poweroff", "watchdog=poweroff"}, {"pause", "watchdog=pause"},
        {"none", "watchdog=none"},         {"inject-nmi", "watchdog=inject-nmi"},
        {"dump", "watchdog=pause"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(actions); i++) {
        g_autofree char *dev =
            g_strdup_printf("<watchdog model='i6300esb' action='%s'/>", actions[i][0]);
        g_autoptr(VdDomainDef) def = def_from("pc", "", "", dev);
        g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) argv = build(def, &poor_host, notes, NULL);
        g_assert_nonnull(argv);
        g_assert_true(targv_has(argv, "-action", actions[i][1]));
        g_assert_cmpuint(notes->len, ==, g_str_equal(actions[i][0], "dump") ? 1 : 0);
    }
    /* No action: libvirt's default, reset. */
    g_autoptr(VdDomainDef) dflt = def_from("pc", "", "", "<watchdog model='i6300esb'/>");
    g_autoptr(GPtrArray) argv = build(dflt, &poor_host, NULL, NULL);
    g_assert_true(targv_has(argv, "-action", "watchdog=reset"));
}

/* Fourteen root ports take functions 0-7 of slot 2 and 0-5 of slot 3,
 * function 0 of each slot multifunction, as libvirt lays them out. */
static void
test_root_ports(void)
{
    g_autoptr(VdDomainDef) def = def_controllers_q35();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = build(def, &poor_host, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(argv_count(argv, "-device", "\"pcie-root-port\""), ==, 14);
    g_assert_cmpuint(argv_count(argv, "-device", "\"multifunction\":true"), ==, 2);
    g_assert_cmpuint(argv_count(argv, "-device", "\"id\":\"pci.14\""), ==, 1);
    g_assert_cmpuint(argv_count(argv, "-device", "\"addr\":\"0x3.0x5\""), ==, 1);
    /* The xHCI is the USB bus: the tablet does not add another one. */
    g_assert_cmpuint(argv_count(argv, "-device", "\"id\":\"usb\""), ==, 1);
    g_assert_cmpuint(argv_count(argv, "-device", "\"p2\":15"), ==, 1);
    /* Controllers come before the devices that sit on them. */
    guint first_ctrl = 0, first_disk = 0;
    for (guint i = 0; i < argv->len; i++) {
        if (!first_ctrl && strstr(argv->pdata[i], "pcie-root-port"))
            first_ctrl = i;
        if (!first_disk && strstr(argv->pdata[i], "virtio-blk-pci"))
            first_disk = i;
    }
    g_assert_cmpuint(first_ctrl, >, 0);
    g_assert_cmpuint(first_ctrl, <, first_disk);
}

/* ---- refusals: each names what the host (or machine) lacks ---- */

typedef struct {
    const char *name;
    const char *machine;
    const char *top; /* after <os> */
    const char *devices;
    const VdHostFacts *host;
    VdErrorCode code;
    const char *message;
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"sev", "q35", "<launchSecurity type='sev'><policy>0x07</policy></launchSecurity>", "",
     &poor_host, VD_ERROR_UNSUPPORTED,
     "needs AMD SEV on the host: this host has none (no /dev/sev"},
    {"sev-snp", "q35", "<launchSecurity type='sev-snp'/>", "", &poor_host, VD_ERROR_UNSUPPORTED,
     "needs AMD SEV on the host"},
    {"sev-tcg", "q35", "<launchSecurity type='sev'/>", "", &rich_host, VD_ERROR_UNSUPPORTED,
     "needs KVM"},
    {"tdx", "q35", "<launchSecurity type='tdx'><quoteGenerationService/></launchSecurity>", "",
     &poor_host, VD_ERROR_UNSUPPORTED, "needs Intel TDX on the host: this host has none"},
    {"s390-pv", "q35", "<launchSecurity type='s390-pv'/>", "", &rich_host, VD_ERROR_UNSUPPORTED,
     "needs an s390x host"},
    {"hostdev-pci", "q35", "",
     "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
     "<address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/></source></hostdev>",
     &poor_host, VD_ERROR_UNSUPPORTED, "needs VFIO: this host has no /dev/vfio/vfio"},
    {"hostdev-pci-vfio", "q35", "", "<hostdev mode='subsystem' type='pci'/>", &rich_host,
     VD_ERROR_UNSUPPORTED, "not supported by virtd yet, although this host has VFIO"},
    {"hostdev-mdev", "q35", "", "<hostdev mode='subsystem' type='mdev' model='vfio-pci'/>",
     &poor_host, VD_ERROR_UNSUPPORTED, "<hostdev type='mdev'> needs VFIO"},
    {"hostdev-usb", "q35", "",
     "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
     "<product id='0xbeef'/></source></hostdev>",
     &rich_host, VD_ERROR_UNSUPPORTED, "USB passthrough"},
    {"gl", "q35", "", "<graphics type='spice'><gl enable='yes'/></graphics>", &poor_host,
     VD_ERROR_UNSUPPORTED, "needs a render node (/dev/dri/renderD*)"},
    {"egl-headless", "q35", "", "<graphics type='egl-headless'/>", &poor_host, VD_ERROR_UNSUPPORTED,
     "<graphics type='egl-headless'> needs a render node"},
    {"gl-present", "q35", "", "<graphics type='egl-headless'/>", &rich_host, VD_ERROR_UNSUPPORTED,
     "not supported by virtd yet, although this host has a render node"},
    {"accel3d", "q35", "",
     "<video><model type='virtio' heads='1'><acceleration accel3d='yes'/></model></video>",
     &poor_host, VD_ERROR_UNSUPPORTED,
     "<video><model><acceleration accel3d='yes'> needs a render node"},
    {"vsock", "q35", "", "<vsock model='virtio'><cid auto='yes'/></vsock>", &poor_host,
     VD_ERROR_UNSUPPORTED,
     "vsock> needs /dev/vhost-vsock, which this host lacks: load the vhost_vsock module "
     "(modprobe vhost_vsock)"},
    {"smbios-host", "pc", "", "", &poor_host, VD_ERROR_UNSUPPORTED,
     "/sys/class/dmi/id cannot be read"},
    {"itco-pc", "pc", "", "<watchdog model='itco'/>", &poor_host, VD_ERROR_UNSUPPORTED,
     "watchdog of q35's ICH9 chipset"},
    {"watchdog-actions", "pc", "",
     "<watchdog model='i6300esb' action='pause'/><watchdog model='ib700' action='reset'/>",
     &poor_host, VD_ERROR_UNSUPPORTED, "different actions"},
    {"uuid", "pc",
     "<sysinfo type='smbios'><system><entry name='uuid'>00000000-0000-0000-0000-000000000001"
     "</entry></system></sysinfo>",
     "", &poor_host, VD_ERROR_INVALID_ARG, "differs from the domain's <uuid>"},
    {"root-port-pc", "pc", "", RP, &poor_host, VD_ERROR_UNSUPPORTED,
     "needs a PCI Express machine: use machine q35"},
    {"usb-none", "pc", "", "<controller type='usb' model='none'/><input type='tablet' bus='usb'/>",
     &poor_host, VD_ERROR_UNSUPPORTED, "model='none'> says the machine has none"},
    {"ide-q35", "q35", "", "<controller type='ide' index='0'/>", &poor_host, VD_ERROR_UNSUPPORTED,
     "q35 has no IDE controller: use bus='sata'"},
    {"nvme-cdrom", "q35", "",
     "<disk type='file' device='cdrom'><target dev='nvme0n1' bus='nvme'/></disk>", &poor_host,
     VD_ERROR_UNSUPPORTED, "a cdrom cannot be on bus 'nvme'"},
    {"nvme-target", "q35", "",
     "<disk type='file'><source file='/a'/><target dev='nvme0' bus='nvme'/></disk>", &poor_host,
     VD_ERROR_INVALID_ARG, "invalid disk target 'nvme0'"},
    {"hugepages", "pc", "<memoryBacking><hugepages/></memoryBacking>", "", &poor_host,
     VD_ERROR_UNSUPPORTED,
     "<memoryBacking><hugepages> needs 256 MiB of free 2048 KiB huge pages: this host has 0 MiB "
     "free (/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)"},
    {"hugepages-1g", "pc",
     "<memoryBacking><hugepages><page size='1' unit='GiB'/></hugepages></memoryBacking>", "",
     &poor_host, VD_ERROR_UNSUPPORTED, "needs 256 MiB of free 1048576 KiB huge pages"},
    {"usb-model", "pc", "", "<controller type='usb' model='musb'/>", &poor_host,
     VD_ERROR_UNSUPPORTED, "model='musb'> is not supported: use qemu-xhci"},
};

static void
test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    const char *os = g_str_equal(c->name, "smbios-host") ? "<smbios mode='host'/>"
                     : g_str_equal(c->name, "uuid")      ? "<smbios mode='sysinfo'/>"
                                                         : "";
    g_autoptr(VdDomainDef) def = def_from(c->machine, os, c->top, c->devices);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = build(def, c->host, NULL, &error);
    targv_assert_refused(argv, error, c->code, c->message);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(golden_cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/qemu/argv-platform/golden/%s", golden_cases[i].name);
        g_test_add_data_func(path, &golden_cases[i], test_golden);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/qemu/argv-platform/refused/%s", error_cases[i].name);
        g_test_add_data_func(path, &error_cases[i], test_error);
    }
    g_test_add_func("/qemu/argv-platform/sysinfo-values", test_sysinfo_values);
    g_test_add_func("/qemu/argv-platform/sysinfo-modes", test_sysinfo_modes);
    g_test_add_func("/qemu/argv-platform/watchdog-actions", test_watchdog_actions);
    g_test_add_func("/qemu/argv-platform/root-ports", test_root_ports);
    return g_test_run();
}
