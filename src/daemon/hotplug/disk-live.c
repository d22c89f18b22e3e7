/* Live changes of disks: attach, detach, the events (disk-live.h).
 *
 * Each operation is a chain of QMP commands held by a DiskOp (a reference
 * on the domain), as the NIC hot-plug of domain/domain-net-live.c: the
 * live definition and the status file change only once QEMU has
 * answered; a failed device_add deletes the nodes it was given. */
#include "daemon/hotplug/disk-live-priv.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "daemon/blockjob/blockjob.h"
#include "daemon/domain/domain-files.h"
#include "daemon/domain/qemu-access.h"
#include "daemon/events/events.h"
#include "daemon/host-ready.h"
#include "daemon/hotplug/pci-slot.h"
#include "qemu/qemu-command.h"
#include "qemu/qemu-fdset-paths.h"
#include "util/vd-error.h"
#include "util/vd-qcow2.h"

#define DETACH_TIMEOUT_S 10

typedef struct {
    GSList *detaches; /* DiskOp*: waiting for DEVICE_DELETED */
    GSList *busy;     /* DiskOp*: live attaches and detaches in flight */
} DiskState;

typedef enum {
    OP_ATTACH,
    OP_DETACH,
} OpKind;

typedef struct {
    OpKind kind;
    VdDaemon *d;
    VdDomainObj *dom;   /* a reference */
    VdDiskDef *disk;    /* attach: the live disk; detach: a copy of it */
    VdDomainDef *probe; /* attach: holds the disk while its file is checked */
    char *target;
    gboolean live, config, boot_disk;
    int step;
    char *bus;                            /* the root port reserved on q35 */
    char *ctrl_bus;                       /* the SCSI controller's, reserved until the end */
    gboolean ctrl_added;                  /* this attach added the SCSI controller */
    gboolean ctrl_recorded;               /* ... and it is in the live definition */
    gboolean need_scsi;                   /* attach: a SCSI disk; scsi0 is checked first */
    gboolean added_storage, added_format; /* attach: nodes QEMU took */
    GPtrArray *chain;                     /* attach: the images in fd sets (VdChainImage) */
    gboolean chain_asked;                 /* attach: add-fd sent (or not to be) */
    VdQemuHotplugDisk qa;
    guint timer;
    VdDiskLiveDone done;
    gpointer user_data;
} DiskOp;

static void op_next(DiskOp *op);

static DiskState *
state(VdDomainObj *dom)
{
    if (!dom->hp_disk)
        dom->hp_disk = g_new0(DiskState, 1);
    return dom->hp_disk;
}

int
vd_disk_live_find(const VdDomainDef *def, const char *target)
{
    for (guint i = 0; def && i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        if (g_strcmp0(disk->target_dev, target) == 0)
            return (int)i;
    }
    return -1;
}

GError *
vd_disk_live_not_found(const char *target)
{
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                       "operation failed: No disk found whose source path or target is %s", target);
}

void
vd_disk_live_probe(VdDaemon *d, VdDomainObj *dom, VdDomainDef **probe, VdDiskDef **disk,
                   VdDomainFilesWhen when, GAsyncReadyCallback callback, gpointer user_data)
{
    *probe = vd_domain_def_new();
    (*probe)->name = g_strdup(dom->name);
    g_ptr_array_add((*probe)->disks, g_steal_pointer(disk));
    vd_domain_files_check_async(d, *probe, when, callback, user_data);
}

VdDiskDef *
vd_disk_live_probed(VdDomainDef **probe)
{
    VdDiskDef *disk = g_ptr_array_steal_index((*probe)->disks, 0);
    g_clear_pointer(probe, vd_domain_def_free);
    return disk;
}

