/* The argv builder against reviewed golden files (tests/data/argv/NAME.args,
 * one argument per line), from definitions built in C and a fixed fake
 * VdQemuCaps, so the goldens depend neither on the XML parser nor on the
 * installed QEMU. VD_REGENERATE=1 rewrites the goldens instead of
 * comparing: review the diff. Whether real QEMU accepts these command
 * lines is test-argv-qemu.c's job. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "conf/domain-cpu-ext.h"
#include "conf/domain-firmware.h"
#include "conf/domain-media.h"
#include "qemu-test-util.h"
#include "qemu/firmware-select.h"
#include "qemu/qemu-blockjob.h"
#include "qemu/qemu-command-priv.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

typedef VdDomainDef *(*DefFunc)(void);

typedef struct {
    const char *name;
    DefFunc make;
    const char *accel; /* NULL: trun_paths.accel */
} GoldenCase;

/* ---- the definitions ----------------------------------------------------------- */

static VdDomainDef *
def_minimal(void)
{
    return tdef_new("minimal", "pc");
}

static VdDomainDef *
def_kernel_boot(void)
{
    VdDomainDef *def = tdef_new("kernel", "q35");
    /* -kernel & co. take their argument verbatim: commas stay single. */
    def->os.kernel = g_strdup("/var/lib/virtd/boot/vm,linuz 6.1");
    def->os.initrd = g_strdup("/var/lib/virtd/boot/initrd,x.img");
    def->os.cmdline = g_strdup("console=ttyS0 root=/dev/vda rw,quiet panic=-1");
    def->on_reboot = VD_LIFECYCLE_DESTROY;
    tdef_add_chr(def->serials, VD_CHR_PTY, NULL);
    tdef_add_chr(def->consoles, VD_CHR_PTY, NULL)->target_type = g_strdup("serial");
    return def;
}

static VdDomainDef *
def_disks_pc(void)
{
    VdDomainDef *def = tdef_new("disks", "pc");
    VdDiskDef *d = tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda",
                                 "/var/lib/virtd/images/root.qcow2", VD_DISK_FORMAT_QCOW2);
    d->cache = g_strdup("none");
    d->serial = g_strdup("ROOT-1");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_IDE, "hda", "/var/lib/virtd/images/ide.raw",
                  VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_SATA, "sda",
                  "/var/lib/virtd/images/sata.raw", VD_DISK_FORMAT_RAW)
        ->cache = g_strdup("writethrough");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_SCSI, "sdb",
                  "/var/lib/virtd/images/scsi.qcow2", VD_DISK_FORMAT_QCOW2)
        ->cache = g_strdup("unsafe");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_USB, "sdc", "/var/lib/virtd/images/usb.raw",
                  VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_IDE, "hdc",
                  "/var/lib/virtd/iso/debian.iso", VD_DISK_FORMAT_RAW);
    def->os.boot[0] = VD_BOOT_CDROM;
    def->os.boot[1] = VD_BOOT_HD;
    def->os.nboot = 2;
    return def;
}

static VdDomainDef *
def_disks_q35(void)
{
    VdDomainDef *def = tdef_new("disks-q35", "pc-q35-7.2");
    VdDiskDef *d = tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_SATA, "sda",
                                 "/dev/vg0/guest", VD_DISK_FORMAT_NONE);
    d->type = VD_DISK_TYPE_BLOCK;
    d->boot_order = 2;
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_SATA, "sdb", NULL, VD_DISK_FORMAT_NONE)
        ->boot_order = 1;
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_SCSI, "sdc", NULL, VD_DISK_FORMAT_NONE);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb", "/srv/data.img",
                  VD_DISK_FORMAT_RAW)
        ->readonly = TRUE;
    /* <os><boot dev> is ignored when devices carry <boot order>. */
    def->os.boot[0] = VD_BOOT_HD;
    def->os.nboot = 1;
    return def;
}

static VdDomainDef *
def_serials(void)
{
    VdDomainDef *def = tdef_new("serials", "pc");
    tdef_add_chr(def->serials, VD_CHR_PTY, NULL);
    tdef_add_chr(def->serials, VD_CHR_FILE, "/var/log/guest/ttyS1.log")->log_append = TRUE;
    tdef_add_chr(def->serials, VD_CHR_UNIX, "/run/guest/ttyS2.sock")->unix_listen = TRUE;
    VdChrDef *c = tdef_add_chr(def->serials, VD_CHR_PTY, NULL);
    c->target_port = 3;
    c = tdef_add_chr(def->serials, VD_CHR_UNIX, "/run/other/serial.sock");
    c->target_type = g_strdup("pci-serial");
    tdef_add_chr(def->serials, VD_CHR_NULL, NULL)->target_type = g_strdup("usb-serial");
    /* Duplicates serial0: adds nothing. */
    tdef_add_chr(def->consoles, VD_CHR_PTY, NULL)->target_type = g_strdup("serial");
    tdef_add_chr(def->consoles, VD_CHR_PTY, NULL)->target_type = g_strdup("virtio");
    return def;
}

static VdDomainDef *
def_channels(void)
{
    VdDomainDef *def = tdef_new("agent", "q35");
    VdChrDef *c = tdef_add_chr(def->channels, VD_CHR_UNIX, NULL);
    c->target_type = g_strdup("virtio");
    c->target_name = g_strdup("org.qemu.guest_agent.0");
    c = tdef_add_chr(def->channels, VD_CHR_UNIX, "/run/app/chan.sock");
    c->unix_listen = TRUE;
    c->target_type = g_strdup("virtio");
    c->target_name = g_strdup("com.example.app");
    c = tdef_add_chr(def->channels, VD_CHR_PTY, NULL);
    c->target_name = g_strdup("com.example.pty");
    return def;
}

static VdDomainDef *
def_vnc_password(void)
{
    VdDomainDef *def = tdef_new("desktop", "q35");
    tdef_add_vnc(def, "0.0.0.0", -1, "s3cret,password=off");
    tdef_add_video(def, VD_VIDEO_VIRTIO);
    tdef_add_video(def, VD_VIDEO_QXL);
    tdef_add_input(def, VD_INPUT_TABLET, VD_INPUT_BUS_USB);
    tdef_add_input(def, VD_INPUT_MOUSE, VD_INPUT_BUS_PS2);
    tdef_add_input(def, VD_INPUT_KEYBOARD, VD_INPUT_BUS_PS2);
    return def;
}

