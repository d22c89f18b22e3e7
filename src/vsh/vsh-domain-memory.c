/* setmem, setmaxmem, dommemstat (virsh-domain.c): the balloon and the
 * memory sizes, through /v1/domains/D/memory... (docs/api.md "Domain
 * memory"). */
#include <stdio.h>

#include "util/vd-error.h"
#include "util/vd-units.h"
#include "vsh-client.h"
#include "vsh-device.h"
#include "vsh.h"

/* virsh's scaled size, KiB by default, rounded up to whole KiB. */
static gboolean
size_kib(const VshCmd *cmd, guint64 *kib, GError **error)
{
    const char *str = vsh_cmd_get_string(cmd, "size");
    guint64 bytes = 0;
    g_autoptr(GError) local = NULL;

    if (!vd_size_parse(str, "KiB", &bytes, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Numeric value '%s' for <size> option is malformed or out of range", str);
        return FALSE;
    }
    *kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    return TRUE;
}

/* PUT /v1/domains/D/memory@query {@member: @kib}. */
static gboolean
put_memory(VshCtl *ctl, const VshCmd *cmd, const char *suffix, const char *member, gint64 value,
           GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    VshAffect affect = {0};
    g_autofree char *query = NULL;
    g_autofree char *path = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) body = NULL;
    g_autoptr(JsonNode) answer = NULL;

    if (!vsh_affect_from_cmd(cmd, FALSE, &affect, error) ||
        !(query = vsh_affect_query(ctl, dom, &affect, error)))
        return FALSE;
    path = g_strconcat(suffix, query, NULL);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, member);
    json_builder_add_int_value(b, value);
    json_builder_end_object(b);
    body = json_builder_get_root(b);
    answer = vsh_domain_call(ctl, "PUT", dom, path, body, error);
    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    return TRUE;
}

static gboolean
cmd_setmem(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    guint64 kib;
    /* virsh prints nothing on success. */
    return size_kib(cmd, &kib, error) &&
           put_memory(ctl, cmd, "/memory", "current_kib", (gint64)kib, error);
}

static gboolean
cmd_setmaxmem(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    guint64 kib;
    return size_kib(cmd, &kib, error) &&
           put_memory(ctl, cmd, "/memory", "max_kib", (gint64)kib, error);
}

static gboolean
cmd_dommemstat(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *period = vsh_cmd_get_string(cmd, "period");
    g_autoptr(JsonNode) answer = NULL;

    if (period) {
        gint64 p = g_ascii_strtoll(period, NULL, 10);
        if (p < 0 || p > G_MAXINT32) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "Invalid collection period value '%s'", period);
            return FALSE;
        }
        if (!put_memory(ctl, cmd, "/memory/stats-period", "period", p, error)) {
            /* virsh's line, then the cause. */
            if (!g_error_matches(*error, VD_ERROR, VD_ERROR_NO_DOMAIN))
                fprintf(stderr, "error: Unable to change balloon collection period.\n");
            return FALSE;
        }
        return TRUE;
    }
    answer = vsh_domain_call(ctl, "GET", dom, "/memory/stats", NULL, error);
    if (!answer) {
        if (!g_error_matches(*error, VD_ERROR, VD_ERROR_NO_DOMAIN))
            fprintf(stderr, "error: Failed to get memory statistics for domain %s\n", dom);
        return FALSE;
    }
    JsonArray *stats = vsh_json_array(vsh_json_root(answer), "stats");
    for (guint i = 0; stats && i < json_array_get_length(stats); i++) {
        JsonObject *s = vsh_json_array_object(stats, i);
        vsh_print(ctl, "%s %" G_GINT64_FORMAT "\n", vsh_json_string(s, "name", "?"),
                  vsh_json_int(s, "value", 0));
    }
    return TRUE;
}

static const VshOptDef opts_setmem[] = {
    VSH_OPT_DOMAIN,
    {"size", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "new memory size, as scaled integer (default KiB)"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {NULL},
};

static const VshOptDef opts_setmaxmem[] = {
    VSH_OPT_DOMAIN,
    {"size", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "new maximum memory size, as scaled integer (default KiB)"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {NULL},
};

static const VshOptDef opts_dommemstat[] = {
    VSH_OPT_DOMAIN,
    {"period", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "period in seconds to set collection"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {NULL},
};

const VshCmdDef vsh_domain_memory_commands[] = {
    {"setmem", "domain", opts_setmem, cmd_setmem, "change memory allocation",
     "Change the current memory allocation in the guest domain: live through the memory balloon "
     "(up to the maximum, <memory>), and/or <currentMemory> in the definition. Sizes take "
     "k/KiB, M/MiB, G/GiB (powers of 1024) or KB, MB, GB; KiB by default."},
    {"setmaxmem", "domain", opts_setmaxmem, cmd_setmaxmem, "change maximum memory limit",
     "Change the maximum memory allocation limit (<memory>) in the definition; it applies at the "
     "next boot. A running guest's maximum cannot change: hot-plug memory instead."},
    {"dommemstat", "domain", opts_dommemstat, cmd_dommemstat, "get memory statistics for a domain",
     "Get memory statistics for a running domain (the balloon's, the guest's own, and the QEMU "
     "process's resident size, in KiB). --period sets how often the guest reports them."},
    {NULL},
};
