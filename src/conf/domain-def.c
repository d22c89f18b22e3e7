/* Life cycle of the domain model: constructors, free and deep copy.
 *
 * Kept apart from parse and format so that code building definitions by
 * hand (vsh install, the daemon's attach-device) depends only on this and
 * on domain-defaults.c. Every array of a VdDomainDef owns its elements, so
 * removing a device is g_ptr_array_remove_index() and nothing else.
 */
#include "conf/domain-private.h"

#include "conf/domain-cpu-ext.h"
#include "conf/domain-firmware.h"
#include "conf/domain-media.h"
#include "conf/domain-platform.h"
#include "conf/domain-memory.h"
#include "conf/domain-cputune.h"
#include "conf/domain-restune.h"
#include "conf/domain-tpm.h"

#include <string.h>

#include "util/vd-error.h"

static xmlNode *
xml_copy(const xmlNode *n)
{
    return n ? xmlCopyNode((xmlNode *)n, 1) : NULL;
}

static void
xml_free(xmlNode *n)
{
    if (n)
        xmlFreeNode(n);
}

/* ---- devices ---- */

VdDiskDef *
vd_disk_def_new(void)
{
    VdDiskDef *d = g_new0(VdDiskDef, 1);
    d->type = VD_DISK_TYPE_FILE;
    d->device = VD_DISK_DEVICE_DISK;
    d->format = VD_DISK_FORMAT_NONE;
    d->bus = VD_DISK_BUS_LAST;
    return d;
}

void
vd_disk_def_free(VdDiskDef *d)
{
    if (!d)
        return;
    g_free(d->cache);
    g_free(d->source_file);
    g_free(d->source_pool);
    g_free(d->source_volume);
    g_free(d->target_dev);
    g_free(d->serial);
    xml_free(d->xml);
    g_free(d);
}

VdDiskDef *
vd_disk_def_copy(const VdDiskDef *src)
{
    VdDiskDef *d = g_memdup2(src, sizeof(*src));
    d->cache = g_strdup(src->cache);
    d->source_file = g_strdup(src->source_file);
    d->source_pool = g_strdup(src->source_pool);
    d->source_volume = g_strdup(src->source_volume);
    d->target_dev = g_strdup(src->target_dev);
    d->serial = g_strdup(src->serial);
    d->xml = xml_copy(src->xml);
    return d;
}

/* <address type='pci'>: see vd_disk_def_set_pci_address. */
static void
xml_clear_address(xmlNode *n)
{
    for (xmlNode *c = n ? n->children : NULL, *next; c; c = next) {
        next = c->next;
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *)"address")) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
}

static void
xml_set_pci_address(xmlNode **n, const char *element, guint bus, guint slot)
{
    if (!*n)
        *n = xmlNewNode(NULL, (const xmlChar *)element);
    xml_clear_address(*n);
    xmlNode *a = xmlNewChild(*n, NULL, (const xmlChar *)"address", NULL);
    g_autofree char *b = g_strdup_printf("0x%02x", bus);
    g_autofree char *s = g_strdup_printf("0x%02x", slot);
    xmlSetProp(a, (const xmlChar *)"type", (const xmlChar *)"pci");
    xmlSetProp(a, (const xmlChar *)"domain", (const xmlChar *)"0x0000");
    xmlSetProp(a, (const xmlChar *)"bus", (const xmlChar *)b);
    xmlSetProp(a, (const xmlChar *)"slot", (const xmlChar *)s);
    xmlSetProp(a, (const xmlChar *)"function", (const xmlChar *)"0x0");
}

static gboolean
hex_prop(const xmlNode *n, const char *name, guint max, guint *out)
{
    g_autofree char *v = (char *)xmlGetProp((xmlNode *)n, (const xmlChar *)name);
    char *end = NULL;
    if (!v)
        return FALSE;
    guint64 x = g_ascii_strtoull(v, &end, 0);
    if (end == v || *end || x > max)
        return FALSE;
    *out = (guint)x;
    return TRUE;
}

static gboolean
xml_pci_address(const xmlNode *n, guint *bus, guint *slot)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, (const xmlChar *)"address"))
            continue;
        g_autofree char *type = (char *)xmlGetProp((xmlNode *)c, (const xmlChar *)"type");
        guint fn = 0;
        if (g_strcmp0(type, "pci") != 0 || (xmlHasProp((xmlNode *)c, (const xmlChar *)"function") &&
                                            (!hex_prop(c, "function", 7, &fn) || fn != 0)))
            return FALSE;
        return hex_prop(c, "bus", 255, bus) && hex_prop(c, "slot", 31, slot);
    }
    return FALSE;
}

