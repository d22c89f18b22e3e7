/* The collection of many domains' statistics in one go (domain-stats.h):
 * snapshots on the main loop, then the QMP queries of all domains in
 * flight at once under one deadline while one worker does the /proc and
 * /sys reads. */
#include "daemon/stats/domain-stats.h"

#include "daemon/stats/domain-stats-priv.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

/* dom->hp_stats: the vCPU thread ids of the running QEMU. */
typedef struct {
    pid_t pid;
    GArray *tids; /* guint64 pairs (cpu-index, thread id) */
} StatsState;

/* One collection. Two things run at once: the QMP queries (block figures;
 * vCPU thread ids when not cached) and the worker reading /proc for the
 * other groups. The worker starts once the thread ids are in (at once
 * when cached: the usual case); the answer goes when the worker is done
 * and the block queries are back or their deadline passed. */
typedef struct {
    int refcount;
    GPtrArray *snaps; /* VdStatsSnap* */
    guint groups;
    guint pending_cpus;
    guint pending_block;
    guint timer;
    gboolean worker_started;
    gboolean block_closed; /* every answer in or the deadline passed: late ones are dropped */
    GPtrArray *records;    /* the worker's, once done */
    gboolean replied;
    VdStatsDone done;
    gpointer user_data;
} Collect;

typedef struct {
    Collect *c; /* ref'd */
    VdStatsSnap *snap;
    gboolean cpus; /* query-cpus-fast, else query-blockstats */
} Query;

static Collect *
collect_ref(Collect *c)
{
    c->refcount++;
    return c;
}

static void
collect_unref(Collect *c)
{
    if (--c->refcount > 0)
        return;
    g_clear_pointer(&c->snaps, g_ptr_array_unref);
    g_clear_pointer(&c->records, g_ptr_array_unref);
    g_free(c);
}

void
vd_domain_stats_obj_free(VdDomainObj *dom)
{
    StatsState *st = dom->hp_stats;
    if (!st)
        return;
    g_clear_pointer(&st->tids, g_array_unref);
    g_free(st);
    dom->hp_stats = NULL;
}

/* The cached thread ids, if they are those of this QEMU with this many
 * vCPUs online (a hot-plug or unplug changes the count: ask again). */
static GArray *
cached_tids(VdDomainObj *dom)
{
    StatsState *st = dom->hp_stats;
    if (!st || !st->tids || st->pid != dom->pid || !dom->live ||
        st->tids->len != 2 * dom->live->vcpus_current)
        return NULL;
    return st->tids;
}

static void
stats_disk_free(VdStatsDisk *sd)
{
    g_free(sd->target);
    g_free(sd->path);
    g_free(sd->device_id);
    g_free(sd->node_name);
    g_free(sd);
}

static VdStatsSnap *
snapshot(VdDomainObj *dom, guint groups)
{
    VdStatsSnap *s = g_new0(VdStatsSnap, 1);
    /* an inactive domain's definition is kept as text: parsed only when a
     * group reads it (state alone does not) */
    const VdDomainDef *def = dom->live                  ? dom->live
                             : groups & ~VD_STATS_STATE ? vd_domain_obj_def(dom)
                                                        : NULL;

    s->dom = vd_domain_obj_ref(dom);
    s->name = g_strdup(dom->name);
    s->state = dom->state;
    s->reason = dom->reason;
    s->active = dom->live != NULL && dom->pid > 0;
    s->pid = dom->pid;
    s->ifaces = g_ptr_array_new_with_free_func(g_free);
    s->disks = g_ptr_array_new_with_free_func((GDestroyNotify)stats_disk_free);
    if (!def)
        return s;
    s->vcpus = def->vcpus;
    s->vcpus_current = def->vcpus_current;
    s->mem_max_kib = def->memory_kib;
    /* without a balloon the guest has all of it, whatever <currentMemory> says (libvirt) */
    gboolean balloon =
        def->memballoon && def->memballoon->model && !g_str_equal(def->memballoon->model, "none");
    s->mem_cur_kib = balloon ? def->current_memory_kib : def->memory_kib;
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        g_ptr_array_add(s->ifaces, g_strdup(net->target_dev ? net->target_dev : ""));
    }
    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        VdStatsDisk *sd = g_new0(VdStatsDisk, 1);
        sd->target = g_strdup(disk->target_dev);
        sd->path = g_strdup(disk->source_file);
        sd->device_id = vd_qemu_disk_device_id(disk);
        sd->node_name = vd_qemu_disk_node_name(disk);
        g_ptr_array_add(s->disks, sd);
    }
    GArray *tids = s->active ? cached_tids(dom) : NULL;
    if (tids)
        s->tids = g_array_ref(tids);
    return s;
}

/* ---- the worker ---------------------------------------------------------- */

static void
worker(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Collect *c = data;
    GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)vd_stats_record_free);
    for (guint i = 0; i < c->snaps->len; i++) {
        VdStatsSnap *s = g_ptr_array_index(c->snaps, i);
        if ((c->groups & VD_STATS_BLOCK) && !(c->groups & VD_STATS_NO_SIZES))
            vd_stats_read_disk_sizes(s);
        g_ptr_array_add(records, vd_stats_build_base(s, c->groups));
    }
    g_task_return_pointer(task, records, (GDestroyNotify)g_ptr_array_unref);
}

