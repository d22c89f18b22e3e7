/* Statistics: domstats, domblkstat (domifstat is in vsh-domain-net.c), and
 * domusage, virtd's own: the usage history the daemon keeps (issue 14).
 *
 * Output as virsh prints it (tools/virsh-domain-monitor.c): domstats'
 * "Domain: 'NAME'" records of "  key=value" lines, domblkstat's
 * "vda rd_req N" lines (or --human's "number of read operations:"
 * labels, padded to 31). domstats asks for every domain in one request
 * (GET /v1/domain-stats).
 */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-domain-stats.h"
#include "vsh-format.h"
#include "vsh.h"

char *
vsh_render_domstats(JsonNode *answer)
{
    JsonArray *doms = vsh_json_array(vsh_json_root(answer), "domains");
    GString *out = g_string_new(NULL);

    for (guint i = 0; doms && i < json_array_get_length(doms); i++) {
        JsonObject *rec = vsh_json_array_object(doms, i);
        JsonObject *stats;

        if (!rec)
            continue;
        g_string_append_printf(out, "Domain: '%s'\n", vsh_json_string(rec, "name", ""));
        stats = json_object_has_member(rec, "stats") ? json_object_get_object_member(rec, "stats")
                                                     : NULL;
        g_autoptr(GList) keys = stats ? json_object_get_members(stats) : NULL;
        for (GList *k = keys; k; k = k->next) {
            JsonNode *v = json_object_get_member(stats, k->data);
            if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING)
                g_string_append_printf(out, "  %s=%s\n", (const char *)k->data,
                                       json_node_get_string(v));
            else if (JSON_NODE_HOLDS_VALUE(v))
                g_string_append_printf(out, "  %s=%" G_GINT64_FORMAT "\n", (const char *)k->data,
                                       json_node_get_int(v));
        }
        g_string_append(out, "\n");
    }
    return g_string_free(out, FALSE);
}

/* virsh's order, legacy names and --human labels (domblkstat_output) */
static const char *const blk_fields[][3] = {
    {"rd_req", "rd.reqs", "number of read operations:"},
    {"rd_bytes", "rd.bytes", "number of bytes read:"},
    {"wr_req", "wr.reqs", "number of write operations:"},
    {"wr_bytes", "wr.bytes", "number of bytes written:"},
    {"errs", NULL, "error count:"},
    {"flush_operations", "fl.reqs", "number of flush operations:"},
    {"rd_total_times", "rd.times", "total duration of reads (ns):"},
    {"wr_total_times", "wr.times", "total duration of writes (ns):"},
    {"flush_total_times", "fl.times", "total duration of flushes (ns):"},
};

char *
vsh_render_domblkstat(JsonObject *figures, const char *device, gboolean human)
{
    GString *out = g_string_new(NULL);

    if (human) {
        g_string_append_printf(out, "Device: %s\n", device);
        device = "";
    }
    for (gsize i = 0; i < G_N_ELEMENTS(blk_fields); i++) {
        if (!figures || !json_object_has_member(figures, blk_fields[i][0]))
            continue;
        g_string_append_printf(out, "%s %-*s %" G_GINT64_FORMAT "\n", device, human ? 31 : 0,
                               human ? blk_fields[i][2] : blk_fields[i][0],
                               json_object_get_int_member(figures, blk_fields[i][0]));
    }
    return g_string_free(out, FALSE);
}

JsonObject *
vsh_domblkstat_sum(JsonObject *stats)
{
    gint64 n = stats ? json_object_get_int_member_with_default(stats, "block.count", 0) : 0;
    JsonObject *sum = NULL;

    for (gint64 d = 0; d < n; d++) {
        for (gsize i = 0; i < G_N_ELEMENTS(blk_fields); i++) {
            if (!blk_fields[i][1])
                continue;
            g_autofree char *key =
                g_strdup_printf("block.%" G_GINT64_FORMAT ".%s", d, blk_fields[i][1]);
            if (!json_object_has_member(stats, key))
                continue;
            if (!sum)
                sum = json_object_new();
            json_object_set_int_member(
                sum, blk_fields[i][0],
                json_object_get_int_member_with_default(sum, blk_fields[i][0], 0) +
                    json_object_get_int_member(stats, key));
        }
    }
    return sum;
}

/* A figure of a usage point, divided by @div, with @decimals; "-" when
 * the daemon did not know it (null). */
static char *
usage_cell(JsonObject *p, const char *key, double div, int decimals)
{
    JsonNode *n = json_object_get_member(p, key);
    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return g_strdup("-");
    return g_strdup_printf("%.*f", decimals, json_node_get_double(n) / div);
}

