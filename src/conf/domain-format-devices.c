/* Step 4 of conf/, devices: rebuilds <devices> from the typed arrays.
 *
 * See the top of domain-format.c for the design. Each format_<class>()
 * starts from the device's own element (->xml) when it has one, so only
 * what the typed model owns is rewritten here.
 */
#include "conf/domain-private.h"
#include "conf/xml-writer.h"

#include <string.h>

/* libvirt's order of <devices>' children (domain-private.h). */
const char *const vd_devices_child_order[] = {
    "emulator", "disk",       "controller", "lease",   "filesystem", "interface",   "smartcard",
    "serial",   "parallel",   "console",    "channel", "input",      "tpm",         "graphics",
    "sound",    "audio",      "video",      "hostdev", "redirdev",   "redirfilter", "hub",
    "watchdog", "memballoon", "rng",        "nvram",   "panic",      "shmem",       "memory",
    "iommu",    "vsock",      "crypto",     "pstore",  NULL};

static const char *const disk_order[] = {
    "driver", "auth",    "source",     "backingStore", "geometry",  "blockio", "target",
    "iotune", "boot",    "readonly",   "shareable",    "transient", "serial",  "wwn",
    "vendor", "product", "encryption", "alias",        "address",   NULL};

static const char *const interface_order[] = {
    "mac",        "source",        "virtualport", "ip",      "route",   "script",
    "downscript", "backenddomain", "target",      "guest",   "model",   "driver",
    "backend",    "filterref",     "tune",        "teaming", "link",    "mtu",
    "coalesce",   "rom",           "boot",        "alias",   "address", NULL};

static const char *const chr_order[] = {"source", "protocol", "log", "target",
                                        "alias",  "address",  NULL};

static const char *const graphics_order[] = {"listen",       "image",     "jpeg",      "zlib",
                                             "playback",     "streaming", "clipboard", "mouse",
                                             "filetransfer", "gl",        "audio",     NULL};

static const char *const video_order[] = {"model", "driver", "alias", "address", NULL};

static const char *const memballoon_order[] = {"stats", "alias", "address", "driver", NULL};

static const char *const rng_order[] = {"rate", "backend", "alias", "address", NULL};

static xmlNode *
start_node(xmlDoc *doc, const xmlNode *saved, const char *name)
{
    if (saved)
        return xmlDocCopyNode((xmlNode *)saved, doc, 1);
    return xmlNewDocNode(doc, NULL, (const xmlChar *)name, NULL);
}

/* Sets @name on the first child @child, creating it when @value is set,
 * and removes the child again if that left it empty. */
static void
set_child_prop(xmlNode *node, const char *child, const char *name, const char *value,
               const char *const *order)
{
    xmlNode *c = vd_xml_child(node, child);

    if (!c && !value)
        return;
    if (!c)
        c = vd_xml_ensure(node, child, order);
    vd_xml_set_prop(c, name, value);
    if (!vd_xml_is_empty(c))
        return;
    vd_xml_prune(c);
    /* The child the value came from is gone: a later one of the same name,
     * which the parser never read (it reads the first), would take its
     * place at the next parse and change the definition (a second
     * <target dev=...> in an <interface>: fuzz/xml-domain.c). Dropped too,
     * as libvirt drops what it did not read. */
    vd_xml_remove_all(node, child);
}

static void
set_boot_order(xmlNode *node, guint order, const char *const *child_order)
{
    if (order == 0) {
        vd_xml_remove_all(node, "boot");
        return;
    }
    vd_xml_set_prop_int(vd_xml_ensure(node, "boot", child_order), "order", order);
}

/* A yes/no attribute whose absence means no: "no" is written only when
 * the user wrote the attribute. */
static void
set_yes_no(xmlNode *node, const char *name, gboolean value)
{
    g_autofree char *old = vd_xml_prop(node, name);
    vd_xml_set_prop(node, name, value ? "yes" : old ? "no" : NULL);
}

