/* Where a hot-plugged PCI device goes (pci-slot.h).
 *
 * q35: QEMU's query-pci lists the root bus's devices; a pcie-root-port
 * ("pci.N", as the argv builder names them) with no device behind its
 * bridge is free, unless an attach in flight reserved it. pc: QEMU picks
 * a slot on pci.0 itself, and says so when none is left. */
#include "daemon/hotplug/pci-slot.h"

#include <stdio.h>
#include <string.h>

#include "qemu/qemu-command.h"
#include "util/vd-error.h"

typedef struct {
    VdDomainObj *dom; /* a reference */
    char *what;
    VdPciSlotFunc done;
    gpointer user_data;
} SlotFind;

static gboolean
reserved(VdDomainObj *dom, const char *id)
{
    return g_slist_find_custom(dom->pci_reserved, id, (GCompareFunc)g_strcmp0) != NULL;
}

/* The first free root port in query-pci's @result, or NULL. */
static char *
free_root_port(VdDomainObj *dom, JsonNode *result)
{
    JsonArray *buses = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    JsonObject *bus0 =
        buses && json_array_get_length(buses) ? json_array_get_object_element(buses, 0) : NULL;
    JsonArray *devs = bus0 && json_object_has_member(bus0, "devices")
                          ? json_object_get_array_member(bus0, "devices")
                          : NULL;
    for (guint i = 0; devs && i < json_array_get_length(devs); i++) {
        JsonObject *dev = json_array_get_object_element(devs, i);
        const char *id = json_object_get_string_member_with_default(dev, "qdev_id", "");
        if (!g_str_has_prefix(id, "pci.") || !json_object_has_member(dev, "pci_bridge"))
            continue;
        JsonObject *bridge = json_object_get_object_member(dev, "pci_bridge");
        JsonArray *behind = json_object_has_member(bridge, "devices")
                                ? json_object_get_array_member(bridge, "devices")
                                : NULL;
        if ((!behind || json_array_get_length(behind) == 0) && !reserved(dom, id))
            return g_strdup(id);
    }
    return NULL;
}

static void
query_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    SlotFind *f = data;
    g_autoptr(GError) err = NULL;
    g_autofree char *bus = NULL;
    (void)qmp;

    if (error) {
        err = vd_hotplug_qmp_error(error);
    } else if (!(bus = free_root_port(f->dom, result))) {
        err = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                          "no free PCIe root port for %s: a q35 machine hot-plugs devices only "
                          "into root ports; add <controller type='pci' model='pcie-root-port'/> "
                          "to the definition (virt-install adds several) and restart the domain",
                          f->what);
    } else {
        f->dom->pci_reserved = g_slist_prepend(f->dom->pci_reserved, g_strdup(bus));
    }
    f->done(f->dom, bus, err, f->user_data);
    vd_domain_obj_unref(f->dom);
    g_free(f->what);
    g_free(f);
}

void
vd_pci_slot_find(VdDaemon *d, VdDomainObj *dom, const char *what, VdPciSlotFunc done,
                 gpointer user_data)
{
    (void)d;
    const char *machine = dom->live ? dom->live->os.machine : NULL;
    if (!machine || !strstr(machine, "q35")) {
        done(dom, NULL, NULL, user_data);
        return;
    }
    if (!dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        g_autoptr(GError) err =
            g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: domain '%s' stopped meanwhile", dom->name);
        done(dom, NULL, err, user_data);
        return;
    }
    SlotFind *f = g_new0(SlotFind, 1);
    f->dom = vd_domain_obj_ref(dom);
    f->what = g_strdup(what);
    f->done = done;
    f->user_data = user_data;
    vd_qmp_command(dom->qmp, "query-pci", NULL, query_reply, f);
}

void
vd_pci_slot_release(VdDomainObj *dom, const char *bus)
{
    if (!bus)
        return;
    GSList *l = g_slist_find_custom(dom->pci_reserved, bus, (GCompareFunc)g_strcmp0);
    if (l) {
        g_free(l->data);
        dom->pci_reserved = g_slist_delete_link(dom->pci_reserved, l);
    }
}

char *
vd_pci_slot_exhausted_message(const char *what, const char *qemu_message)
{
    /* QEMU 7.2 on pci.0: "PCI: no slot/function available for <driver>,
     * all in use or reserved". */
    if (!qemu_message || !strstr(qemu_message, "no slot/function available"))
        return NULL;
    return g_strdup_printf("operation failed: no free PCI slot for %s on bus pci.0: the 'pc' "
                           "machine's 32 slots are in use; detach a PCI device first, or define "
                           "the domain with a q35 machine and free pcie-root-port controllers "
                           "(QEMU: %s)",
                           what, qemu_message);
}

/* ---- the boot-time devices' slots, before one of them goes ------------ */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
} PinAll;

/* The slot of @id (function 0) among @devs (query-pci's "devices"), or
 * -1; *@port: the root port "pci.N" it is behind (N), 0 on the root bus. */
