/* Unit tests of remote/'s pure parts: URI parsing against the golden file
 * tests/data/remote/uris.golden (VD_REGENERATE=1 rewrites it), aliases and
 * the default URI from a vsh.conf, and the TLS client's refusals that
 * need no server (missing credentials, the reasons of failed handshakes). */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "golden.h"
#include "remote/remote-priv.h"
#include "remote/remote.h"
#include "util/vd-error.h"

static const char *data_dir;

static void
test_parse_golden(void)
{
    g_autofree char *input = test_golden_read(data_dir, "uris", ".txt");
    g_autofree char *golden = test_golden_path(data_dir, "uris", ".golden");
    g_auto(GStrv) lines = g_strsplit(input, "\n", -1);
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = 0; lines[i]; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdRemoteUri) uri = NULL;

        if (!*lines[i] || lines[i][0] == '#')
            continue;
        uri = vd_remote_uri_parse(lines[i], &error);
        g_string_append_printf(out, "%s\n", lines[i]);
        if (uri) {
            g_autofree char *text = vd_remote_uri_describe(uri);
            g_auto(GStrv) fields = g_strsplit(text, "\n", -1);

            g_assert_no_error(error);
            g_assert_cmpstr(uri->uri, ==, lines[i]);
            for (guint f = 0; fields[f] && *fields[f]; f++)
                g_string_append_printf(out, "  %s\n", fields[f]);
        } else {
            g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
            g_string_append_printf(out, "  error: %s\n", error->message);
        }
    }
    test_golden_check(golden, out->str);
}

