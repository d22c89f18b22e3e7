/* Network interfaces, graphics, video, input, balloon, RNG and panic
 * devices.
 *
 * Why these checks: values that reach key=value options (the VNC listen
 * address) are accepted only in a strict form; everything else goes into
 * JSON. The VNC password never appears on the command line, where any
 * local user could read it in /proc: QEMU is told a password will be set
 * and the daemon sets it over QMP (set_password) before it resumes the
 * guest.
 */
#include <string.h>

#include <gio/gio.h>

#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

/* ---- network interfaces ---------------------------------------------------- */

static const char *
net_type_name(VdNetType type)
{
    switch (type) {
    case VD_NET_USER:
        return "user";
    case VD_NET_NETWORK:
        return "network";
    case VD_NET_BRIDGE:
        return "bridge";
    case VD_NET_DIRECT:
        return "direct";
    case VD_NET_ETHERNET:
        return "ethernet";
    case VD_NET_LAST:
        break;
    }
    return "?";
}

const char *
vd_qemu_net_model_driver(const char *model)
{
    if (!model || g_str_equal(model, "rtl8139"))
        return "rtl8139"; /* libvirt's default for x86 */
    if (g_str_equal(model, "virtio"))
        return "virtio-net-pci";
    if (g_str_equal(model, "e1000"))
        return "e1000";
    if (g_str_equal(model, "virtio-transitional"))
        return "virtio-net-pci-transitional";
    if (g_str_equal(model, "virtio-non-transitional"))
        return "virtio-net-pci-non-transitional";
    /* The others: libvirt's model name is QEMU's device name. */
    if (vd_net_model_supported(model))
        return model;
    return NULL;
}

/* The QEMU device id of interface @n: its alias when it has one (set by
 * the daemon for a live domain, or the user's "ua-" one), else "net<N>". */
char *
vd_qemu_net_device_id(const VdNetDef *net, guint n)
{
    return net->alias ? g_strdup(net->alias) : g_strdup_printf("net%u", n);
}