static xmlNode *
format_disk(xmlDoc *doc, const VdDiskDef *d)
{
    /* The attributes of <source> that a typed source owns, by disk type. */
    static const char *const typed_source[] = {"file", "dev", "dir", "pool", "volume", NULL};
    xmlNode *n = start_node(doc, d->xml, "disk");
    xmlNode *drv = vd_xml_child(n, "driver");
    xmlNode *target;

    vd_xml_set_prop(n, "type", vd_disk_type_to_string(d->type));
    vd_xml_set_prop(n, "device", vd_disk_device_to_string(d->device));

    if (drv || d->format != VD_DISK_FORMAT_NONE || d->cache) {
        if (!drv) {
            drv = vd_xml_ensure(n, "driver", disk_order);
            vd_xml_set_prop(drv, "name", "qemu");
        }
        vd_xml_set_prop(drv, "type", vd_disk_format_to_string(d->format));
        vd_xml_set_prop(drv, "cache", d->cache);
    }

    if (d->type != VD_DISK_TYPE_NETWORK) {
        xmlNode *src = vd_xml_child(n, "source");
        const char *want[2][2] = {{NULL, NULL}, {NULL, NULL}};

        switch (d->type) {
        case VD_DISK_TYPE_FILE:
            want[0][0] = "file", want[0][1] = d->source_file;
            break;
        case VD_DISK_TYPE_BLOCK:
            want[0][0] = "dev", want[0][1] = d->source_file;
            break;
        case VD_DISK_TYPE_DIR:
            want[0][0] = "dir", want[0][1] = d->source_file;
            break;
        case VD_DISK_TYPE_VOLUME:
            want[0][0] = "pool", want[0][1] = d->source_pool;
            want[1][0] = "volume", want[1][1] = d->source_volume;
            break;
        case VD_DISK_TYPE_NETWORK:
        case VD_DISK_TYPE_LAST:
            break;
        }
        if (!src && (want[0][1] || want[1][1]))
            src = vd_xml_ensure(n, "source", disk_order);
        if (src) {
            for (guint i = 0; typed_source[i]; i++)
                vd_xml_set_prop(src, typed_source[i], NULL);
            for (guint i = 0; i < 2; i++) {
                if (want[i][0])
                    vd_xml_set_prop(src, want[i][0], want[i][1]);
            }
            vd_xml_prune(src);
        }
    }

    target = vd_xml_ensure(n, "target", disk_order);
    vd_xml_set_prop(target, "dev", d->target_dev);
    vd_xml_set_prop(target, "bus", vd_disk_bus_to_string(d->bus));
    vd_xml_order_props(target, (const char *const[]){"dev", "bus", NULL});
    vd_xml_order_props(n, (const char *const[]){"type", "device", NULL});
    if (drv)
        vd_xml_order_props(drv, (const char *const[]){"name", "type", "cache", NULL});
    set_boot_order(n, d->boot_order, disk_order);
    vd_xml_set_child_flag(n, "readonly", d->readonly, disk_order);
    vd_xml_set_child_flag(n, "shareable", d->shareable, disk_order);
    vd_xml_set_child_text(n, "serial", d->serial, disk_order);
    return n;
}