gboolean
vd_xml_node_pci_address(const xmlNode *n, guint *bus, guint *slot)
{
    return xml_pci_address(n, bus, slot);
}

void
vd_xml_node_set_pci_address(xmlNode **n, const char *element, guint bus, guint slot)
{
    xml_set_pci_address(n, element, bus, slot);
}

void
vd_disk_def_clear_pci_address(VdDiskDef *d)
{
    xml_clear_address(d->xml);
}

void
vd_disk_def_set_pci_address(VdDiskDef *d, guint bus, guint slot)
{
    xml_set_pci_address(&d->xml, "disk", bus, slot);
}

gboolean
vd_disk_def_pci_address(const VdDiskDef *d, guint *bus, guint *slot)
{
    return xml_pci_address(d->xml, bus, slot);
}

void
vd_net_def_clear_pci_address(VdNetDef *n)
{
    xml_clear_address(n->xml);
}

void
vd_net_def_set_pci_address(VdNetDef *n, guint bus, guint slot)
{
    xml_set_pci_address(&n->xml, "interface", bus, slot);
}

gboolean
vd_net_def_pci_address(const VdNetDef *n, guint *bus, guint *slot)
{
    return xml_pci_address(n->xml, bus, slot);
}

VdChrDef *
vd_chr_def_new(VdChrType type)
{
    VdChrDef *c = g_new0(VdChrDef, 1);
    c->type = type;
    c->target_port = -1;
    return c;
}

void
vd_chr_def_free(VdChrDef *c)
{
    if (!c)
        return;
    g_free(c->path);
    g_free(c->target_type);
    g_free(c->target_name);
    xml_free(c->xml);
    g_free(c);
}

VdChrDef *
vd_chr_def_copy(const VdChrDef *src)
{
    VdChrDef *c = g_memdup2(src, sizeof(*src));
    c->path = g_strdup(src->path);
    c->target_type = g_strdup(src->target_type);
    c->target_name = g_strdup(src->target_name);
    c->xml = xml_copy(src->xml);
    return c;
}

VdNetDef *
vd_net_def_new(VdNetType type)
{
    VdNetDef *n = g_new0(VdNetDef, 1);
    n->type = type;
    return n;
}

void
vd_net_def_free(VdNetDef *n)
{
    if (!n)
        return;
    g_free(n->mac);
    g_free(n->model);
    g_free(n->source);
    g_free(n->target_dev);
    g_free(n->source_mode);
    g_free(n->portgroup);
    g_free(n->link_state);
    g_free(n->alias);
    xml_free(n->xml);
    g_free(n);
}

VdNetDef *
vd_net_def_copy(const VdNetDef *src)
{
    VdNetDef *n = g_memdup2(src, sizeof(*src));
    n->mac = g_strdup(src->mac);
    n->model = g_strdup(src->model);
    n->source = g_strdup(src->source);
    n->target_dev = g_strdup(src->target_dev);
    n->source_mode = g_strdup(src->source_mode);
    n->portgroup = g_strdup(src->portgroup);
    n->link_state = g_strdup(src->link_state);
    n->alias = g_strdup(src->alias);
    n->xml = xml_copy(src->xml);
    return n;
}

gboolean
vd_net_def_link_up(const VdNetDef *net)
{
    return g_strcmp0(net->link_state, "down") != 0;
}

gboolean
vd_net_def_has_mac_element(const VdNetDef *net)
{
    return net->xml && vd_xml_child(net->xml, "mac") != NULL;
}

/* libvirt's model names of the NICs QEMU emulates on x86 (QEMU 7.2's
 * "-device help", Network devices); all but the virtio ones are QEMU's
 * device names too. Whether the installed QEMU has the device is the argv
 * builder's check. */
static const char *const net_models[] = {
    "virtio",   "virtio-transitional", "virtio-non-transitional",
    "e1000",    "e1000e",              "rtl8139",
    "e1000-82544gc", "e1000-82545em",  "i82550",  "i82551",  "i82557a", "i82557b",
    "i82557c",  "i82558a",             "i82558b", "i82559a", "i82559b", "i82559c",
    "i82559er", "i82562",              "i82801",  "ne2k_pci", "ne2k_isa", "pcnet",
    "tulip",    "vmxnet3",             NULL};

