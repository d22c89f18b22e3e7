/* <cputune> shares/period/quota, <memtune>, <blkiotune> (domain-restune.h). */
#include "conf/domain-restune.h"

#include <string.h>

#include "conf/domain-private.h"
#include "util/vd-error.h"
#include "util/vd-units.h"

static void
blkio_device_free(gpointer p)
{
    VdBlkioDevice *dev = p;
    g_free(dev->path);
    g_free(dev);
}

VdResTuneDef *
vd_restune_def_new(void)
{
    VdResTuneDef *x = g_new0(VdResTuneDef, 1);
    x->blkio_devices = g_ptr_array_new_with_free_func(blkio_device_free);
    return x;
}

void
vd_restune_def_free(VdResTuneDef *x)
{
    if (!x)
        return;
    g_ptr_array_unref(x->blkio_devices);
    g_free(x);
}

VdResTuneDef *
vd_restune_def_copy(const VdResTuneDef *x)
{
    VdResTuneDef *c = vd_restune_def_new();
    GPtrArray *devices = c->blkio_devices;
    *c = *x;
    c->blkio_devices = devices;
    for (guint i = 0; i < x->blkio_devices->len; i++) {
        const VdBlkioDevice *d = g_ptr_array_index(x->blkio_devices, i);
        VdBlkioDevice *n = g_memdup2(d, sizeof(*d));
        n->path = g_strdup(d->path);
        g_ptr_array_add(devices, n);
    }
    return c;
}

gboolean
vd_restune_is_set(const VdResTuneDef *x)
{
    return x && (x->cpu_shares || x->period || x->quota || x->global_period || x->global_quota ||
                 x->hard_limit_kib || x->soft_limit_kib || x->swap_hard_limit_kib ||
                 x->blkio_weight || x->blkio_devices->len);
}

/* ---- <cputune> -------------------------------------------------------- */

/* An unsigned child element in [min, max]; absent leaves *out alone. */
static gboolean
child_uint(const xmlNode *parent, const char *parent_name, const char *name, guint64 min,
           guint64 max, guint64 *out, GError **error)
{
    const xmlNode *n = vd_xml_child(parent, name);
    if (!n)
        return TRUE;
    g_autofree char *text = vd_xml_text(n);
    g_autofree char *where = g_strdup_printf("<%s><%s>", parent_name, name);
    guint64 v;
    if (!vd_xml_parse_uint(text, where, G_MAXUINT64, &v, error))
        return FALSE;
    /* 0 is libvirt's "not set". */
    if (v != 0 && (v < min || v > max)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "%s %" G_GUINT64_FORMAT " is out of range: use %" G_GUINT64_FORMAT
                    " to %" G_GUINT64_FORMAT ", or remove <%s>",
                    where, v, min, max, name);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

/* <quota>: -1 (or any negative, as libvirt) is unlimited, 0 not set. */
static gboolean
child_quota(const xmlNode *tune, const char *name, gint64 *out, GError **error)
{
    const xmlNode *n = vd_xml_child(tune, name);
    if (!n)
        return TRUE;
    g_autofree char *text = vd_xml_text(n);
    g_autofree char *where = g_strdup_printf("<cputune><%s>", name);
    gint64 v;
    if (!vd_xml_parse_int(text, where, G_MININT64, G_MAXINT64, &v, error))
        return FALSE;
    if (v > 0 && (v < VD_CPU_QUOTA_MIN || v > VD_CPU_QUOTA_MAX)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "%s %" G_GINT64_FORMAT " is out of range: use %d to %lld microseconds "
                    "of CPU time per period, or -1 for no limit",
                    where, v, VD_CPU_QUOTA_MIN, VD_CPU_QUOTA_MAX);
        return FALSE;
    }
    *out = v < 0 ? -1 : v;
    return TRUE;
}

static gboolean
parse_cputune(VdResTuneDef *x, const xmlNode *root, GError **error)
{
    const xmlNode *tune = vd_xml_child(root, "cputune");
    if (!tune)
        return TRUE;
    return child_uint(tune, "cputune", "shares", VD_CPU_SHARES_MIN, VD_CPU_SHARES_MAX,
                      &x->cpu_shares, error) &&
           child_uint(tune, "cputune", "period", VD_CPU_PERIOD_MIN, VD_CPU_PERIOD_MAX, &x->period,
                      error) &&
           child_uint(tune, "cputune", "global_period", VD_CPU_PERIOD_MIN, VD_CPU_PERIOD_MAX,
                      &x->global_period, error) &&
           child_quota(tune, "quota", &x->quota, error) &&
           child_quota(tune, "global_quota", &x->global_quota, error);
}

/* ---- <memtune> -------------------------------------------------------- */

static gboolean
memtune_value(const xmlNode *tune, const char *name, guint64 *kib, GError **error)
{
    const xmlNode *n = vd_xml_child(tune, name);
    if (!n)
        return TRUE;
    g_autofree char *text = vd_xml_text(n);
    g_autofree char *unit = vd_xml_prop(n, "unit");
    g_autofree char *where = g_strdup_printf("<memtune><%s>", name);
    g_autoptr(GError) local = NULL;
    guint64 v, bytes;
    if (!vd_xml_parse_uint(text, where, G_MAXUINT64, &v, error))
        return FALSE;
    if (!vd_units_to_bytes(v, unit, "KiB", &bytes, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid %s unit='%s': %s", where,
                    unit ? unit : "", local->message);
        return FALSE;
    }
    guint64 k = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    if (v == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "%s 0 would leave QEMU no memory: give a size such as <%s "
                    "unit='GiB'>2</%s>, or remove <%s> for no limit",
                    where, name, name, name);
        return FALSE;
    }
    *kib = k >= VD_MEMTUNE_UNLIMITED_KIB ? VD_MEMTUNE_UNLIMITED_KIB : k;
    return TRUE;
}