static void
op_free(DiskOp *op)
{
    DiskState *st = op->dom->hp_disk;
    if (st)
        st->busy = g_slist_remove(st->busy, op);
    if (op->timer)
        g_source_remove(op->timer);
    vd_pci_slot_release(op->dom, op->bus);
    vd_pci_slot_release(op->dom, op->ctrl_bus);
    g_free(op->ctrl_bus);
    vd_qemu_hotplug_disk_clear(&op->qa);
    if (op->chain)
        g_ptr_array_unref(op->chain);
    vd_disk_def_free(op->disk);
    vd_domain_def_free(op->probe);
    vd_domain_obj_unref(op->dom);
    g_free(op->bus);
    g_free(op->target);
    g_free(op);
}

static void
op_finish(DiskOp *op, const GError *error)
{
    if (!error && op->kind == OP_ATTACH && op->live) {
        /* virsh's device-added, by QEMU's id of the disk (as device-removed) */
        JsonObject *extra = json_object_new();
        g_autofree char *alias = g_strconcat("disk-", op->target, NULL);
        json_object_set_string_member(extra, "alias", alias);
        vd_events_domain(op->dom->name, op->dom->uuid, "device-added", "", "", extra);
    }
    op->done(op->dom, error, NULL, op->user_data);
    op_free(op);
}

static void
op_fail(DiskOp *op, GError *error)
{
    /* The image's descriptors, which no node uses now. */
    if (op->kind == OP_ATTACH && op->chain && op->dom->qmp) {
        vd_blockjob_drop_disk(op->dom, op->disk->target_dev, NULL);
        vd_disk_live_remove_fdsets(op->dom, op->chain);
    }
    op_finish(op, error);
    g_error_free(error);
}

/* ---- parse ---------------------------------------------------------- */

VdDiskDef *
vd_disk_live_parse(const char *xml, GError **error)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "disk.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || root->ns || !g_str_equal((const char *)root->name, "disk")) {
        if (doc)
            xmlFreeDoc(doc);
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "XML error: expected one well-formed <disk> element");
        return NULL;
    }
    /* The element, serialized again by libxml2 (no prolog, no DOCTYPE),
     * inside a minimal domain: it parses as it would in <devices>. */
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, root, 0, 0);
    g_autofree char *wrapped = g_strdup_printf(
        "<domain type='qemu'><name>disk-fragment</name><memory unit='KiB'>65536</memory>"
        "<os><type arch='x86_64'>hvm</type></os><devices>%s</devices></domain>",
        (const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    g_autoptr(VdDomainDef) def = vd_domain_def_new_from_xml(wrapped, -1, error);
    if (!def)
        return NULL;
    if (def->disks->len != 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "XML error: expected one <disk> element");
        return NULL;
    }
    return g_ptr_array_steal_index(def->disks, 0);
}

/* ---- attach ----------------------------------------------------------- */

/* Whether a live attach or detach of @target is in flight: the nodes and
 * device have fixed names, so a second one would collide with it. */
static gboolean
target_busy(VdDomainObj *dom, const char *target, GError **error)
{
    for (GSList *l = state(dom)->busy; l; l = l->next) {
        const DiskOp *other = l->data;
        const char *t = other->target ? other->target
                        : other->disk ? other->disk->target_dev
                                      : NULL;
        if (g_strcmp0(t, target) == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                        "operation failed: disk '%s' is being attached or detached: try again "
                        "when that is done",
                        target);
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
edit_attach(VdDomainDef *def, gpointer data, GError **error)
{
    DiskOp *op = data;
    if (vd_disk_live_find(def, op->disk->target_dev) >= 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: target %s already exists", op->disk->target_dev);
        return FALSE;
    }
    g_ptr_array_add(def->disks, vd_disk_def_copy(op->disk));
    return TRUE;
}

/* The buses QEMU hot-plugs a disk on. */
static gboolean
check_hotplug_bus(const VdDiskDef *disk, GError **error)
{
    switch (disk->bus) {
    case VD_DISK_BUS_VIRTIO:
    case VD_DISK_BUS_SCSI:
    case VD_DISK_BUS_USB:
        return TRUE;
    default:
        break;
    }
    if (disk->device == VD_DISK_DEVICE_CDROM)
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: cdrom '%s' cannot be hot-plugged on bus '%s': use "
                    "--targetbus scsi, or attach it with --config and restart the domain",
                    disk->target_dev, vd_disk_bus_to_string(disk->bus));
    else
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: disk '%s' cannot be hot-plugged on bus '%s': use "
                    "--targetbus virtio or scsi (a target such as vdb or sdb), or attach it with "
                    "--config and restart the domain",
                    disk->target_dev, vd_disk_bus_to_string(disk->bus));
    return FALSE;
}