static xmlNode *
format_interface(xmlDoc *doc, const VdNetDef *net, VdDomainFormatFlags flags)
{
    static const char *const typed_source[] = {"network", "bridge", "dev", NULL};
    xmlNode *n = start_node(doc, net->xml, "interface");
    xmlNode *src;
    const char *source_attr = NULL;
    gboolean live = (flags & VD_DOMAIN_FORMAT_LIVE) != 0;

    /* One of each: the parser read the first (a second <model> or <mac>
     * kept beside the edited first made the format no fixed point:
     * fuzz/xml-domain.c); libvirt drops what it did not read. */
    static const char *const single[] = {"mac", "source", "target", "model", "link",
                                         "mtu", "alias",  NULL};
    for (guint i = 0; single[i]; i++)
        vd_xml_remove_later(n, single[i]);
    vd_xml_set_prop(n, "type", vd_net_type_to_string(net->type));
    set_child_prop(n, "mac", "address", net->mac, interface_order);

    switch (net->type) {
    case VD_NET_NETWORK:
        source_attr = "network";
        break;
    case VD_NET_BRIDGE:
        source_attr = "bridge";
        break;
    case VD_NET_DIRECT:
        source_attr = "dev";
        break;
    case VD_NET_USER:
    case VD_NET_ETHERNET:
    case VD_NET_LAST:
        break;
    }
    src = vd_xml_child(n, "source");
    if (!src && source_attr && net->source)
        src = vd_xml_ensure(n, "source", interface_order);
    if (src) {
        for (guint i = 0; typed_source[i]; i++) {
            if (!source_attr || strcmp(typed_source[i], source_attr) != 0)
                vd_xml_set_prop(src, typed_source[i], NULL);
        }
        if (source_attr)
            vd_xml_set_prop(src, source_attr, net->source);
        vd_xml_set_prop(src, "portgroup", net->portgroup);
        vd_xml_set_prop(src, "mode", net->type == VD_NET_DIRECT ? net->source_mode : NULL);
        vd_xml_order_props(
            src, (const char *const[]){"network", "bridge", "dev", "portgroup", "mode", NULL});
        vd_xml_prune(src);
    }
    /* The tap name is chosen at start: as libvirt, names the daemon
     * generates (vnetN, macvtapN) are not kept in the persistent
     * definition, a name the user chose is. */
    const char *target = net->target_dev;
    if (!live && target &&
        (g_str_has_prefix(target, "vnet") || g_str_has_prefix(target, "macvtap")))
        target = NULL;
    set_child_prop(n, "target", "dev", target, interface_order);
    set_child_prop(n, "model", "type", net->model, interface_order);
    set_child_prop(n, "link", "state", net->link_state, interface_order);
    g_autofree char *mtu = net->mtu ? g_strdup_printf("%u", net->mtu) : NULL;
    set_child_prop(n, "mtu", "size", mtu, interface_order);
    set_boot_order(n, net->boot_order, interface_order);
    /* The QEMU device id: only a user's own ("ua-...") is persistent. */
    const char *alias = net->alias;
    if (!live && alias && !g_str_has_prefix(alias, "ua-"))
        alias = NULL;
    set_child_prop(n, "alias", "name", alias, interface_order);
    return n;
}

static xmlNode *
format_chr(xmlDoc *doc, const VdChrDef *c, const char *kind, VdDomainFormatFlags flags)
{
    xmlNode *n = start_node(doc, c->xml, kind);
    xmlNode *src;
    xmlNode *target;
    gboolean live = (flags & VD_DOMAIN_FORMAT_LIVE) != 0;

    vd_xml_set_prop(n, "type", vd_chr_type_to_string(c->type));
    switch (c->type) {
    case VD_CHR_PTY:
        /* The pty exists only while the domain runs. */
        vd_xml_set_prop(n, "tty", live ? c->path : NULL);
        set_child_prop(n, "source", "path", live ? c->path : NULL, chr_order);
        break;
    case VD_CHR_FILE:
        set_child_prop(n, "source", "path", c->path, chr_order);
        if ((src = vd_xml_child(n, "source"))) {
            g_autofree char *old = vd_xml_prop(src, "append");
            vd_xml_set_prop(src, "append", c->log_append ? "on" : old ? "off" : NULL);
        }
        break;
    case VD_CHR_UNIX:
        src = vd_xml_ensure(n, "source", chr_order);
        vd_xml_set_prop(src, "mode", c->unix_listen ? "bind" : "connect");
        vd_xml_set_prop(src, "path", c->path);
        break;
    case VD_CHR_NULL:
    case VD_CHR_STDIO:
    case VD_CHR_TCP:
    case VD_CHR_UDP:
    case VD_CHR_SPICEVMC:
    case VD_CHR_LAST:
        break;
    }

    target = vd_xml_child(n, "target");
    if (target || c->target_type || c->target_port >= 0 || c->target_name) {
        target = vd_xml_ensure(n, "target", chr_order);
        vd_xml_set_prop(target, "type", c->target_type);
        if (c->target_port >= 0)
            vd_xml_set_prop_int(target, "port", c->target_port);
        else
            vd_xml_set_prop(target, "port", NULL);
        vd_xml_set_prop(target, "name", c->target_name);
        vd_xml_order_props(target, (const char *const[]){"type", "port", "name", NULL});
    }
    return n;
}