gboolean
vd_net_model_supported(const char *model)
{
    return !model || g_strv_contains(net_models, model);
}

gboolean
vd_net_direct_mode_supported(const char *mode)
{
    return !mode || g_str_equal(mode, "bridge") || g_str_equal(mode, "vepa") ||
           g_str_equal(mode, "private") || g_str_equal(mode, "passthrough");
}

VdGraphicsDef *
vd_graphics_def_new(VdGraphicsType type)
{
    VdGraphicsDef *g = g_new0(VdGraphicsDef, 1);
    g->type = type;
    g->port = -1;
    g->autoport = TRUE;
    g->websocket = -1;
    return g;
}

void
vd_graphics_def_free(VdGraphicsDef *g)
{
    if (!g)
        return;
    g_free(g->listen);
    g_free(g->passwd);
    xml_free(g->xml);
    g_free(g);
}

VdGraphicsDef *
vd_graphics_def_copy(const VdGraphicsDef *src)
{
    VdGraphicsDef *g = g_memdup2(src, sizeof(*src));
    g->listen = g_strdup(src->listen);
    g->passwd = g_strdup(src->passwd);
    g->xml = xml_copy(src->xml);
    return g;
}

VdVideoDef *
vd_video_def_new(void)
{
    VdVideoDef *v = g_new0(VdVideoDef, 1);
    v->model = VD_VIDEO_LAST;
    return v;
}

void
vd_video_def_free(VdVideoDef *v)
{
    if (!v)
        return;
    xml_free(v->xml);
    g_free(v);
}

VdVideoDef *
vd_video_def_copy(const VdVideoDef *src)
{
    VdVideoDef *v = g_memdup2(src, sizeof(*src));
    v->xml = xml_copy(src->xml);
    return v;
}

VdInputDef *
vd_input_def_new(VdInputType type)
{
    VdInputDef *i = g_new0(VdInputDef, 1);
    i->type = type;
    i->bus = VD_INPUT_BUS_LAST;
    return i;
}

void
vd_input_def_free(VdInputDef *i)
{
    if (!i)
        return;
    xml_free(i->xml);
    g_free(i);
}

VdInputDef *
vd_input_def_copy(const VdInputDef *src)
{
    VdInputDef *i = g_memdup2(src, sizeof(*src));
    i->xml = xml_copy(src->xml);
    return i;
}

VdMemballoonDef *
vd_memballoon_def_new(const char *model)
{
    VdMemballoonDef *b = g_new0(VdMemballoonDef, 1);
    b->model = g_strdup(model);
    return b;
}

void
vd_memballoon_def_free(VdMemballoonDef *b)
{
    if (!b)
        return;
    g_free(b->model);
    xml_free(b->xml);
    g_free(b);
}

VdMemballoonDef *
vd_memballoon_def_copy(const VdMemballoonDef *src)
{
    VdMemballoonDef *b = g_memdup2(src, sizeof(*src));
    b->model = g_strdup(src->model);
    b->xml = xml_copy(src->xml);
    return b;
}

VdRngDef *
vd_rng_def_new(const char *backend)
{
    VdRngDef *r = g_new0(VdRngDef, 1);
    r->model = g_strdup("virtio");
    r->backend = g_strdup(backend);
    return r;
}

void
vd_rng_def_free(VdRngDef *r)
{
    if (!r)
        return;
    g_free(r->model);
    g_free(r->backend);
    xml_free(r->xml);
    g_free(r);
}

VdRngDef *
vd_rng_def_copy(const VdRngDef *src)
{
    VdRngDef *r = g_memdup2(src, sizeof(*src));
    r->model = g_strdup(src->model);
    r->backend = g_strdup(src->backend);
    r->xml = xml_copy(src->xml);
    return r;
}

VdPanicDef *
vd_panic_def_new(const char *model)
{
    VdPanicDef *p = g_new0(VdPanicDef, 1);
    p->model = g_strdup(model);
    return p;
}

void
vd_panic_def_free(VdPanicDef *p)
{
    if (!p)
        return;
    g_free(p->model);
    xml_free(p->xml);
    g_free(p);
}

VdPanicDef *
vd_panic_def_copy(const VdPanicDef *src)
{
    VdPanicDef *p = g_memdup2(src, sizeof(*src));
    p->model = g_strdup(src->model);
    p->xml = xml_copy(src->xml);
    return p;
}

/* ---- the definition ---- */

