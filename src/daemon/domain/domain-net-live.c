/* Operations on the interfaces of a running domain, over QMP: link
 * state, hot-plug and hot-unplug. See domain-net.h.
 *
 * Each operation is a short chain of QMP commands held by a NetOp (a
 * reference on the domain): the live definition and the status file
 * change only once QEMU has answered, so a failure leaves them as QEMU
 * has them. */
#include "daemon/domain/domain-net.h"

#include <string.h>
#include <unistd.h>

#include "daemon/hotplug/hotplug.h"
#include "daemon/hotplug/pci-slot.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

#define DETACH_TIMEOUT_S 10

typedef enum {
    OP_LINK,
    OP_ATTACH,
    OP_DETACH,
} OpKind;

typedef struct {
    OpKind kind;
    VdDaemon *d;
    VdDomainObj *dom;     /* a reference */
    VdNetDef *net;        /* attach: the live interface; detach/link: a copy */
    VdNetDef *config_net; /* attach: what goes into the persistent definition */
    gboolean live, config, up;
    int fd, vhostfd;
    gboolean vhost; /* attach: a vhost-net descriptor was passed */
    char *bus;      /* attach on q35: the free pcie-root-port the NIC goes into */
    int step;
    guint timer;
    VdDomainWaitFunc done;
    VdDomainNetAttached attached;
    gpointer user_data;
} NetOp;

static void op_next(NetOp *op);

static void
op_free(NetOp *op)
{
    op->dom->net_attaching = g_slist_remove(op->dom->net_attaching, op);
    if (op->fd >= 0)
        close(op->fd);
    if (op->vhostfd >= 0)
        close(op->vhostfd);
    if (op->timer)
        g_source_remove(op->timer);
    vd_net_def_free(op->net);
    vd_net_def_free(op->config_net);
    vd_pci_slot_release(op->dom, op->bus);
    vd_domain_obj_unref(op->dom);
    g_free(op->bus);
    g_free(op);
}

static NetOp *
op_new(OpKind kind, VdDaemon *d, VdDomainObj *dom, gpointer user_data)
{
    NetOp *op = g_new0(NetOp, 1);
    op->kind = kind;
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->fd = op->vhostfd = -1;
    op->user_data = user_data;
    return op;
}

static void
op_finish(NetOp *op, const GError *error)
{
    if (op->kind == OP_ATTACH) {
        g_autofree char *xml = error ? NULL : vd_net_def_format(op->net, VD_DOMAIN_FORMAT_INACTIVE);
        op->attached(op->dom, error, xml, op->user_data);
    } else {
        op->done(op->dom, error, op->user_data);
    }
    op_free(op);
}

static void
op_fail(NetOp *op, GError *error)
{
    if (op->kind == OP_ATTACH && op->step > 0 && op->net)
        vd_domain_net_close_one(op->net); /* a macvtap made for it */
    op_finish(op, error);
    g_error_free(error);
}

/* set_link's arguments for the interface's device. */
static JsonObject *
set_link_args(NetOp *op, gboolean up)
{
    JsonObject *args = vd_hotplug_args("name", op->net->alias);

    json_object_set_boolean_member(args, "up", up);
    return args;
}

/* netdev_del's arguments: the interface's netdev, "host" + its alias. */
static JsonObject *
netdev_del_args(NetOp *op)
{
    g_autofree char *id = g_strconcat("host", op->net->alias, NULL);

    return vd_hotplug_args("id", id);
}

/* Sets the link state of the interface of @mac in @def; FALSE and the
 * error when @def has none. */
static gboolean
set_link_state(VdDomainDef *def, const char *mac, gboolean up, GError **error)
{
    int i = vd_domain_net_find(def, mac, error);
    if (i < 0)
        return FALSE;
    VdNetDef *net = g_ptr_array_index(def->interfaces, i);
    g_free(net->link_state);
    net->link_state = g_strdup(up ? "up" : "down");
    return TRUE;
}