char *
vsh_render_domusage(JsonNode *answer, GTimeZone *tz)
{
    static const struct {
        const char *key;
        double div;
        int decimals;
    } cols[] = {
        {"cpu_pct", 1, 1},        {"mem_kib", 1024, 1},    {"disk_rd_bps", 1024, 1},
        {"disk_wr_bps", 1024, 1}, {"net_rx_bps", 1024, 1}, {"net_tx_bps", 1024, 1},
    };
    g_autoptr(VshTable) t = vsh_table_new("Time", "CPU %", "Memory MiB", "Disk rd KiB/s",
                                          "Disk wr KiB/s", "Net rx KiB/s", "Net tx KiB/s", NULL);
    JsonArray *points = vsh_json_array(vsh_json_root(answer), "points");
    for (guint i = 0; points && i < json_array_get_length(points); i++) {
        JsonObject *p = vsh_json_array_object(points, i);
        if (!p)
            continue;
        JsonNode *tn = json_object_get_member(p, "t");
        gint64 secs = tn && JSON_NODE_HOLDS_VALUE(tn) ? (gint64)json_node_get_double(tn) : 0;
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(secs);
        g_autoptr(GDateTime) local = dt ? g_date_time_to_timezone(dt, tz) : NULL;
        char *cells[1 + G_N_ELEMENTS(cols)];
        cells[0] = local ? g_date_time_format(local, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
        for (gsize k = 0; k < G_N_ELEMENTS(cols); k++)
            cells[k + 1] = usage_cell(p, cols[k].key, cols[k].div, cols[k].decimals);
        vsh_table_add_row(t, (const char *const *)cells);
        for (gsize k = 0; k < G_N_ELEMENTS(cells); k++)
            g_free(cells[k]);
    }
    return vsh_table_render(t, TRUE);
}

/* ---- commands ------------------------------------------------------------ */

static const char *const groups[][2] = {
    {"state", "state"}, {"cpu-total", "cpu-total"}, {"balloon", "balloon"},
    {"vcpu", "vcpu"},   {"interface", "interface"}, {"block", "block"},
};

static const char *const list_flags[][2] = {
    {"list-active", "active=1"},
    {"list-inactive", "inactive=1"},
    {"list-persistent", "persistent=1"},
    {"list-transient", "transient=1"},
};

static const char *const list_states[][2] = {
    {"list-running", "running"},
    {"list-paused", "paused"},
    {"list-shutoff", "shutoff"},
    {"list-other", "other"},
};

static void
append_list(GString *q, const char *name, GPtrArray *values)
{
    if (!values->len)
        return;
    g_ptr_array_add(values, NULL);
    g_autofree char *joined = g_strjoinv(",", (char **)values->pdata);
    g_autofree char *esc = g_uri_escape_string(joined, ",", FALSE);
    g_string_append_printf(q, "%s%s=%s", q->len ? "&" : "", name, esc);
}

/* The domain a "no-domain" answer names ("... matching name 'x'"). */
static char *
missing_name(const GError *error)
{
    const char *end = strrchr(error->message, '\'');
    const char *start = end ? g_strrstr_len(error->message, end - error->message, "'") : NULL;
    return start ? g_strndup(start + 1, end - start - 1) : NULL;
}

static gboolean
cmd_domstats(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(GString) q = g_string_new(NULL);
    g_autoptr(GPtrArray) want = g_ptr_array_new();
    g_autoptr(GPtrArray) states = g_ptr_array_new();
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autofree const char **doms = vsh_cmd_get_argv(cmd, "domain");
    g_autoptr(GError) local = NULL;
    VshClient *client;

    for (gsize i = 0; i < G_N_ELEMENTS(groups); i++)
        if (vsh_cmd_has(cmd, groups[i][0]))
            g_ptr_array_add(want, (gpointer)groups[i][1]);
    for (gsize i = 0; i < G_N_ELEMENTS(list_states); i++)
        if (vsh_cmd_has(cmd, list_states[i][0]))
            g_ptr_array_add(states, (gpointer)list_states[i][1]);
    for (guint i = 0; doms && doms[i]; i++)
        g_ptr_array_add(names, (gpointer)doms[i]);
    if (names->len &&
        (states->len || vsh_cmd_has(cmd, "list-active") || vsh_cmd_has(cmd, "list-inactive") ||
         vsh_cmd_has(cmd, "list-persistent") || vsh_cmd_has(cmd, "list-transient"))) {
        /* virDomainListGetStats takes no list filters */
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the --list-* filters select among all domains: give "
                    "domain names or filters, not both");
        return FALSE;
    }
    append_list(q, "groups", want);
    append_list(q, "state", states);
    append_list(q, "names", names);
    for (gsize i = 0; i < G_N_ELEMENTS(list_flags); i++)
        if (vsh_cmd_has(cmd, list_flags[i][0]))
            g_string_append_printf(q, "%s%s", q->len ? "&" : "", list_flags[i][1]);

    if (!(client = vsh_ctl_client(ctl, error)))
        return FALSE;
    g_autofree char *path = g_strconcat("/v1/domain-stats", q->len ? "?" : "", q->str, NULL);
    g_autoptr(JsonNode) answer = vsh_client_call(client, "GET", path, NULL, &local);
    if (!answer) {
        g_autofree char *missing = NULL;
        if (g_error_matches(local, VD_ERROR, VD_ERROR_NO_DOMAIN) &&
            (missing = missing_name(local))) {
            g_set_error(error, VD_ERROR, VD_ERROR_NO_DOMAIN, "failed to get domain '%s'", missing);
            return FALSE;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    vsh_print_warnings(answer);
    g_autofree char *text = vsh_render_domstats(answer);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static gboolean
cmd_domblkstat(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *device = vsh_cmd_get_string(cmd, "device");
    gboolean human = vsh_cmd_has(cmd, "human");
    g_autoptr(JsonNode) answer = NULL;
    g_autoptr(JsonObject) sum = NULL;
    JsonObject *figures;

    if (device && *device) {
        g_autofree char *esc = g_uri_escape_string(device, NULL, FALSE);
        g_autofree char *suffix = g_strdup_printf("/disks/%s/stats", esc);
        if (!(answer = vsh_domain_call(ctl, "GET", dom, suffix, NULL, error)))
            return FALSE;
        figures = vsh_json_root(answer);
    } else {
        device = "";
        if (!(answer = vsh_domain_call(ctl, "GET", dom, "/stats?groups=state,block", NULL, error)))
            return FALSE;
        JsonObject *root = vsh_json_root(answer);
        JsonObject *stats = root && json_object_has_member(root, "stats")
                                ? json_object_get_object_member(root, "stats")
                                : NULL;
        gint64 state = stats ? json_object_get_int_member_with_default(stats, "state.state", 0) : 0;
        JsonArray *warnings = vsh_json_array(root, "warnings");
        if (state == 5 /* shut off */) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                        "Requested operation is not valid: domain is not running");
            return FALSE;
        }
        if (warnings && json_array_get_length(warnings) > 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "%s",
                        json_array_get_string_element(warnings, 0));
            return FALSE;
        }
        figures = sum = vsh_domblkstat_sum(stats);
        if (!figures) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: domain '%s' has no disk with statistics", dom);
            return FALSE;
        }
    }
    g_autofree char *text = vsh_render_domblkstat(figures, device, human);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static gboolean
