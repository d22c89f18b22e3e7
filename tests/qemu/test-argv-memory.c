/* Memory hot-plug's command line (qemu-command-memory.c) against golden
 * files (tests/data/argv/memory-*.args; VD_REGENERATE=1 rewrites them),
 * the define/dumpxml round trip of libvirt's own examples of <maxMemory>
 * and <memory> devices (formatdomain.rst), and the refusals at define. */
#include <string.h>

#include "conf/domain-memory.h"
#include "qemu-test-util.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

#define ACPI "<features><acpi/></features>"
#define MAXMEM "<maxMemory slots='4' unit='GiB'>1</maxMemory>"
#define DIMM128 "<memory model='dimm'><target><size unit='MiB'>128</size></target></memory>"
#define VMEM512                                                                                    \
    "<memory model='virtio-mem'><target><size unit='MiB'>512</size>"                               \
    "<block unit='KiB'>2048</block><requested unit='MiB'>0</requested></target></memory>"

typedef struct {
    const char *name;
    const char *machine;
    guint memory_mib; /* <memory>: the total, devices included */
    const char *top;
    const char *devices;
} GoldenCase;

static const GoldenCase golden_cases[] = {
    /* maxMemory alone: slots and maxmem, no device yet */
    {"memory-maxmem", "pc", 256, MAXMEM ACPI, ""},
    /* the integration test's guests */
    {"memory-dimm-pc", "pc", 384, MAXMEM ACPI, DIMM128},
    {"memory-virtio-mem-pc", "pc", 768, MAXMEM, VMEM512},
    /* both on q35, two DIMMs; the virtio-mem device stays on pcie.0 */
    {"memory-q35", "q35", 1024, "<maxMemory slots='2' unit='GiB'>2</maxMemory>" ACPI,
     DIMM128 DIMM128 VMEM512},
    /* NUMA cells: <memory> is the cells plus the devices; the DIMM goes to node 0 */
    {"memory-numa", "pc", 384,
     MAXMEM ACPI "<cpu><numa><cell id='0' cpus='0' memory='256' unit='MiB'/></numa></cpu>",
     DIMM128},
    /* a DIMM off 2 MiB (libvirt's example) is aligned up, as libvirt does */
    {"memory-dimm-align", "pc", 1024, "<maxMemory slots='16' unit='KiB'>1524288</maxMemory>" ACPI,
     "<memory model='dimm'><target><size unit='KiB'>524287</size><node>0</node></target>"
     "</memory>"},
};

static void
test_golden(gconstpointer data)
{
    const GoldenCase *c = data;
    g_autoptr(VdDomainDef) def = tdef_from_xml(c->machine, c->memory_mib, "", c->top, c->devices);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv(def, caps, &trun_paths, &error);
    g_assert_no_error(error);
    g_autofree char *text = vd_qemu_argv_to_string(argv);

    tgolden_check(c->name, text);
}

/* QEMU plugs DIMMs through ACPI: refused without it, naming the fix. */
static void
test_no_acpi(void)
{
    g_autoptr(VdDomainDef) def = tdef_from_xml("pc", 384, "", MAXMEM, DIMM128);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv(def, caps, &trun_paths, &error);
    targv_assert_refused(argv, error, VD_ERROR_UNSUPPORTED, "needs ACPI: add <features><acpi/>");
    g_autoptr(VdMemoryDeviceDef) m = vd_memory_device_def_new_from_xml(DIMM128, NULL);
    g_clear_error(&error);
    g_assert_false(vd_domain_memory_check_attach(def, m, TRUE, &error));
    g_assert_nonnull(strstr(error->message, "use model='virtio-mem'"));
}

/* Without <maxMemory> the command line is what it always was. */
static void
test_plain(void)
{
    g_autoptr(VdDomainDef) def = tdef_from_xml("pc", 256, "", "", "");
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv(def, caps, &trun_paths, NULL);
    g_assert_true(targv_has(argv, "-m", "size=262144k"));
}

/* formatdomain.rst's examples: "Memory Allocation" (as it is), and
 * "Memory devices" (with a maxMemory the devices fit in). */
static const char *const libvirt_example_alloc =
    "<domain type='qemu'><name>ex0</name>"
    "<maxMemory slots='16' unit='KiB'>1524288</maxMemory>"
    "<memory unit='KiB'>524288</memory>"
    "<currentMemory unit='KiB'>524288</currentMemory>"
    "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";

