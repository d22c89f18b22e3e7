/* Parsing of the domain's SMBIOS/sysinfo, watchdogs, vsock, controllers, and what this host cannot
 * give (hostdev, launchSecurity, GL) (issue 10): see domain-platform.h. */
#include "conf/domain-platform.h"

#include "conf/domain-private.h"
#include "util/vd-error.h"

static void
sysinfo_entry_free(VdSysinfoEntry *e)
{
    if (!e)
        return;
    g_free(e->name);
    g_free(e->value);
    g_free(e);
}

static VdSysinfoEntry *
sysinfo_entry_copy(const VdSysinfoEntry *e, gpointer unused)
{
    VdSysinfoEntry *c = g_new0(VdSysinfoEntry, 1);
    (void)unused;
    c->type = e->type;
    c->name = g_strdup(e->name);
    c->value = g_strdup(e->value);
    return c;
}

static void
fwcfg_entry_free(VdFwCfgEntry *e)
{
    if (!e)
        return;
    g_free(e->name);
    g_free(e->file);
    g_free(e->value);
    g_free(e);
}

static VdFwCfgEntry *
fwcfg_entry_copy(const VdFwCfgEntry *e, gpointer unused)
{
    VdFwCfgEntry *c = g_new0(VdFwCfgEntry, 1);
    (void)unused;
    c->name = g_strdup(e->name);
    c->file = g_strdup(e->file);
    c->value = g_strdup(e->value);
    return c;
}

static void
watchdog_free(VdWatchdogDef *w)
{
    if (!w)
        return;
    g_free(w->model);
    g_free(w->action);
    g_free(w);
}

static VdWatchdogDef *
watchdog_copy(const VdWatchdogDef *w, gpointer unused)
{
    VdWatchdogDef *c = g_new0(VdWatchdogDef, 1);
    (void)unused;
    c->model = g_strdup(w->model);
    c->action = g_strdup(w->action);
    return c;
}

static void
vsock_free(VdVsockDef *v)
{
    if (!v)
        return;
    g_free(v->model);
    g_free(v);
}

static VdVsockDef *
vsock_copy(const VdVsockDef *v, gpointer unused)
{
    VdVsockDef *c = g_memdup2(v, sizeof(*v));
    (void)unused;
    c->model = g_strdup(v->model);
    return c;
}

static void
controller_free(VdControllerDef *c)
{
    if (!c)
        return;
    g_free(c->type);
    g_free(c->model);
    g_free(c);
}

static VdControllerDef *
controller_copy(const VdControllerDef *c, gpointer unused)
{
    VdControllerDef *n = g_memdup2(c, sizeof(*c));
    (void)unused;
    n->type = g_strdup(c->type);
    n->model = g_strdup(c->model);
    return n;
}

static void
hostdev_free(VdHostdevDef *h)
{
    if (!h)
        return;
    g_free(h->mode);
    g_free(h->type);
    g_free(h);
}

static VdHostdevDef *
hostdev_copy(const VdHostdevDef *h, gpointer unused)
{
    VdHostdevDef *c = g_new0(VdHostdevDef, 1);
    (void)unused;
    c->mode = g_strdup(h->mode);
    c->type = g_strdup(h->type);
    return c;
}

VdPlatformDef *
vd_platform_def_new(void)
{
    VdPlatformDef *x = g_new0(VdPlatformDef, 1);
    x->sysinfo = g_ptr_array_new_with_free_func((GDestroyNotify)sysinfo_entry_free);
    x->fwcfg = g_ptr_array_new_with_free_func((GDestroyNotify)fwcfg_entry_free);
    x->watchdogs = g_ptr_array_new_with_free_func((GDestroyNotify)watchdog_free);
    x->vsocks = g_ptr_array_new_with_free_func((GDestroyNotify)vsock_free);
    x->controllers = g_ptr_array_new_with_free_func((GDestroyNotify)controller_free);
    x->hostdevs = g_ptr_array_new_with_free_func((GDestroyNotify)hostdev_free);
    return x;
}

void
vd_platform_def_free(VdPlatformDef *x)
{
    if (!x)
        return;
    g_clear_pointer(&x->sysinfo, g_ptr_array_unref);
    g_clear_pointer(&x->fwcfg, g_ptr_array_unref);
    g_free(x->smbios_mode_str);
    g_clear_pointer(&x->watchdogs, g_ptr_array_unref);
    g_clear_pointer(&x->vsocks, g_ptr_array_unref);
    g_clear_pointer(&x->controllers, g_ptr_array_unref);
    g_clear_pointer(&x->hostdevs, g_ptr_array_unref);
    g_free(x->launch_security);
    g_free(x->gl_what);
    g_free(x->mem.source);
    g_free(x->mem.access);
    g_free(x);
}

