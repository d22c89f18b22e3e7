/* Every refusal before anything moves (migration-priv.h, "Checks";
 * docs/migration-checks.md): this file looks things up in the daemon (the
 * domain, the registry, networks, links, files, QEMU's capabilities, the
 * host CPU) and hands the answers to the pure rules of
 * migration-check-rules.c. Nothing here changes anything.
 *
 * The file checks (stat, statvfs, a qcow2 header) are a few system calls
 * on the disks' own paths, made on the main loop as the contract is
 * synchronous; they do not read data. */
#include "migration-check-rules.h"
#include "migration-priv.h"
#include "migration-userfault.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "daemon/domain/disk-prepare.h"
#include "daemon/domain/domain-process.h"
#include "daemon/domain/qemu-spawn.h"
#include "daemon/host-ready.h"
#include "daemon/network/network.h"
#include "daemon/stats/domain-stats.h"
#include "daemon/storage/storage.h"
#include "network/net-link.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

/* ---- Source ---- */

/* The sizes of a disk's file: a qcow2's virtual size from its header, a
 * raw file's size; the allocation from the blocks it holds. */
static void
disk_stat(VdMigrationDisk *m, gboolean copy_inc)
{
    struct stat st;
    int fd;

    if (!m->path || (fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
        return;
    if (fstat(fd, &st) == 0) {
        guint8 h[32];
        guint64 cap = 0;
        m->dev = (guint64)st.st_dev;
        m->ino = (guint64)st.st_ino;
        if (S_ISREG(st.st_mode)) {
            ssize_t n = pread(fd, h, sizeof(h), 0);
            if (n < 0 || !vd_stats_qcow2_capacity(h, (gsize)n, &cap))
                cap = (guint64)st.st_size;
            m->capacity = cap;
            m->allocation = (guint64)st.st_blocks * 512;
            /* --copy-storage-inc: the definition may not list the chain
             * (no <backingStore>); the image's header does. Without it
             * the destination would make a copy with no backing file and
             * the mirror of the top alone would lose the rest. */
            if (m->copy && copy_inc && !m->backing && n >= 20 && h[0] == 'Q' && h[1] == 'F' &&
                h[2] == 'I' && h[3] == 0xfb) {
                guint64 off = 0;
                guint32 len = 0;
                for (int i = 0; i < 8; i++)
                    off = (off << 8) | h[8 + i];
                for (int i = 0; i < 4; i++)
                    len = (len << 8) | h[16 + i];
                char name[4097];
                if (off && len && len < sizeof(name) &&
                    pread(fd, name, len, (off_t)off) == (ssize_t)len) {
                    name[len] = '\0';
                    g_autofree char *dir = g_path_get_dirname(m->path);
                    m->backing = g_path_is_absolute(name) ? g_strdup(name)
                                                          : g_build_filename(dir, name, NULL);
                }
            }
        }
    }
    close(fd);
}

gboolean
vd_migration_check_source(VdDaemon *d, VdDomainObj *dom, const VdMigrateParams *params,
                          VdMigrationOffer *offer, GError **error)
{
    if (!vd_mig_rule_flags(params, error) || !vd_domain_obj_check(dom, VD_OP_MIGRATE, error) ||
        !vd_mig_rule_state(dom->name, dom->state, dom->persistent, params, error))
        return FALSE;

    gboolean live = dom->state != VD_STATE_SHUTOFF && !params->offline;
    const VdDomainDef *def = live ? dom->live : vd_domain_obj_def(dom);
    if (!def)
        return vd_set_error(error, VD_ERROR_INTERNAL, "domain '%s' has no definition", dom->name);
    /* A pool volume's file: none while shut off, and none in a live
     * definition read back from the status file after a daemon restart;
     * the copy needs it. */
    g_autoptr(VdDomainDef) resolved = vd_domain_def_copy(def);
    g_autoptr(GError) unresolved = NULL;
    if (vd_disks_resolve_volumes(d, resolved, &unresolved))
        def = resolved;

    if (params->xml) {
        g_autoptr(VdDomainDef) xml = vd_domain_def_new_from_xml(params->xml, -1, error);
        if (!xml || !vd_mig_rule_xml_abi(def, xml, params->dname, error))
            return FALSE;
    }
    if (params->persistent_xml) {
        g_autoptr(VdDomainDef) pxml = vd_domain_def_new_from_xml(params->persistent_xml, -1, error);
        if (!pxml)
            return FALSE;
        if (!g_str_equal(pxml->uuid, def->uuid))
            return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                "unsupported configuration: Target domain uuid %s does not "
                                "match source %s: --persistent-xml must describe the same "
                                "domain",
                                pxml->uuid, def->uuid);
    }

    /* The disk list is this file's: the destination checks it, the storage
     * code copies what it marks. */
    g_autoptr(GPtrArray) disks =
        g_ptr_array_new_with_free_func((GDestroyNotify)vd_migration_disk_free);
    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        VdMigrationDisk *m = vd_mig_disk_from_def(disk, NULL, params->copy_storage);
        g_ptr_array_add(disks, m);
        disk_stat(m, params->copy_storage == VD_MIGRATE_COPY_INC);
        if (params->copy_storage != VD_MIGRATE_COPY_NONE && !m->copy && !m->readonly && m->path)
            g_message("migration of domain '%s': disk %s (%s, %s) is not a file and is not "
                      "copied: it must be reachable at the same path on the destination",
                      dom->name, m->target, vd_disk_type_to_string(disk->type), m->path);
        /* Offline, no QEMU holds the disks on either side: no cache to go
         * stale. */
        if (live && !vd_mig_rule_disk_cache(dom->name, m, params->unsafe, error))
            return FALSE;
    }
    g_clear_pointer(&offer->disks, g_ptr_array_unref);
    offer->disks = g_steal_pointer(&disks);

    /* host-passthrough / host-model: the guest sees this host's CPU; the
     * destination compares its own with it. */
    if (live && def->cpu.present &&
        (def->cpu.mode == VD_CPU_MODE_HOST_PASSTHROUGH ||
         def->cpu.mode == VD_CPU_MODE_HOST_MODEL)) {
        VdHostCpu *cpu = vd_host_cpu_read(error);
        if (!cpu)
            return FALSE;
        vd_host_cpu_free(offer->cpu);
        offer->cpu = cpu;
    }
    return TRUE;
}

