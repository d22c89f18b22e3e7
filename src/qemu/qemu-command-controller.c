/* The argv builder's part for <controller> (issue 10, platform family),
 * built before any device so that the devices find their buses and the
 * PCI slots given here explicitly are still free.
 *
 * What libvirt gives the guest, per type:
 *  - usb: the model's device (qemu-xhci with ports=, ich9-ehci1 with its
 *    uhci companions on the same bus ...), id "usb" for index 0;
 *    model='none' means no USB at all;
 *  - pci: pcie-root-port (q35) with libvirt's layout: functions 0-7 of
 *    slots 2, 3 ... of pcie.0, port 0x10 + n, chassis = index, id
 *    "pci.<index>"; they give q35 guests hot-plug slots. pci-bridge,
 *    pcie-to-pci-bridge and dmi-to-pci-bridge likewise; the roots
 *    (pci-root, pcie-root) are the machine's own;
 *  - virtio-serial: with ports= and vectors=; scsi: the model's HBA as
 *    "scsi0" (the disks' bus); sata on pc: an AHCI as "sata0".
 * Devices are still placed by QEMU (<address> is WARN): they land on
 * pcie.0 / pci.0, which every guest OS handles. */
#include "conf/domain-memory.h"
#include "conf/domain-platform.h"
#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

static const struct {
    const char *model;  /* libvirt's */
    const char *driver; /* QEMU's */
    gboolean xhci;      /* ports= gives p2 and p3 */
    gboolean companion; /* an EHCI's UHCI companion (masterbus=, firstport=) */
} usb_models[] = {
    {"qemu-xhci", "qemu-xhci", TRUE, FALSE},
    {"nec-xhci", "nec-usb-xhci", TRUE, FALSE},
    {"ich9-ehci1", "ich9-usb-ehci1", FALSE, FALSE},
    {"ich9-uhci1", "ich9-usb-uhci1", FALSE, TRUE},
    {"ich9-uhci2", "ich9-usb-uhci2", FALSE, TRUE},
    {"ich9-uhci3", "ich9-usb-uhci3", FALSE, TRUE},
    {"piix3-uhci", "piix3-usb-uhci", FALSE, FALSE},
    {"piix4-uhci", "piix4-usb-uhci", FALSE, FALSE},
    {"ehci", "usb-ehci", FALSE, FALSE},
    {"pci-ohci", "pci-ohci", FALSE, FALSE},
    {"vt82c686b-uhci", "vt82c686b-usb-uhci", FALSE, FALSE},
};

static char *
usb_id(int index)
{
    return index <= 0 ? g_strdup("usb") : g_strdup_printf("usb%d", index);
}

static gboolean
build_usb(VdQemuCmd *cmd, const VdControllerDef *c, GError **error)
{
    g_autofree char *what =
        g_strdup_printf("<controller type='usb' model='%s'>", c->model ? c->model : "");
    if (g_strcmp0(c->model, "none") == 0) {
        cmd->usb_none = TRUE;
        return TRUE;
    }
    if (!c->model) {
        /* The default model: the one a USB device would get. */
        if (c->index > 0)
            return vd_set_unsupported(error, "%s: a second USB controller needs a model=", what);
        return vd_qemu_cmd_need_usb(cmd, what, error);
    }
    for (guint i = 0; i < G_N_ELEMENTS(usb_models); i++) {
        if (!g_str_equal(usb_models[i].model, c->model))
            continue;
        if (!vd_qemu_cmd_need_device(cmd, usb_models[i].driver, what, error))
            return FALSE;
        g_autofree char *id = usb_id(c->index);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "driver", usb_models[i].driver);
        if (usb_models[i].companion) {
            g_autofree char *master = g_strdup_printf("%s.0", id);
            g_autofree char *cid =
                g_strdup_printf("%s-companion%d", id, MAX(c->master_startport, 0));
            json_object_set_string_member(o, "id", cid);
            json_object_set_string_member(o, "masterbus", master);
            json_object_set_int_member(o, "firstport", MAX(c->master_startport, 0));
        } else {
            json_object_set_string_member(o, "id", id);
            if (usb_models[i].xhci && c->ports > 0) {
                json_object_set_int_member(o, "p2", c->ports);
                json_object_set_int_member(o, "p3", c->ports);
            } else if (c->ports > 0) {
                vd_qemu_cmd_note(cmd,
                                 "%s: ports='%d' ignored: the model has a fixed number "
                                 "of ports",
                                 what, c->ports);
            }
            if (c->index <= 0)
                cmd->have_usb = TRUE;
        }
        vd_qemu_cmd_opt_json(cmd, "-device", o);
        return TRUE;
    }
    return vd_set_unsupported(error,
                              "%s is not supported: use qemu-xhci, nec-xhci, ich9-ehci1 (with "
                              "ich9-uhci1-3), piix3-uhci, piix4-uhci, ehci, pci-ohci or none",
                              what);
}