static gboolean
build_interface(VdQemuCmd *cmd, const VdNetDef *net, guint n, GError **error)
{
    g_autofree char *what = g_strdup_printf("interface %u", n);
    g_autofree char *id = vd_qemu_net_device_id(net, n);
    g_autofree char *netdev_id = g_strconcat("host", id, NULL);
    const VdQemuRunPaths *paths = cmd->paths;
    int fd = paths->net_fds && n < paths->n_net_fds ? paths->net_fds[n] : -1;
    int vhostfd = paths->vhost_fds && n < paths->n_net_fds ? paths->vhost_fds[n] : -1;

    const char *driver = vd_qemu_net_model_driver(net->model);
    if (!driver) {
        g_autofree char *shown = g_strescape(net->model, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: model '%s' is not a NIC QEMU emulates (use virtio, e1000, e1000e, "
                    "rtl8139, pcnet, ne2k_pci, vmxnet3 ...)",
                    what, shown);
        return FALSE;
    }
    if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
        return FALSE;
    if (net->mac && !vd_mac_is_valid(net->mac, NULL)) {
        g_autofree char *shown = g_strescape(net->mac, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s: invalid MAC address '%s' (expected six hex pairs such as "
                    "52:54:00:12:34:56)",
                    what, shown);
        return FALSE;
    }
    if (!vd_ifname_is_valid(id) || !g_ascii_isalpha(id[0])) {
        g_autofree char *shown = g_strescape(id, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s: invalid alias '%s'", what, shown);
        return FALSE;
    }

    JsonObject *nd = json_object_new();
    switch (net->type) {
    case VD_NET_USER:
        json_object_set_string_member(nd, "type", "user");
        json_object_set_string_member(nd, "id", netdev_id);
        break;
    case VD_NET_NETWORK:
    case VD_NET_BRIDGE:
    case VD_NET_DIRECT: {
        /* The daemon created the tap (macvtap) and plugged it in; QEMU
         * gets the open descriptor and needs no privilege at all. */
        if (fd < 0) {
            json_object_unref(nd);
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                        "%s: type '%s' needs the descriptor of its tap from the daemon", what,
                        net_type_name(net->type));
            return FALSE;
        }
        g_autofree char *fdstr = g_strdup_printf("%d", fd);
        json_object_set_string_member(nd, "type", "tap");
        json_object_set_string_member(nd, "id", netdev_id);
        json_object_set_string_member(nd, "fd", fdstr);
        if (vhostfd >= 0) {
            g_autofree char *vstr = g_strdup_printf("%d", vhostfd);
            json_object_set_boolean_member(nd, "vhost", TRUE);
            json_object_set_string_member(nd, "vhostfd", vstr);
        }
        break;
    }
    case VD_NET_ETHERNET:
    case VD_NET_LAST:
        json_object_unref(nd);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s: type '%s' is not supported", what,
                    net_type_name(net->type));
        return FALSE;
    }
    vd_qemu_cmd_opt_json(cmd, "-netdev", nd);

    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    json_object_set_string_member(o, "netdev", netdev_id);
    json_object_set_string_member(o, "id", id);
    if (net->mac)
        json_object_set_string_member(o, "mac", net->mac);
    /* The guest's virtio driver learns the MTU of the link from here. */
    if (net->mtu && g_str_equal(driver, "virtio-net-pci"))
        json_object_set_int_member(o, "host_mtu", net->mtu);
    guint pci_bus, pci_slot;
    if (vd_net_def_pci_address(net, &pci_bus, &pci_slot))
        vd_qemu_cmd_pin_pci(cmd, o, pci_bus, pci_slot); /* a hot-plugged NIC's (disk's comment) */
    guint bootindex = vd_qemu_cmd_bootindex(cmd, net);
    if (bootindex)
        json_object_set_int_member(o, "bootindex", bootindex);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

gboolean
vd_qemu_build_interfaces(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    for (guint i = 0; def->interfaces && i < def->interfaces->len; i++) {
        if (!build_interface(cmd, g_ptr_array_index(def->interfaces, i), i, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- graphics ------------------------------------------------------------ */

static const char *
graphics_type_name(VdGraphicsType type)
{
    switch (type) {
    case VD_GRAPHICS_VNC:
        return "vnc";
    case VD_GRAPHICS_SPICE:
        return "spice";
    case VD_GRAPHICS_SDL:
        return "sdl";
    case VD_GRAPHICS_EGL_HEADLESS:
        return "egl-headless";
    case VD_GRAPHICS_LAST:
        break;
    }
    return "?";
}

char *
vd_qemu_listen_host(const char *listen, gboolean bracket_ipv6, const char *what, GError **error)
{
    if (!listen)
        return g_strdup("127.0.0.1");
    if (g_str_equal(listen, "localhost"))
        return g_strdup("localhost");
    g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(listen);
    if (!addr) {
        g_autofree char *shown = g_strescape(listen, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s listen address '%s' is not an IPv4 or IPv6 address or 'localhost'", what,
                    shown);
        return NULL;
    }
    g_autofree char *canon = g_inet_address_to_string(addr);
    if (bracket_ipv6 && g_inet_address_get_family(addr) == G_SOCKET_FAMILY_IPV6)
        return g_strdup_printf("[%s]", canon);
    return g_steal_pointer(&canon);
}

static gboolean
build_vnc(VdQemuCmd *cmd, const VdGraphicsDef *g, GError **error)
{
    g_autofree char *host = vd_qemu_listen_host(g->listen, TRUE, "VNC", error);
    if (!host)
        return FALSE;
    g_autoptr(GString) vnc = g_string_new(host);
    if (g->autoport || g->port < 0) {
        /* QEMU takes the first free display from 5900 to 5999; the daemon
         * reads which one with query-vnc. */
        g_string_append(vnc, ":0,to=99");
    } else if (g->port >= 5900 && g->port <= 65535) {
        g_string_append_printf(vnc, ":%d", g->port - 5900);
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "VNC port %d is not supported: QEMU serves VNC on ports 5900 to 65535",
                    g->port);
        return FALSE;
    }
    if (g->websocket > 0) {
        if (g->websocket > 65535) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid VNC websocket port %d",
                        g->websocket);
            return FALSE;
        }
        g_string_append_printf(vnc, ",websocket=%d", g->websocket);
    }
    if (g->passwd)
        g_string_append(vnc, ",password=on");
    vd_qemu_cmd_opt(cmd, "-vnc", vnc->str);
    return TRUE;
}

gboolean
vd_qemu_build_graphics(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    if (!def->graphics || def->graphics->len == 0) {
        vd_qemu_cmd_opt(cmd, "-display", "none");
        return TRUE;
    }
    gboolean vnc = FALSE, spice = FALSE;
    for (guint i = 0; i < def->graphics->len; i++) {
        const VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        gboolean *seen = g->type == VD_GRAPHICS_VNC ? &vnc : &spice;
        if (g->type != VD_GRAPHICS_VNC && g->type != VD_GRAPHICS_SPICE) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "graphics type '%s' is not supported (use vnc or spice)",
                        graphics_type_name(g->type));
            return FALSE;
        }
        if (*seen) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "only one <graphics type='%s'> is supported", graphics_type_name(g->type));
            return FALSE;
        }
        *seen = TRUE;
        if (g->type == VD_GRAPHICS_SPICE ? !vd_qemu_build_spice(cmd, g, error)
                                         : !build_vnc(cmd, g, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- video ------------------------------------------------------------------ */

static const char *
video_driver(VdVideoModel model, gboolean primary, const char **name)
{
    switch (model) {
    case VD_VIDEO_VGA:
        *name = "vga";
        return primary ? "VGA" : NULL;
    case VD_VIDEO_CIRRUS:
        *name = "cirrus";
        return primary ? "cirrus-vga" : NULL;
    case VD_VIDEO_VIRTIO:
        *name = "virtio";
        return primary ? "virtio-vga" : "virtio-gpu-pci";
    case VD_VIDEO_QXL:
        *name = "qxl";
        return primary ? "qxl-vga" : "qxl";
    case VD_VIDEO_BOCHS:
        *name = "bochs";
        return primary ? "bochs-display" : NULL;
    case VD_VIDEO_RAMFB:
        *name = "ramfb";
        return primary ? "ramfb" : NULL;
    case VD_VIDEO_NONE:
        *name = "none";
        return NULL;
    case VD_VIDEO_LAST:
        break;
    }
    *name = "?";
    return NULL;
}

gboolean
vd_qemu_build_video(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    if (!def->videos || def->videos->len == 0)
        return TRUE;

    guint primary = 0;
    for (guint i = 0; i < def->videos->len; i++) {
        if (((VdVideoDef *)g_ptr_array_index(def->videos, i))->primary) {
            primary = i;
            break;
        }
    }
    /* The primary one first: it is the VGA-compatible one the firmware
     * draws on. */
    for (guint k = 0; k < def->videos->len; k++) {
        guint i = k == 0 ? primary : (k <= primary ? k - 1 : k);
        const VdVideoDef *v = g_ptr_array_index(def->videos, i);
        const char *name;
        const char *driver = video_driver(v->model, k == 0, &name);
        if (v->model == VD_VIDEO_NONE)
            continue;
        if (v->model == VD_VIDEO_LAST) {
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                        "video device %u has no model: the definition's defaults were not applied",
                        i);
            return FALSE;
        }
        g_autofree char *what = g_strdup_printf("video device '%s'", name);
        if (!driver) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s can only be the primary video device", what);
            return FALSE;
        }
        if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
            return FALSE;
        g_autofree char *id = g_strdup_printf("video%u", i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "driver", driver);
        json_object_set_string_member(o, "id", id);
        if (v->model == VD_VIDEO_VGA && v->vram_kib >= 1024)
            json_object_set_int_member(o, "vgamem_mb", v->vram_kib / 1024);
        if (v->model == VD_VIDEO_VIRTIO && v->heads > 1)
            json_object_set_int_member(o, "max_outputs", v->heads);
        if (v->model == VD_VIDEO_QXL) {
            /* As libvirt: <model ram vram vram64 vgamem> in KiB, QEMU's
             * ram_size/vram_size in bytes, the others in MiB. */
            if (v->ram_kib)
                json_object_set_int_member(o, "ram_size", (gint64)v->ram_kib * 1024);
            if (v->vram_kib)
                json_object_set_int_member(o, "vram_size", (gint64)v->vram_kib * 1024);
            if (v->vram64_kib)
                json_object_set_int_member(o, "vram64_size_mb", v->vram64_kib / 1024);
            if (v->vgamem_kib)
                json_object_set_int_member(o, "vgamem_mb", v->vgamem_kib / 1024);
            if (v->heads)
                json_object_set_int_member(o, "max_outputs", v->heads);
        }
        guint pci_bus, pci_slot; /* where a saved guest had it (pci-slot.h) */
        if (vd_xml_node_pci_address(v->xml, &pci_bus, &pci_slot))
            vd_qemu_cmd_pin_pci(cmd, o, pci_bus, pci_slot);
        vd_qemu_cmd_opt_json(cmd, "-device", o);
    }
    return TRUE;
}

/* ---- input ------------------------------------------------------------------ */

gboolean
vd_qemu_build_inputs(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    for (guint i = 0; def->inputs && i < def->inputs->len; i++) {
        const VdInputDef *in = g_ptr_array_index(def->inputs, i);
        const char *kind = in->type == VD_INPUT_MOUSE      ? "mouse"
                           : in->type == VD_INPUT_KEYBOARD ? "keyboard"
                                                           : "tablet";
        const char *driver = NULL;
        g_autofree char *what = NULL;

        switch (in->bus) {
        case VD_INPUT_BUS_PS2:
            if (in->type == VD_INPUT_TABLET) {
                g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                            "input device 'tablet' cannot be on bus 'ps2' (use usb or virtio)");
                return FALSE;
            }
            continue; /* the i8042 of pc and q35 is always there */
        case VD_INPUT_BUS_USB:
            driver = in->type == VD_INPUT_MOUSE      ? "usb-mouse"
                     : in->type == VD_INPUT_KEYBOARD ? "usb-kbd"
                                                     : "usb-tablet";
            break;
        case VD_INPUT_BUS_VIRTIO:
            driver = in->type == VD_INPUT_MOUSE      ? "virtio-mouse-pci"
                     : in->type == VD_INPUT_KEYBOARD ? "virtio-keyboard-pci"
                                                     : "virtio-tablet-pci";
            break;
        case VD_INPUT_BUS_LAST:
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                        "input device %u has no bus: the definition's defaults were not applied",
                        i);
            return FALSE;
        }
        what = g_strdup_printf("input device '%s'", kind);
        if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
            return FALSE;
        if (in->bus == VD_INPUT_BUS_USB && !vd_qemu_cmd_need_usb(cmd, what, error))
            return FALSE;
        g_autofree char *id = g_strdup_printf("input%u", i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "driver", driver);
        json_object_set_string_member(o, "id", id);
        vd_qemu_cmd_opt_json(cmd, "-device", o);
    }
    return TRUE;
}