static VdDomainDef *
def_vnc_ipv6(void)
{
    VdDomainDef *def = tdef_new("vnc6", "pc");
    VdGraphicsDef *g = tdef_add_vnc(def, "::1", 5905, NULL);
    g->websocket = 5705;
    tdef_add_video(def, VD_VIDEO_VGA)->vram_kib = 16384;
    tdef_add_input(def, VD_INPUT_KEYBOARD, VD_INPUT_BUS_VIRTIO);
    tdef_add_input(def, VD_INPUT_TABLET, VD_INPUT_BUS_VIRTIO);
    return def;
}

static VdDomainDef *
def_user_net(void)
{
    VdDomainDef *def = tdef_new("net", "pc");
    tdef_add_net(def, VD_NET_USER, "virtio", "52:54:00:12:34:56");
    tdef_add_net(def, VD_NET_USER, "e1000", "52:54:00:ab:cd:ef");
    tdef_add_net(def, VD_NET_USER, NULL, "52:54:00:00:00:01");
    tdef_add_net(def, VD_NET_BRIDGE, "e1000e", "52:54:00:00:00:02")->target_dev = g_strdup("vnet7");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/images/a.raw",
                  VD_DISK_FORMAT_RAW);
    def->os.boot[0] = VD_BOOT_NETWORK;
    def->os.boot[1] = VD_BOOT_HD;
    def->os.nboot = 2;
    def->os.bootmenu = TRUE;
    return def;
}

/* Taps handed over as descriptors: network, bridge and direct, one with
 * vhost-net, an MTU (virtio: host_mtu) and a user alias. */
static VdDomainDef *
def_tap_fds(void)
{
    VdDomainDef *def = tdef_new("taps", "q35");
    VdNetDef *n = tdef_add_net(def, VD_NET_NETWORK, "virtio", "52:54:00:00:01:01");
    n->source = g_strdup("default");
    n->mtu = 9000;
    n = tdef_add_net(def, VD_NET_BRIDGE, "e1000", "52:54:00:00:01:02");
    n->source = g_strdup("br0");
    n->alias = g_strdup("ua-lan");
    n = tdef_add_net(def, VD_NET_DIRECT, "virtio", "52:54:00:00:01:03");
    n->source = g_strdup("eth0");
    tdef_add_net(def, VD_NET_USER, "rtl8139", "52:54:00:00:01:04");
    return def;
}

static VdDomainDef *
def_cpu_tcg(void)
{
    VdDomainDef *def = tdef_new("cpu-tcg", "q35");
    def->cpu.present = TRUE;
    def->cpu.mode = VD_CPU_MODE_HOST_PASSTHROUGH;
    def->cpu.sockets = 1;
    def->cpu.cores = 2;
    def->cpu.threads = 2;
    def->vcpus = 4;
    def->vcpus_current = 2;
    def->memory_kib = 2 * 1024 * 1024;
    def->current_memory_kib = 1024 * 1024;
    def->on_reboot = VD_LIFECYCLE_DESTROY;
    return def;
}

static VdDomainDef *
def_cpu_kvm(void)
{
    VdDomainDef *def = tdef_new("cpu-kvm", "pc");
    def->virt_type = VD_VIRT_KVM;
    def->cpu.present = TRUE;
    def->cpu.mode = VD_CPU_MODE_HOST_MODEL;
    def->vcpus = 2;
    def->vcpus_current = 2;
    return def;
}

static VdDomainDef *
def_cpu_custom(void)
{
    VdDomainDef *def = tdef_new("cpu-custom", "pc");
    def->cpu.present = TRUE;
    def->cpu.mode = VD_CPU_MODE_CUSTOM;
    def->cpu.model = g_strdup("Skylake-Client-v4");
    def->cpu.sockets = 2;
    def->cpu.dies = 2;
    def->cpu.cores = 1;
    def->cpu.threads = 1;
    def->vcpus = 4;
    def->vcpus_current = 4;
    return def;
}

static VdDomainDef *
def_injection(void)
{
    VdDomainDef *def = tdef_new("x,id=evil", "pc");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/tmp/a,b\"c d\n.img",
                  VD_DISK_FORMAT_RAW);
    tdef_add_chr(def->serials, VD_CHR_FILE, "/tmp/log,append=off,path=/etc/passwd");
    VdChrDef *c = tdef_add_chr(def->channels, VD_CHR_UNIX, NULL);
    c->target_name = g_strdup("org.qemu.guest_agent.0\",\"id\":\"x");
    def->os.kernel = g_strdup("/tmp/k,initrd=/etc/shadow");
    def->os.cmdline = g_strdup("a,b -device evil");
    return def;
}

static VdDomainDef *
def_misc(void)
{
    VdDomainDef *def = tdef_new("misc", "q35");
    def->memballoon = g_new0(VdMemballoonDef, 1);
    def->memballoon->model = g_strdup("virtio");
    def->memballoon->period = 10;
    VdRngDef *rng = g_new0(VdRngDef, 1);
    rng->model = g_strdup("virtio");
    rng->backend = g_strdup("/dev/random");
    g_ptr_array_add(def->rngs, rng);
    VdPanicDef *panic = g_new0(VdPanicDef, 1);
    panic->model = g_strdup("isa");
    g_ptr_array_add(def->panics, panic);
    def->os.loader = g_strdup("/usr/share/OVMF/OVMF_CODE_4M.fd");
    def->os.loader_type = g_strdup("pflash");
    def->os.loader_readonly = TRUE;
    def->os.nvram = g_strdup("/var/lib/virtd/nvram/misc_VARS.fd");
    return def;
}

static VdDomainDef *
def_bios_rom(void)
{
    VdDomainDef *def = tdef_new("legacy", "pc-i440fx-7.2");
    def->os.loader = g_strdup("/usr/share/seabios/bios-256k.bin");
    def->clock.offset = g_strdup("localtime");
    def->features.vmport_off = TRUE;
    def->features.acpi = FALSE;
    def->os.bootmenu = TRUE;
    tdef_add_video(def, VD_VIDEO_CIRRUS);
    return def;
}

