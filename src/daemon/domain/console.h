/* The serial console relay.
 *
 * QEMU serves the guest's first serial port on a UNIX socket in the run
 * directory. The daemon stays connected to it for the domain's whole life
 * (so output never stalls QEMU), and relays bytes to and from at most
 * one WebSocket client. A new session first gets the last 16 KiB the
 * guest printed, read from QEMU's log of the port: the API's console
 * session. The same path works for a remote client later, which a pty on
 * the host could not offer.
 *
 * Nothing here grows with what a guest prints or a client sends: the log
 * is rotated past @log_max (console-log.h), and a session that leaves
 * more than 1 MiB untaken either way is closed with the reason.
 */
#pragma once

#include <libsoup/soup.h>

typedef struct _VdConsole VdConsole;

/* Starts connecting to @socket_path (retrying while QEMU creates it).
 * @log_path: QEMU's log of the port, kept under @log_max bytes per
 * generation (0: VD_CONSOLE_LOG_MAX_DEFAULT). */
VdConsole *vd_console_new(const char *socket_path, const char *log_path, goffset log_max,
                          const char *domain_name);
/* Closes the client session (with a normal close frame) and the socket. */
void vd_console_free(VdConsole *console);

gboolean vd_console_has_session(VdConsole *console);
/* Attaches @ws as the session; the recent output is sent first. With
 * @force an existing session is closed; without it, fails with VD_ERROR_BUSY. */
gboolean vd_console_attach(VdConsole *console, SoupWebsocketConnection *ws, gboolean force,
                           GError **error);
