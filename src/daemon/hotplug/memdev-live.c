/* Live changes of memory devices: see memdev-live.h.
 *
 * Each operation is a short chain of QMP commands held by a MemOp (a
 * reference on the domain); the live definition and the status file
 * change only once QEMU has answered, the persistent one through
 * vd_domain_config_edit (checked first when both are asked). */
#include "daemon/hotplug/memdev-live.h"

#include <string.h>

#include "daemon/hotplug/pci-slot.h"
#include "qemu/qemu-hotplug-memory.h"
#include "util/vd-error.h"

typedef enum {
    OP_ATTACH,
    OP_DETACH,
    OP_REQUESTED,
} OpKind;

typedef struct {
    OpKind kind;
    VdDaemon *d;
    VdDomainObj *dom;      /* a reference */
    VdMemoryDeviceDef *m;  /* the live device (attach: to add; else a copy) */
    VdMemoryDeviceDef *cm; /* what the persistent definition gets or loses */
    guint64 requested_kib;
    gboolean live, config;
    int step;
    guint timer;
    gboolean deleted; /* detach: DEVICE_DELETED came before device_del's reply */
    char *bus;        /* attach of a virtio-mem device on q35: its root port (pci-slot.h) */
    VdMemdevDone done;
    gpointer user_data;
} MemOp;

/* Hung on dom->hp_memdev. */
typedef struct {
    MemOp *op; /* the one operation in flight */
} MemdevState;

static MemdevState *
state_of(VdDomainObj *dom)
{
    if (!dom->hp_memdev)
        dom->hp_memdev = g_new0(MemdevState, 1);
    return dom->hp_memdev;
}

static void op_next(MemOp *op);

static void
op_finish(MemOp *op, const GError *error)
{
    g_autofree char *xml = NULL;
    MemdevState *st = op->dom->hp_memdev;

    if (st && st->op == op)
        st->op = NULL;
    if (op->timer)
        g_source_remove(op->timer);
    if (!error && op->kind == OP_ATTACH)
        xml = vd_memory_device_def_format(op->m, op->live ? VD_DOMAIN_FORMAT_LIVE : 0);
    op->done(op->dom, error, xml, op->user_data);
    vd_pci_slot_release(op->dom, op->bus);
    g_free(op->bus);
    vd_memory_device_def_free(op->m);
    vd_memory_device_def_free(op->cm);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static void
op_fail(MemOp *op, GError *error)
{
    op_finish(op, error);
    g_error_free(error);
}

static void
step_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    MemOp *op = data;
    (void)qmp;
    (void)result;
    if (error) {
        /* An attach whose device_add failed leaves its backend: removed,
         * so that nothing changed. */
        if (op->kind == OP_ATTACH && op->step == 2 && op->dom->qmp)
            vd_qmp_command(op->dom->qmp, "object-del", vd_qemu_memdev_object_del(op->m), NULL,
                           NULL);
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    op_next(op);
}

static void
live_command(MemOp *op, const char *name, JsonObject *args)
{
    GError *error = NULL;
    if (!vd_hotplug_live_command(op->dom, name, args, step_reply, op, &error))
        op_fail(op, error);
}

/* Starts @op unless another memory device operation runs. */
static MemOp *
op_new(OpKind kind, VdDaemon *d, VdDomainObj *dom, gboolean live, gboolean config,
       VdMemdevDone done, gpointer user_data, GError **error)
{
    MemdevState *st = state_of(dom);
    if (live && !vd_domain_obj_check(dom, VD_OP_CONSOLE, error))
        return NULL;
    if (st->op) {
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' has a memory device operation in flight: try again when it "
                    "has finished",
                    dom->name);
        return NULL;
    }
    MemOp *op = g_new0(MemOp, 1);
    op->kind = kind;
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->live = live;
    op->config = config;
    op->done = done;
    op->user_data = user_data;
    st->op = op;
    return op;
}

/* ---- attach ----------------------------------------------------------- */