static void
files_checked(GObject *source, GAsyncResult *result, gpointer data)
{
    DiskOp *op = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    g_autoptr(GPtrArray) notes = vd_domain_files_check_finish(result, &error);
    if (!notes) {
        op_fail(op, g_steal_pointer(&error));
        return;
    }
    op_next(op);
}

static void
attach_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    DiskOp *op = data;
    (void)qmp;
    (void)result;
    if (!error) {
        op->added_storage |= op->step == 5;
        op->added_format |= op->step == 6;
        op_next(op);
        return;
    }
    /* Undo what QEMU already took: the nodes added before the failure. */
    g_autofree char *what = g_strdup_printf("disk '%s'", op->disk->target_dev);
    g_autofree char *slot = vd_pci_slot_exhausted_message(what, error->message);
    if (op->added_format && op->dom->qmp)
        vd_qmp_command(op->dom->qmp, "blockdev-del",
                       vd_qemu_hotplug_disk_blockdev_del(op->disk->target_dev, FALSE), NULL, NULL);
    if (op->added_storage && op->dom->qmp)
        vd_qmp_command(op->dom->qmp, "blockdev-del",
                       vd_qemu_hotplug_disk_blockdev_del(op->disk->target_dev, TRUE), NULL, NULL);
    op_fail(op, slot ? g_error_new_literal(VD_ERROR, VD_ERROR_OPERATION_FAILED, slot)
                     : vd_hotplug_qmp_error(error));
}

static void
chain_added(GPtrArray *chain, const GError *error, gpointer data)
{
    DiskOp *op = data;
    if (error) {
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    op->chain = chain;
    op_next(op);
}

static void
backing_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    (void)qmp, (void)result, (void)data;
    /* The format node that names it fails then, and says why. */
    if (error)
        g_message("blockdev-add of a backing file's node: %s", error->message);
}

static void
slot_found(VdDomainObj *dom, const char *bus, const GError *error, gpointer data)
{
    DiskOp *op = data;
    (void)dom;
    if (error) {
        op_fail(op, g_error_copy(error));
        return;
    }
    op->bus = g_strdup(bus);
    op_next(op);
}

/* The slot QEMU chose for the disk (qom-get "addr": devfn), kept in the
 * live definition as <address>: a QEMU started later to load this
 * guest's state (snapshot revert, restore) puts it there again. The
 * persistent definition gets none, as before. Not learned: the disk is
 * attached all the same, only a later revert may not load. */
static void
addr_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    DiskOp *op = data;
    (void)qmp;
    guint bus, slot;
    if (vd_pci_slot_from_addr(result, error, op->bus, &bus, &slot)) {
        vd_disk_def_set_pci_address(op->disk, bus, slot);
    } else {
        g_warning("domain '%s': disk '%s': QEMU did not say its PCI slot (%s): a revert to a "
                  "snapshot taken now may not load",
                  op->dom->name, op->disk->target_dev, error ? error->message : "no number");
    }
    op_next(op);
}

/* qom-list of /machine/peripheral: whether "scsi0" is there already. */
static void
peripherals_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    DiskOp *op = data;
    JsonArray *list = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    if (error) {
        attach_reply(qmp, result, error, data);
        return;
    }
    op->need_scsi = TRUE;
    for (guint i = 0; list && i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        if (o && g_strcmp0(json_object_get_string_member_with_default(o, "name", ""), "scsi0") == 0)
            op->need_scsi = FALSE;
    }
    op_next(op);
}