/* ---- the media family (issue 10): SPICE, sound, audio, USB redirection -------- */

/* What virt-install writes for a desktop guest: SPICE (autoport: the port
 * the daemon picked), qxl, the agent channel, two USB redirections, ich9
 * sound without <audio> (SPICE's audio then, as libvirt). */
static VdDomainDef *
def_spice(void)
{
    VdDomainDef *def = tdef_new("desktop", "q35");
    tdef_add_spice(def, NULL, 5901, NULL)->image_compression = g_strdup("off");
    tdef_add_spice_desktop(def);
    tdef_add_input(def, VD_INPUT_TABLET, VD_INPUT_BUS_USB);
    tdef_add_sound(def, "ich9");
    tdef_add_redirdev(def, "spicevmc");
    tdef_add_redirdev(def, "spicevmc");
    return def;
}

/* Every SPICE option, a password (set over QMP: argv only drops
 * disable-ticketing), IPv6, and the sound models with explicit <audio>. */
static VdDomainDef *
def_spice_options(void)
{
    VdDomainDef *def = tdef_new("spiceopts", "pc");
    VdSpiceDef *s = tdef_add_spice(def, "::1", 5930, "s3cret,disable-ticketing=on");
    ((VdGraphicsDef *)g_ptr_array_index(def->graphics, 0))->autoport = FALSE;
    s->image_compression = g_strdup("auto_glz");
    s->jpeg_compression = g_strdup("never");
    s->zlib_compression = g_strdup("always");
    s->playback_compression = 0;
    s->streaming_mode = g_strdup("filter");
    s->copypaste = 0;
    s->mouse_mode = g_strdup("client");
    s->filetransfer = 0;
    VdVideoDef *v = tdef_add_video(def, VD_VIDEO_VIRTIO);
    v->heads = 2;
    tdef_add_audio(def, 1, "none");
    tdef_add_audio(def, 2, "spice");
    VdSoundDef *snd = tdef_add_sound(def, "ich6");
    snd->codec = g_strdup("micro");
    snd->audio_id = 2;
    tdef_add_sound(def, "ac97");
    tdef_add_sound(def, "usb")->audio_id = 2;
    return def;
}

/* Sound without any display: <audio type='none'> is implied. */
static VdDomainDef *
def_sound(void)
{
    VdDomainDef *def = tdef_new("sound", "pc");
    tdef_add_sound(def, "ich9")->codec = g_strdup("output");
    tdef_add_sound(def, "es1370");
    tdef_add_sound(def, "sb16");
    return def;
}

/* Both displays at once (libvirt allows one of each): VNC's port is
 * QEMU's pick, SPICE's the daemon's. */
static VdDomainDef *
def_spice_vnc(void)
{
    VdDomainDef *def = tdef_new("both", "pc");
    tdef_add_vnc(def, NULL, -1, NULL);
    tdef_add_spice(def, "0.0.0.0", 5902, NULL)->streaming_mode = g_strdup("all");
    tdef_add_video(def, VD_VIDEO_QXL);
    tdef_add_redirdev(def, "spicevmc");
    return def;
}

/* UEFI as the daemon leaves it after selecting Debian's descriptor
 * (tests/data/firmware/usr: the files of Debian 12's ovmf) for the
 * domain: the live definition carries the loader, template and nvram. */
static VdDomainDef *
efi_selected(const char *name, const char *machine, int secure_boot, int enrolled_keys)
{
    VdDomainDef *def = tdef_new(name, machine);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autofree char *dir = g_build_filename(VD_TEST_DATA_DIR, "firmware", "usr", NULL);
    g_autoptr(GPtrArray) descs = vd_firmware_desc_load(dir);
    g_autofree char *m = vd_firmware_machine_name(machine, caps);
    g_autoptr(GError) error = NULL;

    def->os.firmware = g_strdup("efi");
    def->fw->secure_boot = secure_boot;
    def->fw->enrolled_keys = enrolled_keys;
    const VdFirmwareDesc *fw = vd_firmware_select(descs, def, m, dir, &error);
    g_assert_no_error(error);
    vd_firmware_apply(def, fw);
    def->os.nvram = g_strdup_printf("/var/lib/virtd/nvram/%s_VARS.fd", name);
    return def;
}

static VdDomainDef *
def_efi_auto(void)
{
    /* secure-boot no: 60-edk2-x86_64.json, on i440fx as well. */
    return efi_selected("efi", "pc", -1, -1);
}

static VdDomainDef *
def_efi_secure(void)
{
    /* Nothing asked on q35: the first descriptor, secure boot with
     * Microsoft's keys enrolled, which requires SMM. */
    return efi_selected("efi-sb", "q35", -1, -1);
}

