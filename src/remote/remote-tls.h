/* TLS credentials: where they are and how they are loaded, for both ends
 * (libvirt's PKI layout, docs/remote-tls.md):
 *
 *   DIR/cacert.pem               the CA both ends trust
 *   DIR/servercert.pem           the daemon's certificate (virtd --listen tls://)
 *   DIR/private/serverkey.pem
 *   DIR/clientcert.pem           a client's certificate (vsh; a daemon
 *   DIR/private/clientkey.pem    migrating to another daemon)
 *
 * DIR: the daemon's --tls-dir (default /etc/pki/virtd); for vsh the URI's
 * ?pkipath=, else ~/.pki/virtd if it has a cacert.pem, else /etc/pki/virtd. */
#pragma once

#include <gio/gio.h>

#define VD_TLS_DEFAULT_DIR "/etc/pki/virtd"
/* A user's own credentials, used when this directory has a cacert.pem
 * (libvirt: ~/.pki/libvirt). Relative to the home directory. */
#define VD_TLS_USER_DIR ".pki/virtd"
/* The port of tls:// URIs and of --listen tls://ADDR (libvirt's 16514). */
#define VD_TLS_DEFAULT_PORT 16514

/* The directory a client uses: @pkipath if given, else the defaults. */
char *vd_tls_client_dir(const char *pkipath);
/* The CA of @dir as a GTlsDatabase; an error names the file and how to
 * make it. */
GTlsDatabase *vd_tls_load_ca(const char *dir, GError **error);
/* @dir's client (@server FALSE) or server certificate with its key. */
GTlsCertificate *vd_tls_load_cert(const char *dir, gboolean server, GError **error);

/* The subject DN of @cert as GnuTLS writes it ("C=XX,O=org,CN=name"), or
 * NULL if it has none. */
char *vd_tls_cert_dn(GTlsCertificate *cert);
/* libvirt's tls_allowed_dn_list: @dn is allowed if it matches one of the
 * glob patterns @allowed ('*' and '?', the whole DN); NULL or an empty
 * list allows any DN. */
gboolean vd_tls_dn_allowed(const char *dn, const char *const *allowed);
/* What is wrong with a peer certificate, in words: "not signed by a
 * trusted CA, expired". */
char *vd_tls_cert_flags_to_string(GTlsCertificateFlags flags);
