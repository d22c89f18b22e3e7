/* conf/'s <cputune> vcpupin and emulatorpin (domain-cputune.c): parse into
 * typed pins (normalized cpusets), deep copy, format back (edited pins
 * replace the old ones; the rest of <cputune> stays as written and is
 * still reported), the refusals, and the cpuset helpers. Issue 15's
 * limits (domain-restune.c): <cputune> shares/period/quota, <memtune>,
 * <blkiotune> typed, copied, and refused out of range. */
#include <glib.h>
#include <string.h>

#include "conf/domain-cputune.h"
#include "conf/domain-def.h"
#include "conf/domain-restune.h"
#include "util/vd-error.h"

static VdDomainDef *
parse_with(const char *extra, guint vcpus, GError **error)
{
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>t</name><memory unit='MiB'>256</memory>"
                        "<vcpu current='1'>%u</vcpu>%s"
                        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                        "<devices/></domain>",
                        vcpus, extra);
    VdDomainDef *def = vd_domain_def_parse(xml, -1, error);
    if (def)
        vd_domain_def_apply_defaults(def);
    return def;
}

static void
test_parse_format(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def =
        parse_with("<cputune><shares>2048</shares><emulator_period>5000</emulator_period>"
                   "<vcpupin vcpu='2' cpuset='3,1-2'/>"
                   "<vcpupin vcpu='0' cpuset='0-3,^1'/><emulatorpin cpuset='4'/></cputune>",
                   4, &error);
    g_assert_no_error(error);
    const VdCputuneDef *t = def->cputune;
    g_assert_cmpuint(t->vcpupins->len, ==, 2);
    g_assert_cmpstr(vd_cputune_vcpupin(t, 0), ==, "0,2-3");
    g_assert_cmpstr(vd_cputune_vcpupin(t, 2), ==, "1-3");
    g_assert_null(vd_cputune_vcpupin(t, 1));
    g_assert_cmpstr(t->emulatorpin, ==, "4");

    /* <emulator_period> is still reported (WARN, start goes ahead); the
     * pins and <shares> (applied through the cgroup, domain-restune.c)
     * are not. */
    gboolean emulator = FALSE;
    for (guint i = 0; i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_assert_null(strstr(u->path, "vcpupin"));
        g_assert_null(strstr(u->path, "emulatorpin"));
        g_assert_null(strstr(u->path, "shares"));
        emulator |= g_str_equal(u->path, "/domain/cputune/emulator_period") && !u->guest_visible;
    }
    g_assert_true(emulator);

    /* The copy is deep; an edit shows in format, <shares> kept. */
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    vd_cputune_set_vcpupin(copy->cputune, 1, "5");
    vd_cputune_set_vcpupin(copy->cputune, 2, NULL);
    g_assert_cmpuint(def->cputune->vcpupins->len, ==, 2);
    g_autofree char *out = vd_domain_def_format(copy, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(out, "<shares>2048</shares>"));
    g_strdelimit(out, "\"", '\'');
    g_assert_nonnull(strstr(out, "<vcpupin vcpu='0' cpuset='0,2-3'/>"));
    g_assert_nonnull(strstr(out, "<vcpupin vcpu='1' cpuset='5'/>"));
    g_assert_null(strstr(out, "cpuset='1-3'")); /* not the random uuid */
    g_assert_nonnull(strstr(out, "emulatorpin"));

    /* The last pin removed: <cputune> goes when nothing is left. */
    g_autoptr(VdDomainDef) bare =
        parse_with("<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>", 2, &error);
    g_assert_no_error(error);
    vd_cputune_set_vcpupin(bare->cputune, 0, NULL);
    g_autofree char *out2 = vd_domain_def_format(bare, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_null(strstr(out2, "cputune"));

    /* Added to a domain without <cputune>: after <vcpu>. */
    g_autoptr(VdDomainDef) none = parse_with("", 2, &error);
    g_assert_no_error(error);
    vd_cputune_set_emulatorpin(none->cputune, "0-1");
    g_autofree char *out3 = vd_domain_def_format(none, VD_DOMAIN_FORMAT_INACTIVE);
    const char *vcpu = strstr(out3, "<vcpu");
    const char *tune = strstr(out3, "<cputune>");
    const char *os = strstr(out3, "<os>");
    g_assert_true(vcpu && tune && os && vcpu < tune && tune < os);

    /* Round trip: format, parse, the same pins. */
    g_autoptr(VdDomainDef) again = vd_domain_def_parse(out, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vd_cputune_vcpupin(again->cputune, 1), ==, "5");
    g_assert_cmpstr(vd_cputune_vcpupin(again->cputune, 0), ==, "0,2-3");
}

typedef struct {
    const char *name;
    const char *tune;
    const char *message;
} BadCase;

static const BadCase bad_cases[] = {
    {"out-of-range", "<vcpupin vcpu='4' cpuset='0'/>", "out of range of maximum vcpus"},
    {"duplicate", "<vcpupin vcpu='1' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/>",
     "duplicate vcpupin"},
    {"no-vcpu", "<vcpupin cpuset='0'/>", "needs a vcpu attribute"},
    {"no-cpuset", "<vcpupin vcpu='0'/>", "needs a cpuset attribute"},
    {"bad-cpuset", "<vcpupin vcpu='0' cpuset='1-'/>", "invalid CPU list '1-'"},
    {"empty-cpuset", "<emulatorpin cpuset='0,^0'/>", "invalid CPU list"},
    {"huge", "<emulatorpin cpuset='99999'/>", "invalid CPU list"},
};

static void
test_bad(gconstpointer data)
{
    const BadCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *tune = g_strdup_printf("<cputune>%s</cputune>", c->tune);
    g_autoptr(VdDomainDef) def = parse_with(tune, 4, &error);
    g_assert_null(def);
    g_assert_error(error, VD_ERROR, VD_ERROR_XML);
    if (!strstr(error->message, c->message))
        g_test_fail_printf("%s: %s", c->name, error->message);
}

static void
test_cpuset(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *a = vd_cpuset_check_host(" 3, 0-1 ,5-6,^6", 8, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(a, ==, "0-1,3,5");
    g_autofree char *b = vd_cpuset_check_host("0,7", 4, &error);
    g_assert_null(b);
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "Physical CPU 7 doesn't exist"));
    g_assert_nonnull(strstr(error->message, "0-3"));
    g_clear_error(&error);
    g_autofree char *c = vd_cpuset_check_host("x", 4, &error);
    g_assert_null(c);
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
}

