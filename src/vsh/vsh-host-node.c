/* The host's hardware and health: nodeinfo, nodememstats, nodecpustats and
 * sysinfo print what virsh prints (libvirt's tools/virsh-host.c formats);
 * host-validate prints virt-host-validate's lines, from the daemon's
 * checks (GET /v1/host/validate, daemon/host-validate.h). */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh.h"

static JsonNode *
host_get(VshCtl *ctl, const char *path, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);

    return client ? vsh_client_call(client, "GET", path, NULL, error) : NULL;
}

/* "/v1/host/X" or "/v1/host/X?NAME=VALUE" when option @name was given:
 * its value is checked by the parser (VSH_OT_INT) and the daemon. */
static char *
path_with_option(const VshCmd *cmd, const char *base, const char *name)
{
    const char *value = vsh_cmd_get_string(cmd, name);
    g_autofree char *escaped = value ? g_uri_escape_string(value, NULL, FALSE) : NULL;

    return value ? g_strdup_printf("%s?%s=%s", base, name, escaped) : g_strdup(base);
}

static gboolean
cmd_nodeinfo(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = host_get(ctl, "/v1/host/node", error);
    JsonObject *o;

    if (!answer)
        return FALSE;
    o = json_node_get_object(answer);
    vsh_print(ctl, "%-20s %s\n", "CPU model:", vsh_json_string(o, "model", "unknown"));
    vsh_print(ctl, "%-20s %d\n", "CPU(s):", (int)vsh_json_int(o, "cpus", 0));
    if (vsh_json_int(o, "mhz", 0))
        vsh_print(ctl, "%-20s %d MHz\n", "CPU frequency:", (int)vsh_json_int(o, "mhz", 0));
    vsh_print(ctl, "%-20s %d\n", "CPU socket(s):", (int)vsh_json_int(o, "sockets", 0));
    vsh_print(ctl, "%-20s %d\n", "Core(s) per socket:", (int)vsh_json_int(o, "cores", 0));
    vsh_print(ctl, "%-20s %d\n", "Thread(s) per core:", (int)vsh_json_int(o, "threads", 0));
    vsh_print(ctl, "%-20s %d\n", "NUMA cell(s):", (int)vsh_json_int(o, "nodes", 0));
    vsh_print(ctl, "%-20s %" G_GINT64_FORMAT " KiB\n",
              "Memory size:", vsh_json_int(o, "memory_kib", 0));
    return TRUE;
}

static gboolean
cmd_nodememstats(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    static const char *const fields[] = {"total", "free", "buffers", "cached"};
    g_autofree char *path = path_with_option(cmd, "/v1/host/memory-stats", "cell");
    g_autoptr(JsonNode) answer = host_get(ctl, path, error);
    JsonObject *o;

    if (!answer)
        return FALSE;
    o = json_node_get_object(answer);
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
        if (json_object_has_member(o, fields[i]))
            vsh_print(ctl, "%-7s: %20" G_GINT64_FORMAT " KiB\n", fields[i],
                      vsh_json_int(o, fields[i], 0));
    return TRUE;
}

/* virsh's order and words; "system" is the daemon's "kernel". */
static const char *const cpu_fields[][2] = {
    {"user", "user:"},
    {"kernel", "system:"},
    {"idle", "idle:"},
    {"iowait", "iowait:"},
};

static gboolean
read_cpu_stats(VshCtl *ctl, const char *path, gint64 *values, GError **error)
{
    g_autoptr(JsonNode) answer = host_get(ctl, path, error);

    if (!answer)
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(cpu_fields); i++)
        values[i] = vsh_json_int(json_node_get_object(answer), cpu_fields[i][0], 0);
    return TRUE;
}

static gboolean
cmd_nodecpustats(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree char *path = path_with_option(cmd, "/v1/host/cpu-stats", "cpu");
    gint64 first[G_N_ELEMENTS(cpu_fields)], second[G_N_ELEMENTS(cpu_fields)];

    if (!read_cpu_stats(ctl, path, first, error))
        return FALSE;
    if (!vsh_cmd_has(cmd, "percent")) {
        for (guint i = 0; i < G_N_ELEMENTS(cpu_fields); i++)
            vsh_print(ctl, "%-15s %20" G_GINT64_FORMAT "\n", cpu_fields[i][1], first[i]);
        return TRUE;
    }
    /* As virsh: the shares of the second that follows. */
    g_usleep(G_USEC_PER_SEC);
    if (!read_cpu_stats(ctl, path, second, error))
        return FALSE;
    double total = 0;
    for (guint i = 0; i < G_N_ELEMENTS(cpu_fields); i++) {
        /* The kernel's idle and iowait counters may step back (proc(5):
         * iowait "is not reliable"): a share is never negative. */
        second[i] = MAX(second[i] - first[i], 0);
        total += (double)second[i];
    }
    if (total <= 0)
        total = 1;
    vsh_print(ctl, "%-15s %5.1lf%%\n", "usage:", (second[0] + second[1]) / total * 100);
    for (guint i = 0; i < G_N_ELEMENTS(cpu_fields); i++)
        vsh_print(ctl, "%-15s %5.1lf%%\n", cpu_fields[i][1], second[i] / total * 100);
    return TRUE;
}