static xmlNode *
format_graphics(xmlDoc *doc, const VdGraphicsDef *g, VdDomainFormatFlags flags)
{
    xmlNode *n = start_node(doc, g->xml, "graphics");
    gboolean has_port = g->type == VD_GRAPHICS_VNC || g->type == VD_GRAPHICS_SPICE;
    gboolean have_address_listen = FALSE;
    xmlNode *l;

    vd_xml_set_prop(n, "type", vd_graphics_type_to_string(g->type));
    if (has_port) {
        int port = g->port;
        if (!(flags & VD_DOMAIN_FORMAT_LIVE) && g->autoport)
            port = -1;
        vd_xml_set_prop_int(n, "port", port);
        vd_xml_set_prop(n, "autoport", g->autoport ? "yes" : "no");
    }
    if (g->websocket >= 0) {
        vd_xml_set_prop_int(n, "websocket", g->websocket);
    } else {
        /* websocket='-1' asks for a port chosen at start: keep it. */
        g_autofree char *old = vd_xml_prop(n, "websocket");
        if (g_strcmp0(old, "-1") != 0)
            vd_xml_set_prop(n, "websocket", NULL);
    }
    vd_xml_set_prop(n, "listen", g->listen);
    /* libvirt writes the address twice, as listen= and as the first
     * <listen type='address'>; other <listen> children are left alone. */
    for (l = vd_xml_child(n, "listen"); l; l = vd_xml_next(l, "listen")) {
        g_autofree char *type = vd_xml_prop(l, "type");
        if (g_strcmp0(type, "address") == 0) {
            vd_xml_set_prop(l, "address", g->listen);
            have_address_listen = TRUE;
            break;
        }
    }
    if (g->listen && !have_address_listen) {
        l = xmlNewDocNode(doc, NULL, (const xmlChar *)"listen", NULL);
        vd_xml_set_prop(l, "type", "address");
        vd_xml_set_prop(l, "address", g->listen);
        vd_xml_insert(n, l, graphics_order);
    }
    vd_xml_set_prop(n, "passwd", (flags & VD_DOMAIN_FORMAT_SECURE) ? g->passwd : NULL);
    vd_xml_order_props(n, (const char *const[]){"type", "port", "tlsPort", "autoport", "websocket",
                                                "listen", "passwd", NULL});
    return n;
}

static xmlNode *
format_video(xmlDoc *doc, const VdVideoDef *v)
{
    xmlNode *n = start_node(doc, v->xml, "video");
    xmlNode *m = vd_xml_ensure(n, "model", video_order);

    vd_xml_set_prop(m, "type", vd_video_model_to_string(v->model));
    if (v->vram_kib)
        vd_xml_set_prop_int(m, "vram", v->vram_kib);
    else
        vd_xml_set_prop(m, "vram", NULL);
    if (v->heads)
        vd_xml_set_prop_int(m, "heads", v->heads);
    else
        vd_xml_set_prop(m, "heads", NULL);
    /* qxl's other bars (0: absent). */
    if (v->ram_kib)
        vd_xml_set_prop_int(m, "ram", v->ram_kib);
    if (v->vram64_kib)
        vd_xml_set_prop_int(m, "vram64", v->vram64_kib);
    if (v->vgamem_kib)
        vd_xml_set_prop_int(m, "vgamem", v->vgamem_kib);
    set_yes_no(m, "primary", v->primary);
    vd_xml_order_props(m, (const char *const[]){"type", "ram", "vram", "vram64", "vgamem", "heads",
                                                "primary", NULL});
    return n;
}