static gboolean
parse_memtune(VdResTuneDef *x, const xmlNode *root, GError **error)
{
    const xmlNode *tune = vd_xml_child(root, "memtune");
    if (!tune)
        return TRUE;
    return memtune_value(tune, "hard_limit", &x->hard_limit_kib, error) &&
           memtune_value(tune, "soft_limit", &x->soft_limit_kib, error) &&
           memtune_value(tune, "swap_hard_limit", &x->swap_hard_limit_kib, error);
}

/* ---- <blkiotune> ------------------------------------------------------ */

static gboolean
parse_blkio_device(VdResTuneDef *x, const xmlNode *n, GError **error)
{
    const xmlNode *p = vd_xml_child(n, "path");
    g_autofree char *path = p ? vd_xml_text(p) : NULL;
    if (!path || path[0] != '/') {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<blkiotune><device> needs a <path> naming a host block device, "
                    "e.g. <path>/dev/sda</path>%s%s%s",
                    path ? " (not '" : "", path ? path : "", path ? "')" : "");
        return FALSE;
    }
    for (guint i = 0; i < x->blkio_devices->len; i++) {
        const VdBlkioDevice *d = g_ptr_array_index(x->blkio_devices, i);
        if (g_str_equal(d->path, path)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<blkiotune> names the device '%s' twice: merge its <device> elements",
                        path);
            return FALSE;
        }
    }
    g_autofree VdBlkioDevice *dev = g_new0(VdBlkioDevice, 1);
    guint64 weight = 0;
    if (!child_uint(n, "blkiotune><device", "weight", VD_BLKIO_WEIGHT_MIN, VD_BLKIO_WEIGHT_MAX,
                    &weight, error) ||
        !child_uint(n, "blkiotune><device", "read_bytes_sec", 1, G_MAXINT64, &dev->read_bytes_sec,
                    error) ||
        !child_uint(n, "blkiotune><device", "write_bytes_sec", 1, G_MAXINT64, &dev->write_bytes_sec,
                    error) ||
        !child_uint(n, "blkiotune><device", "read_iops_sec", 1, G_MAXINT64, &dev->read_iops_sec,
                    error) ||
        !child_uint(n, "blkiotune><device", "write_iops_sec", 1, G_MAXINT64, &dev->write_iops_sec,
                    error))
        return FALSE;
    dev->weight = (guint)weight;
    dev->path = g_steal_pointer(&path);
    g_ptr_array_add(x->blkio_devices, g_steal_pointer(&dev));
    return TRUE;
}

static gboolean
parse_blkiotune(VdResTuneDef *x, const xmlNode *root, GError **error)
{
    const xmlNode *tune = vd_xml_child(root, "blkiotune");
    if (!tune)
        return TRUE;
    guint64 weight = 0;
    if (!child_uint(tune, "blkiotune", "weight", VD_BLKIO_WEIGHT_MIN, VD_BLKIO_WEIGHT_MAX, &weight,
                    error))
        return FALSE;
    x->blkio_weight = (guint)weight;
    for (const xmlNode *n = vd_xml_child(tune, "device"); n; n = vd_xml_next(n, "device"))
        if (!parse_blkio_device(x, n, error))
            return FALSE;
    return TRUE;
}

gboolean
vd_domain_restune_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    return parse_cputune(def->restune, root, error) && parse_memtune(def->restune, root, error) &&
           parse_blkiotune(def->restune, root, error);
}

/* ---- cross-field checks ----------------------------------------------- */

static gboolean
limited(guint64 kib)
{
    return kib && kib != VD_MEMTUNE_UNLIMITED_KIB;
}

gboolean
vd_domain_restune_validate(const VdDomainDef *def, GError **error)
{
    const VdResTuneDef *x = def->restune;
    /* QEMU needs the guest's RAM and its own overhead: a hard limit below
     * the RAM alone gets QEMU killed by the OOM killer once the guest
     * touches its memory (libvirt's documentation warns; we refuse). */
    if (limited(x->hard_limit_kib) && x->hard_limit_kib < def->memory_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<memtune><hard_limit> %" G_GUINT64_FORMAT " KiB is below the guest's "
                    "<memory> %" G_GUINT64_FORMAT " KiB: QEMU would be killed when the guest "
                    "uses its memory; set at least the memory plus QEMU's overhead (e.g. "
                    "%" G_GUINT64_FORMAT " KiB) or remove <hard_limit>",
                    x->hard_limit_kib, def->memory_kib, def->memory_kib + 256 * 1024);
        return FALSE;
    }
    if (limited(x->swap_hard_limit_kib) && x->hard_limit_kib &&
        x->hard_limit_kib > x->swap_hard_limit_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<memtune><hard_limit> %" G_GUINT64_FORMAT " KiB is above "
                    "<swap_hard_limit> %" G_GUINT64_FORMAT " KiB: the swap limit counts memory "
                    "plus swap, so it must be at least the hard limit",
                    x->hard_limit_kib, x->swap_hard_limit_kib);
        return FALSE;
    }
    if (limited(x->soft_limit_kib) && limited(x->hard_limit_kib) &&
        x->soft_limit_kib > x->hard_limit_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<memtune><soft_limit> %" G_GUINT64_FORMAT " KiB is above <hard_limit> "
                    "%" G_GUINT64_FORMAT " KiB: lower the soft limit or raise the hard one",
                    x->soft_limit_kib, x->hard_limit_kib);
        return FALSE;
    }
    return TRUE;
}