VdDomainDef *
vd_domain_def_new(void)
{
    VdDomainDef *def = g_new0(VdDomainDef, 1);

    def->virt_type = VD_VIRT_KVM;
    def->id = -1;
    def->on_poweroff = VD_LIFECYCLE_DESTROY;
    def->on_reboot = VD_LIFECYCLE_RESTART;
    def->on_crash = VD_LIFECYCLE_DESTROY;
    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vd_disk_def_free);
    def->serials = g_ptr_array_new_with_free_func((GDestroyNotify)vd_chr_def_free);
    def->consoles = g_ptr_array_new_with_free_func((GDestroyNotify)vd_chr_def_free);
    def->channels = g_ptr_array_new_with_free_func((GDestroyNotify)vd_chr_def_free);
    def->interfaces = g_ptr_array_new_with_free_func((GDestroyNotify)vd_net_def_free);
    def->graphics = g_ptr_array_new_with_free_func((GDestroyNotify)vd_graphics_def_free);
    def->videos = g_ptr_array_new_with_free_func((GDestroyNotify)vd_video_def_free);
    def->inputs = g_ptr_array_new_with_free_func((GDestroyNotify)vd_input_def_free);
    def->rngs = g_ptr_array_new_with_free_func((GDestroyNotify)vd_rng_def_free);
    def->panics = g_ptr_array_new_with_free_func((GDestroyNotify)vd_panic_def_free);
    def->unsupported = g_ptr_array_new_with_free_func((GDestroyNotify)vd_unsupported_free);
    def->media = vd_media_def_new();
    def->tpm = vd_tpm_def_new();
    def->fw = vd_firmware_def_new();
    def->cpu_ext = vd_cpu_ext_def_new();
    def->platform = vd_platform_def_new();
    def->memory_ext = vd_memory_ext_def_new();
    def->cputune = vd_cputune_def_new();
    def->restune = vd_restune_def_new();
    return def;
}

void
vd_domain_def_free(VdDomainDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->os.type);
    g_free(def->os.arch);
    g_free(def->os.machine);
    g_free(def->os.kernel);
    g_free(def->os.initrd);
    g_free(def->os.cmdline);
    g_free(def->os.loader);
    g_free(def->os.loader_type);
    g_free(def->os.nvram);
    g_free(def->os.firmware);
    g_free(def->cpu.model);
    g_free(def->cpu.check);
    g_free(def->clock.offset);
    g_free(def->emulator);
    g_clear_pointer(&def->disks, g_ptr_array_unref);
    g_clear_pointer(&def->serials, g_ptr_array_unref);
    g_clear_pointer(&def->consoles, g_ptr_array_unref);
    g_clear_pointer(&def->channels, g_ptr_array_unref);
    g_clear_pointer(&def->interfaces, g_ptr_array_unref);
    g_clear_pointer(&def->graphics, g_ptr_array_unref);
    g_clear_pointer(&def->videos, g_ptr_array_unref);
    g_clear_pointer(&def->inputs, g_ptr_array_unref);
    g_clear_pointer(&def->rngs, g_ptr_array_unref);
    g_clear_pointer(&def->panics, g_ptr_array_unref);
    g_clear_pointer(&def->unsupported, g_ptr_array_unref);
    vd_memballoon_def_free(def->memballoon);
    vd_media_def_free(def->media);
    vd_tpm_def_free(def->tpm);
    vd_firmware_def_free(def->fw);
    vd_cpu_ext_def_free(def->cpu_ext);
    vd_platform_def_free(def->platform);
    vd_memory_ext_def_free(def->memory_ext);
    vd_cputune_def_free(def->cputune);
    vd_restune_def_free(def->restune);
    if (def->doc)
        xmlFreeDoc(def->doc);
    g_free(def);
}

typedef gpointer (*CopyFunc)(gconstpointer src);

static void
copy_array(GPtrArray *dst, const GPtrArray *src, CopyFunc copy)
{
    for (guint i = 0; src && i < src->len; i++)
        g_ptr_array_add(dst, copy(g_ptr_array_index(src, i)));
}

