/* vsh xml's pure half: one change applied to a domain definition with
 * libxml2, and the unified diff of --print-diff. No I/O: the values come
 * from vsh install's option parsers, already planned (a new disk's target
 * and path, a new NIC's MAC), and the daemon validates the result. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh-install-items.h"
#include "vsh-xml.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

void
vsh_xml_result_clear(VshXmlResult *res)
{
    g_clear_pointer(&res->xml, g_free);
    g_clear_pointer(&res->devices, g_ptr_array_unref);
}

/* Blanks dropped on parse so that the writer's indentation is the only
 * one: the old and new XMLs of a diff then differ only where changed. */
static xmlDoc *
parse(const char *xml, const char *what, GError **error)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                XML_PARSE_NOBLANKS | XML_PARSE_NONET | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);

    if (!doc) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "%s is not well-formed XML", what);
        return NULL;
    }
    return doc;
}

static char *
dump_node(xmlNode *node)
{
    xmlBuffer *buf = xmlBufferCreate();
    xmlSaveCtxt *save = xmlSaveToBuffer(buf, NULL, XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    char *out;

    xmlSaveTree(save, node);
    xmlSaveClose(save);
    out = g_strdup_printf("%s\n", (const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}

char *
vsh_xml_normalize(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml, "the domain definition", error);

    return doc ? dump_node(xmlDocGetRootElement(doc)) : NULL;
}

static gboolean
is_elem(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && g_str_equal((const char *)n->name, name);
}

static xmlNode *
child(xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
        if (is_elem(c, name))
            return c;
    }
    return NULL;
}

static char *
attr(xmlNode *n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    char *s = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return s;
}

static void
set_attr(xmlNode *n, const char *name, const char *value)
{
    if (value)
        xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value);
    else
        xmlUnsetProp(n, (const xmlChar *)name);
}

static xmlNode *
ensure_child(xmlNode *parent, const char *name)
{
    xmlNode *c = child(parent, name);

    return c ? c : xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
}

static void
set_text(xmlNode *n, const char *text)
{
    g_autofree xmlChar *esc = xmlEncodeSpecialChars(n->doc, (const xmlChar *)text);

    xmlNodeSetContent(n, esc);
}

static gboolean
get_domain(xmlDoc *doc, xmlNode **root, xmlNode **devices, GError **error)
{
    *root = xmlDocGetRootElement(doc);
    if (!is_elem(*root, "domain")) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "the definition's root is not <domain>");
        return FALSE;
    }
    *devices = ensure_child(*root, "devices");
    return TRUE;
}

/* ---- targets ---- */

static const char *
bus_prefix(const char *bus, gboolean cdrom)
{
    if (!bus)
        bus = cdrom ? "ide" : "virtio";
    if (g_str_equal(bus, "virtio"))
        return "vd";
    if (g_str_equal(bus, "ide"))
        return "hd";
    return "sd";
}

static char *
next_target(xmlNode *devices, const char *bus, gboolean cdrom)
{
    const char *prefix = bus_prefix(bus, cdrom);

    for (char c = 'a'; c <= 'z'; c++) {
        g_autofree char *name = g_strdup_printf("%s%c", prefix, c);
        gboolean used = FALSE;

        for (xmlNode *d = devices->children; d && !used; d = d->next) {
            g_autofree char *dev = is_elem(d, "disk") ? attr(child(d, "target"), "dev") : NULL;

            used = g_strcmp0(dev, name) == 0;
        }
        if (!used)
            return g_steal_pointer(&name);
    }
    return g_strdup_printf("%saa", prefix);
}

char *
vsh_xml_next_target(const char *xml, const char *bus, gboolean cdrom, GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml, "the domain definition", error);
    xmlNode *root, *devices;

    if (!doc || !get_domain(doc, &root, &devices, error))
        return NULL;
    return next_target(devices, bus, cdrom);
}

/* ---- selecting devices ---- */

static const char *
opt_name(VshXmlKind kind)
{
    return kind == VSH_XML_DISK ? "disk" : "network";
}

