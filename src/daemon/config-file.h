/* The daemon's configuration file (issue 15): /etc/virtd/virtd.conf, a
 * GKeyFile with one [daemon] group whose keys are the daemon's long option
 * names:
 *
 *   [daemon]
 *   socket-group = virtd
 *   web = 127.0.0.1:9090;[::1]:9090     # a repeatable option: a list
 *   verbose = true                       # an option without a value
 *
 * It is read before the command line and turned into option arguments put
 * in front of the command line's, so the one GOptionContext parses both and
 * every option of the table works in the file without code of its own.
 * The command line wins: a later --foo replaces the file's foo, and a
 * repeatable option given on the command line replaces the file's list.
 *
 * Which file: --config FILE; else, for a --root DIR instance,
 * DIR/etc/virtd.conf; else VD_CONFIG_FILE_DEFAULT. Only a file named by
 * --config must exist. Unknown keys and groups, and values of the wrong
 * kind, are errors naming the file, line and key. */
#pragma once

#include <glib.h>

#ifndef VD_SYSCONF_DIR
#define VD_SYSCONF_DIR "/etc"
#endif
#define VD_CONFIG_FILE_DEFAULT VD_SYSCONF_DIR "/virtd/virtd.conf"

/* The option arguments ("--name=value", "--flag") the file @path holds for
 * the options of @entries, appended to @out. Arguments of a repeatable
 * option that @cmdline (a NULL-terminated argv, argv[0] included) also
 * gives are left out. */
gboolean vd_config_file_to_args(const char *path, const GOptionEntry *entries, char **cmdline,
                                GPtrArray *out, GError **error);

/* The file the daemon reads for the command line @argv: see above. NULL
 * when none would be read (no --config and the default does not exist).
 * @explicit_out: whether --config named it. */
char *vd_config_file_choose(char **argv, gboolean *explicit_out);

/* Whether option @e takes a value (else: true or false in the file), and
 * whether it may be given more than once (a list in the file). */
gboolean vd_config_option_takes_value(const GOptionEntry *e);
/* Whether option @e may be in the file: not hidden, and not one of the
 * command line's own (config, version, help). */
gboolean vd_config_option_in_file(const GOptionEntry *e);
gboolean vd_config_option_repeatable(const GOptionEntry *e);

/* What main() calls before parsing its options @entries: the hidden modes
 * `virtd --dump-man` (virtd(8)) and `virtd --dump-config` (the commented
 * example virtd.conf), run at build time; else *argc and *argv get the file's
 * arguments in front of the command line's. Returns -1 when main() goes on,
 * else the exit status (a dump done, or a bad file: the message printed). */
int vd_config_file_prepare(const GOptionEntry *entries, int *argc, char ***argv);
