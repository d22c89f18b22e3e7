/* Step 2 of conf/: what a user may leave out and libvirt fills in.
 *
 * Defaults are applied to the model once at define time and written into
 * the stored XML by format, as libvirt does, so that a domain's devices
 * (its MAC addresses above all) never change between two starts. Every
 * rule here checks before it adds, so running the step twice changes
 * nothing (the daemon re-runs it after attaching a device).
 */
#include "conf/domain-private.h"

#include "conf/domain-cpu-ext.h"

#include <string.h>

#include "util/vd-names.h"

VdDiskBus
vd_disk_bus_for_target(const char *target_dev)
{
    if (!target_dev)
        return VD_DISK_BUS_LAST;
    if (g_str_has_prefix(target_dev, "vd"))
        return VD_DISK_BUS_VIRTIO;
    /* libvirt picks scsi for sd*; SATA needs no extra controller on q35
     * and is what virt-install writes, so sd* means sata here. */
    if (g_str_has_prefix(target_dev, "sd"))
        return VD_DISK_BUS_SATA;
    if (g_str_has_prefix(target_dev, "hd"))
        return VD_DISK_BUS_IDE;
    if (g_str_has_prefix(target_dev, "fd"))
        return VD_DISK_BUS_FDC;
    if (g_str_has_prefix(target_dev, "ub"))
        return VD_DISK_BUS_USB;
    if (g_str_has_prefix(target_dev, "nvme"))
        return VD_DISK_BUS_NVME;
    return VD_DISK_BUS_LAST;
}

guint
vd_video_default_vram(VdVideoModel model)
{
    switch (model) {
    case VD_VIDEO_VGA:
    case VD_VIDEO_CIRRUS:
    case VD_VIDEO_BOCHS:
        return 16384;
    case VD_VIDEO_QXL:
        return 65536;
    case VD_VIDEO_VIRTIO:
    case VD_VIDEO_RAMFB:
    case VD_VIDEO_NONE:
    case VD_VIDEO_LAST:
        return 0;
    }
    return 0;
}

static void
set_default_str(char **field, const char *value)
{
    if (!*field)
        *field = g_strdup(value);
}

static void
defaults_disks(VdDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        VdDiskDef *d = g_ptr_array_index(def->disks, i);

        if (d->bus == VD_DISK_BUS_LAST)
            d->bus = vd_disk_bus_for_target(d->target_dev);
        if (d->device == VD_DISK_DEVICE_CDROM)
            d->readonly = TRUE;
    }
}

static char *
random_mac(void)
{
    return g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                           g_random_int_range(0, 256), g_random_int_range(0, 256));
}

static void
defaults_interfaces(VdDomainDef *def)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        VdNetDef *net = g_ptr_array_index(def->interfaces, i);

        if (!net->mac) {
            /* Regenerate on the (unlikely) clash with another interface. */
            for (;;) {
                gboolean clash = FALSE;
                net->mac = random_mac();
                for (guint j = 0; j < def->interfaces->len && !clash; j++) {
                    VdNetDef *o = g_ptr_array_index(def->interfaces, j);
                    clash = o != net && o->mac && g_ascii_strcasecmp(o->mac, net->mac) == 0;
                }
                if (!clash)
                    break;
                g_clear_pointer(&net->mac, g_free);
            }
        } else {
            char *lower = g_ascii_strdown(net->mac, -1);
            g_free(net->mac);
            net->mac = lower;
        }
    }
}

static gboolean
port_used(GPtrArray *chrs, int port)
{
    for (guint i = 0; i < chrs->len; i++) {
        VdChrDef *c = g_ptr_array_index(chrs, i);
        if (c->target_port == port)
            return TRUE;
    }
    return FALSE;
}

static VdChrDef *
chr_clone_source(const VdChrDef *src)
{
    VdChrDef *c = vd_chr_def_new(src->type);
    c->path = g_strdup(src->path);
    c->unix_listen = src->unix_listen;
    c->log_append = src->log_append;
    return c;
}

/* libvirt's console <-> serial compatibility: on x86 the first console is
 * the first serial port, so each implies the other. */
static void
defaults_chrs(VdDomainDef *def)
{
    VdChrDef *console = def->consoles->len ? g_ptr_array_index(def->consoles, 0) : NULL;

    if (console && (!console->target_type || g_str_equal(console->target_type, "serial"))) {
        set_default_str(&console->target_type, "serial");
        if (def->serials->len == 0) {
            VdChrDef *serial = chr_clone_source(console);
            serial->target_port = 0;
            g_ptr_array_add(def->serials, serial);
        }
        if (console->target_port < 0) {
            VdChrDef *serial = g_ptr_array_index(def->serials, 0);
            console->target_port = serial->target_port >= 0 ? serial->target_port : 0;
        }
    } else if (!console && def->serials->len > 0) {
        VdChrDef *serial = g_ptr_array_index(def->serials, 0);
        console = chr_clone_source(serial);
        console->target_type = g_strdup("serial");
        console->target_port = serial->target_port >= 0 ? serial->target_port : 0;
        g_ptr_array_add(def->consoles, console);
    }

    for (guint i = 0; i < def->serials->len; i++) {
        VdChrDef *c = g_ptr_array_index(def->serials, i);
        set_default_str(&c->target_type, "isa-serial");
        if (c->target_port < 0) {
            int port = 0;
            while (port_used(def->serials, port))
                port++;
            c->target_port = port;
        }
    }
    for (guint i = 1; i < def->consoles->len; i++) {
        VdChrDef *c = g_ptr_array_index(def->consoles, i);
        set_default_str(&c->target_type, "virtio");
        if (c->target_port < 0)
            c->target_port = (int)i;
    }
    for (guint i = 0; i < def->channels->len; i++) {
        VdChrDef *c = g_ptr_array_index(def->channels, i);
        /* A unix channel without a path gets one from the daemon at start;
         * only a listening socket can have a path nobody knows in advance. */
        if (c->type == VD_CHR_UNIX && !c->path)
            c->unix_listen = TRUE;
        set_default_str(&c->target_type, "virtio");
    }
}

