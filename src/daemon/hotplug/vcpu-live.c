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

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/domain-cputune.h"
#include "daemon/domain/guest-agent.h"
#include "qemu/qemu-hotplug-vcpu.h"
#include "util/vd-error.h"

typedef struct {
    guint vcpu;
    pid_t tid;
    char *qom_path;
} VcpuThread;

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    VdDomainWaitFunc done;
    gpointer data;
} Waiter;

typedef struct _VcpuOp VcpuOp;

typedef struct {
    GArray *threads;  /* of VcpuThread, by vCPU; NULL when not loaded */
    GSList *waiters;  /* of Waiter: a query-cpus-fast in flight */
    VcpuOp *op;       /* the setvcpus --live in flight, if any */
    gboolean unplugged; /* this QEMU released a CPU (see slots_reply) */
} VcpuState;

struct _VcpuOp {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    guint count;
    gboolean config;
    JsonArray *plan;
    guint next;       /* the plan's next command */
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

static VcpuState *
state_of(VdDomainObj *dom)
{
    if (!dom->hp_vcpu)
        dom->hp_vcpu = g_new0(VcpuState, 1);
    return dom->hp_vcpu;
}

static guint
current_of(const VdDomainDef *def)
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
    VcpuState *st = state_of(dom);
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
            while (at < st->threads->len && g_array_index(st->threads, VcpuThread, at).vcpu < t.vcpu)
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
    VcpuState *st = state_of(dom);
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

static const VcpuThread *
thread_of(VdDomainObj *dom, guint vcpu)
{
    VcpuState *st = dom->hp_vcpu;
    for (guint i = 0; st && st->threads && i < st->threads->len; i++) {
        const VcpuThread *t = &g_array_index(st->threads, VcpuThread, i);
        if (t->vcpu == vcpu)
            return t;
    }
    return NULL;
}

/* ---- /proc and affinity -------------------------------------------------- */

static char *
affinity_of(pid_t tid)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(tid, sizeof(set), &set) < 0)
        return NULL;
    g_autoptr(GArray) cpus = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            g_array_append_val(cpus, c);
    return vd_cpuset_format(cpus);
}

static gboolean
set_affinity(pid_t tid, const char *cpuset, GError **error)
{
    g_autoptr(GArray) cpus = vd_cpuset_parse(cpuset, "the CPU list", error);
    if (!cpus)
        return FALSE;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (guint i = 0; i < cpus->len; i++)
        if (g_array_index(cpus, guint, i) < CPU_SETSIZE)
            CPU_SET(g_array_index(cpus, guint, i), &set);
    if (sched_setaffinity(tid, sizeof(set), &set) < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot set the CPU affinity of thread %d: %s", (int)tid,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

/* The last CPU and the user + system time of thread @tid of @pid. */
static void
read_stat(pid_t pid, pid_t tid, int *cpu, guint64 *time_ns)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/stat", (int)pid, (int)tid);
    g_autofree char *text = NULL;
    *cpu = -1;
    *time_ns = 0;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    const char *p = strrchr(text, ')');
    if (!p)
        return;
    /* Fields from 3 (state) on, after the command name. */
    g_auto(GStrv) f = g_strsplit(p + 2, " ", -1);
    guint n = g_strv_length(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (n > 12 && hz > 0) {
        guint64 ticks = g_ascii_strtoull(f[11], NULL, 10) + g_ascii_strtoull(f[12], NULL, 10);
        *time_ns = ticks * (G_GUINT64_CONSTANT(1000000000) / (guint64)hz);
    }
    if (n > 36)
        *cpu = atoi(f[36]);
}

void
vd_vcpu_info_free(VdVcpuInfo *info)
{
    if (!info)
        return;
    g_free(info->affinity);
    g_free(info);
}

GPtrArray *
vd_vcpu_info(VdDomainObj *dom)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vd_vcpu_info_free);
    VcpuState *st = dom->hp_vcpu;
    for (guint i = 0; st && st->threads && i < st->threads->len; i++) {
        const VcpuThread *t = &g_array_index(st->threads, VcpuThread, i);
        VdVcpuInfo *info = g_new0(VdVcpuInfo, 1);
        info->vcpu = t->vcpu;
        info->tid = t->tid;
        read_stat(dom->pid, t->tid, &info->cpu, &info->cpu_time_ns);
        info->affinity = affinity_of(t->tid);
        g_ptr_array_add(out, info);
    }
    return out;
}

static gboolean
is_vcpu_thread(VdDomainObj *dom, pid_t tid)
{
    VcpuState *st = dom->hp_vcpu;
    for (guint i = 0; st && st->threads && i < st->threads->len; i++)
        if (g_array_index(st->threads, VcpuThread, i).tid == tid)
            return TRUE;
    return FALSE;
}

char *
vd_vcpu_emulator_affinity(VdDomainObj *dom)
{
    return dom->pid > 0 ? affinity_of(dom->pid) : NULL;
}

