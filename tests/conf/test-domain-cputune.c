/* conf/'s <cputune> vcpupin and emulatorpin (domain-cputune.c): parse into
 * typed pins (normalized cpusets), deep copy, format back (edited pins
 * replace the old ones; the rest of <cputune> stays as written and is
 * still reported), the refusals, and the cpuset helpers. */
#include <glib.h>
#include <string.h>

#include "conf/domain-cputune.h"
#include "conf/domain-def.h"
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
        parse_with("<cputune><shares>2048</shares><vcpupin vcpu='2' cpuset='3,1-2'/>"
                   "<vcpupin vcpu='0' cpuset='0-3,^1'/><emulatorpin cpuset='4'/></cputune>",
                   4, &error);
    g_assert_no_error(error);
    const VdCputuneDef *t = def->cputune;
    g_assert_cmpuint(t->vcpupins->len, ==, 2);
    g_assert_cmpstr(vd_cputune_vcpupin(t, 0), ==, "0,2-3");
    g_assert_cmpstr(vd_cputune_vcpupin(t, 2), ==, "1-3");
    g_assert_null(vd_cputune_vcpupin(t, 1));
    g_assert_cmpstr(t->emulatorpin, ==, "4");

    /* <shares> is still reported (WARN, start goes ahead); the pins are not. */
    gboolean shares = FALSE;
    for (guint i = 0; i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_assert_null(strstr(u->path, "vcpupin"));
        g_assert_null(strstr(u->path, "emulatorpin"));
        shares |= g_str_equal(u->path, "/domain/cputune/shares") && !u->guest_visible;
    }
    g_assert_true(shares);

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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/cputune/parse-format", test_parse_format);
    g_test_add_func("/conf/cputune/cpuset", test_cpuset);
    g_test_add_func("/conf/cputune/trim", test_trim);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/conf/cputune/bad/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad);
    }
    return g_test_run();
}
