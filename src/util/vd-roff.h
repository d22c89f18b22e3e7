/* Writing man pages (roff, the man macros) from tables: virtd(8) from the
 * daemon's option table, vsh(1) from vsh's command table. */
#pragma once

#include <glib.h>

/* Appends @text with roff's special characters escaped: backslashes,
 * hyphens (\-, so that option names copy and search as ASCII), and a '.'
 * or '\'' at the start of a line, which roff would take for a request. */
void vd_roff_append(GString *out, const char *text);

/* ".TH NAME SECTION DATE SOURCE MANUAL" and the NAME section. */
void vd_roff_header(GString *out, const char *name, const char *section, const char *manual,
                    const char *summary);
