/* Live changes of vCPUs (vcpu-live.h).
 *
 * setvcpus --live is a chain held by a VcpuOp (a reference on the domain):
 * query-hotpluggable-cpus, then the device_add or device_del commands that
 * qemu-hotplug-vcpu.c plans, one at a time; an unplug then waits for the
 * guest to eject each CPU (DEVICE_DELETED) at most
 * VD_VCPU_UNPLUG_TIMEOUT_S seconds. The live definition's <vcpu current=>
 * follows each CPU QEMU has added or released (and the status file with
 * it), so a failure half-way leaves it as QEMU has it. */
#include "daemon/hotplug/vcpu-live.h"

#include <glib/gstdio.h>

#include <string.h>
#include <unistd.h>

#include "conf/domain-cputune.h"
#include "daemon/hotplug/vcpu-live-priv.h"
#include "qemu/qemu-hotplug-vcpu.h"
#include "util/vd-error.h"

struct _VcpuOp {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    guint count;
    gboolean config;
    JsonArray *plan;
    guint next;            /* the plan's next command */
    GPtrArray *unplugging; /* qom-paths waiting for DEVICE_DELETED */
    guint timer;
    gboolean in_flight; /* a QMP command's reply is awaited */
    VdDomainWaitFunc done;
    gpointer data;
};

static void
thread_clear(gpointer p)
{
    g_free(((VcpuThread *)p)->qom_path);
}

VcpuState *
vd_vcpu_state(VdDomainObj *dom)
{
    if (!dom->hp_vcpu)
        dom->hp_vcpu = g_new0(VcpuState, 1);
    return dom->hp_vcpu;
}

/* The mark that this QEMU released a CPU, kept beside the status file so
 * that the refusal below survives a daemon restart (the QEMU would crash
 * all the same); removed when QEMU ends. */
static char *
unplug_mark_path(VdDomainObj *dom)
{
    VdDaemon *d = dom->daemon;
    return d ? vd_paths_domain_run(d->paths, dom->name, "vcpu-unplugged") : NULL;
}

static void
set_unplugged(VdDomainObj *dom)
{
    vd_vcpu_state(dom)->unplugged = TRUE;
    g_autofree char *mark = unplug_mark_path(dom);
    if (mark && !g_file_set_contents(mark, "", 0, NULL))
        g_warning("domain '%s': cannot write %s", dom->name, mark);
}

static gboolean
was_unplugged(VdDomainObj *dom)
{
    g_autofree char *mark = unplug_mark_path(dom);
    return vd_vcpu_state(dom)->unplugged || (mark && g_file_test(mark, G_FILE_TEST_EXISTS));
}

guint
vd_vcpu_current(const VdDomainDef *def)
{
    return def->vcpus_current ? def->vcpus_current : def->vcpus;
}

static void
set_current(VdDomainDef *def, guint n)
{
    def->vcpus_current = n;
}

guint
vd_host_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? (guint)n : 1;
}

/* ---- the thread cache --------------------------------------------------- */

static void
threads_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    VcpuState *st = vd_vcpu_state(dom);
    g_autoptr(GError) err = NULL;
    (void)qmp;

    if (error) {
        err = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                          "operation failed: query-cpus-fast: %s", error->message);
    } else {
        if (st->threads)
            g_array_unref(st->threads);
        st->threads = g_array_new(FALSE, TRUE, sizeof(VcpuThread));
        g_array_set_clear_func(st->threads, thread_clear);
        JsonArray *list =
            result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
        for (guint i = 0; list && i < json_array_get_length(list); i++) {
            JsonObject *o = json_array_get_object_element(list, i);
            if (!o)
                continue;
            VcpuThread t = {
                .vcpu = (guint)json_object_get_int_member_with_default(o, "cpu-index", i),
                .tid = (pid_t)json_object_get_int_member_with_default(o, "thread-id", 0),
                .qom_path =
                    g_strdup(json_object_get_string_member_with_default(o, "qom-path", NULL)),
            };
            guint at = 0;
            while (at < st->threads->len &&
                   g_array_index(st->threads, VcpuThread, at).vcpu < t.vcpu)
                at++;
            g_array_insert_val(st->threads, at, t);
        }
    }
    GSList *waiters = g_slist_reverse(g_steal_pointer(&st->waiters));
    for (GSList *l = waiters; l; l = l->next) {
        Waiter *w = l->data;
        w->done(w->dom, err, w->data);
        vd_domain_obj_unref(w->dom);
        g_free(w);
    }
    g_slist_free(waiters);
    vd_domain_obj_unref(dom);
}

