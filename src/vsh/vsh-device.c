/* The scope of a change (--live/--config/--current/--persistent) and the
 * device commands that take any device XML: attach-device, detach-device,
 * update-device (virsh-domain.c). The daemon tells the device's class by
 * its element (<disk>, <interface>, <memory>, <controller>) and refuses
 * the others, naming them. */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-device.h"
#include "vsh-object.h"
#include "vsh-storage.h"

gboolean
vsh_affect_from_cmd(const VshCmd *cmd, gboolean has_persistent, VshAffect *out, GError **error)
{
    gboolean current = vsh_cmd_has(cmd, "current");
    gboolean persistent = has_persistent && vsh_cmd_has(cmd, "persistent");
    const char *clash = NULL;

    if (persistent && current)
        clash = "persistent";
    else if (current && vsh_cmd_has(cmd, "live"))
        clash = "live";
    else if (current && vsh_cmd_has(cmd, "config"))
        clash = "config";
    if (clash) {
        /* virsh names the pair in the order of its check. */
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --%s and --%s are mutually exclusive",
                    persistent && current ? "persistent" : "current",
                    persistent && current ? "current" : clash);
        return FALSE;
    }
    out->live = vsh_cmd_has(cmd, "live");
    out->config = vsh_cmd_has(cmd, "config") || persistent;
    /* --persistent: the definition, and the running guest if there is one. */
    out->need_active = persistent;
    return TRUE;
}

/* Resolves --persistent's "live if running" and returns the query. */
char *
vsh_affect_query(VshCtl *ctl, const char *dom, VshAffect *affect, GError **error)
{
    if (affect->need_active && !affect->live) {
        g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom, NULL, NULL, error);

        if (!answer)
            return NULL;
        affect->live = vsh_json_int(vsh_json_domain(answer), "id", -1) >= 0;
    }
    if (affect->live && affect->config)
        return g_strdup("?live=1&config=1");
    if (affect->live)
        return g_strdup("?live=1");
    if (affect->config)
        return g_strdup("?config=1");
    return g_strdup("");
}

gboolean
vsh_post_device(VshCtl *ctl, const VshCmd *cmd, const char *xml, VshDeviceOp op,
                const char *done, GError **error)
{
    return vsh_post_device_with(ctl, cmd, xml, op, NULL, done, error);
}

gboolean
vsh_post_device_with(VshCtl *ctl, const VshCmd *cmd, const char *xml, VshDeviceOp op,
                     const char *param, const char *done, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    VshAffect affect = {0};
    g_autofree char *query = NULL;
    g_autofree char *suffix = NULL;
    g_autofree char *path = NULL;
    g_autoptr(GBytes) body = NULL;
    g_autoptr(JsonNode) answer = NULL;
    g_autoptr(GError) local = NULL;
    VshClient *client;

    if (!vsh_affect_from_cmd(cmd, TRUE, &affect, error) ||
        !(query = vsh_affect_query(ctl, dom, &affect, error)) || !(client = vsh_ctl_client(ctl, error)))
        return FALSE;
    suffix = g_strconcat(op == VSH_DEVICE_DETACH ? "/devices/detach" : "/devices", query,
                         param ? (*query ? "&" : "?") : "", param, NULL);
    path = vsh_domain_path(dom, suffix);
    body = g_bytes_new(xml, strlen(xml));
    answer = vsh_client_send_for_json(client, op == VSH_DEVICE_UPDATE ? "PUT" : "POST", path, "application/xml", body, &local);
    if (!answer) {
        if (g_error_matches(local, VD_ERROR, VD_ERROR_NO_DOMAIN))
            g_set_error(error, VD_ERROR, VD_ERROR_NO_DOMAIN, "failed to get domain '%s'", dom);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    vsh_print_warnings(answer);
    vsh_print_extra(ctl, "%s", done);
    return TRUE;
}


/* attach-device, detach-device, update-device. */
static gboolean
cmd_device_file(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *name = cmd->def->name;
    VshDeviceOp op = g_str_equal(name, "detach-device")   ? VSH_DEVICE_DETACH
                     : g_str_equal(name, "update-device") ? VSH_DEVICE_UPDATE
                                                          : VSH_DEVICE_ATTACH;
    static const char *const done[] = {
        [VSH_DEVICE_ATTACH] = "Device attached successfully\n",
        [VSH_DEVICE_DETACH] = "Device detached successfully\n",
        [VSH_DEVICE_UPDATE] = "Device updated successfully\n",
    };
    g_autoptr(GBytes) data = vsh_read_small_file(vsh_cmd_get_string(cmd, "file"), error);
    g_autofree char *xml = NULL;

    if (!data)
        return FALSE;
    xml = vsh_bytes_to_string(data);
    return vsh_post_device(ctl, cmd, xml, op, done[op], error);
}

static const VshOptDef opts_device_file[] = {
    VSH_OPT_DOMAIN,
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE, "XML file"},
    VSH_OPTS_AFFECT,
    {NULL},
};

const VshCmdDef vsh_device_commands[] = {
    {"attach-device", "domain", opts_device_file, cmd_device_file, "attach device from an XML file",
     "Attach a device (<disk>, <interface>, <memory>, <controller>) to the domain, live and/or in "
     "its definition."},
    {"detach-device", "domain", opts_device_file, cmd_device_file, "detach device from an XML file",
     "Detach a device from the domain: the device is matched by its alias, or by what the XML names "
     "(a disk's target, an interface's MAC, a memory device's alias or size)."},
    {"update-device", "domain", opts_device_file, cmd_device_file, "update device from an XML file",
     "Change a device in place: a cdrom's media, an interface's link state, a virtio-mem device's "
     "requested size."},
    {NULL},
};