/* The value of selector key @key for device @dev. */
static char *
dev_key(xmlNode *dev, const char *key)
{
    xmlNode *src = child(dev, "source");

    if (g_str_equal(key, "target"))
        return attr(child(dev, "target"), "dev");
    if (g_str_equal(key, "path")) {
        char *f = attr(src, "file");
        return f ? f : attr(src, "dev");
    }
    if (g_str_equal(key, "mac"))
        return attr(child(dev, "mac"), "address");
    if (g_str_equal(key, "network") || g_str_equal(key, "bridge"))
        return attr(src, key);
    return NULL;
}

/* The devices of @kind that @sel names, in document order; an empty
 * array when none does (the caller says so); NULL on a malformed one. */
static GPtrArray *
select_devices(xmlNode *devices, VshXmlKind kind, const char *sel, GError **error)
{
    const char *elem = kind == VSH_XML_DISK ? "disk" : "interface";
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    g_autoptr(GPtrArray) items = NULL;
    guint64 index;

    for (xmlNode *d = devices->children; d; d = d->next) {
        if (is_elem(d, elem))
            g_ptr_array_add(all, d);
    }
    if (!sel || !*sel)
        sel = "1";
    if (g_str_equal(sel, "all"))
        return g_steal_pointer(&all);
    if (g_ascii_string_to_unsigned(sel, 10, 1, G_MAXUINT32, &index, NULL)) {
        if (index <= all->len)
            g_ptr_array_add(out, g_ptr_array_index(all, index - 1));
        return g_steal_pointer(&out);
    }
    /* The same "key=value,..." syntax as the options themselves. */
    if (!(items = vsh_install_split_items(opt_name(kind), sel, error)))
        return NULL;
    for (guint i = 0; i < items->len; i++) {
        VshInstallItem *it = g_ptr_array_index(items, i);
        static const char *const keys[] = {"target", "path", "mac", "network", "bridge", NULL};

        if (it->key && !g_strv_contains(keys, it->key)) {
            vsh_install_unknown_key(opt_name(kind), it, "target, path, mac, network, bridge",
                                    error);
            return NULL;
        }
    }
    for (guint d = 0; d < all->len; d++) {
        xmlNode *dev = g_ptr_array_index(all, d);
        gboolean match = TRUE;

        for (guint i = 0; i < items->len && match; i++) {
            VshInstallItem *it = g_ptr_array_index(items, i);

            if (it->key) {
                g_autofree char *v = dev_key(dev, it->key);
                match = g_strcmp0(v, it->value) == 0;
            } else {
                /* A bare word: a target, a source path or a MAC. */
                g_autofree char *t = dev_key(dev, "target");
                g_autofree char *p = dev_key(dev, "path");
                g_autofree char *m = dev_key(dev, "mac");
                match = g_strcmp0(t, it->value) == 0 || g_strcmp0(p, it->value) == 0 ||
                        (m && g_ascii_strcasecmp(m, it->value) == 0);
            }
        }
        if (match)
            g_ptr_array_add(out, dev);
    }
    return g_steal_pointer(&out);
}

/* ---- device edits ---- */

static void
edit_disk(xmlNode *disk, const VshInstallDisk *e)
{
    xmlNode *driver = ensure_child(disk, "driver");
    xmlNode *target = ensure_child(disk, "target");

    if (!xmlHasProp(driver, (const xmlChar *)"name"))
        set_attr(driver, "name", "qemu");
    if (e->path) {
        xmlNode *src = ensure_child(disk, "source");

        set_attr(disk, "type", "file");
        set_attr(src, "dev", NULL);
        set_attr(src, "file", e->path);
    }
    if (e->format)
        set_attr(driver, "type", e->format);
    if (e->cache)
        set_attr(driver, "cache", g_str_equal(e->cache, "default") ? NULL : e->cache);
    if (e->bus) {
        xmlNode *addr = child(disk, "address");

        set_attr(target, "bus", e->bus);
        /* The old bus's address means nothing on the new one. */
        if (addr) {
            xmlUnlinkNode(addr);
            xmlFreeNode(addr);
        }
    }
    if (e->cdrom)
        set_attr(disk, "device", "cdrom");
    if (e->has_readonly) {
        xmlNode *ro = child(disk, "readonly");

        if (e->readonly && !ro)
            xmlNewChild(disk, NULL, (const xmlChar *)"readonly", NULL);
        else if (!e->readonly && ro) {
            xmlUnlinkNode(ro);
            xmlFreeNode(ro);
        }
    }
}

