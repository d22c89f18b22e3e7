/* Parsing of the domain's CPU feature lists, Hyper-V enlightenments, clock
 * timers, NUMA cells, power management (issue 10): see domain-cpu-ext.h.
 * What start refuses in this family is in domain-cpu-ext-check.c. */
#include "conf/domain-cpu-ext.h"
#include "conf/domain-memory.h"

#include <string.h>

#include "conf/domain-private.h"
#include "util/vd-error.h"
#include "util/vd-units.h"

static const char *const policies[] = {"force", "require", "optional", "disable", "forbid", NULL};

const char *
vd_cpu_feature_policy_to_string(VdCpuFeaturePolicy policy)
{
    return policy < VD_CPU_FEATURE_LAST ? policies[policy] : "?";
}

static void
feature_free(VdCpuFeatureDef *f)
{
    g_free(f->name);
    g_free(f);
}

static void
cell_free(VdNumaCellDef *c)
{
    g_free(c->cpus);
    g_free(c);
}

static void
timer_free(VdTimerDef *t)
{
    g_free(t->name);
    g_free(t->tickpolicy);
    g_free(t->track);
    g_free(t);
}

static void
hyperv_free(VdHypervFeatureDef *h)
{
    g_free(h->name);
    g_free(h->value);
    g_free(h);
}

VdCpuExtDef *
vd_cpu_ext_def_new(void)
{
    VdCpuExtDef *x = g_new0(VdCpuExtDef, 1);
    x->cpu_features = g_ptr_array_new_with_free_func((GDestroyNotify)feature_free);
    x->numa_cells = g_ptr_array_new_with_free_func((GDestroyNotify)cell_free);
    x->timers = g_ptr_array_new_with_free_func((GDestroyNotify)timer_free);
    x->hyperv_features = g_ptr_array_new_with_free_func((GDestroyNotify)hyperv_free);
    return x;
}

void
vd_cpu_ext_def_free(VdCpuExtDef *x)
{
    if (!x)
        return;
    g_clear_pointer(&x->cpu_features, g_ptr_array_unref);
    g_clear_pointer(&x->numa_cells, g_ptr_array_unref);
    g_clear_pointer(&x->timers, g_ptr_array_unref);
    g_clear_pointer(&x->hyperv_features, g_ptr_array_unref);
    g_free(x->ioapic_driver);
    g_free(x->clock_basis);
    g_free(x->clock_timezone);
    g_free(x);
}

VdCpuExtDef *
vd_cpu_ext_def_copy(const VdCpuExtDef *x)
{
    VdCpuExtDef *c = vd_cpu_ext_def_new();

    for (guint i = 0; i < x->cpu_features->len; i++) {
        const VdCpuFeatureDef *s = g_ptr_array_index(x->cpu_features, i);
        VdCpuFeatureDef *d = g_new0(VdCpuFeatureDef, 1);
        d->name = g_strdup(s->name);
        d->policy = s->policy;
        g_ptr_array_add(c->cpu_features, d);
    }
    for (guint i = 0; i < x->numa_cells->len; i++) {
        const VdNumaCellDef *s = g_ptr_array_index(x->numa_cells, i);
        VdNumaCellDef *d = g_new0(VdNumaCellDef, 1);
        d->id = s->id;
        d->cpus = g_strdup(s->cpus);
        d->memory_kib = s->memory_kib;
        g_ptr_array_add(c->numa_cells, d);
    }
    for (guint i = 0; i < x->timers->len; i++) {
        const VdTimerDef *s = g_ptr_array_index(x->timers, i);
        VdTimerDef *d = g_new0(VdTimerDef, 1);
        d->name = g_strdup(s->name);
        d->present = s->present;
        d->tickpolicy = g_strdup(s->tickpolicy);
        d->track = g_strdup(s->track);
        d->frequency = s->frequency;
        g_ptr_array_add(c->timers, d);
    }
    for (guint i = 0; i < x->hyperv_features->len; i++) {
        const VdHypervFeatureDef *s = g_ptr_array_index(x->hyperv_features, i);
        VdHypervFeatureDef *d = g_new0(VdHypervFeatureDef, 1);
        d->name = g_strdup(s->name);
        d->on = s->on;
        d->retries = s->retries;
        d->value = g_strdup(s->value);
        d->direct = s->direct;
        d->extended = s->extended;
        g_ptr_array_add(c->hyperv_features, d);
    }
    c->hyperv = x->hyperv;
    c->hyperv_passthrough = x->hyperv_passthrough;
    c->kvm_hidden = x->kvm_hidden;
    c->pmu = x->pmu;
    c->vmcoreinfo = x->vmcoreinfo;
    c->ioapic_driver = g_strdup(x->ioapic_driver);
    c->apic_eoi = x->apic_eoi;
    c->clock_adjustment = x->clock_adjustment;
    c->clock_basis = g_strdup(x->clock_basis);
    c->clock_timezone = g_strdup(x->clock_timezone);
    c->clock_start = x->clock_start;
    c->suspend_to_mem = x->suspend_to_mem;
    c->suspend_to_disk = x->suspend_to_disk;
    return c;
}