static VdDomainDef *
def_efi_explicit(void)
{
    VdDomainDef *def = tdef_new("efi-own", "pc-q35-7.2");
    def->os.loader = g_strdup("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    def->os.loader_type = g_strdup("pflash");
    def->os.loader_readonly = TRUE;
    def->fw->loader_secure = 1;
    def->fw->smm = 1;
    def->os.nvram = g_strdup("/srv/vm/efi-own,VARS.fd");
    def->fw->nvram_template = g_strdup("/usr/share/OVMF/OVMF_VARS_4M.fd");
    return def;
}

static VdDomainDef *
def_efi_rom(void)
{
    VdDomainDef *def = tdef_new("rom", "q35");
    def->os.loader = g_strdup("/usr/share/qemu/bios-256k.bin");
    def->os.loader_type = g_strdup("rom");
    def->os.loader_readonly = TRUE;
    def->fw->loader_stateless = TRUE;
    def->fw->smm = 0;
    return def;
}

static const GoldenCase golden_cases[] = {
    {"minimal", def_minimal, NULL},           {"kernel-boot", def_kernel_boot, NULL},
    {"disks-pc", def_disks_pc, NULL},         {"disks-q35", def_disks_q35, NULL},
    {"serials", def_serials, NULL},           {"channels", def_channels, NULL},
    {"vnc-password", def_vnc_password, NULL}, {"vnc-ipv6", def_vnc_ipv6, NULL},
    {"user-net", def_user_net, NULL},         {"cpu-tcg", def_cpu_tcg, NULL},
    {"cpu-kvm", def_cpu_kvm, "kvm"},          {"cpu-custom", def_cpu_custom, NULL},
    {"injection", def_injection, NULL},       {"misc", def_misc, NULL},
    {"bios-rom", def_bios_rom, NULL},         {"tap-fds", def_tap_fds, NULL},
    {"efi-auto", def_efi_auto, NULL},         {"efi-secure", def_efi_secure, NULL},
    {"efi-explicit", def_efi_explicit, NULL}, {"efi-rom", def_efi_rom, NULL},
};

/* Issue 10's media family. */
static const GoldenCase media_cases[] = {
    {"spice", def_spice, NULL},
    {"spice-options", def_spice_options, NULL},
    {"spice-vnc", def_spice_vnc, NULL},
    {"sound", def_sound, NULL},
};

/* ---- running them ------------------------------------------------------------------ */

static GPtrArray *
build(const VdDomainDef *def, const VdQemuCaps *caps, const char *accel, GError **error)
{
    VdQemuRunPaths paths = trun_paths;
    /* What the daemon would hand over: descriptors from 20 up for the
     * taps, vhost-net for the first one only. */
    int fds[8], vhost[8];
    for (guint i = 0; i < G_N_ELEMENTS(fds); i++) {
        const VdNetDef *n = i < def->interfaces->len ? g_ptr_array_index(def->interfaces, i) : NULL;
        fds[i] = n && n->type != VD_NET_USER ? 20 + (int)i : -1;
        vhost[i] = i == 0 && fds[i] >= 0 ? 30 : -1;
    }
    paths.net_fds = fds;
    paths.vhost_fds = vhost;
    paths.n_net_fds = MIN(def->interfaces->len, G_N_ELEMENTS(fds));
    if (accel)
        paths.accel = accel;
    return vd_qemu_build_argv(def, caps, &paths, error);
}

static void
test_golden(gconstpointer data)
{
    const GoldenCase *c = data;
    g_autoptr(TDef) def = c->make();
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = build(def, caps, c->accel, &error);
    g_assert_no_error(error);
    g_assert_nonnull(argv);
    /* NULL-terminated for g_subprocess_newv(). */
    g_assert_null(argv->pdata[argv->len]);
    g_autofree char *text = vd_qemu_argv_to_string(argv);

    /* Deterministic: a second build is identical. */
    g_autoptr(GPtrArray) again = build(def, caps, c->accel, &error);
    g_assert_no_error(error);
    g_autofree char *text2 = vd_qemu_argv_to_string(again);
    g_assert_cmpstr(text, ==, text2);

    tgolden_check(c->name, text);
}

/* The fast boot path: the cached vmlinux replaces <kernel> on the command
 * line, and qboot replaces SeaBIOS only where vd_qemu_fast_firmware_ok()
 * says the guest cannot need the BIOS. */
static void
test_fast_boot(void)
{
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    VdQemuRunPaths paths = trun_paths;
    paths.boot_kernel = "/var/cache/virtd/kernels/abc.vmlinux";
    paths.bios = "/usr/share/qemu/qboot.rom";

    g_autoptr(TDef) plain = tdef_new("fast", "pc");
    plain->os.kernel = g_strdup("/boot/vmlinuz");
    g_assert_true(vd_qemu_fast_firmware_ok(plain));
    g_autoptr(GPtrArray) a1 = vd_qemu_build_argv(plain, caps, &paths, NULL);
    g_assert_true(targv_has(a1, "-kernel", "/var/cache/virtd/kernels/abc.vmlinux"));
    g_assert_true(targv_has(a1, "-bios", "/usr/share/qemu/qboot.rom"));

    /* Graphics need the BIOS's VGA option ROM: SeaBIOS stays. */
    g_autoptr(TDef) vnc = tdef_new("fast", "pc");
    vnc->os.kernel = g_strdup("/boot/vmlinuz");
    tdef_add_vnc(vnc, "127.0.0.1", -1, NULL);
    g_assert_false(vd_qemu_fast_firmware_ok(vnc));
    g_autoptr(GPtrArray) a2 = vd_qemu_build_argv(vnc, caps, &paths, NULL);
    g_assert_false(targv_has_opt(a2, "-bios"));
    g_assert_true(targv_has(a2, "-kernel", "/var/cache/virtd/kernels/abc.vmlinux"));

    /* q35, a boot menu, a firmware of the user's own, no kernel: no qboot. */
    g_autoptr(TDef) q35 = tdef_new("fast", "q35");
    q35->os.kernel = g_strdup("/boot/vmlinuz");
    g_assert_false(vd_qemu_fast_firmware_ok(q35));
    g_autoptr(TDef) menu = tdef_new("fast", "pc-i440fx-7.2");
    menu->os.kernel = g_strdup("/boot/vmlinuz");
    g_assert_true(vd_qemu_fast_firmware_ok(menu));
    menu->os.bootmenu = TRUE;
    g_assert_false(vd_qemu_fast_firmware_ok(menu));
    g_autoptr(TDef) own = tdef_new("fast", "pc");
    own->os.kernel = g_strdup("/boot/vmlinuz");
    own->os.loader = g_strdup("/usr/share/seabios/bios-256k.bin");
    g_assert_false(vd_qemu_fast_firmware_ok(own));
    g_autoptr(GPtrArray) a3 = vd_qemu_build_argv(own, caps, &paths, NULL);
    g_assert_true(targv_has(a3, "-bios", "/usr/share/seabios/bios-256k.bin"));
    g_autoptr(TDef) disk = tdef_new("fast", "pc");
    g_assert_false(vd_qemu_fast_firmware_ok(disk));

    /* An emulated NIC's iPXE ROM hangs qboot: SeaBIOS for e1000, qboot for virtio. */
    g_autoptr(TDef) nic = tdef_new("fast", "pc");
    nic->os.kernel = g_strdup("/boot/vmlinuz");
    VdNetDef *net = vd_net_def_new(VD_NET_USER);
    net->model = g_strdup("virtio");
    g_ptr_array_add(nic->interfaces, net);
    g_assert_true(vd_qemu_fast_firmware_ok(nic));
    g_free(net->model);
    net->model = g_strdup("e1000");
    g_assert_false(vd_qemu_fast_firmware_ok(nic));

    /* Without overrides the kernel is the user's file. */
    g_autoptr(GPtrArray) a4 = build(plain, caps, NULL, NULL);
    g_assert_true(targv_has(a4, "-kernel", "/boot/vmlinuz"));
    g_assert_false(targv_has_opt(a4, "-bios"));
}

/* Beyond the golden: the hostile values each land in exactly one
 * argument, and parse back unchanged. */
static void
test_injection_values(void)
{
    g_autoptr(TDef) def = def_injection();
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = build(def, caps, NULL, &error);
    g_assert_no_error(error);

    g_assert_true(targv_has(argv, "-name", "guest=x,,id=evil,debug-threads=on"));
    g_assert_true(targv_has(argv, "-kernel", "/tmp/k,initrd=/etc/shadow"));
    g_assert_true(targv_has(argv, "-append", "a,b -device evil"));
    /* The file's path is only the fd set's label: the daemon opens the
     * file, and QEMU writes into the descriptor (qemu-run-fds.h). */
    g_assert_true(
        targv_has(argv, "-add-fd", "fd=4,set=4,opaque=/tmp/log,,append=off,,path=/etc/passwd"));
    g_assert_true(targv_has(argv, "-chardev", "file,id=charserial0,path=/dev/fdset/4"));
    g_assert_false(targv_has(argv, "-initrd", "/etc/shadow"));

    guint blockdevs = 0, devices = 0;
    for (guint i = 0; i + 1 < argv->len; i++) {
        const char *opt = argv->pdata[i], *val = argv->pdata[i + 1];
        if (g_str_equal(opt, "-blockdev")) {
            g_autoptr(JsonParser) p = json_parser_new();
            g_assert_true(json_parser_load_from_data(p, val, -1, NULL));
            JsonObject *o = json_node_get_object(json_parser_get_root(p));
            if (json_object_has_member(o, "filename"))
                g_assert_cmpstr(json_object_get_string_member(o, "filename"), ==,
                                "/tmp/a,b\"c d\n.img");
            blockdevs++;
        } else if (g_str_equal(opt, "-device")) {
            g_autoptr(JsonParser) p = json_parser_new();
            g_assert_true(json_parser_load_from_data(p, val, -1, NULL));
            JsonObject *o = json_node_get_object(json_parser_get_root(p));
            if (g_str_equal(json_object_get_string_member(o, "driver"), "virtserialport")) {
                g_assert_cmpstr(json_object_get_string_member(o, "name"), ==,
                                "org.qemu.guest_agent.0\",\"id\":\"x");
                g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, "channel0");
            }
            devices++;
        }
    }
    g_assert_cmpuint(blockdevs, ==, 2);
    g_assert_cmpuint(devices, ==, 4); /* virtio-blk, isa-serial, virtio-serial, virtserialport */
}

