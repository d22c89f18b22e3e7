/* network/dnsmasq-conf.c: dnsmasq's files for each network XML in
 * tests/data/network, as golden files beside it (libvirt's
 * networkxml2confdata in spirit), and the lease file parser.
 *
 * For each NAME.xml whose network needs a dnsmasq:
 *   NAME.conf            configuration, DNS forwarded to the host (libvirt's way)
 *   NAME.noforward.conf  configuration with --dns-forward=none (the tests' way)
 *   NAME.hostsfile       dhcp-hostsfile, when the network has DHCP hosts
 *   NAME.addnhosts       addn-hosts, when it has <dns><host>s
 * A network that needs no dnsmasq must have none of these files.
 * VD_REGENERATE=1 rewrites (or deletes) them instead of comparing.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "golden.h"
#include "network/dnsmasq-conf.h"

static const char *data_dir;

/* @actual NULL: the file must not exist. */
static void
check_golden(const char *name, const char *suffix, const char *actual)
{
    g_autofree char *path = test_golden_path(data_dir, name, suffix);

    test_golden_check(path, actual);
}

/* When dnsmasq is installed, it must accept what we generate: its
 * --test only parses the configuration (no sockets, no files written). */
static void
dnsmasq_syntax_check(const char *conf, const char *hostsfile)
{
    const char *dnsmasq = "/usr/sbin/dnsmasq";
    g_autoptr(GError) err = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *out = NULL;
    int status = 0;

    if (!g_file_test(dnsmasq, G_FILE_TEST_IS_EXECUTABLE))
        return;
    tmp = g_dir_make_tmp("vd-dnsmasq-test-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *path = g_build_filename(tmp, "test.conf", NULL);
    g_autoptr(GString) text = g_string_new(conf);
    /* The hosts file's lines are dhcp-host= values: check them too. */
    g_auto(GStrv) lines = g_strsplit(hostsfile ? hostsfile : "", "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (*lines[i])
            g_string_append_printf(text, "dhcp-host=%s\n", lines[i]);
    }
    g_assert_true(g_file_set_contents(path, text->str, -1, NULL));
    g_autofree char *arg = g_strdup_printf("--conf-file=%s", path);
    const char *argv[] = {dnsmasq, "--test", arg, NULL};
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &out, &status, &err));
    g_assert_no_error(err);
    g_unlink(path);
    g_rmdir(tmp);
    if (!g_spawn_check_wait_status(status, NULL) || !strstr(out, "syntax check OK"))
        g_error("dnsmasq refuses the configuration: %s\n%s", out, text->str);
}

static char *
nonempty(char *text)
{
    if (text && !*text) {
        g_free(text);
        return NULL;
    }
    return text;
}

static void
test_conf(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml = test_golden_read(data_dir, name, ".xml");
    g_autoptr(GError) err = NULL;

    g_autoptr(VdNetworkDef) def = vd_network_def_parse(xml, &err);
    g_assert_no_error(err);

    if (!vd_network_def_needs_dnsmasq(def)) {
        check_golden(name, ".conf", NULL);
        check_golden(name, ".noforward.conf", NULL);
        check_golden(name, ".hostsfile", NULL);
        check_golden(name, ".addnhosts", NULL);
        return;
    }
    g_autofree char *pid = g_strdup_printf("/run/virtd/network/%s.pid", def->name);
    g_autofree char *leases = g_strdup_printf("/var/lib/virtd/network/%s.leases", def->name);
    g_autofree char *hosts = g_strdup_printf("/var/lib/virtd/network/%s.hostsfile", def->name);
    g_autofree char *addn = g_strdup_printf("/var/lib/virtd/network/%s.addnhosts", def->name);
    VdDnsmasqFiles files = {pid, leases, hosts, addn, TRUE};

    g_autofree char *conf = vd_dnsmasq_conf_format(def, &files);
    check_golden(name, ".conf", conf);
    files.forward_to_host = FALSE;
    g_autofree char *local = vd_dnsmasq_conf_format(def, &files);
    check_golden(name, ".noforward.conf", local);
    /* Without the host's resolvers, nothing may reach them. */
    if (!def->dns.disabled)
        g_assert_nonnull(strstr(local, "\nno-resolv\n"));

    g_autofree char *hostsfile = nonempty(vd_dnsmasq_hosts_format(def));
    check_golden(name, ".hostsfile", hostsfile);
    g_autofree char *addnhosts = nonempty(vd_dnsmasq_addn_hosts_format(def));
    check_golden(name, ".addnhosts", addnhosts);

    dnsmasq_syntax_check(conf, hostsfile);
    dnsmasq_syntax_check(local, NULL);
}

