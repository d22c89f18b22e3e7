/* Running vsh commands: the control structure, the parse-then-run loop
 * over a command line, error reporting and the output helpers.
 *
 * Like virsh's vshCommandRun, every command is followed by a blank line on
 * stdout (suppressed by -q), which is why virsh's tables "end with an
 * empty line"; errors go to stderr as "error: MESSAGE" and decide the exit
 * status through vd-error.c's table.
 */
#include <stdarg.h>
#include <stdio.h>

#include "remote/remote-uri.h"
#include "util/vd-error.h"
#include "vsh-args.h"
#include "vsh-client.h"
#include "vsh.h"

VshCtl *
vsh_ctl_new(const char *uri)
{
    VshCtl *ctl = g_new0(VshCtl, 1);

    ctl->uri = g_strdup(uri);
    return ctl;
}

void
vsh_ctl_free(VshCtl *ctl)
{
    if (!ctl)
        return;
    vsh_client_free(ctl->client);
    g_free(ctl->uri);
    g_free(ctl);
}

VshClient *
vsh_ctl_client(VshCtl *ctl, GError **error)
{
    g_autofree char *resolved = NULL;

    if (!ctl->client && (resolved = vd_remote_uri_resolve(ctl->uri, NULL, error)))
        ctl->client = vsh_client_new(resolved, error);
    return ctl->client;
}

void
vsh_ctl_set_uri(VshCtl *ctl, const char *uri)
{
    g_clear_pointer(&ctl->client, vsh_client_free);
    g_free(ctl->uri);
    ctl->uri = g_strdup(uri);
}

void
vsh_print(VshCtl *ctl, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void
vsh_print_extra(VshCtl *ctl, const char *fmt, ...)
{
    va_list ap;

    if (ctl && ctl->quiet)
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void
vsh_warn(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

int
vsh_report_error(const GError *error)
{
    /* stdout and stderr may be the same file (2>&1); keep the order. */
    fflush(stdout);
    if (error->domain == VD_ERROR && error->code == VD_ERROR_CONNECT)
        fputs("error: failed to connect to the hypervisor\n", stderr);
    fprintf(stderr, "error: %s\n", error->message);
    fflush(stderr);
    if (error->domain != VD_ERROR)
        return 1;
    return vd_error_code_exit_status((VdErrorCode)error->code);
}

int
vsh_run_cmd(VshCtl *ctl, const VshCmd *cmd)
{
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    int status = 0;
    gboolean is_quit;

    if (!cmd->def->handler(ctl, cmd, &error))
        status = error ? vsh_report_error(error) : 1;

    is_quit = g_str_equal(cmd->def->name, "quit") || g_str_equal(cmd->def->name, "exit");
    if (!is_quit) {
        if (ctl->timing)
            vsh_print(ctl, "\n(Time: %.3f ms)\n\n",
                      (double)(g_get_monotonic_time() - start) / 1000.0);
        else
            vsh_print_extra(ctl, "\n");
    }
    fflush(stdout);
    return status;
}

int
vsh_run_line(VshCtl *ctl, const char *line)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) words = vsh_line_split(line, &error);
    g_autoptr(GPtrArray) cmds = NULL;
    int status = 0;

    if (!words)
        return vsh_report_error(error);

    /* Parse everything first, as virsh does: a typo in the third command
     * must not leave the first two done. */
    cmds = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_cmd_free);
    for (guint i = 0; i < words->len; i++) {
        VshCmd *cmd = vsh_cmd_parse(g_ptr_array_index(words, i), &error);

        if (!cmd)
            return vsh_report_error(error);
        g_ptr_array_add(cmds, cmd);
    }
    for (guint i = 0; i < cmds->len && !ctl->quit; i++)
        status = vsh_run_cmd(ctl, g_ptr_array_index(cmds, i));
    return status;
}

int
vsh_run_argv(VshCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    g_autoptr(VshCmd) cmd = NULL;

    for (int i = 0; i < argc; i++)
        g_ptr_array_add(words, argv[i]);
    g_ptr_array_add(words, NULL);
    cmd = vsh_cmd_parse((const char *const *)words->pdata, &error);
    if (!cmd)
        return vsh_report_error(error);
    return vsh_run_cmd(ctl, cmd);
}
