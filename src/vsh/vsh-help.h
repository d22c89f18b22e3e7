/* Help texts, rendered from the command table in virsh's layout. */
#pragma once

#include "vsh.h"

/* "Grouped commands:" and every group's listing (vsh help). */
void vsh_help_render_all(GString *out);
/* " NAME (help keyword 'KEY'):" and its commands (vsh help GROUP). */
void vsh_help_render_group(GString *out, const VshGroup *group);
/* NAME / SYNOPSIS / DESCRIPTION / OPTIONS of one command (vsh help CMD). */
void vsh_help_render_command(GString *out, const VshCmdDef *def);
/* vsh --help. */
void vsh_help_render_usage(GString *out, const char *progname);
/* One option as SYNOPSIS shows it ("[--all]", "<domain>", "--file <string>")
 * and as the OPTIONS column does ("[--domain] <string>"): also vsh(1)'s. */
char *vsh_help_synopsis_word(const VshOptDef *opt);
char *vsh_help_options_word(const VshOptDef *opt);