void
vd_vcpu_threads(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        done(dom, error, data);
        return;
    }
    VcpuState *st = vd_vcpu_state(dom);
    if (st->threads) {
        done(dom, NULL, data);
        return;
    }
    Waiter *w = g_new0(Waiter, 1);
    w->d = d;
    w->dom = vd_domain_obj_ref(dom);
    w->done = done;
    w->data = data;
    gboolean first = st->waiters == NULL;
    st->waiters = g_slist_prepend(st->waiters, w);
    if (first)
        vd_qmp_command(dom->qmp, "query-cpus-fast", NULL, threads_reply, vd_domain_obj_ref(dom));
}

const VcpuThread *
vd_vcpu_thread_of(VdDomainObj *dom, guint vcpu)
{
    VcpuState *st = dom->hp_vcpu;
    for (guint i = 0; st && st->threads && i < st->threads->len; i++) {
        const VcpuThread *t = &g_array_index(st->threads, VcpuThread, i);
        if (t->vcpu == vcpu)
            return t;
    }
    return NULL;
}

static void
started_threads(VdDomainObj *dom, const GError *error, gpointer data)
{
    if (error) {
        g_warning("domain '%s': cannot apply <cputune>: %s", dom->name, error->message);
        return;
    }
    vd_vcpu_apply_pins(dom);
}

void
vd_vcpu_live_started(VdDaemon *d, VdDomainObj *dom)
{
    const VdCputuneDef *tune = dom->live ? dom->live->cputune : NULL;
    if (!tune || (!tune->vcpupins->len && !tune->emulatorpin) || !dom->qmp)
        return;
    VcpuState *st = vd_vcpu_state(dom);
    Waiter *w = g_new0(Waiter, 1);
    w->d = d;
    w->dom = vd_domain_obj_ref(dom);
    w->done = started_threads;
    gboolean first = st->waiters == NULL;
    st->waiters = g_slist_prepend(st->waiters, w);
    if (first)
        vd_qmp_command(dom->qmp, "query-cpus-fast", NULL, threads_reply, vd_domain_obj_ref(dom));
}

/* ---- setvcpus ----------------------------------------------------------------- */

typedef struct {
    guint count;
    gboolean maximum;
} CountEdit;

static gboolean
edit_count(VdDomainDef *def, gpointer data, GError **error)
{
    const CountEdit *e = data;
    if (e->count == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: requested vcpus must be at least 1");
        return FALSE;
    }
    if (e->maximum) {
        /* A lower maximum lowers the current count and drops the pins
         * of the vCPUs that no longer exist, as libvirt. */
        guint cur = MIN(vd_vcpu_current(def), e->count);
        def->vcpus = e->count;
        set_current(def, cur);
        vd_cputune_trim(def->cputune, e->count);
        return TRUE;
    }
    if (e->count > def->vcpus) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: requested vcpus is greater than max allowable vcpus for "
                    "the persistent domain: %u > %u (raise the maximum first: 'setvcpus DOMAIN "
                    "%u --config --maximum')",
                    e->count, def->vcpus, e->count);
        return FALSE;
    }
    set_current(def, e->count);
    return TRUE;
}

static void count_next(VcpuOp *op);

static void
op_finish(VcpuOp *op, GError *error)
{
    VcpuState *st = vd_vcpu_state(op->dom);
    if (!error && op->config) {
        CountEdit e = {op->count, FALSE};
        vd_domain_config_edit(op->d, op->dom, edit_count, &e, &error);
    }
    if (st->op == op)
        st->op = NULL;
    if (op->timer)
        g_source_remove(op->timer);
    op->done(op->dom, error, op->data);
    if (error)
        g_error_free(error);
    if (op->plan)
        json_array_unref(op->plan);
    g_ptr_array_unref(op->unplugging);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static gboolean
op_running(VcpuOp *op)
{
    GError *error = NULL;
    if (vd_hotplug_qmp_ready(op->dom, &error))
        return TRUE;
    op_finish(op, error);
    return FALSE;
}

static void
save_live(VdDaemon *d, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_live_save(d, dom, &error))
        g_warning("domain '%s': %s", dom->name, error->message);
}

static gboolean
unplug_timeout(gpointer data)
{
    VcpuOp *op = data;
    op->timer = 0;
    g_autoptr(GString) paths = g_string_new(NULL);
    for (guint i = 0; i < op->unplugging->len; i++)
        g_string_append_printf(paths, "%s%s", i ? ", " : "",
                               (const char *)g_ptr_array_index(op->unplugging, i));
    op_finish(op,
              g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                          "operation failed: the guest did not release the CPU (%s) within "
                          "%d seconds: the domain keeps %u vCPUs. The guest must support "
                          "ACPI CPU hot-unplug and take the CPU offline; retry, or lower "
                          "the count with --config for the next boot",
                          paths->str, VD_VCPU_UNPLUG_TIMEOUT_S, vd_vcpu_current(op->dom->live)));
    return G_SOURCE_REMOVE;
}