/* ---- Peer ---- */

gboolean
vd_migration_check_peer(VdDaemon *d, const char *dest_instance, GError **error)
{
    return vd_mig_rule_peer(d->instance_uuid, dest_instance, NULL, error);
}

/* ---- Destination ---- */

/* The command line this host would start the incoming QEMU with, built
 * from its own capabilities with the start's run paths and pretended
 * descriptors (as domcheck, domain-check.c): what QEMU devices it needs.
 * NULL when the builder refuses: @error says why. Also what a snapshot
 * revert compares the saved memory state with (snapshot-revert-check.c). */
GPtrArray *
vd_migration_dry_run_argv(VdDaemon *d, const VdDomainDef *def, GError **error)
{
    g_autoptr(VdDomainDef) live = vd_domain_def_copy(def);
    guint n = live->interfaces->len;
    g_autofree int *net_fds = g_new(int, MAX(n, 1));
    g_autofree char *qmp = vd_paths_domain_socket(d->paths, live->name, live->uuid, "qmp");
    g_autofree char *console = vd_paths_domain_socket(d->paths, live->name, live->uuid, "console");
    g_autofree char *console_log = vd_paths_domain_console_log(d->paths, live->name);
    g_autofree char *tpm = vd_paths_domain_socket(d->paths, live->name, live->uuid, "swtpm");
    int next_fd = VD_SPAWN_FIRST_FD;

    /* A pool volume is a file only once the start resolves it (a copied
     * one does not even exist yet): the devices need just some path. */
    for (guint i = 0; i < live->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(live->disks, i);
        if (disk->type == VD_DISK_TYPE_VOLUME && !disk->source_file && disk->source_volume)
            disk->source_file = g_strdup("/dev/null");
    }
    for (guint i = 0; i < live->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(live->graphics, i);
        if (g->type == VD_GRAPHICS_SPICE && g->port < 0)
            g->port = 5900;
    }
    for (guint i = 0; i < n; i++) {
        VdNetDef *net = g_ptr_array_index(live->interfaces, i);
        net_fds[i] =
            net->type == VD_NET_NETWORK || net->type == VD_NET_BRIDGE || net->type == VD_NET_DIRECT
                ? next_fd++
                : -1;
    }
    VdQemuRunPaths run = vd_domain_run_paths(d, live, qmp, console, console_log);
    run.net_fds = net_fds;
    run.n_net_fds = n;
    run.tpm_socket_path = tpm;
    run.vsock_fd = VD_SPAWN_FIRST_FD + (int)n;
    run.vsock_cid = 3;
    run.incoming_defer = TRUE;
    run.pci_addresses = TRUE;
    return vd_qemu_build_argv(live, d->caps, &run, error);
}

