/* Applying rulesets with libnftables, and living beside the host's other
 * firewalls. Everything nft prints is read as JSON (NFT_CTX_OUTPUT_JSON,
 * nft's stable machine format), never as text. */
#include "network/firewall.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "network/net-link-priv.h"
#include "network/nft-lib.h"
#include "util/vd-error.h"

#define BRIDGE_NF_CALL_IPTABLES "/proc/sys/net/bridge/bridge-nf-call-iptables"

/* Runs @cmd (one transaction); on success *@output (may be NULL) holds
 * what nft printed, in JSON when @json. nft's own error text (the failed
 * command with its caret line) goes into @error. */
static gboolean
nft_run(const char *cmd, gboolean json, char **output, GError **error)
{
    /* One command at a time: the daemon may call from worker threads, and
     * libnftables documents no thread safety beyond one context per
     * thread (its parser has had global state). */
    static GMutex lock;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&lock);
    const VdNftLib *nft = vd_nft_lib(error);
    struct nft_ctx *ctx = nft ? nft->ctx_new(NFT_CTX_DEFAULT) : NULL;
    gboolean ok = FALSE;

    if (!nft)
        return FALSE;
    if (!ctx) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create an nftables context");
        return FALSE;
    }
    nft->ctx_buffer_output(ctx);
    nft->ctx_buffer_error(ctx);
    if (json)
        nft->ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
    if (nft->run_cmd_from_buffer(ctx, cmd) != 0) {
        g_autofree char *msg = g_strdup(nft->ctx_get_error_buffer(ctx));
        g_strstrip(msg);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "nftables refused the rules: %s",
                    *msg ? msg : "unknown error (is the nf_tables module available?)");
    } else {
        if (output)
            *output = g_strdup(nft->ctx_get_output_buffer(ctx));
        ok = TRUE;
    }
    nft->ctx_free(ctx);
    return ok;
}

/* The objects of kind @kind ("table", "chain", "rule") in the JSON that
 * nft prints for @cmd, as JsonObject references. */
static GPtrArray *
nft_list(const char *cmd, const char *kind, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *text = NULL;
    g_autoptr(GError) jerr = NULL;
    JsonNode *root;
    JsonArray *items;

    if (!nft_run(cmd, TRUE, &text, error))
        return NULL;
    if (!text || !*g_strstrip(text))
        return g_steal_pointer(&out);
    if (!json_parser_load_from_data(parser, text, -1, &jerr)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot read nft's JSON output: %s",
                    jerr->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root) ||
        !json_object_has_member(json_node_get_object(root), "nftables"))
        return g_steal_pointer(&out);
    items = json_object_get_array_member(json_node_get_object(root), "nftables");
    for (guint i = 0; items && i < json_array_get_length(items); i++) {
        JsonNode *n = json_array_get_element(items, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        JsonNode *k = o ? json_object_get_member(o, kind) : NULL;

        if (k && JSON_NODE_HOLDS_OBJECT(k))
            g_ptr_array_add(out, json_object_ref(json_node_get_object(k)));
    }
    return g_steal_pointer(&out);
}

static const char *
member_str(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

static gboolean
table_name_ok(const char *table)
{
    if (!table || !*table)
        return FALSE;
    for (const char *p = table; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_')
            return FALSE;
    }
    return TRUE;
}

gboolean
vd_firewall_apply(const char *script, GError **error)
{
    return nft_run(script, FALSE, NULL, error);
}

gboolean
vd_firewall_remove(const char *table, GError **error)
{
    g_autofree char *cmd = NULL;

    if (!table_name_ok(table)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid nftables table name '%s'",
                    table);
        return FALSE;
    }
    /* "add" first makes the delete succeed whether or not the table was
     * there, in one transaction */
    cmd = g_strdup_printf("add table inet %s\ndelete table inet %s\n", table, table);
    return nft_run(cmd, FALSE, NULL, error);
}