static void
step_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    NetOp *op = data;
    if (error) {
        /* Undoing what QEMU already has is best effort: the descriptor
         * it holds by name, the netdev. */
        if (op->kind == OP_ATTACH && op->step == 3 && op->dom->qmp && op->net->alias) {
            g_autofree char *fdname = g_strconcat("fd-", op->net->alias, NULL);
            vd_qmp_command(op->dom->qmp, "closefd", vd_hotplug_args("fdname", fdname), NULL, NULL);
        }
        if (op->kind == OP_ATTACH && op->step >= 4 && op->dom->qmp)
            vd_qmp_command(op->dom->qmp, "netdev_del", netdev_del_args(op), NULL, NULL);
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    op_next(op);
}

/* The slot QEMU chose for the NIC (qom-get "addr": devfn), kept in the
 * live definition as <address> so that a QEMU started later to load this
 * guest's state (snapshot revert, restore) puts it there again, as
 * disk-live.c does for disks. Not learned: attached all the same. */
static void
addr_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    NetOp *op = data;
    (void)qmp;
    guint bus, slot;
    if (vd_pci_slot_from_addr(result, error, op->bus, &bus, &slot)) {
        vd_net_def_set_pci_address(op->net, bus, slot);
    } else {
        g_warning("domain '%s': interface '%s': QEMU did not say its PCI slot (%s): a revert to "
                  "a snapshot taken now may not load",
                  op->dom->name, op->net->alias, error ? error->message : "no number");
    }
    op_next(op);
}

static gboolean
qmp_ready(NetOp *op)
{
    GError *error = NULL;
    if (vd_hotplug_qmp_ready(op->dom, &error))
        return TRUE;
    op_fail(op, error);
    return FALSE;
}

static void
command(NetOp *op, const char *name, JsonObject *args)
{
    vd_qmp_command(op->dom->qmp, name, args, step_reply, op);
}

/* command() while the domain still runs; else the operation fails. */
static void
live_command(NetOp *op, const char *name, JsonObject *args)
{
    GError *error = NULL;
    if (!vd_hotplug_live_command(op->dom, name, args, step_reply, op, &error))
        op_fail(op, error);
}

/* ---- link ------------------------------------------------------------- */

static gboolean
edit_link(VdDomainDef *def, gpointer data, GError **error)
{
    NetOp *op = data;
    return set_link_state(def, op->net->mac, op->up, error);
}

static void
link_next(NetOp *op)
{
    g_autoptr(GError) error = NULL;
    switch (op->step++) {
    case 0:
        if (op->live) {
            live_command(op, "set_link", set_link_args(op, op->up));
            return;
        }
        /* fall through */
    case 1:
        if (op->live && op->dom->live &&
            set_link_state(op->dom->live, op->net->mac, op->up, NULL) &&
            !vd_domain_live_save(op->d, op->dom, &error))
            break;
        if (op->config)
            vd_domain_config_edit(op->d, op->dom, edit_link, op, &error);
        break;
    }
    op_finish(op, error);
}

void
vd_domain_net_set_link(VdDaemon *d, VdDomainObj *dom, const char *key, gboolean up, gboolean live,
                       gboolean config, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (live && !vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        done(dom, error, user_data);
        return;
    }
    const VdDomainDef *def = live ? dom->live : vd_domain_obj_def(dom);
    int i = vd_domain_net_find(def, key, &error);
    if (i < 0) {
        done(dom, error, user_data);
        return;
    }
    NetOp *op = op_new(OP_LINK, d, dom, user_data);
    op->net = vd_net_def_copy(g_ptr_array_index(def->interfaces, i));
    op->live = live;
    op->config = config;
    op->up = up;
    op->done = done;
    if (!op->net->mac) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INTERNAL, "interface '%s' has no MAC", key));
        return;
    }
    if (live && !op->net->alias) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INTERNAL,
                                "interface '%s' has no device alias in QEMU", key));
        return;
    }
    op_next(op);
}

/* ---- attach ----------------------------------------------------------- */

