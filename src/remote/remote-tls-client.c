/* The TLS client of a tls:// connection (remote.h): https to HOST:PORT,
 * the server checked against DIR/cacert.pem, DIR/clientcert.pem presented
 * when the server asks (remote-tls.h loads both).
 *
 * The client certificate is given through a GTlsInteraction on the
 * session rather than per message: every connection the session makes
 * gets it, whatever made the message (JSON calls, the console's
 * WebSocket, streamed volume uploads, a daemon's migration calls). The
 * server's certificate is seen by each message's accept-certificate
 * signal, hooked for every message through the session's request-queued
 * signal: it keeps the reason of a refusal for the error, and accepts a
 * name mismatch alone when the URI says no_verify=1. */
#include <string.h>

#include "remote/remote-priv.h"
#include "remote/remote-tls.h"
#include "util/vd-error.h"

#define VD_TYPE_CLIENT_CERT_INTERACTION (vd_client_cert_interaction_get_type())
G_DECLARE_FINAL_TYPE(VdClientCertInteraction, vd_client_cert_interaction, VD,
                     CLIENT_CERT_INTERACTION, GTlsInteraction)

struct _VdClientCertInteraction {
    GTlsInteraction parent;
    GTlsCertificate *cert;
};

G_DEFINE_TYPE(VdClientCertInteraction, vd_client_cert_interaction, G_TYPE_TLS_INTERACTION)

static GTlsInteractionResult
request_certificate(GTlsInteraction *interaction, GTlsConnection *connection,
                    GTlsCertificateRequestFlags flags, GCancellable *cancellable, GError **error)
{
    VdClientCertInteraction *self = VD_CLIENT_CERT_INTERACTION(interaction);

    g_tls_connection_set_certificate(connection, self->cert);
    return G_TLS_INTERACTION_HANDLED;
}

static void
interaction_finalize(GObject *object)
{
    g_clear_object(&VD_CLIENT_CERT_INTERACTION(object)->cert);
    G_OBJECT_CLASS(vd_client_cert_interaction_parent_class)->finalize(object);
}

static void
vd_client_cert_interaction_class_init(VdClientCertInteractionClass *klass)
{
    G_TLS_INTERACTION_CLASS(klass)->request_certificate = request_certificate;
    G_OBJECT_CLASS(klass)->finalize = interaction_finalize;
}

static void
vd_client_cert_interaction_init(VdClientCertInteraction *self)
{
}

static gboolean
on_accept_certificate(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                      gpointer data)
{
    VdRemote *r = data;

    r->tls_errors = errors;
    return r->uri->no_verify && errors == G_TLS_CERTIFICATE_BAD_IDENTITY;
}

static void
on_request_queued(SoupSession *session, SoupMessage *msg, gpointer data)
{
    g_signal_connect(msg, "accept-certificate", G_CALLBACK(on_accept_certificate), data);
}

static void
on_request_unqueued(SoupSession *session, SoupMessage *msg, gpointer data)
{
    VdRemote *r = data;

    if (soup_message_get_status(msg) != 0)
        r->tls_answered = TRUE;
    g_signal_handlers_disconnect_by_func(msg, on_accept_certificate, data);
}