GPtrArray *
vd_firewall_list_tables(const char *instance, GError **error)
{
    g_autoptr(GPtrArray) tables = nft_list("list tables inet", "table", error);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *prefix = g_strdup_printf("vd_%s_", instance);

    if (!tables)
        return NULL;
    for (guint i = 0; i < tables->len; i++) {
        const char *name = member_str(g_ptr_array_index(tables, i), "name");

        if (name && g_str_has_prefix(name, prefix))
            g_ptr_array_add(out, g_strdup(name));
    }
    return g_steal_pointer(&out);
}

void
vd_firewall_note_free(VdFirewallNote *note)
{
    if (!note)
        return;
    g_free(note->message);
    g_free(note);
}

static void
add_note(GPtrArray *notes, gboolean fixed, char *message)
{
    VdFirewallNote *n = g_new0(VdFirewallNote, 1);

    n->message = message;
    n->fixed = fixed;
    g_ptr_array_add(notes, n);
}

/* The comment that marks virtd's rules in DOCKER-USER: one bridge belongs
 * to one network of one daemon, so the bridge name is a unique tag. */
static char *
hook_tag(const char *bridge)
{
    return g_strdup_printf("virtd bridge %s", bridge);
}

static gboolean
has_chain(GPtrArray *chains, const char *family, const char *table, const char *name)
{
    for (guint i = 0; chains && i < chains->len; i++) {
        JsonObject *c = g_ptr_array_index(chains, i);

        if (g_strcmp0(member_str(c, "family"), family) == 0 &&
            g_strcmp0(member_str(c, "table"), table) == 0 &&
            g_strcmp0(member_str(c, "name"), name) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Handles of the rules tagged for @bridge in FAMILY filter DOCKER-USER. */
static GArray *
hook_handles(const char *family, const char *bridge, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("list chain %s filter DOCKER-USER", family);
    g_autofree char *tag = hook_tag(bridge);
    g_autoptr(GPtrArray) rules = nft_list(cmd, "rule", error);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(gint64));

    if (!rules)
        return NULL;
    for (guint i = 0; i < rules->len; i++) {
        JsonObject *r = g_ptr_array_index(rules, i);

        if (g_strcmp0(member_str(r, "comment"), tag) == 0 && json_object_has_member(r, "handle")) {
            gint64 h = json_object_get_int_member(r, "handle");
            g_array_append_val(out, h);
        }
    }
    return g_steal_pointer(&out);
}

/* Docker's documented hook: DOCKER-USER is jumped to first from its
 * FORWARD chain, so an accept there passes the bridge's traffic before
 * Docker's own rules and its drop policy. Our own table still rejects
 * what the network's mode does not allow. Inserted once (a restarted
 * daemon finds its rules there already). */
static gboolean
hooks_add(const char *family, const char *bridge, GError **error)
{
    g_autoptr(GArray) have = hook_handles(family, bridge, error);
    g_autofree char *tag = hook_tag(bridge);
    g_autofree char *cmd = NULL;

    if (!have)
        return FALSE;
    if (have->len > 0)
        return TRUE;
    cmd = g_strdup_printf("insert rule %s filter DOCKER-USER oifname \"%s\" counter accept "
                          "comment \"%s\"\n"
                          "insert rule %s filter DOCKER-USER iifname \"%s\" counter accept "
                          "comment \"%s\"\n",
                          family, bridge, tag, family, bridge, tag);
    return nft_run(cmd, FALSE, NULL, error);
}

static gboolean
read_sysctl_is_one(const char *path)
{
    g_autofree char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) && g_strstrip(text) &&
           g_strcmp0(text, "1") == 0;
}

static gboolean
bridge_name_ok(const char *bridge)
{
    if (!bridge || !*bridge || strlen(bridge) > 15)
        return FALSE;
    for (const char *p = bridge; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-_.@+", *p))
            return FALSE;
    }
    return TRUE;
}

static gboolean
has_family(const VdNetworkDef *def, int family)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        if (((const VdNetIpDef *)g_ptr_array_index(def->ips, i))->family == family)
            return TRUE;
    }
    return FALSE;
}

