/* vsh's entry point: global options (virsh's -c/--connect, -q, -t, -h,
 * -v, -V, --version), then either the interactive shell (no command), one
 * command string (one argument: may hold several commands separated by
 * ';', quoted like virsh), or one command given as separate arguments.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vsh-help.h"
#include "vsh.h"

static void
print_usage(const char *progname)
{
    g_autoptr(GString) out = g_string_new(NULL);

    vsh_help_render_usage(out, progname);
    fputs(out->str, stdout);
}

/* The value of option @arg (e.g. "-c") at argv[*i]: "-cURI", "--connect=URI"
 * or the next argument. NULL when missing. */
static const char *
option_value(int argc, char **argv, int *i, const char *long_name)
{
    const char *arg = argv[*i];
    gsize n = strlen(long_name);

    if (g_str_has_prefix(arg, long_name) && arg[n] == '=')
        return arg + n + 1;
    if (arg[1] != '-' && arg[2] != '\0')
        return arg + 2;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *progname = "vsh";
    const char *uri = NULL;
    gboolean quiet = FALSE;
    gboolean timing = FALSE;
    g_autoptr(VshCtl) ctl = NULL;
    int i;

    /* Character classes only (readline's multibyte input); numbers and
     * messages stay in the C locale, as scripts parse them. */
    setlocale(LC_CTYPE, "");
    /* A reader that goes away (vsh list | head) is not an error. */
    signal(SIGPIPE, SIG_IGN);

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (arg[0] != '-' || g_str_equal(arg, "-"))
            break;
        if (g_str_equal(arg, "--")) {
            i++;
            break;
        }
        if (g_str_has_prefix(arg, "-c") || g_str_equal(arg, "--connect") ||
            g_str_has_prefix(arg, "--connect=")) {
            if (!(uri = option_value(argc, argv, &i, "--connect"))) {
                fprintf(stderr, "error: option '%s' requires an argument\n", arg);
                return 2;
            }
        } else if (g_str_equal(arg, "-q") || g_str_equal(arg, "--quiet")) {
            quiet = TRUE;
        } else if (g_str_equal(arg, "-t") || g_str_equal(arg, "--timing")) {
            timing = TRUE;
        } else if (g_str_equal(arg, "-h") || g_str_equal(arg, "--help")) {
            print_usage(progname);
            return 0;
        } else if (g_str_equal(arg, "-v") || g_str_equal(arg, "--version") ||
                   g_str_equal(arg, "--version=short")) {
            printf("%s\n", VD_VERSION);
            return 0;
        } else if (g_str_equal(arg, "-V") || g_str_equal(arg, "--version=long")) {
            printf("vsh, the command line of virtd %s\n", VD_VERSION);
            return 0;
        } else {
            fprintf(stderr, "error: unsupported option '%s'. See --help.\n", arg);
            return 2;
        }
    }

    /* NULL: $VSH_DEFAULT_URI, uri_default, the local daemon; aliases are
     * expanded when the connection is made (remote-uri.h). */
    ctl = vsh_ctl_new(uri);
    ctl->quiet = quiet;
    ctl->timing = timing;

    if (i == argc)
        return vsh_shell_run(ctl);
    if (argc - i == 1)
        return vsh_run_line(ctl, argv[i]);
    return vsh_run_argv(ctl, argc - i, argv + i);
}