static gboolean
edit_attach(VdDomainDef *def, gpointer data, GError **error)
{
    MemOp *op = data;
    VdMemoryDeviceDef *m = vd_memory_device_def_copy(op->cm);
    if (!vd_domain_memory_check_attach(def, m, FALSE, error)) {
        vd_memory_device_def_free(m);
        return FALSE;
    }
    if (!m->alias)
        m->alias = vd_domain_memory_free_alias(def, m->model);
    vd_domain_memory_add(def, m);
    return TRUE;
}

/* The slot QEMU gave a hot-plugged virtio-mem-pci, kept as its <address>
 * in the live definition (as a hot-plugged disk's, disk-live.c): a QEMU
 * started to load the guest's state (revert, restore, incoming migration)
 * puts it there again, else the state does not load. */
static void
addr_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    MemOp *op = data;
    (void)qmp;
    guint bus, slot;
    if (vd_pci_slot_from_addr(result, error, op->bus, &bus, &slot)) {
        vd_xml_node_set_pci_address(&op->m->xml, "memory", bus, slot);
    } else {
        g_warning("domain '%s': memory device '%s': QEMU did not say its PCI slot (%s): a "
                  "revert to a snapshot taken now may not load",
                  op->dom->name, op->m->alias, error ? error->message : "no number");
    }
    op_next(op);
}

static void
attach_next(MemOp *op)
{
    g_autoptr(GError) error = NULL;
    switch (op->step++) {
    case 0:
        if (op->live) {
            live_command(op, "object-add", vd_qemu_memdev_backend(op->m));
            return;
        }
        op->step = 4;
        break;
    case 1:
        live_command(op, "device_add", vd_qemu_memdev_device(op->dom->live, op->m, op->bus));
        return;
    case 2:
        if (op->m->model == VD_MEMDEV_VIRTIO_MEM && op->dom->qmp) {
            /* Where QEMU put it, before it counts as attached: addr_reply. */
            g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", op->m->alias);
            JsonObject *args = vd_hotplug_args("path", path);
            json_object_set_string_member(args, "property", "addr");
            vd_qmp_command(op->dom->qmp, "qom-get", args, addr_reply, op);
            return;
        }
        /* fall through */
    case 3:
        op->step = 4;
        vd_domain_memory_add(op->dom->live, vd_memory_device_def_copy(op->m));
        vd_hotplug_live_record(op->d, op->dom, "the memory device change");
        break;
    }
    if (op->config && !vd_domain_config_edit(op->d, op->dom, edit_attach, op, &error) && op->live)
        g_prefix_error(&error, "attached live, but not to the persistent definition: ");
    op_finish(op, error);
}

static void
slot_found(VdDomainObj *dom, const char *bus, const GError *error, gpointer data)
{
    MemOp *op = data;
    (void)dom;
    if (error) {
        op_finish(op, error);
        return;
    }
    op->bus = g_strdup(bus);
    op_next(op);
}

void
vd_memdev_attach(VdDaemon *d, VdDomainObj *dom, VdMemoryDeviceDef *m, gboolean live,
                 gboolean config, VdMemdevDone done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdMemoryDeviceDef) dev = m;
    MemOp *op = op_new(OP_ATTACH, d, dom, live, config, done, user_data, &error);

    if (!op) {
        done(dom, error, NULL, user_data);
        return;
    }
    op->cm = vd_memory_device_def_copy(dev);
    /* The persistent definition names its own devices ("ua-" aliases
     * aside): it gets one at its next parse. */
    if (op->cm->alias && !g_str_has_prefix(op->cm->alias, "ua-"))
        g_clear_pointer(&op->cm->alias, g_free);
    op->cm->current_kib = 0;
    if (config && !vd_domain_config_check(dom, edit_attach, op, &error)) {
        op_fail(op, g_steal_pointer(&error));
        return;
    }
    if (live) {
        const VdDomainDef *def = dom->live;
        if (!vd_domain_memory_check_attach(def, dev, TRUE, &error)) {
            op_fail(op, g_steal_pointer(&error));
            return;
        }
        if (!dev->alias)
            dev->alias = vd_domain_memory_free_alias(def, dev->model);
        dev->current_kib = 0;
    }
    op->m = g_steal_pointer(&dev);
    /* A virtio-mem device is a PCI device: on q35 it needs a free root
     * port (a DIMM is not on PCI). */
    if (live && op->m->model == VD_MEMDEV_VIRTIO_MEM) {
        vd_pci_slot_find(d, dom, "the virtio-mem device", slot_found, op);
        return;
    }
    op_next(op);
}