static char *
free_alias(VdDomainObj *dom)
{
    const VdDomainDef *def = dom->live;
    for (guint n = 0;; n++) {
        g_autofree char *alias = g_strdup_printf("net%u", n);
        gboolean used = FALSE;
        for (guint i = 0; i < def->interfaces->len && !used; i++) {
            const VdNetDef *o = g_ptr_array_index(def->interfaces, i);
            used = g_strcmp0(o->alias, alias) == 0;
        }
        for (GSList *l = dom->net_attaching; l && !used; l = l->next) {
            const NetOp *other = l->data;
            used = g_strcmp0(other->net->alias, alias) == 0;
        }
        if (!used)
            return g_steal_pointer(&alias);
    }
}

static gboolean
edit_attach(VdDomainDef *def, gpointer data, GError **error)
{
    NetOp *op = data;
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *o = g_ptr_array_index(def->interfaces, i);
        if (o->mac && g_ascii_strcasecmp(o->mac, op->config_net->mac) == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: domain '%s' already has an interface with MAC "
                        "address '%s'",
                        op->dom->name, o->mac);
            return FALSE;
        }
    }
    g_ptr_array_add(def->interfaces, vd_net_def_copy(op->config_net));
    return TRUE;
}

/* q35: the NIC goes into a free pcie-root-port (daemon/hotplug/pci-slot.c),
 * reserved until the operation ends (op_free). */
static void
slot_found(VdDomainObj *dom, const char *bus, const GError *error, gpointer data)
{
    NetOp *op = data;
    (void)dom;
    if (error) {
        step_reply(NULL, NULL, error, op);
        return;
    }
    op->bus = g_strdup(bus);
    op_next(op);
}

static void
attach_next(NetOp *op)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *fdname = g_strconcat("fd-", op->net->alias, NULL);
    g_autofree char *vhostname = g_strconcat("vhostfd-", op->net->alias, NULL);
    g_autofree char *netdev = g_strconcat("host", op->net->alias, NULL);

    if (op->step < 7 && op->live && !qmp_ready(op))
        return;
    switch (op->step++) {
    case 0:
        if (!op->live)
            break;
        if (op->fd >= 0) {
            JsonObject *args = vd_hotplug_args("fdname", fdname);
            int fd = op->fd;
            op->fd = -1;
            vd_qmp_command_with_fd(op->dom->qmp, "getfd", args, fd, step_reply, op);
            return;
        }
        /* fall through */
    case 1:
        op->step = 2;
        if (op->vhostfd >= 0) {
            JsonObject *args = vd_hotplug_args("fdname", vhostname);
            int fd = op->vhostfd;
            op->vhostfd = -1;
            op->vhost = TRUE;
            vd_qmp_command_with_fd(op->dom->qmp, "getfd", args, fd, step_reply, op);
            return;
        }
        /* fall through */
    case 2: {
        op->step = 3;
        JsonObject *args = json_object_new();
        if (op->net->type == VD_NET_USER) {
            json_object_set_string_member(args, "type", "user");
        } else {
            json_object_set_string_member(args, "type", "tap");
            json_object_set_string_member(args, "fd", fdname);
            if (op->vhost) {
                json_object_set_boolean_member(args, "vhost", TRUE);
                json_object_set_string_member(args, "vhostfd", vhostname);
            }
        }
        json_object_set_string_member(args, "id", netdev);
        command(op, "netdev_add", args);
        return;
    }
    case 3:
        vd_pci_slot_find(op->d, op->dom, "the interface", slot_found, op);
        return;
    case 4: {
        op->step = 5;
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "driver", vd_qemu_net_model_driver(op->net->model));
        if (op->bus)
            json_object_set_string_member(args, "bus", op->bus);
        json_object_set_string_member(args, "netdev", netdev);
        json_object_set_string_member(args, "id", op->net->alias);
        json_object_set_string_member(args, "mac", op->net->mac);
        if (op->net->mtu && g_strcmp0(op->net->model, "virtio") == 0)
            json_object_set_int_member(args, "host_mtu", op->net->mtu);
        command(op, "device_add", args);
        return;
    }
    case 5:
        if (!vd_net_def_link_up(op->net)) {
            command(op, "set_link", set_link_args(op, FALSE));
            return;
        }
        /* fall through */
    case 6: {
        op->step = 7; /* also when case 5 fell through */
        /* Where QEMU put it, before it counts as attached (addr_reply). */
        g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", op->net->alias);
        JsonObject *args = vd_hotplug_args("path", path);
        json_object_set_string_member(args, "property", "addr");
        vd_qmp_command(op->dom->qmp, "qom-get", args, addr_reply, op);
        return;
    }
    case 7:
        if (!op->dom->live) {
            op_fail(op,
                    g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: domain '%s' stopped meanwhile", op->dom->name));
            return;
        }
        g_ptr_array_add(op->dom->live->interfaces, vd_net_def_copy(op->net));
        vd_net_def_clear_pci_address(op->net); /* the live definition's only */
        vd_hotplug_live_record(op->d, op->dom, "the attached interface");
        break;
    }
    /* From here QEMU has the interface: a failure below undoes nothing. */
    if (op->config && !vd_domain_config_edit(op->d, op->dom, edit_attach, op, &error) && op->live)
        g_prefix_error(&error, "attached live, but not to the persistent definition: ");
    op_finish(op, error);
}