cmd_domusage(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *range = vsh_cmd_get_string(cmd, "range");
    g_autofree char *esc = g_uri_escape_string(range && *range ? range : "hour", NULL, FALSE);
    g_autofree char *suffix = g_strdup_printf("/usage?range=%s", esc);
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom, suffix, NULL, error);
    if (!answer)
        return FALSE;
    g_autoptr(GTimeZone) tz = g_time_zone_new_local();
    g_autofree char *text = vsh_render_domusage(answer, tz);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static const VshOptDef opts_domusage[] = {
    VSH_OPT_DOMAIN,
    {"range", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "hour (10 s points, the default), day (5 min) or week (30 min)"},
    {NULL},
};

static const VshOptDef opts_domstats[] = {
    {"state", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "report domain state"},
    {"cpu-total", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "report domain physical cpu usage"},
    {"balloon", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "report domain balloon statistics"},
    {"vcpu", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "report domain virtual cpu information"},
    {"interface", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "report domain network interface information"},
    {"block", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "report domain block device statistics"},
    {"list-active", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only active domains"},
    {"list-inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only inactive domains"},
    {"list-persistent", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only persistent domains"},
    {"list-transient", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only transient domains"},
    {"list-running", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only running domains"},
    {"list-paused", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only paused domains"},
    {"list-shutoff", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only shutoff domains"},
    {"list-other", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only domains in other states"},
    {"domain", VSH_OT_ARGV, 0, VSH_COMPLETE_DOMAIN, "list of domains to get stats for"},
    {NULL},
};

static const VshOptDef opts_domblkstat[] = {
    VSH_OPT_DOMAIN,
    {"device", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "block device"},
    {"human", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "print a more human readable output"},
    {NULL},
};

const VshCmdDef vsh_domain_stats_commands[] = {
    {"domstats", "monitor", opts_domstats, cmd_domstats,
     "get statistics about one or multiple domains",
     "Gets statistics about one or more (or all) domains"},
    {"domusage", "monitor", opts_domusage, cmd_domusage,
     "show a domain's usage history (virtd's own command)",
     "Not a virsh command: prints the usage history the daemon keeps for a domain (CPU, "
     "memory, disk and network I/O; the graphs of the web console): one row per point, the "
     "last hour every 10 s, the last day every 5 min or the last week every 30 min. A figure "
     "the daemon could not read prints as '-'."},
    {"domblkstat", "monitor", opts_domblkstat, cmd_domblkstat,
     "get device block stats for a domain",
     "Get device block stats for a running domain. See man page or use --human for explanation of "
     "fields"},
    {NULL},
};
