/* What virtd reads of libvirt's <network> XML, element by element.
 *
 * libvirt's network XML is larger than what virtd implements; a network
 * that silently lost its <bandwidth> or <portgroup> would not be the one
 * the user defined, so everything not in this table is refused by name
 * (VD_ERROR_UNSUPPORTED) before the typed parse starts. The table is
 * also what keeps the typed parse short: it never has to wonder about
 * unknown children.
 */
#include "conf/network-private.h"

#include <string.h>

#include "conf/domain-private.h"
#include "util/vd-error.h"

typedef struct {
    const char *path;           /* "network/ip/dhcp" */
    const char *const attrs[6]; /* known attributes */
} Known;

static const Known known[] = {
    /* connections= is live state libvirt writes in net-dumpxml; ignored. */
    {"network", {"ipv6", "connections"}},
    {"network/name", {NULL}},
    {"network/uuid", {NULL}},
    {"network/forward", {"mode", "dev"}},
    {"network/forward/nat", {NULL}},
    {"network/forward/nat/address", {"start", "end"}},
    {"network/forward/nat/port", {"start", "end"}},
    {"network/forward/interface", {"dev", "connections"}},
    {"network/bridge", {"name", "stp", "delay"}},
    {"network/mac", {"address"}},
    {"network/mtu", {"size"}},
    {"network/domain", {"name", "localOnly"}},
    {"network/dns", {"enable", "forwardPlainNames"}},
    {"network/dns/forwarder", {"addr", "domain"}},
    {"network/dns/host", {"ip"}},
    {"network/dns/host/hostname", {NULL}},
    {"network/ip", {"address", "netmask", "prefix", "family"}},
    {"network/ip/dhcp", {NULL}},
    {"network/ip/dhcp/range", {"start", "end"}},
    {"network/ip/dhcp/range/lease", {"expiry", "unit"}},
    {"network/ip/dhcp/host", {"mac", "id", "name", "ip"}},
    {"network/ip/dhcp/host/lease", {"expiry", "unit"}},
};

/* Elements that hold text rather than children. */
static const char *const text_elements[] = {
    "network/name",
    "network/uuid",
    "network/dns/host/hostname",
    NULL,
};

static const Known *
lookup(const char *path)
{
    for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
        if (g_str_equal(known[i].path, path))
            return &known[i];
    }
    return NULL;
}

/* "network/ip/dhcp" -> "<network><ip><dhcp>" */
static char *
pretty(const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    GString *s = g_string_new(NULL);

    for (guint i = 0; parts[i]; i++)
        g_string_append_printf(s, "<%s>", parts[i]);
    return g_string_free(s, FALSE);
}

static gboolean
check_node(const xmlNode *node, const char *path, GError **error)
{
    const Known *k = lookup(path);

    if (!k) {
        g_autofree char *p = pretty(path);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s is not supported by virtd: remove it (virtd implements NAT, routed, "
                    "open, isolated and bridge networks with DHCP and DNS only)",
                    p);
        return FALSE;
    }
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        gboolean ok = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(k->attrs) && k->attrs[i]; i++) {
            if (!a->ns && g_str_equal((const char *)a->name, k->attrs[i]))
                ok = TRUE;
        }
        if (!ok) {
            g_autofree char *p = pretty(path);
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "attribute '%s' of %s is not supported by virtd: remove it",
                        (const char *)a->name, p);
            return FALSE;
        }
    }
    gboolean text_ok = g_strv_contains(text_elements, path);
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            g_autofree char *t = g_strstrip(g_strdup((const char *)c->content));
            if (*t && !text_ok) {
                g_autofree char *p = pretty(path);
                g_set_error(error, VD_ERROR, VD_ERROR_XML,
                            "unexpected text '%s' in %s: it holds elements only", t, p);
                return FALSE;
            }
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        g_autofree char *name = c->ns && c->ns->prefix
                                    ? g_strdup_printf("%s:%s", c->ns->prefix, c->name)
                                    : g_strdup((const char *)c->name);
        g_autofree char *sub = g_strdup_printf("%s/%s", path, name);
        if (c->ns) {
            /* <dnsmasq:options> and other namespaces: never in the table. */
            g_autofree char *p = pretty(sub);
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s is not supported by virtd: remove it", p);
            return FALSE;
        }
        if (!check_node(c, sub, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vd_net_xml_check_known(const xmlNode *node, const char *path, GError **error)
{
    return check_node(node, path, error);
}