static char *
drop_message(const VdNetworkDef *def, const char *family, const char *table, const char *name,
             gboolean ufw)
{
    g_autofree char *ufw_fix =
        ufw ? g_strdup_printf(" (with ufw: 'ufw route allow in on %s' and 'ufw route allow out "
                              "on %s')",
                              def->bridge, def->bridge)
            : g_strdup("");

    return g_strdup_printf("the host's %s chain (table %s %s) drops forwarded traffic by "
                           "default (policy drop%s): guests on '%s' cannot reach beyond the "
                           "host; accept the bridge there: 'nft insert rule %s %s %s iifname "
                           "\"%s\" accept' and 'nft insert rule %s %s %s oifname \"%s\" "
                           "accept'%s",
                           name, family, table, ufw ? ", as ufw sets it" : "", def->name, family,
                           table, name, def->bridge, family, table, name, def->bridge, ufw_fix);
}

/* Forward base chains of other tables with policy drop, Docker's
 * DOCKER-USER (hooked), firewalld. Chains of family ip only matter to a
 * network with IPv4, ip6 ones to one with IPv6; inet, bridge and netdev
 * chains to all. */
static gboolean
check_forward_chains(const VdNetworkDef *def, GPtrArray *chains, GPtrArray *notes, GError **error)
{
    const char *families[] = {"ip", "ip6"};
    gboolean relevant[2] = {has_family(def, AF_INET), has_family(def, AF_INET6)};
    gboolean docker[2], hooked[2] = {FALSE, FALSE};
    gboolean ufw = has_chain(chains, "ip", "filter", "ufw-before-forward");

    for (guint f = 0; f < G_N_ELEMENTS(families); f++)
        docker[f] = relevant[f] && has_chain(chains, families[f], "filter", "DOCKER-USER");

    for (guint i = 0; i < chains->len; i++) {
        JsonObject *c = g_ptr_array_index(chains, i);
        const char *family = member_str(c, "family");
        const char *table = member_str(c, "table");
        const char *name = member_str(c, "name");
        gint f = g_strcmp0(family, "ip") == 0 ? 0 : g_strcmp0(family, "ip6") == 0 ? 1 : -1;

        if (g_strcmp0(member_str(c, "hook"), "forward") != 0 ||
            g_strcmp0(member_str(c, "policy"), "drop") != 0 || (f >= 0 && !relevant[f]))
            continue;
        if (f >= 0 && docker[f] && g_strcmp0(table, "filter") == 0) {
            if (!hooks_add(family, def->bridge, error))
                return FALSE;
            hooked[f] = TRUE;
            add_note(notes, TRUE,
                     g_strdup_printf("the host's %s chain (table %s %s) drops forwarded traffic "
                                     "by default (policy drop, as Docker sets it): virtd added "
                                     "rules accepting bridge '%s' to Docker's chain DOCKER-USER "
                                     "(table %s filter), removed when network '%s' stops",
                                     name, family, table, def->bridge, family, def->name));
            continue;
        }
        add_note(notes, FALSE, drop_message(def, family, table, name, ufw));
    }
    /* Docker present with an accepting FORWARD today: it sets the policy
     * to drop whenever it (re)starts, so the hook goes in now as well. */
    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        if (!docker[f] || hooked[f])
            continue;
        if (!hooks_add(families[f], def->bridge, error))
            return FALSE;
        add_note(notes, TRUE,
                 g_strdup_printf("Docker's chain DOCKER-USER (table %s filter) exists: virtd "
                                 "added rules accepting bridge '%s' there so that Docker's "
                                 "forward rules never drop network '%s', removed when it stops",
                                 families[f], def->bridge, def->name));
    }
    if (has_chain(chains, "inet", "firewalld", "filter_FORWARD"))
        add_note(notes, FALSE,
                 g_strdup_printf("firewalld is active (chain filter_FORWARD, table inet "
                                 "firewalld): it rejects forwarded traffic of interfaces outside "
                                 "its zones; put the bridge in a zone that allows it: "
                                 "'firewall-cmd --zone=trusted --change-interface=%s'",
                                 def->bridge));
    return TRUE;
}