static void
refreshed(VdDomainObj *dom, const GError *error, gpointer data)
{
    VcpuOp *op = data;
    op->in_flight = FALSE;
    VcpuState *st = vd_vcpu_state(dom);
    if (!error && dom->live && st->threads && st->threads->len &&
        st->threads->len != vd_vcpu_current(dom->live)) {
        /* QEMU's own count is the truth (an event seen twice or missed). */
        set_current(dom->live, st->threads->len);
        save_live(op->d, dom);
    }
    if (!error)
        vd_vcpu_apply_pins(dom);
    op_finish(op, NULL);
}

static void
step_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VcpuOp *op = data;
    (void)qmp;
    (void)result;
    op->in_flight = FALSE;
    JsonObject *cmd = json_array_get_object_element(op->plan, op->next - 1);
    const char *execute = json_object_get_string_member(cmd, "execute");
    if (error) {
        op_finish(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "operation failed: %s: %s",
                                  execute, error->message));
        return;
    }
    if (g_str_equal(execute, "device_add")) {
        /* QEMU has the CPU: the live definition says so at once. */
        set_current(op->dom->live, vd_vcpu_current(op->dom->live) + 1);
        save_live(op->d, op->dom);
    }
    count_next(op);
}

static void
count_next(VcpuOp *op)
{
    if (!op_running(op))
        return;
    if (op->next < json_array_get_length(op->plan)) {
        JsonObject *cmd = json_array_get_object_element(op->plan, op->next++);
        JsonObject *args = json_object_get_object_member(cmd, "arguments");
        /* Waited for from now: a quick guest's DEVICE_DELETED may come
         * before device_del's own answer. */
        if (g_str_equal(json_object_get_string_member(cmd, "execute"), "device_del"))
            g_ptr_array_add(op->unplugging, g_strdup(json_object_get_string_member(args, "id")));
        op->in_flight = TRUE;
        vd_qmp_command(op->dom->qmp, json_object_get_string_member(cmd, "execute"),
                       json_object_ref(args), step_reply, op);
        return;
    }
    if (op->unplugging->len) {
        g_debug("domain '%s': waiting for the guest to release %u vCPUs", op->dom->name,
                op->unplugging->len);
        if (!op->timer)
            op->timer = g_timeout_add_seconds(VD_VCPU_UNPLUG_TIMEOUT_S, unplug_timeout, op);
        return; /* vd_vcpu_live_event finishes it */
    }
    /* New threads (or fewer): the cache is read again, the pins applied. */
    VcpuState *st = vd_vcpu_state(op->dom);
    if (st->threads) {
        g_array_unref(st->threads);
        st->threads = NULL;
    }
    op->in_flight = TRUE;
    vd_vcpu_threads(op->d, op->dom, refreshed, op);
}

static void
slots_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VcpuOp *op = data;
    g_autoptr(GError) err = NULL;
    (void)qmp;
    op->in_flight = FALSE;
    if (error) {
        op_finish(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: query-hotpluggable-cpus: %s", error->message));
        return;
    }
    g_autoptr(GPtrArray) slots = vd_qemu_vcpu_slots(result, &err);
    if (slots)
        op->plan = vd_qemu_vcpu_plan(slots, op->count, &err);
    if (err) {
        op_finish(op, g_steal_pointer(&err));
        return;
    }
    /* QEMU 7.2 under TCG frees a released CPU's translation state twice
     * when the next CPU is plugged: the guest would die (malloc's "double
     * free or corruption"). Refused, with the way out. */
    JsonObject *first =
        json_array_get_length(op->plan) ? json_array_get_object_element(op->plan, 0) : NULL;
    if (first && g_str_equal(json_object_get_string_member(first, "execute"), "device_add") &&
        op->dom->live->virt_type == VD_VIRT_QEMU && was_unplugged(op->dom)) {
        op_finish(op, g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                                  "Operation not supported: domain '%s' runs under TCG "
                                  "(type='qemu'), whose QEMU crashes when a CPU is hot-plugged "
                                  "after one was hot-unplugged: shut the domain down and start "
                                  "it again first (setvcpus --config sets the count it starts "
                                  "with)",
                                  op->dom->name));
        return;
    }
    /* What QEMU has is the truth (a late DEVICE_DELETED, a restart). */
    if (vd_qemu_vcpu_slots_present(slots) != vd_vcpu_current(op->dom->live)) {
        set_current(op->dom->live, vd_qemu_vcpu_slots_present(slots));
        save_live(op->d, op->dom);
    }
    count_next(op);
}