static void
attach_next(DiskOp *op)
{
    g_autoptr(GError) error = NULL;
    const VdDiskDef *cur = op->disk ? op->disk : g_ptr_array_index(op->probe->disks, 0);
    g_autofree char *what = g_strdup_printf("disk '%s'", cur->target_dev);

    if (op->step >= 1 && op->step < 8 && op->live && !vd_hotplug_qmp_ready(op->dom, &error)) {
        op_fail(op, g_steal_pointer(&error));
        return;
    }
    switch (op->step++) {
    case 0: {
        /* The image: it must exist for a live attach, and its header
         * gives the format when the XML has none (as define does). */
        vd_disk_live_probe(op->d, op->dom, &op->probe, &op->disk,
                           op->live ? VD_DOMAIN_FILES_START : VD_DOMAIN_FILES_DEFINE, files_checked,
                           op);
        return;
    }
    case 1: {
        /* Back in the main loop, with the format found. */
        op->disk = vd_disk_live_probed(&op->probe);
        if (!op->live) {
            op->step = 8;
            break;
        }
        if (op->disk->bus == VD_DISK_BUS_SCSI) {
            JsonObject *args = vd_hotplug_args("path", "/machine/peripheral");
            vd_qmp_command(op->dom->qmp, "qom-list", args, peripherals_reply, op);
            return;
        }
        op->step = 3;
        if (op->disk->bus == VD_DISK_BUS_VIRTIO) {
            vd_pci_slot_find(op->d, op->dom, what, slot_found, op);
            return;
        }
        op_next(op);
        return;
    }
    case 2:
        if (op->need_scsi) {
            /* SCSI disks need a virtio-scsi controller: one is added
             * first, as libvirt does, into a root port of its own. */
            vd_pci_slot_find(op->d, op->dom, "the SCSI controller", slot_found, op);
            return;
        }
        op->step = 4;
        op_next(op);
        return;
    case 3:
        if (op->need_scsi) {
            op->need_scsi = FALSE;
            vd_qmp_command(op->dom->qmp, "device_add", vd_qemu_hotplug_scsi_controller(op->bus),
                           attach_reply, op);
            op->ctrl_bus = g_steal_pointer(&op->bus); /* the disk goes on scsi0.0 */
            op->ctrl_added = TRUE;
            return;
        }
        /* fall through */
    case 4: {
        op->step = 5;
        /* On pc the controller has no root port (ctrl_bus NULL): it is
         * recorded all the same. */
        if (op->ctrl_added && !op->ctrl_recorded) {
            op->ctrl_recorded = TRUE; /* the controller's device_add was answered */
            vd_disk_live_record_scsi_controller(op->d, op->dom, TRUE, op->ctrl_bus);
        }
        const VdDomainDef *def = op->dom->live;
        if (!op->chain_asked) {
            op->chain_asked = TRUE;
            if (vd_disk_live_add_chain(op->d, op->dom, op->disk, chain_added, op)) {
                op->step = 4; /* back here once QEMU has the descriptors */
                return;
            }
        }
        /* Else QEMU opens the image by path, as its own user (qemu-access.h). */
        if ((!op->chain && !vd_qemu_access_grant(op->d->paths, op->dom->name, op->disk->source_file,
                                                 !op->disk->readonly, &error)) ||
            !vd_qemu_hotplug_disk_build_chain(def, op->d->caps, op->disk, op->disk->boot_order,
                                              op->bus, op->chain, &op->qa, &error)) {
            op_fail(op, g_steal_pointer(&error));
            return;
        }
        /* The backing files' nodes first, bottom up (QMP answers in order). */
        for (guint i = 0; op->qa.backing && i < op->qa.backing->len; i++)
            vd_qmp_command(op->dom->qmp, "blockdev-add",
                           json_object_ref(g_ptr_array_index(op->qa.backing, i)), backing_reply,
                           NULL);
        if (op->qa.storage) {
            vd_qmp_command(op->dom->qmp, "blockdev-add", json_object_ref(op->qa.storage),
                           attach_reply, op);
            return;
        }
        op->step = 6;
    }
        /* fall through */
    case 5:
        op->step = 6;
        if (op->qa.format) {
            vd_qmp_command(op->dom->qmp, "blockdev-add", json_object_ref(op->qa.format),
                           attach_reply, op);
            return;
        }
        /* fall through */
    case 6:
        op->step = 7;
        vd_qmp_command(op->dom->qmp, "device_add", json_object_ref(op->qa.device), attach_reply,
                       op);
        return;
    case 7:
        if (op->disk->bus == VD_DISK_BUS_VIRTIO) {
            /* Where QEMU put it, before it counts as attached: see addr_reply. */
            g_autofree char *id = vd_qemu_disk_device_id(op->disk);
            g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
            JsonObject *args = vd_hotplug_args("path", path);
            json_object_set_string_member(args, "property", "addr");
            vd_qmp_command(op->dom->qmp, "qom-get", args, addr_reply, op);
            return;
        }
        /* fall through */
    case 8:
        op->step = 9;
        g_ptr_array_add(op->dom->live->disks, vd_disk_def_copy(op->disk));
        vd_disk_def_clear_pci_address(op->disk); /* the live definition's only */
        vd_hotplug_live_record(op->d, op->dom, "the attached disk");
        break;
    default:
        break;
    }
    /* From here QEMU has the disk: a failure below undoes nothing. */
    if (op->config && !vd_domain_config_edit(op->d, op->dom, edit_attach, op, &error) && op->live)
        g_prefix_error(&error, "attached live, but not to the persistent definition: ");
    op_finish(op, error);
}

