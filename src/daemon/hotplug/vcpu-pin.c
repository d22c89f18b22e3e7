/* vcpuinfo, vcpupin and emulatorpin on QEMU's threads (vcpu-live.h):
 * /proc/PID/task/TID/stat and sched_{get,set}affinity on the vCPU threads
 * the cache of vcpu-live.c knows, and on the other threads of QEMU. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain-cputune.h"
#include "daemon/hotplug/vcpu-live-priv.h"
#include "util/vd-error.h"

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
                    "invalid argument: vcpu %u is out of range of persistent cpu count %u", e->vcpu,
                    def->vcpus);
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
        t = vd_vcpu_thread_of(dom, vcpu);
        if (!t) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: vcpu %u is out of range of live cpu count %u", vcpu,
                        vd_vcpu_current(dom->live));
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
void
vd_vcpu_apply_pins(VdDomainObj *dom)
{
    const VdCputuneDef *tune = dom->live ? dom->live->cputune : NULL;
    g_autoptr(GError) error = NULL;
    if (!tune)
        return;
    for (guint i = 0; i < tune->vcpupins->len && !error; i++) {
        const VdVcpuPin *p = &g_array_index(tune->vcpupins, VdVcpuPin, i);
        const VcpuThread *t = vd_vcpu_thread_of(dom, p->vcpu);
        if (t)
            set_affinity(t->tid, p->cpuset, &error);
    }
    if (!error && tune->emulatorpin)
        pin_emulator_threads(dom, tune->emulatorpin, &error);
    if (error)
        g_warning("domain '%s': cannot apply <cputune>: %s", dom->name, error->message);
}
