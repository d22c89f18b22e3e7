/* Links, bridges, addresses, routes and neighbours over route netlink
 * (libnl-route-3). Every call opens its own socket: the callers are rare
 * (network start/stop, a domain's interfaces) and a socket per call keeps
 * no state that a netlink error could leave half-read. */
#include "network/net-link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "network/net-link-priv.h"
#include "util/vd-error.h"

typedef struct nl_cache VdNlCache;
typedef struct rtnl_addr VdRtnlAddr;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdNlCache, nl_cache_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdRtnlAddr, rtnl_addr_put)

struct nl_sock *
vd_nl_open(GError **error)
{
    g_autoptr(VdNlSock) sock = NULL;
    int err;

    if (!vd_nl_lib_load(error))
        return NULL;
    sock = nl_socket_alloc();
    if (!sock) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot allocate a netlink socket");
        return NULL;
    }
    err = nl_connect(sock, NETLINK_ROUTE);
    if (err < 0) {
        vd_nl_set_error(error, err, "cannot open a route netlink socket");
        return NULL;
    }
    return g_steal_pointer(&sock);
}

void
vd_nl_set_error(GError **error, int nlerr, const char *what)
{
    int code = nlerr == -NLE_EXIST ? VD_ERROR_EXISTS : VD_ERROR_OPERATION_FAILED;

    g_set_error(error, VD_ERROR, code, "%s: %s", what, nl_geterror(nlerr));
}

struct rtnl_link *
vd_nl_get_link(struct nl_sock *sock, const char *name, GError **error)
{
    struct rtnl_link *link = NULL;
    int err = rtnl_link_get_kernel(sock, 0, name, &link);

    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "host interface '%s' does not exist", name);
        return NULL;
    }
    if (err < 0) {
        g_autofree char *what = g_strdup_printf("cannot look up interface '%s'", name);
        vd_nl_set_error(error, err, what);
        return NULL;
    }
    return link;
}

gboolean
vd_mac_parse(const char *mac, guint8 out[6])
{
    unsigned int b[6];
    char end;

    if (!mac || sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                       &end) != 6)
        return FALSE;
    for (int i = 0; i < 6; i++)
        out[i] = (guint8)b[i];
    return TRUE;
}

gboolean
vd_link_exists(const char *name)
{
    return name && if_nametoindex(name) != 0;
}

gboolean
vd_link_is_bridge(const char *name)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(NULL);
    g_autoptr(VdRtnlLink) link = NULL;

    if (!sock)
        return FALSE;
    link = vd_nl_get_link(sock, name, NULL);
    return link && rtnl_link_is_bridge(link);
}

char *
vd_link_free_name(const char *pattern, const GPtrArray *taken)
{
    /* The pattern is split around its %u rather than given to printf: it
     * is a constant today, but a format string never comes from data. */
    const char *pos = strstr(pattern, "%u");
    g_autofree char *prefix = NULL;

    g_return_val_if_fail(pos != NULL, NULL);
    prefix = g_strndup(pattern, (gsize)(pos - pattern));
    for (guint i = 0; i < 100000; i++) {
        g_autofree char *name = g_strdup_printf("%s%u%s", prefix, i, pos + 2);
        gboolean used = vd_link_exists(name);

        for (guint j = 0; !used && taken && j < taken->len; j++)
            used = g_strcmp0(g_ptr_array_index(taken, j), name) == 0;
        if (!used && strlen(name) < IFNAMSIZ)
            return g_steal_pointer(&name);
    }
    return NULL;
}

