/* The checks of <maxMemory> and the <memory> devices: at define
 * (vd_domain_memory_validate) and before an attach. Every message names
 * the fix. See domain-memory.h. */
#include "conf/domain-memory.h"

#include "conf/domain-private.h"
#include "util/vd-error.h"

static guint
count_dimms(const VdDomainDef *def)
{
    guint n = 0;
    for (guint i = 0; i < def->memory_ext->devices->len; i++)
        n += ((VdMemoryDeviceDef *)g_ptr_array_index(def->memory_ext->devices, i))->model ==
             VD_MEMDEV_DIMM;
    return n;
}

/* One device alone: alignment, virtio-mem's block and requested size.
 * A stored definition may have a DIMM off 2 MiB (libvirt's own example
 * has 524287 KiB): the start aligns it up, as libvirt's; a hot-plug
 * (@strict) must give it aligned, since QEMU would refuse it. */
static gboolean
check_device(const VdMemoryDeviceDef *m, gboolean strict, GError **error)
{
    const char *model = vd_memdev_model_to_string(m->model);

    if (m->size_kib == 0 || (strict && m->size_kib % VD_MEMDEV_ALIGN_KIB)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid <memory model='%s'> size %" G_GUINT64_FORMAT
                    " KiB: it must be a non-zero multiple of 2 MiB (QEMU's page alignment), "
                    "e.g. <size unit='MiB'>128</size>",
                    model, m->size_kib);
        return FALSE;
    }
    if (m->model != VD_MEMDEV_VIRTIO_MEM)
        return TRUE;
    if (m->block_kib < VD_MEMDEV_ALIGN_KIB || (m->block_kib & (m->block_kib - 1))) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid <memory model='virtio-mem'> block size %" G_GUINT64_FORMAT
                    " KiB: it must be a power of two of at least 2 MiB, e.g. <block "
                    "unit='KiB'>2048</block>",
                    m->block_kib);
        return FALSE;
    }
    if (m->size_kib % m->block_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid <memory model='virtio-mem'>: size %" G_GUINT64_FORMAT
                    " KiB is not a multiple of the block size %" G_GUINT64_FORMAT " KiB",
                    m->size_kib, m->block_kib);
        return FALSE;
    }
    return vd_memory_device_check_requested(m, m->requested_kib, error);
}

