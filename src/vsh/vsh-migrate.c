/* migrate, migrate-setmaxdowntime, migrate-getmaxdowntime,
 * migrate-setspeed, migrate-getspeed, migrate-postcopy (issue 13;
 * docs/migration.md).
 *
 * vsh migrate sends one request, POST /v1/domains/D/migrate; the source
 * daemon does the rest with the destination daemon itself (peer to peer).
 * While it runs, --verbose asks the domain's job every 250 ms and draws
 * virsh's "Migration: [ 42 %]" on stderr, and Ctrl+C asks the daemon to
 * abort the migration (domjobabort), then waits for its answer: the guest
 * keeps running here. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-progress.h"
#include "vsh.h"

typedef struct {
    VshCtl *ctl;
    const char *dom;
    gboolean verbose;
    int last_pct;
    guint timeout_s;
    gboolean timeout_postcopy;
    gboolean timeout_told;
    gint64 started;
    gboolean interrupted;
} Migrating;

static void
draw(Migrating *m, int pct, gboolean final)
{
    if (!m->verbose || (pct == m->last_pct && !final))
        return;
    m->last_pct = pct;
    fprintf(stderr, "\rMigration: [%3d %%]%s", pct, final ? "\n" : "");
    fflush(stderr);
}

static void
on_job(JsonNode *answer, gpointer data)
{
    Migrating *m = data;
    /* virsh says so when its timeout acts; here the daemon acts on it. */
    if (m->timeout_s && !m->timeout_told &&
        g_get_monotonic_time() - m->started >= (gint64)m->timeout_s * G_USEC_PER_SEC) {
        m->timeout_told = TRUE;
        fprintf(stderr, "%smigration timed out; %s\n", m->verbose ? "\n" : "",
                m->timeout_postcopy ? "switching to post-copy" : "suspending domain");
    }
    if (!JSON_NODE_HOLDS_OBJECT(answer))
        return;
    JsonObject *job = json_node_get_object(answer);
    gint64 total = vsh_json_int(job, "data_total", 0);
    gint64 remaining = vsh_json_int(job, "data_remaining", 0);
    if (total <= 0)
        return;
    /* As virsh: the share of the data done, never 100 before the end. */
    int pct = (int)(100.0 - (double)remaining * 100.0 / (double)total);
    draw(m, CLAMP(pct, 0, 99), FALSE);
}

static void
on_end(guint status, gpointer data)
{
    Migrating *m = data;
    if (status >= 200 && status < 300)
        draw(m, 100, TRUE);
    else if (m->verbose)
        fprintf(stderr, "\n");
}

/* Ctrl+C: the migration is aborted, and vsh waits for the daemon to say
 * it has settled (the guest running on here). */
static gboolean
on_sigint(gpointer data)
{
    Migrating *m = data;
    g_autoptr(GError) error = NULL;
    if (m->interrupted)
        return G_SOURCE_CONTINUE;
    m->interrupted = TRUE;
    g_autoptr(JsonNode) answer = vsh_domain_call(m->ctl, "POST", m->dom, "/job/abort", NULL, &error);
    if (!answer)
        fprintf(stderr, "%serror: cannot abort the migration: %s\n", m->verbose ? "\n" : "",
                error->message);
    return G_SOURCE_CONTINUE;
}

static char *
read_file(const char *file, GError **error)
{
    char *text = NULL;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(file, &text, NULL, &e)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Failed to read file '%s' to %s: %s",
                    file, "XML", e->message);
        return NULL;
    }
    return text;
}

static gboolean
opt_u64(const VshCmd *cmd, const char *name, guint64 *out, GError **error)
{
    const char *v = vsh_cmd_get_string(cmd, name);
    *out = 0;
    if (!v)
        return TRUE;
    char *end = NULL;
    guint64 n = g_ascii_strtoull(v, &end, 10);
    if (!*v || *end || v[0] == '-') {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Numeric value '%s' for <%s> option is malformed or out of range", v, name);
        return FALSE;
    }
    *out = n;
    return TRUE;
}