/* ---- errors ---------------------------------------------------------------------- */

typedef void (*Mutate)(VdDomainDef *def, VdQemuCaps *caps);

typedef struct {
    const char *name;
    Mutate mutate;
    VdErrorCode code;
    const char *message; /* a substring of the expected message */
    const char *accel;
} ErrorCase;

static void
m_machine(VdDomainDef *def, VdQemuCaps *caps)
{
    g_free(def->os.machine);
    def->os.machine = g_strdup("virt");
}

static void
m_no_device(VdDomainDef *def, VdQemuCaps *caps)
{
    g_hash_table_remove(caps->devices, "virtio-blk-pci");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/a.img",
                  VD_DISK_FORMAT_RAW);
}

static void
m_no_kvm(VdDomainDef *def, VdQemuCaps *caps)
{
    caps->has_kvm_accel = FALSE;
}

static void
m_vnc_listen(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_vnc(def, "127.0.0.1,password=off", -1, NULL);
}

static void
m_vnc_hostname(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_vnc(def, "example.com", -1, NULL);
}

static void
m_vnc_port(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_vnc(def, NULL, 5800, NULL);
}

static void
m_spice_unpicked(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_spice(def, NULL, -1, NULL);
}

static void
m_spice_gl(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_spice(def, NULL, 5900, NULL)->gl = TRUE;
}

static void
m_spice_listen(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_spice(def, "127.0.0.1,port=1", 5900, NULL);
}

static void
m_spice_no_qxl(VdDomainDef *def, VdQemuCaps *caps)
{
    g_hash_table_remove(caps->devices, "qxl");
    tdef_add_spice(def, NULL, 5900, NULL);
}

static void
m_sound_model(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_sound(def, "pcspk");
}

static void
m_audio_host(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_audio(def, 1, "pulseaudio");
    tdef_add_sound(def, "ich9");
}

static void
m_redirdev_tcp(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_spice(def, NULL, 5900, NULL);
    tdef_add_redirdev(def, "tcp");
}

static void
m_redirdev_no_spice(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_redirdev(def, "spicevmc");
}

static void
m_cpu_model(VdDomainDef *def, VdQemuCaps *caps)
{
    def->cpu.present = TRUE;
    def->cpu.mode = VD_CPU_MODE_CUSTOM;
    def->cpu.model = g_strdup("qemu64,+vmx");
}

static void
m_topology(VdDomainDef *def, VdQemuCaps *caps)
{
    def->cpu.present = TRUE;
    def->cpu.sockets = 2;
    def->cpu.cores = 2;
    def->cpu.threads = 1;
    def->vcpus = 3;
}

static void
m_ide_q35(VdDomainDef *def, VdQemuCaps *caps)
{
    g_free(def->os.machine);
    def->os.machine = g_strdup("q35");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_IDE, "hda", "/a.img", VD_DISK_FORMAT_RAW);
}

static void
m_cdrom_virtio(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_VIRTIO, "vda", NULL, VD_DISK_FORMAT_RAW);
}

static void
m_readonly_sata(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_SATA, "sda", "/a.img", VD_DISK_FORMAT_RAW)
        ->readonly = TRUE;
}

