/* The web listener's certificate (web-cert.h). */
#include "daemon/web/web-cert.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-file.h"

/* Long enough that nobody meets its end; it is never checked against a CA
 * (the user accepts it, or gives --web-cert). */
#define SELF_SIGNED_DAYS 3650
/* Far more than a certificate chain and its key take. */
#define CHECK_MAX_PEM (1024 * 1024)

char *
vd_web_cert_fingerprint(GTlsCertificate *cert)
{
    g_autoptr(GByteArray) der = NULL;
    g_object_get(cert, "certificate", &der, NULL);
    if (!der)
        return g_strdup("unknown");
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, der->data, der->len);
    guint8 digest[32];
    gsize len = sizeof digest;
    g_checksum_get_digest(sum, digest, &len);
    GString *s = g_string_new(NULL);
    for (gsize i = 0; i < len; i++)
        g_string_append_printf(s, "%s%02X", i ? ":" : "", digest[i]);
    return g_string_free(s, FALSE);
}

/* A name certtool's template may hold as it is. */
static gboolean
template_safe(const char *s)
{
    if (!s || !*s || strlen(s) > 253)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != ':' && *p != '_')
            return FALSE;
    return TRUE;
}

static gboolean
run_certtool(const char *const *argv, GError **error)
{
    g_autofree char *err = NULL;
    gint status = 0;
    g_autoptr(GError) local = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, &err, &status, &local) ||
        !g_spawn_check_wait_status(status, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot make the web listener's self-signed certificate with certtool: %s%s%s "
                    "(install gnutls-bin, or give --web-cert and --web-key)",
                    local->message, err && *err ? ": " : "", err ? g_strstrip(err) : "");
        return FALSE;
    }
    return TRUE;
}

/* An ECDSA P-256 key (fast to make and to use) and a certificate for it,
 * signed by itself, as PEM, made by GnuTLS's certtool (gnutls-bin): the
 * daemon does not link GnuTLS itself, which would cost every daemon, web
 * or not, ~2 MiB of resident memory. Runs once, at start. */
static gboolean
make_self_signed(const char *dir, const char *const *hosts, char **cert_pem, char **key_pem,
                 GError **error)
{
    g_autofree char *tmp = g_build_filename(dir, ".new-XXXXXX", NULL);
    if (!g_mkdtemp_full(tmp, 0700)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create a directory in '%s': %s",
                    dir, g_strerror(errno));
        return FALSE;
    }
    g_autofree char *tmpl = g_build_filename(tmp, "template", NULL);
    g_autofree char *key = g_build_filename(tmp, "key.pem", NULL);
    g_autofree char *cert = g_build_filename(tmp, "cert.pem", NULL);
    const char *host = g_get_host_name();
    GString *t = g_string_new("organization = \"virtd self-signed\"\n");
    g_string_append_printf(t, "cn = \"%s\"\n", template_safe(host) ? host : "localhost");
    g_string_append(t, "dns_name = \"localhost\"\n");
    if (template_safe(host) && !g_str_equal(host, "localhost"))
        g_string_append_printf(t, "dns_name = \"%s\"\n", host);
    for (guint i = 0; hosts && hosts[i]; i++) {
        g_autoptr(GInetAddress) ip = g_inet_address_new_from_string(hosts[i]);
        if (ip && !g_inet_address_get_is_any(ip) && template_safe(hosts[i]))
            g_string_append_printf(t, "ip_address = \"%s\"\n", hosts[i]);
    }
    g_string_append_printf(t, "expiration_days = %d\ntls_www_server\nsigning_key\n",
                           SELF_SIGNED_DAYS);
    const char *gen_key[] = {"certtool",
                             "--generate-privkey",
                             "--key-type=ecdsa",
                             "--curve=secp256r1",
                             "--no-text",
                             "--outfile",
                             key,
                             NULL};
    const char *gen_cert[] = {"certtool",
                              "--generate-self-signed",
                              "--load-privkey",
                              key,
                              "--template",
                              tmpl,
                              "--no-text",
                              "--outfile",
                              cert,
                              NULL};
    g_autoptr(GError) local = NULL;
    gboolean ok = g_file_set_contents_full(tmpl, t->str, (gssize)t->len, G_FILE_SET_CONTENTS_NONE,
                                           0600, &local);
    g_string_free(t, TRUE);
    if (!ok)
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot write '%s': %s", tmpl,
                    local->message);
    ok = ok && run_certtool(gen_key, error) && run_certtool(gen_cert, error);
    if (ok && (!g_file_get_contents(cert, cert_pem, NULL, &local) ||
               !g_file_get_contents(key, key_pem, NULL, &local))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot read what certtool made: %s",
                    local->message);
        g_clear_pointer(cert_pem, g_free);
        ok = FALSE;
    }
    g_unlink(tmpl);
    g_unlink(key);
    g_unlink(cert);
    g_rmdir(tmp);
    return ok;
}

static void
set_aside(const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return;
    g_autofree char *bad = g_strconcat(path, ".bad", NULL);
    if (g_rename(path, bad) == 0)
        g_warning("web: set aside '%s' as '%s'", path, bad);
}