const VdTimerDef *
vd_cpu_ext_timer(const VdCpuExtDef *x, const char *name)
{
    for (guint i = 0; i < x->timers->len; i++) {
        const VdTimerDef *t = g_ptr_array_index(x->timers, i);
        if (g_str_equal(t->name, name))
            return t;
    }
    return NULL;
}

const VdHypervFeatureDef *
vd_cpu_ext_hyperv(const VdCpuExtDef *x, const char *name)
{
    for (guint i = 0; i < x->hyperv_features->len; i++) {
        const VdHypervFeatureDef *h = g_ptr_array_index(x->hyperv_features, i);
        if (g_str_equal(h->name, name))
            return h;
    }
    return NULL;
}

/* state='on|off' (@attr "state") or enabled/present='yes|no'. */
static gboolean
tristate(const xmlNode *node, const char *attr, gboolean on_off, const char *where, VdTristate *out,
         GError **error)
{
    gboolean on = FALSE, present = FALSE;

    if (!vd_xml_prop_bool(node, attr, where, on_off, &on, &present, error))
        return FALSE;
    *out = !present ? VD_TRISTATE_ABSENT : on ? VD_TRISTATE_ON : VD_TRISTATE_OFF;
    return TRUE;
}

/* QEMU takes the feature name inside -cpu's key=value list: only the
 * characters CPUID feature names use get there. */
static gboolean
valid_feature_name(const char *name)
{
    if (!*name || strlen(name) > 64)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_cpu_features(VdCpuExtDef *x, const xmlNode *cpu, GError **error)
{
    for (const xmlNode *n = vd_xml_child(cpu, "feature"); n; n = vd_xml_next(n, "feature")) {
        g_autofree char *name = vd_xml_prop(n, "name");
        g_autofree char *policy = vd_xml_prop(n, "policy");
        VdCpuFeatureDef *f;

        if (!name || !valid_feature_name(name)) {
            g_autofree char *shown = name ? g_strescape(name, NULL) : g_strdup("");
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "invalid <cpu><feature name='%s'>: give a CPUID feature name such as "
                        "'vmx' (letters, digits, '_', '-', '.')",
                        shown);
            return FALSE;
        }
        if (!vd_xml_check_choice(policy, policies, "<cpu><feature policy=>", error))
            return FALSE;
        f = g_new0(VdCpuFeatureDef, 1);
        f->name = g_steal_pointer(&name);
        f->policy = VD_CPU_FEATURE_REQUIRE;
        for (guint i = 0; policy && policies[i]; i++)
            if (g_str_equal(policy, policies[i]))
                f->policy = i;
        g_ptr_array_add(x->cpu_features, f);
    }
    return TRUE;
}

GArray *
vd_cpu_ext_parse_cpuset(const char *text, guint max, const char *where, GError **error)
{
    gboolean too_big;
    guint64 cpu;
    GArray *set = vd_cpulist_parse(text, max, &too_big, &cpu);

    if (set)
        return set;
    if (too_big)
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "%s '%s' names CPU %" G_GUINT64_FORMAT
                    ", but the domain has %u vCPUs (0 to %u)",
                    where, text, cpu, max, max ? max - 1 : 0);
    else
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid CPU list '%s' in %s: expected numbers and ranges such as '0-1,4'",
                    text ? text : "", where);
    return NULL;
}

static gint
cell_cmp(gconstpointer a, gconstpointer b)
{
    const VdNumaCellDef *x = *(VdNumaCellDef *const *)a, *y = *(VdNumaCellDef *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static gboolean
parse_numa(VdCpuExtDef *x, const xmlNode *cpu, GError **error)
{
    const xmlNode *numa = vd_xml_child(cpu, "numa");
    guint n = 0;

    for (const xmlNode *c = vd_xml_child(numa, "cell"); c; c = vd_xml_next(c, "cell"), n++) {
        g_autofree char *cpus = vd_xml_prop(c, "cpus");
        g_autofree char *mem = vd_xml_prop(c, "memory");
        g_autofree char *unit = vd_xml_prop(c, "unit");
        g_autoptr(GError) local = NULL;
        guint64 value, bytes;
        guint id = n;
        gboolean has_id;
        VdNumaCellDef *cell;

        if (!vd_xml_prop_uint(c, "id", "<numa><cell id=>", 255, &id, &has_id, error))
            return FALSE;
        if (!has_id)
            id = n;
        if (!mem) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<numa><cell id='%u'> has no memory=: give the cell's memory, e.g. "
                        "memory='1' unit='GiB'",
                        id);
            return FALSE;
        }
        if (!vd_xml_parse_uint(mem, "<numa><cell memory=>", G_MAXUINT64, &value, error))
            return FALSE;
        if (!vd_units_to_bytes(value, unit, "KiB", &bytes, &local)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid <numa><cell unit='%s'>: %s",
                        unit ? unit : "", local->message);
            return FALSE;
        }
        if (bytes == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<numa><cell id='%u' memory='0'> gives the node no memory: give its "
                        "size",
                        id);
            return FALSE;
        }
        cell = g_new0(VdNumaCellDef, 1);
        cell->id = id;
        cell->cpus = g_steal_pointer(&cpus);
        cell->memory_kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
        g_ptr_array_add(x->numa_cells, cell);
    }
    g_ptr_array_sort(x->numa_cells, cell_cmp);
    return TRUE;
}