void
vd_vcpu_set_count(VdDaemon *d, VdDomainObj *dom, guint count, gboolean maximum, gboolean live,
                  gboolean config, VdDomainWaitFunc done, gpointer data)
{
    g_autoptr(GError) error = NULL;
    CountEdit e = {count, maximum};
    if (maximum && live) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: maximum vcpu count of a live domain can't be modified: "
                    "use --config --maximum, then shut the domain down and start it again");
    } else if (count == 0) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: requested vcpus must be at least 1");
    } else if (live && vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        if (vd_vcpu_state(dom)->op)
            g_set_error(&error, VD_ERROR, VD_ERROR_BUSY,
                        "Timed out during operation: cannot acquire state change lock: a vCPU "
                        "change of domain '%s' is in progress",
                        dom->name);
        else if (count > dom->live->vcpus)
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: requested vcpus is greater than max allowable vcpus "
                        "for the live domain: %u > %u (raise the maximum with 'setvcpus %s %u "
                        "--config --maximum', then shut the domain down and start it again)",
                        count, dom->live->vcpus, dom->name, count);
    }
    if (!error && config)
        vd_domain_config_check(dom, edit_count, &e, &error);
    if (!error && !live && config)
        vd_domain_config_edit(d, dom, edit_count, &e, &error);
    if (error || !live) {
        done(dom, error, data);
        return;
    }
    VcpuOp *op = g_new0(VcpuOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->count = count;
    op->config = config;
    op->unplugging = g_ptr_array_new_with_free_func(g_free);
    op->done = done;
    op->data = data;
    vd_vcpu_state(dom)->op = op;
    op->in_flight = TRUE;
    vd_qmp_command(dom->qmp, "query-hotpluggable-cpus", NULL, slots_reply, op);
}

/* ---- hooks ------------------------------------------------------------------------ */

/* QEMU 7.2 announces the release of an x86 CPU by its child's path
 * (".../vcpu2/lapic"), not always by the CPU's own: either is the CPU. */
static gboolean
cpu_path_matches(const char *cpu, const char *path)
{
    if (!cpu)
        return FALSE;
    gsize n = strlen(cpu);
    return strncmp(cpu, path, n) == 0 && (path[n] == 0 || path[n] == '/');
}

void
vd_vcpu_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    VcpuState *st = dom->hp_vcpu;
    if (!st || !data || !g_str_equal(event, "DEVICE_DELETED"))
        return;
    const char *path = json_object_get_string_member_with_default(data, "path", NULL);
    g_debug("domain '%s': DEVICE_DELETED %s", dom->name, path ? path : "(no path)");
    if (!path)
        return;
    VcpuOp *op = st->op;
    guint idx = 0;
    gboolean waited = FALSE;
    for (guint i = 0; op && i < op->unplugging->len && !waited; i++) {
        waited = cpu_path_matches(g_ptr_array_index(op->unplugging, i), path);
        idx = i;
    }
    gboolean known = FALSE;
    for (guint i = 0; st->threads && i < st->threads->len && !known; i++)
        known = cpu_path_matches(g_array_index(st->threads, VcpuThread, i).qom_path, path);
    if (!waited && !known)
        return;
    /* The guest released a CPU (also late, after a timed-out unplug). */
    set_unplugged(dom);
    if (dom->live && vd_vcpu_current(dom->live) > 1) {
        set_current(dom->live, vd_vcpu_current(dom->live) - 1);
        save_live(d, dom);
    }
    if (st->threads) {
        g_array_unref(st->threads);
        st->threads = NULL;
    }
    g_debug("domain '%s': vCPU %s released by the guest", dom->name, path);
    if (waited) {
        g_ptr_array_remove_index(op->unplugging, idx);
        if (op->unplugging->len == 0 && op->timer) {
            g_source_remove(op->timer);
            op->timer = 0;
            count_next(op);
        }
    }
}

static void
state_free(VcpuState *st)
{
    if (st->threads)
        g_array_unref(st->threads);
    g_free(st);
}

void
vd_vcpu_live_stopped(VdDomainObj *dom)
{
    VcpuState *st = dom->hp_vcpu;
    g_autofree char *mark = unplug_mark_path(dom);
    if (mark)
        g_unlink(mark);
    if (!st)
        return;
    if (st->threads) {
        g_array_unref(st->threads);
        st->threads = NULL;
    }
    st->unplugged = FALSE;
    /* A command in flight gets its error from the closed connection. */
    if (st->op && !st->op->in_flight) {
        VcpuOp *op = st->op;
        op_finish(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: domain '%s' stopped meanwhile", dom->name));
    }
}

void
vd_vcpu_live_obj_free(VdDomainObj *dom)
{
    if (dom->hp_vcpu)
        state_free(dom->hp_vcpu);
    dom->hp_vcpu = NULL;
}