static void
m_relative_path(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "images/a.img",
                  VD_DISK_FORMAT_RAW);
}

static void
m_bad_target(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vd\"a", "/a.img",
                  VD_DISK_FORMAT_RAW);
}

static void
m_dup_target(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/a.img",
                  VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/b.img",
                  VD_DISK_FORMAT_RAW);
}

static void
m_no_source(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", NULL, VD_DISK_FORMAT_RAW);
}

static void
m_cache(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/a.img", VD_DISK_FORMAT_RAW)
        ->cache = g_strdup("direct,evil");
}

static void
m_mac(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_net(def, VD_NET_USER, "virtio", "52:54:00:12:34:5g");
}

static void
m_net_model(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_net(def, VD_NET_USER, "spapr-vlan", NULL);
}

static void
m_serial_tcp(VdDomainDef *def, VdQemuCaps *caps)
{
    tdef_add_chr(def->serials, VD_CHR_TCP, NULL);
}

static void
m_long_socket(VdDomainDef *def, VdQemuCaps *caps)
{
    g_autofree char *dir = g_strnfill(120, 'd');
    g_autofree char *path = g_strdup_printf("/%s/s.sock", dir);
    tdef_add_chr(def->serials, VD_CHR_UNIX, path);
}

static void
m_efi_auto(VdDomainDef *def, VdQemuCaps *caps)
{
    def->os.firmware = g_strdup("efi");
}

static void
m_efi_secure_pc(VdDomainDef *def, VdQemuCaps *caps)
{
    def->os.loader = g_strdup("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    def->os.loader_type = g_strdup("pflash");
    def->fw->loader_secure = 1;
}

static void
m_efi_secure_smm_off(VdDomainDef *def, VdQemuCaps *caps)
{
    m_efi_secure_pc(def, caps);
    g_free(def->os.machine);
    def->os.machine = g_strdup("q35");
    def->fw->smm = 0;
}

static void
m_efi_secure_rom(VdDomainDef *def, VdQemuCaps *caps)
{
    m_efi_secure_smm_off(def, caps);
    def->fw->smm = -1;
    g_free(def->os.loader_type);
    def->os.loader_type = g_strdup("rom");
}

static void
m_clock(VdDomainDef *def, VdQemuCaps *caps)
{
    def->clock.offset = g_strdup("timezone");
    def->cpu_ext->clock_timezone = g_strdup("Nowhere/Atlantis");
}

static void
m_bad_name(VdDomainDef *def, VdQemuCaps *caps)
{
    g_free(def->name);
    def->name = g_strdup("a\nb");
}

static void
m_memory(VdDomainDef *def, VdQemuCaps *caps)
{
    def->memory_kib = 0;
}

static void
m_rng_backend(VdDomainDef *def, VdQemuCaps *caps)
{
    VdRngDef *rng = g_new0(VdRngDef, 1);
    rng->backend = g_strdup("/etc/passwd");
    g_ptr_array_add(def->rngs, rng);
}

static const ErrorCase error_cases[] = {
    {"machine", m_machine, VD_ERROR_UNSUPPORTED,
     "machine type 'virt' is not supported by QEMU 7.2 (supported: isapc, microvm, pc, q35, and "
     "their versioned forms such as pc-q35-7.2)",
     NULL},
    {"missing-device", m_no_device, VD_ERROR_UNSUPPORTED,
     "disk 'vda' needs QEMU device 'virtio-blk-pci', which QEMU 7.2", NULL},
    {"no-kvm", m_no_kvm, VD_ERROR_UNSUPPORTED, "built without KVM support", "kvm"},
    {"vnc-listen", m_vnc_listen, VD_ERROR_INVALID_ARG,
     "VNC listen address '127.0.0.1,password=off' is not", NULL},
    {"vnc-hostname", m_vnc_hostname, VD_ERROR_INVALID_ARG, "'example.com'", NULL},
    {"vnc-port", m_vnc_port, VD_ERROR_UNSUPPORTED, "VNC port 5800", NULL},
    {"spice-unpicked", m_spice_unpicked, VD_ERROR_INTERNAL,
     "the daemon must pick the port of an autoport SPICE display", NULL},
    {"spice-gl", m_spice_gl, VD_ERROR_UNSUPPORTED,
     "needs a GPU render node (/dev/dri/renderD*), which this host does not have", NULL},
    {"spice-listen", m_spice_listen, VD_ERROR_INVALID_ARG,
     "SPICE listen address '127.0.0.1,port=1' is not", NULL},
    {"spice-no-qxl", m_spice_no_qxl, VD_ERROR_UNSUPPORTED, "this QEMU has no SPICE support", NULL},
    {"sound-model", m_sound_model, VD_ERROR_UNSUPPORTED, "sound device 'pcspk' is not supported",
     NULL},
    {"audio-host", m_audio_host, VD_ERROR_UNSUPPORTED,
     "<audio type='pulseaudio'> needs the host's sound system", NULL},
    {"redirdev-tcp", m_redirdev_tcp, VD_ERROR_UNSUPPORTED,
     "redirdev 0: USB redirection needs type='spicevmc'", NULL},
    {"redirdev-no-spice", m_redirdev_no_spice, VD_ERROR_UNSUPPORTED, "and <graphics type='spice'>",
     NULL},
    {"cpu-model", m_cpu_model, VD_ERROR_INVALID_ARG, "invalid CPU model 'qemu64,+vmx'", NULL},
    {"topology", m_topology, VD_ERROR_INVALID_ARG, "does not match the 3 vCPUs", NULL},
    {"ide-q35", m_ide_q35, VD_ERROR_UNSUPPORTED, "machine 'q35' has no IDE controller", NULL},
    {"cdrom-virtio", m_cdrom_virtio, VD_ERROR_UNSUPPORTED, "a cdrom cannot be on bus 'virtio'",
     NULL},
    {"readonly-sata", m_readonly_sata, VD_ERROR_UNSUPPORTED, "read-only sata hard disk", NULL},
    {"relative-path", m_relative_path, VD_ERROR_INVALID_ARG, "'images/a.img' is not an absolute",
     NULL},
    {"bad-target", m_bad_target, VD_ERROR_INVALID_ARG, "invalid disk target 'vd\\\"a'", NULL},
    {"duplicate-target", m_dup_target, VD_ERROR_INVALID_ARG, "two disks have the target 'vda'",
     NULL},
    {"no-source", m_no_source, VD_ERROR_INVALID_ARG, "disk 'vda' has no <source>", NULL},
    {"cache", m_cache, VD_ERROR_UNSUPPORTED, "cache mode 'direct,evil'", NULL},
    {"mac", m_mac, VD_ERROR_INVALID_ARG, "invalid MAC address '52:54:00:12:34:5g'", NULL},
    {"net-model", m_net_model, VD_ERROR_UNSUPPORTED,
     "model 'spapr-vlan' is not a NIC QEMU emulates", NULL},
    {"serial-tcp", m_serial_tcp, VD_ERROR_UNSUPPORTED, "serial port 0: type 'tcp'", NULL},
    {"long-socket", m_long_socket, VD_ERROR_UNSUPPORTED, "is too long", NULL},
    {"efi-auto", m_efi_auto, VD_ERROR_UNSUPPORTED, "<os firmware='efi'>", NULL},
    {"efi-secure-pc", m_efi_secure_pc, VD_ERROR_UNSUPPORTED,
     "secure boot (<loader secure='yes'>) needs machine type q35", NULL},
    {"efi-secure-smm-off", m_efi_secure_smm_off, VD_ERROR_UNSUPPORTED,
     "needs SMM: remove <smm state='off'>", NULL},
    {"efi-secure-rom", m_efi_secure_rom, VD_ERROR_UNSUPPORTED, "needs type='pflash'", NULL},
    {"clock", m_clock, VD_ERROR_UNSUPPORTED,
     "<clock timezone='Nowhere/Atlantis'> is not a time zone this host knows", NULL},
    {"bad-name", m_bad_name, VD_ERROR_INVALID_ARG, "control characters", NULL},
    {"memory", m_memory, VD_ERROR_INVALID_ARG, "too small", NULL},
    {"rng-backend", m_rng_backend, VD_ERROR_UNSUPPORTED, "back end '/etc/passwd'", NULL},
};

static void
test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autoptr(TDef) def = tdef_new("err", "pc");
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    c->mutate(def, caps);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = build(def, caps, c->accel, &error);
    targv_assert_refused(argv, error, c->code, c->message);
}