/* The hidden mode `virtd --check-web-cert` (main.c): loads the PEM on
 * stdin (certificate, then key) as the web listener will, prints the
 * certificate's fingerprint, and exits 0; else says why on stderr, exits 1.
 * In a child process because loading it brings the TLS backend (GnuTLS,
 * p11-kit, nettle, gmp: ~3 MiB resident) into the process for good; the
 * daemon loads it itself only at the web listener's first connection. */
int
vd_web_cert_check_main(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) pem = g_string_new(NULL);
    char buf[4096];
    gsize n;

    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0 && pem->len < CHECK_MAX_PEM)
        g_string_append_len(pem, buf, (gssize)n);
    if (pem->len >= CHECK_MAX_PEM) {
        fprintf(stderr, "more than %d bytes of PEM\n", CHECK_MAX_PEM);
        return 1;
    }
    g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_pem(pem->str, -1, &error);
    explicit_bzero(pem->str, pem->len);
    if (!cert) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    g_autoptr(GByteArray) key = NULL;
    g_object_get(cert, "private-key", &key, NULL);
    if (!key) {
        fprintf(stderr, "no private key\n");
        return 1;
    }
    explicit_bzero(key->data, key->len);
    g_autofree char *fingerprint = vd_web_cert_fingerprint(cert);
    printf("%s\n", fingerprint);
    return 0;
}

/* Reads @cert_file and @key_file into one PEM text and checks it in a
 * child process (vd_web_cert_check_main); NULL and @error as loading
 * them would fail. */
static char *
read_checked(const char *cert_file, const char *key_file, char **fingerprint, GError **error)
{
    g_autofree char *cpem = NULL;
    g_autofree char *kpem = NULL;
    gsize klen = 0;
    if (!g_file_get_contents(cert_file, &cpem, NULL, error) ||
        !g_file_get_contents(key_file, &kpem, &klen, error))
        return NULL;
    char *pem = g_strconcat(cpem, "\n", kpem, NULL);
    explicit_bzero(kpem, klen);

    g_autoptr(GSubprocess) child =
        g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             G_SUBPROCESS_FLAGS_STDERR_PIPE,
                         error, "/proc/self/exe", "--check-web-cert", NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    if (!child || !g_subprocess_communicate_utf8(child, pem, NULL, &out, &err, error)) {
        explicit_bzero(pem, strlen(pem));
        g_free(pem);
        return NULL;
    }
    if (!g_subprocess_get_if_exited(child) || g_subprocess_get_exit_status(child) != 0 || !out) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s",
                    err && *g_strstrip(err) ? err : "the check of the certificate failed");
        explicit_bzero(pem, strlen(pem));
        g_free(pem);
        return NULL;
    }
    *fingerprint = g_strdup(g_strstrip(out));
    return pem;
}

char *
vd_web_cert_load(const char *cert_file, const char *key_file, const char *dir,
                 const char *const *hosts, char **fingerprint, GError **error)
{
    g_autoptr(GError) local = NULL;
    char *pem = NULL;

    if (cert_file) {
        pem = read_checked(cert_file, key_file, fingerprint, &local);
        if (!pem) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "cannot load the web certificate '%s' with key '%s': %s (PEM files, the "
                        "key unencrypted and readable by the daemon)",
                        cert_file, key_file, local->message);
            return NULL;
        }
        return pem;
    }
    g_autofree char *cpath = g_build_filename(dir, "cert.pem", NULL);
    g_autofree char *kpath = g_build_filename(dir, "key.pem", NULL);
    if (g_file_test(cpath, G_FILE_TEST_EXISTS) || g_file_test(kpath, G_FILE_TEST_EXISTS)) {
        pem = read_checked(cpath, kpath, fingerprint, &local);
        if (pem)
            return pem;
        g_warning("web: cannot load the self-signed certificate '%s' (key '%s'): %s; making a new "
                  "one (browsers will ask to accept it again)",
                  cpath, kpath, local->message);
        g_clear_error(&local);
        set_aside(cpath);
        set_aside(kpath);
    }
    g_autofree char *cpem = NULL;
    g_autofree char *kpem = NULL;
    if (!vd_dir_ensure(dir, 0700, error) || !make_self_signed(dir, hosts, &cpem, &kpem, error))
        return NULL;
    /* The key first: a cert.pem without its key would be "unreadable". */
    gboolean written = vd_file_write_atomic(kpath, kpem, -1, 0600, error) &&
                       vd_file_write_atomic(cpath, cpem, -1, 0600, error);
    explicit_bzero(kpem, strlen(kpem));
    if (!written)
        return NULL;
    pem = read_checked(cpath, kpath, fingerprint, &local);
    if (!pem) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "cannot load the self-signed certificate just made in '%s': %s", dir,
                    local->message);
        return NULL;
    }
    g_message("web: made a self-signed certificate '%s' (SHA-256 %s): check this fingerprint "
              "when the browser asks, or give --web-cert/--web-key",
              cpath, *fingerprint);
    return pem;
}
