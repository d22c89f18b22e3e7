/* vCPUs: setvcpus, vcpucount, vcpuinfo, vcpupin, emulatorpin.
 *
 * Output as virsh prints it (tools/virsh-domain.c): vcpucount's
 * "maximum      config         4" rows, vcpuinfo's "VCPU:           0"
 * blocks with the 'y'/'-' affinity map, vcpupin's "VCPU   CPU Affinity"
 * table, emulatorpin's "emulator: CPU Affinity" block. No scope flag
 * means --current (the daemon's rule, vd_domain_affect). */
#include <stdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-device.h"
#include "vsh-format.h"

static const char *
dom_of(const VshCmd *cmd)
{
    return vsh_cmd_get_string(cmd, "domain");
}

/* A non-negative integer option. */
static gboolean
get_uint(const VshCmd *cmd, const char *name, guint *out, GError **error)
{
    const char *s = vsh_cmd_get_string(cmd, name);
    char *end = NULL;
    guint64 v = s ? g_ascii_strtoull(s, &end, 10) : 0;
    if (!s || !*s || *end || !g_ascii_isdigit(*s) || v > G_MAXINT) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Invalid number of virtual CPUs");
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

static char *
scope_query(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    VshAffect affect;
    if (!vsh_affect_from_cmd(cmd, FALSE, &affect, error))
        return NULL;
    return vsh_affect_query(ctl, dom_of(cmd), &affect, error);
}

/* PUT of @b's object (taken) on the domain's @suffix. */
static JsonNode *
put_json(VshCtl *ctl, const VshCmd *cmd, const char *suffix, JsonBuilder *b, GError **error)
{
    g_autoptr(JsonBuilder) owned = b;
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    return vsh_domain_call(ctl, "PUT", dom_of(cmd), suffix, body, error);
}

/* ---- setvcpus ---------------------------------------------------------- */

static gboolean
cmd_setvcpus(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    guint count;
    gboolean maximum = vsh_cmd_has(cmd, "maximum"), guest = vsh_cmd_has(cmd, "guest");
    if (!get_uint(cmd, "count", &count, error))
        return FALSE;
    if (guest && vsh_cmd_has(cmd, "config")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --guest and --config are mutually exclusive");
        return FALSE;
    }
    if (maximum && vsh_cmd_has(cmd, "live")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: maximum vcpu count of a live domain can't be modified: "
                    "use --config --maximum, then shut the domain down and start it again");
        return FALSE;
    }
    g_autofree char *query = scope_query(ctl, cmd, error);
    if (!query)
        return FALSE;
    g_autofree char *suffix = g_strconcat("/vcpus", query, NULL);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "count");
    json_builder_add_int_value(b, count);
    json_builder_set_member_name(b, "maximum");
    json_builder_add_boolean_value(b, maximum);
    json_builder_set_member_name(b, "guest");
    json_builder_add_boolean_value(b, guest);
    json_builder_end_object(b);
    g_autoptr(JsonNode) answer = put_json(ctl, cmd, suffix, b, error);
    return answer != NULL;
}

/* ---- vcpucount ------------------------------------------------------------ */

