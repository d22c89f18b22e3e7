/* vsh: the command line of virtd.
 *
 * vsh is a table of commands (VshCmdDef), each with a table of options
 * (VshOptDef); parsing, usage, help and completion all read these tables,
 * so a command is added in exactly one place: the array of its group file
 * (vsh-domain-lifecycle.c, vsh-domain-info.c, ...). Handlers talk to the
 * daemon only through its HTTP API (vsh-client.h) and report failures as
 * VD_ERROR GErrors, which the runner prints as virsh does and turns into
 * the exit status of vd-error.h.
 */
#pragma once

#include <glib.h>

typedef struct _VshCtl VshCtl;
typedef struct _VshCmd VshCmd;
typedef struct _VshClient VshClient;

typedef enum {
    VSH_OT_BOOL,   /* --flag, no value */
    VSH_OT_STRING, /* --opt VALUE or --opt=VALUE */
    VSH_OT_INT,    /* like STRING, checked to be a decimal integer */
    VSH_OT_ARGV,   /* positional, takes every remaining argument; must be last */
} VshOptType;

typedef enum {
    VSH_OPT_REQUIRED = 1 << 0,   /* the command fails without it */
    VSH_OPT_POSITIONAL = 1 << 1, /* may be given without --name, in table order */
    VSH_OPT_MULTI = 1 << 2,      /* may be given more than once (virt-install's --disk);
                                  * read all values with vsh_cmd_get_argv */
    VSH_OPT_VALUE_OPTIONAL = 1 << 3, /* STRING whose value may be left out (virt-xml's
                                      * --edit [SEL]): alone or before another --option
                                      * it is given with the value "" */
} VshOptFlags;

/* What the completer offers for an option's value. */
typedef enum {
    VSH_COMPLETE_NONE,
    VSH_COMPLETE_DOMAIN,  /* names of all domains, asked from the daemon */
    VSH_COMPLETE_FILE,    /* file names (readline's own completion) */
    VSH_COMPLETE_COMMAND, /* vsh command names */
    VSH_COMPLETE_POOL,    /* storage pool names, asked from the daemon */
    VSH_COMPLETE_NETWORK, /* virtual network names, asked from the daemon */
} VshCompleter;

typedef struct {
    const char *name; /* without the leading "--" */
    VshOptType type;
    guint flags; /* VshOptFlags */
    VshCompleter completer;
    const char *help;
} VshOptDef;

/* The "<domain>" argument domain commands take first: a name, UUID or id. */
#define VSH_OPT_DOMAIN                                                                             \
    {                                                                                              \
        "domain", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_DOMAIN,       \
            "domain name, id or uuid"                                                              \
    }

/* A handler returns FALSE and sets @error (VD_ERROR domain) on failure;
 * it never prints the error itself. */
typedef gboolean (*VshCmdHandler)(VshCtl *ctl, const VshCmd *cmd, GError **error);

typedef struct {
    const char *name;
    const char *group;     /* keyword of a VshGroup */
    const VshOptDef *opts; /* terminated by a {NULL} entry; may be NULL */
    VshCmdHandler handler;
    const char *help; /* one line, for "help" listings */
    const char *desc; /* longer text for "help CMD"; may be NULL */
} VshCmdDef;

typedef struct {
    const char *keyword; /* "domain", as in "help domain" */
    const char *name;    /* "Domain Management" */
} VshGroup;

/* One parsed option of a parsed command. */
typedef struct {
    const VshOptDef *def;
    char *value; /* NULL for VSH_OT_BOOL */
} VshOptValue;

struct _VshCmd {
    const VshCmdDef *def;
    GPtrArray *opts; /* of VshOptValue*, in command-line order */
};

/* Global state of one vsh run; commands get it as their first argument. */
struct _VshCtl {
    char *uri;         /* as given (-c, connect): a URI or an alias; NULL: the default */
    VshClient *client; /* created on first use from @uri, alias-expanded */
    gboolean quiet;    /* -q: no headers, no informational messages */
    gboolean timing;   /* -t: print how long each command took */
    gboolean imode;    /* interactive shell */
    gboolean quit;     /* set by "quit"/"exit" in the shell */
};

#define VSH_DEFAULT_URI "unix:///run/virtd/virtd.sock"

/* ---- the command table (vsh-commands.c) ---- */

/* The groups in the order "help" lists them, terminated by {NULL}. */
extern const VshGroup vsh_groups[];
/* Every command sorted by name; @n_out gets the count. */
const VshCmdDef *const *vsh_commands_all(guint *n_out);
/* The command called @name, or NULL. */
const VshCmdDef *vsh_command_find(const char *name);
/* The group whose keyword or name is @name, or NULL. */
const VshGroup *vsh_group_find(const char *name);

