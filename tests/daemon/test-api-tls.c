/* The pure parts of the TLS listener: what --listen accepts (and the
 * refusals' wording), libvirt's allowed-DN globs, the words for a refused
 * certificate, and the client's PKI directory defaults. */
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/api/api-tls.h"
#include "remote/remote-tls.h"
#include "util/vd-error.h"

static void
check_listen(const char *spec, const char *addr, guint16 port)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketAddress) sa = vd_api_tls_parse_listen(spec, &error);
    g_assert_no_error(error);
    g_assert_nonnull(sa);
    g_autofree char *got =
        g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa)));
    g_assert_cmpstr(got, ==, addr);
    g_assert_cmpuint(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(sa)), ==, port);
}

static void
check_listen_refused(const char *spec, const char *want)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketAddress) sa = vd_api_tls_parse_listen(spec, &error);
    g_assert_null(sa);
    g_assert_nonnull(error);
    if (!strstr(error->message, want))
        g_error("--listen %s: %s (wanted '%s')", spec, error->message, want);
    g_assert_nonnull(strstr(error->message, "tls://ADDRESS[:PORT]"));
}

static void
test_listen(void)
{
    check_listen("tls://127.0.0.1:26514", "127.0.0.1", 26514);
    check_listen("tls://0.0.0.0", "0.0.0.0", VD_TLS_DEFAULT_PORT);
    check_listen("tls://0.0.0.0/", "0.0.0.0", VD_TLS_DEFAULT_PORT);
    check_listen("tls://[::]", "::", VD_TLS_DEFAULT_PORT);
    check_listen("tls://[::1]:1234", "::1", 1234);
    check_listen("tls://[2001:db8::10]:16514", "2001:db8::10", 16514);

    check_listen_refused("tcp://0.0.0.0:16509", "only tls:// is offered");
    check_listen_refused("http://127.0.0.1:80", "only tls:// is offered");
    check_listen_refused("unix:///run/x.sock", "only tls:// is offered");
    check_listen_refused("tls://host1.example.org", "'host1.example.org' is not an IP address");
    check_listen_refused("tls://localhost:16514", "'localhost' is not an IP address");
    check_listen_refused("tls://127.0.0.1:0", "port 0");
    check_listen_refused("tls://127.0.0.1:99999", "invalid --listen");
    check_listen_refused("tls://127.0.0.1/path", "invalid --listen");
    check_listen_refused("tls://127.0.0.1?pkipath=/x", "invalid --listen");
    check_listen_refused("tls://user@127.0.0.1", "invalid --listen");
    check_listen_refused("127.0.0.1:16514", "invalid --listen");
    check_listen_refused("tls://", "invalid --listen");
    check_listen_refused("", "invalid --listen");
}

static void
test_dn(void)
{
    const char *dn = "C=GB,ST=London,L=London,O=Example,CN=admin1";
    const char *const any[] = {NULL};
    const char *const one[] = {"C=GB,ST=London,L=London,O=Example,CN=*", NULL};
    const char *const exact[] = {"C=GB,ST=London,L=London,O=Example,CN=admin1", NULL};
    const char *const several[] = {"C=XX,*", "*,CN=admin?", NULL};
    const char *const partial[] = {"CN=admin1", "O=Example", NULL};

    g_assert_true(vd_tls_dn_allowed(dn, NULL));
    g_assert_true(vd_tls_dn_allowed(dn, any));
    g_assert_true(vd_tls_dn_allowed(dn, one));
    g_assert_true(vd_tls_dn_allowed(dn, exact));
    g_assert_true(vd_tls_dn_allowed(dn, several));
    /* The whole DN, not a part of it (libvirt's fnmatch). */
    g_assert_false(vd_tls_dn_allowed(dn, partial));
    g_assert_false(vd_tls_dn_allowed("C=GB,ST=London,L=London,O=Example,CN=admin10", several));
    g_assert_false(vd_tls_dn_allowed("C=GB,O=Other,CN=admin1", one));
    /* A certificate without a subject matches no pattern. */
    g_assert_false(vd_tls_dn_allowed(NULL, one));
    g_assert_true(vd_tls_dn_allowed(NULL, NULL));
}

static void
test_flags(void)
{
    g_autofree char *a = vd_tls_cert_flags_to_string(G_TLS_CERTIFICATE_UNKNOWN_CA);
    g_autofree char *b =
        vd_tls_cert_flags_to_string(G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_UNKNOWN_CA);
    g_autofree char *c = vd_tls_cert_flags_to_string(0);
    g_assert_cmpstr(a, ==, "not signed by the trusted CA");
    g_assert_cmpstr(b, ==, "not signed by the trusted CA, expired");
    g_assert_cmpstr(c, ==, "invalid");
}

static void
test_client_dir(void)
{
    g_autofree char *home = g_dir_make_tmp("vdtls-home-XXXXXX", NULL);
    g_autofree char *pki = g_build_filename(home, ".pki", "virtd", NULL);
    g_autofree char *ca = g_build_filename(pki, "cacert.pem", NULL);
    g_autofree char *pkid = g_build_filename(home, ".pki", NULL);

    g_setenv("HOME", home, TRUE);
    g_autofree char *given = vd_tls_client_dir("/some/dir");
    g_assert_cmpstr(given, ==, "/some/dir");
    /* No ~/.pki/virtd/cacert.pem: the system directory. */
    g_autofree char *sys = vd_tls_client_dir(NULL);
    g_assert_cmpstr(sys, ==, VD_TLS_DEFAULT_DIR);
    g_assert_cmpint(g_mkdir_with_parents(pki, 0700), ==, 0);
    g_autofree char *still = vd_tls_client_dir(NULL);
    g_assert_cmpstr(still, ==, VD_TLS_DEFAULT_DIR);
    g_assert_true(g_file_set_contents(ca, "x", -1, NULL));
    g_autofree char *user = vd_tls_client_dir(NULL);
    g_assert_cmpstr(user, ==, pki);
    g_unlink(ca);
    g_rmdir(pki);
    g_rmdir(pkid);
    g_rmdir(home);
}

static void
test_load_errors(void)
{
    g_autofree char *dir = g_dir_make_tmp("vdtls-dir-XXXXXX", NULL);
    g_autofree char *ca = g_build_filename(dir, "cacert.pem", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *want = NULL;

    g_assert_null(vd_tls_load_ca(dir, &error));
    want = g_strdup_printf("cannot read the CA certificate '%s': No such file or directory", ca);
    g_assert_cmpstr(error->message, ==, want);
    g_clear_error(&error);
    g_assert_null(vd_tls_load_cert(dir, FALSE, &error));
    g_assert_nonnull(strstr(error->message, "cannot read the client certificate '"));
    g_assert_nonnull(strstr(error->message, "/clientcert.pem'"));
    g_clear_error(&error);
    g_assert_true(g_file_set_contents(ca, "not PEM\n", -1, NULL));
    g_assert_null(vd_tls_load_ca(dir, &error));
    g_assert_nonnull(strstr(error->message, ca));
    g_clear_error(&error);
    g_assert_null(vd_api_tls_new(dir, NULL, &error));
    g_assert_nonnull(strstr(error->message, "--tls-dir"));
    g_unlink(ca);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/api-tls/listen", test_listen);
    g_test_add_func("/api-tls/dn", test_dn);
    g_test_add_func("/api-tls/flags", test_flags);
    g_test_add_func("/api-tls/client-dir", test_client_dir);
    g_test_add_func("/api-tls/load-errors", test_load_errors);
    return g_test_run();
}
