/* The domain model's CPU feature lists, Hyper-V enlightenments, clock timers, NUMA cells, power
 * management (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->cpu_ext (vd_domain_cpu_ext_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"). The one value code changes is
 * <memory> when only NUMA cells give it (vd_cpu_ext_apply_defaults): it
 * is a typed field of the definition, which format writes anyway. The
 * argv builder's part is qemu/qemu-command-cpu-ext.c and the -cpu, -m,
 * -rtc parts of qemu/qemu-command.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

/* <cpu><feature policy=>: libvirt's five policies. */
typedef enum {
    VD_CPU_FEATURE_FORCE,
    VD_CPU_FEATURE_REQUIRE,
    VD_CPU_FEATURE_OPTIONAL,
    VD_CPU_FEATURE_DISABLE,
    VD_CPU_FEATURE_FORBID,
    VD_CPU_FEATURE_LAST
} VdCpuFeaturePolicy;

typedef struct {
    char *name;                /* libvirt's name (checked: letters, digits, '_', '-', '.') */
    VdCpuFeaturePolicy policy; /* require when policy= is absent (libvirt) */
} VdCpuFeatureDef;

typedef struct {
    guint id;
    char *cpus; /* "0-1,4" as written (checked by vd_cpu_ext_parse_cpuset) */
    guint64 memory_kib;
} VdNumaCellDef;

/* A tri-state: absent, or state='on'/'off' (present='yes'/'no'). */
typedef enum {
    VD_TRISTATE_ABSENT,
    VD_TRISTATE_ON,
    VD_TRISTATE_OFF,
} VdTristate;

typedef struct {
    char *name; /* rtc, pit, hpet, kvmclock, hypervclock, tsc, platform, armvtimer */
    VdTristate present;
    char *tickpolicy;  /* delay, catchup, merge, discard or NULL */
    char *track;       /* rtc: boot, guest, wall, realtime or NULL */
    guint64 frequency; /* tsc frequency= in Hz, 0 when absent */
} VdTimerDef;

/* One child of <features><hyperv mode='custom'>, in document order. */
typedef struct {
    char *name;          /* relaxed, vapic, spinlocks, vendor_id, stimer, tlbflush ... */
    gboolean on;         /* state= */
    guint retries;       /* spinlocks retries=, 0 when absent */
    char *value;         /* vendor_id value= */
    VdTristate direct;   /* stimer, tlbflush: <direct state=> */
    VdTristate extended; /* tlbflush: <extended state=> */
} VdHypervFeatureDef;

struct _VdCpuExtDef {
    GPtrArray *cpu_features; /* VdCpuFeatureDef*: <cpu><feature>, in document order */
    GPtrArray *numa_cells;   /* VdNumaCellDef*: <cpu><numa><cell>, ordered by id */
    GPtrArray *timers;       /* VdTimerDef*: <clock><timer> */

    gboolean hyperv;             /* <features><hyperv> written */
    gboolean hyperv_passthrough; /* mode='passthrough' */
    GPtrArray *hyperv_features;  /* VdHypervFeatureDef* */

    VdTristate kvm_hidden; /* <features><kvm><hidden state=> */
    VdTristate pmu;        /* <features><pmu state=> */
    gboolean vmcoreinfo;   /* <features><vmcoreinfo state='on'> (or no state) */
    char *ioapic_driver;   /* <features><ioapic driver=>: qemu, kvm or NULL */
    VdTristate apic_eoi;   /* <features><apic eoi=> */

    gint64 clock_adjustment; /* <clock offset='variable' adjustment=> seconds */
    char *clock_basis;       /* variable: utc (default) or localtime */
    char *clock_timezone;    /* <clock offset='timezone' timezone=> */
    gint64 clock_start;      /* <clock offset='absolute' start=> (epoch seconds) */

    VdTristate suspend_to_mem;  /* <pm><suspend-to-mem enabled=> */
    VdTristate suspend_to_disk; /* <pm><suspend-to-disk enabled=> */
};

VdCpuExtDef *vd_cpu_ext_def_new(void);
void vd_cpu_ext_def_free(VdCpuExtDef *x);
VdCpuExtDef *vd_cpu_ext_def_copy(const VdCpuExtDef *x);

/* Reads this family's elements of <domain> @root into def->cpu_ext.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_cpu_ext_parse(VdDomainDef *def, const xmlNode *root, GError **error);

/* Defaults step: <memory> from the NUMA cells when only they give it
 * (libvirt's total is the cells' sum). Idempotent. */
void vd_cpu_ext_apply_defaults(VdDomainDef *def);

/* What start refuses in this family: cells whose sum differs from
 * <memory>, cells that leave vCPUs out or overlap, cell ids out of order,
 * clock and timer values QEMU has no way to give. VD_ERROR_UNSUPPORTED
 * with the numbers and the fix. */
gboolean vd_cpu_ext_check_startable(const VdDomainDef *def, GError **error);

/* "0-3,^2,6" -> the set of CPU numbers below @max as a GArray of guint
 * (sorted, unique); NULL with VD_ERROR_XML naming @where when malformed or
 * a number is not below @max. */
GArray *vd_cpu_ext_parse_cpuset(const char *text, guint max, const char *where, GError **error);

/* The timer named @name, or NULL. */
const VdTimerDef *vd_cpu_ext_timer(const VdCpuExtDef *x, const char *name);

/* The Hyper-V feature named @name, or NULL. */
const VdHypervFeatureDef *vd_cpu_ext_hyperv(const VdCpuExtDef *x, const char *name);

const char *vd_cpu_feature_policy_to_string(VdCpuFeaturePolicy policy);

G_END_DECLS
