/* The inside of a VdRemote, shared by remote.c and remote-tls-client.c.
 * Private to remote/. */
#pragma once

#include "remote/remote-ssh.h"
#include "remote/remote.h"

/* Connections a session may open to its daemon at once (libsoup's
 * default is 2; remote.c says why more). */
#define VD_REMOTE_MAX_CONNS_PER_HOST 8

struct _VdRemote {
    VdRemoteUri *uri;
    char *local_socket; /* UNIX, SSH */
    char *base_url;     /* "http://localhost" or "https://HOST:PORT" */
    SoupSession *session;
    VdSshTunnel *tunnel; /* SSH */
    /* TLS */
    char *pki_dir;
    GTlsDatabase *tls_ca;
    GTlsCertificate *tls_cert;
    GTlsInteraction *tls_interaction;
    GTlsCertificateFlags tls_errors; /* of the last server certificate refused */
    gboolean tls_answered;           /* some request got an HTTP answer */
};

/* Makes @remote's https session (CA, client certificate, no_verify). */
gboolean vd_remote_tls_setup(VdRemote *remote, const char *pki_dir, GError **error);
/* The TLS reason of @cause with its fix; FALSE if it is not about TLS. */
gboolean vd_remote_tls_explain(const VdRemote *remote, const GError *cause, GError **error);
