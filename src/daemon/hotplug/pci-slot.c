/* Where a hot-plugged PCI device goes (pci-slot.h).
 *
 * q35: QEMU's query-pci lists the root bus's devices; a pcie-root-port
 * ("pci.N", as the argv builder names them) with no device behind its
 * bridge is free, unless an attach in flight reserved it. pc: QEMU picks
 * a slot on pci.0 itself, and says so when none is left. */
#include "daemon/hotplug/pci-slot.h"

#include <string.h>

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
