/* Command lines: splitting a string into words with virsh's quoting, and
 * parsing words against a command's option table. Pure functions, no I/O,
 * so they are unit tested directly (tests/vsh/test-vsh-args.c). */
#pragma once

#include "vsh.h"

/* Splits @line into commands at unquoted ';' and newlines, and each command
 * into words: blanks separate words, '...' quotes literally, "..." quotes
 * with backslash escapes, a backslash outside quotes escapes the next
 * character, '#' at the start of a word comments out the rest of the line.
 * Returns an array of NULL-terminated word arrays (GStrv), empty commands
 * left out; NULL with a VD_ERROR_INVALID_ARG on an unterminated quote or a
 * dangling backslash. */
GPtrArray *vsh_line_split(const char *line, GError **error);

/* For completion: the complete words of the last command of @line, and in
 * @partial the word being typed at its end ("" after a blank). Unterminated
 * quotes are not an error here. */
GStrv vsh_line_split_last(const char *line, char **partial);

/* Parses @args (the words after the command name) against @def's options:
 * "--opt value", "--opt=value", "--flag", positionals in table order, "--"
 * ending option parsing, "--help" turning the command into "help NAME".
 * Fails with VD_ERROR_INVALID_ARG and virsh's messages ("command 'start'
 * doesn't support option --foo", "command 'start' requires <domain>
 * option", ...). */
VshCmd *vsh_cmd_parse_def(const VshCmdDef *def, const char *const *args, GError **error);

/* Looks up @words[0] in the command table ("unknown command: 'x'") and
 * parses the rest with vsh_cmd_parse_def. */
VshCmd *vsh_cmd_parse(const char *const *words, GError **error);

/* Index of option @name in @def's table, or -1. */
int vsh_opt_index(const VshCmdDef *def, const char *name);