VdPlatformDef *
vd_platform_def_copy(const VdPlatformDef *x)
{
    VdPlatformDef *c = g_new0(VdPlatformDef, 1);
    c->sysinfo = g_ptr_array_copy(x->sysinfo, (GCopyFunc)sysinfo_entry_copy, NULL);
    g_ptr_array_set_free_func(c->sysinfo, (GDestroyNotify)sysinfo_entry_free);
    c->fwcfg = g_ptr_array_copy(x->fwcfg, (GCopyFunc)fwcfg_entry_copy, NULL);
    g_ptr_array_set_free_func(c->fwcfg, (GDestroyNotify)fwcfg_entry_free);
    c->smbios_mode = x->smbios_mode;
    c->smbios_mode_str = g_strdup(x->smbios_mode_str);
    c->watchdogs = g_ptr_array_copy(x->watchdogs, (GCopyFunc)watchdog_copy, NULL);
    g_ptr_array_set_free_func(c->watchdogs, (GDestroyNotify)watchdog_free);
    c->vsocks = g_ptr_array_copy(x->vsocks, (GCopyFunc)vsock_copy, NULL);
    g_ptr_array_set_free_func(c->vsocks, (GDestroyNotify)vsock_free);
    c->controllers = g_ptr_array_copy(x->controllers, (GCopyFunc)controller_copy, NULL);
    g_ptr_array_set_free_func(c->controllers, (GDestroyNotify)controller_free);
    c->hostdevs = g_ptr_array_copy(x->hostdevs, (GCopyFunc)hostdev_copy, NULL);
    g_ptr_array_set_free_func(c->hostdevs, (GDestroyNotify)hostdev_free);
    c->launch_security = g_strdup(x->launch_security);
    c->gl_what = g_strdup(x->gl_what);
    c->mem = x->mem;
    c->mem.source = g_strdup(x->mem.source);
    c->mem.access = g_strdup(x->mem.access);
    return c;
}

/* ---- parse ---- */

static const struct {
    const char *element;
    guint type;
    const char *const names[8]; /* the entry names libvirt accepts */
} smbios_sections[] = {
    {"bios", 0, {"vendor", "version", "date", "release", NULL}},
    {"system", 1, {"manufacturer", "product", "version", "serial", "uuid", "sku", "family", NULL}},
    {"baseBoard", 2, {"manufacturer", "product", "version", "serial", "asset", "location", NULL}},
    {"chassis", 3, {"manufacturer", "version", "serial", "asset", "sku", NULL}},
    {"oemStrings", 11, {NULL}},
};

const char *
vd_sysinfo_section_name(guint type)
{
    for (guint i = 0; i < G_N_ELEMENTS(smbios_sections); i++)
        if (smbios_sections[i].type == type)
            return smbios_sections[i].element;
    return "?";
}

static gboolean
parse_smbios_sysinfo(VdPlatformDef *p, const xmlNode *sysinfo, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(smbios_sections); i++) {
        const xmlNode *sec = vd_xml_child(sysinfo, smbios_sections[i].element);
        if (!sec)
            continue;
        for (const xmlNode *e = vd_xml_child(sec, "entry"); e; e = vd_xml_next(e, "entry")) {
            VdSysinfoEntry *entry = g_new0(VdSysinfoEntry, 1);
            entry->type = smbios_sections[i].type;
            entry->value = vd_xml_text(e);
            g_ptr_array_add(p->sysinfo, entry);
            if (entry->type == 11)
                continue;
            entry->name = vd_xml_prop(e, "name");
            if (!entry->name || !g_strv_contains(smbios_sections[i].names, entry->name)) {
                g_autofree char *known = g_strjoinv(", ", (char **)smbios_sections[i].names);
                return vd_set_error(error, VD_ERROR_XML,
                                    "unknown <sysinfo><%s><entry name='%s'>: expected one of %s",
                                    smbios_sections[i].element, entry->name ? entry->name : "",
                                    known);
            }
        }
    }
    return TRUE;
}