void
vd_disk_live_attach(VdDaemon *d, VdDomainObj *dom, VdDiskDef *disk, gboolean live, gboolean config,
                    VdDiskLiveDone done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    DiskOp *op = g_new0(DiskOp, 1);
    op->kind = OP_ATTACH;
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->disk = disk;
    op->live = live;
    op->config = config;
    op->done = done;
    op->user_data = user_data;

    if (!disk->target_dev) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_XML, "XML error: missing disk target"));
        return;
    }
    if (live) {
        if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
            op_finish(op, error);
            return;
        }
        vd_host_ready_wait_caps(d); /* a guest reconnected at start, hot-plugged at once */
        if (!d->caps) {
            op_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                    "operation failed: QEMU's capabilities are unknown"));
            return;
        }
        if (target_busy(dom, disk->target_dev, &error)) {
            op_finish(op, error);
            return;
        }
        if (vd_disk_live_find(dom->live, disk->target_dev) >= 0) {
            op_fail(op,
                    g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: target %s already exists", disk->target_dev));
            return;
        }
        if (!check_hotplug_bus(disk, &error)) {
            op_finish(op, error);
            return;
        }
        if (disk->type != VD_DISK_TYPE_FILE && disk->type != VD_DISK_TYPE_BLOCK) {
            op_fail(op, g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                                    "Operation not supported: disk '%s': only file and block "
                                    "disks can be hot-plugged",
                                    disk->target_dev));
            return;
        }
        g_autoptr(VdDomainDef) probe = vd_domain_def_copy(dom->live);
        g_ptr_array_add(probe->disks, vd_disk_def_copy(disk));
        vd_domain_def_update_unsupported(probe);
        if (!vd_domain_def_validate(probe, &error) ||
            !vd_domain_def_check_startable(probe, &error)) {
            op_finish(op, error);
            return;
        }
    }
    if (config && !vd_domain_config_check(dom, edit_attach, op, &error)) {
        op_finish(op, error);
        return;
    }
    if (live) {
        op->target = g_strdup(disk->target_dev);
        state(dom)->busy = g_slist_prepend(state(dom)->busy, op);
    }
    op_next(op);
}

/* ---- detach ----------------------------------------------------------- */

/* The disk whose target the kernel command line names as its root
 * ("root=/dev/vda1" names vda), or -1. */