/* Facts of the generated text that must hold whatever the golden files say. */
static void
test_invariants(void)
{
    g_autoptr(VdNetworkDef) def = vd_network_def_new_default("virbr0", 122);
    VdDnsmasqFiles files = {"/p", "/l", "/h", "/a", TRUE};
    g_autofree char *conf = vd_dnsmasq_conf_format(def, &files);

    g_assert_nonnull(strstr(conf, "\nstrict-order\n"));
    g_assert_nonnull(strstr(conf, "\npid-file=/p\n"));
    g_assert_nonnull(strstr(conf, "\nexcept-interface=lo\nbind-dynamic\ninterface=virbr0\n"));
    g_assert_nonnull(strstr(conf, "\ndhcp-range=192.168.122.2,192.168.122.254,255.255.255.0\n"));
    g_assert_nonnull(strstr(conf, "\ndhcp-lease-max=253\n"));
    g_assert_nonnull(strstr(conf, "\ndhcp-leasefile=/l\n"));
    g_assert_nonnull(strstr(conf, "\ndhcp-hostsfile=/h\n"));
    g_assert_nonnull(strstr(conf, "\naddn-hosts=/a\n"));
    g_assert_null(strstr(conf, "no-resolv"));
    g_assert_null(strstr(conf, "port=0"));
    g_assert_null(strstr(conf, "enable-ra"));

    files.forward_to_host = FALSE;
    g_autofree char *local = vd_dnsmasq_conf_format(def, &files);
    g_assert_nonnull(strstr(local, "\nno-resolv\n"));
}

static void
test_leases(void)
{
    static const char text[] =
        "1718790062 52:54:00:4c:ee:9c 192.168.122.45 vm1 01:52:54:00:4c:ee:9c\n"
        "0 52:54:00:AA:bb:cc 192.168.122.46 * *\n"
        "\n"
        "duid 00:01:00:01:2c:3d:4e:5f:52:54:00:12:34:56\n"
        "1718790100 1234567 2001:db8:ac10:fd01::1:20 six 00:04:7e:7d:f0:7d\n"
        "garbage line\n"
        "notanumber 52:54:00:00:00:01 192.168.122.47 x *\n"
        "1718790062 52:54:00:00:00:02 192.168.122.300 bad *\n"
        "1718790062 zz:zz 192.168.122.48 badmac *\n"
        "   1718790200\t52:54:00:00:00:03  192.168.122.49 spaced\n";
    g_autoptr(GPtrArray) leases = vd_dnsmasq_leases_parse(text);
    const VdDnsmasqLease *l;

    g_assert_cmpuint(leases->len, ==, 4);
    l = g_ptr_array_index(leases, 0);
    g_assert_cmpint(l->expiry, ==, 1718790062);
    g_assert_cmpstr(l->mac, ==, "52:54:00:4c:ee:9c");
    g_assert_cmpstr(l->ip, ==, "192.168.122.45");
    g_assert_false(l->ipv6);
    g_assert_cmpstr(l->hostname, ==, "vm1");
    g_assert_cmpstr(l->client_id, ==, "01:52:54:00:4c:ee:9c");
    l = g_ptr_array_index(leases, 1);
    g_assert_cmpint(l->expiry, ==, 0);
    g_assert_cmpstr(l->mac, ==, "52:54:00:aa:bb:cc");
    g_assert_null(l->hostname);
    g_assert_null(l->client_id);
    l = g_ptr_array_index(leases, 2);
    g_assert_true(l->ipv6);
    g_assert_null(l->mac);
    g_assert_cmpstr(l->ip, ==, "2001:db8:ac10:fd01::1:20");
    g_assert_cmpstr(l->hostname, ==, "six");
    g_assert_cmpstr(l->client_id, ==, "00:04:7e:7d:f0:7d");
    l = g_ptr_array_index(leases, 3);
    g_assert_cmpstr(l->ip, ==, "192.168.122.49");
    g_assert_cmpstr(l->hostname, ==, "spaced");
    g_assert_null(l->client_id);

    g_autoptr(GPtrArray) none = vd_dnsmasq_leases_parse("");
    g_assert_cmpuint(none->len, ==, 0);
    g_autoptr(GPtrArray) null_text = vd_dnsmasq_leases_parse(NULL);
    g_assert_cmpuint(null_text->len, ==, 0);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) names = NULL;

    g_test_init(&argc, &argv, NULL);
    names = test_golden_inputs("VD_NETWORK_DATA_DIR", 10, &data_dir);
    if (!names)
        return 1;
    test_golden_add_each("/dnsmasq-conf", names, test_conf);
    g_test_add_func("/dnsmasq-conf/invariants", test_invariants);
    g_test_add_func("/dnsmasq-conf/leases", test_leases);
    return g_test_run();
}