/* ---- detach ----------------------------------------------------------- */

static guint
detach_timeout_s(void)
{
    const char *env = g_getenv("VIRTD_TEST_MEMDEV_DETACH_TIMEOUT");
    guint64 v;
    if (env && g_ascii_string_to_unsigned(env, 10, 1, 600, &v, NULL))
        return (guint)v;
    return VD_MEMDEV_DETACH_TIMEOUT_S;
}

static gboolean
edit_detach(VdDomainDef *def, gpointer data, GError **error)
{
    MemOp *op = data;
    int i = vd_domain_memory_find(def, op->cm, error);
    if (i < 0)
        return FALSE;
    vd_domain_memory_remove(def, (guint)i);
    return TRUE;
}

static gboolean
detach_timeout(gpointer data)
{
    MemOp *op = data;
    guint s = detach_timeout_s();
    op->timer = 0;
    op_fail(op, g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                            "the guest did not release the memory device '%s' of domain '%s' "
                            "within %u s: it could not offline that memory (in use, or not "
                            "hot-removable); the device stays attached, and is removed if "
                            "the guest releases it later",
                            op->m->alias, op->dom->name, s));
    return G_SOURCE_REMOVE;
}

/* The live device is gone from QEMU: its backend goes, the live
 * definition loses it. */
static void
forget_live(VdDaemon *d, VdDomainObj *dom, const char *alias)
{
    int i = dom->live ? vd_domain_memory_find_alias(dom->live, alias) : -1;
    if (i < 0)
        return;
    VdMemoryDeviceDef *m = g_ptr_array_index(dom->live->memory_ext->devices, i);
    if (dom->qmp && vd_qmp_is_connected(dom->qmp))
        vd_qmp_command(dom->qmp, "object-del", vd_qemu_memdev_object_del(m), NULL, NULL);
    vd_domain_memory_remove(dom->live, (guint)i);
    g_autoptr(GError) error = NULL;
    if (!vd_domain_live_save(d, dom, &error))
        g_warning("domain '%s': cannot record the detach of '%s': %s", dom->name, alias,
                  error->message);
}

static void
detach_next(MemOp *op)
{
    g_autoptr(GError) error = NULL;
    switch (op->step++) {
    case 0:
        if (op->live) {
            live_command(op, "device_del", vd_qemu_memdev_device_del(op->m));
            return;
        }
        op->step = 3;
        break;
    case 1:
        /* Accepted: the guest is asked (ACPI), and answers by offlining
         * the memory; QEMU then says DEVICE_DELETED. */
        if (op->deleted) {
            detach_next(op);
            return;
        }
        op->timer = g_timeout_add_seconds(detach_timeout_s(), detach_timeout, op);
        return;
    case 2:
        forget_live(op->d, op->dom, op->m->alias);
        break;
    }
    if (op->config && !vd_domain_config_edit(op->d, op->dom, edit_detach, op, &error) && op->live)
        g_prefix_error(&error, "detached live, but not from the persistent definition: ");
    op_finish(op, error);
}