static gboolean
has_input(const VdDomainDef *def, VdInputType type, VdInputBus bus)
{
    for (guint i = 0; i < def->inputs->len; i++) {
        const VdInputDef *in = g_ptr_array_index(def->inputs, i);
        if (in->type == type && in->bus == bus)
            return TRUE;
    }
    return FALSE;
}

static void
defaults_display(VdDomainDef *def)
{
    gboolean have_primary = FALSE;

    for (guint i = 0; i < def->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        if (g->port == -1)
            g->autoport = TRUE;
    }
    if (def->graphics->len > 0 && def->videos->len == 0)
        g_ptr_array_add(def->videos, vd_video_def_new());
    for (guint i = 0; i < def->videos->len; i++) {
        VdVideoDef *v = g_ptr_array_index(def->videos, i);
        if (v->model == VD_VIDEO_LAST)
            v->model = VD_VIDEO_VGA;
        if (v->model == VD_VIDEO_NONE)
            continue;
        if (v->vram_kib == 0)
            v->vram_kib = vd_video_default_vram(v->model);
        /* libvirt's qxl defaults: 64 MiB RAM bar, 16 MiB VGA memory. */
        if (v->model == VD_VIDEO_QXL && v->ram_kib == 0)
            v->ram_kib = 65536;
        if (v->model == VD_VIDEO_QXL && v->vgamem_kib == 0)
            v->vgamem_kib = 16384;
        if (v->heads == 0)
            v->heads = 1;
        have_primary |= v->primary;
    }
    for (guint i = 0; i < def->videos->len && !have_primary; i++) {
        VdVideoDef *v = g_ptr_array_index(def->videos, i);
        if (v->model != VD_VIDEO_NONE) {
            v->primary = TRUE;
            have_primary = TRUE;
        }
    }

    for (guint i = 0; i < def->inputs->len; i++) {
        VdInputDef *in = g_ptr_array_index(def->inputs, i);
        if (in->bus == VD_INPUT_BUS_LAST)
            in->bus = in->type == VD_INPUT_TABLET ? VD_INPUT_BUS_USB : VD_INPUT_BUS_PS2;
    }
    /* The i8042 PS/2 mouse and keyboard exist on every x86 machine; libvirt
     * lists them once there is a display to use them with. */
    if (def->graphics->len > 0) {
        if (!has_input(def, VD_INPUT_MOUSE, VD_INPUT_BUS_PS2)) {
            VdInputDef *in = vd_input_def_new(VD_INPUT_MOUSE);
            in->bus = VD_INPUT_BUS_PS2;
            g_ptr_array_add(def->inputs, in);
        }
        if (!has_input(def, VD_INPUT_KEYBOARD, VD_INPUT_BUS_PS2)) {
            VdInputDef *in = vd_input_def_new(VD_INPUT_KEYBOARD);
            in->bus = VD_INPUT_BUS_PS2;
            g_ptr_array_add(def->inputs, in);
        }
    }
}

/* A <backend> other than model='random' (egd ...) is kept untyped. */
static gboolean
rng_has_other_backend(const VdRngDef *rng)
{
    const xmlNode *b = rng->xml ? vd_xml_child(rng->xml, "backend") : NULL;
    g_autofree char *model = vd_xml_prop(b, "model");

    return model && !g_str_equal(model, "random");
}

static void
defaults_misc_devices(VdDomainDef *def)
{
    if (!def->memballoon)
        def->memballoon = vd_memballoon_def_new("virtio");
    for (guint i = 0; i < def->rngs->len; i++) {
        VdRngDef *rng = g_ptr_array_index(def->rngs, i);
        if (!rng->backend && !rng_has_other_backend(rng))
            rng->backend = g_strdup("/dev/urandom");
    }
    for (guint i = 0; i < def->panics->len; i++) {
        VdPanicDef *p = g_ptr_array_index(def->panics, i);
        set_default_str(&p->model, "isa");
    }
}

void
vd_domain_def_apply_defaults(VdDomainDef *def)
{
    if (!def->uuid[0])
        vd_uuid_generate(def->uuid);
    vd_cpu_ext_apply_defaults(def); /* <memory> from NUMA cells first */
    if (def->current_memory_kib == 0)
        def->current_memory_kib = def->memory_kib;
    if (def->vcpus == 0)
        def->vcpus = 1;
    if (def->vcpus_current == 0)
        def->vcpus_current = def->vcpus;

    set_default_str(&def->os.type, "hvm");
    set_default_str(&def->os.arch, "x86_64");
    set_default_str(&def->os.machine, "pc");
    set_default_str(&def->clock.offset, "utc");

    if (def->cpu.sockets || def->cpu.dies || def->cpu.cores || def->cpu.threads) {
        def->cpu.present = TRUE;
        def->cpu.sockets = MAX(def->cpu.sockets, 1);
        def->cpu.dies = MAX(def->cpu.dies, 1);
        def->cpu.cores = MAX(def->cpu.cores, 1);
        def->cpu.threads = MAX(def->cpu.threads, 1);
    }

    defaults_disks(def);
    defaults_interfaces(def);
    defaults_chrs(def);
    defaults_display(def);
    defaults_misc_devices(def);
}
