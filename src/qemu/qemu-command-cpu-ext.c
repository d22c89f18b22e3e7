/* The argv builder's part for the domain's CPU feature lists, Hyper-V
 * enlightenments, clock timers, NUMA cells, power management (issue 10).
 * See conf/domain-cpu-ext.h for the model.
 *
 * What libvirt gives the guest, with two decisions of our own:
 *  - <feature policy='optional'> adds nothing to -cpu: the CPU model's
 *    own default stands, which is what libvirt's command line does too
 *    (its CPU driver resolves "optional" against the host CPU, which TCG
 *    does not have).
 *  - Under TCG, what only KVM implements (Hyper-V enlightenments, the
 *    hypervclock, kvm=off, kvmclock, the PV EOI, the in-kernel PIT's and
 *    IOAPIC's settings) is left out. QEMU 7.2 accepts most hv-* flags under
 *    TCG and does nothing with them, and refuses some ("kernel doesn't
 *    allow setting HyperV VP_INDEX"); they only make Windows faster under
 *    KVM, so the guest runs the same without them. Each start says so in
 *    one note naming them.
 */
#include "conf/domain-cpu-ext.h"
#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

/* libvirt's names that QEMU spells otherwise (libvirt's x86 translation
 * table); QEMU also accepts '_' for '-' in the others. */
static const struct {
    const char *libvirt, *qemu;
} feature_names[] = {
    {"cmp_legacy", "cmp-legacy"},       {"ds_cpl", "ds-cpl"},
    {"fxsr_opt", "fxsr-opt"},           {"kvm_pv_eoi", "kvm-pv-eoi"},
    {"kvm_pv_unhalt", "kvm-pv-unhalt"}, {"lahf_lm", "lahf-lm"},
    {"nodeid_msr", "nodeid-msr"},       {"pclmuldq", "pclmulqdq"},
    {"perfctr_core", "perfctr-core"},   {"perfctr_nb", "perfctr-nb"},
    {"tsc_adjust", "tsc-adjust"},
};

/* CPUID bits libvirt knows that QEMU never sets (the OS sets osxsave and
 * ospke; cmt and mbm are host monitoring): libvirt leaves them out too. */
static const char *const not_qemu[] = {"osxsave", "ospke", "cmt", "mbm_total", "mbm_local", NULL};

static const char *
qemu_feature_name(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(feature_names); i++)
        if (g_str_equal(name, feature_names[i].libvirt))
            return feature_names[i].qemu;
    return name;
}

/* hv-NAME for the enlightenment @name (libvirt's '_' is QEMU's '-'). */
static char *
hv_prop(const char *name)
{
    g_autofree char *dashed = g_strdup(name);
    g_strdelimit(dashed, "_", '-');
    if (g_str_equal(name, "vendor_id"))
        return g_strdup("hv-vendor-id");
    return g_strdup_printf("hv-%s", dashed);
}

/* Appends the hv-* properties (KVM) and collects the names of the
 * enabled enlightenments into @names (for the TCG note) and, with their
 * "+direct" forms, into @deps (for check_hyperv_deps). */
static void
add_hyperv(VdQemuCmd *cmd, GString *cpu, GPtrArray *names, GPtrArray *deps)
{
    const VdCpuExtDef *x = cmd->def->cpu_ext;
    const VdTimerDef *hvclock = vd_cpu_ext_timer(x, "hypervclock");

    if (x->hyperv_passthrough) {
        g_ptr_array_add(names, g_strdup("passthrough"));
        if (cmd->kvm)
            g_string_append(cpu, ",hv-passthrough=on");
    }
    for (guint i = 0; i < x->hyperv_features->len; i++) {
        const VdHypervFeatureDef *h = g_ptr_array_index(x->hyperv_features, i);
        g_autofree char *prop = hv_prop(h->name);

        /* Off is QEMU's default: libvirt writes nothing either. */
        if (!h->on)
            continue;
        g_ptr_array_add(names, g_strdup(h->name));
        g_ptr_array_add(deps, g_strdup(h->name));
        if (!cmd->kvm)
            continue;
        if (g_str_equal(h->name, "spinlocks"))
            g_string_append_printf(cpu, ",%s=0x%x", prop, h->retries ? h->retries : 0x1fff);
        else if (g_str_equal(h->name, "vendor_id")) {
            g_autofree char *esc = vd_qemu_escape_opt(h->value);
            g_string_append_printf(cpu, ",%s=%s", prop, esc);
        } else
            g_string_append_printf(cpu, ",%s=on", prop);
        if (h->direct == VD_TRISTATE_ON) {
            g_ptr_array_add(deps, g_strdup_printf("%s+direct", h->name));
            g_string_append_printf(cpu, ",%s-direct=on", prop);
        }
        if (h->extended == VD_TRISTATE_ON)
            g_string_append(cpu, ",hv-tlbflush-ext=on");
    }
    if (hvclock && hvclock->present == VD_TRISTATE_ON) {
        g_ptr_array_add(names, g_strdup("hypervclock"));
        g_ptr_array_add(deps, g_strdup("hypervclock"));
        if (cmd->kvm)
            g_string_append(cpu, ",hv-time=on");
    }
}

