/* vsh's side of the virtd API (docs/api.md): HTTP/1.1 with JSON bodies,
 * through libsoup 3 and remote/ (a UNIX socket, an ssh tunnel or TLS). Every failure comes back as a VD_ERROR
 * GError whose code is the API's "code" field, so vsh exits with the status
 * of vd-error.c's table. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "remote/remote.h"

#include "vsh.h"

/* Socket path of a "unix:///abs/path/virtd.sock" URI. Other forms fail
 * with VD_ERROR_CONNECT. */
gboolean vsh_uri_socket_path(const char *uri, char **path, GError **error);

/* A client for @uri (already alias-expanded): for unix:// and tls://
 * nothing is connected until the first request; ssh:// sets up its tunnel
 * here (remote.h). */
VshClient *vsh_client_new(const char *uri, GError **error);
void vsh_client_free(VshClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VshClient, vsh_client_free)

const char *vsh_client_uri(const VshClient *client);
/* The local UNIX socket requests go through (the daemon's, or the ssh
 * tunnel's local end); NULL for tls://. */
const char *vsh_client_socket_path(const VshClient *client);
/* The session, whose connections go to the daemon (for WebSockets and
 * streams). */
SoupSession *vsh_client_session(const VshClient *client);
/* The connection under the client. */
VdRemote *vsh_client_remote(const VshClient *client);
/* The URL of @path ("/v1/..."): every request vsh makes goes there. */
char *vsh_client_url(const VshClient *client, const char *path);

/* The error for a request that never got an HTTP answer: when the socket
 * cannot be connected, virsh's "Failed to connect socket to 'PATH': ERRNO";
 * the transport's reason (ssh, TLS); otherwise @cause's message. Always
 * VD_ERROR_CONNECT (vd_remote_set_transport_error). */
void vsh_client_set_transport_error(const VshClient *client, const GError *cause, GError **error);

/* Sends @method @path (path and query, starting with "/v1"), with @body of
 * @content_type if not NULL. Returns the body of a 2xx answer; otherwise
 * NULL and the API's error. @content_type_out (may be NULL) gets the
 * answer's media type. */
GBytes *vsh_client_send(VshClient *client, const char *method, const char *path,
                        const char *content_type, GBytes *body, char **content_type_out,
                        GError **error);

/* The API's error in the error body @body of a non-2xx answer to @msg
 * (for callers that stream: vol-upload, vol-download). */
void vsh_client_set_api_error(SoupMessage *msg, GBytes *body, GError **error);

/* Like vsh_client_send, for answers that are a JSON object (anything else
 * is VD_ERROR_INTERNAL). */
JsonNode *vsh_client_send_for_json(VshClient *client, const char *method, const char *path,
                                   const char *content_type, GBytes *body, GError **error);

/* Like vsh_client_send, for answers that are a JSON object. @body (may be
 * NULL) is sent as application/json. */
JsonNode *vsh_client_call(VshClient *client, const char *method, const char *path, JsonNode *body,
                          GError **error);

/* "/v1/domains/DOM" + @suffix, @dom percent-encoded (a name, UUID or id as
 * the user typed it). @suffix may be NULL. */
char *vsh_domain_path(const char *dom, const char *suffix);

/* A JSON request on a domain's path (see vsh_domain_path); a "no-domain"
 * answer becomes virsh's "failed to get domain 'DOM'". */
JsonNode *vsh_domain_call(VshCtl *ctl, const char *method, const char *dom, const char *suffix,
                          JsonNode *body, GError **error);

/* A GET on a domain's path whose answer is not JSON (the domain XML);
 * errors as vsh_domain_call. */
GBytes *vsh_domain_get_bytes(VshCtl *ctl, const char *dom, const char *suffix, GError **error);

/* The domain summary in an answer: the "domain" member, or the answer
 * itself when it is a bare summary. NULL if there is none. */
JsonObject *vsh_json_domain(JsonNode *answer);

/* Typed reads of a summary that tolerate missing members. */
const char *vsh_json_string(JsonObject *obj, const char *member, const char *fallback);
gint64 vsh_json_int(JsonObject *obj, const char *member, gint64 fallback);
gboolean vsh_json_bool(JsonObject *obj, const char *member, gboolean fallback);
/* The object @answer holds, or NULL. */
JsonObject *vsh_json_root(JsonNode *answer);
/* The array member @member of @obj (may be NULL), or NULL. */
JsonArray *vsh_json_array(JsonObject *obj, const char *member);
/* Element @i of @array if it is an object, or NULL. */
JsonObject *vsh_json_array_object(JsonArray *array, guint i);

/* Prints each string of the answer's "warnings" array as "warning: ...". */
void vsh_print_warnings(JsonNode *answer);
