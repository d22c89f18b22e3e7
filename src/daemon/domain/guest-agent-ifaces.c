/* guest-network-get-interfaces, as the API shows addresses (docs/api.md
 * "Domain interfaces"): the guest's own view, so its own interface names.
 *
 * Everything in the reply comes from the guest, and ends up on a user's
 * terminal (vsh domifaddr): names are cut to printable ASCII, MACs and
 * addresses are kept only when they parse, prefixes only in range.
 */
#include "daemon/domain/guest-agent.h"

#include <string.h>

#include "util/vd-error.h"

/* Longer than any Linux (15) or Windows interface name worth showing. */
#define NAME_MAX_SHOWN 64

/* A string member, or NULL when absent or of another type (json-glib's
 * own getter warns on an object or array where a string should be, and
 * the guest decides what is there). */
static const char *
str_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static char *
printable_name(const char *name)
{
    GString *s = g_string_new(NULL);
    for (const char *p = name; *p && s->len < NAME_MAX_SHOWN; p++)
        g_string_append_c(s, g_ascii_isprint(*p) ? *p : '?');
    return g_string_free(s, FALSE);
}

/* "52:54:00:12:34:56" in lower case, or NULL when @mac is not one. */
static char *
checked_mac(const char *mac)
{
    if (!mac || strlen(mac) != 17)
        return NULL;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? mac[i] != ':' : !g_ascii_isxdigit(mac[i]))
            return NULL;
    }
    return g_ascii_strdown(mac, -1);
}

static void
add_address(JsonArray *addrs, JsonObject *a)
{
    const char *type = str_member(a, "ip-address-type");
    const char *addr = str_member(a, "ip-address");
    if (!type || !addr)
        return;
    GSocketFamily family;
    if (g_str_equal(type, "ipv4"))
        family = G_SOCKET_FAMILY_IPV4;
    else if (g_str_equal(type, "ipv6"))
        family = G_SOCKET_FAMILY_IPV6;
    else
        return;
    /* Windows agents write IPv6 link-local addresses with a zone
     * ("fe80::1%12"): shown without it, as virsh does not parse it
     * either. */
    g_autofree char *bare = g_strndup(addr, strcspn(addr, "%"));
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(bare);
    if (!ia || g_inet_address_get_family(ia) != family)
        return;
    JsonNode *pn = json_object_get_member(a, "prefix");
    gint64 prefix = pn && JSON_NODE_HOLDS_VALUE(pn) && json_node_get_value_type(pn) == G_TYPE_INT64
                        ? json_node_get_int(pn)
                        : -1;
    if (prefix < 0 || prefix > (family == G_SOCKET_FAMILY_IPV4 ? 32 : 128))
        return;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "type", type);
    g_autofree char *shown = g_inet_address_to_string(ia);
    json_object_set_string_member(o, "addr", shown);
    json_object_set_int_member(o, "prefix", prefix);
    json_array_add_object_element(addrs, o);
}

JsonNode *
vd_guest_agent_interfaces_from_reply(JsonNode *reply)
{
    JsonArray *out = json_array_new();
    JsonArray *in = reply && JSON_NODE_HOLDS_ARRAY(reply) ? json_node_get_array(reply) : NULL;
    for (guint i = 0; in && i < json_array_get_length(in); i++) {
        JsonNode *n = json_array_get_element(in, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            continue;
        JsonObject *iface = json_node_get_object(n);
        const char *name = str_member(iface, "name");
        if (!name || g_str_equal(name, "lo"))
            continue;
        JsonObject *o = json_object_new();
        g_autofree char *shown = printable_name(name);
        json_object_set_string_member(o, "name", shown);
        g_autofree char *mac = checked_mac(str_member(iface, "hardware-address"));
        if (mac)
            json_object_set_string_member(o, "mac", mac);
        else
            json_object_set_null_member(o, "mac");
        JsonArray *addrs = json_array_new();
        JsonNode *an = json_object_get_member(iface, "ip-addresses");
        JsonArray *ain = an && JSON_NODE_HOLDS_ARRAY(an) ? json_node_get_array(an) : NULL;
        for (guint j = 0; ain && j < json_array_get_length(ain); j++) {
            JsonNode *a = json_array_get_element(ain, j);
            if (JSON_NODE_HOLDS_OBJECT(a))
                add_address(addrs, json_node_get_object(a));
        }
        json_object_set_array_member(o, "addrs", addrs);
        json_array_add_object_element(out, o);
    }
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(node, out);
    return node;
}

static void
interfaces_done(GObject *source, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    GError *error = NULL;
    g_autoptr(JsonNode) reply = vd_guest_agent_call_finish(res, &error);
    if (!reply)
        g_task_return_error(task, error);
    else
        g_task_return_pointer(task, vd_guest_agent_interfaces_from_reply(reply),
                              (GDestroyNotify)json_node_unref);
    g_object_unref(task);
}

void
vd_guest_agent_interfaces(VdDaemon *d, VdDomainObj *dom, guint timeout_s, GAsyncReadyCallback cb,
                          gpointer user_data)
{
    GTask *task = g_task_new(NULL, NULL, cb, user_data);
    g_task_set_source_tag(task, vd_guest_agent_interfaces);
    vd_guest_agent_call(d, dom, "guest-network-get-interfaces", NULL, timeout_s, interfaces_done,
                        task);
}

JsonNode *
vd_guest_agent_interfaces_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
