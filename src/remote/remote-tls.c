/* TLS credentials (remote-tls.h). */
#include "remote/remote-tls.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "util/vd-error.h"

char *
vd_tls_client_dir(const char *pkipath)
{
    if (pkipath && *pkipath)
        return g_strdup(pkipath);
    g_autofree char *user = g_build_filename(g_get_home_dir(), VD_TLS_USER_DIR, NULL);
    g_autofree char *user_ca = g_build_filename(user, "cacert.pem", NULL);
    if (g_file_test(user_ca, G_FILE_TEST_EXISTS))
        return g_steal_pointer(&user);
    return g_strdup(VD_TLS_DEFAULT_DIR);
}

/* A file of the layout must be there and readable: GLib's own errors
 * ("Could not import PEM data") do not say which file, nor why. The
 * callers add where the directory comes from (--tls-dir, ?pkipath=). */
static gboolean
check_readable(const char *path, const char *what, GError **error)
{
    if (g_access(path, R_OK) == 0)
        return TRUE;
    int saved = errno;
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read the %s '%s': %s", what, path,
                g_strerror(saved));
    return FALSE;
}

GTlsDatabase *
vd_tls_load_ca(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "cacert.pem", NULL);
    g_autoptr(GError) local = NULL;
    GTlsDatabase *db;

    if (!check_readable(path, "CA certificate", error))
        return NULL;
    if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "GIO has no TLS backend: install glib-networking (apt-get install "
                    "glib-networking)");
        return NULL;
    }
    db = g_tls_file_database_new(path, &local);
    if (!db) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "cannot load the CA certificate '%s': %s (give a PEM certificate: "
                    "docs/remote-tls.md)",
                    path, local->message);
        return NULL;
    }
    /* An empty or non-PEM file loads as an empty database: every peer
     * would then be refused with "unknown CA", far from the cause. */
    g_autoptr(GTlsCertificate) any = g_tls_certificate_new_from_file(path, &local);
    if (!any) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the CA certificate '%s' holds no certificate: %s (give a PEM certificate: "
                    "docs/remote-tls.md)",
                    path, local->message);
        g_object_unref(db);
        return NULL;
    }
    return db;
}

GTlsCertificate *
vd_tls_load_cert(const char *dir, gboolean server, GError **error)
{
    const char *who = server ? "server" : "client";
    g_autofree char *cert =
        g_build_filename(dir, server ? "servercert.pem" : "clientcert.pem", NULL);
    g_autofree char *key =
        g_build_filename(dir, "private", server ? "serverkey.pem" : "clientkey.pem", NULL);
    g_autofree char *cert_what = g_strdup_printf("%s certificate", who);
    g_autofree char *key_what = g_strdup_printf("%s private key", who);
    g_autoptr(GError) local = NULL;
    GTlsCertificate *c;

    if (!check_readable(cert, cert_what, error) || !check_readable(key, key_what, error))
        return NULL;
    c = g_tls_certificate_new_from_files(cert, key, &local);
    if (!c) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "cannot load the %s '%s' with its key '%s': %s (both PEM, the key "
                    "unencrypted: docs/remote-tls.md)",
                    cert_what, cert, key, local->message);
        return NULL;
    }
    return c;
}

char *
vd_tls_cert_dn(GTlsCertificate *cert)
{
    return cert ? g_tls_certificate_get_subject_name(cert) : NULL;
}

gboolean
vd_tls_dn_allowed(const char *dn, const char *const *allowed)
{
    if (!allowed || !allowed[0])
        return TRUE;
    if (!dn)
        return FALSE;
    for (guint i = 0; allowed[i]; i++)
        if (g_pattern_match_simple(allowed[i], dn))
            return TRUE;
    return FALSE;
}

char *
vd_tls_cert_flags_to_string(GTlsCertificateFlags flags)
{
    static const struct {
        GTlsCertificateFlags flag;
        const char *text;
    } words[] = {
        {G_TLS_CERTIFICATE_UNKNOWN_CA, "not signed by the trusted CA"},
        {G_TLS_CERTIFICATE_BAD_IDENTITY, "issued for another name"},
        {G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet"},
        {G_TLS_CERTIFICATE_EXPIRED, "expired"},
        {G_TLS_CERTIFICATE_REVOKED, "revoked"},
        {G_TLS_CERTIFICATE_INSECURE, "insecure algorithm"},
        {G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid"},
    };
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(words); i++) {
        if (!(flags & words[i].flag))
            continue;
        if (s->len)
            g_string_append(s, ", ");
        g_string_append(s, words[i].text);
    }
    if (!s->len)
        g_string_append(s, "invalid");
    return g_string_free(s, FALSE);
}