/* ---- balloon, rng, panic ------------------------------------------------------ */

static gboolean
build_balloon(VdQemuCmd *cmd, GError **error)
{
    const VdMemballoonDef *b = cmd->def->memballoon;
    if (!b || !b->model || g_str_equal(b->model, "none"))
        return TRUE;
    if (!g_str_equal(b->model, "virtio")) {
        g_autofree char *shown = g_strescape(b->model, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "memory balloon model '%s' is not supported (use virtio or none)", shown);
        return FALSE;
    }
    if (!vd_qemu_cmd_need_device(cmd, "virtio-balloon-pci", "the memory balloon", error))
        return FALSE;
    /* The stats period is set by the daemon with qom-set once QEMU runs. */
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "virtio-balloon-pci");
    json_object_set_string_member(o, "id", "balloon0");
    guint pci_bus, pci_slot; /* where a saved guest had it (pci-slot.h) */
    if (vd_xml_node_pci_address(b->xml, &pci_bus, &pci_slot))
        vd_qemu_cmd_pin_pci(cmd, o, pci_bus, pci_slot);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

static gboolean
build_rng(VdQemuCmd *cmd, const VdRngDef *rng, guint n, GError **error)
{
    g_autofree char *what = g_strdup_printf("RNG device %u", n);
    if (rng->model && !g_str_equal(rng->model, "virtio")) {
        g_autofree char *shown = g_strescape(rng->model, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: model '%s' is not supported (use virtio)", what, shown);
        return FALSE;
    }
    const char *backend = rng->backend ? rng->backend : "/dev/urandom";
    /* As libvirt: only the kernel's generators, not any file. */
    if (!g_str_equal(backend, "/dev/urandom") && !g_str_equal(backend, "/dev/random") &&
        !g_str_equal(backend, "/dev/hwrng")) {
        g_autofree char *shown = g_strescape(backend, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: back end '%s' is not supported (use /dev/urandom, /dev/random or "
                    "/dev/hwrng)",
                    what, shown);
        return FALSE;
    }
    if (!vd_qemu_cmd_need_device(cmd, "virtio-rng-pci", what, error))
        return FALSE;
    g_autofree char *obj_id = g_strdup_printf("objrng%u", n);
    g_autofree char *id = g_strdup_printf("rng%u", n);
    JsonObject *obj = json_object_new();
    json_object_set_string_member(obj, "qom-type", "rng-random");
    json_object_set_string_member(obj, "id", obj_id);
    json_object_set_string_member(obj, "filename", backend);
    vd_qemu_cmd_opt_json(cmd, "-object", obj);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "virtio-rng-pci");
    json_object_set_string_member(o, "rng", obj_id);
    json_object_set_string_member(o, "id", id);
    guint pci_bus, pci_slot; /* where a saved guest had it (pci-slot.h) */
    if (vd_xml_node_pci_address(rng->xml, &pci_bus, &pci_slot))
        vd_qemu_cmd_pin_pci(cmd, o, pci_bus, pci_slot);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

static gboolean
build_panic(VdQemuCmd *cmd, const VdPanicDef *panic, guint n, GError **error)
{
    const char *model = panic->model ? panic->model : "isa";
    const char *driver;
    if (g_str_equal(model, "isa"))
        driver = "pvpanic";
    else if (g_str_equal(model, "pvpanic"))
        driver = "pvpanic-pci";
    else {
        g_autofree char *shown = g_strescape(model, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "panic device model '%s' is not supported (use isa or pvpanic)", shown);
        return FALSE;
    }
    if (!vd_qemu_cmd_need_device(cmd, driver, "the panic device", error))
        return FALSE;
    g_autofree char *id = g_strdup_printf("panic%u", n);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    json_object_set_string_member(o, "id", id);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

gboolean
vd_qemu_build_misc_devices(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    if (!build_balloon(cmd, error))
        return FALSE;
    for (guint i = 0; def->rngs && i < def->rngs->len; i++) {
        if (!build_rng(cmd, g_ptr_array_index(def->rngs, i), i, error))
            return FALSE;
    }
    for (guint i = 0; def->panics && i < def->panics->len; i++) {
        if (!build_panic(cmd, g_ptr_array_index(def->panics, i), i, error))
            return FALSE;
    }
    return TRUE;
}