/* ---- helpers ------------------------------------------------------------------------ */

static void
test_escape(void)
{
    g_autofree char *a = vd_qemu_escape_opt("a,,b,");
    g_assert_cmpstr(a, ==, "a,,,,b,,");
    g_autofree char *b = vd_qemu_escape_opt("");
    g_assert_cmpstr(b, ==, "");
}

static void
test_argv_to_string(void)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, "/usr/bin/qemu");
    g_ptr_array_add(argv, "a b\nc\\d\te\x01");
    g_autofree char *s = vd_qemu_argv_to_string(argv);
    g_assert_cmpstr(s, ==, "/usr/bin/qemu\na b\\nc\\\\d\\te\\x01\n");
}

/* The -device argument whose JSON has "id":@id, or NULL. */
static const char *
device_with_id(GPtrArray *argv, const char *id)
{
    g_autofree char *needle = g_strdup_printf("\"id\":\"%s\"", id);
    for (guint i = 1; i < argv->len && argv->pdata[i]; i++)
        if (g_str_equal(argv->pdata[i - 1], "-device") && strstr(argv->pdata[i], needle))
            return argv->pdata[i];
    return NULL;
}

/* A hot-plugged disk's and NIC's <address type='pci'> (the slot their QEMU
 * gave them) places them only when QEMU loads that guest's state: a boot
 * leaves placement to QEMU, as before. */
static GPtrArray *
chain_of(const char *const *layers)
{
    GPtrArray *chain = g_ptr_array_new_with_free_func(vd_chain_image_free);
    for (guint i = 0; layers[i]; i += 2) {
        VdChainImage *img = g_new0(VdChainImage, 1);
        img->path = g_strdup(layers[i]);
        img->format = g_strdup(layers[i + 1]);
        g_ptr_array_add(chain, img);
    }
    return chain;
}

/* Disk images as descriptors (paths->disk_chains): a writable qcow2 with
 * a two-file backing chain (a set per image, read-only and read-write
 * descriptors in it, the chain named node by node, the bottom "backing":
 * null), a cdrom (read-only only), a raw disk with a comma in its path;
 * a block device is not in the chains and stays a path. */
static void
test_disk_fds(void)
{
    g_autoptr(TDef) def = tdef_new("disk-fds", "pc");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/img/top.qcow2",
                  VD_DISK_FORMAT_QCOW2)
        ->cache = g_strdup("none");
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_IDE, "hdc", "/iso/d.iso",
                  VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb", "/img/a,b.raw",
                  VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdc", "/dev/vg0/data",
                  VD_DISK_FORMAT_RAW)
        ->type = VD_DISK_TYPE_BLOCK;
    g_autoptr(GHashTable) chains =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
    const char *vda[] = {
        "/img/top.qcow2", "qcow2", "/img/mid.qcow2", "qcow2", "/img/base.raw", "raw", NULL};
    const char *hdc[] = {"/iso/d.iso", "raw", NULL};
    const char *vdb[] = {"/img/a,b.raw", "raw", NULL};
    g_hash_table_insert(chains, "vda", chain_of(vda));
    g_hash_table_insert(chains, "hdc", chain_of(hdc));
    g_hash_table_insert(chains, "vdb", chain_of(vdb));
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GPtrArray) requests = g_ptr_array_new_with_free_func(vd_qemu_fd_request_free);
    VdQemuRunPaths paths = trun_paths;
    paths.disk_chains = chains;
    paths.fd_requests = requests;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv(def, caps, &paths, &error);
    g_assert_no_error(error);
    g_autofree char *text = vd_qemu_argv_to_string(argv);
    tgolden_check("disk-fds", text);
    /* The descriptors asked for: vda's three images twice (read-only,
     * read-write), hdc's once, vdb's twice; after the monitor's socket. */
    guint images = 0, writable = 0;
    for (guint i = 0; i < requests->len; i++) {
        const VdQemuFdRequest *r = g_ptr_array_index(requests, i);
        images += r->kind == VD_QEMU_FD_READ;
        writable += r->kind == VD_QEMU_FD_READ_WRITE;
    }
    g_assert_cmpuint(images, ==, 5);
    g_assert_cmpuint(writable, ==, 4);
    g_assert_false(strstr(text, "top.qcow2\"") || strstr(text, "mid.qcow2\""));
    g_assert_nonnull(strstr(text, "/dev/vg0/data"));
}

