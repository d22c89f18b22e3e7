#include "options-doc.h"

#include <string.h>

#include "daemon/config-file.h"
#include "util/vd-roff.h"

static const char *
value_name(const GOptionEntry *e)
{
    return e->arg_description ? e->arg_description : "VALUE";
}

static const char man_description[] =
    ".SH DESCRIPTION\n"
    ".B virtd\n"
    "holds virtual machine definitions (libvirt's domain XML), starts one QEMU per\n"
    "running machine and supervises it over QMP, manages storage pools and\n"
    "volumes and virtual networks (bridges, nftables rules, dnsmasq), and serves\n"
    "an HTTP/JSON API on a UNIX socket, which\n"
    ".BR vsh (1)\n"
    "and the web console use.\n"
    "QEMU processes are detached: they outlive the daemon, which reconnects to\n"
    "them when it starts again.\n"
    ".PP\n"
    "Installed from the package, it runs as the systemd service\n"
    ".BR virtd.service ,\n"
    "which tells systemd it is ready once its socket answers (Type=notify).\n"
    "Options come from the configuration file first, then from the command line.\n";

static const char man_config[] =
    ".SH CONFIGURATION FILE\n"
    "Before the command line, virtd reads\n"
    ".I " VD_CONFIG_FILE_DEFAULT "\n"
    "(with\n"
    ".BI \\-\\-root \" DIR\\fR,\\fP\"\n"
    ".IR DIR /etc/virtd.conf;\n"
    "with\n"
    ".BI \\-\\-config \" FILE\\fR,\\fP\"\n"
    ".IR FILE ),\n"
    "a key file with one group,\n"
    ".BR [daemon] ,\n"
    "whose keys are the long option names above, without the dashes:\n"
    ".PP\n"
    ".RS\n"
    ".nf\n"
    "[daemon]\n"
    "socket\\-group = virtd\n"
    "web = 127.0.0.1:9090;[::1]:9090\n"
    "verbose = true\n"
    ".fi\n"
    ".RE\n"
    ".PP\n"
    "An option without a value takes true or false; a repeatable option takes a\n"
    "list separated by ';'. The command line overrides the file: a value given\n"
    "there replaces the file's, and a repeatable option given there replaces the\n"
    "file's whole list. An unknown group or key, or a value of the wrong kind,\n"
    "stops the daemon with the file, line and key named. Only a file named by\n"
    ".B \\-\\-config\n"
    "must exist.\n";

static const char man_files[] =
    ".SH FILES\n"
    ".TP\n.I " VD_CONFIG_FILE_DEFAULT "\nthe configuration file\n"
    ".TP\n.I /etc/virtd/domains/, /etc/virtd/networks/, /etc/virtd/storage/\n"
    "persistent definitions of domains, networks and storage pools\n"
    ".TP\n.I /run/virtd/virtd.sock\nthe API socket\n"
    ".TP\n.I /run/virtd/\nstatus of running domains and active networks; QMP and console sockets\n"
    ".TP\n.I /var/lib/virtd/\nstate: snapshots, saved memory, UEFI variables, TPM state, dnsmasq "
    "leases\n"
    ".TP\n.I /var/log/virtd/\nQEMU's output per domain, console logs, dnsmasq's errors\n"
    ".TP\n.I /var/cache/virtd/\nQEMU capabilities, the KVM probe's verdict, extracted kernels\n"
    ".PP\n"
    "With\n"
    ".BI \\-\\-root \" DIR\\fR,\\fP\"\n"
    "all of these are under DIR (etc/, run/, lib/, log/, cache/, virtd.sock).\n"
    "The daemon's own messages go to its standard error (the journal, under systemd).\n";

static const char man_tail[] =
    ".SH SIGNALS\n"
    "SIGTERM and SIGINT stop the daemon. Running guests, networks and their\n"
    "dnsmasq keep running (the unit's KillMode=process); the next start reconnects\n"
    "to them.\n"
    ".SH SEE ALSO\n"
    ".BR vsh (1),\n"
    ".BR systemd.service (5);\n"
    "docs/install.md and the other documents of the source tree.\n";