static gboolean
check_qemu(VdDaemon *d, const VdDomainDef *def, GError **error)
{
    vd_host_ready_wait_caps(d); /* the start-up probe may still run (host-ready.h) */
    if (!d->caps)
        return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                            "cannot run domain '%s' on the destination: its QEMU is not usable: "
                            "%s",
                            def->name, d->caps_error ? d->caps_error->message : "not probed");
    if (!vd_mig_rule_machine(def, d->caps, error) || !vd_mig_rule_cpu_model(def, d->caps, error))
        return FALSE;

    g_autoptr(GError) why = NULL;
    g_autoptr(GPtrArray) argv = vd_migration_dry_run_argv(d, def, &why);
    if (!argv) {
        /* What this QEMU lacks refuses the migration here; anything else
         * (a file, a descriptor) is the incoming start's to report. */
        if (g_error_matches(why, VD_ERROR, VD_ERROR_UNSUPPORTED)) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "cannot run domain '%s' on the destination: %s", def->name, why->message);
            return FALSE;
        }
        g_debug("migration check of '%s': argv not built (%s)", def->name, why->message);
        return TRUE;
    }
    return vd_mig_rule_devices(def->name, argv, d->caps, error);
}

static gboolean
check_interfaces(VdDaemon *d, const VdDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        if (net->type == VD_NET_NETWORK) {
            VdNetworkPort port = {0};
            g_autoptr(GError) why = NULL;
            gboolean ok = d->networks && vd_networks_port(d->networks, net->source, &port, &why);
            vd_network_port_clear(&port);
            gboolean defined = ok || (why && !g_error_matches(why, VD_ERROR, VD_ERROR_NO_NETWORK));
            if (!vd_mig_rule_network(def->name, i, net->source, defined, ok, error))
                return FALSE;
        } else if (net->type == VD_NET_BRIDGE) {
            if (!vd_mig_rule_bridge(def->name, i, net->source, vd_link_exists(net->source),
                                    vd_link_is_bridge(net->source), error))
                return FALSE;
        }
    }
    return TRUE;
}

typedef struct {
    char *dir;
    GString *targets;
    guint64 needed;
} DirNeed;

static void
dir_need_free(DirNeed *n)
{
    g_free(n->dir);
    g_string_free(n->targets, TRUE);
    g_free(n);
}

static const VdDiskDef *
def_disk(const VdDomainDef *def, const char *target)
{
    for (guint i = 0; target && i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        if (g_strcmp0(disk->target_dev, target) == 0)
            return disk;
    }
    return NULL;
}

/* Where this host has @disk: a pool volume in this host's pool of the
 * same name, else the path of this host's definition (--xml may move it),
 * else the source's. */
static gboolean
dest_path(VdDaemon *d, const char *dom_name, const VdMigrationDisk *disk, const VdDiskDef *dd,
          char **path, GError **error)
{
    if (dd && dd->type == VD_DISK_TYPE_VOLUME && dd->source_pool && dd->source_volume) {
        g_autoptr(GError) why = NULL;
        VdStoragePool *pool =
            d->storage ? vd_storage_lookup(d->storage, dd->source_pool, &why) : NULL;
        if (!pool || !vd_storage_check_active(pool, &why) ||
            !(*path = vd_storage_vol_path(pool, dd->source_volume, &why))) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: disk %s of domain '%s' is volume '%s' of pool '%s', "
                        "and the destination cannot give it: %s: define and start a pool of "
                        "that name there, or give the disk a path with --xml",
                        disk->target, dom_name, dd->source_volume, dd->source_pool,
                        why ? why->message : "no storage");
            return FALSE;
        }
        return TRUE;
    }
    *path = g_strdup(dd && dd->source_file ? dd->source_file : disk->path);
    return TRUE;
}

