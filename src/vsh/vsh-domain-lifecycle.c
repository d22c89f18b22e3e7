/* Domain lifecycle commands: define, undefine, create, start, shutdown,
 * destroy, reboot, reset, suspend, resume, autostart.
 *
 * Each is one API call; the messages are virsh's, with the domain's real
 * name from the answer (the user may have typed an id or a UUID).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-console.h"
#include "vsh-object.h"
#include "vsh.h"

/* virsh's VSH_MAX_XML_FILE; the daemon takes at most 1 MiB and says so. */
#define MAX_XML_FILE (10 * 1024 * 1024)

static const char *
answer_name(JsonNode *answer, const char *fallback)
{
    return vsh_json_string(vsh_json_domain(answer), "name", fallback);
}

/* The contents of @file, as virsh's virFileReadAll reports it. */
static GBytes *
read_xml_file(const char *file, GError **error)
{
    g_autoptr(GByteArray) data = g_byte_array_new();
    guint8 buf[65536];
    int fd = open(file, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        int saved = errno;

        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Failed to open file '%s': %s", file,
                    g_strerror(saved));
        return NULL;
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;

            close(fd);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Failed to read file '%s': %s", file,
                        g_strerror(saved));
            return NULL;
        }
        if (n == 0)
            break;
        if (data->len + (gsize)n > MAX_XML_FILE) {
            close(fd);
            g_set_error(error, VD_ERROR, VD_ERROR_TOO_LARGE, "file '%s' is larger than %d bytes",
                        file, MAX_XML_FILE);
            return NULL;
        }
        g_byte_array_append(data, buf, (guint)n);
    }
    close(fd);
    return g_byte_array_free_to_bytes(g_steal_pointer(&data));
}

/* POST /v1/domains[QUERY] with the XML of @file. */
static JsonNode *
post_definition(VshCtl *ctl, const char *file, const char *query, GError **error)
{
    return vsh_domain_post_file(ctl, file, query, error);
}

JsonNode *
vsh_domain_post_file(VshCtl *ctl, const char *file, const char *query, GError **error)
{
    g_autoptr(GBytes) xml = read_xml_file(file, error);
    g_autofree char *path = g_strconcat("/v1/domains", query, NULL);
    VshClient *client;

    if (!xml || !(client = vsh_ctl_client(ctl, error)))
        return NULL;
    return vsh_client_send_for_json(client, "POST", path, "application/xml", xml, error);
}

static gboolean
cmd_define(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autoptr(JsonNode) answer = NULL;

    /* define --check: domcheck's report, nothing defined. */
    if (vsh_cmd_has(cmd, "check"))
        return vsh_domcheck_file(ctl, file, error);
    answer = post_definition(ctl, file, "", error);
    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    vsh_print_extra(ctl, "Domain '%s' defined from %s\n", answer_name(answer, "?"), file);
    return TRUE;
}

static gboolean
cmd_create(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    gboolean paused = vsh_cmd_has(cmd, "paused");
    g_autoptr(JsonNode) answer =
        post_definition(ctl, file, paused ? "?start=1&paused=1" : "?start=1", error);
    const char *name;

    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    name = answer_name(answer, "?");
    vsh_print_extra(ctl, "Domain '%s' created from %s\n", name, file);
    if (vsh_cmd_has(cmd, "console"))
        return vsh_console_attach(ctl, name, vsh_json_string(vsh_json_domain(answer), "uuid", NULL),
                                  FALSE, error);
    return TRUE;
}

/* Prints virsh's "Volume 'vda'(/path) removed." for each removed disk,
 * and a warning naming the reason for each disk kept. */
static void
print_storage_removals(VshCtl *ctl, JsonNode *answer)
{
    JsonObject *obj = json_node_get_object(answer);
    JsonArray *removed =
        json_object_has_member(obj, "removed") ? json_object_get_array_member(obj, "removed") : NULL;
    JsonArray *kept =
        json_object_has_member(obj, "kept") ? json_object_get_array_member(obj, "kept") : NULL;
    for (guint i = 0; removed && i < json_array_get_length(removed); i++) {
        JsonObject *r = json_array_get_object_element(removed, i);
        vsh_print_extra(ctl, "Volume '%s'(%s) removed.\n", vsh_json_string(r, "target", "?"),
                        vsh_json_string(r, "path", "?"));
    }
    for (guint i = 0; kept && i < json_array_get_length(kept); i++) {
        JsonObject *r = json_array_get_object_element(kept, i);
        vsh_warn("Volume '%s'(%s) kept: %s", vsh_json_string(r, "target", "?"),
                 vsh_json_string(r, "path", "?"), vsh_json_string(r, "reason", "?"));
    }
}