static gboolean
cmd_vcpucount(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    gboolean maximum = vsh_cmd_has(cmd, "maximum"), active = vsh_cmd_has(cmd, "active");
    gboolean live = vsh_cmd_has(cmd, "live"), config = vsh_cmd_has(cmd, "config");
    gboolean current = vsh_cmd_has(cmd, "current"), guest = vsh_cmd_has(cmd, "guest");

    /* virsh: --current alone is the old spelling of --active. */
    if (current && !(maximum || config || live)) {
        active = TRUE;
        current = FALSE;
    }
    if (maximum && active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--maximum and --active cannot both be specified");
        return FALSE;
    }
    if ((current && (live || config)) || (live && config)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --%s and --%s are mutually exclusive",
                    live && config ? "live" : "current", config ? "config" : "live");
        return FALSE;
    }
    if (guest && (config || maximum)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --guest and --%s are mutually exclusive",
                    config ? "config" : "maximum");
        return FALSE;
    }
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "GET", dom_of(cmd), guest ? "/vcpus?guest=1" : "/vcpus", NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *root = vsh_json_root(answer);
    gboolean running = json_object_has_member(root, "maximum_live");
    if (guest) {
        vsh_print(ctl, "%" G_GINT64_FORMAT "\n", vsh_json_int(root, "guest", 0));
        return TRUE;
    }
    if (!maximum && !active) {
        static const char *const rows[][3] = {
            {"maximum", "config", "maximum_config"},
            {"maximum", "live", "maximum_live"},
            {"current", "config", "current_config"},
            {"current", "live", "current_live"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
            gboolean is_live = g_str_equal(rows[i][1], "live");
            if ((live && !is_live) || (config && is_live) ||
                !json_object_has_member(root, rows[i][2]))
                continue;
            vsh_print(ctl, "%-12s %-12s %3" G_GINT64_FORMAT "\n", rows[i][0], rows[i][1],
                      vsh_json_int(root, rows[i][2], 0));
        }
        return TRUE;
    }
    gboolean use_live = live || (!config && running);
    if (use_live && !running) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
        return FALSE;
    }
    g_autofree char *member =
        g_strconcat(maximum ? "maximum_" : "current_", use_live ? "live" : "config", NULL);
    if (!json_object_has_member(root, member)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: transient domain has no persistent "
                    "configuration");
        return FALSE;
    }
    vsh_print(ctl, "%" G_GINT64_FORMAT "\n", vsh_json_int(root, member, 0));
    return TRUE;
}

/* ---- vcpuinfo --------------------------------------------------------------- */

/* virsh's map: 'y' for each host CPU in @cpuset, '-' for the others. */
static char *
affinity_map(const char *cpuset, guint host)
{
    g_autofree gboolean *in = g_new0(gboolean, host);
    g_auto(GStrv) parts = g_strsplit(cpuset ? cpuset : "", ",", -1);
    for (guint i = 0; parts[i]; i++) {
        guint lo = 0, hi = 0;
        if (sscanf(parts[i], "%u-%u", &lo, &hi) < 2)
            hi = lo;
        for (guint c = lo; c <= hi && c < host; c++)
            in[c] = TRUE;
    }
    GString *s = g_string_new(NULL);
    for (guint c = 0; c < host; c++)
        g_string_append_c(s, in[c] ? 'y' : '-');
    return g_string_free(s, FALSE);
}

static const char *
pin_of(JsonObject *root, const char *member, gint64 vcpu)
{
    JsonArray *pins = vsh_json_array(root, member);
    for (guint i = 0; pins && i < json_array_get_length(pins); i++) {
        JsonObject *p = vsh_json_array_object(pins, i);
        if (p && vsh_json_int(p, "vcpu", -1) == vcpu)
            return vsh_json_string(p, "cpuset", NULL);
    }
    return NULL;
}

static void
print_affinity(VshCtl *ctl, const char *cpuset, guint host, gboolean pretty)
{
    if (pretty) {
        vsh_print(ctl, "%-15s %s (out of %u)\n", "CPU Affinity:", cpuset, host);
    } else {
        g_autofree char *map = affinity_map(cpuset, host);
        vsh_print(ctl, "%-15s %s\n", "CPU Affinity:", map);
    }
}

