/* vsh install --network: the guest's NICs from every --network value
 * (virt-install's syntax, parsed in vsh-install-opts.c), with what no
 * --network means decided here: the 'default' network when the daemon
 * says it is active, else user-mode networking, and a line saying which,
 * since a guest on the wrong one is reachable differently. */
#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-install.h"
#include "vsh.h"

void
vsh_install_network_resolve_default(VshInstallNetwork *net, JsonNode *answer, char **notice)
{
    JsonNode *member = answer && JSON_NODE_HOLDS_OBJECT(answer)
                           ? json_object_get_member(json_node_get_object(answer), "network")
                           : NULL;
    JsonObject *summary =
        member && JSON_NODE_HOLDS_OBJECT(member) ? json_node_get_object(member) : NULL;

    if (summary && vsh_json_bool(summary, "active", FALSE)) {
        net->kind = VSH_NET_NETWORK;
        g_free(net->source);
        net->source = g_strdup("default");
        *notice = g_strdup("Using the virtual network 'default' for the guest's network interface");
        return;
    }
    net->kind = VSH_NET_USER;
    g_clear_pointer(&net->source, g_free);
    *notice = g_strdup_printf(
        "The virtual network 'default' is %s: the guest gets user-mode networking (outbound "
        "only; --network network=NAME or bridge=BRIDGE to choose)",
        summary ? "not active" : "not defined");
}

/* GET /v1/networks/default; NULL without error when there is none (or the
 * daemon predates networks). */
static JsonNode *
get_default_network(VshCtl *ctl, GError **error)
{
    g_autoptr(GError) local = NULL;
    VshClient *client = vsh_ctl_client(ctl, error);
    JsonNode *answer;

    if (!client)
        return NULL;
    answer = vsh_client_call(client, "GET", "/v1/networks/default", NULL, &local);
    if (!answer && !g_error_matches(local, VD_ERROR, VD_ERROR_NO_NETWORK) &&
        !g_error_matches(local, VD_ERROR, VD_ERROR_NOT_FOUND))
        g_propagate_error(error, g_steal_pointer(&local));
    return answer;
}

gboolean
vsh_install_plan_networks(VshInstall *inst, const char *const *specs, GError **error)
{
    VshInstallPlan *p = &inst->plan;
    gboolean none = FALSE;
    guint given = 0;

    p->nets = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_install_network_free);
    for (guint i = 0; specs && specs[i]; i++, given++) {
        g_autoptr(VshInstallNetwork) net = g_new0(VshInstallNetwork, 1);

        if (!vsh_install_parse_network(specs[i], net, error))
            return FALSE;
        if (net->kind == VSH_NET_NONE)
            none = TRUE;
        else
            g_ptr_array_add(p->nets, g_steal_pointer(&net));
    }
    if (none && p->nets->len > 0) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--network none cannot be combined with other --network options");
        return FALSE;
    }
    if (given == 0)
        g_ptr_array_add(p->nets, g_new0(VshInstallNetwork, 1));

    for (guint i = 0; i < p->nets->len; i++) {
        VshInstallNetwork *net = g_ptr_array_index(p->nets, i);

        if (net->kind == VSH_NET_DEFAULT) {
            g_autoptr(GError) local = NULL;
            g_autoptr(JsonNode) answer = get_default_network(inst->ctl, &local);
            g_autofree char *notice = NULL;

            if (local) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
            vsh_install_network_resolve_default(net, answer, &notice);
            /* --print-xml's output is the XML alone. */
            if (!inst->print_xml)
                vsh_print_extra(inst->ctl, "%s\n", notice);
        }
        if (!net->model && !inst->os->virtio)
            net->model = g_strdup("e1000");
        if (!net->mac) {
            /* Both phases must show the guest the same NIC. */
            net->mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                                       g_random_int_range(0, 256), g_random_int_range(0, 256));
        }
    }
    return TRUE;
}