gboolean
vd_memory_device_check_requested(const VdMemoryDeviceDef *m, guint64 kib, GError **error)
{
    if (kib % m->block_kib) {
        g_set_error(
            error, VD_ERROR, VD_ERROR_INVALID_ARG,
            "invalid argument: requested size %" G_GUINT64_FORMAT
            " KiB of memory device '%s' is not a multiple of its block size %" G_GUINT64_FORMAT
            " KiB",
            kib, m->alias ? m->alias : "virtio-mem", m->block_kib);
        return FALSE;
    }
    if (kib > m->size_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: requested size %" G_GUINT64_FORMAT
                    " KiB of memory device '%s' is above its size %" G_GUINT64_FORMAT
                    " KiB: the size is fixed at start; a larger one needs a new device",
                    kib, m->alias ? m->alias : "virtio-mem", m->size_kib);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_domain_memory_validate(const VdDomainDef *def, GError **error)
{
    const VdMemoryExtDef *x = def->memory_ext;
    guint64 devices = vd_domain_memory_devices_kib(def);

    for (guint i = 0; i < x->devices->len; i++) {
        const VdMemoryDeviceDef *m = g_ptr_array_index(x->devices, i);
        if (!check_device(m, FALSE, error))
            return FALSE;
        for (guint j = 0; j < i; j++) {
            const VdMemoryDeviceDef *o = g_ptr_array_index(x->devices, j);
            if (m->alias && g_strcmp0(m->alias, o->alias) == 0) {
                g_set_error(error, VD_ERROR, VD_ERROR_XML,
                            "two memory devices have the alias '%s': remove one <alias>", m->alias);
                return FALSE;
            }
        }
    }
    if (x->devices->len && !x->max_kib) {
        g_set_error(
            error, VD_ERROR, VD_ERROR_XML,
            "unsupported configuration: cannot use a memory device when domain "
            "'maxMemory' is not defined: add <maxMemory slots='4' unit='GiB'>N</maxMemory>");
        return FALSE;
    }
    if (!x->max_kib)
        return TRUE;
    if (def->memory_kib && devices >= def->memory_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<memory> of %" G_GUINT64_FORMAT " KiB leaves the guest no base memory: "
                    "it is the total, including the %" G_GUINT64_FORMAT
                    " KiB of the memory devices; give the base memory plus the devices",
                    def->memory_kib, devices);
        return FALSE;
    }
    if (def->memory_kib > x->max_kib) {
        g_set_error(
            error, VD_ERROR, VD_ERROR_XML,
            "unsupported configuration: the total memory of %" G_GUINT64_FORMAT
            " KiB (<memory>, with the memory devices) is above <maxMemory> of %" G_GUINT64_FORMAT
            " KiB: raise <maxMemory>",
            def->memory_kib, x->max_kib);
        return FALSE;
    }
    if (x->slots == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<maxMemory slots='0'>: give at least one slot, e.g. slots='4'");
        return FALSE;
    }
    if (count_dimms(def) > x->slots) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "unsupported configuration: %u DIMMs need more than the %u memory slots of "
                    "<maxMemory slots=>: raise slots",
                    count_dimms(def), x->slots);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_domain_memory_check_attach(const VdDomainDef *def, const VdMemoryDeviceDef *m, gboolean live,
                              GError **error)
{
    const VdMemoryExtDef *x = def->memory_ext;
    const char *scope = live ? "the running domain" : "the persistent definition";
    const char *model = vd_memdev_model_to_string(m->model);

    if (!check_device(m, TRUE, error))
        return FALSE;
    if (!x->max_kib) {
        if (live)
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: cannot hot-plug a memory device: the domain "
                        "was started without <maxMemory slots=...>: set it with 'vsh edit' "
                        "(e.g. <maxMemory slots='4' unit='GiB'>4</maxMemory>) and restart the "
                        "domain");
        else
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: cannot use a memory device when domain "
                        "'maxMemory' is not defined: add <maxMemory slots='4' "
                        "unit='GiB'>4</maxMemory> with 'vsh edit'");
        return FALSE;
    }
    if (m->model == VD_MEMDEV_DIMM && count_dimms(def) >= x->slots) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: no free memory slot in %s: all %u slots of "
                    "<maxMemory slots=> hold a DIMM; detach one, or raise slots with 'vsh edit' "
                    "and restart",
                    scope, x->slots);
        return FALSE;
    }
    if (def->memory_kib + m->size_kib > x->max_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: attaching memory device of size '%" G_GUINT64_FORMAT
                    "' KiB would exceed domain's maxMemory config size '%" G_GUINT64_FORMAT
                    "' KiB (%s has %" G_GUINT64_FORMAT " KiB): use a smaller device, or raise "
                    "<maxMemory> with 'vsh edit' and restart",
                    m->size_kib, x->max_kib, scope, def->memory_kib);
        return FALSE;
    }
    if (live && m->model == VD_MEMDEV_DIMM && !def->features.acpi) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: a DIMM is hot-plugged through ACPI, which the "
                    "running domain does not have: use model='virtio-mem', or add "
                    "<features><acpi/></features> with 'vsh edit' and restart");
        return FALSE;
    }
    if (live && m->model == VD_MEMDEV_DIMM && m->size_kib % VD_MEMDEV_LINUX_BLOCK_KIB) {
        /* Linux on x86 adds memory in 128 MiB blocks: the rest of such a
         * DIMM would be plugged but never seen by the guest. */
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: a %s of %" G_GUINT64_FORMAT
                    " KiB is not a multiple of 128 MiB, the memory block a Linux guest onlines: "
                    "give a multiple of 128 MiB (e.g. 128 MiB, 256 MiB)",
                    model, m->size_kib);
        return FALSE;
    }
    if (m->alias && vd_domain_memory_find_alias(def, m->alias) >= 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: %s already has a memory device with alias '%s'", scope,
                    m->alias);
        return FALSE;
    }
    return TRUE;
}

int
vd_domain_memory_find(const VdDomainDef *def, const VdMemoryDeviceDef *m, GError **error)
{
    GPtrArray *devs = def->memory_ext->devices;
    int found = -1;

    if (m->alias) {
        found = vd_domain_memory_find_alias(def, m->alias);
    } else {
        for (guint i = 0; i < devs->len && found < 0; i++) {
            const VdMemoryDeviceDef *o = g_ptr_array_index(devs, i);
            if (o->model == m->model && o->size_kib == m->size_kib &&
                (m->node < 0 || m->node == o->node))
                found = (int)i;
        }
    }
    if (found < 0)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "operation failed: matching memory device was not found%s%s%s",
                    m->alias ? " (alias '" : "", m->alias ? m->alias : "", m->alias ? "')" : "");
    return found;
}