gboolean
vd_remote_tls_setup(VdRemote *r, const char *pki_dir, GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean v6 = strchr(r->uri->host, ':') != NULL;
    VdClientCertInteraction *interaction;

    r->pki_dir = r->uri->pkipath ? g_strdup(r->uri->pkipath)
                 : pki_dir       ? g_strdup(pki_dir)
                                 : vd_tls_client_dir(NULL);
    if (!(r->tls_ca = vd_tls_load_ca(r->pki_dir, &local)) ||
        !(r->tls_cert = vd_tls_load_cert(r->pki_dir, FALSE, &local))) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "cannot use the TLS credentials in '%s' for %s: %s (docs/remote-tls.md "
                    "says how to make them; or name another directory with ?pkipath=)",
                    r->pki_dir, r->uri->uri, local->message);
        return FALSE;
    }
    interaction = g_object_new(VD_TYPE_CLIENT_CERT_INTERACTION, NULL);
    interaction->cert = g_object_ref(r->tls_cert);
    r->tls_interaction = G_TLS_INTERACTION(interaction);
    r->session = soup_session_new_with_options("tls-database", r->tls_ca, "tls-interaction",
                                               r->tls_interaction, "user-agent",
                                               "virtd-client/" VD_VERSION, "timeout", 0,
                                               "max-conns-per-host", VD_REMOTE_MAX_CONNS_PER_HOST,
                                               NULL);
    g_signal_connect(r->session, "request-queued", G_CALLBACK(on_request_queued), r);
    g_signal_connect(r->session, "request-unqueued", G_CALLBACK(on_request_unqueued), r);
    r->base_url =
        g_strdup_printf(v6 ? "https://[%s]:%u" : "https://%s:%u", r->uri->host, r->uri->port);
    return TRUE;
}

static const char *
certificate_problem(GTlsCertificateFlags flags)
{
    if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
        return "is not signed by the CA we trust (put the CA that signed the server's "
               "certificate in cacert.pem, or name another directory with ?pkipath=)";
    if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
        return "is not for this host name (connect with a name its certificate holds, or add "
               "?no_verify=1 to skip the name check; the CA is still checked)";
    if (flags & (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_NOT_ACTIVATED))
        return "has expired or is not valid yet (check both clocks; make a new certificate with "
               "the CA)";
    if (flags & G_TLS_CERTIFICATE_REVOKED)
        return "has been revoked (its CA says so)";
    return "was refused";
}

gboolean
vd_remote_tls_explain(const VdRemote *r, const GError *cause, GError **error)
{
    g_autofree char *where = g_strdup_printf(strchr(r->uri->host, ':') ? "[%s]:%u" : "%s:%u",
                                             r->uri->host, r->uri->port);

    if (!cause)
        return FALSE;
    if (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "unable to connect to server at '%s': Connection refused (is virtd "
                    "listening there with --listen tls://ADDR:%u?)",
                    where, r->uri->port);
        return TRUE;
    }
    /* virtd refuses a client certificate (another CA, expired, a DN not
     * allowed) by closing the connection: with TLS 1.3 the client has
     * finished its handshake by then and sees the end of the stream (or a
     * reset) where the answer should be. Once a request has had an
     * answer, a closed connection is only that. */
    if (cause->domain == G_IO_ERROR && !r->tls_answered &&
        (g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
         g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         strstr(cause->message, "reset by peer"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "the server at %s closed the TLS connection without answering: it refused "
                    "the client certificate %s/clientcert.pem (not signed by the CA it trusts, "
                    "expired, or its DN is not in the server's --tls-allowed-dn; the server's "
                    "log says which; docs/remote-tls.md)",
                    where, r->pki_dir);
        return TRUE;
    }
    if (cause->domain != G_TLS_ERROR)
        return FALSE;
    if (g_error_matches(cause, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "TLS: the certificate of the server at %s %s; CA: %s/cacert.pem", where,
                    certificate_problem(r->tls_errors), r->pki_dir);
        return TRUE;
    }
    if (g_error_matches(cause, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)) {
        /* GnuTLS also says this of a fatal alert right after the
         * handshake: the server refusing our certificate (TLS 1.3). */
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "TLS: no TLS session with the server at %s (%s): it does not speak TLS (is "
                    "it virtd --listen tls://?), or it refused the client certificate "
                    "%s/clientcert.pem (it must be signed by a CA the server trusts)",
                    where, cause->message, r->pki_dir);
        return TRUE;
    }
    /* The server checks our certificate after the handshake has started
     * (TLS 1.3: after it has ended, in an alert): a refusal shows up as a
     * failed handshake or a fatal alert. */
    g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                "TLS handshake with %s failed: %s (the server may have refused the client "
                "certificate %s/clientcert.pem: it must be signed by a CA the server trusts)",
                where, cause->message, r->pki_dir);
    return TRUE;
}