void
vd_domain_net_attach(VdDaemon *d, VdDomainObj *dom, VdNetDef *net, gboolean live, gboolean config,
                     VdDomainNetAttached done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    NetOp *op = op_new(OP_ATTACH, d, dom, user_data);
    op->attached = done;
    op->live = live;
    op->config = config;
    op->config_net = net;
    op->net = vd_net_def_copy(net);
    if (op->net->alias && !g_str_has_prefix(op->net->alias, "ua-"))
        g_clear_pointer(&op->net->alias, g_free);
    g_clear_pointer(&op->config_net->alias, g_free);
    if (net->alias && g_str_has_prefix(net->alias, "ua-"))
        op->config_net->alias = g_strdup(net->alias);

    if (live) {
        if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
            op_finish(op, error);
            return;
        }
        g_autoptr(VdDomainDef) probe = vd_domain_def_copy(dom->live);
        g_ptr_array_add(probe->interfaces, vd_net_def_copy(op->net));
        vd_domain_def_update_unsupported(probe);
        if (!vd_domain_def_validate(probe, &error) ||
            !vd_domain_def_check_startable(probe, &error)) {
            op_finish(op, error);
            return;
        }
        if (!op->net->alias)
            op->net->alias = free_alias(dom);
        dom->net_attaching = g_slist_prepend(dom->net_attaching, op);
        if (net->type == VD_NET_NETWORK || net->type == VD_NET_BRIDGE ||
            net->type == VD_NET_DIRECT) {
            op->fd =
                vd_domain_net_open(d, op->net, dom->live->interfaces->len, &op->vhostfd, &error);
            if (op->fd < 0) {
                op_finish(op, error);
                return;
            }
        }
    }
    op_next(op);
}

/* ---- detach ----------------------------------------------------------- */

/* The one interface of @def that @match names: same type, and the same
 * MAC when @match has one in the XML the client sent. */
static int
match_interface(const VdDomainDef *def, const VdNetDef *match, gboolean mac_given, GError **error)
{
    int found = -1;
    g_autoptr(GString) macs = g_string_new(NULL);
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *o = g_ptr_array_index(def->interfaces, i);
        if (o->type != match->type)
            continue;
        if (mac_given && g_ascii_strcasecmp(o->mac, match->mac) != 0)
            continue;
        g_string_append_printf(macs, "%s%s", macs->len ? ", " : "", o->mac);
        if (found >= 0 && !mac_given) {
            found = -2;
            continue;
        }
        if (found == -1)
            found = (int)i;
    }
    if (found == -2) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: domain '%s' has several interfaces of type '%s' (%s): "
                    "give the MAC address of the one to detach",
                    def->name, vd_net_type_to_string(match->type), macs->str);
        return -1;
    }
    if (found < 0)
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: domain '%s' has no interface of type '%s'%s%s", def->name,
                    vd_net_type_to_string(match->type), mac_given ? " with MAC address " : "",
                    mac_given ? match->mac : "");
    return found;
}

static gboolean
edit_detach(VdDomainDef *def, gpointer data, GError **error)
{
    NetOp *op = data;
    int i = match_interface(def, op->config_net, TRUE, error);
    if (i < 0)
        return FALSE;
    g_ptr_array_remove_index(def->interfaces, i);
    return TRUE;
}

