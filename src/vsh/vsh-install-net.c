/* vsh install --network: the guest's NICs from every --network value
 * (virt-install's syntax, split by vsh-install-opts.c's helpers), with what no
 * --network means decided here: the 'default' network when the daemon
 * says it is active, else user-mode networking, and a line saying which,
 * since a guest on the wrong one is reachable differently. */
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-names.h"
#include "vsh-client.h"
#include "vsh-install-items.h"
#include "vsh-install.h"
#include "vsh.h"

void
vsh_install_network_clear(VshInstallNetwork *net)
{
    g_clear_pointer(&net->source, g_free);
    g_clear_pointer(&net->source_mode, g_free);
    g_clear_pointer(&net->model, g_free);
    g_clear_pointer(&net->mac, g_free);
    net->kind = VSH_NET_DEFAULT;
}

void
vsh_install_network_free(VshInstallNetwork *net)
{
    if (!net)
        return;
    vsh_install_network_clear(net);
    g_free(net);
}

static gboolean
valid_mac(const char *mac)
{
    gboolean multicast = FALSE;

    /* A multicast address would not work as a NIC's. */
    return vd_mac_is_valid(mac, &multicast) && !multicast;
}

/* Sets the kind once: "network=a,bridge=b" names two and is refused. */
static gboolean
set_kind(VshInstallNetwork *net, VshInstallNetKind kind, const char *spec, GError **error)
{
    if (net->kind != VSH_NET_DEFAULT && net->kind != kind) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--network '%s': give one of network=NAME, bridge=BRIDGE, "
                    "type=direct,source=NIC, user or none",
                    spec);
        return FALSE;
    }
    net->kind = kind;
    return TRUE;
}

static gboolean
network_type(const char *type, VshInstallNetwork *net, const char *spec, GError **error)
{
    static const struct {
        const char *name;
        VshInstallNetKind kind;
    } types[] = {
        {"network", VSH_NET_NETWORK}, {"bridge", VSH_NET_BRIDGE}, {"direct", VSH_NET_DIRECT},
        {"user", VSH_NET_USER},       {"none", VSH_NET_NONE},     {"default", VSH_NET_DEFAULT},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
        if (g_str_equal(type, types[i].name))
            return types[i].kind == VSH_NET_DEFAULT || set_kind(net, types[i].kind, spec, error);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "--network: type '%s' is not supported by virtd (use network=NAME, bridge=BRIDGE, "
                "type=direct,source=NIC, user or none)",
                type);
    return FALSE;
}

static gboolean
parse_network_items(const char *spec, GPtrArray *items, VshInstallNetwork *net, GError **error)
{
    static const char *const models[] = {"virtio", "e1000", "e1000e", "rtl8139", NULL};
    static const char *const modes[] = {"bridge", "vepa", "private", "passthrough", NULL};

    for (guint i = 0; i < items->len; i++) {
        VshInstallItem *it = g_ptr_array_index(items, i);
        const char *k = it->key;

        if (!k || g_str_equal(k, "type")) {
            if (!network_type(it->value, net, spec, error))
                return FALSE;
        } else if (g_str_equal(k, "network") || g_str_equal(k, "bridge")) {
            if (!set_kind(net, g_str_equal(k, "network") ? VSH_NET_NETWORK : VSH_NET_BRIDGE, spec,
                          error))
                return FALSE;
            g_free(net->source);
            net->source = g_strdup(it->value);
        } else if (g_str_equal(k, "source")) {
            g_free(net->source);
            net->source = g_strdup(it->value);
        } else if (g_str_equal(k, "source.mode") || g_str_equal(k, "source_mode")) {
            if (!vsh_install_one_of("network", "source.mode", it->value, modes, error))
                return FALSE;
            g_free(net->source_mode);
            net->source_mode = g_strdup(it->value);
        } else if (g_str_equal(k, "model") || g_str_equal(k, "model.type")) {
            if (!vsh_install_one_of("network", "model", it->value, models, error))
                return FALSE;
            g_free(net->model);
            net->model = g_strdup(it->value);
        } else if (g_str_equal(k, "mac") || g_str_equal(k, "mac.address")) {
            if (!valid_mac(it->value)) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--network: mac '%s' is not a unicast MAC address like "
                            "52:54:00:12:34:56",
                            it->value);
                return FALSE;
            }
            g_free(net->mac);
            net->mac = g_ascii_strdown(it->value, -1);
        } else {
            return vsh_install_unknown_key(
                "network", it, "network, bridge, type, source, source.mode, model, mac", error);
        }
    }
    return TRUE;
}

gboolean
vsh_install_parse_network(const char *spec, VshInstallNetwork *net, GError **error)
{
    g_autoptr(GPtrArray) items = vsh_install_split_items("network", spec, error);
    const char *what = NULL;

    vsh_install_network_clear(net);
    if (!items || !parse_network_items(spec, items, net, error))
        goto fail;
    switch (net->kind) {
    case VSH_NET_NONE:
        if (items->len > 1) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--network '%s': none takes no options", spec);
            goto fail;
        }
        return TRUE;
    case VSH_NET_NETWORK:
        what = "network=NAME";
        break;
    case VSH_NET_BRIDGE:
        what = "bridge=BRIDGE";
        break;
    case VSH_NET_DIRECT:
        what = "type=direct,source=NIC";
        break;
    case VSH_NET_USER:
    case VSH_NET_DEFAULT:
        if (net->source) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--network '%s': source= needs a type (network=, bridge=, type=direct)",
                        spec);
            goto fail;
        }
        break;
    }
    if (what && (!net->source || !*net->source)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--network '%s': name the %s (%s)", spec,
                    net->kind == VSH_NET_NETWORK  ? "virtual network"
                    : net->kind == VSH_NET_BRIDGE ? "host bridge"
                                                  : "host interface",
                    what);
        goto fail;
    }
    if (net->source_mode && net->kind != VSH_NET_DIRECT) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--network '%s': source.mode is for type=direct only", spec);
        goto fail;
    }
    return TRUE;

fail:
    vsh_install_network_clear(net);
    return FALSE;
}

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
