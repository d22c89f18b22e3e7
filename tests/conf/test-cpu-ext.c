/* conf/ for the cpu-ext family (domain-cpu-ext.h): CPU features, Hyper-V,
 * timers, NUMA cells, <pm> parsed into the model, copied deeply, <memory>
 * from the cells, and what start refuses with the numbers. */
#include <string.h>

#include <glib.h>

#include "conf/domain-cpu-ext.h"
#include "conf/domain-def.h"
#include "util/vd-error.h"

static VdDomainDef *
define_body(const char *body, const char *memory, GError **error)
{
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>c</name>%s%s</domain>", memory, body);
    return vd_domain_def_new_from_xml(xml, -1, error);
}

static VdDomainDef *
define_ok(const char *body)
{
    g_autoptr(GError) error = NULL;
    VdDomainDef *def = define_body(body, "<memory unit='MiB'>256</memory>", &error);
    g_assert_no_error(error);
    g_assert_nonnull(def);
    return def;
}

static const char windows[] =
    "<vcpu>2</vcpu>"
    "<features><acpi/><apic eoi='off'/>"
    "<hyperv mode='custom'><relaxed state='on'/><vapic state='on'/>"
    "<spinlocks state='on' retries='8191'/><vpindex state='on'/>"
    "<stimer state='on'><direct state='on'/></stimer>"
    "<vendor_id state='on' value='KVMKVMKVM'/>"
    "<tlbflush state='on'><direct state='on'/><extended state='off'/></tlbflush>"
    "<evmcs state='off'/></hyperv>"
    "<kvm><hidden state='on'/></kvm><pmu state='off'/><vmcoreinfo state='on'/>"
    "<ioapic driver='qemu'/><vmport state='off'/></features>"
    "<cpu mode='custom' match='exact' check='partial'>"
    "<model fallback='allow'>Skylake-Client-noTSX-IBRS</model>"
    "<feature policy='require' name='ssbd'/><feature name='pdpe1gb'/>"
    "<feature policy='optional' name='invtsc'/><feature policy='forbid' name='vmx'/></cpu>"
    "<clock offset='localtime'><timer name='rtc' tickpolicy='catchup'/>"
    "<timer name='pit' tickpolicy='delay'/><timer name='hpet' present='no'/>"
    "<timer name='hypervclock' present='yes'/></clock>"
    "<pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='yes'/></pm>";

static void
check_windows(const VdCpuExtDef *x)
{
    g_assert_cmpuint(x->cpu_features->len, ==, 4);
    const VdCpuFeatureDef *f = g_ptr_array_index(x->cpu_features, 1);
    g_assert_cmpstr(f->name, ==, "pdpe1gb");
    g_assert_cmpint(f->policy, ==, VD_CPU_FEATURE_REQUIRE); /* policy= absent */
    f = g_ptr_array_index(x->cpu_features, 3);
    g_assert_cmpint(f->policy, ==, VD_CPU_FEATURE_FORBID);

    g_assert_true(x->hyperv);
    g_assert_false(x->hyperv_passthrough);
    g_assert_cmpuint(x->hyperv_features->len, ==, 8);
    g_assert_cmpuint(vd_cpu_ext_hyperv(x, "spinlocks")->retries, ==, 8191);
    g_assert_cmpstr(vd_cpu_ext_hyperv(x, "vendor_id")->value, ==, "KVMKVMKVM");
    g_assert_cmpint(vd_cpu_ext_hyperv(x, "stimer")->direct, ==, VD_TRISTATE_ON);
    g_assert_cmpint(vd_cpu_ext_hyperv(x, "tlbflush")->extended, ==, VD_TRISTATE_OFF);
    g_assert_false(vd_cpu_ext_hyperv(x, "evmcs")->on);
    g_assert_cmpint(x->kvm_hidden, ==, VD_TRISTATE_ON);
    g_assert_cmpint(x->pmu, ==, VD_TRISTATE_OFF);
    g_assert_cmpint(x->apic_eoi, ==, VD_TRISTATE_OFF);
    g_assert_true(x->vmcoreinfo);
    g_assert_cmpstr(x->ioapic_driver, ==, "qemu");

    g_assert_cmpuint(x->timers->len, ==, 4);
    g_assert_cmpstr(vd_cpu_ext_timer(x, "rtc")->tickpolicy, ==, "catchup");
    g_assert_cmpint(vd_cpu_ext_timer(x, "hpet")->present, ==, VD_TRISTATE_OFF);
    g_assert_cmpint(vd_cpu_ext_timer(x, "hypervclock")->present, ==, VD_TRISTATE_ON);
    g_assert_null(vd_cpu_ext_timer(x, "tsc"));
    g_assert_cmpint(x->suspend_to_mem, ==, VD_TRISTATE_OFF);
    g_assert_cmpint(x->suspend_to_disk, ==, VD_TRISTATE_ON);
}