static gboolean
exclusive(const VshCmd *cmd, const char *a, const char *b, GError **error)
{
    if (vsh_cmd_has(cmd, a) && vsh_cmd_has(cmd, b)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --%s and --%s are mutually exclusive", a, b);
        return FALSE;
    }
    return TRUE;
}

static gboolean
requires(const VshCmd *cmd, const char *opt, const char *needed, GError **error)
{
    if (vsh_cmd_has(cmd, opt) && !vsh_cmd_has(cmd, needed)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Option --%s is required by option --%s", needed, opt);
        return FALSE;
    }
    return TRUE;
}

static void
add_bool(JsonBuilder *b, const VshCmd *cmd, const char *opt, const char *member)
{
    json_builder_set_member_name(b, member);
    json_builder_add_boolean_value(b, vsh_cmd_has(cmd, opt));
}

static void
add_str(JsonBuilder *b, const char *member, const char *v)
{
    if (!v)
        return;
    json_builder_set_member_name(b, member);
    json_builder_add_string_value(b, v);
}

static gboolean
cmd_migrate(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *desturi = vsh_cmd_get_string(cmd, "desturi");
    guint64 timeout = 0, bandwidth = 0;
    g_autofree char *xml = NULL, *persistent_xml = NULL;

    if (!exclusive(cmd, "live", "offline", error) ||
        !exclusive(cmd, "timeout-suspend", "timeout-postcopy", error) ||
        !exclusive(cmd, "copy-storage-all", "copy-storage-inc", error) ||
        !requires(cmd, "postcopy-after-precopy", "postcopy", error) ||
        !requires(cmd, "timeout-postcopy", "postcopy", error) ||
        !requires(cmd, "persistent-xml", "persistent", error) ||
        !opt_u64(cmd, "timeout", &timeout, error) || !opt_u64(cmd, "bandwidth", &bandwidth, error))
        return FALSE;
    if (vsh_cmd_has(cmd, "timeout")) {
        if (timeout < 1 || timeout > G_MAXINT32) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "migrate: Invalid timeout");
            return FALSE;
        }
        if (!vsh_cmd_has(cmd, "live")) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "migrate: Unexpected timeout for offline migration");
            return FALSE;
        }
    } else if (vsh_cmd_has(cmd, "timeout-suspend") || vsh_cmd_has(cmd, "timeout-postcopy")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "migrate: Unexpected --timeout-* option without --timeout");
        return FALSE;
    }
    if (vsh_cmd_has(cmd, "xml") && !(xml = read_file(vsh_cmd_get_string(cmd, "xml"), error)))
        return FALSE;
    if (vsh_cmd_has(cmd, "persistent-xml") &&
        !(persistent_xml = read_file(vsh_cmd_get_string(cmd, "persistent-xml"), error)))
        return FALSE;

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "dest_uri", desturi);
    add_str(b, "migrate_uri", vsh_cmd_get_string(cmd, "migrateuri"));
    add_str(b, "dname", vsh_cmd_get_string(cmd, "dname"));
    add_str(b, "xml", xml);
    add_str(b, "persistent_xml", persistent_xml);
    add_bool(b, cmd, "live", "live");
    add_bool(b, cmd, "offline", "offline");
    add_bool(b, cmd, "persistent", "persistent");
    add_bool(b, cmd, "undefinesource", "undefine_source");
    add_bool(b, cmd, "suspend", "suspend");
    add_bool(b, cmd, "postcopy", "postcopy");
    add_bool(b, cmd, "postcopy-after-precopy", "postcopy_after_precopy");
    add_bool(b, cmd, "auto-converge", "auto_converge");
    add_bool(b, cmd, "tls", "tls");
    add_bool(b, cmd, "unsafe", "unsafe");
    add_str(b, "copy_storage",
            vsh_cmd_has(cmd, "copy-storage-all")   ? "all"
            : vsh_cmd_has(cmd, "copy-storage-inc") ? "inc"
                                                   : "none");
    json_builder_set_member_name(b, "bandwidth_mib");
    json_builder_add_int_value(b, (gint64)MIN(bandwidth, (guint64)G_MAXINT64));
    json_builder_set_member_name(b, "timeout_s");
    json_builder_add_int_value(b, (gint64)timeout);
    add_str(b, "timeout_action",
            !timeout                               ? "none"
            : vsh_cmd_has(cmd, "timeout-postcopy") ? "postcopy"
                                                   : "suspend");
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);

    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return FALSE;
    Migrating m = {
        .ctl = ctl,
        .dom = dom,
        .verbose = vsh_cmd_has(cmd, "verbose"),
        .last_pct = -1,
        .timeout_s = (guint)timeout,
        .timeout_postcopy = vsh_cmd_has(cmd, "timeout-postcopy"),
        .started = g_get_monotonic_time(),
    };
    g_autofree char *path = vsh_domain_path(dom, "/migrate");
    g_autofree char *job_path = vsh_domain_path(dom, "/job");
    draw(&m, 0, FALSE);
    guint sig = g_unix_signal_add(SIGINT, on_sigint, &m);
    g_autoptr(JsonNode) answer = vsh_client_post_polling(client, path, body, job_path, on_job,
                                                         on_end, &m, error);
    g_source_remove(sig);
    if (!answer && g_error_matches(*error, VD_ERROR, VD_ERROR_NO_DOMAIN)) {
        g_clear_error(error);
        g_set_error(error, VD_ERROR, VD_ERROR_NO_DOMAIN, "failed to get domain '%s'", dom);
    }
    if (answer)
        vsh_print_warnings(answer);
    return answer != NULL;
}