/* The threads of QEMU that are not vCPUs (main loop, I/O, RCU ...). */
static gboolean
pin_emulator_threads(VdDomainObj *dom, const char *cpuset, GError **error)
{
    g_autofree char *dir_path = g_strdup_printf("/proc/%d/task", (int)dom->pid);
    DIR *dir = opendir(dir_path);
    if (!dir) {
        int e = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot list the threads of QEMU (%s): %s", dir_path,
                    g_strerror(e));
        return FALSE;
    }
    gboolean ok = TRUE;
    struct dirent *ent;
    while (ok && (ent = readdir(dir))) {
        if (!g_ascii_isdigit(ent->d_name[0]))
            continue;
        pid_t tid = (pid_t)atoi(ent->d_name);
        if (!is_vcpu_thread(dom, tid))
            ok = set_affinity(tid, cpuset, error);
    }
    closedir(dir);
    return ok;
}

/* ---- pins ------------------------------------------------------------------ */

typedef struct {
    gboolean emulator;
    guint vcpu;
    const char *cpuset;
} PinEdit;

static gboolean
edit_pin(VdDomainDef *def, gpointer data, GError **error)
{
    const PinEdit *e = data;
    if (e->emulator) {
        vd_cputune_set_emulatorpin(def->cputune, e->cpuset);
        return TRUE;
    }
    if (e->vcpu >= def->vcpus) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: vcpu %u is out of range of persistent cpu count %u",
                    e->vcpu, def->vcpus);
        return FALSE;
    }
    vd_cputune_set_vcpupin(def->cputune, e->vcpu, e->cpuset);
    return TRUE;
}

gboolean
vd_vcpu_pin(VdDaemon *d, VdDomainObj *dom, guint vcpu, const char *cpuset, gboolean live,
            gboolean config, GError **error)
{
    PinEdit e = {FALSE, vcpu, cpuset};
    const VcpuThread *t = NULL;
    if (live) {
        if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, error))
            return FALSE;
        t = thread_of(dom, vcpu);
        if (!t) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: vcpu %u is out of range of live cpu count %u", vcpu,
                        current_of(dom->live));
            return FALSE;
        }
    }
    if (config && !vd_domain_config_check(dom, edit_pin, &e, error))
        return FALSE;
    if (live) {
        if (!set_affinity(t->tid, cpuset, error))
            return FALSE;
        vd_cputune_set_vcpupin(dom->live->cputune, vcpu, cpuset);
        if (!vd_domain_live_save(d, dom, error))
            return FALSE;
    }
    return !config || vd_domain_config_edit(d, dom, edit_pin, &e, error);
}

gboolean
vd_vcpu_emulator_pin(VdDaemon *d, VdDomainObj *dom, const char *cpuset, gboolean live,
                     gboolean config, GError **error)
{
    PinEdit e = {TRUE, 0, cpuset};
    if (live && !vd_domain_obj_check(dom, VD_OP_CONSOLE, error))
        return FALSE;
    if (config && !vd_domain_config_check(dom, edit_pin, &e, error))
        return FALSE;
    if (live) {
        if (!pin_emulator_threads(dom, cpuset, error))
            return FALSE;
        vd_cputune_set_emulatorpin(dom->live->cputune, cpuset);
        if (!vd_domain_live_save(d, dom, error))
            return FALSE;
    }
    return !config || vd_domain_config_edit(d, dom, edit_pin, &e, error);
}

/* The live definition's pins onto the threads (at start, after a
 * hot-plug): what the definition says is what the threads get. */
static void
apply_pins(VdDomainObj *dom)
{
    const VdCputuneDef *tune = dom->live ? dom->live->cputune : NULL;
    g_autoptr(GError) error = NULL;
    if (!tune)
        return;
    for (guint i = 0; i < tune->vcpupins->len && !error; i++) {
        const VdVcpuPin *p = &g_array_index(tune->vcpupins, VdVcpuPin, i);
        const VcpuThread *t = thread_of(dom, p->vcpu);
        if (t)
            set_affinity(t->tid, p->cpuset, &error);
    }
    if (!error && tune->emulatorpin)
        pin_emulator_threads(dom, tune->emulatorpin, &error);
    if (error)
        g_warning("domain '%s': cannot apply <cputune>: %s", dom->name, error->message);
}

static void
started_threads(VdDomainObj *dom, const GError *error, gpointer data)
{
    if (error) {
        g_warning("domain '%s': cannot apply <cputune>: %s", dom->name, error->message);
        return;
    }
    apply_pins(dom);
}

void
vd_vcpu_live_started(VdDaemon *d, VdDomainObj *dom)
{
    const VdCputuneDef *tune = dom->live ? dom->live->cputune : NULL;
    if (!tune || (!tune->vcpupins->len && !tune->emulatorpin) || !dom->qmp)
        return;
    VcpuState *st = state_of(dom);
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
        guint cur = MIN(current_of(def), e->count);
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
    VcpuState *st = state_of(op->dom);
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
    if (op->dom->qmp && vd_qmp_is_connected(op->dom->qmp) && op->dom->live)
        return TRUE;
    op_finish(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                              "operation failed: domain '%s' stopped meanwhile", op->dom->name));
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
    op_finish(op, g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                              "operation failed: the guest did not release the CPU (%s) within "
                              "%d seconds: the domain keeps %u vCPUs. The guest must support "
                              "ACPI CPU hot-unplug and take the CPU offline; retry, or lower "
                              "the count with --config for the next boot",
                              paths->str, VD_VCPU_UNPLUG_TIMEOUT_S,
                              current_of(op->dom->live)));
    return G_SOURCE_REMOVE;
}