/* What virt-install writes for Windows: typed, nothing reported, startable. */
static void
test_parse_windows(void)
{
    g_autoptr(VdDomainDef) def = define_ok(windows);
    g_autoptr(GError) error = NULL;

    check_windows(def->cpu_ext);
    for (guint i = 0; i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_test_message("unsupported: %s", u->path);
        g_assert_false(g_str_has_prefix(u->path, "/domain/features"));
        g_assert_false(g_str_has_prefix(u->path, "/domain/clock"));
        g_assert_false(g_str_has_prefix(u->path, "/domain/pm"));
        g_assert_false(g_str_has_prefix(u->path, "/domain/cpu/feature"));
    }
    g_assert_true(vd_domain_def_check_startable(def, &error));
    g_assert_no_error(error);
}

/* The copy is deep: the original can go. */
static void
test_copy(void)
{
    VdDomainDef *def = define_ok(windows);
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    const VdCpuFeatureDef *a = g_ptr_array_index(def->cpu_ext->cpu_features, 0);
    const VdCpuFeatureDef *b = g_ptr_array_index(copy->cpu_ext->cpu_features, 0);
    g_assert_true(a != b && a->name != b->name);
    vd_domain_def_free(def);
    check_windows(copy->cpu_ext);

    g_autoptr(VdDomainDef) numa =
        define_ok("<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='256' unit='MiB'/>"
                  "</numa></cpu><clock offset='variable' adjustment='-60' basis='localtime'/>");
    g_autoptr(VdDomainDef) numa_copy = vd_domain_def_copy(numa);
    const VdNumaCellDef *c = g_ptr_array_index(numa_copy->cpu_ext->numa_cells, 0);
    g_assert_cmpstr(c->cpus, ==, "0-1");
    g_assert_cmpuint(c->memory_kib, ==, 262144);
    g_assert_cmpint(numa_copy->cpu_ext->clock_adjustment, ==, -60);
    g_assert_cmpstr(numa_copy->cpu_ext->clock_basis, ==, "localtime");
}

/* No <memory>: the cells' sum, written back by format as libvirt does. */
static void
test_numa_memory(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def =
        define_body("<vcpu>4</vcpu><cpu><numa><cell id='1' cpus='2-3' memory='1' unit='GiB'/>"
                    "<cell id='0' cpus='0-1' memory='524288'/></numa></cpu>",
                    "", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->memory_kib, ==, 524288 + 1048576);
    g_assert_cmpuint(def->current_memory_kib, ==, def->memory_kib);
    const VdNumaCellDef *c0 = g_ptr_array_index(def->cpu_ext->numa_cells, 0);
    g_assert_cmpuint(c0->id, ==, 0); /* ordered by id */
    g_assert_true(vd_domain_def_check_startable(def, &error));
    g_autofree char *xml = vd_domain_def_format(def, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(xml, ">1572864</memory>"));
    /* ... and the stored XML defines the same again. */
    g_autoptr(VdDomainDef) again = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(again->memory_kib, ==, 1572864);
}

static void
test_cpuset(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) set = vd_cpu_ext_parse_cpuset("0-3,^2, 6", 8, "cpus", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(set->len, ==, 4);
    g_assert_cmpuint(g_array_index(set, guint, 2), ==, 3);
    g_assert_cmpuint(g_array_index(set, guint, 3), ==, 6);
    const char *bad[] = {"", "1-", "a", "3-1", "^1-2", "0,,1"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&error);
        g_assert_null(vd_cpu_ext_parse_cpuset(bad[i], 8, "cpus", &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_XML);
    }
    g_clear_error(&error);
    g_assert_null(vd_cpu_ext_parse_cpuset("0-8", 8, "<cell cpus=>", &error));
    g_assert_cmpstr(error->message, ==,
                    "<cell cpus=> '0-8' names CPU 8, but the domain has 8 vCPUs (0 to 7)");
}