static int
root_disk_index(const VdDomainDef *def)
{
    g_auto(GStrv) args = def->os.cmdline ? g_strsplit(def->os.cmdline, " ", -1) : NULL;
    for (guint a = 0; args && args[a]; a++) {
        if (!g_str_has_prefix(args[a], "root=/dev/"))
            continue;
        const char *dev = args[a] + strlen("root=/dev/");
        for (guint i = 0; i < def->disks->len; i++) {
            const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
            if (disk->target_dev && g_str_has_prefix(dev, disk->target_dev))
                return (int)i;
        }
    }
    return -1;
}

/* The disk a running guest booted from: the lowest <boot order>, else
 * the first disk; with a kernel booted directly (<os><kernel>), none but
 * the one its command line mounts as root. */
static int
boot_disk_index(const VdDomainDef *def)
{
    int best = -1;
    guint order = G_MAXUINT;
    if (def->os.kernel)
        return root_disk_index(def);
    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        if (disk->boot_order && disk->boot_order < order) {
            order = disk->boot_order;
            best = (int)i;
        }
    }
    if (best < 0) {
        for (guint i = 0; i < def->disks->len && best < 0; i++) {
            const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
            if (disk->device == VD_DISK_DEVICE_DISK)
                best = (int)i;
        }
    }
    return best;
}

static gboolean
edit_detach(VdDomainDef *def, gpointer data, GError **error)
{
    DiskOp *op = data;
    int i = vd_disk_live_find(def, op->target);
    if (i < 0) {
        g_propagate_error(error, vd_disk_live_not_found(op->target));
        return FALSE;
    }
    g_ptr_array_remove_index(def->disks, i);
    return TRUE;
}

static gboolean
detach_timeout(gpointer data)
{
    DiskOp *op = data;
    DiskState *st = state(op->dom);
    op->timer = 0;
    st->detaches = g_slist_remove(st->detaches, op);
    op_fail(op, g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                            "the guest of domain '%s' did not release disk '%s' within %d s: it "
                            "may not support hot-unplug (or is paused), or may do so later; the "
                            "disk stays attached",
                            op->dom->name, op->target, DETACH_TIMEOUT_S));
    return G_SOURCE_REMOVE;
}

static void
detach_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    DiskOp *op = data;
    (void)qmp;
    (void)result;
    if (error && op->step == 1) {
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    if (error) /* a node left behind: the guest no longer has the disk */
        g_warning("domain '%s': disk '%s': %s", op->dom->name, op->target, error->message);
    op_next(op);
}

#define SCSI_CONTROLLER_XML "<controller type='scsi' index='0' model='virtio-scsi'/>"

static void
record_scsi_controller(VdDaemon *d, VdDomainObj *dom, const char *xml, gboolean added)
{
    g_autoptr(GError) error = NULL;
    if (!dom->live)
        return;
    gboolean ok = added ? vd_domain_def_doc_add_device(dom->live, xml, &error)
                        : vd_domain_def_doc_remove_device(dom->live, xml, &error);
    if (!ok) {
        g_warning("domain '%s': the live definition does not show the SCSI controller's %s: %s",
                  dom->name, added ? "attach" : "detach", error->message);
        return;
    }
    vd_hotplug_live_record(d, dom, "the SCSI controller");
}

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    guint bus;
} CtrlAddr;

/* The slot QEMU gave scsi0, kept as its <address> in the live definition
 * (as a hot-plugged disk's, addr_reply): a QEMU started to load the
 * guest's state puts the controller there again, else the state does not
 * load ("Unknown savevm section ... virtio-scsi"). */
static void
ctrl_addr_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    CtrlAddr *c = data;
    (void)qmp;
    g_autofree char *xml = NULL;
    guint bus_unused, slot;
    if (vd_pci_slot_from_addr(result, error, NULL, &bus_unused, &slot))
        xml = g_strdup_printf("<controller type='scsi' index='0' model='virtio-scsi'><address "
                              "type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' "
                              "function='0x0'/></controller>",
                              c->bus, slot);
    else
        g_warning("domain '%s': QEMU did not say the SCSI controller's PCI slot (%s): a revert "
                  "to a snapshot taken now may not load",
                  c->dom->name, error ? error->message : "no number");
    record_scsi_controller(c->d, c->dom, xml ? xml : SCSI_CONTROLLER_XML, TRUE);
    vd_domain_obj_unref(c->dom);
    g_free(c);
}