static gboolean
check_disks(VdDaemon *d, const VdMigrationOffer *offer, const VdDomainDef *def, GError **error)
{
    VdMigrateCopy copy = offer->params.copy_storage;
    g_autoptr(GHashTable) dirs =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)dir_need_free);
    g_autoptr(GPtrArray) order = g_ptr_array_new();

    for (guint i = 0; offer->disks && i < offer->disks->len; i++) {
        const VdMigrationDisk *disk = g_ptr_array_index(offer->disks, i);
        g_autofree char *path = NULL;
        if (!dest_path(d, def->name, disk, def_disk(def, disk->target), &path, error))
            return FALSE;
        VdMigDestFile here = {0};
        struct stat st;
        if (path && stat(path, &st) == 0) {
            here.exists = TRUE;
            here.dev = (guint64)st.st_dev;
            here.ino = (guint64)st.st_ino;
        }
        if (path) {
            g_autofree char *dir = g_path_get_dirname(path);
            here.dir_exists = g_file_test(dir, G_FILE_TEST_IS_DIR);
        }
        here.backing_exists = disk->backing && g_file_test(disk->backing, G_FILE_TEST_EXISTS);
        if (!vd_mig_rule_disk_dest(def->name, disk, path, copy, &here, error))
            return FALSE;
        if (!disk->copy || !path)
            continue;
        g_autofree char *dir = g_path_get_dirname(path);
        DirNeed *need = g_hash_table_lookup(dirs, dir);
        if (!need) {
            need = g_new0(DirNeed, 1);
            need->dir = g_steal_pointer(&dir);
            need->targets = g_string_new(NULL);
            g_hash_table_insert(dirs, need->dir, need);
            g_ptr_array_add(order, need);
        }
        need->needed += disk->allocation;
        g_string_append_printf(need->targets, "%s%s", need->targets->len ? ", " : "", disk->target);
    }
    /* An estimate (the copy may need less: zeroes, compression): --unsafe
     * skips it and lets the copy itself fail if it must. */
    for (guint i = 0; !offer->params.unsafe && i < order->len; i++) {
        DirNeed *need = g_ptr_array_index(order, i);
        struct statvfs vfs;
        if (statvfs(need->dir, &vfs) != 0)
            continue; /* vd_mig_rule_disk_dest saw it exist; the copy reports what fails */
        guint64 available = (guint64)vfs.f_bavail * (guint64)vfs.f_frsize;
        if (!vd_mig_rule_space(need->dir, need->targets->str, need->needed, available, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vd_migration_check_dest(VdDaemon *d, const VdMigrationOffer *offer, GError **error)
{
    g_autoptr(GError) why = NULL;
    g_autoptr(VdDomainDef) def = vd_domain_def_new_from_stored_xml(offer->xml, -1, &why);

    if (!def) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "the domain XML the source offered is not valid here: %s", why->message);
        return FALSE;
    }

    VdDomainObj *by_name = vd_domain_list_find_name(d->domains, def->name);
    VdDomainObj *by_uuid = vd_domain_list_find_uuid(d->domains, def->uuid);
    VdDomainObj *same = by_name ? by_name : by_uuid;
    if (!vd_mig_rule_name_uuid(def->name, def->uuid, by_name ? by_name->uuid : NULL,
                               by_uuid ? by_uuid->name : NULL,
                               same && same->state != VD_STATE_SHUTOFF, error))
        return FALSE;

    if (!offer->params.offline) {
        if (!check_qemu(d, def, error))
            return FALSE;
        if (def->cpu.present &&
            (def->cpu.mode == VD_CPU_MODE_HOST_PASSTHROUGH ||
             def->cpu.mode == VD_CPU_MODE_HOST_MODEL) &&
            offer->cpu && !offer->params.unsafe) {
            VdHostCpu *here = vd_host_cpu_read(error);
            if (!here)
                return FALSE;
            gboolean ok = vd_mig_rule_host_cpu(def, offer->cpu, here, offer->params.unsafe, error);
            vd_host_cpu_free(here);
            if (!ok)
                return FALSE;
        }
        if (!check_interfaces(d, def, error))
            return FALSE;
        if (offer->params.postcopy) {
            VdUserfaultHost host;
            vd_userfault_host_read(&host, d->caps->version_major, d->caps->version_minor);
            if (!vd_mig_rule_userfault(def->name, &host, error))
                return FALSE;
        }
    }
    /* Offline without a copy only the definition moves: its disks may
     * follow by other means (scp), as virsh users do. */
    if (offer->params.offline && offer->params.copy_storage == VD_MIGRATE_COPY_NONE)
        return TRUE;
    return check_disks(d, offer, def, error);
}