static const char *const libvirt_example =
    "<domain type='qemu'><name>ex</name>"
    "<maxMemory slots='16' unit='KiB'>2097152</maxMemory>"
    "<memory unit='KiB'>1572863</memory>"
    "<currentMemory unit='KiB'>1572863</currentMemory>"
    "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
    "<devices>"
    "<memory model='dimm' access='private' discard='yes'>"
    "<target><size unit='KiB'>524287</size><node>0</node></target></memory>"
    "<memory model='dimm'>"
    "<source><pagesize unit='KiB'>2048</pagesize><nodemask>1-3</nodemask></source>"
    "<target><size unit='KiB'>524288</size><node>0</node></target></memory>"
    "</devices></domain>";

static const char *const libvirt_example_vmem =
    "<domain type='qemu'><name>ex2</name>"
    "<maxMemory slots='16' unit='GiB'>32</maxMemory>"
    "<memory unit='GiB'>17</memory>"
    "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
    "<devices>"
    "<memory model='virtio-mem'>"
    "<source><nodemask>1-3</nodemask><pagesize unit='KiB'>2048</pagesize></source>"
    "<target><size unit='KiB'>16777216</size><node>0</node><block unit='KiB'>2048</block>"
    "<requested unit='KiB'>8388608</requested><current unit='KiB'>16777216</current>"
    "</target><alias name='ua-virtiomem0'/></memory>"
    "</devices></domain>";

static char *
round_trip(const char *xml, VdDomainFormatFlags flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_no_error(error);
    g_autofree char *out = vd_domain_def_format(def, flags);
    g_autoptr(VdDomainDef) again = vd_domain_def_new_from_xml(out, -1, &error);
    g_assert_no_error(error);
    g_autofree char *out2 = vd_domain_def_format(again, flags);
    g_assert_cmpstr(out, ==, out2);
    return g_steal_pointer(&out);
}

static void
test_round_trip(void)
{
    g_autofree char *alloc = round_trip(libvirt_example_alloc, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(alloc, "<maxMemory slots='16' unit='KiB'>1524288</maxMemory>\n"
                                   "  <memory unit='KiB'>524288</memory>"));

    g_autofree char *out = round_trip(libvirt_example, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(out, "<maxMemory slots='16' unit='KiB'>2097152</maxMemory>"));
    g_assert_nonnull(strstr(out, "<memory model='dimm' access='private' discard='yes'>"));
    g_assert_nonnull(strstr(out, "<size unit='KiB'>524287</size>"));
    g_assert_nonnull(strstr(out, "<nodemask>1-3</nodemask>"));
    /* libvirt writes no alias in the inactive XML */
    g_assert_null(strstr(out, "<alias"));
    g_assert_true(strstr(out, "<maxMemory") < strstr(out, "<memory unit"));

    g_autofree char *live = round_trip(libvirt_example, VD_DOMAIN_FORMAT_LIVE);
    g_assert_nonnull(strstr(live, "<alias name='dimm0'/>"));
    g_assert_nonnull(strstr(live, "<alias name='dimm1'/>"));

    /* <maxMemory> anywhere is written where libvirt has it. */
    g_autofree char *late = g_strdup(libvirt_example_alloc);
    char *at = strstr(late, "<maxMemory");
    memmove(at, at + strlen("<maxMemory slots='16' unit='KiB'>1524288</maxMemory>"),
            strlen(at) - strlen("<maxMemory slots='16' unit='KiB'>1524288</maxMemory>") + 1);
    g_autofree char *late2 =
        g_strdup_printf("%.*s<maxMemory slots='16' unit='KiB'>1524288</maxMemory></domain>",
                        (int)(strstr(late, "</domain>") - late), late);
    g_autofree char *moved = round_trip(late2, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(moved, "<maxMemory slots='16' unit='KiB'>1524288</maxMemory>\n"
                                   "  <memory unit='KiB'>524288</memory>"));

    g_autofree char *v = round_trip(libvirt_example_vmem, VD_DOMAIN_FORMAT_LIVE);
    g_assert_nonnull(strstr(v, "<block unit='KiB'>2048</block>"));
    g_assert_nonnull(strstr(v, "<requested unit='KiB'>8388608</requested>"));
    g_assert_nonnull(strstr(v, "<current unit='KiB'>16777216</current>"));
    g_assert_nonnull(strstr(v, "<alias name='ua-virtiomem0'/>"));
    g_autofree char *vi = round_trip(libvirt_example_vmem, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_null(strstr(vi, "<current unit"));
    g_assert_nonnull(strstr(vi, "<alias name='ua-virtiomem0'/>"));
}

typedef struct {
    const char *name;
    guint memory_mib;
    const char *top;
    const char *devices;
    const char *message;
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"no-maxmem", 384, "", DIMM128, "'maxMemory' is not defined"},
    {"no-slots", 256, "<maxMemory unit='GiB'>1</maxMemory>", "", "slot count must be specified"},
    {"slots", 512, "<maxMemory slots='1' unit='GiB'>1</maxMemory>", DIMM128 DIMM128,
     "2 DIMMs need more than the 1 memory slots"},
    {"above-max", 1280, MAXMEM, DIMM128, "above <maxMemory>"},
    {"no-base", 128, MAXMEM, DIMM128, "leaves the guest no base memory"},
    {"block", 768, MAXMEM,
     "<memory model='virtio-mem'><target><size unit='MiB'>512</size>"
     "<block unit='KiB'>3072</block></target></memory>",
     "power of two"},
    {"requested", 768, MAXMEM,
     "<memory model='virtio-mem'><target><size unit='MiB'>512</size>"
     "<requested unit='MiB'>1024</requested></target></memory>",
     "is above its size"},
    {"nvdimm", 768, MAXMEM,
     "<memory model='nvdimm'><target><size unit='MiB'>512</size></target></memory>",
     "model='nvdimm'> is not supported"},
};

