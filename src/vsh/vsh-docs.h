/* vsh(1) and vsh's bash completion, written from the command table that
 * `vsh help` and the parser read (issue 15): a command added to a group
 * file is in both at the next build. vsh-gen-docs prints them at build
 * time; tests/vsh/test-vsh-docs.c checks every command is in each. */
#pragma once

#include "vsh.h"

/* The man page vsh(1), roff. */
void vsh_docs_render_man(GString *out);
/* The bash completion script for vsh: command and option names from the
 * table; the names of domains, pools and networks asked from the daemon
 * through `vsh complete`, as the interactive shell completes them. */
void vsh_docs_render_bash(GString *out);