/* The next index for a controller written without one (virt-install
 * leaves them to libvirt): the first one no controller of @type uses. */
static int
free_index(const GPtrArray *controllers, const char *type, GHashTable *used)
{
    for (int i = g_str_equal(type, "pci") ? 1 : 0;; i++) {
        g_autofree char *key = g_strdup_printf("%s/%d", type, i);
        gboolean taken = g_hash_table_contains(used, key);
        for (guint k = 0; !taken && k < controllers->len; k++) {
            const VdControllerDef *c = g_ptr_array_index(controllers, k);
            taken = c->index == i && g_str_equal(c->type, type);
        }
        if (!taken) {
            g_hash_table_add(used, g_steal_pointer(&key));
            return i;
        }
    }
}

static gboolean
build_pci(VdQemuCmd *cmd, const VdControllerDef *c, int index, guint *root_ports,
          guint n_root_ports, GError **error)
{
    const char *model =
        c->model ? c->model : (index == 0 ? (cmd->q35 ? "pcie-root" : "pci-root") : "pci-bridge");
    g_autofree char *what = g_strdup_printf("<controller type='pci' model='%s'>", model);
    g_autofree char *id = g_strdup_printf("pci.%d", index);
    const char *driver = NULL;

    if (g_str_equal(model, "pcie-root") || g_str_equal(model, "pci-root")) {
        gboolean want_q35 = g_str_equal(model, "pcie-root");
        if (index != 0 || want_q35 != cmd->q35)
            return vd_set_unsupported(error, "%s (index %d) does not fit machine '%s': %s", what,
                                      index, cmd->machine,
                                      cmd->q35 ? "q35's root is pcie-root, index 0"
                                               : "this machine's root is pci-root, index 0");
        return TRUE; /* the machine's own */
    }
    if (index == 0)
        return vd_set_unsupported(error, "%s cannot have index 0: that is the machine's root bus",
                                  what);

    JsonObject *o = json_object_new();
    if (g_str_equal(model, "pcie-root-port")) {
        if (!cmd->q35) {
            json_object_unref(o);
            return vd_set_unsupported(
                error,
                "%s needs a PCI Express machine: use machine q35 (machine '%s' "
                "has plain PCI: use model 'pci-bridge')",
                what, cmd->machine);
        }
        driver = "pcie-root-port";
        guint n = (*root_ports)++;
        if (cmd->n_root_ports < G_N_ELEMENTS(cmd->root_ports))
            cmd->root_ports[cmd->n_root_ports++] = index;
        guint slot = 2 + n / 8, fn = n % 8;
        g_autofree char *addr = g_strdup_printf("0x%x.0x%x", slot, fn);
        json_object_set_int_member(o, "port", 0x10 + n);
        json_object_set_int_member(o, "chassis", index);
        json_object_set_string_member(o, "bus", "pcie.0");
        json_object_set_string_member(o, "addr", addr);
        /* Function 0 says that more functions follow in its slot. */
        if (fn == 0 && n + 1 < n_root_ports)
            json_object_set_boolean_member(o, "multifunction", TRUE);
    } else if (g_str_equal(model, "pci-bridge")) {
        driver = "pci-bridge";
        json_object_set_int_member(o, "chassis_nr", index);
    } else if (g_str_equal(model, "pcie-to-pci-bridge")) {
        driver = "pcie-pci-bridge";
    } else if (g_str_equal(model, "dmi-to-pci-bridge")) {
        driver = "i82801b11-bridge";
    } else {
        json_object_unref(o);
        vd_qemu_cmd_note(cmd, "%s not built: virtd places devices on the root bus itself", what);
        return TRUE;
    }
    if (!vd_qemu_cmd_need_device(cmd, driver, what, error)) {
        json_object_unref(o);
        return FALSE;
    }
    /* Driver and id first, as everywhere else. */
    JsonObject *dev = json_object_new();
    json_object_set_string_member(dev, "driver", driver);
    json_object_set_string_member(dev, "id", id);
    GList *members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next)
        json_object_set_member(dev, l->data, json_node_copy(json_object_get_member(o, l->data)));
    g_list_free(members);
    json_object_unref(o);
    vd_qemu_cmd_opt_json(cmd, "-device", dev);
    return TRUE;
}