static xmlNode *
format_input(xmlDoc *doc, const VdInputDef *in)
{
    xmlNode *n = start_node(doc, in->xml, "input");

    vd_xml_set_prop(n, "type", vd_input_type_to_string(in->type));
    vd_xml_set_prop(n, "bus", vd_input_bus_to_string(in->bus));
    vd_xml_order_props(n, (const char *const[]){"type", "bus", NULL});
    return n;
}

static xmlNode *
format_memballoon(xmlDoc *doc, const VdMemballoonDef *b)
{
    xmlNode *n = start_node(doc, b->xml, "memballoon");
    g_autofree char *period = b->period ? g_strdup_printf("%u", b->period) : NULL;

    vd_xml_set_prop(n, "model", b->model);
    set_child_prop(n, "stats", "period", period, memballoon_order);
    return n;
}

static xmlNode *
format_rng(xmlDoc *doc, const VdRngDef *r)
{
    xmlNode *n = start_node(doc, r->xml, "rng");

    vd_xml_set_prop(n, "model", r->model);
    if (r->backend) {
        xmlNode *b = vd_xml_ensure(n, "backend", rng_order);
        vd_xml_set_prop(b, "model", "random");
        vd_xml_set_text(b, r->backend);
    }
    return n;
}

static xmlNode *
format_panic(xmlDoc *doc, const VdPanicDef *p)
{
    xmlNode *n = start_node(doc, p->xml, "panic");

    vd_xml_set_prop(n, "model", p->model);
    return n;
}

/* An element of the old <devices> with the comments that preceded it. */
typedef struct {
    xmlNode *node;      /* element, or NULL for trailing non-elements */
    GPtrArray *leading; /* xmlNode*: comments, PIs, text */
} Group;

static void
group_free(Group *g)
{
    for (guint i = 0; g->leading && i < g->leading->len; i++)
        xmlFreeNode(g_ptr_array_index(g->leading, i));
    if (g->leading)
        g_ptr_array_unref(g->leading);
    if (g->node)
        xmlFreeNode(g->node);
    g_free(g);
}

static void
emit_leading(xmlNode *devices, Group *g)
{
    for (guint i = 0; g->leading && i < g->leading->len; i++)
        xmlAddChild(devices, g_ptr_array_index(g->leading, i));
    if (g->leading)
        g_ptr_array_set_size(g->leading, 0);
}

static void
emit_group(xmlNode *devices, Group *g)
{
    emit_leading(devices, g);
    if (g->node)
        xmlAddChild(devices, g->node);
    g->node = NULL;
}

static gboolean
is_typed_class(const char *name)
{
    static const char *const typed[] = {"emulator", "disk",  "interface", "serial", "console",
                                        "channel",  "input", "graphics",  "video",  "memballoon",
                                        "rng",      "panic", NULL};
    return g_strv_contains(typed, name);
}