/* QEMU 7.2 refuses an enlightenment without the ones it builds on
 * (kvm_hyperv_properties' dependencies): said here, with the fix, rather
 * than as QEMU's error at start. "hypervclock" is hv-time; "+direct" and
 * "+extended" are the sub-elements. */
static const struct {
    const char *feature, *needs;
} hyperv_deps[] = {
    {"synic", "vpindex"},        {"stimer", "synic"},          {"stimer", "hypervclock"},
    {"stimer+direct", "stimer"}, {"tlbflush", "vpindex"},      {"ipi", "vpindex"},
    {"evmcs", "vapic"},          {"tlbflush+direct", "vapic"},
};

static gboolean
hyperv_has(GPtrArray *names, const char *name)
{
    for (guint i = 0; i < names->len; i++)
        if (g_str_equal(names->pdata[i], name))
            return TRUE;
    return FALSE;
}

static gboolean
check_hyperv_deps(GPtrArray *names, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(hyperv_deps); i++) {
        if (!hyperv_has(names, hyperv_deps[i].feature) || hyperv_has(names, hyperv_deps[i].needs))
            continue;
        g_autofree char *feature = g_strdup(hyperv_deps[i].feature);
        g_strdelimit(feature, "+", ' ');
        const char *needs = hyperv_deps[i].needs;
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Hyper-V enlightenment '%s' needs '%s', which QEMU requires with it: add %s",
                    feature, needs,
                    g_str_equal(needs, "hypervclock") ? "<clock><timer name='hypervclock' "
                                                        "present='yes'/>"
                    : g_str_equal(needs, "stimer")    ? "<stimer state='on'/> to <hyperv>"
                                                      : "it to <hyperv> with state='on'");
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_qemu_cpu_ext_cpu_props(VdQemuCmd *cmd, GString *cpu, GError **error)
{
    const VdCpuExtDef *x = cmd->def->cpu_ext;
    const VdTimerDef *kvmclock = vd_cpu_ext_timer(x, "kvmclock");
    const VdTimerDef *tsc = vd_cpu_ext_timer(x, "tsc");
    g_autoptr(GPtrArray) hv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) hv_deps = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) kvm_only = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < x->cpu_features->len; i++) {
        const VdCpuFeatureDef *f = g_ptr_array_index(x->cpu_features, i);
        if (g_strv_contains(not_qemu, f->name)) {
            if (f->policy == VD_CPU_FEATURE_FORCE || f->policy == VD_CPU_FEATURE_REQUIRE)
                vd_qemu_cmd_note(cmd,
                                 "CPU feature '%s' left out: QEMU never sets it (the guest "
                                 "OS or the host does)",
                                 f->name);
            continue;
        }
        switch (f->policy) {
        case VD_CPU_FEATURE_FORCE:
        case VD_CPU_FEATURE_REQUIRE:
            g_string_append_printf(cpu, ",%s=on", qemu_feature_name(f->name));
            break;
        case VD_CPU_FEATURE_DISABLE:
        case VD_CPU_FEATURE_FORBID:
            g_string_append_printf(cpu, ",%s=off", qemu_feature_name(f->name));
            break;
        case VD_CPU_FEATURE_OPTIONAL: /* the model's default: see the top of the file */
        case VD_CPU_FEATURE_LAST:
            break;
        }
    }

    add_hyperv(cmd, cpu, hv, hv_deps);
    /* Passthrough takes whatever the host has, dependencies included. */
    if (cmd->kvm && !x->hyperv_passthrough && !check_hyperv_deps(hv_deps, error))
        return FALSE;
    if (!cmd->kvm && hv->len) {
        g_ptr_array_add(hv, NULL);
        g_autofree char *list = g_strjoinv("', '", (char **)hv->pdata);
        vd_qemu_cmd_note(cmd,
                         "Hyper-V enlightenments '%s' dropped: TCG has none (they only speed up "
                         "Windows under KVM)",
                         list);
    }

    if (x->kvm_hidden == VD_TRISTATE_ON) {
        if (cmd->kvm)
            g_string_append(cpu, ",kvm=off");
        /* Under TCG there is no KVM signature to hide: nothing to drop. */
    }
    if (x->pmu != VD_TRISTATE_ABSENT)
        g_string_append_printf(cpu, ",pmu=%s", x->pmu == VD_TRISTATE_ON ? "on" : "off");
    if (x->apic_eoi != VD_TRISTATE_ABSENT) {
        if (cmd->kvm)
            g_string_append_printf(cpu, ",kvm-pv-eoi=%s",
                                   x->apic_eoi == VD_TRISTATE_ON ? "on" : "off");
        else if (x->apic_eoi == VD_TRISTATE_ON)
            g_ptr_array_add(kvm_only, g_strdup("<apic eoi='on'>"));
    }
    if (kvmclock && kvmclock->present != VD_TRISTATE_ABSENT && cmd->kvm)
        g_string_append_printf(cpu, ",kvmclock=%s",
                               kvmclock->present == VD_TRISTATE_ON ? "on" : "off");
    if (tsc && tsc->frequency) {
        if (cmd->kvm)
            g_string_append_printf(cpu, ",tsc-frequency=%" G_GUINT64_FORMAT, tsc->frequency);
        else
            g_ptr_array_add(kvm_only,
                            g_strdup_printf("<timer name='tsc' frequency='%" G_GUINT64_FORMAT "'>",
                                            tsc->frequency));
    }
    if (kvm_only->len) {
        g_ptr_array_add(kvm_only, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **)kvm_only->pdata);
        vd_qemu_cmd_note(cmd, "%s dropped: only KVM implements it, and this domain runs under TCG",
                         list);
    }
    return TRUE;
}