/* Malformed input: define refuses, naming the element. */
static void
test_parse_errors(void)
{
    const struct {
        const char *body, *message;
    } c[] = {
        {"<cpu><feature policy='require' name='a,b'/></cpu>", "invalid <cpu><feature name='a,b'>"},
        {"<cpu><feature policy='maybe' name='vmx'/></cpu>",
         "unknown value 'maybe' in <cpu><feature policy=>"},
        {"<features><hyperv><spinlocks state='on' retries='100'/></hyperv></features>",
         "<hyperv><spinlocks retries='100'> is below the minimum of 4095"},
        {"<features><hyperv><vendor_id state='on' value='thirteen-char'/></hyperv></features>",
         "<hyperv><vendor_id value='thirteen-char'> must be 1 to 12 characters"},
        {"<features><hyperv><relaxed state='yes'/></hyperv></features>",
         "<hyperv><relaxed state=>"},
        {"<clock offset='utc'><timer name='warp'/></clock>",
         "unknown value 'warp' in <clock><timer name=>"},
        {"<clock offset='utc'><timer name='rtc' tickpolicy='fast'/></clock>",
         "unknown value 'fast' in <clock><timer tickpolicy=>"},
        {"<pm><suspend-to-mem enabled='on'/></pm>", "<pm><suspend-to-mem enabled=>"},
        {"<cpu><numa><cell id='0' cpus='0'/></numa></cpu>", "<numa><cell id='0'> has no memory="},
        {"<clock offset='variable' adjustment='soon'/>", "<clock adjustment=>"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(c); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdDomainDef) def =
            define_body(c[i].body, "<memory unit='MiB'>256</memory>", &error);
        g_assert_null(def);
        g_assert_error(error, VD_ERROR, VD_ERROR_XML);
        if (!strstr(error->message, c[i].message))
            g_test_fail_printf("%s: '%s' lacks '%s'", c[i].body, error->message, c[i].message);
    }
}

/* Correct definitions QEMU cannot run: start refuses with the numbers. */
static void
test_refusals(void)
{
    const struct {
        const char *body, *message;
    } c[] = {
        {"<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='128' unit='MiB'/></numa>"
         "</cpu>",
         "the NUMA cells add up to 131072 KiB but <memory> is 262144 KiB: make <memory> the "
         "sum of the cells, or remove <memory> (it is then computed from the cells)"},
        {"<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='128' unit='MiB'/>"
         "<cell id='1' cpus='1' memory='128' unit='MiB'/></numa></cpu>",
         "vCPU 1 is in NUMA cells 0 and 1: give each vCPU to one cell"},
        {"<vcpu>3</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='256' unit='MiB'/></numa>"
         "</cpu>",
         "vCPU 2 of the 3 vCPUs is in no NUMA cell: list every vCPU in the cpus= of one <cell>"},
        {"<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0' memory='128' unit='MiB'/>"
         "<cell id='2' cpus='1' memory='128' unit='MiB'/></numa></cpu>",
         "NUMA cell ids must be 0 to 1, each once: found id 2 where 1 was expected"},
        {"<features><hyperv><turbo state='on'/></hyperv></features>",
         "Hyper-V enlightenment <turbo> is not one QEMU has (it has relaxed, vapic,"},
        {"<clock offset='utc'><timer name='platform'/></clock>",
         "<timer name='platform'> is not a timer of x86 QEMU guests: remove it"},
        {"<clock offset='utc'><timer name='rtc' tickpolicy='merge'/></clock>",
         "<timer name='rtc' tickpolicy='merge'> is not something QEMU can do"},
        {"<clock offset='utc'><timer name='hpet' tickpolicy='delay'/></clock>",
         "QEMU has tick policies for rtc and pit only"},
        {"<clock offset='utc'><timer name='pit' present='no'/></clock>",
         "<timer name='pit' present='no'>: QEMU's x86 machines always have this timer"},
        {"<clock offset='absolute'/>", "<clock offset='absolute'> without start="},
    };
    for (guint i = 0; i < G_N_ELEMENTS(c); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdDomainDef) def = define_ok(c[i].body);
        g_assert_false(vd_domain_def_check_startable(def, &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED);
        if (!strstr(error->message, c[i].message))
            g_test_fail_printf("%s: '%s' lacks '%s'", c[i].body, error->message, c[i].message);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/cpu-ext/parse-windows", test_parse_windows);
    g_test_add_func("/conf/cpu-ext/copy", test_copy);
    g_test_add_func("/conf/cpu-ext/numa-memory", test_numa_memory);
    g_test_add_func("/conf/cpu-ext/cpuset", test_cpuset);
    g_test_add_func("/conf/cpu-ext/parse-errors", test_parse_errors);
    g_test_add_func("/conf/cpu-ext/refusals", test_refusals);
    return g_test_run();
}
