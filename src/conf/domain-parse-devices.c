/* Step 1 of conf/, devices: the children of <devices> virtd models.
 *
 * Each typed device keeps a detached copy of its element (->xml) so that
 * format can write the typed fields back into what the user wrote; see
 * domain-format-devices.c. Values that are absent where libvirt fills in a
 * default are left "unset" (disk bus, input bus, video model = _LAST) for
 * domain-defaults.c, so that parse reports exactly what was written.
 */
#include "conf/domain-private.h"

#include "util/vd-error.h"

static gboolean
parse_boot_order(const xmlNode *node, const char *where, guint *order, GError **error)
{
    const xmlNode *boot = vd_xml_child(node, "boot");
    gboolean present = FALSE;

    if (!boot)
        return TRUE;
    if (!vd_xml_prop_uint(boot, "order", where, G_MAXINT, order, &present, error))
        return FALSE;
    if (!present || *order == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "%s must be a number from 1 up (the first device to boot is 1)", where);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_disk(VdDomainDef *def, const xmlNode *node, GError **error)
{
    static const char *const other_types[] = {"nvme", "vhostuser", "vhostvdpa", NULL};
    static const char *const other_formats[] = {"bochs", "cloop", "dmg",   "iso", "vpc",  "vdi",
                                                "fat",   "vhd",   "ploop", "cow", "qcow", "qed",
                                                "vmdk",  "luks",  "dir",   NULL};
    static const char *const other_buses[] = {"xen", "uml", "sd", NULL};
    g_autoptr(VdDiskDef) d = vd_disk_def_new();
    const xmlNode *n;
    int v;

    v = d->type;
    g_autofree char *type = vd_xml_prop(node, "type");
    if (g_strcmp0(type, "nvme") == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "<disk type='nvme'> gives the guest a host NVMe controller through VFIO, "
                    "which virtd does not do: give one of its namespaces as <disk type='block'> "
                    "with <source dev='/dev/nvme0n1'/> (bus='nvme' emulates an NVMe disk)");
        return FALSE;
    }
    if (!vd_xml_prop_enum(node, "type", "disk type", "<disk type=>", vd_disk_type_from_string,
                          vd_disk_type_list, other_types, &v, NULL, error))
        return FALSE;
    d->type = v;
    v = d->device;
    if (!vd_xml_prop_enum(node, "device", "disk device", "<disk device=>",
                          vd_disk_device_from_string, vd_disk_device_list, NULL, &v, NULL, error))
        return FALSE;
    d->device = v;

    if ((n = vd_xml_child(node, "driver"))) {
        v = d->format;
        if (!vd_xml_prop_enum(n, "type", "disk format", "<disk><driver type=>",
                              vd_disk_format_from_string, vd_disk_format_list, other_formats, &v,
                              NULL, error))
            return FALSE;
        d->format = v;
        d->cache = vd_xml_prop(n, "cache");
    }
    if ((n = vd_xml_child(node, "source"))) {
        switch (d->type) {
        case VD_DISK_TYPE_FILE:
            d->source_file = vd_xml_prop(n, "file");
            break;
        case VD_DISK_TYPE_BLOCK:
            d->source_file = vd_xml_prop(n, "dev");
            break;
        case VD_DISK_TYPE_DIR:
            d->source_file = vd_xml_prop(n, "dir");
            break;
        case VD_DISK_TYPE_VOLUME:
            d->source_pool = vd_xml_prop(n, "pool");
            d->source_volume = vd_xml_prop(n, "volume");
            break;
        case VD_DISK_TYPE_NETWORK:
        case VD_DISK_TYPE_LAST:
            break;
        }
    }
    if ((n = vd_xml_child(node, "target"))) {
        d->target_dev = vd_xml_prop(n, "dev");
        v = d->bus;
        if (!vd_xml_prop_enum(n, "bus", "disk bus", "<disk><target bus=>", vd_disk_bus_from_string,
                              vd_disk_bus_list, other_buses, &v, NULL, error))
            return FALSE;
        d->bus = v;
    }
    d->readonly = vd_xml_child(node, "readonly") != NULL;
    d->shareable = vd_xml_child(node, "shareable") != NULL;
    if (!parse_boot_order(node, "<disk><boot order=>", &d->boot_order, error))
        return FALSE;
    if ((n = vd_xml_child(node, "serial")))
        d->serial = vd_xml_text(n);
    d->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(def->disks, g_steal_pointer(&d));
    return TRUE;
}