void
vd_memdev_detach(VdDaemon *d, VdDomainObj *dom, const VdMemoryDeviceDef *match, gboolean live,
                 gboolean config, VdMemdevDone done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    MemOp *op = op_new(OP_DETACH, d, dom, live, config, done, user_data, &error);

    if (!op) {
        done(dom, error, NULL, user_data);
        return;
    }
    const VdDomainDef *def = live ? dom->live : vd_domain_obj_def(dom);
    int i = vd_domain_memory_find(def, match, &error);
    if (i < 0) {
        op_fail(op, g_steal_pointer(&error));
        return;
    }
    op->m = vd_memory_device_def_copy(g_ptr_array_index(def->memory_ext->devices, i));
    op->cm = vd_memory_device_def_copy(op->m);
    if (live && config) {
        /* The persistent definition's own device: the same model and size. */
        g_clear_pointer(&op->cm->alias, g_free);
        if (match->alias && g_str_has_prefix(match->alias, "ua-"))
            op->cm->alias = g_strdup(match->alias);
        op->cm->node = match->node;
    }
    if (live && op->m->model == VD_MEMDEV_VIRTIO_MEM) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                                "Operation not supported: detaching memory device of model "
                                "'virtio-mem' from a running guest is not supported: shrink it "
                                "with 'vsh update-memory-device %s --alias %s --requested-size 0', "
                                "or detach it with --config",
                                dom->name, op->m->alias));
        return;
    }
    if (config && !vd_domain_config_check(dom, edit_detach, op, &error)) {
        op_fail(op, g_steal_pointer(&error));
        return;
    }
    op_next(op);
}

/* ---- virtio-mem requested size ---------------------------------------- */

/* The virtio-mem device @alias (or the only one / the one on @node). */
static int
find_virtio_mem(const VdDomainDef *def, const char *alias, int node, GError **error)
{
    GPtrArray *devs = def->memory_ext->devices;
    int found = -1;
    guint n = 0;

    for (guint i = 0; i < devs->len; i++) {
        const VdMemoryDeviceDef *m = g_ptr_array_index(devs, i);
        if (m->model != VD_MEMDEV_VIRTIO_MEM)
            continue;
        if (alias ? g_strcmp0(m->alias, alias) == 0 : (node < 0 || m->node == node)) {
            found = (int)i;
            n++;
        }
    }
    if (n == 1)
        return found;
    if (n == 0 && alias)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: no virtio-mem device with alias '%s'", alias);
    else if (n == 0)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the domain has no virtio-mem memory device%s: add "
                    "<memory model='virtio-mem'> (attach-device, or 'vsh edit' and restart)",
                    node >= 0 ? " on that node" : "");
    else
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the domain has %u virtio-mem devices: name one with "
                    "--alias",
                    n);
    return -1;
}

typedef struct {
    const char *alias;
    int node;
    guint64 kib;
} RequestedEdit;

static gboolean
edit_requested(VdDomainDef *def, gpointer data, GError **error)
{
    RequestedEdit *e = data;
    int i = find_virtio_mem(def, e->alias, e->node, error);
    if (i < 0)
        return FALSE;
    VdMemoryDeviceDef *m = g_ptr_array_index(def->memory_ext->devices, i);
    if (!vd_memory_device_check_requested(m, e->kib, error))
        return FALSE;
    m->requested_kib = e->kib;
    return TRUE;
}

static void
requested_next(MemOp *op)
{
    g_autoptr(GError) error = NULL;
    switch (op->step++) {
    case 0:
        if (op->live) {
            live_command(op, "qom-set", vd_qemu_memdev_set_requested(op->m, op->requested_kib));
            return;
        }
        break;
    case 1: {
        int i = vd_domain_memory_find_alias(op->dom->live, op->m->alias);
        if (i >= 0) {
            VdMemoryDeviceDef *m = g_ptr_array_index(op->dom->live->memory_ext->devices, i);
            m->requested_kib = op->requested_kib;
            vd_hotplug_live_record(op->d, op->dom, "the memory device change");
        }
        break;
    }
    }
    if (op->config) {
        /* The persistent device: by user alias, else by being the one. */
        RequestedEdit e = {op->cm ? op->cm->alias : NULL, op->cm ? op->cm->node : -1,
                           op->requested_kib};
        if (!vd_domain_config_edit(op->d, op->dom, edit_requested, &e, &error) && op->live)
            g_prefix_error(&error, "changed live, but not in the persistent definition: ");
    }
    op_finish(op, error);
}

