/* The serial console relay shared by "console", "start --console" and
 * "create --console". */
#pragma once

#include "vsh.h"

/* Attaches stdin/stdout to the serial console of running domain @name over
 * the API's WebSocket until Ctrl+] (0x1d), SIGINT/SIGTERM/SIGHUP, or the
 * daemon closing the session (the domain stopped). @force takes the
 * console over from another session. A terminal on stdin is put in raw
 * mode and restored on every way out. */
/* @key: what the API looks the domain up by (its UUID, when known: a
 * name that looks like an id or a UUID would resolve to another domain);
 * NULL for @name. @name is what messages show. */
gboolean vsh_console_attach(VshCtl *ctl, const char *name, const char *key, gboolean force,
                            GError **error);