static void
edit_interface(xmlNode *iface, const VshInstallNetwork *e)
{
    static const char *const types[] = {
        [VSH_NET_NETWORK] = "network",
        [VSH_NET_BRIDGE] = "bridge",
        [VSH_NET_DIRECT] = "direct",
        [VSH_NET_USER] = "user",
    };

    if (e->kind != VSH_NET_DEFAULT && e->kind != VSH_NET_NONE) {
        xmlNode *src = child(iface, "source");

        set_attr(iface, "type", types[e->kind]);
        if (src) {
            xmlUnlinkNode(src);
            xmlFreeNode(src);
        }
        if (e->kind != VSH_NET_USER) {
            src = xmlNewNode(NULL, (const xmlChar *)"source");
            set_attr(src,
                     e->kind == VSH_NET_NETWORK  ? "network"
                     : e->kind == VSH_NET_BRIDGE ? "bridge"
                                                 : "dev",
                     e->source);
            if (e->kind == VSH_NET_DIRECT && e->source_mode)
                set_attr(src, "mode", e->source_mode);
            /* <source> right after <mac>, where libvirt writes it. */
            xmlNode *mac = child(iface, "mac");
            if (mac)
                xmlAddNextSibling(mac, src);
            else if (iface->children)
                xmlAddPrevSibling(iface->children, src);
            else
                xmlAddChild(iface, src);
        }
    }
    if (e->model)
        set_attr(ensure_child(iface, "model"), "type", e->model);
    if (e->mac)
        set_attr(ensure_child(iface, "mac"), "address", e->mac);
}

/* Adds the device element @fragment to <devices>, after the last of its
 * kind (NICs after the disks when there is none), as libvirt orders them. */
static xmlNode *
add_device(xmlNode *devices, const char *fragment, GError **error)
{
    g_autoptr(xmlDoc) frag = parse(fragment, "the new device", error);
    xmlNode *node, *after = NULL;

    if (!frag)
        return NULL;
    node = xmlDocCopyNode(xmlDocGetRootElement(frag), devices->doc, 1);
    for (xmlNode *d = devices->children; d; d = d->next) {
        if (is_elem(d, (const char *)node->name) ||
            (is_elem(node, "interface") && is_elem(d, "disk") && !child(devices, "interface")))
            after = d;
    }
    if (after)
        xmlAddNextSibling(after, node);
    else if (devices->children)
        xmlAddPrevSibling(devices->children, node);
    else
        xmlAddChild(devices, node);
    return node;
}

/* ---- vCPUs and memory ---- */

static void
apply_vcpus(xmlNode *root, const VshXmlChange *c, VshXmlResult *out)
{
    xmlNode *vcpu = ensure_child(root, "vcpu");
    g_autofree xmlChar *text = xmlNodeGetContent(vcpu);
    guint64 old_max = 0;
    guint max;

    g_ascii_string_to_unsigned(text ? (const char *)text : "", 10, 1, G_MAXUINT32, &old_max, NULL);
    /* maxvcpus= sets the maximum; without it the maximum stays (so a later
     * hot-plug is still possible) unless N is above it. */
    max = c->max_vcpus ? c->max_vcpus : MAX(c->vcpus, (guint)old_max);
    g_autofree char *s = g_strdup_printf("%u", max);
    set_text(vcpu, s);
    if (c->vcpus < max) {
        g_autofree char *cur = g_strdup_printf("%u", c->vcpus);
        set_attr(vcpu, "current", cur);
    } else {
        set_attr(vcpu, "current", NULL);
    }
    out->vcpus = c->vcpus;
}