gboolean
vd_bridge_create(const char *name, const char *mac, gboolean stp, guint delay, guint mtu,
                 GError **error)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(error);
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct nl_msg *msg;
    struct nlattr *info, *data;
    guint8 addr[6];
    int err;

    if (!sock)
        return FALSE;
    /* '%' too: the kernel would expand "br%d" into the first free brN */
    if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '%') || strchr(name, '/')) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid bridge name '%s': give at most %d bytes, without '%%' or '/'", name,
                    IFNAMSIZ - 1);
        return FALSE;
    }
    if (mac && !vd_mac_parse(mac, addr)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid MAC address '%s'", mac);
        return FALSE;
    }
    /* One RTM_NEWLINK with the bridge's attributes (libnl has no setters
     * for them): the bridge is born with its MAC, MTU, forward delay and
     * STP state, so no half-configured bridge is ever visible. The delay
     * comes before STP in the kernel's handling, which matters: with STP
     * on, a delay under 2 s is refused. */
    msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
        nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
        (mac && nla_put(msg, IFLA_ADDRESS, 6, addr) < 0) ||
        (mtu && nla_put_u32(msg, IFLA_MTU, mtu) < 0) ||
        !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
        nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
        !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
        nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, delay * 100) < 0 ||
        nla_put_u32(msg, IFLA_BR_STP_STATE, stp ? 1 : 0) < 0) {
        nlmsg_free(msg);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot build the netlink message");
        return FALSE;
    }
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
    err = nl_send_sync(sock, msg);
    if (err == -NLE_EXIST) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "interface '%s' already exists: choose another bridge name", name);
        return FALSE;
    }
    if (err < 0) {
        g_autofree char *what = g_strdup_printf("cannot create bridge '%s'", name);
        vd_nl_set_error(error, err, what);
        return FALSE;
    }
    if (!vd_link_set_up(name, TRUE, error)) {
        vd_link_delete(name, NULL);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_link_delete(const char *name, GError **error)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(error);
    g_autoptr(VdRtnlLink) link = NULL;
    int err;

    if (!sock)
        return FALSE;
    if (rtnl_link_get_kernel(sock, 0, name, &link) < 0)
        return TRUE;
    err = rtnl_link_delete(sock, link);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
        g_autofree char *what = g_strdup_printf("cannot delete interface '%s'", name);
        vd_nl_set_error(error, err, what);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_link_add_address(const char *name, const char *address, guint prefix, GError **error)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(error);
    g_autoptr(VdRtnlLink) link = NULL;
    g_autoptr(VdRtnlAddr) addr = rtnl_addr_alloc();
    g_autoptr(VdNlAddr) local = NULL;
    g_autofree char *what =
        g_strdup_printf("cannot add address %s/%u to '%s'", address, prefix, name);
    int family = strchr(address, ':') ? AF_INET6 : AF_INET;
    int err;

    if (!sock || !(link = vd_nl_get_link(sock, name, error)))
        return FALSE;
    if (nl_addr_parse(address, family, &local) < 0 || prefix > (family == AF_INET ? 32u : 128u)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s: invalid address", what);
        return FALSE;
    }
    nl_addr_set_prefixlen(local, (int)prefix);
    rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(link));
    rtnl_addr_set_family(addr, family);
    rtnl_addr_set_local(addr, local);
    rtnl_addr_set_prefixlen(addr, (int)prefix);
    if (family == AF_INET && prefix < 31) {
        /* as ip(8) with "brd +" and libvirt: the subnet's broadcast */
        guint32 a;
        g_autoptr(VdNlAddr) brd = NULL;

        memcpy(&a, nl_addr_get_binary_addr(local), 4);
        a = htonl(ntohl(a) | (prefix ? (0xffffffffu >> prefix) : 0xffffffffu));
        brd = nl_addr_build(AF_INET, &a, 4);
        rtnl_addr_set_broadcast(addr, brd);
    } else if (family == AF_INET6) {
        /* the address is the host's own on a new bridge: usable at once
         * (dnsmasq binds to it) rather than after duplicate detection */
        rtnl_addr_set_flags(addr, IFA_F_NODAD);
    }
    err = rtnl_addr_add(sock, addr, 0);
    if (err < 0) {
        vd_nl_set_error(error, err, what);
        return FALSE;
    }
    return TRUE;
}

/* Sets link @master (by name) as the master in @change. */
static gboolean
change_set_master(struct nl_sock *sock, struct rtnl_link *change, const char *master,
                  GError **error)
{
    g_autoptr(VdRtnlLink) m = vd_nl_get_link(sock, master, error);

    if (!m)
        return FALSE;
    rtnl_link_set_master(change, rtnl_link_get_ifindex(m));
    return TRUE;
}

/* Applies @change to @link; the error starts with @what. */
static gboolean
apply_change(struct nl_sock *sock, struct rtnl_link *link, struct rtnl_link *change,
             const char *what, GError **error)
{
    int err = rtnl_link_change(sock, link, change, 0);

    if (err < 0) {
        vd_nl_set_error(error, err, what);
        return FALSE;
    }
    return TRUE;
}

/* Applies @change to link @name, with link @master as its master if not
 * NULL; the error starts with @what. */
static gboolean
change_link(const char *name, struct rtnl_link *change, const char *master, const char *what,
            GError **error)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(error);
    g_autoptr(VdRtnlLink) link = NULL;

    if (!sock || !(link = vd_nl_get_link(sock, name, error)))
        return FALSE;
    if (master && !change_set_master(sock, change, master, error))
        return FALSE;
    return apply_change(sock, link, change, what, error);
}

