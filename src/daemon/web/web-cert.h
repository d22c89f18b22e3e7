/* The web listener's certificate (virtd --web): the one given with
 * --web-cert/--web-key, or a self-signed one made on the first start in
 * STATE_DIR/web/ (cert.pem, key.pem, both 0600; by GnuTLS's certtool) and kept: a browser that
 * accepted it once keeps accepting it. Made again only when a file is
 * missing or cannot be loaded (the old ones are renamed *.bad). */
#pragma once

#include <gio/gio.h>

/* @hosts: names and IP addresses the certificate is made for (its
 * subjectAltName; "localhost" and the host name are always in it).
 * Returns the certificate and its key as one PEM text (for
 * vd_api_tls_new_server; wipe it before freeing), checked by loading it in
 * a child process, so that the daemon itself loads GnuTLS only when a
 * client connects. @fingerprint: "AB:CD:..." (SHA-256 of the DER), for the
 * log and for users to compare with what their browser shows. Blocking:
 * at start. */
char *vd_web_cert_load(const char *cert_file, const char *key_file, const char *dir,
                       const char *const *hosts, char **fingerprint, GError **error);
/* The SHA-256 fingerprint of @cert, "AB:CD:...". */
char *vd_web_cert_fingerprint(GTlsCertificate *cert);
/* `virtd --check-web-cert` (main.c): the child's side of the check. */
int vd_web_cert_check_main(void);
