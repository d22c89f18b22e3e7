/* update-memory-device: a virtio-mem device's requested size (libvirt
 * 9.x's command), over PUT /v1/domains/D/memory-devices. */
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-units.h"
#include "vsh-client.h"
#include "vsh-device.h"
#include "vsh.h"

static const VshOptDef opts_update_memory_device[] = {
    VSH_OPT_DOMAIN,
    {"alias", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "memory device alias"},
    {"node", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "memory device target node"},
    {"requested-size", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "new value of <requested/> size, as scaled integer (default KiB)"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {NULL},
};

static gboolean
cmd_update_memory_device(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *size = vsh_cmd_get_string(cmd, "requested-size");
    const char *alias = vsh_cmd_get_string(cmd, "alias");
    const char *node = vsh_cmd_get_string(cmd, "node");
    VshAffect affect;
    guint64 bytes, n = 0;

    if (!vsh_affect_from_cmd(cmd, FALSE, &affect, error))
        return FALSE;
    if (!size) {
        /* virsh changes nothing else: without the size there is nothing to do. */
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "command 'update-memory-device' requires --requested-size option");
        return FALSE;
    }
    if (!vd_size_parse(size, "KiB", &bytes, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Scaled numeric value '%s' for <--requested-size> option is malformed or "
                    "out of range",
                    size);
        return FALSE;
    }
    if (node && !g_ascii_string_to_unsigned(node, 10, 0, 255, &n, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Numeric value '%s' for <node> option is malformed or out of range", node);
        return FALSE;
    }
    g_autofree char *query = vsh_affect_query(ctl, dom, &affect, error);
    if (!query)
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "requested_kib");
    json_builder_add_int_value(b, (gint64)(bytes / 1024));
    if (alias) {
        json_builder_set_member_name(b, "alias");
        json_builder_add_string_value(b, alias);
    }
    if (node) {
        json_builder_set_member_name(b, "node");
        json_builder_add_int_value(b, (gint64)n);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *suffix = g_strconcat("/memory-devices", query, NULL);
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "PUT", dom, suffix, body, error);
    /* virsh prints nothing when it succeeds. */
    return answer != NULL;
}

const VshCmdDef vsh_domain_memdev_commands[] = {
    {"update-memory-device", "domain", opts_update_memory_device, cmd_update_memory_device,
     "update memory device of a domain",
     "Update values of a memory device of domain: the requested size of a virtio-mem device "
     "(the guest gets or gives back memory while it runs)."},
    {NULL},
};
