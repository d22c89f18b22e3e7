/* The daemon's option table written out as documentation (issue 15):
 * virtd(8) and the commented example /etc/virtd/virtd.conf, made at build
 * time by `virtd --dump-man` and `virtd --dump-config` (config-file.h), so
 * neither can miss an option the daemon has. */
#pragma once

#include <glib.h>

/* The man page virtd(8), roff. Hidden options are left out. */
void vd_options_doc_man(GString *out, const GOptionEntry *entries);
/* The example configuration file: every option the file may hold, with
 * its help, commented out, under [daemon]. */
void vd_options_doc_config(GString *out, const GOptionEntry *entries);