static gboolean
cmd_undefine(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *storage = vsh_cmd_get_string(cmd, "storage");
    gboolean all = vsh_cmd_has(cmd, "remove-all-storage");

    if (vsh_cmd_has(cmd, "wipe-storage") && !all && !storage) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "'--wipe-storage' requires '--storage <string>' or '--remove-all-storage'");
        return FALSE;
    }
    if (all && storage) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --remove-all-storage and --storage are mutually exclusive");
        return FALSE;
    }
    if (vsh_cmd_has(cmd, "nvram") && vsh_cmd_has(cmd, "keep-nvram")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --nvram and --keep-nvram are mutually exclusive");
        return FALSE;
    }
    gboolean tpm = vsh_cmd_has(cmd, "tpm");
    if (tpm && vsh_cmd_has(cmd, "keep-tpm")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --tpm and --keep-tpm are mutually exclusive");
        return FALSE;
    }
    g_autoptr(GString) suffix = g_string_new(NULL);
    if (all)
        g_string_append(suffix, "?remove_all_storage=1");
    else if (storage) {
        g_autofree char *esc = g_uri_escape_string(storage, ",/", TRUE);
        g_string_append_printf(suffix, "?storage=%s", esc);
    }
    if (vsh_cmd_has(cmd, "nvram"))
        g_string_append_printf(suffix, "%snvram=1", suffix->len ? "&" : "?");
    if (vsh_cmd_has(cmd, "keep-nvram"))
        g_string_append_printf(suffix, "%skeep_nvram=1", suffix->len ? "&" : "?");
    if (tpm)
        g_string_append_printf(suffix, "%stpm=1", suffix->len ? "&" : "?");
    if (vsh_cmd_has(cmd, "snapshots-metadata"))
        g_string_append_printf(suffix, "%ssnapshots_metadata=1", suffix->len ? "&" : "?");
    if (vsh_cmd_has(cmd, "managed-save"))
        g_string_append_printf(suffix, "%smanaged_save=1", suffix->len ? "&" : "?");
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "DELETE", dom, suffix->len ? suffix->str : NULL, NULL, error);

    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Domain '%s' has been undefined\n", answer_name(answer, dom));
    print_storage_removals(ctl, answer);
    JsonObject *root = vsh_json_root(answer);
    JsonObject *tpm_state = root && json_object_has_member(root, "tpm_state")
                                ? json_object_get_object_member(root, "tpm_state")
                                : NULL;
    if (tpm_state && !vsh_json_bool(tpm_state, "removed", FALSE))
        vsh_warn("TPM state '%s' kept: %s", vsh_json_string(tpm_state, "path", "?"),
                 vsh_json_string(tpm_state, "reason", "?"));
    return TRUE;
}

static gboolean
cmd_start(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autoptr(JsonNode) body = vsh_json_bool_body("paused", vsh_cmd_has(cmd, "paused"));
    g_autoptr(JsonNode) answer = NULL;
    const char *name;

    answer = vsh_domain_call(ctl, "POST", dom,
                             vsh_cmd_has(cmd, "force-boot") ? "/start?force_boot=1" : "/start", body,
                             error);
    if (!answer)
        return FALSE;
    /* What the start adjusted, with the reasons (a Hyper-V flag TCG
     * cannot give ...), as net-start's warnings. */
    vsh_print_warnings(answer);
    name = answer_name(answer, dom);
    vsh_print_extra(ctl, "Domain '%s' started\n", name);
    if (vsh_cmd_has(cmd, "console"))
        return vsh_console_attach(ctl, name, vsh_json_string(vsh_json_domain(answer), "uuid", NULL),
                                  FALSE, error);
    return TRUE;
}

/* Commands that are one POST without a body. */
typedef struct {
    const char *command;
    const char *suffix;
    const char *done; /* "Domain 'NAME' <done>" */
} SimpleAction;

static const SimpleAction simple_actions[] = {
    {"shutdown", "/shutdown", "is being shutdown"}, {"destroy", "/destroy", "destroyed"},
    {"reboot", "/reboot", "is being rebooted"},     {"reset", "/reset", "was reset"},
    {"suspend", "/suspend", "suspended"},           {"resume", "/resume", "resumed"},
};

static gboolean
cmd_simple(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *mode = vsh_cmd_get_string(cmd, "mode");
    const SimpleAction *action = NULL;
    g_autoptr(JsonNode) answer = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(simple_actions); i++) {
        if (g_str_equal(simple_actions[i].command, cmd->def->name))
            action = &simple_actions[i];
    }
    g_assert(action);

    /* virsh's --mode list; virtd sends the ACPI power button only. */
    if (mode && !g_str_equal(mode, "acpi")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s mode '%s' is not supported: virtd only uses 'acpi'", action->command, mode);
        return FALSE;
    }
    answer = vsh_domain_call(ctl, "POST", dom, action->suffix, NULL, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Domain '%s' %s\n", answer_name(answer, dom), action->done);
    return TRUE;
}