/* ---- tunables ------------------------------------------------------------ */

static JsonNode *
get_params(VshCtl *ctl, const char *dom, GError **error)
{
    return vsh_domain_call(ctl, "GET", dom, "/migration-params", NULL, error);
}

static gboolean
put_param(VshCtl *ctl, const char *dom, const char *member, guint64 v, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, member);
    json_builder_add_int_value(b, (gint64)MIN(v, (guint64)G_MAXINT64));
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "PUT", dom, "/migration-params", body, error);
    return answer != NULL;
}

static gboolean
cmd_setmaxdowntime(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *v = vsh_cmd_get_string(cmd, "downtime");
    char *end = NULL;
    gint64 ms = g_ascii_strtoll(v, &end, 10);
    if (!*v || *end || ms < 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "migrate: Invalid downtime");
        return FALSE;
    }
    return put_param(ctl, vsh_cmd_get_string(cmd, "domain"), "max_downtime_ms", (guint64)ms,
                     error);
}

static gboolean
cmd_getmaxdowntime(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = get_params(ctl, vsh_cmd_get_string(cmd, "domain"), error);
    if (!answer)
        return FALSE;
    JsonObject *o = vsh_json_root(answer);
    if (!o || !json_object_has_member(o, "max_downtime_ms")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
        return FALSE;
    }
    vsh_print(ctl, "%" G_GINT64_FORMAT "\n", vsh_json_int(o, "max_downtime_ms", 0));
    return TRUE;
}

static gboolean
cmd_setspeed(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    guint64 mib = 0;
    if (vsh_cmd_has(cmd, "postcopy")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: a separate post-copy bandwidth is not supported; "
                    "the limit applies to both phases");
        return FALSE;
    }
    if (!opt_u64(cmd, "bandwidth", &mib, error))
        return FALSE;
    return put_param(ctl, vsh_cmd_get_string(cmd, "domain"), "speed_mib", mib, error);
}

static gboolean
cmd_getspeed(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = get_params(ctl, vsh_cmd_get_string(cmd, "domain"), error);
    if (!answer)
        return FALSE;
    vsh_print(ctl, "%" G_GINT64_FORMAT "\n", vsh_json_int(vsh_json_root(answer), "speed_mib", 0));
    return TRUE;
}

static gboolean
cmd_postcopy(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "POST", vsh_cmd_get_string(cmd, "domain"),
                                                 "/migration-postcopy", NULL, error);
    return answer != NULL;
}

#define OPT_BOOL(name, help)                                                                       \
    {                                                                                              \
        name, VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, help                                              \
    }