static void
refreshed(VdDomainObj *dom, const GError *error, gpointer data)
{
    VcpuOp *op = data;
    op->in_flight = FALSE;
    VcpuState *st = state_of(dom);
    if (!error && dom->live && st->threads && st->threads->len &&
        st->threads->len != current_of(dom->live)) {
        /* QEMU's own count is the truth (an event seen twice or missed). */
        set_current(dom->live, st->threads->len);
        save_live(op->d, dom);
    }
    if (!error)
        apply_pins(dom);
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
        set_current(op->dom->live, current_of(op->dom->live) + 1);
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
            g_ptr_array_add(op->unplugging,
                            g_strdup(json_object_get_string_member(args, "id")));
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
    VcpuState *st = state_of(op->dom);
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
    JsonObject *first = json_array_get_length(op->plan)
                            ? json_array_get_object_element(op->plan, 0)
                            : NULL;
    if (first && g_str_equal(json_object_get_string_member(first, "execute"), "device_add") &&
        op->dom->live->virt_type == VD_VIRT_QEMU && state_of(op->dom)->unplugged) {
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
    if (vd_qemu_vcpu_slots_present(slots) != current_of(op->dom->live)) {
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
        if (state_of(dom)->op)
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
    state_of(dom)->op = op;
    op->in_flight = TRUE;
    vd_qmp_command(dom->qmp, "query-hotpluggable-cpus", NULL, slots_reply, op);
}

/* ---- the guest agent ---------------------------------------------------------- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    guint count;
    guint *out;
    VdDomainWaitFunc done;
    gpointer data;
} GuestOp;

static void
guest_finish(GuestOp *op, const GError *error)
{
    op->done(op->dom, error, op->data);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static void
guest_set_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    GuestOp *op = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vd_guest_agent_call_finish(res, &error);
    (void)source;
    guest_finish(op, error);
}

static void
guest_get_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    GuestOp *op = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vd_guest_agent_call_finish(res, &error);
    (void)source;
    JsonArray *cpus = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    if (!error && !cpus)
        error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                            "operation failed: guest-get-vcpus gave no list");
    if (error) {
        guest_finish(op, error);
        return;
    }
    guint n = json_array_get_length(cpus);
    if (op->out) {
        guint online = 0;
        for (guint i = 0; i < n; i++)
            online += json_object_get_boolean_member_with_default(
                json_array_get_object_element(cpus, i), "online", FALSE);
        *op->out = online;
        guest_finish(op, NULL);
        return;
    }
    if (op->count > n) {
        error = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                            "invalid argument: requested vcpu count is greater than the count "
                            "of vcpus in the guest: %u > %u (hot-plug CPUs first: setvcpus "
                            "--live)",
                            op->count, n);
        guest_finish(op, error);
        return;
    }
    /* The first @count online, the others offline (those that can). */
    JsonArray *set = json_array_new();
    for (guint i = 0; i < n; i++) {
        JsonObject *c = json_array_get_object_element(cpus, i);
        gboolean want = i < op->count;
        if (json_object_get_boolean_member_with_default(c, "online", FALSE) == want)
            continue;
        if (!want && !json_object_get_boolean_member_with_default(c, "can-offline", FALSE))
            continue;
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "logical-id",
                                   json_object_get_int_member_with_default(c, "logical-id", i));
        json_object_set_boolean_member(o, "online", want);
        json_array_add_object_element(set, o);
    }
    if (json_array_get_length(set) == 0) {
        json_array_unref(set);
        guest_finish(op, NULL);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "vcpus", set);
    vd_guest_agent_call(op->d, op->dom, "guest-set-vcpus", args, 0, guest_set_reply, op);
}

static void
guest_start(VdDaemon *d, VdDomainObj *dom, guint count, guint *out, VdDomainWaitFunc done,
            gpointer data)
{
    GuestOp *op = g_new0(GuestOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->count = count;
    op->out = out;
    op->done = done;
    op->data = data;
    vd_guest_agent_call(d, dom, "guest-get-vcpus", NULL, 0, guest_get_reply, op);
}

void
vd_vcpu_set_guest(VdDaemon *d, VdDomainObj *dom, guint count, VdDomainWaitFunc done,
                  gpointer data)
{
    if (count == 0) {
        g_autoptr(GError) error = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                              "invalid argument: requested vcpus must be at "
                                              "least 1");
        done(dom, error, data);
        return;
    }
    guest_start(d, dom, count, NULL, done, data);
}

void
vd_vcpu_guest_count(VdDaemon *d, VdDomainObj *dom, guint *out, VdDomainWaitFunc done,
                    gpointer data)
{
    guest_start(d, dom, 0, out, done, data);
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
    st->unplugged = TRUE;
    if (dom->live && current_of(dom->live) > 1) {
        set_current(dom->live, current_of(dom->live) - 1);
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