void
vd_options_doc_man(GString *out, const GOptionEntry *entries)
{
    vd_roff_header(out, "virtd", "8", "System Administration", "the virtd virtualization daemon");
    g_string_append(out, ".SH SYNOPSIS\n.B virtd\n[\\fIOPTION\\fR]...\n");
    g_string_append(out, man_description);
    g_string_append(out, ".SH OPTIONS\n");
    for (const GOptionEntry *e = entries; e->long_name; e++) {
        if (e->flags & G_OPTION_FLAG_HIDDEN)
            continue;
        g_string_append(out, ".TP\n");
        if (e->short_name)
            g_string_append_printf(out, "\\fB\\-%c\\fR, ", e->short_name);
        g_string_append(out, "\\fB");
        vd_roff_append(out, "--");
        vd_roff_append(out, e->long_name);
        g_string_append(out, "\\fR");
        if (vd_config_option_takes_value(e)) {
            g_string_append(out, " \\fI");
            vd_roff_append(out, value_name(e));
            g_string_append(out, "\\fR");
        }
        g_string_append_c(out, '\n');
        vd_roff_append(out, e->description ? e->description : "");
        if (vd_config_option_repeatable(e))
            g_string_append(out, " (repeatable)");
        g_string_append_c(out, '\n');
    }
    g_string_append(out, ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nPrint the options and exit\n");
    g_string_append(out, man_config);
    g_string_append(out, man_files);
    g_string_append(out, man_tail);
}

/* @text as "# " lines of at most ~76 columns. */
static void
append_comment(GString *out, const char *text)
{
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    gsize col = 0;

    for (guint i = 0; words[i]; i++) {
        if (!*words[i])
            continue;
        if (col > 0 && col + 1 + strlen(words[i]) > 76) {
            g_string_append_c(out, '\n');
            col = 0;
        }
        if (col == 0) {
            g_string_append(out, "#");
            col = 1;
        }
        g_string_append_printf(out, " %s", words[i]);
        col += 1 + strlen(words[i]);
    }
    if (col > 0)
        g_string_append_c(out, '\n');
}

void
vd_options_doc_config(GString *out, const GOptionEntry *entries)
{
    g_string_append(out, "# virtd.conf: the options of virtd(8), read before its command line.\n"
                         "#\n"
                         "# Keys are the daemon's long option names without the dashes\n"
                         "# (--socket-group X is socket-group = X). An option without a value\n"
                         "# takes true or false; a repeatable one a list separated by ';'. The\n"
                         "# command line overrides this file (its list replaces a repeatable\n"
                         "# option's list here). An unknown key is an error: the daemon does not\n"
                         "# start and names the line. Every option is listed below, commented\n"
                         "# out, with its help; the value shown is what it takes.\n"
                         "# This file was generated from the daemon's option table (virtd\n"
                         "# --dump-config). Another file: virtd --config FILE.\n"
                         "\n"
                         "[daemon]\n");
    for (const GOptionEntry *e = entries; e->long_name; e++) {
        if (!vd_config_option_in_file(e))
            continue;
        g_string_append_c(out, '\n');
        gboolean takes_value = vd_config_option_takes_value(e);
        g_autofree char *heading = g_strdup_printf(
            "--%s%s%s%s", e->long_name, takes_value ? " " : "", takes_value ? value_name(e) : "",
            vd_config_option_repeatable(e) ? " (repeatable: a list separated by ';')" : "");
        append_comment(out, heading);
        append_comment(out, e->description ? e->description : "");
        if (takes_value)
            g_string_append_printf(out, "#%s = %s\n", e->long_name, value_name(e));
        else
            g_string_append_printf(out, "#%s = false\n", e->long_name);
    }
}