static gboolean
cmd_vcpuinfo(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    gboolean pretty = vsh_cmd_has(cmd, "pretty");
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom_of(cmd), "/vcpus", NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *root = vsh_json_root(answer);
    guint host = (guint)vsh_json_int(root, "host_cpus", 1);
    JsonArray *vcpus = vsh_json_array(root, "vcpus");
    if (vcpus) {
        for (guint i = 0; i < json_array_get_length(vcpus); i++) {
            JsonObject *v = vsh_json_array_object(vcpus, i);
            vsh_print(ctl, "%-15s %" G_GINT64_FORMAT "\n", "VCPU:", vsh_json_int(v, "vcpu", 0));
            vsh_print(ctl, "%-15s %" G_GINT64_FORMAT "\n", "CPU:", vsh_json_int(v, "cpu", -1));
            vsh_print(ctl, "%-15s %s\n", "State:", vsh_json_string(v, "state", "running"));
            vsh_print(ctl, "%-15s %.1lfs\n",
                      "CPU time:", (double)vsh_json_int(v, "cpu_time_ns", 0) / 1e9);
            print_affinity(ctl, vsh_json_string(v, "affinity", ""), host, pretty);
            vsh_print(ctl, "\n");
        }
        return TRUE;
    }
    /* Shut off: the definition's vCPUs, as virsh (N/A for what runs). */
    gint64 n = vsh_json_int(root, "current_config", 0);
    for (gint64 i = 0; i < n; i++) {
        vsh_print(ctl, "%-15s %" G_GINT64_FORMAT "\n", "VCPU:", i);
        vsh_print(ctl, "%-15s %s\n", "CPU:", "N/A");
        vsh_print(ctl, "%-15s %s\n", "State:", "N/A");
        vsh_print(ctl, "%-15s %s\n", "CPU time:", "N/A");
        print_affinity(ctl, pin_of(root, "pins_config", i), host, pretty);
        vsh_print(ctl, "\n");
    }
    return TRUE;
}

/* ---- vcpupin, emulatorpin ------------------------------------------------------ */

/* virsh's 'r' resets the pin to every host CPU. */
static char *
cpulist_arg(VshCtl *ctl, const VshCmd *cmd, const char *list, GError **error)
{
    if (!g_str_equal(list, "r"))
        return g_strdup(list);
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "GET", dom_of(cmd), "/emulatorpin", NULL, error);
    if (!answer)
        return NULL;
    return g_strdup_printf("0-%" G_GINT64_FORMAT,
                           vsh_json_int(vsh_json_root(answer), "host_cpus", 1) - 1);
}

static JsonBuilder *
cpuset_body(const char *cpuset)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "cpuset");
    json_builder_add_string_value(b, cpuset);
    json_builder_end_object(b);
    return b;
}

/* PUT @path (plus the scope's query) {"cpuset": ...} from --cpulist @list:
 * vcpupin and emulatorpin in pin mode. */
static gboolean
put_pin(VshCtl *ctl, const VshCmd *cmd, VshAffect *affect, const char *path, const char *list,
        GError **error)
{
    g_autofree char *query = vsh_affect_query(ctl, dom_of(cmd), affect, error);
    g_autofree char *cpuset = query ? cpulist_arg(ctl, cmd, list, error) : NULL;
    if (!cpuset)
        return FALSE;
    g_autofree char *suffix = g_strconcat(path, query, NULL);
    g_autoptr(JsonNode) answer = put_json(ctl, cmd, suffix, cpuset_body(cpuset), error);
    return answer != NULL;
}