static gboolean
cmd_sysinfo(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autoptr(GBytes) xml =
        client ? vsh_client_send(client, "GET", "/v1/host/sysinfo", NULL, NULL, NULL, error) : NULL;
    gsize len = 0;
    const char *data;

    if (!xml)
        return FALSE;
    data = g_bytes_get_data(xml, &len);
    vsh_print(ctl, "%.*s", (int)len, data);
    return TRUE;
}

/* virt-host-validate's line: "  QEMU: Checking LABEL<pad to 60> : RESULT",
 * then " (detail)"; a WARN or FAIL line is followed by its fix. */
static gboolean
cmd_host_validate(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = host_get(ctl, "/v1/host/validate", error);
    JsonArray *checks;
    gint64 failed;

    if (!answer)
        return FALSE;
    checks = vsh_json_array(json_node_get_object(answer), "checks");
    for (guint i = 0; checks && i < json_array_get_length(checks); i++) {
        JsonObject *c = vsh_json_array_object(checks, i);
        const char *result = vsh_json_string(c, "result", "?");
        const char *detail = vsh_json_string(c, "detail", NULL);
        const char *fix = vsh_json_string(c, "fix", NULL);

        if (vsh_cmd_has(cmd, "problems") && g_str_equal(result, "PASS"))
            continue;
        vsh_print(ctl, "%6s: Checking %-60s: %s%s%s%s\n", vsh_json_string(c, "group", ""),
                  vsh_json_string(c, "check", ""), result, detail ? " (" : "", detail ? detail : "",
                  detail ? ")" : "");
        if (fix && !g_str_equal(result, "PASS"))
            vsh_print(ctl, "%6s  Fix: %s\n", "", fix);
    }
    failed = vsh_json_int(json_node_get_object(answer), "fail", 0);
    if (failed) {
        /* virt-host-validate's exit status 1 */
        g_set_error(
            error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
            "%" G_GINT64_FORMAT " host check%s failed: see the FAIL line%s and %s fix above",
            failed, failed == 1 ? "" : "s", failed == 1 ? "" : "s", failed == 1 ? "its" : "their");
        return FALSE;
    }
    return TRUE;
}

static const VshOptDef opts_nodememstats[] = {
    {"cell", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "prints specified cell statistics only."},
    {NULL},
};

static const VshOptDef opts_nodecpustats[] = {
    {"cpu", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "prints specified cpu statistics only."},
    {"percent", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "prints by percentage during 1 second."},
    {NULL},
};

static const VshOptDef opts_host_validate[] = {
    {"problems", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "print only the WARN and FAIL lines"},
    {NULL},
};

const VshCmdDef vsh_host_node_commands[] = {
    {"host-validate", "host", opts_host_validate, cmd_host_validate,
     "validate the host for running guests",
     "virt-host-validate's checks with the daemon's knowledge: hardware virtualization, "
     "/dev/kvm and whether KVM really runs guest kernels (the daemon's probe), vhost-net, "
     "tun, cgroup controllers, IOMMU, QEMU and its machine types, nftables, br_netfilter, "
     "dnsmasq, free space in the pools. One line per check; each WARN or FAIL line is "
     "followed by its fix. Exits non-zero when a check fails."},
    {"nodecpustats", "host", opts_nodecpustats, cmd_nodecpustats, "Prints cpu stats of the node.",
     "Returns cpu stats of the node, in nanoseconds."},
    {"nodeinfo", "host", NULL, cmd_nodeinfo, "node information",
     "Returns basic information about the node."},
    {"nodememstats", "host", opts_nodememstats, cmd_nodememstats,
     "Prints memory stats of the node.", "Returns memory stats of the node, in kilobytes."},
    {"sysinfo", "host", NULL, cmd_sysinfo, "print the hypervisor sysinfo",
     "output an XML string for the hypervisor sysinfo, if available"},
    {NULL},
};
