/* A domain's console log, kept bounded (what virtlogd does for libvirt).
 *
 * QEMU appends everything the guest prints on its first serial port to
 * LOG (logfile=...,logappend=on, so every write is O_APPEND). A guest
 * printing without end would fill the host's disk, so the console relay,
 * which reads the same output, has the log's size checked every
 * VD_CONSOLE_LOG_CHECK_EVERY bytes it receives, and once it is past the
 * maximum the log is rotated, copy-then-truncate as logrotate's
 * copytruncate: LOG.1 becomes LOG.2 (the older LOG.2 goes), the last
 * maximum bytes of LOG are copied to LOG.1, and LOG is truncated in
 * place. QEMU keeps its descriptor; its next append lands at the new
 * end. What it writes between the end of the copy and the truncation (a
 * few microseconds) is lost.
 */
#pragma once

#include <gio/gio.h>

/* virtlogd's default (max_size). */
#define VD_CONSOLE_LOG_MAX_DEFAULT (2 * 1024 * 1024)
/* The smallest maximum accepted: a rotation per check would be absurd. */
#define VD_CONSOLE_LOG_MAX_MIN (64 * 1024)
#define VD_CONSOLE_LOG_CHECK_EVERY (64 * 1024)

/* Rotates @path as above if it is larger than @max bytes; nothing to do
 * (or no log yet) is success. Blocking: for a worker thread. */
gboolean vd_console_log_rotate(const char *path, goffset max, GError **error);

/* The last @n bytes written to the log at @path, continued from the
 * previous generation when the log was rotated a moment ago. Never NULL. */
GBytes *vd_console_log_tail(const char *path, gsize n);