static gboolean
parse_fwcfg_sysinfo(VdPlatformDef *p, const xmlNode *sysinfo, GError **error)
{
    for (const xmlNode *e = vd_xml_child(sysinfo, "entry"); e; e = vd_xml_next(e, "entry")) {
        VdFwCfgEntry *entry = g_new0(VdFwCfgEntry, 1);
        g_ptr_array_add(p->fwcfg, entry);
        entry->name = vd_xml_prop(e, "name");
        entry->file = vd_xml_prop(e, "file");
        entry->value = vd_xml_text(e);
        /* QEMU reserves the names outside opt/ for itself. */
        if (!entry->name || !g_str_has_prefix(entry->name, "opt/"))
            return vd_set_error(error, VD_ERROR_XML,
                                "<sysinfo type='fwcfg'><entry name='%s'>: the name must start with "
                                "'opt/' (e.g. opt/com.example/config)",
                                entry->name ? entry->name : "");
        if (entry->file && entry->value && *g_strstrip(entry->value))
            return vd_set_error(error, VD_ERROR_XML,
                                "<sysinfo type='fwcfg'><entry name='%s'> has both file= and a "
                                "value: give one",
                                entry->name);
    }
    return TRUE;
}

static gboolean
parse_sysinfo(VdPlatformDef *p, const xmlNode *root, GError **error)
{
    for (const xmlNode *s = vd_xml_child(root, "sysinfo"); s; s = vd_xml_next(s, "sysinfo")) {
        g_autofree char *type = vd_xml_prop(s, "type");
        if (g_strcmp0(type, "smbios") == 0) {
            if (!parse_smbios_sysinfo(p, s, error))
                return FALSE;
        } else if (g_strcmp0(type, "fwcfg") == 0) {
            if (!parse_fwcfg_sysinfo(p, s, error))
                return FALSE;
        } else {
            return vd_set_error(error, VD_ERROR_XML,
                                "unknown <sysinfo type='%s'>: expected smbios or fwcfg",
                                type ? type : "");
        }
    }

    const xmlNode *os = vd_xml_child(root, "os");
    const xmlNode *smbios = os ? vd_xml_child(os, "smbios") : NULL;
    if (!smbios)
        return TRUE;
    p->smbios_mode_str = vd_xml_prop(smbios, "mode");
    const char *m = p->smbios_mode_str ? p->smbios_mode_str : "";
    if (g_str_equal(m, "emulate"))
        p->smbios_mode = VD_SMBIOS_EMULATE;
    else if (g_str_equal(m, "host"))
        p->smbios_mode = VD_SMBIOS_HOST;
    else if (g_str_equal(m, "sysinfo"))
        p->smbios_mode = VD_SMBIOS_SYSINFO;
    else
        return vd_set_error(error, VD_ERROR_XML,
                            "unknown <os><smbios mode='%s'>: expected emulate, host or sysinfo", m);
    return TRUE;
}

static gboolean
parse_watchdog(VdPlatformDef *p, const xmlNode *n, GError **error)
{
    static const char *const models[] = {"i6300esb", "ib700", "itco", "diag288", NULL};
    static const char *const actions[] = {"reset", "shutdown", "poweroff",   "pause",
                                          "none",  "dump",     "inject-nmi", NULL};
    VdWatchdogDef *w = g_new0(VdWatchdogDef, 1);
    g_ptr_array_add(p->watchdogs, w);
    w->model = vd_xml_prop(n, "model");
    w->action = vd_xml_prop(n, "action");
    if (!w->model || !g_strv_contains(models, w->model))
        return vd_set_error(error, VD_ERROR_XML,
                            "unknown <watchdog model='%s'>: expected i6300esb, ib700 or itco",
                            w->model ? w->model : "");
    if (w->action && !g_strv_contains(actions, w->action))
        return vd_set_error(error, VD_ERROR_XML,
                            "unknown <watchdog action='%s'>: expected reset, shutdown, poweroff, "
                            "pause, none, dump or inject-nmi",
                            w->action);
    return TRUE;
}