/* An element's size in KiB, libvirt's units (default KiB). */
static guint64
size_kib(xmlNode *n)
{
    g_autofree char *unit = attr(n, "unit");
    g_autofree xmlChar *text = n ? xmlNodeGetContent(n) : NULL;
    guint64 v = text ? g_ascii_strtoull((const char *)text, NULL, 10) : 0;

    if (!unit || g_ascii_strcasecmp(unit, "KiB") == 0 || g_str_equal(unit, "k"))
        return v;
    if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "bytes") == 0)
        return v / 1024;
    if (g_ascii_strcasecmp(unit, "MiB") == 0 || g_str_equal(unit, "M"))
        return v * 1024;
    if (g_ascii_strcasecmp(unit, "GiB") == 0 || g_str_equal(unit, "G"))
        return v * 1024 * 1024;
    if (g_ascii_strcasecmp(unit, "KB") == 0)
        return v * 1000 / 1024;
    if (g_ascii_strcasecmp(unit, "MB") == 0)
        return v * 1000 * 1000 / 1024;
    if (g_ascii_strcasecmp(unit, "GB") == 0)
        return v * 1000 * 1000 * 1000 / 1024;
    return v;
}

static void
set_kib(xmlNode *n, guint64 kib)
{
    g_autofree char *s = g_strdup_printf("%" G_GUINT64_FORMAT, kib);

    set_attr(n, "unit", "KiB");
    set_text(n, s);
}

static void
apply_memory(xmlNode *root, const VshXmlChange *c, VshXmlResult *out)
{
    xmlNode *mem = ensure_child(root, "memory");
    xmlNode *cur = child(root, "currentMemory");
    guint64 want = c->memory_mib * 1024;
    guint64 max = c->max_memory_mib ? c->max_memory_mib * 1024 : MAX(want, size_kib(mem));

    if (!cur) {
        cur = xmlNewNode(NULL, (const xmlChar *)"currentMemory");
        xmlAddNextSibling(mem, cur);
    }
    set_kib(mem, max);
    set_kib(cur, want);
    out->memory_kib = want;
}

/* ---- the change ---- */

static gboolean
no_match(const VshXmlChange *c, GError **error)
{
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "No matching objects found for --%s %s",
                opt_name(c->kind), c->selector && *c->selector ? c->selector : "1");
    return FALSE;
}

static gboolean
apply_device(xmlNode *devices, const VshXmlChange *c, VshXmlResult *out, GError **error)
{
    g_autoptr(GPtrArray) sel = NULL;

    if (c->action == VSH_XML_ADD) {
        g_autofree char *frag = c->kind == VSH_XML_DISK ? vsh_install_xml_disk(c->disk)
                                                        : vsh_install_xml_interface(c->net);
        xmlNode *node = add_device(devices, frag, error);

        if (!node)
            return FALSE;
        g_ptr_array_add(out->devices, dump_node(node));
        return TRUE;
    }
    if (!(sel = select_devices(devices, c->kind, c->selector, error)))
        return FALSE;
    if (sel->len == 0)
        return no_match(c, error);
    for (guint i = 0; i < sel->len; i++) {
        xmlNode *dev = g_ptr_array_index(sel, i);

        if (c->action == VSH_XML_EDIT) {
            if (c->kind == VSH_XML_DISK)
                edit_disk(dev, c->disk);
            else
                edit_interface(dev, c->net);
            g_ptr_array_add(out->devices, dump_node(dev));
        } else {
            g_ptr_array_add(out->devices, dump_node(dev));
            xmlUnlinkNode(dev);
            xmlFreeNode(dev);
        }
    }
    return TRUE;
}

gboolean
vsh_xml_apply(const char *xml, const VshXmlChange *c, VshXmlResult *out, GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml, "the domain definition", error);
    xmlNode *root, *devices;

    memset(out, 0, sizeof(*out));
    if (!doc || !get_domain(doc, &root, &devices, error))
        return FALSE;
    out->devices = g_ptr_array_new_with_free_func(g_free);
    if (c->kind == VSH_XML_VCPUS || c->kind == VSH_XML_MEMORY) {
        if (c->action != VSH_XML_EDIT) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--%s is not a device: use it with --edit",
                        c->kind == VSH_XML_VCPUS ? "vcpus" : "memory");
            vsh_xml_result_clear(out);
            return FALSE;
        }
        if (c->kind == VSH_XML_VCPUS)
            apply_vcpus(root, c, out);
        else
            apply_memory(root, c, out);
    } else if (!apply_device(devices, c, out, error)) {
        vsh_xml_result_clear(out);
        return FALSE;
    }
    out->xml = dump_node(root);
    return TRUE;
}
