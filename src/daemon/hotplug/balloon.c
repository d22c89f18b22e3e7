/* The memory balloon and the memory sizes (balloon.h).
 *
 * QEMU's "balloon" only sets a target: the guest's driver then inflates
 * or deflates the balloon page by page, and QEMU reports the memory the
 * guest has (BALLOON_CHANGE) many times on the way. The live definition's
 * <currentMemory> follows those reports, as libvirt's does, so dominfo
 * and dumpxml say what the guest really has, not what was asked; the
 * status file is written once the reports have settled (SAVE_DELAY_MS
 * after the last), not on each. */
#include "daemon/hotplug/balloon.h"

#include "conf/domain-cpu-ext.h"
#include "qemu/qmp-balloon.h"
#include "util/vd-error.h"

#define SAVE_DELAY_MS 500

/* dom->hp_balloon. */
typedef struct {
    VdDaemon *d;
    guint save_timer; /* the debounced status save; 0 when none pending */
} BalloonState;

static BalloonState *
state_of(VdDomainObj *dom)
{
    if (!dom->hp_balloon)
        dom->hp_balloon = g_new0(BalloonState, 1);
    return dom->hp_balloon;
}

static gboolean
has_balloon(const VdDomainDef *def)
{
    return def->memballoon && g_strcmp0(def->memballoon->model, "none") != 0;
}

/* ---- one QMP command, then the live definition and the config -------- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* ref */
    gboolean live, config;
    guint64 kib;  /* setmem */
    guint period; /* set_period (kib == 0) */
    VdDomainWaitFunc done;
    gpointer user_data;
} BalloonOp;

static void
op_finish(BalloonOp *op, const GError *error)
{
    op->done(op->dom, error, op->user_data);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static gboolean
edit_current(VdDomainDef *def, gpointer data, GError **error)
{
    guint64 kib = *(guint64 *)data;
    if (kib > def->memory_kib) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: cannot set memory higher than max memory: %" G_GUINT64_FORMAT
                    " KiB > %" G_GUINT64_FORMAT " KiB in the persistent definition; raise the "
                    "maximum first with 'vsh setmaxmem --config'",
                    kib, def->memory_kib);
        return FALSE;
    }
    def->current_memory_kib = kib;
    return TRUE;
}

static gboolean
edit_period(VdDomainDef *def, gpointer data, GError **error)
{
    guint period = *(guint *)data;
    if (!def->memballoon || g_strcmp0(def->memballoon->model, "none") == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' has no memory balloon "
                    "(<memballoon model='none'>): give it <memballoon model='virtio'> with "
                    "'vsh edit' to have memory statistics",
                    def->name);
        return FALSE;
    }
    def->memballoon->period = period;
    return TRUE;
}

static void
op_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    BalloonOp *op = data;
    g_autoptr(GError) err = NULL;

    if (error) {
        err = vd_hotplug_qmp_error(error);
        op_finish(op, err);
        return;
    }
    /* setmem's live value comes from BALLOON_CHANGE as the guest moves;
     * the period is QEMU's at once. */
    if (!op->kib && op->dom->live && op->dom->live->memballoon) {
        op->dom->live->memballoon->period = op->period;
        vd_domain_live_save(op->d, op->dom, &err);
    }
    if (!err && op->config)
        vd_domain_config_edit(op->d, op->dom, op->kib ? edit_current : edit_period,
                              op->kib ? (gpointer)&op->kib : (gpointer)&op->period, &err);
    op_finish(op, err);
}

/* Checks the config first (so that nothing is done when it would fail),
 * then runs @cmd live, then writes the config. */
static void
op_run(BalloonOp *op, const char *cmd, JsonObject *args)
{
    g_autoptr(GError) error = NULL;
    VdDomainConfigEdit edit = op->kib ? edit_current : edit_period;
    gpointer data = op->kib ? (gpointer)&op->kib : (gpointer)&op->period;

    if (op->config && !vd_domain_config_check(op->dom, edit, data, &error)) {
        json_object_unref(args);
        op_finish(op, error);
        return;
    }
    if (!op->live) {
        json_object_unref(args);
        vd_domain_config_edit(op->d, op->dom, edit, data, &error);
        op_finish(op, error);
        return;
    }
    vd_qmp_command(op->dom->qmp, cmd, args, op_reply, op);
}

