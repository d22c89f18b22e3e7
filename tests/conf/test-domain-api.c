/* Tests of the conf/ API beyond what golden files can show: generated
 * values (uuid, MAC), definitions built and changed in code the way the
 * daemon does it, LIVE/SECURE formatting, the unsupported classification
 * and check_startable's refusals, and the enum string tables.
 */
#include <string.h>

#include <glib.h>

#include "conf-test-util.h"
#include "conf/domain-def.h"
#include "conf/domain-platform.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

static void
assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        g_test_message("'%s' not found in:\n%s", needle, haystack);
    g_assert_nonnull(strstr(haystack, needle));
}

static void
assert_lacks(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle))
        g_test_message("'%s' unexpectedly found in:\n%s", needle, haystack);
    g_assert_null(strstr(haystack, needle));
}

/* ---- enums ---- */

#define CHECK_ENUM(snake, last)                                                                    \
    do {                                                                                           \
        for (int v_ = 0; v_ < (int)(last); v_++) {                                                 \
            const char *s_ = vd_##snake##_to_string(v_);                                           \
            if (s_)                                                                                \
                g_assert_cmpint(vd_##snake##_from_string(s_), ==, v_);                             \
        }                                                                                          \
        g_assert_null(vd_##snake##_to_string(last));                                               \
        g_assert_cmpint(vd_##snake##_from_string("no-such-value"), ==, -1);                        \
        g_assert_cmpint(vd_##snake##_from_string(NULL), ==, -1);                                   \
    } while (0)

static void
test_enums(void)
{
    g_autofree char *buses = vd_disk_bus_list();

    CHECK_ENUM(virt_type, VD_VIRT_LAST);
    CHECK_ENUM(lifecycle_action, VD_LIFECYCLE_LAST);
    CHECK_ENUM(cpu_mode, VD_CPU_MODE_LAST);
    CHECK_ENUM(boot_dev, VD_BOOT_LAST);
    CHECK_ENUM(disk_type, VD_DISK_TYPE_LAST);
    CHECK_ENUM(disk_device, VD_DISK_DEVICE_LAST);
    CHECK_ENUM(disk_bus, VD_DISK_BUS_LAST);
    CHECK_ENUM(disk_format, VD_DISK_FORMAT_LAST);
    CHECK_ENUM(chr_type, VD_CHR_LAST);
    CHECK_ENUM(net_type, VD_NET_LAST);
    CHECK_ENUM(graphics_type, VD_GRAPHICS_LAST);
    CHECK_ENUM(video_model, VD_VIDEO_LAST);
    CHECK_ENUM(input_type, VD_INPUT_LAST);
    CHECK_ENUM(input_bus, VD_INPUT_BUS_LAST);

    g_assert_cmpstr(vd_lifecycle_action_to_string(VD_LIFECYCLE_RENAME_RESTART), ==,
                    "rename-restart");
    g_assert_cmpstr(vd_lifecycle_action_to_string(VD_LIFECYCLE_COREDUMP_DESTROY), ==,
                    "coredump-destroy");
    g_assert_cmpstr(vd_cpu_mode_to_string(VD_CPU_MODE_HOST_PASSTHROUGH), ==, "host-passthrough");
    g_assert_cmpstr(vd_boot_dev_to_string(VD_BOOT_HD), ==, "hd");
    g_assert_cmpstr(vd_graphics_type_to_string(VD_GRAPHICS_EGL_HEADLESS), ==, "egl-headless");
    g_assert_cmpstr(vd_chr_type_to_string(VD_CHR_SPICEVMC), ==, "spicevmc");
    g_assert_null(vd_disk_format_to_string(VD_DISK_FORMAT_NONE));
    g_assert_cmpstr(vd_disk_format_to_string(VD_DISK_FORMAT_QCOW2), ==, "qcow2");
    g_assert_cmpint(vd_virt_type_from_string("kvm"), ==, VD_VIRT_KVM);
    g_assert_cmpstr(buses, ==, "virtio, sata, scsi, ide, usb, fdc, nvme");
    g_assert_cmpint(vd_disk_bus_for_target("vdb"), ==, VD_DISK_BUS_VIRTIO);
    g_assert_cmpint(vd_disk_bus_for_target("sdz"), ==, VD_DISK_BUS_SATA);
    g_assert_cmpint(vd_disk_bus_for_target("hdc"), ==, VD_DISK_BUS_IDE);
    g_assert_cmpint(vd_disk_bus_for_target("fda"), ==, VD_DISK_BUS_FDC);
    g_assert_cmpint(vd_disk_bus_for_target("uba"), ==, VD_DISK_BUS_USB);
    g_assert_cmpint(vd_disk_bus_for_target("xvda"), ==, VD_DISK_BUS_LAST);
    g_assert_cmpint(vd_disk_bus_for_target(NULL), ==, VD_DISK_BUS_LAST);
}

/* ---- generated values ---- */

static void
test_generated_values(void)
{
    g_autoptr(VdDomainDef) def = tconf_define("<domain type='kvm'><name>gen</name>"
                                              "<memory>65536</memory><devices>"
                                              "<interface type='user'/><interface type='user'/>"
                                              "</devices></domain>");
    g_autoptr(VdDomainDef) again = NULL;
    VdNetDef *n0 = g_ptr_array_index(def->interfaces, 0);
    VdNetDef *n1 = g_ptr_array_index(def->interfaces, 1);
    char canon[37];
    char saved_uuid[37];
    g_autofree char *mac0 = g_strdup(n0->mac);
    g_autofree char *out = NULL;

    g_assert_true(vd_uuid_parse(def->uuid, canon));
    g_assert_cmpstr(canon, ==, def->uuid);
    g_assert_true(g_str_has_prefix(n0->mac, "52:54:00:"));
    g_assert_cmpuint(strlen(n0->mac), ==, 17);
    g_assert_cmpstr(n0->mac, !=, n1->mac);
    g_assert_cmpuint(def->current_memory_kib, ==, 65536);
    g_assert_cmpuint(def->vcpus, ==, 1);
    g_assert_cmpuint(def->vcpus_current, ==, 1);
    g_assert_cmpstr(def->os.machine, ==, "pc");
    g_assert_nonnull(def->memballoon);

    /* Idempotent: nothing is regenerated. */
    memcpy(saved_uuid, def->uuid, sizeof(saved_uuid));
    vd_domain_def_apply_defaults(def);
    g_assert_cmpstr(def->uuid, ==, saved_uuid);
    g_assert_cmpstr(n0->mac, ==, mac0);
    g_assert_cmpuint(def->interfaces->len, ==, 2);

    /* And they are stored: a re-read keeps them. */
    out = vd_domain_def_format(def, 0);
    again = tconf_define(out);
    g_assert_cmpstr(again->uuid, ==, def->uuid);
    g_assert_cmpstr(((VdNetDef *)g_ptr_array_index(again->interfaces, 0))->mac, ==, mac0);
}

/* ---- definitions built in code ---- */

static void
test_built_from_model(void)
{
    g_autoptr(VdDomainDef) def = vd_domain_def_new();
    g_autoptr(VdDomainDef) back = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    g_autofree char *empty = NULL;
    VdDiskDef *disk;
    VdChrDef *serial;
    VdGraphicsDef *vnc;

    /* Formats even when empty. */
    empty = vd_domain_def_format(def, 0);
    assert_contains(empty, "<domain type='kvm'>");

    def->virt_type = VD_VIRT_QEMU;
    def->name = g_strdup("built");
    def->memory_kib = 262144;
    def->vcpus = 2;
    def->os.kernel = g_strdup("/boot/vmlinuz");
    def->os.cmdline = g_strdup("console=ttyS0");
    def->emulator = g_strdup("/usr/bin/qemu-system-x86_64");

    disk = vd_disk_def_new();
    disk->target_dev = g_strdup("vda");
    disk->source_file = g_strdup("/img/built.qcow2");
    disk->format = VD_DISK_FORMAT_QCOW2;
    disk->boot_order = 1;
    g_ptr_array_add(def->disks, disk);
    g_ptr_array_add(def->interfaces, vd_net_def_new(VD_NET_USER));
    serial = vd_chr_def_new(VD_CHR_PTY);
    g_ptr_array_add(def->serials, serial);
    vnc = vd_graphics_def_new(VD_GRAPHICS_VNC);
    vnc->passwd = g_strdup("pw");
    g_ptr_array_add(def->graphics, vnc);
    g_ptr_array_add(def->rngs, vd_rng_def_new(NULL));
    g_ptr_array_add(def->panics, vd_panic_def_new(NULL));

    vd_domain_def_apply_defaults(def);
    g_assert_true(vd_domain_def_validate(def, &err));
    g_assert_no_error(err);
    g_assert_true(vd_domain_def_check_startable(def, &err));
    g_assert_no_error(err);
    g_assert_cmpint(disk->bus, ==, VD_DISK_BUS_VIRTIO);
    g_assert_cmpuint(def->consoles->len, ==, 1);
    g_assert_cmpuint(def->videos->len, ==, 1);
    g_assert_cmpuint(def->inputs->len, ==, 2);

    out = vd_domain_def_format(def, VD_DOMAIN_FORMAT_SECURE);
    assert_contains(out, "<driver name='qemu' type='qcow2'/>");
    assert_contains(out, "<source file='/img/built.qcow2'/>");
    assert_contains(out, "<target dev='vda' bus='virtio'/>");
    assert_contains(out, "<boot order='1'/>");
    assert_contains(out, "<kernel>/boot/vmlinuz</kernel>");
    assert_contains(out, "passwd='pw'");
    assert_contains(out, "<target type='serial' port='0'/>");
    assert_contains(out, "<backend model='random'>/dev/urandom</backend>");
    assert_contains(out, "<panic model='isa'/>");
    assert_contains(out, "<emulator>/usr/bin/qemu-system-x86_64</emulator>");

    back = tconf_define(out);
    g_assert_cmpstr(back->name, ==, "built");
    g_assert_cmpuint(back->memory_kib, ==, 262144);
    g_assert_cmpuint(back->disks->len, ==, 1);
    g_assert_cmpstr(((VdDiskDef *)g_ptr_array_index(back->disks, 0))->source_file, ==,
                    "/img/built.qcow2");
    g_assert_cmpstr(((VdGraphicsDef *)g_ptr_array_index(back->graphics, 0))->passwd, ==, "pw");
    g_assert_cmpuint(back->unsupported->len, ==, 0);
}

/* ---- changes made by the daemon show in format ---- */

static const char *edit_xml =
    "<domain type='kvm'>\n"
    "  <name>edit</name>\n"
    "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3f00</uuid>\n"
    "  <memory unit='GiB'>2</memory>\n"
    "  <vcpu>2</vcpu>\n"
    "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>\n"
    "  <features><acpi/><apic eoi='on'/></features>\n"
    "  <devices>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
    "      <source file='/img/root.qcow2'/>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "    </disk>\n"
    "    <disk type='file' device='disk'>\n"
    "      <source file='/img/data.img'/>\n"
    "      <target dev='vdb' bus='virtio'/>\n"
    "      <iotune><total_iops_sec>100</total_iops_sec></iotune>\n"
    "    </disk>\n"
    "    <disk type='file' device='cdrom'>\n"
    "      <source file='/iso/a.iso'/>\n"
    "      <target dev='sda' bus='sata'/>\n"
    "    </disk>\n"
    "    <interface type='user'><mac address='52:54:00:00:00:0a'/>"
    "<link state='up'/></interface>\n"
    "  </devices>\n"
    "</domain>\n";

static void
test_changes_reflected(void)
{
    g_autoptr(VdDomainDef) def = tconf_define(edit_xml);
    g_autofree char *out = NULL;
    VdDiskDef *cdrom = g_ptr_array_index(def->disks, 2);
    VdDiskDef *added = vd_disk_def_new();
    gboolean iotune_listed = FALSE;

    for (guint i = 0; i < def->unsupported->len; i++) {
        VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        iotune_listed |= g_str_equal(u->path, "/domain/devices/disk/iotune");
    }
    g_assert_true(iotune_listed);

    g_free(def->name);
    def->name = g_strdup("renamed");
    def->current_memory_kib = 1048576; /* setmem */
    def->vcpus = 4;                    /* setvcpus --maximum --config */
    def->vcpus_current = 3;
    def->features.acpi = FALSE;
    def->features.pae = TRUE;
    g_free(cdrom->source_file); /* change-media --eject */
    cdrom->source_file = NULL;
    g_ptr_array_remove_index(def->disks, 1); /* detach-disk vdb */
    added->target_dev = g_strdup("vdc");     /* attach-disk */
    added->source_file = g_strdup("/img/new.img");
    g_ptr_array_add(def->disks, added);
    g_ptr_array_remove_index(def->interfaces, 0);
    def->os.nboot = 0;
    vd_domain_def_apply_defaults(def);
    g_assert_true(vd_domain_def_validate(def, NULL));

    out = vd_domain_def_format(def, 0);
    assert_contains(out, "<name>renamed</name>");
    assert_contains(out, "<memory unit='KiB'>2097152</memory>");
    assert_contains(out, "<currentMemory unit='KiB'>1048576</currentMemory>");
    assert_contains(out, "<vcpu current='3'>4</vcpu>");
    assert_lacks(out, "<acpi/>");
    assert_contains(out, "<apic eoi='on'/>");
    assert_contains(out, "<pae/>");
    assert_lacks(out, "<boot dev=");
    /* the kept device keeps what virtd does not model */
    assert_contains(out, "<driver name='qemu' type='qcow2' discard='unmap'/>");
    assert_lacks(out, "/img/data.img");
    assert_lacks(out, "iotune");
    assert_lacks(out, "/iso/a.iso");
    assert_contains(out, "<target dev='vdc' bus='virtio'/>");
    assert_lacks(out, "<interface");
    assert_lacks(out, "<link");

    /* The unsupported list follows the devices once refreshed. */
    vd_domain_def_update_unsupported(def);
    for (guint i = 0; i < def->unsupported->len; i++) {
        VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_assert_cmpstr(u->path, !=, "/domain/devices/disk/iotune");
        g_assert_cmpstr(u->path, !=, "/domain/devices/interface/link");
    }
}

/* ---- LIVE and SECURE ---- */

static void
test_live_secure(void)
{
    g_autoptr(VdDomainDef) def =
        tconf_define("<domain type='qemu'><name>live</name><memory>65536</memory><devices>"
                     "<interface type='user'><mac address='52:54:00:00:00:0b'/></interface>"
                     "<serial type='pty'/>"
                     "<graphics type='vnc' autoport='yes' passwd='topsecret'/>"
                     "</devices></domain>");
    g_autoptr(VdDomainDef) reread = NULL;
    g_autofree char *inactive = NULL;
    g_autofree char *live = NULL;
    g_autofree char *secure = NULL;
    VdGraphicsDef *vnc = g_ptr_array_index(def->graphics, 0);
    VdChrDef *serial = g_ptr_array_index(def->serials, 0);
    VdNetDef *net = g_ptr_array_index(def->interfaces, 0);

    /* What the daemon sets while the domain runs. */
    def->id = 7;
    vnc->port = 5903;
    serial->path = g_strdup("/dev/pts/4"); /* console 0 mirrors it */
    net->target_dev = g_strdup("vnet0");

    inactive = vd_domain_def_format(def, VD_DOMAIN_FORMAT_INACTIVE);
    assert_contains(inactive, "<domain type='qemu'>");
    assert_contains(inactive, " port='-1'");
    assert_contains(inactive, " autoport='yes'");
    assert_lacks(inactive, "/dev/pts/4");
    assert_lacks(inactive, "vnet0");
    assert_lacks(inactive, "passwd");

    live = vd_domain_def_format(def, VD_DOMAIN_FORMAT_LIVE);
    assert_contains(live, "<domain type='qemu' id='7'>");
    assert_contains(live, " port='5903'");
    assert_contains(live, " autoport='yes'");
    assert_contains(live, "<serial type='pty' tty='/dev/pts/4'>");
    assert_contains(live, "<console type='pty' tty='/dev/pts/4'>");
    assert_contains(live, "<source path='/dev/pts/4'/>");
    assert_contains(live, "<target dev='vnet0'/>");
    assert_lacks(live, "passwd");

    secure = vd_domain_def_format(def, VD_DOMAIN_FORMAT_LIVE | VD_DOMAIN_FORMAT_SECURE);
    assert_contains(secure, "passwd='topsecret'");

    /* The daemon's status file reads back with the live values. */
    reread = tconf_define(secure);
    g_assert_cmpint(reread->id, ==, 7);
    g_assert_cmpstr(((VdChrDef *)g_ptr_array_index(reread->serials, 0))->path, ==, "/dev/pts/4");
    g_assert_cmpstr(((VdNetDef *)g_ptr_array_index(reread->interfaces, 0))->target_dev, ==, "vnet0");
    g_assert_cmpuint(reread->unsupported->len, ==, 0);
}

/* ---- unsupported elements ---- */

static const char *hostdev_xml =
    "<domain type='kvm'>\n"
    "  <name>pci1</name>\n"
    "  <memory>65536</memory>\n"
    "  <devices>\n"
    "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
    "      <source><address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/></source>\n"
    "    </hostdev>\n"
    "  </devices>\n"
    "</domain>\n";

static void
test_hostdev(void)
{
    g_autoptr(VdDomainDef) def = tconf_define(hostdev_xml);
    g_autoptr(GPtrArray) warnings = vd_domain_def_warnings(def);
    g_autoptr(GError) err = NULL;
    g_autofree char *out = vd_domain_def_format(def, 0);

    g_assert_cmpuint(warnings->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(warnings, 0), ==,
                    "element <hostdev type='pci'> asks for host device passthrough, which virtd "
                    "does not do yet: the domain cannot start until it is removed");
    assert_contains(out, "<hostdev mode='subsystem' type='pci' managed='yes'>");
    assert_contains(out, "<address domain='0x0000' bus='0x06' slot='0x02' "
                         "function='0x0'/>");
    /* Typed: start refuses it naming what the host lacks (VFIO), in the
     * argv builder (tests/qemu/test-argv-platform.c), not here. */
    g_assert_true(vd_domain_def_check_startable(def, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(def->platform->hostdevs->len, ==, 1);
    const VdHostdevDef *h = g_ptr_array_index(def->platform->hostdevs, 0);
    g_assert_cmpstr(h->type, ==, "pci");
    g_assert_cmpstr(h->mode, ==, "subsystem");
}

static gboolean
has_unsupported(const VdDomainDef *def, const char *path, gboolean *visible)
{
    for (guint i = 0; i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        if (g_str_equal(u->path, path)) {
            *visible = u->guest_visible;
            return TRUE;
        }
    }
    return FALSE;
}

static void
test_classification(void)
{
    static const struct {
        const char *path;
        int visible; /* -1: not listed */
    } expect[] = {
        {"/domain/metadata", -1},
        {"/domain/seclabel", 0},
        {"/domain/pm", -1},
        {"/domain/on_lockfailure", 0},
        {"/domain/vcpu/@cpuset", 0},
        {"/domain/cputune/emulator_period", 0}, /* vcpupin, shares ...: TYPED */
        {"/domain/memoryBacking", -1},
        {"/domain/sysinfo", -1},
        {"/domain/os/loader/@secure", -1},
        {"/domain/os/smbios", -1},
        {"/domain/features/hyperv", -1},
        {"/domain/features/kvm/hint-dedicated", 1},
        {"/domain/features/smm", -1},
        {"/domain/cpu/feature", -1},
        {"/domain/cpu/numa", -1},
        {"/domain/clock/timer[@name='hpet']", -1},
        {"/domain/clock/timer", -1},
        {"/domain/clock/timer/@mode", 0},
        {"/domain/devices/controller", -1},
        {"/domain/devices/controller[@type='ccid']", 1},
        {"/domain/devices/disk/address", 0},
        {"/domain/devices/disk/driver/@io", 0},
        {"/domain/devices/disk/driver/@queues", 1},
        {"/domain/devices/interface/driver", 1},
        {"/domain/devices/interface/bandwidth", 0},
        {"/domain/devices/graphics/@keymap", 0},
        {"/domain/devices/rng/backend/@model", 1},
        {"/domain/devices/filesystem", 1},
        {"/domain/devices/tpm", -1}, /* typed: domain-tpm.c */
        {"/domain/devices/smartcard", 1},
        {"/domain/devices/lease", 0},
        {"/domain/launchSecurity", -1},
        {"/domain/qemu:commandline", 1},
        {"/domain/{urn:x}name", 1},
    };
    g_autoptr(VdDomainDef) def = NULL;
    g_autoptr(GError) err = NULL;

    def = vd_domain_def_parse(
        "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
        "<name>c</name><name xmlns='urn:x'>foreign</name>"
        "<metadata><x:y xmlns:x='urn:y'/></metadata>"
        "<memory>65536</memory><memoryBacking><hugepages/></memoryBacking>"
        "<vcpu cpuset='0'>1</vcpu><cputune><shares>10</shares><emulator_period>1000</emulator_period></cputune>"
        "<sysinfo type='smbios'/>"
        "<os><type>hvm</type><loader secure='yes' readonly='yes' type='pflash'>/x.fd</loader>"
        "<smbios mode='sysinfo'/></os>"
        "<features><hyperv/><smm/><kvm><hint-dedicated state='on'/></kvm></features>"
        "<cpu mode='host-model'><feature name='x' policy='require'/><numa/></cpu>"
        "<clock offset='utc'><timer name='hpet' present='no'/><timer name='tsc' mode='native'/></clock>"
        "<on_lockfailure>poweroff</on_lockfailure><pm/>"
        "<devices>"
        "<controller type='usb'/><controller type='virtio-serial'/><controller type='ccid'/>"
        "<disk type='file' device='disk'><driver name='qemu' io='native' queues='4'/>"
        "<source file='/a'/><target dev='vda'/><address type='pci'/></disk>"
        "<interface type='user'><driver queues='2'/><bandwidth/></interface>"
        "<graphics type='vnc' keymap='de'/>"
        "<rng model='virtio'><backend model='egd' type='tcp'/></rng>"
        "<filesystem/><tpm><backend type='emulator'/></tpm><smartcard/><lease/>"
        "</devices>"
        "<seclabel type='dynamic' model='selinux'/><seclabel type='none'/>"
        "<launchSecurity type='sev'/><qemu:commandline/>"
        "</domain>",
        -1, &err);
    g_assert_no_error(err);
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++) {
        gboolean visible = FALSE;
        gboolean listed = has_unsupported(def, expect[i].path, &visible);

        if (listed != (expect[i].visible >= 0))
            g_test_message("%s: listed=%d", expect[i].path, listed);
        g_assert_cmpint(listed, ==, expect[i].visible >= 0);
        if (listed)
            g_assert_cmpint(visible, ==, expect[i].visible);
    }
    /* The typed parts never show up. */
    for (guint i = 0; i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_assert_cmpstr(u->path, !=, "/domain/os/loader/@readonly");
        g_assert_cmpstr(u->path, !=, "/domain/devices/disk/driver/@name");
        g_assert_cmpstr(u->path, !=, "/domain/seclabel[@type='none']");
    }
}

/* ---- check_startable on typed values ---- */

static void
test_startable_refusals(void)
{
    static const struct {
        const char *xml;
        const char *message;
    } cases[] = {
        {"<devices><interface type='network'><source network='default' portgroup='pg'/>"
         "</interface></devices>",
         "unsupported configuration: <interface><source portgroup='pg'> is not supported yet: "
         "remove the portgroup attribute"},
        {"<devices><graphics type='sdl'/></devices>",
         "unsupported configuration: graphics type 'sdl' is not supported yet: use "
         "<graphics type='vnc'> or <graphics type='spice'>"},
        /* SPICE (issue 10): TLS asked for, or what needs SPICE without it */
        {"<devices><graphics type='spice' autoport='yes' tlsPort='5902'/></devices>",
         "unsupported configuration: TLS for SPICE is not supported yet: remove tlsPort or set "
         "defaultMode='insecure'"},
        {"<devices><graphics type='spice' autoport='yes' defaultMode='secure'/></devices>",
         "unsupported configuration: TLS for SPICE is not supported yet: remove tlsPort or set "
         "defaultMode='insecure' (and no <channel mode='secure'>)"},
        {"<devices><graphics type='spice' autoport='yes'><channel name='main' mode='secure'/>"
         "</graphics></devices>",
         "unsupported configuration: TLS for SPICE is not supported yet: remove tlsPort or set "
         "defaultMode='insecure' (and no <channel mode='secure'>)"},
        {"<devices><graphics type='spice' port='0' autoport='no'/></devices>",
         "unsupported configuration: <graphics type='spice' port='0'> is out of range: use a "
         "port from 1 to 65535, or autoport='yes'"},
        {"<devices><graphics type='spice'/><graphics type='spice'/></devices>",
         "unsupported configuration: more than one <graphics type='spice'>: QEMU serves one of "
         "each type"},
        {"<devices><redirdev bus='usb' type='spicevmc'/></devices>",
         "unsupported configuration: <redirdev type='spicevmc'> needs <graphics type='spice'>: "
         "add one or remove the redirdev"},
        {"<devices><graphics type='spice'/><redirdev bus='usb' type='tcp'>"
         "<source mode='connect' host='localhost' service='4000'/></redirdev></devices>",
         "unsupported configuration: <redirdev type='tcp'> is not supported: USB redirection "
         "runs over SPICE only; use <redirdev bus='usb' type='spicevmc'/>"},
        {"<devices><sound model='pcspk'/></devices>",
         "unsupported configuration: <sound model='pcspk'> is not supported: QEMU 7.2 has no "
         "such sound card here; use ich9, ich6, ac97, es1370, sb16 or usb"},
        {"<devices><sound model='ich9'/><audio id='1' type='pulseaudio'/></devices>",
         "unsupported configuration: <audio id='1' type='pulseaudio'> needs the host's sound "
         "system, which virtd's QEMU cannot reach (it runs outside any user session): use "
         "type='none', or type='spice' to play sound in the SPICE client"},
        {"<devices><audio id='1' type='spice'/></devices>",
         "unsupported configuration: <audio id='1' type='spice'> needs <graphics type='spice'>: "
         "add one or use type='none'"},
        {"<devices><serial type='tcp'><source mode='bind' host='0.0.0.0' service='4555'/>"
         "</serial></devices>",
         "unsupported configuration: <serial type='tcp'> is not supported yet: use pty, file or "
         "unix"},
        {"<devices><channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/>"
         "</channel></devices>",
         "unsupported configuration: <channel type='spicevmc'> needs <graphics type='spice'>: "
         "add one or remove the channel"},
        {"<devices><graphics type='spice'/><channel type='spicevmc'><target type='virtio' "
         "name='org.example.x'/></channel></devices>",
         "unsupported configuration: <channel type='spicevmc'> carries the SPICE agent only: use "
         "<target type='virtio' name='com.redhat.spice.0'/>"},
        {"<devices><serial type='spicevmc'/></devices>",
         "unsupported configuration: <serial type='spicevmc'> is not supported yet: use pty, "
         "file or unix"},
        {"<devices><disk type='network' device='disk'><source protocol='nbd' name='x'>"
         "<host name='h' port='10809'/></source><target dev='vda'/></disk></devices>",
         "unsupported configuration: disk type 'network' (disk 'vda') is not supported yet: use "
         "<disk type='file'> or <disk type='block'>"},
        {"<devices><disk type='dir' device='disk'><source dir='/srv'/><target dev='hda'/>"
         "</disk></devices>",
         "unsupported configuration: disk type 'dir' (disk 'hda') is not supported yet: use "
         "<disk type='file'> or <disk type='block'>"},
        {"<os><type machine='q35'>hvm</type></os><devices><disk type='file' device='cdrom'>"
         "<target dev='hdc'/></disk></devices>",
         "unsupported configuration: disk 'hdc' is on bus 'ide' but machine 'q35' has no IDE "
         "controller: use bus='sata'"},
        {"<on_reboot>preserve</on_reboot>",
         "unsupported configuration: <on_reboot>preserve</on_reboot> is not supported yet: "
         "use destroy or restart"},
        {"<clock offset='timezone'/>",
         "unsupported configuration: <clock offset='timezone'> without timezone=: give the "
         "zone, e.g. timezone='Europe/Paris'"},
        {"<os><type arch='i686'>hvm</type></os>",
         "unsupported configuration: architecture 'i686' in <os><type arch=> is not supported: "
         "virtd runs x86_64 guests"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='kvm'><name>s</name>"
                                               "<memory>65536</memory>%s</domain>",
                                               cases[i].xml);
        g_autoptr(VdDomainDef) def = tconf_define(xml);
        g_autoptr(GError) err = NULL;

        g_assert_false(vd_domain_def_check_startable(def, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_UNSUPPORTED);
        g_assert_cmpstr(err->message, ==, cases[i].message);
    }
}

/* ---- odds and ends of the API ---- */

static void
test_parse_edges(void)
{
    const char *xml = "<domain type='kvm'><name>len</name><memory>65536</memory></domain>"
                      "TRAILING GARBAGE";
    g_autoptr(VdDomainDef) def = NULL;
    g_autoptr(GError) err = NULL;
    gsize len = strstr(xml, "TRAILING") - xml;

    /* @len bounds the input. */
    def = vd_domain_def_new_from_xml(xml, (gssize)len, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(def->name, ==, "len");
    g_clear_pointer(&def, vd_domain_def_free);

    def = vd_domain_def_new_from_xml(xml, -1, &err);
    g_assert_null(def);
    g_assert_error(err, VD_ERROR, VD_ERROR_XML);
    assert_contains(err->message, "malformed XML at line 1");
    g_clear_error(&err);

    def = vd_domain_def_parse(NULL, -1, &err);
    g_assert_null(def);
    g_assert_error(err, VD_ERROR, VD_ERROR_XML);

    /* free functions take NULL */
    vd_domain_def_free(NULL);
    vd_disk_def_free(NULL);
    vd_chr_def_free(NULL);
    vd_net_def_free(NULL);
    vd_graphics_def_free(NULL);
    vd_video_def_free(NULL);
    vd_input_def_free(NULL);
    vd_memballoon_def_free(NULL);
    vd_rng_def_free(NULL);
    vd_panic_def_free(NULL);
}

static void
test_copy_is_deep(void)
{
    g_autoptr(VdDomainDef) def = tconf_define(edit_xml);
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    g_autofree char *before = vd_domain_def_format(def, 0);
    g_autofree char *after = NULL;

    /* Changing the copy leaves the original alone. */
    g_free(copy->name);
    copy->name = g_strdup("other");
    g_ptr_array_set_size(copy->disks, 0);
    xmlNodeSetName(xmlDocGetRootElement(copy->doc), (const xmlChar *)"mangled");
    after = vd_domain_def_format(def, 0);
    g_assert_cmpstr(before, ==, after);
}

/* attach-device fragments: one <interface>, MAC generated, alias and
 * target kept for the live definition only. */
static void
test_interface_fragment(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VdNetDef) net = vd_net_def_new_from_xml(
        "<interface type='bridge'><source bridge='br9'/><model type='virtio'/>"
        "<link state='down'/></interface>",
        -1, FALSE, &err);
    g_assert_no_error(err);
    g_assert_cmpint(net->type, ==, VD_NET_BRIDGE);
    g_assert_cmpstr(net->source, ==, "br9");
    g_assert_true(g_str_has_prefix(net->mac, "52:54:00:"));
    g_assert_false(vd_net_def_link_up(net));

    net->alias = g_strdup("net3");
    net->target_dev = g_strdup("vnet4");
    g_autofree char *inactive = vd_net_def_format(net, VD_DOMAIN_FORMAT_INACTIVE);
    g_autofree char *live = vd_net_def_format(net, VD_DOMAIN_FORMAT_LIVE);
    assert_lacks(inactive, "vnet4");
    assert_lacks(inactive, "net3");
    assert_contains(inactive, "<link state='down'/>");
    assert_contains(live, "<target dev='vnet4'/>");
    assert_contains(live, "<alias name='net3'/>");

    g_autoptr(VdNetDef) disk = vd_net_def_new_from_xml("<disk type='file'/>", -1, FALSE, &err);
    g_assert_null(disk);
    g_assert_error(err, VD_ERROR, VD_ERROR_UNSUPPORTED);
    assert_contains(err->message, "<disk>");
    g_clear_error(&err);

    g_autoptr(VdNetDef) bad = vd_net_def_new_from_xml(
        "<interface type='network'><source network='n'/><model type='spapr-vlan'/></interface>", -1,
        FALSE, &err);
    g_assert_null(bad);
    g_assert_error(err, VD_ERROR, VD_ERROR_UNSUPPORTED);
    assert_contains(err->message, "spapr-vlan");
    g_clear_error(&err);

    /* detach: a type and a MAC are enough */
    g_autoptr(VdNetDef) match = vd_net_def_new_from_xml(
        "<interface type='bridge'><mac address='52:54:00:AA:00:01'/></interface>", -1, TRUE,
        &err);
    g_assert_no_error(err);
    g_assert_cmpstr(match->mac, ==, "52:54:00:aa:00:01");
    g_assert_true(vd_net_def_has_mac_element(match));
}

/* The platform family's model (domain-platform.h): what parse reads, and
 * a copy that owns all of it. */
static void
check_platform(const VdPlatformDef *p)
{
    g_assert_cmpint(p->smbios_mode, ==, VD_SMBIOS_SYSINFO);
    g_assert_cmpuint(p->sysinfo->len, ==, 3);
    const VdSysinfoEntry *e = g_ptr_array_index(p->sysinfo, 1);
    g_assert_cmpuint(e->type, ==, 1);
    g_assert_cmpstr(e->name, ==, "product");
    g_assert_cmpstr(e->value, ==, "P,1");
    e = g_ptr_array_index(p->sysinfo, 2);
    g_assert_cmpuint(e->type, ==, 11);
    g_assert_null(e->name);
    g_assert_cmpuint(p->fwcfg->len, ==, 1);
    g_assert_cmpstr(((VdFwCfgEntry *)g_ptr_array_index(p->fwcfg, 0))->file, ==, "/f");
    g_assert_cmpuint(p->watchdogs->len, ==, 1);
    const VdWatchdogDef *w = g_ptr_array_index(p->watchdogs, 0);
    g_assert_cmpstr(w->model, ==, "itco");
    g_assert_null(w->action);
    g_assert_cmpuint(p->vsocks->len, ==, 1);
    const VdVsockDef *v = g_ptr_array_index(p->vsocks, 0);
    g_assert_false(v->auto_cid);
    g_assert_cmpuint(v->cid, ==, 42);
    g_assert_cmpuint(p->controllers->len, ==, 2);
    const VdControllerDef *c = g_ptr_array_index(p->controllers, 1);
    g_assert_cmpstr(c->type, ==, "usb");
    g_assert_cmpstr(c->model, ==, "ich9-uhci2");
    g_assert_cmpint(c->index, ==, -1);
    g_assert_cmpint(c->master_startport, ==, 2);
    g_assert_cmpuint(p->hostdevs->len, ==, 1);
    g_assert_cmpstr(p->launch_security, ==, "tdx");
    g_assert_cmpstr(p->gl_what, ==, "<video><model><acceleration accel3d='yes'>");
}

static void
test_platform_model(void)
{
    g_autoptr(VdDomainDef) def = tconf_define(
        "<domain type='qemu'><name>p</name><memory>65536</memory>"
        "<sysinfo type='smbios'><bios><entry name='vendor'>V</entry></bios>"
        "<system><entry name='product'>P,1</entry></system>"
        "<oemStrings><entry>o</entry></oemStrings></sysinfo>"
        "<sysinfo type='fwcfg'><entry name='opt/x' file='/f'/></sysinfo>"
        "<os><type>hvm</type><smbios mode='sysinfo'/></os>"
        "<devices><watchdog model='itco'/><vsock><cid address='42'/></vsock>"
        "<controller type='usb' model='ich9-ehci1'/>"
        "<controller type='usb' model='ich9-uhci2'><master startport='2'/></controller>"
        "<hostdev mode='subsystem' type='mdev'/>"
        "<video><model type='virtio'><acceleration accel3d='yes'/></model></video>"
        "</devices><launchSecurity type='tdx'/></domain>");
    check_platform(def->platform);
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    g_clear_pointer(&def, vd_domain_def_free);
    check_platform(copy->platform);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-api/enums", test_enums);
    g_test_add_func("/domain-api/generated-values", test_generated_values);
    g_test_add_func("/domain-api/built-from-model", test_built_from_model);
    g_test_add_func("/domain-api/changes-reflected", test_changes_reflected);
    g_test_add_func("/domain-api/live-secure", test_live_secure);
    g_test_add_func("/domain-api/hostdev", test_hostdev);
    g_test_add_func("/domain-api/classification", test_classification);
    g_test_add_func("/domain-api/startable-refusals", test_startable_refusals);
    g_test_add_func("/domain-api/parse-edges", test_parse_edges);
    g_test_add_func("/domain-api/copy-is-deep", test_copy_is_deep);
    g_test_add_func("/domain-api/interface-fragment", test_interface_fragment);
    g_test_add_func("/domain-api/platform-model", test_platform_model);
    return g_test_run();
}