static gboolean
parse_interface(VdDomainDef *def, const xmlNode *node, GError **error)
{
    static const char *const other_types[] = {"vhostuser", "server", "client",  "mcast",
                                              "udp",       "vdpa",   "hostdev", "internal",
                                              "null",      "vds",    NULL};
    g_autoptr(VdNetDef) net = vd_net_def_new(VD_NET_USER);
    const xmlNode *n;
    gboolean present;
    int v = 0;

    if (!vd_xml_prop_enum(node, "type", "interface type", "<interface type=>",
                          vd_net_type_from_string, vd_net_type_list, other_types, &v, &present,
                          error))
        return FALSE;
    if (!present) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing type= in <interface>: use <interface type='user'>");
        return FALSE;
    }
    net->type = v;
    net->mac = vd_xml_prop(vd_xml_child(node, "mac"), "address");
    net->model = vd_xml_prop(vd_xml_child(node, "model"), "type");
    if ((n = vd_xml_child(node, "source"))) {
        switch (net->type) {
        case VD_NET_NETWORK:
            net->source = vd_xml_prop(n, "network");
            break;
        case VD_NET_BRIDGE:
            net->source = vd_xml_prop(n, "bridge");
            break;
        case VD_NET_DIRECT:
            net->source = vd_xml_prop(n, "dev");
            net->source_mode = vd_xml_prop(n, "mode");
            break;
        case VD_NET_USER:
        case VD_NET_ETHERNET:
        case VD_NET_LAST:
            break;
        }
        net->portgroup = vd_xml_prop(n, "portgroup");
    }
    net->target_dev = vd_xml_prop(vd_xml_child(node, "target"), "dev");
    net->link_state = vd_xml_prop(vd_xml_child(node, "link"), "state");
    net->alias = vd_xml_prop(vd_xml_child(node, "alias"), "name");
    if ((n = vd_xml_child(node, "mtu"))) {
        gboolean given = FALSE;
        if (!vd_xml_prop_uint(n, "size", "<interface><mtu size=>", 65535, &net->mtu, &given,
                              error))
            return FALSE;
        if (!given || net->mtu < 68) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<interface><mtu size=> must be a number of bytes from 68 to 65535");
            return FALSE;
        }
    }
    if (!parse_boot_order(node, "<interface><boot order=>", &net->boot_order, error))
        return FALSE;
    net->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(def->interfaces, g_steal_pointer(&net));
    return TRUE;
}

static gboolean
parse_chr(GPtrArray *list, const xmlNode *node, GError **error)
{
    static const char *const other_types[] = {"vc",        "dev",          "pipe", "nmdm",
                                              "spiceport", "qemu-vdagent", "dbus", NULL};
    const char *kind = (const char *)node->name;
    g_autoptr(VdChrDef) chr = vd_chr_def_new(VD_CHR_PTY);
    g_autofree char *where = g_strdup_printf("<%s type=>", kind);
    const xmlNode *n;
    int v = VD_CHR_PTY;

    if (!vd_xml_prop_enum(node, "type", "character device type", where, vd_chr_type_from_string,
                          vd_chr_type_list, other_types, &v, NULL, error))
        return FALSE;
    chr->type = v;
    if ((n = vd_xml_child(node, "source"))) {
        g_autofree char *mode = vd_xml_prop(n, "mode");

        chr->path = vd_xml_prop(n, "path");
        if (mode && !g_str_equal(mode, "bind") && !g_str_equal(mode, "connect")) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "unknown value '%s' in <%s><source mode=>: expected bind or connect", mode,
                        kind);
            return FALSE;
        }
        chr->unix_listen = g_strcmp0(mode, "bind") == 0;
        g_free(where);
        where = g_strdup_printf("<%s><source append=>", kind);
        if (!vd_xml_prop_bool(n, "append", where, TRUE, &chr->log_append, NULL, error))
            return FALSE;
    }
    if (!chr->path && chr->type == VD_CHR_PTY)
        chr->path = vd_xml_prop(node, "tty");
    if ((n = vd_xml_child(node, "target"))) {
        g_free(where);
        where = g_strdup_printf("<%s><target port=>", kind);
        if (!vd_xml_prop_int(n, "port", where, 0, 65535, &chr->target_port, NULL, error))
            return FALSE;
        chr->target_type = vd_xml_prop(n, "type");
        chr->target_name = vd_xml_prop(n, "name");
    }
    chr->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(list, g_steal_pointer(&chr));
    return TRUE;
}