/* Per-file command arrays, each terminated by a {NULL} entry. */
extern const VshCmdDef vsh_domain_lifecycle_commands[];
extern const VshCmdDef vsh_domain_edit_commands[];
extern const VshCmdDef vsh_domain_info_commands[];
extern const VshCmdDef vsh_console_commands[];
extern const VshCmdDef vsh_host_commands[];
extern const VshCmdDef vsh_host_node_commands[]; /* issue 15: nodeinfo, host-validate ... */
extern const VshCmdDef vsh_web_commands[];
extern const VshCmdDef vsh_shell_commands[];
extern const VshCmdDef vsh_display_commands[];
extern const VshCmdDef vsh_pool_commands[];
extern const VshCmdDef vsh_volume_commands[];
extern const VshCmdDef vsh_install_commands[];
extern const VshCmdDef vsh_image_commands[];
extern const VshCmdDef vsh_network_commands[];
extern const VshCmdDef vsh_network_host_commands[];
extern const VshCmdDef vsh_domain_net_commands[];
extern const VshCmdDef vsh_domain_check_commands[];
/* Issue 11: live device management, vCPUs, memory, statistics, vsh xml. */
extern const VshCmdDef vsh_device_commands[];        /* vsh-device.c */
extern const VshCmdDef vsh_domain_disk_commands[];   /* vsh-domain-disk.c */
extern const VshCmdDef vsh_domain_vcpu_commands[];   /* vsh-domain-vcpu.c */
extern const VshCmdDef vsh_domain_memory_commands[]; /* vsh-domain-memory.c */
extern const VshCmdDef vsh_domain_memdev_commands[]; /* vsh-domain-memdev.c */
extern const VshCmdDef vsh_domain_stats_commands[];  /* vsh-domain-stats.c */
extern const VshCmdDef vsh_xml_commands[];           /* vsh-xml.c */
/* Issue 12 */
extern const VshCmdDef vsh_snapshot_commands[];        /* vsh-snapshot*.c */
extern const VshCmdDef vsh_domain_blockjob_commands[]; /* vsh-domain-blockjob.c */
extern const VshCmdDef vsh_domain_save_commands[];     /* vsh-domain-save.c */
/* list --managed-save / --with-managed-save / --without-managed-save:
 * marks ("saved") or filters the domains in @kept (vsh-domain-save.c). */
typedef struct _JsonArray JsonArray;
gboolean vsh_list_managed_save(VshCtl *ctl, const VshCmd *cmd, JsonArray **kept, GError **error);
extern const VshCmdDef vsh_clone_commands[];           /* vsh-clone.c */
/* Issue 13 */
extern const VshCmdDef vsh_migrate_commands[];         /* vsh-migrate.c */
/* Issue 14 */
extern const VshCmdDef vsh_event_commands[];           /* vsh-event.c */

/* ---- parsed commands (vsh-args.c) ---- */

void vsh_cmd_free(VshCmd *cmd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VshCmd, vsh_cmd_free)

/* TRUE when option @name was given (a flag, or an option with a value). */
gboolean vsh_cmd_has(const VshCmd *cmd, const char *name);
/* The value of option @name, or NULL when it was not given. */
const char *vsh_cmd_get_string(const VshCmd *cmd, const char *name);
/* The values of the VSH_OT_ARGV option @name, NULL-terminated; free the
 * array (not the strings) with g_free. */
const char **vsh_cmd_get_argv(const VshCmd *cmd, const char *name);

/* ---- running commands (vsh-run.c) ---- */

VshCtl *vsh_ctl_new(const char *uri);
void vsh_ctl_free(VshCtl *ctl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VshCtl, vsh_ctl_free)

/* The connection to the daemon, created on first use. */
VshClient *vsh_ctl_client(VshCtl *ctl, GError **error);
/* Replaces the connection URI (the "connect" command). */
void vsh_ctl_set_uri(VshCtl *ctl, const char *uri);

/* Parses and runs @line (one or more commands separated by ';' or
 * newlines, virsh quoting). Returns the exit status of the last one. */
int vsh_run_line(VshCtl *ctl, const char *line);
/* Parses and runs one command given as separate words (argv style). */
int vsh_run_argv(VshCtl *ctl, int argc, char **argv);
/* Runs a parsed command: handler, error report, trailing blank line. */
int vsh_run_cmd(VshCtl *ctl, const VshCmd *cmd);

/* Prints "error: MESSAGE" (virsh's wording for connection failures) and
 * returns the exit status for @error. */
int vsh_report_error(const GError *error);

/* stdout output. vsh_print_extra is suppressed by -q (virsh's
 * vshPrintExtra: headers and "Domain 'x' started" messages). */
void vsh_print(VshCtl *ctl, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void vsh_print_extra(VshCtl *ctl, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* "warning: MESSAGE" on stderr. */
void vsh_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* ---- the interactive shell (vsh-shell.c) ---- */

/* Runs the readline loop until quit/exit or end of input. */
int vsh_shell_run(VshCtl *ctl);