static gboolean
parse_timers(VdCpuExtDef *x, const xmlNode *clock, GError **error)
{
    static const char *const names[] = {"rtc", "pit",      "hpet",      "kvmclock", "hypervclock",
                                        "tsc", "platform", "armvtimer", NULL};
    static const char *const ticks[] = {"delay", "catchup", "merge", "discard", NULL};
    static const char *const tracks[] = {"boot", "guest", "wall", "realtime", NULL};

    for (const xmlNode *n = vd_xml_child(clock, "timer"); n; n = vd_xml_next(n, "timer")) {
        g_autofree char *name = vd_xml_prop(n, "name");
        g_autofree char *freq = vd_xml_prop(n, "frequency");
        g_autoptr(GPtrArray) keep = NULL;
        VdTimerDef *t = g_new0(VdTimerDef, 1);

        g_ptr_array_add(x->timers, t);
        if (!name) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<clock><timer> without name=: expected one of rtc, pit, hpet, "
                        "kvmclock, hypervclock, tsc");
            return FALSE;
        }
        if (!vd_xml_check_choice(name, names, "<clock><timer name=>", error))
            return FALSE;
        t->name = g_steal_pointer(&name);
        t->tickpolicy = vd_xml_prop(n, "tickpolicy");
        t->track = vd_xml_prop(n, "track");
        if (!vd_xml_check_choice(t->tickpolicy, ticks, "<clock><timer tickpolicy=>", error) ||
            !vd_xml_check_choice(t->track, tracks, "<clock><timer track=>", error) ||
            !tristate(n, "present", FALSE, "<clock><timer present=>", &t->present, error))
            return FALSE;
        if (freq && !vd_xml_parse_uint(freq, "<clock><timer frequency=>", G_MAXUINT32,
                                       &t->frequency, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_clock_ext(VdCpuExtDef *x, const xmlNode *clock, GError **error)
{
    static const char *const bases[] = {"utc", "localtime", NULL};
    g_autofree char *adj = vd_xml_prop(clock, "adjustment");
    g_autofree char *start = vd_xml_prop(clock, "start");

    if (!clock)
        return TRUE;
    /* adjustment='reset' is libvirt's "no adjustment" for localtime/utc. */
    if (adj && !g_str_equal(adj, "reset") &&
        !vd_xml_parse_int(adj, "<clock adjustment=>", -G_MAXINT32 * (gint64)100,
                          G_MAXINT32 * (gint64)100, &x->clock_adjustment, error))
        return FALSE;
    if (start && !vd_xml_parse_int(start, "<clock start=>", 0, G_MAXINT32 * (gint64)100,
                                   &x->clock_start, error))
        return FALSE;
    x->clock_basis = vd_xml_prop(clock, "basis");
    x->clock_timezone = vd_xml_prop(clock, "timezone");
    if (!vd_xml_check_choice(x->clock_basis, bases, "<clock basis=>", error))
        return FALSE;
    if (x->clock_timezone && (!*x->clock_timezone || strchr(x->clock_timezone, ',') ||
                              strstr(x->clock_timezone, ".."))) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid <clock timezone='%s'>: give a zone name such as 'Europe/Paris'",
                    x->clock_timezone);
        return FALSE;
    }
    return parse_timers(x, clock, error);
}