static const struct {
    const char *model;
    const char *driver;
} scsi_models[] = {
    {"virtio-scsi", "virtio-scsi-pci"},
    {"lsilogic", "lsi53c895a"},
    {"lsisas1068", "mptsas1068"},
    {"lsisas1078", "megasas"},
    {"vmpvscsi", "pvscsi"},
    {"am53c974", "am53c974"},
    {"dc390", "dc390"},
};

static gboolean
build_simple(VdQemuCmd *cmd, const VdControllerDef *c, GError **error)
{
    g_autofree char *what =
        g_strdup_printf("<controller type='%s'%s%s%s>", c->type, c->model ? " model='" : "",
                        c->model ? c->model : "", c->model ? "'" : "");
    if (c->index > 0) {
        vd_qemu_cmd_note(cmd,
                         "%s index %d not built: virtd puts every %s device on the first "
                         "controller",
                         what, c->index, c->type);
        return TRUE;
    }
    if (g_str_equal(c->type, "virtio-serial")) {
        if (cmd->have_virtio_serial)
            return TRUE;
        if (!vd_qemu_cmd_need_device(cmd, "virtio-serial-pci", what, error))
            return FALSE;
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "driver", "virtio-serial-pci");
        json_object_set_string_member(o, "id", "virtio-serial0");
        if (c->ports > 0)
            json_object_set_int_member(o, "max_ports", c->ports);
        if (c->vectors > 0)
            json_object_set_int_member(o, "vectors", c->vectors);
        vd_qemu_cmd_opt_json(cmd, "-device", o);
        cmd->have_virtio_serial = TRUE;
        return TRUE;
    }
    if (g_str_equal(c->type, "scsi")) {
        /* No model: virtio-scsi, as virtd's SCSI disks always had (libvirt
         * would pick lsilogic; virt-install writes virtio-scsi). */
        const char *model = c->model ? c->model : "virtio-scsi";
        for (guint i = 0; i < G_N_ELEMENTS(scsi_models); i++) {
            if (!g_str_equal(scsi_models[i].model, model))
                continue;
            if (c->pci_slot >= 0 && !cmd->have_scsi) {
                /* A hot-plugged controller, where the saved guest had it
                 * (vd_qemu_cmd_pin_pci: only for a QEMU loading a state). */
                if (!vd_qemu_cmd_need_device(cmd, scsi_models[i].driver, what, error))
                    return FALSE;
                JsonObject *o = json_object_new();
                json_object_set_string_member(o, "driver", scsi_models[i].driver);
                json_object_set_string_member(o, "id", "scsi0");
                vd_qemu_cmd_pin_pci(cmd, o, (guint)c->pci_bus, (guint)c->pci_slot);
                vd_qemu_cmd_opt_json(cmd, "-device", o);
                cmd->have_scsi = TRUE;
                return TRUE;
            }
            return vd_qemu_cmd_add_controller(cmd, &cmd->have_scsi, scsi_models[i].driver, "scsi0",
                                              what, error);
        }
        return vd_set_unsupported(error,
                                  "%s is not supported: use virtio-scsi, lsilogic, lsisas1068, "
                                  "lsisas1078, vmpvscsi, am53c974 or dc390",
                                  what);
    }
    if (g_str_equal(c->type, "sata")) {
        /* q35 has its AHCI built in ("ide"); pc gets one. */
        if (cmd->q35)
            return TRUE;
        return vd_qemu_cmd_add_controller(cmd, &cmd->have_ahci, "ich9-ahci", "sata0", what, error);
    }
    if (g_str_equal(c->type, "ide")) {
        if (cmd->q35)
            return vd_set_unsupported(error,
                                      "%s: q35 has no IDE controller: use bus='sata' for the "
                                      "disks and remove the IDE controller",
                                      what);
        return TRUE; /* PIIX's own */
    }
    if (g_str_equal(c->type, "fdc"))
        return TRUE; /* the machine's own floppy controller */
    if (g_str_equal(c->type, "nvme"))
        return TRUE; /* made with its namespaces, the nvme<C>n<N> disks */
    return vd_set_unsupported(error, "%s is not supported", what);
}

static gboolean
is_pcie_endpoint(const char *driver)
{
    static const char *const pcie[] = {"e1000e", "nvme", "qemu-xhci", "nec-usb-xhci", NULL};
    return (g_str_has_suffix(driver, "-pci") &&
            (g_str_has_prefix(driver, "virtio-") || g_str_has_prefix(driver, "vhost-"))) ||
           g_strv_contains(pcie, driver);
}