/* The guest's RTC start for offset variable, timezone and absolute, as
 * libvirt computes it: now plus the adjustment, in UTC or in the zone. */
static char *
rtc_base(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    const VdCpuExtDef *x = def->cpu_ext;
    const char *offset = def->clock.offset;
    gint64 now =
        cmd->paths->start_time ? cmd->paths->start_time : g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(GTimeZone) tz = NULL;
    g_autoptr(GDateTime) utc = NULL;
    g_autoptr(GDateTime) local = NULL;

    if (g_str_equal(offset, "absolute")) {
        utc = g_date_time_new_from_unix_utc(x->clock_start);
    } else if (g_str_equal(offset, "variable")) {
        utc = g_date_time_new_from_unix_utc(now + x->clock_adjustment);
        if (utc && x->clock_basis && g_str_equal(x->clock_basis, "localtime"))
            tz = g_time_zone_new_local();
    } else {
        utc = g_date_time_new_from_unix_utc(now);
        tz = g_time_zone_new_identifier(x->clock_timezone);
        if (!tz) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "<clock timezone='%s'> is not a time zone this host knows: use a name "
                        "from /usr/share/zoneinfo such as 'Europe/Paris'",
                        x->clock_timezone);
            return NULL;
        }
    }
    if (!utc) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "<clock offset='%s'> puts the guest's clock outside years 1 to 9999: give "
                    "a smaller adjustment",
                    offset);
        return NULL;
    }
    local = tz ? g_date_time_to_timezone(utc, tz) : g_date_time_ref(utc);
    return g_date_time_format(local, "%Y-%m-%dT%H:%M:%S");
}

gboolean
vd_qemu_cpu_ext_rtc(VdQemuCmd *cmd, GString *rtc, GError **error)
{
    const VdCpuExtDef *x = cmd->def->cpu_ext;
    const VdTimerDef *t = vd_cpu_ext_timer(x, "rtc");

    if (rtc->len == 0) {
        g_autofree char *base = rtc_base(cmd, error);
        if (!base)
            return FALSE;
        g_string_append_printf(rtc, "base=%s", base);
    }
    if (t && t->track) {
        const char *clock = g_str_equal(t->track, "guest")  ? "vm"
                            : g_str_equal(t->track, "wall") ? "host"
                                                            : "rt";
        g_string_append_printf(rtc, ",clock=%s", clock);
    }
    if (t && t->tickpolicy && g_str_equal(t->tickpolicy, "catchup"))
        g_string_append(rtc, ",driftfix=slew");
    return TRUE;
}

/* "0-1,4" as QEMU's repeated cpus= ranges. */
static void
append_cpus(GString *s, const GArray *set)
{
    for (guint i = 0; i < set->len;) {
        guint lo = g_array_index(set, guint, i), hi = lo;
        while (i + 1 < set->len && g_array_index(set, guint, i + 1) == hi + 1)
            hi = g_array_index(set, guint, ++i);
        i++;
        if (lo == hi)
            g_string_append_printf(s, ",cpus=%u", lo);
        else
            g_string_append_printf(s, ",cpus=%u-%u", lo, hi);
    }
}