static const VshOptDef opts_migrate[] = {
    VSH_OPT_DOMAIN,
    {"desturi", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "connection URI of the destination host as seen from the source daemon (peer to peer)"},
    OPT_BOOL("live", "live migration"),
    OPT_BOOL("offline", "offline migration"),
    OPT_BOOL("p2p", "accepted: every migration is peer to peer"),
    OPT_BOOL("persistent", "persist VM on destination"),
    OPT_BOOL("undefinesource", "undefine VM on source"),
    OPT_BOOL("suspend", "do not restart the domain on the destination host"),
    OPT_BOOL("copy-storage-all", "migration with non-shared storage with full disk copy"),
    OPT_BOOL("copy-storage-inc",
             "migration with non-shared storage with incremental copy (same base image shared "
             "between source and destination)"),
    OPT_BOOL("unsafe", "force migration even if it may be unsafe"),
    OPT_BOOL("verbose", "display the progress of migration"),
    OPT_BOOL("auto-converge", "force convergence during live migration"),
    OPT_BOOL("postcopy", "enable post-copy migration; switch to it using migrate-postcopy command"),
    OPT_BOOL("postcopy-after-precopy",
             "automatically switch to post-copy migration after one pass of pre-copy"),
    {"migrateuri", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "migration URI, usually can be omitted (tcp://HOST[:PORT])"},
    {"dname", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "rename to new name during migration"},
    {"timeout", VSH_OT_INT, 0, VSH_COMPLETE_NONE,
     "run action specified by --timeout-* option (suspend by default) if live migration "
     "exceeds timeout (in seconds)"},
    OPT_BOOL("timeout-suspend", "suspend the guest after timeout"),
    OPT_BOOL("timeout-postcopy", "switch to post-copy after timeout"),
    {"xml", VSH_OT_STRING, 0, VSH_COMPLETE_FILE, "filename containing updated XML for the target"},
    {"persistent-xml", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "filename containing updated persistent XML for the target"},
    OPT_BOOL("tls", "use TLS for migration"),
    {"bandwidth", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "migration bandwidth limit in MiB/s"},
    {NULL},
};

static const VshOptDef opts_setmaxdowntime[] = {
    VSH_OPT_DOMAIN,
    {"downtime", VSH_OT_INT, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "maximum tolerable downtime (in milliseconds) for migration"},
    {NULL},
};

static const VshOptDef opts_domain[] = {
    VSH_OPT_DOMAIN,
    {NULL},
};

static const VshOptDef opts_setspeed[] = {
    VSH_OPT_DOMAIN,
    {"bandwidth", VSH_OT_INT, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "migration bandwidth limit in MiB/s"},
    OPT_BOOL("postcopy", "set post-copy migration bandwidth"),
    {NULL},
};

static const VshOptDef opts_getspeed[] = {
    VSH_OPT_DOMAIN,
    OPT_BOOL("postcopy", "get post-copy migration bandwidth"),
    {NULL},
};

const VshCmdDef vsh_migrate_commands[] = {
    {"migrate", "domain", opts_migrate, cmd_migrate, "migrate domain to another host",
     "Migrate domain to another host.  Add --live for live migration."},
    {"migrate-setmaxdowntime", "domain", opts_setmaxdowntime, cmd_setmaxdowntime,
     "set maximum tolerable downtime",
     "Set maximum tolerable downtime of a domain which is being live-migrated to another host."},
    {"migrate-getmaxdowntime", "domain", opts_domain, cmd_getmaxdowntime,
     "get maximum tolerable downtime",
     "Get maximum tolerable downtime of a domain which is being live-migrated to another host."},
    {"migrate-setspeed", "domain", opts_setspeed, cmd_setspeed,
     "Set the maximum migration bandwidth",
     "Set the maximum migration bandwidth (in MiB/s) for a domain which is being migrated to "
     "another host."},
    {"migrate-getspeed", "domain", opts_getspeed, cmd_getspeed,
     "Get the maximum migration bandwidth",
     "Get the maximum migration bandwidth (in MiB/s) for a domain."},
    {"migrate-postcopy", "domain", opts_domain, cmd_postcopy,
     "Switch running migration from pre-copy to post-copy",
     "Switch running migration from pre-copy to post-copy. The migration must have been started "
     "with --postcopy option."},
    {NULL},
};
