/* <maxMemory> and the <memory> devices: model, parse, format, copy.
 * The checks are in domain-memory-check.c. See domain-memory.h. */
#include "conf/domain-memory.h"

#include <string.h>

#include "conf/domain-private.h"
#include "conf/xml-writer.h"
#include "util/vd-error.h"
#include "util/vd-units.h"

static const char *const memory_order[] = {"source", "target", "alias", "address", NULL};
static const char *const target_order[] = {"size",    "node",     "label",   "block", "requested",
                                           "current", "readonly", "address", NULL};

/* ---- life cycle ---- */

VdMemoryDeviceDef *
vd_memory_device_def_new(void)
{
    VdMemoryDeviceDef *m = g_new0(VdMemoryDeviceDef, 1);
    m->node = -1;
    return m;
}

void
vd_memory_device_def_free(VdMemoryDeviceDef *m)
{
    if (!m)
        return;
    g_free(m->alias);
    if (m->xml)
        xmlFreeNode(m->xml);
    g_free(m);
}

VdMemoryDeviceDef *
vd_memory_device_def_copy(const VdMemoryDeviceDef *m)
{
    VdMemoryDeviceDef *c = g_new0(VdMemoryDeviceDef, 1);
    *c = *m;
    c->alias = g_strdup(m->alias);
    c->xml = m->xml ? xmlCopyNode(m->xml, 1) : NULL;
    return c;
}

VdMemoryExtDef *
vd_memory_ext_def_new(void)
{
    VdMemoryExtDef *x = g_new0(VdMemoryExtDef, 1);
    x->devices = g_ptr_array_new_with_free_func((GDestroyNotify)vd_memory_device_def_free);
    return x;
}

void
vd_memory_ext_def_free(VdMemoryExtDef *x)
{
    if (!x)
        return;
    g_ptr_array_unref(x->devices);
    g_free(x);
}

VdMemoryExtDef *
vd_memory_ext_def_copy(const VdMemoryExtDef *x)
{
    VdMemoryExtDef *c = vd_memory_ext_def_new();
    c->max_kib = x->max_kib;
    c->slots = x->slots;
    for (guint i = 0; i < x->devices->len; i++)
        g_ptr_array_add(c->devices, vd_memory_device_def_copy(g_ptr_array_index(x->devices, i)));
    return c;
}

const char *
vd_memdev_model_to_string(VdMemdevModel m)
{
    return m == VD_MEMDEV_VIRTIO_MEM ? "virtio-mem" : "dimm";
}

/* ---- parse ---- */

/* A size element (<maxMemory>, <size>, <block> ...) in KiB, libvirt's
 * default unit; 0 and absent are told apart by *@present. */
static gboolean
parse_size(const xmlNode *node, const char *where, guint64 *kib, GError **error)
{
    g_autofree char *text = vd_xml_text(node);
    g_autofree char *unit = vd_xml_prop(node, "unit");
    g_autoptr(GError) local = NULL;
    guint64 value, bytes;

    if (!vd_xml_parse_uint(g_strstrip(text), where, G_MAXUINT64, &value, error))
        return FALSE;
    if (!vd_units_to_bytes(value, unit, "KiB", &bytes, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid %s unit='%s': %s", where,
                    unit ? unit : "", local->message);
        return FALSE;
    }
    *kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    return TRUE;
}