VdDomainDef *
vd_domain_def_copy(const VdDomainDef *src)
{
    VdDomainDef *def = vd_domain_def_new();

    def->virt_type = src->virt_type;
    def->id = src->id;
    def->name = g_strdup(src->name);
    memcpy(def->uuid, src->uuid, sizeof(def->uuid));
    def->title = g_strdup(src->title);
    def->description = g_strdup(src->description);
    def->memory_kib = src->memory_kib;
    def->current_memory_kib = src->current_memory_kib;
    def->vcpus = src->vcpus;
    def->vcpus_current = src->vcpus_current;

    def->os = src->os;
    def->os.type = g_strdup(src->os.type);
    def->os.arch = g_strdup(src->os.arch);
    def->os.machine = g_strdup(src->os.machine);
    def->os.kernel = g_strdup(src->os.kernel);
    def->os.initrd = g_strdup(src->os.initrd);
    def->os.cmdline = g_strdup(src->os.cmdline);
    def->os.loader = g_strdup(src->os.loader);
    def->os.loader_type = g_strdup(src->os.loader_type);
    def->os.nvram = g_strdup(src->os.nvram);
    def->os.firmware = g_strdup(src->os.firmware);

    def->features = src->features;
    def->cpu = src->cpu;
    def->cpu.model = g_strdup(src->cpu.model);
    def->cpu.check = g_strdup(src->cpu.check);
    def->clock.offset = g_strdup(src->clock.offset);
    def->on_poweroff = src->on_poweroff;
    def->on_reboot = src->on_reboot;
    def->on_crash = src->on_crash;
    def->emulator = g_strdup(src->emulator);

    copy_array(def->disks, src->disks, (CopyFunc)vd_disk_def_copy);
    copy_array(def->serials, src->serials, (CopyFunc)vd_chr_def_copy);
    copy_array(def->consoles, src->consoles, (CopyFunc)vd_chr_def_copy);
    copy_array(def->channels, src->channels, (CopyFunc)vd_chr_def_copy);
    copy_array(def->interfaces, src->interfaces, (CopyFunc)vd_net_def_copy);
    copy_array(def->graphics, src->graphics, (CopyFunc)vd_graphics_def_copy);
    copy_array(def->videos, src->videos, (CopyFunc)vd_video_def_copy);
    copy_array(def->inputs, src->inputs, (CopyFunc)vd_input_def_copy);
    copy_array(def->rngs, src->rngs, (CopyFunc)vd_rng_def_copy);
    copy_array(def->panics, src->panics, (CopyFunc)vd_panic_def_copy);
    copy_array(def->unsupported, src->unsupported, (CopyFunc)vd_unsupported_copy);
    if (src->memballoon)
        def->memballoon = vd_memballoon_def_copy(src->memballoon);
    vd_media_def_free(def->media);
    def->media = vd_media_def_copy(src->media);
    vd_tpm_def_free(def->tpm);
    def->tpm = vd_tpm_def_copy(src->tpm);
    vd_firmware_def_free(def->fw);
    def->fw = vd_firmware_def_copy(src->fw);
    vd_cpu_ext_def_free(def->cpu_ext);
    def->cpu_ext = vd_cpu_ext_def_copy(src->cpu_ext);
    vd_platform_def_free(def->platform);
    def->platform = vd_platform_def_copy(src->platform);
    vd_memory_ext_def_free(def->memory_ext);
    def->memory_ext = vd_memory_ext_def_copy(src->memory_ext);
    vd_cputune_def_free(def->cputune);
    def->cputune = vd_cputune_def_copy(src->cputune);
    vd_restune_def_free(def->restune);
    def->restune = vd_restune_def_copy(src->restune);
    if (src->doc)
        def->doc = xmlCopyDoc(src->doc, 1);
    return def;
}

VdDomainDef *
vd_domain_def_new_from_stored_xml(const char *xml, gssize len, GError **error)
{
    g_autoptr(VdDomainDef) def = vd_domain_def_parse(xml, len, error);

    if (!def)
        return NULL;
    vd_domain_def_apply_defaults(def);
    if (!vd_domain_def_validate(def, error))
        return NULL;
    return g_steal_pointer(&def);
}

VdDomainDef *
vd_domain_def_new_from_xml(const char *xml, gssize len, GError **error)
{
    g_autoptr(VdDomainDef) def = vd_domain_def_new_from_stored_xml(xml, len, error);

    if (!def || !vd_domain_def_validate_input(def, TRUE, error))
        return NULL;
    return g_steal_pointer(&def);
}

void
vd_domain_def_update_unsupported(VdDomainDef *def)
{
    g_autoptr(xmlDoc) doc = vd_domain_def_to_doc(def, VD_DOMAIN_FORMAT_INACTIVE);

    g_clear_pointer(&def->unsupported, g_ptr_array_unref);
    def->unsupported = vd_domain_unsupported_scan(xmlDocGetRootElement(doc));
}