GPtrArray *
vd_firewall_check_host(const VdNetworkDef *def, GError **error)
{
    g_autoptr(GPtrArray) notes =
        g_ptr_array_new_with_free_func((GDestroyNotify)vd_firewall_note_free);
    g_autoptr(GPtrArray) chains = NULL;

    if (!bridge_name_ok(def->bridge)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid bridge name '%s'",
                    def->bridge ? def->bridge : "");
        return NULL;
    }
    switch (def->forward) {
    case VD_NET_FORWARD_BRIDGE:
        if (read_sysctl_is_one(BRIDGE_NF_CALL_IPTABLES))
            add_note(notes, FALSE,
                     g_strdup_printf("br_netfilter is loaded with "
                                     "net.bridge.bridge-nf-call-iptables=1 (%s): frames of "
                                     "guests on bridge '%s' go through the host's iptables "
                                     "FORWARD chains, where Docker or a firewall may drop them; "
                                     "set 'sysctl -w net.bridge.bridge-nf-call-iptables=0' (and "
                                     "bridge-nf-call-ip6tables) or accept the bridge in those "
                                     "chains ('iptables -I FORWARD -m physdev "
                                     "--physdev-is-bridged -j ACCEPT')",
                                     BRIDGE_NF_CALL_IPTABLES, def->bridge));
        return g_steal_pointer(&notes);
    case VD_NET_FORWARD_NONE:
    case VD_NET_FORWARD_LAST:
        /* isolated: nothing of it is forwarded beyond the bridge */
        return g_steal_pointer(&notes);
    case VD_NET_FORWARD_NAT:
    case VD_NET_FORWARD_ROUTE:
    case VD_NET_FORWARD_OPEN:
        break;
    }
    chains = nft_list("list chains", "chain", error);
    if (!chains)
        return NULL;
    if (!check_forward_chains(def, chains, notes, error)) {
        /* no rule of ours is left behind by a check that failed */
        vd_firewall_host_hooks_remove(def, NULL);
        return NULL;
    }
    return g_steal_pointer(&notes);
}

gboolean
vd_firewall_host_hooks_remove(const VdNetworkDef *def, GError **error)
{
    const char *families[] = {"ip", "ip6"};
    g_autoptr(GPtrArray) chains = NULL;

    if (!bridge_name_ok(def->bridge))
        return TRUE;
    chains = nft_list("list chains", "chain", error);
    if (!chains)
        return FALSE;
    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        g_autoptr(GArray) handles = NULL;
        g_autoptr(GString) cmd = g_string_new(NULL);

        if (!has_chain(chains, families[f], "filter", "DOCKER-USER"))
            continue;
        handles = hook_handles(families[f], def->bridge, error);
        if (!handles)
            return FALSE;
        for (guint i = 0; i < handles->len; i++)
            g_string_append_printf(
                cmd, "delete rule %s filter DOCKER-USER handle %" G_GINT64_FORMAT "\n", families[f],
                g_array_index(handles, gint64, i));
        if (cmd->len > 0 && !nft_run(cmd->str, FALSE, NULL, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
write_sysctl(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int saved;

    if (fd >= 0 && write(fd, "1\n", 2) == 2) {
        close(fd);
        return TRUE;
    }
    saved = errno;
    if (fd >= 0)
        close(fd);
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "cannot enable forwarding in %s: %s (virtd must run as root)", path,
                g_strerror(saved));
    return FALSE;
}

gboolean
vd_firewall_enable_forwarding(gboolean ipv6, GError **error)
{
    const char *v6 = "/proc/sys/net/ipv6/conf/all/forwarding";
    g_autofree char *ra_dev = NULL;

    if (!write_sysctl("/proc/sys/net/ipv4/ip_forward", error))
        return FALSE;
    if (!ipv6 || read_sysctl_is_one(v6))
        return TRUE;
    /* as libvirt: refuse rather than let the host lose its IPv6 routes */
    ra_dev = vd_nl_ipv6_ra_conflict();
    if (ra_dev) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "enabling IPv6 forwarding would make interface '%s' ignore router "
                    "advertisements (accept_ra is not 2), and the host would lose its IPv6 routes "
                    "learnt from them: set 'sysctl -w net.ipv6.conf.%s.accept_ra=2' first",
                    ra_dev, ra_dev);
        return FALSE;
    }
    return write_sysctl(v6, error);
}