static void
test_aliases(void)
{
    g_autofree char *conf = g_build_filename(data_dir, "vsh.conf", NULL);
    static const struct {
        const char *name;
        const char *expect; /* NULL: refused */
        const char *message_part;
    } cases[] = {
        {"hail", "ssh://root@hail.example.org/system", NULL},
        {"sleet", "tls://sleet.example.org:16515", NULL},
        {"with.dot-and_dash", "unix:///tmp/v/virtd.sock", NULL},
        {"unix:///x/virtd.sock", "unix:///x/virtd.sock", NULL},
        {"ssh://hail/system", "ssh://hail/system", NULL},
        {"snow", NULL, "no connection URI alias 'snow' in '"},
        {"bad name", NULL, "neither a connection URI"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *got = vd_remote_uri_expand(cases[i].name, conf, &error);

        if (cases[i].expect) {
            g_assert_no_error(error);
            g_assert_cmpstr(got, ==, cases[i].expect);
        } else {
            g_assert_null(got);
            g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
            g_assert_nonnull(strstr(error->message, cases[i].message_part));
        }
    }
}

static char *
write_temp(const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("test-remote-XXXXXX.conf", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* An alias found before a malformed entry: refused naming the entry (and,
 * under ASan, the URI already found is not leaked: fuzz/remote-uri.c). */
static void
test_alias_then_malformed(void)
{
    g_autofree char *conf =
        write_temp("uri_aliases = [ \"hail=ssh://hail/system\", \"no equals sign\" ]\n");
    g_autoptr(GError) error = NULL;
    g_autofree char *got = vd_remote_uri_expand("hail", conf, &error);

    g_assert_null(got);
    g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, "malformed uri_aliases entry 'no equals sign'"));
    g_unlink(conf);
}

static void
test_default(void)
{
    g_autofree char *conf = g_build_filename(data_dir, "vsh.conf", NULL);
    g_autofree char *empty = write_temp("# nothing\n");
    g_autofree char *bad = write_temp("uri_aliases = [ \"a=unix:///x\"\n  \"b=unix:///y\" ]\n");
    g_autofree char *badentry = write_temp("uri_aliases = [ \"noequals\" ]\n");
    g_autoptr(GError) error = NULL;
    char *got;

    g_unsetenv("VSH_DEFAULT_URI");
    /* uri_default, itself an alias. */
    got = vd_remote_uri_resolve(NULL, conf, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, "ssh://root@hail.example.org/system");
    g_free(got);
    got = vd_remote_uri_default(conf);
    g_assert_cmpstr(got, ==, "hail");
    g_free(got);
    /* -c wins over everything. */
    got = vd_remote_uri_resolve("sleet", conf, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, "tls://sleet.example.org:16515");
    g_free(got);
    /* $VSH_DEFAULT_URI wins over uri_default. */
    g_setenv("VSH_DEFAULT_URI", "with.dot-and_dash", TRUE);
    got = vd_remote_uri_resolve(NULL, conf, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, "unix:///tmp/v/virtd.sock");
    g_free(got);
    g_unsetenv("VSH_DEFAULT_URI");
    /* No file, an empty file: the local daemon. */
    got = vd_remote_uri_resolve(NULL, "/nonexistent/vsh.conf", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, "unix://" VD_REMOTE_DEFAULT_SOCKET);
    g_free(got);
    got = vd_remote_uri_resolve(NULL, empty, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, "unix://" VD_REMOTE_DEFAULT_SOCKET);
    g_free(got);
    /* A syntax error names the file and the line. */
    got = vd_remote_uri_resolve(NULL, bad, &error);
    g_assert_null(got);
    g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
    g_assert_true(g_str_has_prefix(error->message, bad));
    g_assert_nonnull(strstr(error->message, ":2: expected ',' or ']'"));
    g_clear_error(&error);
    got = vd_remote_uri_expand("noequals", badentry, &error);
    g_assert_null(got);
    g_assert_nonnull(strstr(error->message, "malformed uri_aliases entry 'noequals'"));
    g_clear_error(&error);
    g_unlink(empty);
    g_unlink(bad);
    g_unlink(badentry);
}

static void
test_config_path(void)
{
    char *got;

    g_setenv("VSH_CONFIG", "/some/where.conf", TRUE);
    got = vd_remote_config_path();
    g_assert_cmpstr(got, ==, "/some/where.conf");
    g_free(got);
    g_unsetenv("VSH_CONFIG");
    /* g_get_user_config_dir() is cached: only check the fallback order
     * through a file that does not exist there. */
    got = vd_remote_config_path();
    g_assert_true(g_str_equal(got, VD_REMOTE_SYSTEM_CONFIG) ||
                  g_str_has_suffix(got, "/vsh/vsh.conf"));
    g_free(got);
}

static VdRemoteUri *
tls_uri(const char *pki)
{
    g_autofree char *text = g_strdup_printf("tls://sleet.example.org?pkipath=%s", pki);
    g_autoptr(GError) error = NULL;
    VdRemoteUri *uri = vd_remote_uri_parse(text, &error);

    g_assert_no_error(error);
    return uri;
}

static void
test_tls_errors(void)
{
    g_autofree char *pki = g_dir_make_tmp("test-remote-pki-XXXXXX", NULL);
    g_autoptr(VdRemoteUri) uri = tls_uri(pki);
    g_autoptr(GError) error = NULL;
    g_autoptr(VdRemote) remote = vd_remote_open(uri, NULL, &error);
    VdRemote fake = {0};
    GError *cause;

    /* No CA: refused at open, naming the directory and the fix. */
    g_assert_null(remote);
    g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, pki));
    g_assert_nonnull(strstr(error->message, "cacert.pem"));
    g_assert_nonnull(strstr(error->message, "?pkipath="));
    g_clear_error(&error);

    /* The reasons of failed requests, as libsoup reports them. */
    fake.uri = uri;
    fake.pki_dir = pki;
    fake.tls_errors = G_TLS_CERTIFICATE_UNKNOWN_CA;
    cause = g_error_new_literal(G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                                "Unacceptable TLS certificate");
    vd_remote_set_transport_error(&fake, cause, &error);
    g_assert_nonnull(strstr(error->message, "sleet.example.org:16514"));
    g_assert_nonnull(strstr(error->message, "not signed by the CA we trust"));
    g_clear_error(&error);
    fake.tls_errors = G_TLS_CERTIFICATE_BAD_IDENTITY;
    vd_remote_set_transport_error(&fake, cause, &error);
    g_assert_nonnull(strstr(error->message, "not for this host name"));
    g_assert_nonnull(strstr(error->message, "no_verify=1"));
    g_clear_error(&error);
    g_error_free(cause);
    cause = g_error_new_literal(G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE, "alert received");
    vd_remote_set_transport_error(&fake, cause, &error);
    g_assert_nonnull(strstr(error->message, "TLS handshake with sleet.example.org:16514 failed"));
    g_assert_nonnull(strstr(error->message, "clientcert.pem"));
    g_clear_error(&error);
    g_error_free(cause);
    cause = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "refused");
    vd_remote_set_transport_error(&fake, cause, &error);
    g_assert_nonnull(strstr(error->message, "Connection refused"));
    g_assert_nonnull(strstr(error->message, "--listen tls://"));
    g_clear_error(&error);
    g_error_free(cause);
    g_rmdir(pki);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    data_dir = g_getenv("VD_REMOTE_TEST_DATA");
    g_assert_nonnull(data_dir);
    g_test_add_func("/remote/uri/parse", test_parse_golden);
    g_test_add_func("/remote/uri/aliases", test_aliases);
    g_test_add_func("/remote/uri/alias-then-malformed", test_alias_then_malformed);
    g_test_add_func("/remote/uri/default", test_default);
    g_test_add_func("/remote/uri/config-path", test_config_path);
    g_test_add_func("/remote/tls/errors", test_tls_errors);
    return g_test_run();
}
