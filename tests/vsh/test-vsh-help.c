/* Tests of help rendered from the command table (vsh-help.c). */
#include <string.h>

#include "vsh/vsh-help.h"

static void
test_command_help(void)
{
    g_autoptr(GString) out = g_string_new(NULL);

    vsh_help_render_command(out, vsh_command_find("start"));
    g_assert_cmpstr(out->str, ==,
                    "  NAME\n"
                    "    start - start a (previously defined) inactive domain\n"
                    "\n"
                    "  SYNOPSIS\n"
                    "    start <domain> [--console] [--paused] [--force-boot]\n"
                    "\n"
                    "  DESCRIPTION\n"
                    "    Start a defined, inactive domain: from its managed save if it has one, else a fresh boot.\n"
                    "\n"
                    "  OPTIONS\n"
                    "    [--domain] <string>  domain name, id or uuid\n"
                    "    --console        attach to console after creation\n"
                    "    --paused         leave the guest paused after creation\n"
                    "    --force-boot     force fresh boot by discarding any managed save\n"
                    "\n");
}

static void
test_command_help_forms(void)
{
    g_autoptr(GString) shutdown = g_string_new(NULL);
    g_autoptr(GString) help = g_string_new(NULL);
    g_autoptr(GString) uri = g_string_new(NULL);

    vsh_help_render_command(shutdown, vsh_command_find("shutdown"));
    g_assert_nonnull(strstr(shutdown->str, "    shutdown <domain> [--mode <string>]\n"));
    g_assert_nonnull(strstr(shutdown->str, "    --mode <string>  shutdown mode"));

    vsh_help_render_command(help, vsh_command_find("help"));
    g_assert_nonnull(strstr(help->str, "    help [<command>]\n"));

    /* No options, no description: NAME and SYNOPSIS only. */
    vsh_help_render_command(uri, vsh_command_find("uri"));
    g_assert_cmpstr(uri->str, ==,
                    "  NAME\n"
                    "    uri - print the hypervisor canonical URI\n"
                    "\n"
                    "  SYNOPSIS\n"
                    "    uri\n"
                    "\n");
}

static void
test_grouped(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    vsh_help_render_all(out);
    g_assert_true(g_str_has_prefix(out->str, "Grouped commands:\n\n"
                                             " Domain Management (help keyword 'domain'):\n"));
    g_assert_nonnull(strstr(out->str, "\n Domain Monitoring (help keyword 'monitor'):\n"));
    g_assert_nonnull(strstr(out->str, "    list                           list domains\n"));
    /* Every command is listed exactly once. */
    for (guint i = 0; i < n; i++) {
        g_autofree char *line = g_strdup_printf("\n    %-30s %s\n", all[i]->name, all[i]->help);
        const char *hit = strstr(out->str, line);

        g_assert_nonnull(hit);
        g_assert_null(strstr(hit + 1, line));
    }
}

static void
test_group(void)
{
    g_autoptr(GString) out = g_string_new(NULL);

    g_assert_null(vsh_group_find("nope"));
    vsh_help_render_group(out, vsh_group_find("host"));
    g_assert_cmpstr(out->str, ==,
                    " Host and Hypervisor (help keyword 'host'):\n"
                    "    capabilities                   capabilities\n"
                    "    host-validate                  validate the host for running guests\n"
                    "    hostname                       print the hypervisor hostname\n"
                    "    nodecpustats                   Prints cpu stats of the node.\n"
                    "    nodeinfo                       node information\n"
                    "    nodememstats                   Prints memory stats of the node.\n"
                    "    sysinfo                        print the hypervisor sysinfo\n"
                    "    uri                            print the hypervisor canonical URI\n"
                    "    version                        show version\n");
}

static void
test_usage(void)
{
    g_autoptr(GString) out = g_string_new(NULL);

    vsh_help_render_usage(out, "vsh");
    g_assert_true(g_str_has_prefix(out->str, "\nvsh [options]... [<command_string>]\n"));
    g_assert_nonnull(strstr(out->str, "-c | --connect=URI"));
    g_assert_true(g_str_has_suffix(out->str, "(specify help <command> for details about the "
                                             "command)\n\n"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/help/command", test_command_help);
    g_test_add_func("/vsh/help/command-forms", test_command_help_forms);
    g_test_add_func("/vsh/help/grouped", test_grouped);
    g_test_add_func("/vsh/help/group", test_group);
    g_test_add_func("/vsh/help/usage", test_usage);
    return g_test_run();
}
