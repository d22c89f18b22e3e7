/* Each QEMU in a cgroup of its own (domain-cgroup.h). */
#include "daemon/domain/domain-cgroup.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "conf/domain-restune.h"
#include "util/vd-cgroup.h"
#include "util/vd-error.h"

/* Longest escaped name used as is; beyond it the UUID (NAME_MAX is 255). */
#define SCOPE_NAME_MAX 200
/* An ended QEMU's cgroup may stay busy for a moment while the kernel
 * finishes the exit: retries of the removal. */
#define REMOVE_RETRY_MS 100
#define REMOVE_RETRIES 50

struct _VdDomainCgroups {
    VdCgroupLayout *layout;
    char *partition; /* "virtd.slice", "virtd-1a2b3c4d.slice" */
    guint64 pids_max;
    gboolean any;        /* at least one controller available */
    GHashTable *pending; /* relpath -> RemoveRetry*: removals waiting for the kernel */
};

/* A removal waiting for the kernel, by the cgroup's relpath; the source
 * is the table's entry (removing the entry removes the source). */
typedef struct {
    VdDomainCgroups *cgs;
    VdCgroup *cg;
    char *name;
    guint tries;
    guint source;
} RemoveRetry;

static void remove_retry_free(gpointer data);
static void cancel_pending_removal(VdDomainCgroups *cgs, const char *rel);

void
vd_domain_cgroups_init(VdDaemon *d, guint64 pids_max)
{
    VdDomainCgroups *cgs = g_new0(VdDomainCgroups, 1);
    cgs->layout = vd_cgroup_layout_detect();
    /* Started by systemd (virtd.service has Delegate=yes): out of the
     * unit's own cgroup, so that cgroup v2 lets it hand controllers to the
     * QEMUs' cgroups. By hand, the daemon stays where its shell put it. */
    g_autoptr(GError) leave_error = NULL;
    if (g_getenv("INVOCATION_ID") && !d->paths->root &&
        !vd_cgroup_layout_leave_v2_base(cgs->layout, getpid(), &leave_error))
        g_warning("%s", leave_error->message);
    cgs->pids_max = pids_max;
    cgs->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, remove_retry_free);
    if (d->paths->root) {
        g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, d->paths->root, -1);
        cgs->partition = g_strdup_printf("virtd-%.8s.slice", sum);
    } else {
        cgs->partition = g_strdup("virtd.slice");
    }
    for (int c = 0; c < VD_CGROUP_N; c++) {
        const char *name = vd_cgroup_controller_name(c);
        if (cgs->layout->base[c]) {
            cgs->any = TRUE;
            g_info("cgroup %s: v%d, domains under %s/%s", name, cgs->layout->v2[c] ? 2 : 1,
                   cgs->layout->base[c], cgs->partition);
        } else {
            g_message("cgroup %s: unavailable (%s); a domain that sets a limit of it will not "
                      "start",
                      name, cgs->layout->why[c]);
        }
    }
    d->cgroups = cgs;
}

void
vd_domain_cgroups_free(VdDaemon *d)
{
    VdDomainCgroups *cgs = g_steal_pointer(&d->cgroups);
    if (!cgs)
        return;
    /* A QEMU destroyed just before the daemon's stop may still be
     * leaving its cgroup: the removals waiting for it get a last second. */
    for (int i = 0; i < 20 && g_hash_table_size(cgs->pending); i++) {
        GHashTableIter it;
        RemoveRetry *r;
        g_hash_table_iter_init(&it, cgs->pending);
        while (g_hash_table_iter_next(&it, NULL, (gpointer *)&r))
            if (vd_cgroup_remove(r->cg, NULL))
                g_hash_table_iter_remove(&it);
        if (g_hash_table_size(cgs->pending))
            g_usleep(50 * 1000);
    }
    /* The instance's partition goes when no QEMU's cgroup is left in it
     * (a test daemon's virtd-HASH.slice; the next start makes it again). */
    if (cgs->any) {
        g_autoptr(VdCgroup) part = vd_cgroup_new(cgs->layout, cgs->partition);
        g_autoptr(GPtrArray) left = vd_cgroup_list_children(cgs->layout, cgs->partition);
        if (left->len == 0)
            vd_cgroup_remove(part, NULL);
    }
    g_hash_table_unref(cgs->pending);
    vd_cgroup_layout_free(cgs->layout);
    g_free(cgs->partition);
    g_free(cgs);
}

/* PARTITION/machine-virtd-NAME.scope */
static char *
domain_relpath(const VdDomainCgroups *cgs, const VdDomainObj *dom)
{
    g_autofree char *esc = vd_cgroup_escape(dom->name);
    if (strlen(esc) > SCOPE_NAME_MAX) {
        g_free(esc);
        esc = g_strdup(dom->uuid);
    }
    return g_strdup_printf("%s/machine-virtd-%s.scope", cgs->partition, esc);
}

/* ---- limits ----------------------------------------------------------- */

/* Each asked-for limit's controller must be there: the element, the
 * controller and why it is missing. */
