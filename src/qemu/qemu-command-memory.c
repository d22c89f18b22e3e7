/* Memory hot-plug on the command line: -m size=BASE,slots=N,maxmem=MAX
 * and one memory-backend-ram + pc-dimm / virtio-mem-pci per <memory>
 * device (conf/domain-memory.h), built by build_memory_and_smp so that
 * the devices exist before anything else is placed.
 *
 * The same properties as a hot-plug (qemu-hotplug-memory.c). */
#include "qemu/qemu-command-priv.h"

#include "conf/domain-memory.h"
#include "qemu/qemu-hotplug-memory.h"
#include "util/vd-error.h"

/* QEMU rounds nothing: a size off 2 MiB fails in the guest's memory map.
 * libvirt aligns DIMMs the same way at start. */
static guint64
align_up(guint64 kib)
{
    return (kib + VD_MEMDEV_ALIGN_KIB - 1) / VD_MEMDEV_ALIGN_KIB * VD_MEMDEV_ALIGN_KIB;
}

/* A virtio-mem-pci hot-plugged into a q35 root port, for a QEMU that
 * loads the guest's state: it goes back behind that port, which the
 * command line makes only later (with the controllers). */
static gboolean
behind_root_port(const VdQemuCmd *cmd, const VdMemoryDeviceDef *m)
{
    guint pci_bus, pci_slot;
    return m->model == VD_MEMDEV_VIRTIO_MEM && cmd->paths && cmd->paths->pci_addresses &&
           vd_xml_node_pci_address(m->xml, &pci_bus, &pci_slot) && pci_bus != 0;
}

gboolean
vd_qemu_build_memory(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    const VdMemoryExtDef *x = def->memory_ext;
    guint64 devices = vd_domain_memory_devices_kib(def);

    if (!x->max_kib) {
        /* <currentMemory> is applied by the balloon once the guest runs. */
        g_autofree char *mem = g_strdup_printf("size=%" G_GUINT64_FORMAT "k", def->memory_kib);
        vd_qemu_cmd_opt(cmd, "-m", mem);
        return TRUE;
    }
    if (devices >= def->memory_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "<memory> of %" G_GUINT64_FORMAT
                    " KiB leaves no base memory beside the %" G_GUINT64_FORMAT
                    " KiB of memory devices: <memory> is the total",
                    def->memory_kib, devices);
        return FALSE;
    }
    guint64 base = def->memory_kib - devices, total = base;
    for (guint i = 0; i < x->devices->len; i++)
        total += align_up(((VdMemoryDeviceDef *)g_ptr_array_index(x->devices, i))->size_kib);
    guint64 max = align_up(x->max_kib); /* libvirt's alignment, up */
    if (total > max) {
        g_set_error(
            error, VD_ERROR, VD_ERROR_INVALID_ARG,
            "the memory of %" G_GUINT64_FORMAT " KiB (base and devices, the devices aligned "
            "to 2 MiB) is above <maxMemory> of %" G_GUINT64_FORMAT " KiB: raise <maxMemory>",
            total, max);
        return FALSE;
    }
    g_autofree char *mem = g_strdup_printf(
        "size=%" G_GUINT64_FORMAT "k,slots=%u,maxmem=%" G_GUINT64_FORMAT "k", base, x->slots, max);
    vd_qemu_cmd_opt(cmd, "-m", mem);

    for (guint i = 0; i < x->devices->len; i++) {
        VdMemoryDeviceDef m = *(VdMemoryDeviceDef *)g_ptr_array_index(x->devices, i);
        gboolean vmem = m.model == VD_MEMDEV_VIRTIO_MEM;
        g_autofree char *what = g_strdup_printf("memory device '%s'", m.alias);

        if (!vd_qemu_cmd_need_device(cmd, vmem ? "virtio-mem-pci" : "pc-dimm", what, error))
            return FALSE;
        if (!vmem && !def->features.acpi) {
            /* QEMU: "memory hotplug is not enabled: missing acpi device". */
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: DIMM memory device '%s' needs ACPI: add "
                        "<features><acpi/></features>, or use model='virtio-mem'",
                        m.alias);
            return FALSE;
        }
        m.size_kib = align_up(m.size_kib);
        vd_qemu_cmd_opt_json(cmd, "-object", vd_qemu_memdev_backend(&m));
        /* On q35 the root ports come later in the command line: a
         * virtio-mem-pci given at start stays on pcie.0 (it is resized,
         * never unplugged). */
        if (behind_root_port(cmd, &m))
            continue; /* vd_qemu_build_memory_late */
        JsonObject *dev = vd_qemu_memdev_device(def, &m, NULL);
        /* A hot-plugged virtio-mem-pci, where the saved guest had it. */
        guint pci_bus, pci_slot;
        if (vmem && vd_xml_node_pci_address(m.xml, &pci_bus, &pci_slot))
            vd_qemu_cmd_pin_pci(cmd, dev, pci_bus, pci_slot);
        vd_qemu_cmd_opt_json(cmd, "-device", dev);
    }
    return TRUE;
}

gboolean
vd_qemu_build_memory_late(VdQemuCmd *cmd, GError **error)
{
    const VdMemoryExtDef *x = cmd->def->memory_ext;
    guint pci_bus, pci_slot;
    (void)error;
    for (guint i = 0; x && x->max_kib && i < x->devices->len; i++) {
        const VdMemoryDeviceDef *m = g_ptr_array_index(x->devices, i);
        if (!behind_root_port(cmd, m) || !vd_xml_node_pci_address(m->xml, &pci_bus, &pci_slot))
            continue;
        JsonObject *dev = vd_qemu_memdev_device(cmd->def, m, NULL);
        vd_qemu_cmd_pin_pci(cmd, dev, pci_bus, pci_slot);
        vd_qemu_cmd_opt_json(cmd, "-device", dev);
    }
    return TRUE;
}