void
vd_disk_live_record_scsi_controller(VdDaemon *d, VdDomainObj *dom, gboolean added, const char *bus)
{
    if (!added || !dom->qmp) {
        record_scsi_controller(d, dom, SCSI_CONTROLLER_XML, added);
        return;
    }
    CtrlAddr *c = g_new0(CtrlAddr, 1);
    c->d = d;
    c->dom = vd_domain_obj_ref(dom);
    if (bus && g_str_has_prefix(bus, "pci."))
        c->bus = (guint)g_ascii_strtoull(bus + 4, NULL, 10);
    JsonObject *args = vd_hotplug_args("path", "/machine/peripheral/scsi0");
    json_object_set_string_member(args, "property", "addr");
    vd_qmp_command(dom->qmp, "qom-get", args, ctrl_addr_reply, c);
}

static void
forget_live_disk(DiskOp *op)
{
    int i = vd_disk_live_find(op->dom->live, op->target);
    if (i >= 0)
        g_ptr_array_remove_index(op->dom->live->disks, i);
    vd_hotplug_live_record(op->d, op->dom, "the detach");
}

static void
detach_next(DiskOp *op)
{
    g_autoptr(GError) error = NULL;
    if (op->live && op->step < 5 && !vd_hotplug_qmp_ready(op->dom, &error)) {
        op_fail(op, g_steal_pointer(&error));
        return;
    }
    switch (op->step++) {
    case 0:
        if (!op->live) {
            op->step = 5;
            break;
        }
        vd_pci_slot_pin_boot_devices(op->d, op->dom);
        vd_qmp_command(op->dom->qmp, "device_del", vd_qemu_hotplug_disk_device_del(op->target),
                       detach_reply, op);
        return;
    case 1: {
        /* Accepted: the guest is asked, and answers with DEVICE_DELETED. */
        DiskState *st = state(op->dom);
        st->detaches = g_slist_prepend(st->detaches, op);
        op->timer = g_timeout_add_seconds(DETACH_TIMEOUT_S, detach_timeout, op);
        return;
    }
    case 2:
        /* The device is gone: its format node, then its protocol node
         * (both, or the target cannot be attached again: "Duplicate
         * nodes with node-name='vdb-storage'"). An empty cdrom has none. */
        if (op->disk->source_file) {
            vd_qmp_command(op->dom->qmp, "blockdev-del",
                           vd_qemu_hotplug_disk_blockdev_del(op->target, FALSE), detach_reply, op);
            return;
        }
        op->step = 5;
        forget_live_disk(op);
        break;
    case 3:
        vd_qmp_command(op->dom->qmp, "blockdev-del",
                       vd_qemu_hotplug_disk_blockdev_del(op->target, TRUE), detach_reply, op);
        return;
    case 4:
        op->step = 5;
        /* Its backing files' nodes and the descriptors QEMU held
         * (a disk present at start: disk-chains.h). */
        vd_blockjob_drop_disk(op->dom, op->target, op->disk->source_file);
        forget_live_disk(op);
        break;
    default:
        break;
    }
    if (op->config && !vd_domain_config_edit(op->d, op->dom, edit_detach, op, &error) && op->live)
        g_prefix_error(&error, "detached live, but not from the persistent definition: ");
    op_finish(op, error);
}