static gboolean
parse_device(const xmlNode *node, VdMemoryDeviceDef **out, GError **error)
{
    g_autoptr(VdMemoryDeviceDef) m = vd_memory_device_def_new();
    g_autofree char *model = vd_xml_prop(node, "model");
    const xmlNode *target = vd_xml_child(node, "target"), *n;

    if (g_strcmp0(model, "dimm") == 0) {
        m->model = VD_MEMDEV_DIMM;
    } else if (g_strcmp0(model, "virtio-mem") == 0) {
        m->model = VD_MEMDEV_VIRTIO_MEM;
    } else if (model && (g_str_equal(model, "nvdimm") || g_str_equal(model, "virtio-pmem") ||
                         g_str_equal(model, "sgx-epc"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: <memory model='%s'> is not supported: virtd "
                    "runs model='dimm' and model='virtio-mem'",
                    model);
        return FALSE;
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid <memory model='%s'>: expected 'dimm' or 'virtio-mem'",
                    model ? model : "");
        return FALSE;
    }
    if (!target || !(n = vd_xml_child(target, "size"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<memory model='%s'> needs <target><size unit='MiB'>N</size></target>", model);
        return FALSE;
    }
    if (!parse_size(n, "<memory><target><size>", &m->size_kib, error))
        return FALSE;
    if ((n = vd_xml_child(target, "node"))) {
        g_autofree char *text = vd_xml_text(n);
        gint64 v;
        if (!vd_xml_parse_int(g_strstrip(text), "<memory><target><node>", 0, 255, &v, error))
            return FALSE;
        m->node = (int)v;
    }
    if ((n = vd_xml_child(target, "block")) &&
        !parse_size(n, "<memory><target><block>", &m->block_kib, error))
        return FALSE;
    if ((n = vd_xml_child(target, "requested")) &&
        !parse_size(n, "<memory><target><requested>", &m->requested_kib, error))
        return FALSE;
    if ((n = vd_xml_child(target, "current")) &&
        !parse_size(n, "<memory><target><current>", &m->current_kib, error))
        return FALSE;
    if (m->model == VD_MEMDEV_VIRTIO_MEM && !m->block_kib)
        m->block_kib = VD_MEMDEV_ALIGN_KIB; /* QEMU's default on x86 */
    m->alias = vd_xml_prop(vd_xml_child(node, "alias"), "name");
    m->xml = xmlCopyNode((xmlNode *)node, 1);
    *out = g_steal_pointer(&m);
    return TRUE;
}

gboolean
vd_domain_memory_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    VdMemoryExtDef *x = def->memory_ext;
    const xmlNode *n = vd_xml_child(root, "maxMemory"), *devices;

    g_ptr_array_set_size(x->devices, 0);
    x->max_kib = 0;
    x->slots = 0;
    if (n) {
        gboolean present = FALSE;
        if (!parse_size(n, "<maxMemory>", &x->max_kib, error) ||
            !vd_xml_prop_uint(n, "slots", "<maxMemory slots=>", 255, &x->slots, &present, error))
            return FALSE;
        if (!present || x->max_kib == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "both maximum memory size and memory slot count must be specified: "
                        "give <maxMemory slots='4' unit='GiB'>4</maxMemory>");
            return FALSE;
        }
    }
    if ((devices = vd_xml_child(root, "devices"))) {
        for (n = vd_xml_child(devices, "memory"); n; n = vd_xml_next(n, "memory")) {
            VdMemoryDeviceDef *m = NULL;
            if (!parse_device(n, &m, error))
                return FALSE;
            g_ptr_array_add(x->devices, m);
        }
    }
    vd_domain_memory_assign_aliases(def);
    return TRUE;
}

VdMemoryDeviceDef *
vd_memory_device_def_new_from_xml(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    VdMemoryDeviceDef *m = NULL;
    xmlNode *root;

    vd_xml_init();
    if (xml && *xml)
        doc = xmlReadMemory(xml, (int)strlen(xml), "memory.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || root->ns || !vd_xml_is(root, "memory")) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "XML error: expected one <memory model='dimm'|'virtio-mem'> element");
        return NULL;
    }
    if (!parse_device(root, &m, error))
        return NULL;
    return m;
}

/* ---- aliases ---- */

static const char *
alias_prefix(VdMemdevModel model)
{
    return model == VD_MEMDEV_VIRTIO_MEM ? "virtiomem" : "dimm";
}

char *
vd_domain_memory_free_alias(const VdDomainDef *def, VdMemdevModel model)
{
    for (guint n = 0;; n++) {
        g_autofree char *alias = g_strdup_printf("%s%u", alias_prefix(model), n);
        if (vd_domain_memory_find_alias(def, alias) < 0)
            return g_steal_pointer(&alias);
    }
}

void
vd_domain_memory_assign_aliases(VdDomainDef *def)
{
    GPtrArray *devs = def->memory_ext->devices;
    for (guint i = 0; i < devs->len; i++) {
        VdMemoryDeviceDef *m = g_ptr_array_index(devs, i);
        if (!m->alias)
            m->alias = vd_domain_memory_free_alias(def, m->model);
    }
}

int
vd_domain_memory_find_alias(const VdDomainDef *def, const char *alias)
{
    GPtrArray *devs = def->memory_ext->devices;
    for (guint i = 0; alias && i < devs->len; i++) {
        VdMemoryDeviceDef *m = g_ptr_array_index(devs, i);
        if (g_strcmp0(m->alias, alias) == 0)
            return (int)i;
    }
    return -1;
}

guint64
vd_domain_memory_devices_kib(const VdDomainDef *def)
{
    guint64 sum = 0;
    for (guint i = 0; i < def->memory_ext->devices->len; i++)
        sum += ((VdMemoryDeviceDef *)g_ptr_array_index(def->memory_ext->devices, i))->size_kib;
    return sum;
}