static void
test_trim(void)
{
    g_autoptr(VdCputuneDef) t = vd_cputune_def_new();
    vd_cputune_set_vcpupin(t, 5, "1");
    vd_cputune_set_vcpupin(t, 0, "0");
    vd_cputune_set_vcpupin(t, 3, "2");
    g_assert_cmpuint(g_array_index(t->vcpupins, VdVcpuPin, 0).vcpu, ==, 0);
    g_assert_cmpuint(g_array_index(t->vcpupins, VdVcpuPin, 2).vcpu, ==, 5);
    vd_cputune_trim(t, 4);
    g_assert_cmpuint(t->vcpupins->len, ==, 2);
    g_assert_cmpstr(vd_cputune_vcpupin(t, 3), ==, "2");
}


static void
test_restune(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = parse_with(
        "<cputune><shares>2048</shares><period>100000</period><quota>-5</quota>"
        "<global_period>200000</global_period><global_quota>150000</global_quota></cputune>"
        "<memtune><hard_limit unit='GiB'>1</hard_limit><soft_limit>524288</soft_limit>"
        "<swap_hard_limit>9007199254740991</swap_hard_limit></memtune>"
        "<blkiotune><weight>800</weight><device><path>/dev/sda</path><weight>300</weight>"
        "<read_bytes_sec>1048576</read_bytes_sec><write_iops_sec>20</write_iops_sec></device>"
        "</blkiotune>",
        2, &error);
    g_assert_no_error(error);
    g_assert_true(vd_domain_def_validate(def, &error));
    const VdResTuneDef *t = def->restune;
    g_assert_true(vd_restune_is_set(t));
    g_assert_cmpuint(t->cpu_shares, ==, 2048);
    g_assert_cmpuint(t->period, ==, 100000);
    g_assert_cmpint(t->quota, ==, -1); /* any negative: unlimited */
    g_assert_cmpuint(t->global_period, ==, 200000);
    g_assert_cmpint(t->global_quota, ==, 150000);
    g_assert_cmpuint(t->hard_limit_kib, ==, 1024 * 1024);
    g_assert_cmpuint(t->soft_limit_kib, ==, 524288);
    g_assert_cmpuint(t->swap_hard_limit_kib, ==, VD_MEMTUNE_UNLIMITED_KIB);
    g_assert_cmpuint(t->blkio_weight, ==, 800);
    g_assert_cmpuint(t->blkio_devices->len, ==, 1);
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    const VdBlkioDevice *d = g_ptr_array_index(copy->restune->blkio_devices, 0);
    g_assert_true(d != g_ptr_array_index(t->blkio_devices, 0));
    g_assert_cmpstr(d->path, ==, "/dev/sda");
    g_assert_cmpuint(d->weight, ==, 300);
    g_assert_cmpuint(d->read_bytes_sec, ==, 1048576);
    g_assert_cmpuint(d->write_iops_sec, ==, 20);
    g_assert_cmpuint(copy->restune->hard_limit_kib, ==, 1024 * 1024);

    g_autoptr(VdDomainDef) none = parse_with("", 1, &error);
    g_assert_false(vd_restune_is_set(none->restune));
}

