/* Telling systemd how the daemon is doing (virtd.service is Type=notify):
 * the documented NOTIFY_SOCKET protocol (sd_notify(3)), one datagram of
 * "KEY=VALUE" lines to the socket systemd names in $NOTIFY_SOCKET. Written
 * here rather than linked from libsystemd: it is a dozen lines, and the
 * daemon then runs and builds the same without systemd. */
#pragma once

#include <glib.h>

/* Sends @state ("READY=1", "STOPPING=1", "STATUS=..." lines). Without
 * $NOTIFY_SOCKET (not started by systemd) does nothing and returns TRUE.
 * The first call takes the variable out of the environment, so that the
 * QEMUs and helpers started after it do not inherit it. */
gboolean vd_sd_notify(const char *state, GError **error);