static gboolean
parse_hyperv(VdCpuExtDef *x, const xmlNode *hv, GError **error)
{
    static const char *const modes[] = {"custom", "passthrough", NULL};
    g_autofree char *mode = vd_xml_prop(hv, "mode");

    if (!hv)
        return TRUE;
    x->hyperv = TRUE;
    if (!vd_xml_check_choice(mode, modes, "<features><hyperv mode=>", error))
        return FALSE;
    x->hyperv_passthrough = mode && g_str_equal(mode, "passthrough");
    for (const xmlNode *n = hv->children; n; n = n->next) {
        g_autofree char *where = NULL;
        VdHypervFeatureDef *h;
        gboolean on = FALSE, present = FALSE;

        if (n->type != XML_ELEMENT_NODE || n->ns)
            continue;
        where = g_strdup_printf("<hyperv><%s state=>", n->name);
        if (!vd_xml_prop_bool(n, "state", where, TRUE, &on, &present, error))
            return FALSE;
        h = g_new0(VdHypervFeatureDef, 1);
        g_ptr_array_add(x->hyperv_features, h);
        h->name = g_strdup((const char *)n->name);
        /* libvirt requires state=; absent reads as on, what users mean. */
        h->on = !present || on;
        h->value = vd_xml_prop(n, "value");
        if (!vd_xml_prop_uint(n, "retries", "<hyperv><spinlocks retries=>", G_MAXUINT, &h->retries,
                              NULL, error))
            return FALSE;
        if (g_str_equal(h->name, "spinlocks") && h->on && h->retries && h->retries < 0xfff) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<hyperv><spinlocks retries='%u'> is below the minimum of 4095",
                        h->retries);
            return FALSE;
        }
        if (g_str_equal(h->name, "vendor_id") && h->on &&
            (!h->value || !*h->value || strlen(h->value) > 12)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<hyperv><vendor_id value='%s'> must be 1 to 12 characters",
                        h->value ? h->value : "");
            return FALSE;
        }
        if (!tristate(vd_xml_child(n, "direct"), "state", TRUE, "<hyperv><direct state=>",
                      &h->direct, error) ||
            !tristate(vd_xml_child(n, "extended"), "state", TRUE, "<hyperv><extended state=>",
                      &h->extended, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_features_ext(VdCpuExtDef *x, const xmlNode *features, GError **error)
{
    static const char *const drivers[] = {"qemu", "kvm", NULL};
    const xmlNode *n;

    if (!features)
        return TRUE;
    if (!parse_hyperv(x, vd_xml_child(features, "hyperv"), error))
        return FALSE;
    if ((n = vd_xml_child(vd_xml_child(features, "kvm"), "hidden")) &&
        !tristate(n, "state", TRUE, "<kvm><hidden state=>", &x->kvm_hidden, error))
        return FALSE;
    if ((n = vd_xml_child(features, "pmu")) &&
        !tristate(n, "state", TRUE, "<features><pmu state=>", &x->pmu, error))
        return FALSE;
    if ((n = vd_xml_child(features, "vmcoreinfo"))) {
        VdTristate s;
        if (!tristate(n, "state", TRUE, "<features><vmcoreinfo state=>", &s, error))
            return FALSE;
        x->vmcoreinfo = s != VD_TRISTATE_OFF;
    }
    if ((n = vd_xml_child(features, "ioapic"))) {
        x->ioapic_driver = vd_xml_prop(n, "driver");
        if (!vd_xml_check_choice(x->ioapic_driver, drivers, "<features><ioapic driver=>", error))
            return FALSE;
    }
    if ((n = vd_xml_child(features, "apic")) &&
        !tristate(n, "eoi", TRUE, "<features><apic eoi=>", &x->apic_eoi, error))
        return FALSE;
    return TRUE;
}

static gboolean
parse_pm(VdCpuExtDef *x, const xmlNode *pm, GError **error)
{
    const xmlNode *n;

    if ((n = vd_xml_child(pm, "suspend-to-mem")) &&
        !tristate(n, "enabled", FALSE, "<pm><suspend-to-mem enabled=>", &x->suspend_to_mem, error))
        return FALSE;
    if ((n = vd_xml_child(pm, "suspend-to-disk")) &&
        !tristate(n, "enabled", FALSE, "<pm><suspend-to-disk enabled=>", &x->suspend_to_disk,
                  error))
        return FALSE;
    return TRUE;
}

gboolean
vd_domain_cpu_ext_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    VdCpuExtDef *x = def->cpu_ext;
    const xmlNode *cpu = vd_xml_child(root, "cpu");

    if (cpu && (!parse_cpu_features(x, cpu, error) || !parse_numa(x, cpu, error)))
        return FALSE;
    return parse_clock_ext(x, vd_xml_child(root, "clock"), error) &&
           parse_features_ext(x, vd_xml_child(root, "features"), error) &&
           parse_pm(x, vd_xml_child(root, "pm"), error);
}

void
vd_cpu_ext_apply_defaults(VdDomainDef *def)
{
    guint64 sum = 0;

    if (def->memory_kib || !def->cpu_ext->numa_cells->len)
        return;
    for (guint i = 0; i < def->cpu_ext->numa_cells->len; i++) {
        const VdNumaCellDef *c = g_ptr_array_index(def->cpu_ext->numa_cells, i);
        sum += c->memory_kib;
    }
    def->memory_kib = sum + vd_domain_memory_devices_kib(def); /* the total, as libvirt */
}