static gboolean
parse_vsock(VdPlatformDef *p, const xmlNode *n, GError **error)
{
    VdVsockDef *v = g_new0(VdVsockDef, 1);
    g_ptr_array_add(p->vsocks, v);
    v->model = vd_xml_prop(n, "model");
    v->auto_cid = TRUE;
    if (v->model && !g_str_equal(v->model, "virtio"))
        return vd_set_error(error, VD_ERROR_XML, "unknown <vsock model='%s'>: expected virtio",
                            v->model);
    const xmlNode *cid = vd_xml_child(n, "cid");
    if (!cid)
        return TRUE;
    gboolean present = FALSE, is_auto = FALSE, auto_present = FALSE;
    if (!vd_xml_prop_bool(cid, "auto", "<vsock><cid auto=>", FALSE, &is_auto, &auto_present,
                          error) ||
        !vd_xml_prop_uint(cid, "address", "<vsock><cid address=>", G_MAXUINT32 - 1, &v->cid,
                          &present, error))
        return FALSE;
    if (present) {
        /* 0-2 are the hypervisor, the loopback and the host. */
        if (v->cid < 3)
            return vd_set_error(error, VD_ERROR_XML,
                                "<vsock><cid address='%u'> is reserved (0-2 are the hypervisor, "
                                "local and host): use 3 or more",
                                v->cid);
        v->auto_cid = auto_present && is_auto;
    }
    return TRUE;
}

static gboolean
parse_controller(VdPlatformDef *p, const xmlNode *n, GError **error)
{
    VdControllerDef *c = g_new0(VdControllerDef, 1);
    g_ptr_array_add(p->controllers, c);
    c->type = vd_xml_prop(n, "type");
    c->model = vd_xml_prop(n, "model");
    c->index = c->ports = c->vectors = c->master_startport = -1;
    guint bus, slot;
    c->pci_bus = c->pci_slot = -1;
    if (vd_xml_node_pci_address(n, &bus, &slot)) {
        c->pci_bus = (int)bus;
        c->pci_slot = (int)slot;
    }
    if (!c->type)
        return vd_set_error(error, VD_ERROR_XML,
                            "missing type= in <controller>: use usb, pci, virtio-serial, "
                            "scsi, sata or ide");
    const xmlNode *master = vd_xml_child(n, "master");
    return vd_xml_prop_int(n, "index", "<controller index=>", 0, 255, &c->index, NULL, error) &&
           vd_xml_prop_int(n, "ports", "<controller ports=>", 1, 255, &c->ports, NULL, error) &&
           vd_xml_prop_int(n, "vectors", "<controller vectors=>", 1, 1024, &c->vectors, NULL,
                           error) &&
           (!master || vd_xml_prop_int(master, "startport", "<controller><master startport=>", 0,
                                       255, &c->master_startport, NULL, error));
}