static gboolean
check_controllers(const VdDomainCgroups *cgs, const VdResTuneDef *t, GError **error)
{
    struct {
        gboolean asked;
        const char *what;
        VdCgroupController c;
    } needs[] = {
        {t->cpu_shares || t->period || t->quota || t->global_period || t->global_quota,
         "<cputune> shares/period/quota", VD_CGROUP_CPU},
        {t->hard_limit_kib || t->soft_limit_kib || t->swap_hard_limit_kib, "<memtune>",
         VD_CGROUP_MEMORY},
        {t->blkio_weight || t->blkio_devices->len, "<blkiotune>", VD_CGROUP_IO},
    };
    for (guint i = 0; i < G_N_ELEMENTS(needs); i++) {
        if (needs[i].asked && !cgs->layout->base[needs[i].c]) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: %s needs the %s cgroup controller, which "
                        "this host does not give virtd: %s; remove %s or make the controller "
                        "available",
                        needs[i].what, vd_cgroup_controller_name(needs[i].c),
                        cgs->layout->why[needs[i].c], needs[i].what);
            return FALSE;
        }
    }
    return TRUE;
}

static guint64
kib_to_bytes(guint64 kib)
{
    if (!kib)
        return 0;
    return kib == VD_MEMTUNE_UNLIMITED_KIB ? G_MAXUINT64 : kib * 1024;
}

/* The definition's limits in the cgroup layer's terms (devices appended
 * to l->io_devices, which the caller owns). The per-vCPU
 * <period>/<quota> bound the whole QEMU to quota x vCPUs per period
 * (libvirt puts each vCPU thread in a cgroup of its own; here all of
 * QEMU shares one), unless <global_quota> says otherwise. */
static gboolean
limits_from_def(const VdDomainCgroups *cgs, const VdDomainDef *def, VdCgroupLimits *l,
                GError **error)
{
    const VdResTuneDef *t = def->restune;
    l->pids_max = cgs->pids_max;
    l->cpu_shares = t->cpu_shares;
    if (t->global_period || t->global_quota) {
        l->cpu_period = t->global_period;
        l->cpu_quota = t->global_quota;
    } else if (t->period || t->quota) {
        l->cpu_period = t->period;
        l->cpu_quota = t->quota > 0 ? t->quota * (gint64)MAX(def->vcpus, 1) : t->quota;
    }
    l->mem_max = kib_to_bytes(t->hard_limit_kib);
    l->mem_high = kib_to_bytes(t->soft_limit_kib);
    l->mem_swap_max = kib_to_bytes(t->swap_hard_limit_kib);
    l->io_weight = t->blkio_weight;
    for (guint i = 0; i < t->blkio_devices->len; i++) {
        const VdBlkioDevice *b = g_ptr_array_index(t->blkio_devices, i);
        struct stat st;
        if (stat(b->path, &st) < 0 || !S_ISBLK(st.st_mode)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: <blkiotune><device><path> '%s' is not a block device "
                        "on this host: name the host's disk (e.g. /dev/sda), not a file",
                        b->path);
            return FALSE;
        }
        VdCgroupDevice dev = {.major = major(st.st_rdev),
                              .minor = minor(st.st_rdev),
                              .weight = b->weight,
                              .read_bps = b->read_bytes_sec,
                              .write_bps = b->write_bytes_sec,
                              .read_iops = b->read_iops_sec,
                              .write_iops = b->write_iops_sec};
        g_array_append_val(l->io_devices, dev);
    }
    return TRUE;
}

/* ---- start ------------------------------------------------------------ */

gboolean
vd_domain_cgroup_prepare(VdDaemon *d, VdDomainObj *dom, const VdDomainDef *live, GPtrArray *notes,
                         GError **error)
{
    VdDomainCgroups *cgs = d->cgroups;
    gboolean asked = vd_restune_is_set(live->restune);
    g_autoptr(GError) local = NULL;
    g_autoptr(GArray) devices = g_array_new(FALSE, TRUE, sizeof(VdCgroupDevice));
    VdCgroupLimits limits = {.io_devices = devices};

    g_clear_pointer((VdCgroup **)&dom->cgroup, vd_cgroup_free);
    if (!cgs) {
        if (asked)
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                        "internal error: this daemon has no cgroup support initialised");
        return !asked;
    }
    if (!check_controllers(cgs, live->restune, error))
        return FALSE;
    if (!cgs->any)
        return TRUE; /* no controller at all: said once at daemon start */
    if (!limits_from_def(cgs, live, &limits, error))
        return FALSE;
    g_autofree char *rel = domain_relpath(cgs, dom);
    g_autoptr(VdCgroup) cg = vd_cgroup_new(cgs->layout, rel);
    /* The same domain's previous QEMU may still be leaving it (a start
     * right after a destroy): its removal is off, the cgroup reused. */
    cancel_pending_removal(cgs, rel);
    if (!vd_cgroup_create(cg, &local) || !vd_cgroup_apply(cg, &limits, &local)) {
        vd_cgroup_remove(cg, NULL);
        if (asked) {
            g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                       "cannot apply the domain's resource limits: ");
            return FALSE;
        }
        /* Only the daemon's default pids limit was at stake. */
        g_warning("domain '%s': QEMU runs without a cgroup: %s", dom->name, local->message);
        g_ptr_array_add(notes, g_strdup_printf("QEMU runs without a cgroup (no pids limit): %s",
                                               local->message));
        return TRUE;
    }
    dom->cgroup = g_steal_pointer(&cg);
    return TRUE;
}