gboolean
vd_nl_link_configure(struct nl_sock *sock, const char *name, const char *mac, guint mtu,
                     const char *master, gboolean up, GError **error)
{
    g_autoptr(VdRtnlLink) link = vd_nl_get_link(sock, name, error);
    g_autoptr(VdRtnlLink) change = rtnl_link_alloc();
    g_autoptr(VdNlAddr) lladdr = NULL;
    g_autofree char *what = g_strdup_printf("cannot configure interface '%s'", name);

    if (!link)
        return FALSE;
    if (mac) {
        if (nl_addr_parse(mac, AF_LLC, &lladdr) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid MAC address '%s'", mac);
            return FALSE;
        }
        rtnl_link_set_addr(change, lladdr);
    }
    if (mtu)
        rtnl_link_set_mtu(change, mtu);
    if (master && !change_set_master(sock, change, master, error))
        return FALSE;
    if (up)
        rtnl_link_set_flags(change, IFF_UP);
    return apply_change(sock, link, change, what, error);
}

gboolean
vd_link_set_up(const char *name, gboolean up, GError **error)
{
    g_autoptr(VdRtnlLink) change = rtnl_link_alloc();
    g_autofree char *what =
        g_strdup_printf("cannot set interface '%s' %s", name, up ? "up" : "down");

    if (up)
        rtnl_link_set_flags(change, IFF_UP);
    else
        rtnl_link_unset_flags(change, IFF_UP);
    return change_link(name, change, NULL, what, error);
}

gboolean
vd_link_set_master(const char *name, const char *master, GError **error)
{
    g_autoptr(VdRtnlLink) change = rtnl_link_alloc();
    g_autofree char *what = master
                                ? g_strdup_printf("cannot plug '%s' into bridge '%s'", name, master)
                                : g_strdup_printf("cannot unplug '%s' from its bridge", name);

    if (!master)
        rtnl_link_set_master(change, 0);
    return change_link(name, change, master, what, error);
}

gboolean
vd_link_set_mtu(const char *name, guint mtu, GError **error)
{
    g_autoptr(VdRtnlLink) change = rtnl_link_alloc();
    g_autofree char *what = g_strdup_printf("cannot set MTU %u on '%s'", mtu, name);

    rtnl_link_set_mtu(change, mtu);
    return change_link(name, change, NULL, what, error);
}

guint
vd_link_get_mtu(const char *name)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(NULL);
    g_autoptr(VdRtnlLink) link = NULL;

    if (!sock || !(link = vd_nl_get_link(sock, name, NULL)))
        return 0;
    return rtnl_link_get_mtu(link);
}

static char *
ifindex_name(int ifindex)
{
    char buf[IF_NAMESIZE];

    if (ifindex <= 0 || !if_indextoname((unsigned int)ifindex, buf))
        return g_strdup_printf("if%d", ifindex);
    return g_strdup(buf);
}

void
vd_route_overlap_free(VdRouteOverlap *o)
{
    if (!o)
        return;
    g_free(o->dev);
    g_free(o->route);
    g_free(o);
}

GPtrArray *
vd_route_list_overlaps(const char *subnet, guint prefix)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)vd_route_overlap_free);
    g_autoptr(VdNlSock) sock = vd_nl_open(NULL);
    g_autoptr(VdNlCache) cache = NULL;
    struct in_addr in;
    guint32 net;

    if (!sock || inet_pton(AF_INET, subnet, &in) != 1 || prefix > 32 ||
        rtnl_route_alloc_cache(sock, AF_INET, 0, &cache) < 0)
        return g_steal_pointer(&out);
    net = ntohl(in.s_addr);
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(r);
        guint8 type = rtnl_route_get_type(r);
        VdRouteOverlap *found;
        guint plen, common;
        guint32 d, mask;
        char buf[INET_ADDRSTRLEN];

        /* the main table is what routes the host's traffic; the local
         * table holds the host's own addresses, and the default route
         * "overlaps" everything without meaning anything */
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN || !dst || nl_addr_get_len(dst) != 4)
            continue;
        if (type != RTN_UNICAST && type != RTN_BLACKHOLE && type != RTN_UNREACHABLE &&
            type != RTN_PROHIBIT)
            continue;
        plen = (guint)nl_addr_get_prefixlen(dst);
        if (plen == 0)
            continue;
        memcpy(&d, nl_addr_get_binary_addr(dst), 4);
        d = ntohl(d);
        common = MIN(plen, prefix);
        mask = common ? 0xffffffffu << (32 - common) : 0;
        if ((d & mask) != (net & mask))
            continue;
        found = g_new0(VdRouteOverlap, 1);
        if (type == RTN_BLACKHOLE)
            found->dev = g_strdup("blackhole");
        else if (type == RTN_UNREACHABLE)
            found->dev = g_strdup("unreachable");
        else if (type == RTN_PROHIBIT)
            found->dev = g_strdup("prohibit");
        else if (rtnl_route_get_nnexthops(r) > 0)
            found->dev = ifindex_name(rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)));
        else
            found->dev = g_strdup("unknown");
        d = htonl(d);
        inet_ntop(AF_INET, &d, buf, sizeof(buf));
        found->route = g_strdup_printf("%s/%u", buf, plen);
        g_ptr_array_add(out, found);
    }
    return g_steal_pointer(&out);
}

