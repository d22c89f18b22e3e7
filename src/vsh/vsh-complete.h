/* Completion of vsh command lines from the command table: command names,
 * option names and option values (domain, pool and network names through a callback). Used
 * by the readline shell and by the "complete" command. */
#pragma once

#include "vsh.h"

/* Returns the names of @kind (VSH_COMPLETE_DOMAIN, _POOL or _NETWORK)
 * to offer (a GPtrArray of char*, owned by the caller), or NULL when they
 * cannot be had. */
typedef GPtrArray *(*VshNameLister)(VshCompleter kind, gpointer user_data);

/* Candidates (full words) for the word being typed at the end of @line,
 * sorted. @want_files is set when the word is a file name, which the
 * caller completes itself (readline does). */
GPtrArray *vsh_complete_line(const char *line, VshNameLister lister, gpointer user_data,
                             gboolean *want_files);