static BalloonOp *
op_new(VdDaemon *d, VdDomainObj *dom, gboolean live, gboolean config, VdDomainWaitFunc done,
       gpointer user_data)
{
    BalloonOp *op = g_new0(BalloonOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->live = live;
    op->config = config;
    op->done = done;
    op->user_data = user_data;
    return op;
}

/* The checks of a live change: running, not busy, with a balloon.
 * @period: for the statistics period (libvirt's words differ). */
static gboolean
live_check(VdDomainObj *dom, gboolean period, GError **error)
{
    if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, error))
        return FALSE;
    if (dom->live && dom->qmp && has_balloon(dom->live))
        return TRUE;
    if (period)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: No memory balloon device configured, can "
                    "not set the collection period: domain '%s' has <memballoon model='none'>; "
                    "give it <memballoon model='virtio'> with 'vsh edit' and restart it",
                    dom->name);
    else
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: Unable to change memory of active domain "
                    "without the balloon device and guest OS balloon driver: domain '%s' has "
                    "<memballoon model='none'>; give it <memballoon model='virtio'> with "
                    "'vsh edit' and restart it, or change the memory with --config",
                    dom->name);
    return FALSE;
}

void
vd_balloon_setmem(VdDaemon *d, VdDomainObj *dom, guint64 kib, gboolean live, gboolean config,
                  VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    if (kib == 0) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: memory size must be greater than 0");
    } else if (live && live_check(dom, FALSE, &error) && kib > dom->live->memory_kib) {
        /* virsh's words, then the ways to get more. */
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: cannot set memory higher than max memory: %" G_GUINT64_FORMAT
                    " KiB > %" G_GUINT64_FORMAT " KiB; a running guest cannot go above its "
                    "<memory>: raise it with 'vsh setmaxmem --config' and restart the domain, "
                    "or hot-plug memory (a DIMM or virtio-mem device)",
                    kib, dom->live->memory_kib);
    }
    if (error) {
        done(dom, error, user_data);
        return;
    }
    BalloonOp *op = op_new(d, dom, live, config, done, user_data);
    op->kib = kib;
    op_run(op, "balloon", vd_qmp_balloon_args(kib));
}

void
vd_balloon_set_period(VdDaemon *d, VdDomainObj *dom, guint period, gboolean live, gboolean config,
                      VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    if (live && !live_check(dom, TRUE, &error)) {
        done(dom, error, user_data);
        return;
    }
    BalloonOp *op = op_new(d, dom, live, config, done, user_data);
    op->period = period;
    op_run(op, "qom-set", vd_qmp_balloon_period_args(period));
}

/* ---- setmaxmem --------------------------------------------------------- */

static gboolean
edit_max(VdDomainDef *def, gpointer data, GError **error)
{
    guint64 kib = *(guint64 *)data;
    if (def->cpu_ext && def->cpu_ext->numa_cells->len) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: initial memory size of a domain with NUMA "
                    "nodes cannot be modified with this API: change the memory= of its "
                    "<cpu><numa><cell> elements with 'vsh edit'");
        return FALSE;
    }
    def->memory_kib = kib;
    /* As libvirt: the current memory cannot stay above the maximum. */
    if (def->current_memory_kib > kib)
        def->current_memory_kib = kib;
    return TRUE;
}

gboolean
vd_balloon_setmaxmem(VdDaemon *d, VdDomainObj *dom, guint64 kib, gboolean live, gboolean config,
                     GError **error)
{
    if (live)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: cannot resize the maximum memory "
                            "on an active domain: change it with --config and restart the "
                            "domain, or hot-plug memory (define <maxMemory slots=...> and attach "
                            "DIMM or virtio-mem devices)");
    if (kib == 0)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "invalid argument: memory size must be greater than 0");
    return vd_domain_config_edit(d, dom, edit_max, &kib, error);
}