gboolean
vd_domain_cgroup_attach(VdDomainObj *dom, pid_t pid, GError **error)
{
    if (!dom->cgroup)
        return TRUE;
    if (!vd_cgroup_add_pid(dom->cgroup, pid, error)) {
        g_prefix_error(error, "cannot put QEMU in its cgroup: ");
        return FALSE;
    }
    return TRUE;
}

/* ---- end -------------------------------------------------------------- */

static void
remove_retry_free(gpointer data)
{
    RemoveRetry *r = data;
    if (r->source)
        g_source_remove(r->source);
    vd_cgroup_free(r->cg);
    g_free(r->name);
    g_free(r);
}

static gboolean
remove_retry(gpointer data)
{
    RemoveRetry *r = data;
    g_autoptr(GError) error = NULL;
    if (vd_cgroup_remove(r->cg, &error) || ++r->tries >= REMOVE_RETRIES) {
        if (error)
            g_warning("domain '%s': %s", r->name, error->message);
        r->source = 0; /* ends with this return */
        g_hash_table_remove(r->cgs->pending, vd_cgroup_relpath(r->cg));
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* A new start of the domain takes the cgroup over: its old QEMU's
 * removal must not go on (it could only fail, or warn). */
static void
cancel_pending_removal(VdDomainCgroups *cgs, const char *rel)
{
    g_hash_table_remove(cgs->pending, rel);
}

static void
remove_or_retry(VdDomainCgroups *cgs, VdCgroup *cg, const char *name)
{
    cancel_pending_removal(cgs, vd_cgroup_relpath(cg));
    if (vd_cgroup_remove(cg, NULL)) {
        vd_cgroup_free(cg);
        return;
    }
    RemoveRetry *r = g_new0(RemoveRetry, 1);
    r->cgs = cgs;
    r->cg = cg;
    r->name = g_strdup(name);
    r->source = g_timeout_add(REMOVE_RETRY_MS, remove_retry, r);
    g_hash_table_insert(cgs->pending, g_strdup(vd_cgroup_relpath(cg)), r);
}

void
vd_domain_cgroup_release(VdDaemon *d, VdDomainObj *dom)
{
    VdCgroup *cg = g_steal_pointer((VdCgroup **)&dom->cgroup);
    /* A daemon restarted after QEMU died never read the cgroup from a
     * pid: the name says where it is. */
    if (!cg && d->cgroups && d->cgroups->any) {
        g_autofree char *rel = domain_relpath(d->cgroups, dom);
        cg = vd_cgroup_new(d->cgroups->layout, rel);
    }
    if (cg)
        remove_or_retry(d->cgroups, cg, dom->name);
}

void
vd_domain_cgroup_reconnect(VdDaemon *d, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    if (!d->cgroups || !d->cgroups->any)
        return;
    g_autofree char *expected = domain_relpath(d->cgroups, dom);
    VdCgroup *cg = vd_cgroup_of_pid(d->cgroups->layout, dom->pid, &error);
    if (cg && g_str_equal(vd_cgroup_relpath(cg), expected)) {
        g_info("domain '%s': QEMU pid %d is in its cgroup %s", dom->name, (int)dom->pid, expected);
        dom->cgroup = cg;
        return;
    }
    /* Started by a daemon without cgroups, or moved by someone else:
     * leave it where it is, and never remove a cgroup not ours. */
    g_message("domain '%s': QEMU pid %d is not in the cgroup %s%s%s", dom->name, (int)dom->pid,
              expected, error ? ": " : "", error ? error->message : "");
    vd_cgroup_free(cg);
}

void
vd_domain_cgroups_sweep(VdDaemon *d)
{
    VdDomainCgroups *cgs = d->cgroups;
    if (!cgs || !cgs->any)
        return;
    g_autoptr(GHashTable) owned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        if (dom->cgroup)
            g_hash_table_add(owned, g_strdup(vd_cgroup_relpath(dom->cgroup)));
    }
    g_autoptr(GPtrArray) children = vd_cgroup_list_children(cgs->layout, cgs->partition);
    for (guint i = 0; i < children->len; i++) {
        g_autofree char *rel =
            g_strdup_printf("%s/%s", cgs->partition, (const char *)children->pdata[i]);
        if (g_hash_table_contains(owned, rel))
            continue;
        g_autoptr(VdCgroup) cg = vd_cgroup_new(cgs->layout, rel);
        g_autoptr(GArray) pids = vd_cgroup_pids(cg);
        g_autoptr(GError) error = NULL;
        if (pids->len)
            g_warning("cgroup %s holds process %d of no domain this daemon runs: left alone", rel,
                      (int)g_array_index(pids, pid_t, 0));
        else if (!vd_cgroup_remove(cg, &error))
            g_warning("stale cgroup %s: %s", rel, error->message);
        else
            g_info("removed the stale cgroup %s", rel);
    }
}