gboolean
vd_route_find_overlap(const char *subnet, guint prefix, const char *ignore_dev, char **dev,
                      char **route)
{
    g_autoptr(GPtrArray) all = vd_route_list_overlaps(subnet, prefix);

    for (guint i = 0; i < all->len; i++) {
        VdRouteOverlap *o = g_ptr_array_index(all, i);

        if (ignore_dev && g_strcmp0(o->dev, ignore_dev) == 0)
            continue;
        if (dev)
            *dev = g_steal_pointer(&o->dev);
        if (route)
            *route = g_steal_pointer(&o->route);
        return TRUE;
    }
    return FALSE;
}

gboolean
vd_link_stats(const char *name, VdLinkStats *out, GError **error)
{
    /* the same counters as /sys/class/net/NAME/statistics, read over
     * netlink so that they are those of the caller's network namespace */
    g_autoptr(VdNlSock) sock = vd_nl_open(error);
    g_autoptr(VdRtnlLink) link = NULL;

    if (!sock || !(link = vd_nl_get_link(sock, name, error)))
        return FALSE;
    out->rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
    out->rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
    out->rx_errs = rtnl_link_get_stat(link, RTNL_LINK_RX_ERRORS);
    out->rx_drop = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
    out->tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
    out->tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
    out->tx_errs = rtnl_link_get_stat(link, RTNL_LINK_TX_ERRORS);
    out->tx_drop = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
    return TRUE;
}

void
vd_neigh_free(VdNeigh *n)
{
    if (!n)
        return;
    g_free(n->ip);
    g_free(n->mac);
    g_free(n->dev);
    g_free(n);
}

GPtrArray *
vd_neigh_list(const char *dev)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vd_neigh_free);
    g_autoptr(VdNlSock) sock = vd_nl_open(NULL);
    g_autoptr(VdNlCache) cache = NULL;
    int ifindex = 0;

    if (dev && !(ifindex = (int)if_nametoindex(dev)))
        return g_steal_pointer(&out);
    if (!sock || rtnl_neigh_alloc_cache(sock, &cache) < 0)
        return g_steal_pointer(&out);
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_neigh *nb = (struct rtnl_neigh *)o;
        struct nl_addr *dst = rtnl_neigh_get_dst(nb);
        struct nl_addr *ll = rtnl_neigh_get_lladdr(nb);
        int state = rtnl_neigh_get_state(nb);
        char ip[INET6_ADDRSTRLEN + 8], mac[32];
        VdNeigh *n;

        if (rtnl_neigh_get_family(nb) != AF_INET || !dst || !ll || nl_addr_get_len(ll) != 6)
            continue;
        /* entries the kernel failed to resolve, or is still resolving,
         * have no address worth reporting */
        if (state >= 0 && (state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP)))
            continue;
        if (ifindex && rtnl_neigh_get_ifindex(nb) != ifindex)
            continue;
        n = g_new0(VdNeigh, 1);
        n->ip = g_strdup(nl_addr2str(dst, ip, sizeof(ip)));
        n->mac = g_ascii_strdown(nl_addr2str(ll, mac, sizeof(mac)), -1);
        n->dev = ifindex_name(rtnl_neigh_get_ifindex(nb));
        g_ptr_array_add(out, n);
    }
    return g_steal_pointer(&out);
}

char *
vd_nl_ipv6_ra_conflict(void)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(NULL);
    g_autoptr(VdNlCache) cache = NULL;

    if (!sock || rtnl_route_alloc_cache(sock, AF_INET6, 0, &cache) < 0)
        return NULL;
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        g_autofree char *dev = NULL, *path = NULL, *value = NULL;

        if (rtnl_route_get_protocol(r) != RTPROT_RA || rtnl_route_get_nnexthops(r) < 1)
            continue;
        dev = ifindex_name(rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)));
        path = g_strdup_printf("/proc/sys/net/ipv6/conf/%s/accept_ra", dev);
        if (!g_file_get_contents(path, &value, NULL, NULL))
            continue;
        if (g_strcmp0(g_strstrip(value), "2") != 0)
            return g_steal_pointer(&dev);
    }
    return NULL;
}