void
vd_domain_memory_add(VdDomainDef *def, VdMemoryDeviceDef *m)
{
    def->memory_kib += m->size_kib;
    /* The balloon's target follows a DIMM, as libvirt's attach; a
     * virtio-mem device's memory is what it plugs, not the balloon's. */
    if (m->model == VD_MEMDEV_DIMM && def->current_memory_kib)
        def->current_memory_kib += m->size_kib;
    g_ptr_array_add(def->memory_ext->devices, m);
}

void
vd_domain_memory_remove(VdDomainDef *def, guint i)
{
    VdMemoryDeviceDef *m = g_ptr_array_index(def->memory_ext->devices, i);
    def->memory_kib -= MIN(m->size_kib, def->memory_kib);
    if (m->model == VD_MEMDEV_DIMM && def->current_memory_kib)
        def->current_memory_kib -= MIN(m->size_kib, def->current_memory_kib);
    if (def->current_memory_kib > def->memory_kib)
        def->current_memory_kib = def->memory_kib;
    g_ptr_array_remove_index(def->memory_ext->devices, i);
}

/* ---- format ---- */

static void
set_size(xmlNode *parent, const char *name, guint64 kib, gboolean wanted, const char *const *order)
{
    if (!wanted) {
        vd_xml_remove_all(parent, name);
        return;
    }
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, kib);
    xmlNode *n = vd_xml_ensure(parent, name, order);
    vd_xml_set_text(n, text);
    vd_xml_set_prop(n, "unit", "KiB");
}

static xmlNode *
format_device(const VdMemoryDeviceDef *m, xmlDoc *doc, VdDomainFormatFlags flags)
{
    gboolean live = (flags & VD_DOMAIN_FORMAT_LIVE) != 0;
    xmlNode *n = m->xml ? xmlDocCopyNode(m->xml, doc, 1)
                        : xmlNewDocNode(doc, NULL, (const xmlChar *)"memory", NULL);
    xmlNode *t;

    vd_xml_set_prop(n, "model", vd_memdev_model_to_string(m->model));
    vd_xml_order_props(n, (const char *const[]){"model", "access", "discard", NULL});
    t = vd_xml_ensure(n, "target", memory_order);
    set_size(t, "size", m->size_kib, TRUE, target_order);
    if (m->node >= 0) {
        g_autofree char *text = g_strdup_printf("%d", m->node);
        vd_xml_set_child_text(t, "node", text, target_order);
    } else {
        vd_xml_remove_all(t, "node");
    }
    gboolean vmem = m->model == VD_MEMDEV_VIRTIO_MEM;
    set_size(t, "block", m->block_kib, vmem, target_order);
    set_size(t, "requested", m->requested_kib, vmem, target_order);
    set_size(t, "current", m->current_kib, vmem && live, target_order);
    vd_xml_remove_all(n, "alias");
    if (m->alias && (live || g_str_has_prefix(m->alias, "ua-"))) {
        xmlNode *a = xmlNewDocNode(doc, NULL, (const xmlChar *)"alias", NULL);
        vd_xml_set_prop(a, "name", m->alias);
        vd_xml_insert(n, a, memory_order);
    }
    return n;
}

void
vd_domain_memory_format(const VdDomainDef *def, xmlNode *root, VdDomainFormatFlags flags)
{
    const VdMemoryExtDef *x = def->memory_ext;
    xmlNode *devices;

    if (x->max_kib) {
        g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, x->max_kib);
        xmlNode *n = vd_xml_child(root, "maxMemory");
        /* Where libvirt writes it (before <memory>), wherever it was. */
        if (n) {
            xmlUnlinkNode(n);
            vd_xml_insert(root, n, vd_domain_child_order);
        } else {
            n = vd_xml_ensure(root, "maxMemory", vd_domain_child_order);
        }
        vd_xml_set_text(n, text);
        vd_xml_set_prop_int(n, "slots", x->slots);
        vd_xml_set_prop(n, "unit", "KiB");
        vd_xml_order_props(n, (const char *const[]){"slots", "unit", NULL});
    } else {
        vd_xml_remove_all(root, "maxMemory");
    }
    devices = vd_xml_child(root, "devices");
    if (!devices && !x->devices->len)
        return;
    if (!devices)
        devices = vd_xml_ensure(root, "devices", vd_domain_child_order);
    vd_xml_remove_all(devices, "memory");
    /* Each goes after the last device of its rank: the list's order. */
    for (guint i = 0; i < x->devices->len; i++)
        vd_xml_insert(devices, format_device(g_ptr_array_index(x->devices, i), root->doc, flags),
                      vd_devices_child_order);
}

char *
vd_memory_device_def_format(const VdMemoryDeviceDef *m, VdDomainFormatFlags flags)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *n = format_device(m, doc, flags);
    xmlDocSetRootElement(doc, n);
    return vd_xml_write_libvirt_style(doc);
}