static gboolean
on_port(const xmlNode *xml, int port)
{
    guint bus, slot;
    return vd_xml_node_pci_address(xml, &bus, &slot) && (int)bus == port;
}

/* Root port "pci.@port" is where a device of a QEMU that loads a saved
 * guest goes back to (vd_qemu_cmd_pin_pci): no other device may take it. */
static gboolean
port_pinned(const VdQemuCmd *cmd, int port)
{
    const VdDomainDef *def = cmd->def;
    if (!cmd->paths || !cmd->paths->pci_addresses)
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++)
        if (on_port(((VdDiskDef *)g_ptr_array_index(def->disks, i))->xml, port))
            return TRUE;
    for (guint i = 0; i < def->interfaces->len; i++)
        if (on_port(((VdNetDef *)g_ptr_array_index(def->interfaces, i))->xml, port))
            return TRUE;
    for (guint i = 0; def->rngs && i < def->rngs->len; i++)
        if (on_port(((VdRngDef *)g_ptr_array_index(def->rngs, i))->xml, port))
            return TRUE;
    for (guint i = 0; def->videos && i < def->videos->len; i++)
        if (on_port(((VdVideoDef *)g_ptr_array_index(def->videos, i))->xml, port))
            return TRUE;
    if (def->memballoon && on_port(def->memballoon->xml, port))
        return TRUE;
    for (guint i = 0; def->memory_ext && i < def->memory_ext->devices->len; i++)
        if (on_port(((VdMemoryDeviceDef *)g_ptr_array_index(def->memory_ext->devices, i))->xml,
                    port))
            return TRUE;
    for (guint i = 0; def->platform && i < def->platform->controllers->len; i++)
        if (((VdControllerDef *)g_ptr_array_index(def->platform->controllers, i))->pci_bus == port)
            return TRUE;
    return FALSE;
}

void
vd_qemu_cmd_place_pcie(VdQemuCmd *cmd, JsonObject *dev)
{
    const char *driver = json_object_get_string_member_with_default(dev, "driver", "");

    if (!cmd->q35 || json_object_has_member(dev, "bus") || !is_pcie_endpoint(driver))
        return;
    while (cmd->used_root_ports < cmd->n_root_ports &&
           port_pinned(cmd, cmd->root_ports[cmd->used_root_ports]))
        cmd->used_root_ports++;
    if (cmd->used_root_ports >= cmd->n_root_ports)
        return;
    g_autofree char *bus = g_strdup_printf("pci.%d", cmd->root_ports[cmd->used_root_ports++]);
    json_object_set_string_member(dev, "bus", bus);
}

gboolean
vd_qemu_build_controllers(VdQemuCmd *cmd, GError **error)
{
    const GPtrArray *controllers = cmd->def->platform->controllers;
    g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint root_ports = 0, n_root_ports = 0;

    for (guint i = 0; i < controllers->len; i++) {
        const VdControllerDef *c = g_ptr_array_index(controllers, i);
        if (g_str_equal(c->type, "pci") && g_strcmp0(c->model, "pcie-root-port") == 0)
            n_root_ports++;
    }
    /* PCI buses first (devices go into the root ports), then USB hosts,
     * then an EHCI's companions (they need its bus) and the rest. */
    for (guint pass = 0; pass < 3; pass++) {
        for (guint i = 0; i < controllers->len; i++) {
            const VdControllerDef *c = g_ptr_array_index(controllers, i);
            gboolean usb = g_str_equal(c->type, "usb");
            gboolean companion = usb && c->model && g_str_has_prefix(c->model, "ich9-uhci");
            gboolean ok = TRUE;
            if (pass == 1 && usb && !companion) {
                ok = build_usb(cmd, c, error);
            } else if (pass == 2 && companion) {
                ok = build_usb(cmd, c, error);
            } else if (pass == 0 && g_str_equal(c->type, "pci")) {
                gboolean root =
                    g_strcmp0(c->model, "pcie-root") == 0 || g_strcmp0(c->model, "pci-root") == 0;
                int index = c->index >= 0 ? c->index
                            : root        ? 0
                                          : free_index(controllers, "pci", used);
                ok = build_pci(cmd, c, index, &root_ports, n_root_ports, error);
            } else if (pass == 2 && !usb && !g_str_equal(c->type, "pci")) {
                ok = build_simple(cmd, c, error);
            }
            if (!ok)
                return FALSE;
        }
    }
    return TRUE;
}
