/* attach-device / detach-device --config for the classes with no live
 * path (conf/domain-device-xml.c): the element goes in after the last of
 * its kind and the result is a whole definition again; detach matches by
 * alias, else by what the fragment gives; ambiguous or absent matches and
 * fragments that are not devices fail, changing nothing. */
#include <glib.h>
#include <string.h>

#include "conf-test-util.h"
#include "util/vd-error.h"

static const char *const base =
    "<domain type='qemu'><name>t</name><memory unit='MiB'>256</memory>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
    "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
    "<sound model='ich9'/>"
    "</devices></domain>";

static guint
count(const char *text, const char *needle)
{
    guint n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void
test_add_and_remove(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = tconf_define(base);
    g_autoptr(VdDomainDef) two = vd_domain_def_with_device(def, "<sound model='ac97'/>", &error);
    g_assert_no_error(error);
    g_autofree char *xml = vd_domain_def_format(two, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpuint(count(xml, "<sound "), ==, 2);
    /* After the other sound card, before what follows in libvirt's order. */
    g_assert_true(strstr(xml, "model='ich9'") < strstr(xml, "model='ac97'"));

    /* Two sound cards: a bare <sound/> matches both and is refused. */
    g_autoptr(VdDomainDef) none = vd_domain_def_without_device(two, "<sound/>", &error);
    g_assert_null(none);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "2 <sound> devices"));
    g_clear_error(&error);

    g_autoptr(VdDomainDef) back = vd_domain_def_without_device(two, "<sound model='ac97'/>", &error);
    g_assert_no_error(error);
    g_autofree char *xml2 = vd_domain_def_format(back, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpuint(count(xml2, "<sound "), ==, 1);
    g_assert_nonnull(strstr(xml2, "model='ich9'"));

    /* Children count: the rng's backend text must match too. */
    g_autoptr(VdDomainDef) rng = vd_domain_def_without_device(
        def, "<rng model='virtio'><backend model='random'>/dev/random</backend></rng>", &error);
    g_assert_null(rng);
    g_assert_nonnull(strstr(error->message, "no <rng> device matching"));
    g_clear_error(&error);
    g_autoptr(VdDomainDef) norng = vd_domain_def_without_device(
        def, "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(norng->rngs->len, ==, 0);
}

static void
test_refusals(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = tconf_define(base);
    /* Not a device. */
    g_assert_null(vd_domain_def_with_device(def, "<name>x</name>", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_XML);
    g_assert_nonnull(strstr(error->message, "<name> is not a device"));
    g_clear_error(&error);
    /* Not XML. */
    g_assert_null(vd_domain_def_with_device(def, "<sound", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_XML);
    g_clear_error(&error);
    /* A device the whole definition refuses (bad watchdog model). */
    g_assert_null(vd_domain_def_with_device(def, "<watchdog model='nope'/>", &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    /* The original is untouched by all of it. */
    g_autofree char *xml = vd_domain_def_format(def, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpuint(count(xml, "<sound "), ==, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/device-xml/add-remove", test_add_and_remove);
    g_test_add_func("/device-xml/refusals", test_refusals);
    return g_test_run();
}