static void
test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>e</name><memory unit='MiB'>%u</memory>%s"
                        "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
                        "<devices>%s</devices></domain>",
                        c->memory_mib, c->top, c->devices);
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_null(def);
    g_assert_nonnull(error);
    if (!strstr(error->message, c->message))
        g_error("%s: '%s' lacks '%s'", c->name, error->message, c->message);
}

/* The checks of a hot-plug (vd_domain_memory_check_attach). */
static void
test_attach_checks(void)
{
    g_autoptr(VdDomainDef) def = tdef_from_xml(
        "pc", 384, "", "<maxMemory slots='2' unit='MiB'>640</maxMemory>" ACPI, DIMM128);
    g_autoptr(VdDomainDef) plain = tdef_from_xml("pc", 256, "", "", "");
    g_autoptr(GError) error = NULL;
    g_autoptr(VdMemoryDeviceDef) m = vd_memory_device_def_new_from_xml(DIMM128, &error);
    g_assert_no_error(error);

    g_assert_false(vd_domain_memory_check_attach(plain, m, TRUE, &error));
    g_assert_nonnull(strstr(error->message, "started without <maxMemory slots=...>"));
    g_clear_error(&error);
    g_assert_true(vd_domain_memory_check_attach(def, m, TRUE, &error));
    g_assert_no_error(error);
    m->size_kib = 384 * 1024;
    g_assert_false(vd_domain_memory_check_attach(def, m, TRUE, &error));
    g_assert_nonnull(strstr(error->message, "would exceed domain's maxMemory"));
    g_clear_error(&error);
    m->size_kib = 100 * 1024;
    g_assert_false(vd_domain_memory_check_attach(def, m, TRUE, &error));
    g_assert_nonnull(strstr(error->message, "not a multiple of 128 MiB"));
    g_clear_error(&error);
    m->size_kib = 1025;
    g_assert_false(vd_domain_memory_check_attach(def, m, TRUE, &error));
    g_assert_nonnull(strstr(error->message, "multiple of 2 MiB"));
    g_clear_error(&error);
    m->size_kib = 128 * 1024;
    vd_domain_memory_add(def, vd_memory_device_def_copy(m));
    g_assert_cmpuint(def->memory_kib, ==, 512 * 1024);
    g_assert_false(vd_domain_memory_check_attach(def, m, TRUE, &error));
    g_assert_nonnull(strstr(error->message, "no free memory slot"));
    g_clear_error(&error);
    g_autofree char *alias = vd_domain_memory_free_alias(def, VD_MEMDEV_DIMM);
    g_assert_cmpstr(alias, ==, "dimm1");
    vd_domain_memory_remove(def, 0);
    g_assert_cmpuint(def->memory_kib, ==, 384 * 1024);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(golden_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv-memory/%s", golden_cases[i].name);
        g_test_add_data_func(path, &golden_cases[i], test_golden);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv-memory/error/%s", error_cases[i].name);
        g_test_add_data_func(path, &error_cases[i], test_error);
    }
    g_test_add_func("/qemu/argv-memory/plain", test_plain);
    g_test_add_func("/qemu/argv-memory/no-acpi", test_no_acpi);
    g_test_add_func("/qemu/argv-memory/round-trip", test_round_trip);
    g_test_add_func("/qemu/argv-memory/attach-checks", test_attach_checks);
    return g_test_run();
}
