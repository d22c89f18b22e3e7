/* conf/ for the memory sizes setmem and setmaxmem change: <memory> from
 * NUMA cells alone (libvirt's way) with a smaller <currentMemory> kept,
 * what a live <currentMemory> after the balloon looks like in the status
 * file's XML, and the <memballoon><stats period=> dommemstat --period
 * writes. */
#include <string.h>

#include <glib.h>

#include "conf/domain-def.h"
#include "util/vd-error.h"

static VdDomainDef *
parse(const char *top, const char *devices, GError **error)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>m</name>%s<vcpu>2</vcpu><os><type>hvm</type></os>"
        "<devices>%s</devices></domain>",
        top, devices);
    return vd_domain_def_new_from_xml(xml, -1, error);
}

static void
test_numa_only_with_current(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def =
        parse("<currentMemory unit='MiB'>128</currentMemory>"
              "<cpu><numa><cell id='0' cpus='0' memory='96' unit='MiB'/>"
              "<cell id='1' cpus='1' memory='98304' unit='KiB'/></numa></cpu>",
              "", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->memory_kib, ==, 196608);
    g_assert_cmpuint(def->current_memory_kib, ==, 131072);
    g_assert_true(vd_domain_def_check_startable(def, &error));
    g_autofree char *xml = vd_domain_def_format(def, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(xml, "<memory unit='KiB'>196608</memory>"));
    g_assert_nonnull(strstr(xml, "<currentMemory unit='KiB'>131072</currentMemory>"));

    /* A current memory above the cells' sum does not define. */
    g_autoptr(VdDomainDef) over =
        parse("<currentMemory unit='MiB'>256</currentMemory>"
              "<cpu><numa><cell id='0' cpus='0-1' memory='192' unit='MiB'/></numa></cpu>",
              "", &error);
    g_assert_null(over);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "currentMemory 262144 KiB is larger than memory "
                                            "196608 KiB"));
}

/* The balloon moved (BALLOON_CHANGE): the live definition's current
 * memory is what the status file keeps and a daemon restart reads. */
static void
test_live_current_round_trip(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def =
        parse("<memory unit='MiB'>256</memory>", "<memballoon model='virtio'/>", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->current_memory_kib, ==, 262144);
    def->current_memory_kib = 196608;
    g_autofree char *xml = vd_domain_def_format(def, VD_DOMAIN_FORMAT_LIVE);
    g_autoptr(VdDomainDef) again = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(again->current_memory_kib, ==, 196608);
    g_assert_cmpuint(again->memory_kib, ==, 262144);
}

static void
test_stats_period(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def =
        parse("<memory unit='MiB'>256</memory>", "<memballoon model='virtio'/>", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->memballoon->period, ==, 0);
    def->memballoon->period = 5;
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    g_autofree char *xml = vd_domain_def_format(copy, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(xml, "<stats period='5'/>"));
    /* model='none' has no statistics to period. */
    g_autoptr(VdDomainDef) none =
        parse("<memory unit='MiB'>256</memory>", "<memballoon model='none'/>", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(none->memballoon->model, ==, "none");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/memory/numa-only-with-current", test_numa_only_with_current);
    g_test_add_func("/conf/memory/live-current-round-trip", test_live_current_round_trip);
    g_test_add_func("/conf/memory/stats-period", test_stats_period);
    return g_test_run();
}
