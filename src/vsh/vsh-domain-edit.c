/* vsh edit: the persistent XML of a domain in $VISUAL/$EDITOR; the same
 * loop edits networks (net-edit, through vsh-edit.h).
 *
 * The loop is virsh's (tools/virsh-edit.c): fetch the inactive XML, edit a
 * temporary copy, do nothing if it is unchanged, check nobody else changed
 * the definition meanwhile, PUT it, and on failure offer to edit again.
 * Without a terminal on stdin there is nobody to ask, so a failure is
 * final (virsh does the same).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-edit.h"
#include "vsh-object.h"
#include "vsh.h"

/* Characters an editor command or file name may hold to be run without a
 * shell (virsh's ACCEPTED_CHARS). */
#define ACCEPTED_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_.:@"

static char *
get_inactive_xml(VshCtl *ctl, const char *dom, GError **error)
{
    g_autoptr(GBytes) xml = vsh_domain_get_bytes(ctl, dom, "/xml?inactive=1", error);

    return xml ? vsh_bytes_to_string(xml) : NULL;
}

static gboolean
write_all(int fd, const char *text)
{
    gsize len = strlen(text);

    while (len > 0) {
        ssize_t n = write(fd, text, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FALSE;
        text += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static gboolean
run_editor(const char *file, GError **error)
{
    const char *editor = g_getenv("VISUAL");
    g_autoptr(GError) local = NULL;
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    g_auto(GStrv) argv = NULL;
    int status = 0;

    if (!editor || !*editor)
        editor = g_getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";

    /* $EDITOR may carry arguments ("emacs -nw"): hand it to the shell,
     * but then the file name must be harmless there. */
    if (strspn(editor, ACCEPTED_CHARS) != strlen(editor)) {
        if (strspn(file, ACCEPTED_CHARS) != strlen(file)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s: temporary filename contains shell meta or other unacceptable "
                        "characters (is $TMPDIR wrong?)",
                        file);
            return FALSE;
        }
        g_autofree char *line = g_strdup_printf("%s %s", editor, file);
        g_strv_builder_add_many(builder, "sh", "-c", line, NULL);
    } else {
        g_strv_builder_add_many(builder, editor, file, NULL);
    }
    argv = g_strv_builder_end(builder);

    fflush(stdout);
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                      NULL, NULL, NULL, &status, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot run editor '%s': %s", editor,
                    local->message);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "Child process (%s %s) unexpected exit status %d", editor, file,
                    WIFEXITED(status) ? WEXITSTATUS(status) : status);
        return FALSE;
    }
    return TRUE;
}

/* Asks what to do after @msg failed; 'y', 'n' or 'f', or -1 when there is
 * no terminal to ask on. */
static int
ask_reedit(const char *msg, const GError *cause)
{
    struct termios saved;
    struct termios raw;
    int c;

    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
        return -1;
    if (cause)
        vsh_report_error(cause);
    raw = saved;
    cfmakeraw(&raw);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
        return -1;
    for (;;) {
        printf("\r%s Try again? [y,n,f,?]: ", msg);
        fflush(stdout);
        c = g_ascii_tolower(getchar());
        if (c == '?') {
            printf("\r\n"
                   "y - yes, start editor again\r\n"
                   "n - no, throw away my changes\r\n"
                   "f - force, try to redefine again\r\n"
                   "? - print this help\r\n");
            continue;
        }
        if (c == 'y' || c == 'n' || c == 'f' || c == EOF)
            break;
    }
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    printf("\r\n");
    fflush(stdout);
    return c == EOF ? 'n' : c;
}

/* PUTs @xml; returns the answer's domain name through @name. */
static gboolean
put_xml(VshCtl *ctl, const char *dom, const char *xml, char **name, GError **error)
{
    g_autofree char *path = vsh_domain_path(dom, "/xml");
    g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
    g_autoptr(GBytes) answer = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    VshClient *client = vsh_ctl_client(ctl, error);
    gsize len = 0;
    const char *data;

    if (!client)
        return FALSE;
    answer = vsh_client_send(client, "PUT", path, "application/xml", body, NULL, error);
    if (!answer)
        return FALSE;
    data = g_bytes_get_data(answer, &len);
    if (data && json_parser_load_from_data(parser, data, (gssize)len, NULL)) {
        JsonNode *root = json_parser_get_root(parser);

        vsh_print_warnings(root);
        *name = g_strdup(vsh_json_string(vsh_json_domain(root), "name", NULL));
    }
    return TRUE;
}