void
vd_disk_live_detach(VdDaemon *d, VdDomainObj *dom, const char *target, gboolean boot_disk,
                    gboolean live, gboolean config, VdDiskLiveDone done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    DiskOp *op = g_new0(DiskOp, 1);
    op->kind = OP_DETACH;
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->target = g_strdup(target);
    op->live = live;
    op->config = config;
    op->boot_disk = boot_disk;
    op->done = done;
    op->user_data = user_data;

    if (live && !vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        op_finish(op, error);
        return;
    }
    if (live && target_busy(dom, target, &error)) {
        op_finish(op, error);
        return;
    }
    const VdDomainDef *def = live ? dom->live : vd_domain_obj_def(dom);
    int i = vd_disk_live_find(def, target);
    if (i < 0) {
        op_fail(op, vd_disk_live_not_found(target));
        return;
    }
    op->disk = vd_disk_def_copy(g_ptr_array_index(def->disks, i));
    if (live && !boot_disk && boot_disk_index(def) == i) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: disk '%s' is the disk the running guest of "
                                "domain '%s' booted from: name it explicitly to detach it "
                                "(vsh detach-disk %s %s --boot-disk)",
                                target, dom->name, dom->name, target));
        return;
    }
    if (live && op->disk->bus != VD_DISK_BUS_VIRTIO && op->disk->bus != VD_DISK_BUS_SCSI &&
        op->disk->bus != VD_DISK_BUS_USB) {
        {
            op_fail(op, g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                                    "Operation not supported: disk '%s' is on bus '%s', which "
                                    "cannot hot-unplug: detach it with --config and restart the "
                                    "domain",
                                    target, vd_disk_bus_to_string(op->disk->bus)));
            return;
        }
    }
    if (config && !vd_domain_config_check(dom, edit_detach, op, &error)) {
        op_finish(op, error);
        return;
    }
    if (live)
        state(dom)->busy = g_slist_prepend(state(dom)->busy, op);
    op_next(op);
}

/* ---- hooks ------------------------------------------------------------ */

void
vd_disk_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    DiskState *st = state(dom);
    if (!g_str_equal(event, "DEVICE_DELETED") || !data)
        return;
    const char *device = json_object_get_string_member_with_default(data, "device", NULL);
    if (!device || !g_str_has_prefix(device, "disk-"))
        return;
    for (GSList *l = st->detaches; l; l = l->next) {
        DiskOp *op = l->data;
        if (!g_str_equal(op->target, device + 5))
            continue;
        st->detaches = g_slist_delete_link(st->detaches, l);
        g_clear_handle_id(&op->timer, g_source_remove);
        op_next(op);
        return;
    }
    /* A guest that released the disk after the detach timed out (as
     * libvirt does, the late DEVICE_DELETED finishes the detach): its
     * nodes go, and the live definition follows QEMU. */
    int i = dom->live ? vd_disk_live_find(dom->live, device + 5) : -1;
    if (i < 0 || !dom->qmp)
        return;
    const VdDiskDef *disk = g_ptr_array_index(dom->live->disks, i);
    if (disk->source_file) {
        vd_qmp_command(dom->qmp, "blockdev-del",
                       vd_qemu_hotplug_disk_blockdev_del(disk->target_dev, FALSE), NULL, NULL);
        vd_qmp_command(dom->qmp, "blockdev-del",
                       vd_qemu_hotplug_disk_blockdev_del(disk->target_dev, TRUE), NULL, NULL);
    }
    g_ptr_array_remove_index(dom->live->disks, i);
    vd_hotplug_live_record(d, dom, "the late detach");
}

void
vd_disk_live_stopped(VdDomainObj *dom)
{
    DiskState *st = dom->hp_disk;
    while (st && st->detaches) {
        DiskOp *op = st->detaches->data;
        st->detaches = g_slist_delete_link(st->detaches, st->detaches);
        g_clear_handle_id(&op->timer, g_source_remove);
        op_fail(op, vd_hotplug_detach_stopped(dom));
    }
}

void
vd_disk_live_obj_free(VdDomainObj *dom)
{
    /* Operations hold a reference: none is left when the object goes. */
    g_clear_pointer(&dom->hp_disk, g_free);
    g_slist_free_full(g_steal_pointer(&dom->pci_reserved), g_free);
}

static void
op_next(DiskOp *op)
{
    if (op->kind == OP_ATTACH)
        attach_next(op);
    else
        detach_next(op);
}