static int
find_in(JsonArray *devs, const char *id, guint port, guint *found_port)
{
    for (guint i = 0; devs && i < json_array_get_length(devs); i++) {
        JsonObject *dev = json_array_get_object_element(devs, i);
        if (!dev)
            continue;
        const char *qdev = json_object_get_string_member_with_default(dev, "qdev_id", "");
        if (g_strcmp0(qdev, id) == 0 &&
            json_object_get_int_member_with_default(dev, "function", 0) == 0) {
            *found_port = port;
            return (int)json_object_get_int_member_with_default(dev, "slot", -1);
        }
        /* q35: a device behind one of the argv's root ports "pci.N". */
        JsonObject *bridge = json_object_has_member(dev, "pci_bridge")
                                 ? json_object_get_object_member(dev, "pci_bridge")
                                 : NULL;
        guint n;
        if (port == 0 && bridge && json_object_has_member(bridge, "devices") &&
            g_str_has_prefix(qdev, "pci.") && sscanf(qdev + 4, "%u", &n) == 1 && n > 0) {
            int s = find_in(json_object_get_array_member(bridge, "devices"), id, n, found_port);
            if (s >= 0)
                return s;
        }
    }
    return -1;
}

/* The slot of @id in query-pci's @result, or -1; *@port as find_in. */
static int
root_slot(JsonNode *result, const char *id, guint *port)
{
    JsonArray *buses = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint b = 0; buses && b < json_array_get_length(buses); b++) {
        JsonObject *bus = json_array_get_object_element(buses, b);
        if (!bus || json_object_get_int_member_with_default(bus, "bus", -1) != 0 ||
            !json_object_has_member(bus, "devices"))
            continue;
        int s = find_in(json_object_get_array_member(bus, "devices"), id, 0, port);
        if (s >= 0)
            return s;
    }
    return -1;
}

static void
pin_all_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    PinAll *p = data;
    VdDomainObj *dom = p->dom;
    const VdDomainDef *live = dom->live;
    guint pinned = 0, bus, slot, port = 0;
    (void)qmp;
    for (guint i = 0; !error && live && i < live->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(live->disks, i);
        g_autofree char *id = vd_qemu_disk_device_id(disk);
        int s = disk->bus == VD_DISK_BUS_VIRTIO && !vd_disk_def_pci_address(disk, &bus, &slot)
                    ? root_slot(result, id, &port)
                    : -1;
        if (s >= 0) {
            vd_disk_def_set_pci_address(disk, port, (guint)s);
            pinned++;
        }
    }
    for (guint i = 0; !error && live && i < live->interfaces->len; i++) {
        VdNetDef *net = g_ptr_array_index(live->interfaces, i);
        g_autofree char *id = vd_qemu_net_device_id(net, i);
        int s = vd_net_def_pci_address(net, &bus, &slot) ? -1 : root_slot(result, id, &port);
        if (s >= 0) {
            vd_net_def_set_pci_address(net, port, (guint)s);
            pinned++;
        }
    }
    /* The devices the argv builder places itself after the disks and
     * NICs (qemu-command-device.c): the balloon, RNGs, videos. */
    if (!error && live && live->memballoon &&
        !vd_xml_node_pci_address(live->memballoon->xml, &bus, &slot)) {
        int s = root_slot(result, "balloon0", &port);
        if (s >= 0) {
            vd_xml_node_set_pci_address(&live->memballoon->xml, "memballoon", port, (guint)s);
            pinned++;
        }
    }
    for (guint i = 0; !error && live && i < live->rngs->len; i++) {
        VdRngDef *rng = g_ptr_array_index(live->rngs, i);
        g_autofree char *id = g_strdup_printf("rng%u", i);
        int s = vd_xml_node_pci_address(rng->xml, &bus, &slot) ? -1 : root_slot(result, id, &port);
        if (s >= 0) {
            vd_xml_node_set_pci_address(&rng->xml, "rng", port, (guint)s);
            pinned++;
        }
    }
    for (guint i = 0; !error && live && i < live->videos->len; i++) {
        VdVideoDef *v = g_ptr_array_index(live->videos, i);
        g_autofree char *id = g_strdup_printf("video%u", i);
        int s = vd_xml_node_pci_address(v->xml, &bus, &slot) ? -1 : root_slot(result, id, &port);
        if (s >= 0) {
            vd_xml_node_set_pci_address(&v->xml, "video", port, (guint)s);
            pinned++;
        }
    }
    if (error)
        g_warning("domain '%s': query-pci: %s: a revert to a snapshot taken after this detach "
                  "may not load",
                  dom->name, error->message);
    else if (pinned)
        vd_hotplug_live_record(p->d, dom, "the devices' PCI slots");
    vd_domain_obj_unref(dom);
    g_free(p);
}

void
vd_pci_slot_pin_boot_devices(VdDaemon *d, VdDomainObj *dom)
{
    if (!dom->qmp || !dom->live)
        return;
    PinAll *p = g_new0(PinAll, 1);
    p->d = d;
    p->dom = vd_domain_obj_ref(dom);
    vd_qmp_command(dom->qmp, "query-pci", NULL, pin_all_reply, p);
}

gboolean
vd_pci_slot_from_addr(JsonNode *result, const GError *error, const char *bus_alias,
                      guint *bus, guint *slot)
{
    if (error || !result || !JSON_NODE_HOLDS_VALUE(result) ||
        json_node_get_value_type(result) != G_TYPE_INT64)
        return FALSE;
    gint64 devfn = json_node_get_int(result);
    if (devfn < 0 || devfn >= 256)
        return FALSE;
    *bus = bus_alias && g_str_has_prefix(bus_alias, "pci.")
               ? (guint)g_ascii_strtoull(bus_alias + 4, NULL, 10)
               : 0;
    *slot = (guint)(devfn >> 3);
    return TRUE;
}