static void
report(VshCtl *ctl, const VshEditOps *ops, const char *name, gboolean changed)
{
    vsh_print_extra(
        ctl, ops->quote_name ? "%s '%s' XML configuration %s.\n" : "%s %s XML configuration %s.\n",
        ops->noun, name, changed ? "edited" : "not changed");
}

static gboolean
edit_loop(VshCtl *ctl, const VshEditOps *ops, const char *dom, const char *name, const char *tmp,
          char *orig, GError **error)
{
    g_autofree char *doc = orig;
    gboolean force = FALSE;

    for (;;) {
        g_autofree char *edited = NULL;
        g_autoptr(GError) local = NULL;

        if (!run_editor(tmp, error))
            return FALSE;
        if (!g_file_get_contents(tmp, &edited, NULL, &local)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "%s: failed to read temporary file: %s",
                        tmp, local->message);
            return FALSE;
        }
        if (g_str_equal(doc, edited)) {
            report(ctl, ops, name, FALSE);
            return TRUE;
        }

        for (;;) {
            g_autofree char *reread = NULL;
            g_autofree char *new_name = NULL;
            const char *msg;
            int c;

            g_clear_error(&local);
            if (!(reread = ops->get_xml(ctl, dom, error)))
                return FALSE;
            if (!force && !g_str_equal(doc, reread)) {
                msg = "The XML configuration was changed by another user.";
                g_free(doc);
                doc = g_steal_pointer(&reread);
            } else if (ops->put_xml(ctl, dom, edited, &new_name, &local)) {
                report(ctl, ops, new_name ? new_name : name, TRUE);
                return TRUE;
            } else {
                msg = "Failed.";
            }

            force = FALSE;
            c = ask_reedit(msg, local);
            if (c == 'y')
                break;
            if (c == 'f') {
                force = TRUE;
                continue;
            }
            if (c == 'n')
                return FALSE;
            /* Nobody to ask. */
            if (local)
                g_propagate_error(error, g_steal_pointer(&local));
            else
                g_set_error_literal(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, msg);
            return FALSE;
        }
    }
}

gboolean
vsh_edit_xml(VshCtl *ctl, const VshEditOps *ops, const char *obj, const char *name,
             GError **error)
{
    g_autofree char *tmp = NULL;
    g_autoptr(GError) local = NULL;
    char *orig;
    gboolean written;
    gboolean ok;
    int saved;
    int fd;

    if (!(orig = ops->get_xml(ctl, obj, error)))
        return FALSE;

    fd = g_file_open_tmp("vshXXXXXX.xml", &tmp, &local);
    if (fd < 0) {
        g_free(orig);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create temporary file: %s",
                    local->message);
        return FALSE;
    }
    written = write_all(fd, orig);
    saved = errno;
    if (close(fd) < 0 && written) {
        written = FALSE;
        saved = errno;
    }
    if (!written) {
        g_free(orig);
        g_unlink(tmp);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "%s: failed to write to temporary file: %s",
                    tmp, g_strerror(saved));
        return FALSE;
    }
    ok = edit_loop(ctl, ops, obj, name, tmp, orig, error);
    g_unlink(tmp);
    return ok;
}

static const VshEditOps domain_ops = {
    .get_xml = get_inactive_xml,
    .put_xml = put_xml,
    .noun = "Domain",
    .quote_name = TRUE,
};

static gboolean
cmd_edit(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autoptr(JsonNode) summary = vsh_domain_call(ctl, "GET", dom, NULL, NULL, error);

    if (!summary)
        return FALSE;
    return vsh_edit_xml(ctl, &domain_ops, dom,
                        vsh_json_string(vsh_json_domain(summary), "name", dom), error);
}

static const VshOptDef opts_edit[] = {
    VSH_OPT_DOMAIN,
    {NULL},
};

const VshCmdDef vsh_domain_edit_commands[] = {
    {"edit", "domain", opts_edit, cmd_edit, "edit XML configuration for a domain",
     "Edit the XML configuration for a domain; changes apply at its next boot."},
    {NULL},
};
