/* What start refuses in the cpu-ext family (see domain-cpu-ext.h): values
 * a correct definition may hold but QEMU cannot give the guest, each
 * refused with the numbers and the fix rather than left to a QEMU error.
 * Called by vd_domain_def_check_startable, so stored definitions keep
 * loading whatever they hold. */
#include "conf/domain-memory.h"
#include "conf/domain-cpu-ext.h"

#include "conf/domain-private.h"
#include "util/vd-error.h"

/* libvirt's rules for cells: ids 0..n-1, each vCPU in at most one cell,
 * every vCPU in one, the cells' memory adding up to <memory>. */
static gboolean
check_numa(const VdDomainDef *def, GError **error)
{
    const GPtrArray *cells = def->cpu_ext->numa_cells;
    g_autofree guint *owner = NULL;
    guint64 sum = 0;

    if (cells->len == 0)
        return TRUE;
    owner = g_new0(guint, def->vcpus);
    for (guint i = 0; i < cells->len; i++) {
        const VdNumaCellDef *c = g_ptr_array_index(cells, i);
        g_autofree char *where = g_strdup_printf("<numa><cell id='%u' cpus=>", c->id);
        g_autoptr(GArray) set = NULL;

        if (c->id != i)
            return vd_domain_refuse(
                error,
                "NUMA cell ids must be 0 to %u, each once: found id %u where %u "
                "was expected",
                cells->len - 1, c->id, i);
        sum += c->memory_kib;
        if (!c->cpus)
            continue; /* a memory-only node, as libvirt allows */
        if (!(set = vd_cpu_ext_parse_cpuset(c->cpus, def->vcpus, where, error)))
            return FALSE;
        for (guint k = 0; k < set->len; k++) {
            guint cpu = g_array_index(set, guint, k);
            if (owner[cpu])
                return vd_domain_refuse(error,
                                        "vCPU %u is in NUMA cells %u and %u: give each vCPU to "
                                        "one cell",
                                        cpu, owner[cpu] - 1, c->id);
            owner[cpu] = c->id + 1;
        }
    }
    for (guint cpu = 0; cpu < def->vcpus; cpu++)
        if (!owner[cpu])
            return vd_domain_refuse(
                error,
                "vCPU %u of the %u vCPUs is in no NUMA cell: list every vCPU in the "
                "cpus= of one <cell>",
                cpu, def->vcpus);
    /* <memory> is the cells plus the memory devices (libvirt's total). */
    guint64 devices = vd_domain_memory_devices_kib(def);
    if (devices && sum + devices != def->memory_kib)
        return vd_domain_refuse(
            error,
            "the NUMA cells add up to %" G_GUINT64_FORMAT " KiB and the memory devices to %"
            G_GUINT64_FORMAT " KiB but <memory> is %" G_GUINT64_FORMAT " KiB: make <memory> "
            "their sum, or remove <memory> (it is then computed)",
            sum, devices, def->memory_kib);
    if (sum + devices != def->memory_kib)
        return vd_domain_refuse(
            error,
            "the NUMA cells add up to %" G_GUINT64_FORMAT " KiB but <memory> is %" G_GUINT64_FORMAT
            " KiB: make <memory> the sum of the cells, or remove <memory> (it is then "
            "computed from the cells)",
            sum, def->memory_kib);
    return TRUE;
}

static gboolean
check_timers(const VdCpuExtDef *x, GError **error)
{
    for (guint i = 0; i < x->timers->len; i++) {
        const VdTimerDef *t = g_ptr_array_index(x->timers, i);
        gboolean rtc = g_str_equal(t->name, "rtc"), pit = g_str_equal(t->name, "pit");

        if (g_str_equal(t->name, "platform") || g_str_equal(t->name, "armvtimer"))
            return vd_domain_refuse(
                error, "<timer name='%s'> is not a timer of x86 QEMU guests: remove it", t->name);
        if ((rtc || pit || g_str_equal(t->name, "tsc")) && t->present == VD_TRISTATE_OFF)
            return vd_domain_refuse(
                error,
                "<timer name='%s' present='no'>: QEMU's x86 machines always have "
                "this timer; remove present='no'",
                t->name);
        if (t->tickpolicy && !rtc && !pit)
            return vd_domain_refuse(
                error,
                "<timer name='%s' tickpolicy='%s'>: QEMU has tick policies for rtc "
                "and pit only; remove tickpolicy=",
                t->name, t->tickpolicy);
        if (t->tickpolicy && g_str_equal(t->tickpolicy, "merge"))
            return vd_domain_refuse(
                error,
                "<timer name='%s' tickpolicy='merge'> is not something QEMU can do: "
                "use delay or catchup",
                t->name);
        if (rtc && t->tickpolicy && g_str_equal(t->tickpolicy, "discard"))
            return vd_domain_refuse(error,
                                    "<timer name='rtc' tickpolicy='discard'> is not something QEMU "
                                    "can do: use delay or catchup");
        if (t->track && (!rtc || g_str_equal(t->track, "boot")))
            return vd_domain_refuse(
                error,
                "<timer name='%s' track='%s'>: QEMU tracks only the rtc, with guest, "
                "wall or realtime",
                t->name, t->track);
        if (t->frequency && !g_str_equal(t->name, "tsc"))
            return vd_domain_refuse(
                error, "<timer name='%s' frequency=>: only the tsc has a frequency", t->name);
    }
    return TRUE;
}

/* The enlightenments QEMU 7.2 has (hv-NAME, '_' as '-'). */
static const char *const hyperv_known[] = {
    "relaxed", "vapic", "spinlocks", "vpindex",     "runtime",         "synic",
    "stimer",  "reset", "vendor_id", "frequencies", "reenlightenment", "tlbflush",
    "ipi",     "evmcs", "avic",      "emsr_bitmap", "xmm_input",       NULL};

static gboolean
check_hyperv(const VdCpuExtDef *x, GError **error)
{
    for (guint i = 0; i < x->hyperv_features->len; i++) {
        const VdHypervFeatureDef *h = g_ptr_array_index(x->hyperv_features, i);
        if (!g_strv_contains(hyperv_known, h->name)) {
            g_autofree char *list = g_strjoinv(", ", (char **)hyperv_known);
            return vd_domain_refuse(error,
                                    "Hyper-V enlightenment <%s> is not one QEMU has (it has %s): "
                                    "remove it",
                                    h->name, list);
        }
    }
    return TRUE;
}

gboolean
vd_cpu_ext_check_startable(const VdDomainDef *def, GError **error)
{
    const VdCpuExtDef *x = def->cpu_ext;
    const char *offset = def->clock.offset;

    if (offset && g_str_equal(offset, "timezone") && !x->clock_timezone)
        return vd_domain_refuse(error,
                                "<clock offset='timezone'> without timezone=: give the zone, e.g. "
                                "timezone='Europe/Paris'");
    if (offset && g_str_equal(offset, "absolute") && !x->clock_start)
        return vd_domain_refuse(error,
                                "<clock offset='absolute'> without start=: give the guest's start "
                                "time in seconds since 1970");
    return check_numa(def, error) && check_timers(x, error) && check_hyperv(x, error);
}
