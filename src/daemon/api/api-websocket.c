/* The WebSocket upgrades. See api-websocket.h. */
#include "daemon/api/api-websocket.h"

#include "daemon/api/api-internal.h"
#include "daemon/api/ws-guard.h"

typedef struct {
    VdDaemon *d;
    char *name;
    gboolean force;
    VdApiWsAttach attach;
} Upgrade;

static void
upgrade_free(gpointer data, GClosure *closure)
{
    Upgrade *u = data;
    g_free(u->name);
    g_free(u);
}

/* The 101 is written: the connection is ours now (as libsoup's own
 * complete_websocket_upgrade does it). */
static void
upgrade_written(SoupServerMessage *msg, gpointer data)
{
    Upgrade *u = data;
    g_object_ref(msg);
    g_autoptr(GIOStream) stream = soup_server_message_steal_connection(msg);
    g_autoptr(GIOStream) guarded = vd_ws_guard_new(stream);
    SoupMessageHeaders *req_headers = soup_server_message_get_request_headers(msg);
    const char *origin = soup_message_headers_get_one(req_headers, "Origin");
    /* The subprotocol the handshake chose (it is in the 101's headers). */
    const char *protocol = soup_message_headers_get_one(
        soup_server_message_get_response_headers(msg), "Sec-WebSocket-Protocol");
    g_autoptr(SoupWebsocketConnection) ws =
        soup_websocket_connection_new(guarded, soup_server_message_get_uri(msg),
                                      SOUP_WEBSOCKET_CONNECTION_SERVER, origin, protocol, NULL);
    u->attach(u->d, u->name, u->force, ws);
    g_object_unref(msg);
}

void
vd_api_websocket_upgrade_full(VdDaemon *d, SoupServerMessage *msg, const char *name, gboolean force,
                              const char *const *protocols, VdApiWsAttach attach)
{
    if (!soup_websocket_server_process_handshake(msg, NULL, (char **)protocols, NULL, NULL))
        return; /* libsoup set the error status */
    Upgrade *u = g_new0(Upgrade, 1);
    u->d = d;
    u->name = g_strdup(name);
    u->force = force;
    u->attach = attach;
    g_signal_connect_data(msg, "wrote-informational", G_CALLBACK(upgrade_written), u, upgrade_free,
                          0);
}

void
vd_api_websocket_upgrade(VdDaemon *d, SoupServerMessage *msg, const char *name, gboolean force)
{
    vd_api_websocket_upgrade_full(d, msg, name, force, NULL, vd_api_console_attach);
}

void
vd_api_websocket_refuse(VdApiRequest *req, const GError *error)
{
    /* a WebSocket client gets no body: the reason in a header too */
    g_autofree char *why = g_uri_escape_string(error->message, " ", FALSE);
    soup_message_headers_replace(soup_server_message_get_response_headers(req->msg),
                                 "X-Virtd-Error", why);
    vd_api_reply_error(req, error);
}