static gboolean
cmd_vcpupin(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *vcpu_s = vsh_cmd_get_string(cmd, "vcpu");
    const char *list = vsh_cmd_get_string(cmd, "cpulist");
    guint vcpu = 0;
    if (vcpu_s && !get_uint(cmd, "vcpu", &vcpu, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "vcpupin: Invalid vCPU number.");
        return FALSE;
    }
    if (list && !vcpu_s) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "vcpupin: Missing vCPU number in pin mode.");
        return FALSE;
    }
    VshAffect affect;
    if (!vsh_affect_from_cmd(cmd, FALSE, &affect, error))
        return FALSE;
    if (list) {
        g_autofree char *path = g_strdup_printf("/vcpus/%u/pin", vcpu);
        return put_pin(ctl, cmd, &affect, path, list, error);
    }
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom_of(cmd), "/vcpus", NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *root = vsh_json_root(answer);
    gboolean running = json_object_has_member(root, "pins_live");
    if (affect.live && !running) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
        return FALSE;
    }
    const char *member = affect.config || !running ? "pins_config" : "pins_live";
    JsonArray *pins = vsh_json_array(root, member);
    if (vcpu_s && (!pins || vcpu >= json_array_get_length(pins))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: vcpu %u is out of range of %s cpu count %u", vcpu,
                    g_str_equal(member, "pins_live") ? "live" : "persistent",
                    pins ? json_array_get_length(pins) : 0);
        return FALSE;
    }
    g_autoptr(VshTable) table = vsh_table_new("VCPU", "CPU Affinity", NULL);
    for (guint i = 0; pins && i < json_array_get_length(pins); i++) {
        JsonObject *p = vsh_json_array_object(pins, i);
        if (vcpu_s && (guint)vsh_json_int(p, "vcpu", -1) != vcpu)
            continue;
        g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, vsh_json_int(p, "vcpu", 0));
        const char *cells[] = {n, vsh_json_string(p, "cpuset", "")};
        vsh_table_add_row(table, cells);
    }
    g_autofree char *text = vsh_table_render(table, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static gboolean
cmd_emulatorpin(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *list = vsh_cmd_get_string(cmd, "cpulist");
    VshAffect affect;
    if (!vsh_affect_from_cmd(cmd, FALSE, &affect, error))
        return FALSE;
    if (list)
        return put_pin(ctl, cmd, &affect, "/emulatorpin", list, error);
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "GET", dom_of(cmd), "/emulatorpin", NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *root = vsh_json_root(answer);
    gboolean running = json_object_has_member(root, "live");
    if (affect.live && !running) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
        return FALSE;
    }
    const char *set = vsh_json_string(root, affect.config || !running ? "config" : "live", "");
    vsh_print_extra(ctl, "%s %s\n", "emulator:", "CPU Affinity");
    vsh_print_extra(ctl, "----------------------------------\n");
    vsh_print(ctl, "       *: %s\n", set);
    return TRUE;
}

static const VshOptDef opts_setvcpus[] = {
    VSH_OPT_DOMAIN,
    {"count", VSH_OT_INT, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "number of virtual CPUs"},
    {"maximum", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "set maximum limit on next boot"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {"guest", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "modify cpu state in the guest"},
    {"hotpluggable", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "make added vcpus hot(un)pluggable (always so here)"},
    {NULL},
};

static const VshOptDef opts_vcpucount[] = {
    VSH_OPT_DOMAIN,
    {"maximum", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "get maximum count of vcpus"},
    {"active", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "get number of currently active vcpus"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {"guest", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "count vcpus from guest's point of view"},
    {NULL},
};

static const VshOptDef opts_vcpuinfo[] = {
    VSH_OPT_DOMAIN,
    {"pretty", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "return human readable output"},
    {NULL},
};

static const VshOptDef opts_vcpupin[] = {
    VSH_OPT_DOMAIN,
    {"vcpu", VSH_OT_INT, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "vcpu number"},
    {"cpulist", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "host cpu number(s) to set, or omit option to query"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {NULL},
};

static const VshOptDef opts_emulatorpin[] = {
    VSH_OPT_DOMAIN,
    {"cpulist", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "host cpu number(s) to set, or omit option to query"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {NULL},
};

const VshCmdDef vsh_domain_vcpu_commands[] = {
    {"emulatorpin", "domain", opts_emulatorpin, cmd_emulatorpin,
     "control or query domain emulator affinity",
     "Pin domain emulator threads (QEMU's threads that are not vCPUs) to host physical CPUs."},
    {"setvcpus", "domain", opts_setvcpus, cmd_setvcpus, "change number of virtual CPUs",
     "Change the number of virtual CPUs in the guest domain: CPU hot-plug and hot-unplug "
     "up to the maximum of <vcpu>, or the definition with --config."},
    {"vcpucount", "domain", opts_vcpucount, cmd_vcpucount, "domain vcpu counts",
     "Returns the number of virtual CPUs used by the domain."},
    {"vcpuinfo", "domain", opts_vcpuinfo, cmd_vcpuinfo, "detailed domain vcpu information",
     "Returns basic information about the domain virtual CPUs."},
    {"vcpupin", "domain", opts_vcpupin, cmd_vcpupin, "control or query domain vcpu affinity",
     "Pin domain VCPUs to host physical CPUs."},
    {NULL},
};