static gboolean
detach_timeout(gpointer data)
{
    NetOp *op = data;
    op->timer = 0;
    op->dom->net_detaches = g_slist_remove(op->dom->net_detaches, op);
    op_fail(op, g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                            "the guest of domain '%s' did not release interface %s (%s) within "
                            "%d s: it may not support hot-unplug, or may do so later; the "
                            "interface stays attached",
                            op->dom->name, op->net->mac, op->net->alias, DETACH_TIMEOUT_S));
    return G_SOURCE_REMOVE;
}

static void
detach_next(NetOp *op)
{
    g_autoptr(GError) error = NULL;
    switch (op->step++) {
    case 0:
        if (op->live) {
            vd_pci_slot_pin_boot_devices(op->d, op->dom);
            live_command(op, "device_del", vd_hotplug_args("id", op->net->alias));
            return;
        }
        op->step = 3;
        break;
    case 1:
        /* Accepted: the guest is asked, and answers with DEVICE_DELETED. */
        op->dom->net_detaches = g_slist_prepend(op->dom->net_detaches, op);
        op->timer = g_timeout_add_seconds(DETACH_TIMEOUT_S, detach_timeout, op);
        return;
    case 2:
        live_command(op, "netdev_del", netdev_del_args(op));
        return;
    case 3:
        break;
    }
    if (op->live && op->dom->live) {
        int i = match_interface(op->dom->live, op->net, TRUE, NULL);
        if (i >= 0)
            g_ptr_array_remove_index(op->dom->live->interfaces, i);
        vd_domain_net_close_one(op->net);
        vd_hotplug_live_record(op->d, op->dom, "the detach");
    }
    if (op->config && !vd_domain_config_edit(op->d, op->dom, edit_detach, op, &error) && op->live)
        g_prefix_error(&error, "detached live, but not from the persistent definition: ");
    op_finish(op, error);
}

void
vd_domain_net_detach(VdDaemon *d, VdDomainObj *dom, const VdNetDef *match, gboolean live,
                     gboolean config, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    /* A MAC in the XML the client sent (the parser generates one). */
    gboolean mac_given = match->xml && vd_net_def_has_mac_element(match);
    if (live && !vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        done(dom, error, user_data);
        return;
    }
    const VdDomainDef *def = live ? dom->live : vd_domain_obj_def(dom);
    int i = match_interface(def, match, mac_given, &error);
    if (i < 0) {
        done(dom, error, user_data);
        return;
    }
    NetOp *op = op_new(OP_DETACH, d, dom, user_data);
    op->done = done;
    op->live = live;
    op->config = config;
    op->net = vd_net_def_copy(g_ptr_array_index(def->interfaces, i));
    op->config_net = vd_net_def_copy(op->net);
    if (live && !op->net->alias) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INTERNAL,
                                "interface %s has no device alias in QEMU", op->net->mac));
        return;
    }
    op_next(op);
}

void
vd_domain_net_device_deleted(VdDomainObj *dom, const char *device)
{
    for (GSList *l = dom->net_detaches; l; l = l->next) {
        NetOp *op = l->data;
        if (g_strcmp0(op->net->alias, device) != 0)
            continue;
        dom->net_detaches = g_slist_delete_link(dom->net_detaches, l);
        g_clear_handle_id(&op->timer, g_source_remove);
        op_next(op);
        return;
    }
}

void
vd_domain_net_stopped(VdDomainObj *dom)
{
    while (dom->net_detaches) {
        NetOp *op = dom->net_detaches->data;
        dom->net_detaches = g_slist_delete_link(dom->net_detaches, dom->net_detaches);
        g_clear_handle_id(&op->timer, g_source_remove);
        op_fail(op, vd_hotplug_detach_stopped(dom));
    }
}

static void
op_next(NetOp *op)
{
    switch (op->kind) {
    case OP_LINK:
        link_next(op);
        break;
    case OP_ATTACH:
        attach_next(op);
        break;
    case OP_DETACH:
        detach_next(op);
        break;
    }
}