void
vd_memdev_set_requested(VdDaemon *d, VdDomainObj *dom, const char *alias, int node,
                        guint64 requested_kib, gboolean live, gboolean config, VdMemdevDone done,
                        gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    MemOp *op = op_new(OP_REQUESTED, d, dom, live, config, done, user_data, &error);

    if (!op) {
        done(dom, error, NULL, user_data);
        return;
    }
    op->requested_kib = requested_kib;
    op->cm = vd_memory_device_def_new();
    op->cm->alias = g_strdup(alias);
    op->cm->node = node;
    if (config) {
        RequestedEdit e = {alias, node, requested_kib};
        if (!vd_domain_config_check(dom, edit_requested, &e, &error)) {
            op_fail(op, g_steal_pointer(&error));
            return;
        }
    }
    if (live) {
        int i = find_virtio_mem(dom->live, alias, node, &error);
        if (i < 0) {
            op_fail(op, g_steal_pointer(&error));
            return;
        }
        op->m = vd_memory_device_def_copy(g_ptr_array_index(dom->live->memory_ext->devices, i));
        if (!vd_memory_device_check_requested(op->m, requested_kib, &error)) {
            op_fail(op, g_steal_pointer(&error));
            return;
        }
        /* The persistent device has no alias of the live one unless it is
         * a user's: found as "the only one" then. */
        if (config && alias && !g_str_has_prefix(alias, "ua-"))
            g_clear_pointer(&op->cm->alias, g_free);
    }
    op_next(op);
}

/* ---- events ----------------------------------------------------------- */

static void
op_next(MemOp *op)
{
    switch (op->kind) {
    case OP_ATTACH:
        attach_next(op);
        break;
    case OP_DETACH:
        detach_next(op);
        break;
    case OP_REQUESTED:
        requested_next(op);
        break;
    }
}

void
vd_memdev_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    MemdevState *st = dom->hp_memdev;

    if (!data || !dom->live)
        return;
    if (g_str_equal(event, "DEVICE_DELETED")) {
        const char *device = json_object_get_string_member_with_default(data, "device", NULL);
        if (!device || vd_domain_memory_find_alias(dom->live, device) < 0)
            return;
        MemOp *op = st ? st->op : NULL;
        if (op && op->kind == OP_DETACH && op->m && g_strcmp0(op->m->alias, device) == 0) {
            if (!op->timer) { /* device_del's reply is still on its way */
                op->deleted = TRUE;
                return;
            }
            g_clear_handle_id(&op->timer, g_source_remove);
            op_next(op);
            return;
        }
        /* After its timeout: the guest released it late. */
        forget_live(d, dom, device);
    } else if (g_str_equal(event, "MEMORY_DEVICE_SIZE_CHANGE")) {
        const char *id = json_object_get_string_member_with_default(data, "id", NULL);
        const char *path = json_object_get_string_member_with_default(data, "qom-path", NULL);
        if (!id && path && g_str_has_prefix(path, "/machine/peripheral/"))
            id = path + strlen("/machine/peripheral/");
        int i = vd_domain_memory_find_alias(dom->live, id);
        if (i < 0)
            return;
        VdMemoryDeviceDef *m = g_ptr_array_index(dom->live->memory_ext->devices, i);
        m->current_kib = (guint64)json_object_get_int_member_with_default(data, "size", 0) / 1024;
        g_autoptr(GError) error = NULL;
        if (!vd_domain_live_save(d, dom, &error))
            g_warning("domain '%s': cannot record the size of '%s': %s", dom->name, id,
                      error->message);
    }
}

void
vd_memdev_live_stopped(VdDomainObj *dom)
{
    MemdevState *st = dom->hp_memdev;
    MemOp *op = st ? st->op : NULL;

    /* Only a detach waits on the guest; the others wait on a QMP reply,
     * which fails when QMP closes. */
    if (op && op->timer)
        op_fail(op, vd_hotplug_detach_stopped(dom));
}

void
vd_memdev_live_obj_free(VdDomainObj *dom)
{
    g_clear_pointer(&dom->hp_memdev, g_free);
}