/* Both halves are in: the block group goes last, as in virsh's order. */
static void
maybe_reply(Collect *c)
{
    if (c->replied || !c->records || !c->block_closed)
        return;
    c->replied = TRUE;
    g_clear_handle_id(&c->timer, g_source_remove);
    for (guint i = 0; (c->groups & VD_STATS_BLOCK) && i < c->records->len; i++)
        vd_stats_add_block(g_ptr_array_index(c->records, i), g_ptr_array_index(c->snaps, i));
    c->done(g_steal_pointer(&c->records), c->user_data);
}

static void
worker_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Collect *c = data;
    c->records = g_task_propagate_pointer(G_TASK(res), NULL);
    maybe_reply(c);
    collect_unref(c);
}

static void
start_worker(Collect *c)
{
    if (c->worker_started)
        return;
    c->worker_started = TRUE;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, worker_done, collect_ref(c));
    g_task_set_task_data(task, c, NULL);
    g_task_run_in_thread(task, worker);
}

/* Every block answer is in, or the deadline passed. */
static void
close_block(Collect *c)
{
    if (c->block_closed)
        return;
    c->block_closed = TRUE;
    for (guint i = 0; i < c->snaps->len; i++) {
        VdStatsSnap *s = g_ptr_array_index(c->snaps, i);
        if (s->block_pending && !s->block_problem)
            s->block_problem = g_strdup_printf("QEMU did not answer query-blockstats within %u ms",
                                               VD_STATS_QMP_TIMEOUT_MS);
        s->block_pending = FALSE;
    }
    maybe_reply(c);
}

static gboolean
deadline(gpointer data)
{
    Collect *c = data;
    c->timer = 0;
    start_worker(c); /* without the thread ids still missing */
    close_block(c);
    return G_SOURCE_REMOVE;
}

static void
cpus_answer(VdStatsSnap *s, JsonNode *result, gboolean worker_started)
{
    g_autoptr(GArray) tids = g_array_new(FALSE, FALSE, sizeof(guint64));
    /* kept only if QEMU is still the one asked */
    if (!result || !vd_stats_parse_cpus_fast(result, tids) || s->dom->pid != s->pid)
        return;
    StatsState *st = s->dom->hp_stats;
    if (!st)
        s->dom->hp_stats = st = g_new0(StatsState, 1);
    g_clear_pointer(&st->tids, g_array_unref);
    st->pid = s->pid;
    st->tids = g_array_ref(tids);
    if (!worker_started) { /* the worker reads s->tids */
        g_clear_pointer(&s->tids, g_array_unref);
        s->tids = g_array_ref(tids);
    }
}

static void
query_done(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Query *q = data;
    Collect *c = q->c;
    VdStatsSnap *s = q->snap;

    if (q->cpus) {
        s->cpus_pending = FALSE;
        cpus_answer(s, result, c->worker_started);
        if (--c->pending_cpus == 0)
            start_worker(c);
    } else if (!c->block_closed) {
        s->block_pending = FALSE;
        if (result)
            s->blockstats = json_node_copy(result);
        else
            s->block_problem = g_strdup(error ? error->message : "no answer");
        if (--c->pending_block == 0)
            close_block(c);
    }
    collect_unref(c);
    g_free(q);
}

static void
send_query(Collect *c, VdStatsSnap *s, gboolean cpus)
{
    Query *q = g_new0(Query, 1);
    q->c = collect_ref(c);
    q->snap = s;
    q->cpus = cpus;
    if (cpus) {
        c->pending_cpus++;
        s->cpus_pending = TRUE;
    } else {
        c->pending_block++;
        s->block_pending = TRUE;
    }
    vd_qmp_command(s->dom->qmp, cpus ? "query-cpus-fast" : "query-blockstats", NULL, query_done, q);
}

void
vd_domain_stats_collect(VdDaemon *d, GPtrArray *doms, guint groups, VdStatsDone done,
                        gpointer user_data)
{
    Collect *c = g_new0(Collect, 1);
    c->refcount = 1;
    c->groups = groups;
    c->done = done;
    c->user_data = user_data;
    c->snaps = g_ptr_array_new_with_free_func((GDestroyNotify)vd_stats_snap_free);

    for (guint i = 0; i < doms->len; i++) {
        g_ptr_array_add(c->snaps, snapshot(g_ptr_array_index(doms, i), groups));
    }
    /* the queries go out after every snapshot is taken: a reply is never
     * delivered from inside vd_qmp_command, so none can finish early */
    for (guint i = 0; i < c->snaps->len; i++) {
        VdStatsSnap *s = g_ptr_array_index(c->snaps, i);
        if (!s->active || !s->dom->qmp)
            continue;
        if ((groups & VD_STATS_BLOCK) && s->disks->len > 0)
            send_query(c, s, FALSE);
        if ((groups & VD_STATS_VCPU) && !s->tids && s->vcpus_current > 0)
            send_query(c, s, TRUE);
    }
    if (c->pending_cpus || c->pending_block)
        c->timer = g_timeout_add(VD_STATS_QMP_TIMEOUT_MS, deadline, c);
    if (!c->pending_cpus)
        start_worker(c);
    if (!c->pending_block)
        c->block_closed = TRUE; /* nothing asked: the worker's answer completes it */
    collect_unref(c);
}