static gboolean
parse_devices(VdPlatformDef *p, const xmlNode *devices, GError **error)
{
    for (const xmlNode *n = devices->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || n->ns)
            continue;
        gboolean ok = TRUE;
        if (vd_xml_is(n, "watchdog")) {
            ok = parse_watchdog(p, n, error);
        } else if (vd_xml_is(n, "vsock")) {
            ok = parse_vsock(p, n, error);
        } else if (vd_xml_is(n, "controller")) {
            ok = parse_controller(p, n, error);
        } else if (vd_xml_is(n, "hostdev")) {
            VdHostdevDef *h = g_new0(VdHostdevDef, 1);
            h->mode = vd_xml_prop(n, "mode");
            h->type = vd_xml_prop(n, "type");
            g_ptr_array_add(p->hostdevs, h);
        } else if (vd_xml_is(n, "graphics") && !p->gl_what) {
            g_autofree char *type = vd_xml_prop(n, "type");
            const xmlNode *gl = vd_xml_child(n, "gl");
            g_autofree char *enable = gl ? vd_xml_prop(gl, "enable") : NULL;
            if (g_strcmp0(type, "egl-headless") == 0)
                p->gl_what = g_strdup("<graphics type='egl-headless'>");
            else if (g_strcmp0(enable, "yes") == 0)
                p->gl_what =
                    g_strdup_printf("<graphics type='%s'><gl enable='yes'>", type ? type : "");
        } else if (vd_xml_is(n, "video") && !p->gl_what) {
            const xmlNode *model = vd_xml_child(n, "model");
            const xmlNode *accel = model ? vd_xml_child(model, "acceleration") : NULL;
            g_autofree char *accel3d = accel ? vd_xml_prop(accel, "accel3d") : NULL;
            if (g_strcmp0(accel3d, "yes") == 0)
                p->gl_what = g_strdup("<video><model><acceleration accel3d='yes'>");
        }
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_memory_backing(VdMemoryBackingDef *mem, const xmlNode *mb, GError **error)
{
    const xmlNode *n;

    if ((n = vd_xml_child(mb, "hugepages"))) {
        const xmlNode *page = vd_xml_child(n, "page");
        mem->hugepages = TRUE;
        if (page) {
            g_autofree char *size = vd_xml_prop(page, "size");
            g_autofree char *unit = vd_xml_prop(page, "unit");
            guint64 v = 0, mult = 1;
            if (!size || !vd_xml_parse_uint(size, "<memoryBacking><hugepages><page size=>",
                                            G_MAXUINT32, &v, error))
                return size ? FALSE
                            : vd_set_error(error, VD_ERROR_XML,
                                           "missing size= in <memoryBacking><hugepages><page>");
            if (!unit || g_ascii_strcasecmp(unit, "KiB") == 0 || g_str_equal(unit, "k"))
                mult = 1;
            else if (g_ascii_strcasecmp(unit, "MiB") == 0 || g_str_equal(unit, "M"))
                mult = 1024;
            else if (g_ascii_strcasecmp(unit, "GiB") == 0 || g_str_equal(unit, "G"))
                mult = 1024 * 1024;
            else
                return vd_set_error(error, VD_ERROR_XML,
                                    "unknown unit '%s' in <memoryBacking><hugepages><page>: use "
                                    "KiB, MiB or GiB",
                                    unit);
            mem->hugepage_kib = v * mult;
        }
    }
    if ((n = vd_xml_child(mb, "source"))) {
        mem->source = vd_xml_prop(n, "type");
        if (mem->source && !g_str_equal(mem->source, "anonymous") &&
            !g_str_equal(mem->source, "memfd") && !g_str_equal(mem->source, "file"))
            return vd_set_error(error, VD_ERROR_XML,
                                "unknown <memoryBacking><source type='%s'>: expected anonymous, "
                                "memfd or file",
                                mem->source);
    }
    if ((n = vd_xml_child(mb, "access"))) {
        mem->access = vd_xml_prop(n, "mode");
        if (mem->access && !g_str_equal(mem->access, "shared") &&
            !g_str_equal(mem->access, "private"))
            return vd_set_error(error, VD_ERROR_XML,
                                "unknown <memoryBacking><access mode='%s'>: expected shared or "
                                "private",
                                mem->access);
    }
    return TRUE;
}

gboolean
vd_domain_platform_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    VdPlatformDef *p = def->platform;
    const xmlNode *devices = vd_xml_child(root, "devices");
    const xmlNode *ls = vd_xml_child(root, "launchSecurity");

    const xmlNode *mb = vd_xml_child(root, "memoryBacking");
    if (!parse_sysinfo(p, root, error) || (mb && !parse_memory_backing(&p->mem, mb, error)))
        return FALSE;
    if (devices && !parse_devices(p, devices, error))
        return FALSE;
    if (ls) {
        p->launch_security = vd_xml_prop(ls, "type");
        if (!p->launch_security)
            return vd_set_error(error, VD_ERROR_XML,
                                "missing type= in <launchSecurity>: use sev, sev-snp, tdx or "
                                "s390-pv");
    }
    return TRUE;
}

void
vd_platform_def_warnings(const VdDomainDef *def, GPtrArray *out)
{
    const VdPlatformDef *p = def->platform;

    for (guint i = 0; i < p->hostdevs->len; i++) {
        const VdHostdevDef *h = g_ptr_array_index(p->hostdevs, i);
        g_ptr_array_add(out, g_strdup_printf("element <hostdev type='%s'> asks for host device "
                                             "passthrough, which virtd does not do yet: the "
                                             "domain cannot start until it is removed",
                                             h->type ? h->type : ""));
    }
    if (p->launch_security)
        g_ptr_array_add(out, g_strdup_printf("element <launchSecurity type='%s'> needs "
                                             "confidential computing hardware, which virtd does "
                                             "not use yet: the domain cannot start until it is "
                                             "removed",
                                             p->launch_security));
    if (p->gl_what)
        g_ptr_array_add(out, g_strdup_printf("%s asks for OpenGL on the host, which virtd does "
                                             "not do yet: the domain cannot start until it is "
                                             "removed",
                                             p->gl_what));
    if (p->mem.hugepages)
        g_ptr_array_add(out, g_strdup("element <memoryBacking><hugepages> asks for huge pages, "
                                      "which virtd does not use yet: the domain cannot start "
                                      "until it is removed"));
    if (p->vsocks->len)
        g_ptr_array_add(out, g_strdup("element <vsock> needs /dev/vhost-vsock on the host "
                                      "(the vhost_vsock module): start refuses it where the "
                                      "host lacks it"));
}