gboolean
vd_qemu_cpu_ext_numa(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    const GPtrArray *cells = def->cpu_ext->numa_cells;

    for (guint i = 0; i < cells->len; i++) {
        const VdNumaCellDef *c = g_ptr_array_index(cells, i);
        g_autofree char *id = g_strdup_printf("ram-node%u", c->id);
        g_autoptr(GString) node = g_string_new(NULL);
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "qom-type", "memory-backend-ram");
        json_object_set_string_member(o, "id", id);
        json_object_set_int_member(o, "size", (gint64)(c->memory_kib * 1024));
        vd_qemu_cmd_opt_json(cmd, "-object", o);
        g_string_printf(node, "node,nodeid=%u", c->id);
        if (c->cpus) {
            g_autofree char *where = g_strdup_printf("<numa><cell id='%u' cpus=>", c->id);
            g_autoptr(GArray) set = vd_cpu_ext_parse_cpuset(c->cpus, def->vcpus, where, error);
            if (!set)
                return FALSE;
            append_cpus(node, set);
        }
        g_string_append_printf(node, ",memdev=%s", id);
        vd_qemu_cmd_opt(cmd, "-numa", node->str);
    }
    return TRUE;
}

static gboolean
build_pm(VdQemuCmd *cmd, GError **error)
{
    const VdCpuExtDef *x = cmd->def->cpu_ext;
    const char *dev = cmd->q35 ? "ICH9-LPC" : "PIIX4_PM";
    const struct {
        VdTristate state;
        const char *prop;
    } s[] = {{x->suspend_to_mem, "disable_s3"}, {x->suspend_to_disk, "disable_s4"}};

    if (x->suspend_to_mem == VD_TRISTATE_ABSENT && x->suspend_to_disk == VD_TRISTATE_ABSENT)
        return TRUE;
    if (!cmd->q35 && !cmd->pc) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "<pm> needs the ACPI power management of the pc or q35 machines; machine "
                    "'%s' has none: remove <pm>",
                    cmd->machine);
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(s); i++) {
        if (s[i].state == VD_TRISTATE_ABSENT)
            continue;
        g_autofree char *g =
            g_strdup_printf("%s.%s=%d", dev, s[i].prop, s[i].state == VD_TRISTATE_OFF);
        vd_qemu_cmd_opt(cmd, "-global", g);
    }
    return TRUE;
}

gboolean
vd_qemu_build_cpu_ext(VdQemuCmd *cmd, GError **error)
{
    const VdCpuExtDef *x = cmd->def->cpu_ext;
    const VdTimerDef *pit = vd_cpu_ext_timer(x, "pit");

    if (x->ioapic_driver && cmd->kvm) {
        /* A second -machine: QEMU merges it into the first. */
        vd_qemu_cmd_opt(cmd, "-machine",
                        g_str_equal(x->ioapic_driver, "qemu") ? "kernel-irqchip=split"
                                                              : "kernel-irqchip=on");
    } else if (x->ioapic_driver && g_str_equal(x->ioapic_driver, "kvm")) {
        /* Under TCG the IOAPIC is always QEMU's own (what driver='qemu' asks). */
        vd_qemu_cmd_note(cmd, "<ioapic driver='kvm'> not applied: under TCG the IOAPIC is "
                              "QEMU's own");
    }
    if (pit && pit->tickpolicy) {
        /* Only KVM's in-kernel PIT has a lost-tick policy (libvirt's
         * catchup is QEMU's slew). TCG's PIT delivers a late tick late,
         * which is 'delay': nothing to say then. */
        const char *policy = g_str_equal(pit->tickpolicy, "catchup") ? "slew" : pit->tickpolicy;
        if (cmd->kvm) {
            g_autofree char *g = g_strdup_printf("kvm-pit.lost_tick_policy=%s", policy);
            vd_qemu_cmd_opt(cmd, "-global", g);
        } else if (!g_str_equal(pit->tickpolicy, "delay")) {
            vd_qemu_cmd_note(cmd,
                             "<timer name='pit' tickpolicy='%s'> not applied: only KVM's "
                             "in-kernel PIT has a lost-tick policy",
                             pit->tickpolicy);
        }
    }
    if (x->vmcoreinfo) {
        JsonObject *o;
        if (!vd_qemu_cmd_need_device(cmd, "vmcoreinfo", "<features><vmcoreinfo>", error))
            return FALSE;
        o = json_object_new();
        json_object_set_string_member(o, "driver", "vmcoreinfo");
        vd_qemu_cmd_opt_json(cmd, "-device", o);
    }
    return build_pm(cmd, error);
}