static gboolean
parse_graphics(VdDomainDef *def, const xmlNode *node, GError **error)
{
    static const char *const other_types[] = {"rdp", "desktop", "dbus", NULL};
    g_autoptr(VdGraphicsDef) g = vd_graphics_def_new(VD_GRAPHICS_VNC);
    gboolean present, port_present, autoport_present;
    int v = 0;

    if (!vd_xml_prop_enum(node, "type", "graphics type", "<graphics type=>",
                          vd_graphics_type_from_string, vd_graphics_type_list, other_types, &v,
                          &present, error))
        return FALSE;
    if (!present) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing type= in <graphics>: use <graphics type='vnc'>");
        return FALSE;
    }
    g->type = v;
    if (!vd_xml_prop_int(node, "port", "<graphics port=>", -1, 65535, &g->port, &port_present,
                         error) ||
        !vd_xml_prop_bool(node, "autoport", "<graphics autoport=>", FALSE, &g->autoport,
                          &autoport_present, error) ||
        !vd_xml_prop_int(node, "websocket", "<graphics websocket=>", -1, 65535, &g->websocket, NULL,
                         error))
        return FALSE;
    if (!autoport_present)
        g->autoport = g->port == -1;
    g->listen = vd_xml_prop(node, "listen");
    if (!g->listen) {
        for (const xmlNode *l = vd_xml_child(node, "listen"); l; l = vd_xml_next(l, "listen")) {
            g_autofree char *type = vd_xml_prop(l, "type");
            if (g_strcmp0(type, "address") == 0) {
                g->listen = vd_xml_prop(l, "address");
                break;
            }
        }
    }
    g->passwd = vd_xml_prop(node, "passwd");
    g->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(def->graphics, g_steal_pointer(&g));
    return TRUE;
}

static gboolean
parse_video(VdDomainDef *def, const xmlNode *node, GError **error)
{
    static const char *const other_models[] = {"vmvga", "xen", "vbox", "gop", NULL};
    g_autoptr(VdVideoDef) video = vd_video_def_new();
    const xmlNode *model = vd_xml_child(node, "model");
    int v = VD_VIDEO_LAST;

    if (model) {
        if (!vd_xml_prop_enum(model, "type", "video model", "<video><model type=>",
                              vd_video_model_from_string, vd_video_model_list, other_models, &v,
                              NULL, error) ||
            !vd_xml_prop_uint(model, "vram", "<video><model vram=>", G_MAXUINT, &video->vram_kib,
                              NULL, error) ||
            !vd_xml_prop_uint(model, "ram", "<video><model ram=>", G_MAXUINT, &video->ram_kib, NULL,
                              error) ||
            !vd_xml_prop_uint(model, "vgamem", "<video><model vgamem=>", G_MAXUINT,
                              &video->vgamem_kib, NULL, error) ||
            !vd_xml_prop_uint(model, "vram64", "<video><model vram64=>", G_MAXUINT,
                              &video->vram64_kib, NULL, error) ||
            !vd_xml_prop_uint(model, "heads", "<video><model heads=>", 16, &video->heads, NULL,
                              error) ||
            !vd_xml_prop_bool(model, "primary", "<video><model primary=>", FALSE, &video->primary,
                              NULL, error))
            return FALSE;
    }
    video->model = v;
    video->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(def->videos, g_steal_pointer(&video));
    return TRUE;
}