static gboolean
cmd_autostart(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    gboolean enable = !vsh_cmd_has(cmd, "disable");
    g_autoptr(JsonNode) body = vsh_json_bool_body("autostart", enable);
    g_autoptr(JsonNode) answer = NULL;

    answer = vsh_domain_call(ctl, "PUT", dom, "/autostart", body, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Domain '%s' %s as autostarted\n", answer_name(answer, dom),
                    enable ? "marked" : "unmarked");
    return TRUE;
}

static const VshOptDef opts_domain[] = {
    VSH_OPT_DOMAIN,
    {NULL},
};

static const VshOptDef opts_undefine[] = {
    VSH_OPT_DOMAIN,
    {"storage", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "remove these storage volumes (comma separated targets or sources, e.g. vda,/path.qcow2)"},
    {"remove-all-storage", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "remove all the domain's pool-managed volumes (install media cdroms are kept)"},
    {"wipe-storage", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "accepted for virsh compatibility: volumes are deleted, not wiped"},
    {"managed-save", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "remove the domain managed state file"},
    {"snapshots-metadata", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "remove all domain snapshot metadata (the images keep their internal snapshots)"},
    {"nvram", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "remove the domain's UEFI variable store"},
    {"keep-nvram", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "keep the domain's UEFI variable store"},
    {"tpm", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "remove the TPM state (swtpm's) too"},
    {"keep-tpm", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "keep the TPM state (the default)"},
    {NULL},
};

static const VshOptDef opts_define[] = {
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "file containing an XML domain description"},
    {"check", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "only report whether it would start (as domcheck); define nothing"},
    {NULL},
};

static const VshOptDef opts_create[] = {
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "file containing an XML domain description"},
    {"console", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "attach to console after creation"},
    {"paused", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "leave the guest paused after creation"},
    {NULL},
};

static const VshOptDef opts_start[] = {
    VSH_OPT_DOMAIN,
    {"console", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "attach to console after creation"},
    {"paused", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "leave the guest paused after creation"},
    {"force-boot", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "force fresh boot by discarding any managed save"},
    {NULL},
};

static const VshOptDef opts_shutdown[] = {
    VSH_OPT_DOMAIN,
    {"mode", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "shutdown mode: acpi (the only one virtd has)"},
    {NULL},
};

static const VshOptDef opts_reboot[] = {
    VSH_OPT_DOMAIN,
    {"mode", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "reboot mode: acpi (the only one virtd has)"},
    {NULL},
};

static const VshOptDef opts_autostart[] = {
    VSH_OPT_DOMAIN,
    {"disable", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "disable autostarting"},
    {NULL},
};

const VshCmdDef vsh_domain_lifecycle_commands[] = {
    {"autostart", "domain", opts_autostart, cmd_autostart, "autostart a domain",
     "Configure a domain to be automatically started when virtd starts."},
    {"create", "domain", opts_create, cmd_create, "create a domain from an XML file",
     "Create and start a transient domain (gone when it stops)."},
    {"define", "domain", opts_define, cmd_define,
     "define (but don't start) a domain from an XML file",
     "Define a domain, or redefine an inactive one with the same name and UUID."},
    {"destroy", "domain", opts_domain, cmd_simple, "destroy (stop) a domain",
     "Forcefully stop a given domain, but leave its resources intact."},
    {"reboot", "domain", opts_reboot, cmd_simple, "reboot a domain",
     "Send an ACPI reboot request to the target domain."},
    {"reset", "domain", opts_domain, cmd_simple, "reset a domain",
     "Reset the target domain as if by power button."},
    {"resume", "domain", opts_domain, cmd_simple, "resume a domain",
     "Resume a previously suspended domain."},
    {"shutdown", "domain", opts_shutdown, cmd_simple, "gracefully shutdown a domain",
     "Press the ACPI power button of the target domain; the guest shuts down on its own."},
    {"start", "domain", opts_start, cmd_start, "start a (previously defined) inactive domain",
     "Start a defined, inactive domain: from its managed save if it has one, else a fresh boot."},
    {"suspend", "domain", opts_domain, cmd_simple, "suspend a domain", "Suspend a running domain."},
    {"undefine", "domain", opts_undefine, cmd_undefine, "undefine a domain",
     "Undefine an inactive domain, or convert persistent to transient."},
    {NULL},
};