static void
test_restune_refusals(void)
{
    struct {
        const char *xml, *message;
    } parse_bad[] = {
        {"<cputune><shares>1</shares></cputune>",
         "<cputune><shares> 1 is out of range: use 2 to 262144, or remove <shares>"},
        {"<cputune><period>999</period></cputune>", "use 1000 to 1000000"},
        {"<cputune><quota>999</quota></cputune>", "or -1 for no limit"},
        {"<memtune><hard_limit>0</hard_limit></memtune>", "would leave QEMU no memory"},
        {"<memtune><hard_limit unit='parsec'>1</hard_limit></memtune>", "unknown size unit"},
        {"<blkiotune><weight>50</weight></blkiotune>", "use 100 to 1000"},
        {"<blkiotune><device><path>sda</path></device></blkiotune>", "(not 'sda')"},
        {"<blkiotune><device><path>/dev/sda</path></device><device><path>/dev/sda</path>"
         "</device></blkiotune>",
         "names the device '/dev/sda' twice"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(parse_bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdDomainDef) def = parse_with(parse_bad[i].xml, 1, &error);
        g_assert_null(def);
        g_assert_error(error, VD_ERROR, VD_ERROR_XML);
        if (!strstr(error->message, parse_bad[i].message))
            g_error("%s: %s", parse_bad[i].xml, error->message);
    }
    /* Cross-field: the definition parses, validate refuses (memory 256 MiB). */
    struct {
        const char *xml, *message;
    } invalid[] = {
        {"<memtune><hard_limit unit='MiB'>200</hard_limit></memtune>",
         "is below the guest's <memory> 262144 KiB"},
        {"<memtune><hard_limit unit='MiB'>800</hard_limit><swap_hard_limit unit='MiB'>700"
         "</swap_hard_limit></memtune>",
         "is above <swap_hard_limit>"},
        {"<memtune><hard_limit unit='MiB'>800</hard_limit><soft_limit unit='MiB'>900"
         "</soft_limit></memtune>",
         "lower the soft limit"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(invalid); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdDomainDef) def = parse_with(invalid[i].xml, 1, &error);
        g_assert_no_error(error);
        g_assert_false(vd_domain_def_validate(def, &error));
        if (!strstr(error->message, invalid[i].message))
            g_error("%s: %s", invalid[i].xml, error->message);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/cputune/parse-format", test_parse_format);
    g_test_add_func("/conf/cputune/cpuset", test_cpuset);
    g_test_add_func("/conf/cputune/trim", test_trim);
    g_test_add_func("/conf/cputune/restune", test_restune);
    g_test_add_func("/conf/cputune/restune-refusals", test_restune_refusals);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/conf/cputune/bad/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad);
    }
    return g_test_run();
}