static gboolean
parse_input(VdDomainDef *def, const xmlNode *node, GError **error)
{
    static const char *const other_types[] = {"passthrough", "evdev", NULL};
    static const char *const other_buses[] = {"xen", "parallels", "none", NULL};
    g_autoptr(VdInputDef) input = vd_input_def_new(VD_INPUT_MOUSE);
    g_autofree char *type = vd_xml_prop(node, "type");
    gboolean present;
    int v = 0;

    if (type && g_strv_contains(other_types, type)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "<input type='%s'> hands a host input device (/dev/input/event*) to the "
                    "guest, which virtd does not do: use type mouse, keyboard or tablet "
                    "(bus ps2, usb or virtio)",
                    type);
        return FALSE;
    }

    if (!vd_xml_prop_enum(node, "type", "input type", "<input type=>", vd_input_type_from_string,
                          vd_input_type_list, other_types, &v, &present, error))
        return FALSE;
    if (!present) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing type= in <input>: use mouse, keyboard or tablet");
        return FALSE;
    }
    input->type = v;
    v = VD_INPUT_BUS_LAST;
    if (!vd_xml_prop_enum(node, "bus", "input bus", "<input bus=>", vd_input_bus_from_string,
                          vd_input_bus_list, other_buses, &v, NULL, error))
        return FALSE;
    input->bus = v;
    input->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(def->inputs, g_steal_pointer(&input));
    return TRUE;
}

static gboolean
parse_memballoon(VdDomainDef *def, const xmlNode *node, GError **error)
{
    g_autoptr(VdMemballoonDef) b = vd_memballoon_def_new(NULL);

    if (def->memballoon) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "more than one <memballoon>: a domain has at most one");
        return FALSE;
    }
    b->model = vd_xml_prop(node, "model");
    if (!b->model) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing model= in <memballoon>: use model='virtio' or model='none'");
        return FALSE;
    }
    if (!vd_xml_prop_uint(vd_xml_child(node, "stats"), "period", "<memballoon><stats period=>",
                          G_MAXINT, &b->period, NULL, error))
        return FALSE;
    b->xml = xmlCopyNode((xmlNode *)node, 1);
    def->memballoon = g_steal_pointer(&b);
    return TRUE;
}

static gboolean
parse_rng(VdDomainDef *def, const xmlNode *node, GError **error)
{
    g_autoptr(VdRngDef) rng = vd_rng_def_new(NULL);
    const xmlNode *backend = vd_xml_child(node, "backend");
    g_autofree char *bmodel = vd_xml_prop(backend, "model");

    g_free(rng->model);
    rng->model = vd_xml_prop(node, "model");
    if (!rng->model) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "missing model= in <rng>: use model='virtio'");
        return FALSE;
    }
    if (backend && (!bmodel || g_str_equal(bmodel, "random"))) {
        g_autofree char *path = g_strstrip(vd_xml_text(backend));
        rng->backend = *path ? g_steal_pointer(&path) : NULL;
    }
    rng->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(def->rngs, g_steal_pointer(&rng));
    return TRUE;
}

static gboolean
parse_panic(VdDomainDef *def, const xmlNode *node, GError **error)
{
    g_autoptr(VdPanicDef) panic = vd_panic_def_new(NULL);

    panic->model = vd_xml_prop(node, "model");
    panic->xml = xmlCopyNode((xmlNode *)node, 1);
    g_ptr_array_add(def->panics, g_steal_pointer(&panic));
    return TRUE;
}

gboolean
vd_domain_parse_devices(VdDomainDef *def, const xmlNode *devices, GError **error)
{
    for (const xmlNode *n = devices->children; n; n = n->next) {
        gboolean ok = TRUE;

        if (vd_xml_is(n, "emulator")) {
            if (!def->emulator)
                def->emulator = g_strstrip(vd_xml_text(n));
        } else if (vd_xml_is(n, "disk")) {
            ok = parse_disk(def, n, error);
        } else if (vd_xml_is(n, "interface")) {
            ok = parse_interface(def, n, error);
        } else if (vd_xml_is(n, "serial")) {
            ok = parse_chr(def->serials, n, error);
        } else if (vd_xml_is(n, "console")) {
            ok = parse_chr(def->consoles, n, error);
        } else if (vd_xml_is(n, "channel")) {
            ok = parse_chr(def->channels, n, error);
        } else if (vd_xml_is(n, "graphics")) {
            ok = parse_graphics(def, n, error);
        } else if (vd_xml_is(n, "video")) {
            ok = parse_video(def, n, error);
        } else if (vd_xml_is(n, "input")) {
            ok = parse_input(def, n, error);
        } else if (vd_xml_is(n, "memballoon")) {
            ok = parse_memballoon(def, n, error);
        } else if (vd_xml_is(n, "rng")) {
            ok = parse_rng(def, n, error);
        } else if (vd_xml_is(n, "panic")) {
            ok = parse_panic(def, n, error);
        }
        if (!ok)
            return FALSE;
    }
    return TRUE;
}