static void
test_pci_pins(void)
{
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    VdQemuRunPaths paths = trun_paths;
    g_autoptr(TDef) pc = tdef_new("pins", "pc");
    tdef_add_disk(pc, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/img/a.qcow2",
                  VD_DISK_FORMAT_QCOW2);
    VdDiskDef *vdb = tdef_add_disk(pc, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb",
                                   "/img/b.qcow2", VD_DISK_FORMAT_QCOW2);
    vd_disk_def_set_pci_address(vdb, 0, 5);
    guint bus = 9, slot = 9;
    g_assert_true(vd_disk_def_pci_address(vdb, &bus, &slot));
    g_assert_cmpuint(bus, ==, 0);
    g_assert_cmpuint(slot, ==, 5);

    g_autoptr(GPtrArray) boot = vd_qemu_build_argv(pc, caps, &paths, NULL);
    g_assert_null(strstr(device_with_id(boot, "disk-vdb"), "addr"));
    paths.pci_addresses = TRUE;
    g_autoptr(GPtrArray) load = vd_qemu_build_argv(pc, caps, &paths, NULL);
    g_assert_nonnull(
        strstr(device_with_id(load, "disk-vdb"), "\"bus\":\"pci.0\",\"addr\":\"0x5\""));
    g_assert_null(strstr(device_with_id(load, "disk-vda"), "addr"));
    vd_disk_def_clear_pci_address(vdb);
    g_assert_false(vd_disk_def_pci_address(vdb, &bus, &slot));

    /* q35: a root port's index is the bus. */
    g_autoptr(TDef) q35 = tdef_new("pins", "q35");
    VdNetDef *net = tdef_add_net(q35, VD_NET_USER, "virtio", "52:54:00:00:00:01");
    vd_net_def_set_pci_address(net, 3, 0);
    g_autoptr(GPtrArray) q = vd_qemu_build_argv(q35, caps, &paths, NULL);
    g_assert_nonnull(q);
    gboolean found = FALSE;
    for (guint i = 0; i < q->len && q->pdata[i]; i++)
        found |= strstr(q->pdata[i], "virtio-net-pci") &&
                 strstr(q->pdata[i], "\"bus\":\"pci.3\",\"addr\":\"0x0\"");
    g_assert_true(found);
}

static void
test_names(void)
{
    VdQemuRunPaths paths = trun_paths;
    g_autofree char *s0 = vd_qemu_pty_socket_path(&paths, "serial0");
    g_autofree char *s1 = vd_qemu_pty_socket_path(&paths, "serial1");
    g_assert_cmpstr(s0, ==, "/run/virtd/qemu/dom.console");
    g_assert_cmpstr(s1, ==, "/run/virtd/qemu/dom.console-serial1");
    paths.console_socket_path = NULL;
    g_autofree char *none = vd_qemu_pty_socket_path(&paths, "serial0");
    g_assert_null(none);

    g_autoptr(TDef) def = def_channels();
    g_autofree char *c0 = vd_qemu_channel_socket_path(def, 0, &trun_paths);
    g_autofree char *c1 = vd_qemu_channel_socket_path(def, 1, &trun_paths);
    g_autofree char *c2 = vd_qemu_channel_socket_path(def, 2, &trun_paths);
    g_autofree char *c9 = vd_qemu_channel_socket_path(def, 9, &trun_paths);
    g_assert_cmpstr(c0, ==, "/var/lib/virtd/qemu/channel/agent.agent");
    g_assert_cmpstr(c1, ==, "/run/app/chan.sock");
    g_assert_null(c2); /* pty */
    g_assert_null(c9);
    /* Without a path: a dotless suffix, whatever the target name, so
     * that no domain's files can meet another's (or its own QMP socket). */
    VdChrDef *app = g_ptr_array_index(def->channels, 1);
    g_clear_pointer(&app->path, g_free);
    g_autofree char *c1auto = vd_qemu_channel_socket_path(def, 1, &trun_paths);
    g_assert_cmpstr(c1auto, ==, "/var/lib/virtd/qemu/channel/agent.channel1");

    VdDiskDef disk = {.target_dev = "vdb"};
    g_autofree char *id = vd_qemu_disk_device_id(&disk);
    g_autofree char *node = vd_qemu_disk_node_name(&disk);
    g_assert_cmpstr(id, ==, "disk-vdb");
    g_assert_cmpstr(node, ==, "vdb-format");
}

/* The default machine comes from caps when the definition has none. */
static void
test_default_machine(void)
{
    g_autoptr(TDef) def = tdef_new("dflt", NULL);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = build(def, caps, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(targv_has(argv, "-machine", "pc,accel=tcg,usb=off,dump-guest-core=off"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(golden_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv/golden/%s", golden_cases[i].name);
        g_test_add_data_func(path, &golden_cases[i], test_golden);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(media_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv/golden/%s", media_cases[i].name);
        g_test_add_data_func(path, &media_cases[i], test_golden);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv/error/%s", error_cases[i].name);
        g_test_add_data_func(path, &error_cases[i], test_error);
    }
    g_test_add_func("/qemu/argv/injection-values", test_injection_values);
    g_test_add_func("/qemu/argv/fast-boot", test_fast_boot);
    g_test_add_func("/qemu/argv/escape", test_escape);
    g_test_add_func("/qemu/argv/to-string", test_argv_to_string);
    g_test_add_func("/qemu/argv/names", test_names);
    g_test_add_func("/qemu/argv/pci-pins", test_pci_pins);
    g_test_add_func("/qemu/argv/disk-fds", test_disk_fds);
    g_test_add_func("/qemu/argv/default-machine", test_default_machine);
    return g_test_run();
}
