/* An asynchronous QMP client in the GLib main loop.
 *
 * Transport (framing, greeting, capabilities negotiation, matching replies
 * to commands by "id") lives here; what the commands mean lives in the
 * callers. Nothing here blocks: commands are queued and their replies
 * delivered to callbacks; events are delivered to the event handler.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

typedef struct _VdQmp VdQmp;

/* @event: "SHUTDOWN", "STOP" ...; @data may be NULL. */
typedef void (*VdQmpEventFunc)(VdQmp *qmp, const char *event, JsonObject *data,
                               gpointer user_data);
/* The connection is gone (QEMU exited or the socket broke). Called once,
 * and only after a successful @ready: a connection that fails before is
 * reported to @ready alone. Pending commands have been failed before this
 * is called. */
typedef void (*VdQmpClosedFunc)(VdQmp *qmp, gpointer user_data);
/* Ready: greeting read and qmp_capabilities accepted (error == NULL), or
 * failed (VD_ERROR_TIMEOUT when the socket did not accept or QEMU did not
 * complete the handshake within the timeout, VD_ERROR_OPERATION_FAILED
 * otherwise). Called once. */
typedef void (*VdQmpReadyFunc)(VdQmp *qmp, const GError *error, gpointer user_data);
/* @result is the "return" member (object, array ...) or NULL on error; a
 * QMP error becomes VD_ERROR_OPERATION_FAILED with QMP's "desc". If the
 * connection closes first, every pending callback gets an error. */
typedef void (*VdQmpReplyFunc)(VdQmp *qmp, JsonNode *result, const GError *error,
                               gpointer user_data);

/* Connects to the unix socket @path asynchronously (retrying for up to
 * @timeout_ms while the socket does not exist or refuses), reads the
 * greeting and negotiates capabilities; then @ready is called. */
VdQmp *vd_qmp_connect(const char *path, guint timeout_ms, VdQmpReadyFunc ready,
                      VdQmpEventFunc event, VdQmpClosedFunc closed, gpointer user_data);

/* Sends @command with @arguments (may be NULL; the reference is taken:
 * the client owns @arguments from here on, the caller must not unref it,
 * e.g. vd_qmp_command(qmp, "balloon", json_object_new() + members, ...)
 * or json_object_ref(obj) to keep one's own). Commands issued
 * before ready are sent once the handshake is done, in order. @reply is
 * never called from inside this function: on a closed connection it gets
 * its error from an idle callback. */
void vd_qmp_command(VdQmp *qmp, const char *command, JsonObject *arguments,
                    VdQmpReplyFunc reply, gpointer user_data);

/* The same, passing the open descriptor @fd along with the command
 * (SCM_RIGHTS), as QMP's "getfd" and "add-fd" expect. Takes @fd: it is
 * closed once sent, or when the command fails before. */
void vd_qmp_command_with_fd(VdQmp *qmp, const char *command, JsonObject *arguments, int fd,
                            VdQmpReplyFunc reply, gpointer user_data);

gboolean vd_qmp_is_connected(VdQmp *qmp);

/* Closes the connection without calling the closed callback, fails every
 * pending command (their callbacks run inside this call and must not use
 * @qmp afterwards), and frees @qmp. May be called from inside any of the
 * client's callbacks. NULL is fine. */
void vd_qmp_free(VdQmp *qmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdQmp, vd_qmp_free)