static void
emit_typed(const VdDomainDef *def, xmlDoc *doc, xmlNode *devices, const char *name,
           VdDomainFormatFlags flags)
{
    xmlNode *n;

    if (g_str_equal(name, "emulator")) {
        if (def->emulator) {
            n = xmlNewDocNode(doc, NULL, (const xmlChar *)"emulator", NULL);
            vd_xml_set_text(n, def->emulator);
            xmlAddChild(devices, n);
        }
    } else if (g_str_equal(name, "disk")) {
        for (guint i = 0; i < def->disks->len; i++)
            xmlAddChild(devices, format_disk(doc, g_ptr_array_index(def->disks, i)));
    } else if (g_str_equal(name, "interface")) {
        for (guint i = 0; i < def->interfaces->len; i++)
            xmlAddChild(devices,
                        format_interface(doc, g_ptr_array_index(def->interfaces, i), flags));
    } else if (g_str_equal(name, "serial")) {
        for (guint i = 0; i < def->serials->len; i++)
            xmlAddChild(devices,
                        format_chr(doc, g_ptr_array_index(def->serials, i), "serial", flags));
    } else if (g_str_equal(name, "console")) {
        for (guint i = 0; i < def->consoles->len; i++) {
            const VdChrDef *c = g_ptr_array_index(def->consoles, i);
            g_autoptr(VdChrDef) mirror = NULL;

            /* The first console of type serial is serials[0] under another
             * name: live, it shows that port's pty unless set on its own. */
            if (i == 0 && !c->path && def->serials->len > 0 &&
                g_strcmp0(c->target_type, "serial") == 0) {
                const VdChrDef *s = g_ptr_array_index(def->serials, 0);
                if (s->type == c->type && s->path) {
                    mirror = vd_chr_def_copy(c);
                    mirror->path = g_strdup(s->path);
                    c = mirror;
                }
            }
            xmlAddChild(devices, format_chr(doc, c, "console", flags));
        }
    } else if (g_str_equal(name, "channel")) {
        for (guint i = 0; i < def->channels->len; i++)
            xmlAddChild(devices,
                        format_chr(doc, g_ptr_array_index(def->channels, i), "channel", flags));
    } else if (g_str_equal(name, "input")) {
        for (guint i = 0; i < def->inputs->len; i++)
            xmlAddChild(devices, format_input(doc, g_ptr_array_index(def->inputs, i)));
    } else if (g_str_equal(name, "graphics")) {
        for (guint i = 0; i < def->graphics->len; i++)
            xmlAddChild(devices, format_graphics(doc, g_ptr_array_index(def->graphics, i), flags));
    } else if (g_str_equal(name, "video")) {
        for (guint i = 0; i < def->videos->len; i++)
            xmlAddChild(devices, format_video(doc, g_ptr_array_index(def->videos, i)));
    } else if (g_str_equal(name, "memballoon")) {
        if (def->memballoon)
            xmlAddChild(devices, format_memballoon(doc, def->memballoon));
    } else if (g_str_equal(name, "rng")) {
        for (guint i = 0; i < def->rngs->len; i++)
            xmlAddChild(devices, format_rng(doc, g_ptr_array_index(def->rngs, i)));
    } else if (g_str_equal(name, "panic")) {
        for (guint i = 0; i < def->panics->len; i++)
            xmlAddChild(devices, format_panic(doc, g_ptr_array_index(def->panics, i)));
    }
}

void
vd_domain_format_devices(const VdDomainDef *def, xmlDoc *doc, xmlNode *devices,
                         VdDomainFormatFlags flags)
{
    GPtrArray *groups = g_ptr_array_new_with_free_func((GDestroyNotify)group_free);
    Group *cur = g_new0(Group, 1);
    xmlNode *n = devices->children;

    /* Take the old children apart into groups. */
    while (n) {
        xmlNode *next = n->next;
        xmlUnlinkNode(n);
        if (n->type == XML_ELEMENT_NODE) {
            cur->node = n;
            g_ptr_array_add(groups, cur);
            cur = g_new0(Group, 1);
        } else {
            if (!cur->leading)
                cur->leading = g_ptr_array_new();
            g_ptr_array_add(cur->leading, n);
        }
        n = next;
    }

    /* Lay them out again in libvirt's order, typed classes from the model. */
    for (guint k = 0; vd_devices_child_order[k]; k++) {
        const char *name = vd_devices_child_order[k];
        gboolean typed = is_typed_class(name);

        for (guint i = 0; i < groups->len; i++) {
            Group *g = g_ptr_array_index(groups, i);
            if (!g->node || !vd_xml_is(g->node, name))
                continue;
            if (typed) {
                emit_leading(devices, g);
                xmlFreeNode(g->node);
                g->node = NULL;
            } else {
                emit_group(devices, g);
            }
        }
        if (typed)
            emit_typed(def, doc, devices, name, flags);
    }
    for (guint i = 0; i < groups->len; i++)
        emit_group(devices, g_ptr_array_index(groups, i));
    emit_group(devices, cur);
    group_free(cur);
    g_ptr_array_unref(groups);
}

char *
vd_net_def_format(const VdNetDef *net, VdDomainFormatFlags flags)
{
    vd_xml_init();
    g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlDocSetRootElement(doc, format_interface(doc, net, flags));
    return vd_xml_write_libvirt_style(doc);
}