/* ---- dommemstat -------------------------------------------------------- */

typedef struct {
    VdDomainObj *dom;  /* ref */
    JsonNode *balloon; /* query-balloon's answer */
    VdBalloonStatsFunc done;
    gpointer user_data;
} StatsOp;

static gint64
rss_kib(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    const char *line = strstr(text, "\nVmRSS:");
    return line ? g_ascii_strtoll(line + 7, NULL, 10) : -1;
}

static void
stats_finish(StatsOp *op, JsonNode *guest_stats, const GError *error)
{
    g_autoptr(GArray) stats = NULL;
    if (!error)
        stats = vd_qmp_balloon_stats_parse(op->balloon, guest_stats, rss_kib(op->dom->pid));
    op->done(op->dom, stats, error, op->user_data);
    if (op->balloon)
        json_node_unref(op->balloon);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static void
guest_stats_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    /* No guest figures (an old QEMU, no driver) is not an error: actual
     * and rss remain, as virsh shows them. */
    stats_finish(data, error ? NULL : result, NULL);
}

static void
query_balloon_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    StatsOp *op = data;
    if (error) {
        g_autoptr(GError) err = vd_hotplug_qmp_error(error);
        stats_finish(op, NULL, err);
        return;
    }
    op->balloon = json_node_ref(result);
    if (!op->dom->qmp) {
        stats_finish(op, NULL, NULL);
        return;
    }
    vd_qmp_command(op->dom->qmp, "qom-get", vd_qmp_balloon_stats_args(), guest_stats_reply, op);
}

void
vd_balloon_stats(VdDomainObj *dom, VdBalloonStatsFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        done(dom, NULL, error, user_data);
        return;
    }
    StatsOp *op = g_new0(StatsOp, 1);
    op->dom = vd_domain_obj_ref(dom);
    op->done = done;
    op->user_data = user_data;
    if (!dom->qmp || !has_balloon(dom->live)) {
        /* virsh shows rss alone for a domain without a balloon. */
        stats_finish(op, NULL, NULL);
        return;
    }
    vd_qmp_command(dom->qmp, "query-balloon", NULL, query_balloon_reply, op);
}

/* ---- events ------------------------------------------------------------ */

static gboolean
save_now(gpointer data)
{
    VdDomainObj *dom = data;
    BalloonState *st = dom->hp_balloon;
    g_autoptr(GError) error = NULL;

    st->save_timer = 0;
    if (dom->live && !vd_domain_live_save(st->d, dom, &error))
        g_warning("domain '%s': cannot save the balloon's new size: %s", dom->name, error->message);
    return G_SOURCE_REMOVE;
}

void
vd_balloon_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    gint64 actual;
    if (!g_str_equal(event, "BALLOON_CHANGE") || !data || !dom->live)
        return;
    actual = json_object_get_int_member_with_default(data, "actual", -1);
    if (actual <= 0 || (guint64)actual / 1024 == dom->live->current_memory_kib)
        return;
    dom->live->current_memory_kib = (guint64)actual / 1024;
    BalloonState *st = state_of(dom);
    st->d = d;
    /* The timer holds no reference: stopped and obj_free remove it. */
    if (st->save_timer)
        g_source_remove(st->save_timer);
    st->save_timer = g_timeout_add(SAVE_DELAY_MS, save_now, dom);
}

static void
drop_timer(VdDomainObj *dom)
{
    BalloonState *st = dom->hp_balloon;
    if (st && st->save_timer) {
        g_source_remove(st->save_timer);
        st->save_timer = 0;
    }
}

void
vd_balloon_stopped(VdDomainObj *dom)
{
    drop_timer(dom);
}

void
vd_balloon_obj_free(VdDomainObj *dom)
{
    drop_timer(dom);
    g_clear_pointer(&dom->hp_balloon, g_free);
}
