/* libnl-3 and libnl-route-3, loaded with dlopen() when the daemon first
 * talks netlink (net-link.c's vd_nl_open): a daemon that runs no network
 * and no guest interface never maps them. Their constructors register
 * every route object type and touch pages all over the libraries, ~0.55
 * MiB resident that the daemon would otherwise carry from its start.
 *
 * Include this header, and only it, for libnl in src/network/: it
 * includes libnl's headers, then turns each libnl function the layer
 * uses into a call through the loaded table (the names stay libnl's, so
 * the code reads as plain libnl). A function used here and missing from
 * VD_NL_FUNCS fails to link (nothing links libnl directly): add it. */
#pragma once

#include <glib.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#define VD_NL_FUNCS(X) \
    X(nl_addr2str) \
    X(nl_addr_build) \
    X(nl_addr_get_binary_addr) \
    X(nl_addr_get_len) \
    X(nl_addr_get_prefixlen) \
    X(nl_addr_parse) \
    X(nl_addr_put) \
    X(nl_addr_set_prefixlen) \
    X(nl_cache_free) \
    X(nl_cache_get_first) \
    X(nl_cache_get_next) \
    X(nl_connect) \
    X(nl_geterror) \
    X(nl_send_sync) \
    X(nl_socket_alloc) \
    X(nl_socket_free) \
    X(nla_nest_end) \
    X(nla_nest_start) \
    X(nla_put) \
    X(nla_put_string) \
    X(nla_put_u32) \
    X(nlmsg_alloc_simple) \
    X(nlmsg_append) \
    X(nlmsg_free) \
    X(rtnl_addr_add) \
    X(rtnl_addr_alloc) \
    X(rtnl_addr_put) \
    X(rtnl_addr_set_broadcast) \
    X(rtnl_addr_set_family) \
    X(rtnl_addr_set_flags) \
    X(rtnl_addr_set_ifindex) \
    X(rtnl_addr_set_local) \
    X(rtnl_addr_set_prefixlen) \
    X(rtnl_link_add) \
    X(rtnl_link_alloc) \
    X(rtnl_link_change) \
    X(rtnl_link_delete) \
    X(rtnl_link_get_ifindex) \
    X(rtnl_link_get_kernel) \
    X(rtnl_link_get_mtu) \
    X(rtnl_link_get_stat) \
    X(rtnl_link_is_bridge) \
    X(rtnl_link_macvtap_alloc) \
    X(rtnl_link_macvtap_set_mode) \
    X(rtnl_link_macvtap_str2mode) \
    X(rtnl_link_put) \
    X(rtnl_link_set_addr) \
    X(rtnl_link_set_flags) \
    X(rtnl_link_set_link) \
    X(rtnl_link_set_master) \
    X(rtnl_link_set_mtu) \
    X(rtnl_link_set_name) \
    X(rtnl_link_unset_flags) \
    X(rtnl_neigh_alloc_cache) \
    X(rtnl_neigh_get_dst) \
    X(rtnl_neigh_get_family) \
    X(rtnl_neigh_get_ifindex) \
    X(rtnl_neigh_get_lladdr) \
    X(rtnl_neigh_get_state) \
    X(rtnl_route_alloc_cache) \
    X(rtnl_route_get_dst) \
    X(rtnl_route_get_nnexthops) \
    X(rtnl_route_get_protocol) \
    X(rtnl_route_get_table) \
    X(rtnl_route_get_type) \
    X(rtnl_route_nexthop_n) \
    X(rtnl_route_nh_get_ifindex)

#define VD_NL_MEMBER(name) __typeof__(&name) name;
typedef struct {
    VD_NL_FUNCS(VD_NL_MEMBER)
} VdNlLib;
#undef VD_NL_MEMBER

/* The loaded table; NULL until vd_nl_lib_load() succeeded. */
extern const VdNlLib *vd_nl_fn;

/* Loads the libraries once (later calls return the first result); on
 * failure VD_ERROR_UNSUPPORTED names the library and the package. */
gboolean vd_nl_lib_load(GError **error);

/* nl-lib.c, which fills the table, sees libnl's own names. */
#ifndef VD_NL_NO_REDIRECT
#define nl_addr2str (vd_nl_fn->nl_addr2str)
#define nl_addr_build (vd_nl_fn->nl_addr_build)
#define nl_addr_get_binary_addr (vd_nl_fn->nl_addr_get_binary_addr)
#define nl_addr_get_len (vd_nl_fn->nl_addr_get_len)
#define nl_addr_get_prefixlen (vd_nl_fn->nl_addr_get_prefixlen)
#define nl_addr_parse (vd_nl_fn->nl_addr_parse)
#define nl_addr_put (vd_nl_fn->nl_addr_put)
#define nl_addr_set_prefixlen (vd_nl_fn->nl_addr_set_prefixlen)
#define nl_cache_free (vd_nl_fn->nl_cache_free)
#define nl_cache_get_first (vd_nl_fn->nl_cache_get_first)
#define nl_cache_get_next (vd_nl_fn->nl_cache_get_next)
#define nl_connect (vd_nl_fn->nl_connect)
#define nl_geterror (vd_nl_fn->nl_geterror)
#define nl_send_sync (vd_nl_fn->nl_send_sync)
#define nl_socket_alloc (vd_nl_fn->nl_socket_alloc)
#define nl_socket_free (vd_nl_fn->nl_socket_free)
#define nla_nest_end (vd_nl_fn->nla_nest_end)
#define nla_nest_start (vd_nl_fn->nla_nest_start)
#define nla_put (vd_nl_fn->nla_put)
#define nla_put_string (vd_nl_fn->nla_put_string)
#define nla_put_u32 (vd_nl_fn->nla_put_u32)
#define nlmsg_alloc_simple (vd_nl_fn->nlmsg_alloc_simple)
#define nlmsg_append (vd_nl_fn->nlmsg_append)
#define nlmsg_free (vd_nl_fn->nlmsg_free)
#define rtnl_addr_add (vd_nl_fn->rtnl_addr_add)
#define rtnl_addr_alloc (vd_nl_fn->rtnl_addr_alloc)
#define rtnl_addr_put (vd_nl_fn->rtnl_addr_put)
#define rtnl_addr_set_broadcast (vd_nl_fn->rtnl_addr_set_broadcast)
#define rtnl_addr_set_family (vd_nl_fn->rtnl_addr_set_family)
#define rtnl_addr_set_flags (vd_nl_fn->rtnl_addr_set_flags)
#define rtnl_addr_set_ifindex (vd_nl_fn->rtnl_addr_set_ifindex)
#define rtnl_addr_set_local (vd_nl_fn->rtnl_addr_set_local)
#define rtnl_addr_set_prefixlen (vd_nl_fn->rtnl_addr_set_prefixlen)
#define rtnl_link_add (vd_nl_fn->rtnl_link_add)
#define rtnl_link_alloc (vd_nl_fn->rtnl_link_alloc)
#define rtnl_link_change (vd_nl_fn->rtnl_link_change)
#define rtnl_link_delete (vd_nl_fn->rtnl_link_delete)
#define rtnl_link_get_ifindex (vd_nl_fn->rtnl_link_get_ifindex)
#define rtnl_link_get_kernel (vd_nl_fn->rtnl_link_get_kernel)
#define rtnl_link_get_mtu (vd_nl_fn->rtnl_link_get_mtu)
#define rtnl_link_get_stat (vd_nl_fn->rtnl_link_get_stat)
#define rtnl_link_is_bridge (vd_nl_fn->rtnl_link_is_bridge)
#define rtnl_link_macvtap_alloc (vd_nl_fn->rtnl_link_macvtap_alloc)
#define rtnl_link_macvtap_set_mode (vd_nl_fn->rtnl_link_macvtap_set_mode)
#define rtnl_link_macvtap_str2mode (vd_nl_fn->rtnl_link_macvtap_str2mode)
#define rtnl_link_put (vd_nl_fn->rtnl_link_put)
#define rtnl_link_set_addr (vd_nl_fn->rtnl_link_set_addr)
#define rtnl_link_set_flags (vd_nl_fn->rtnl_link_set_flags)
#define rtnl_link_set_link (vd_nl_fn->rtnl_link_set_link)
#define rtnl_link_set_master (vd_nl_fn->rtnl_link_set_master)
#define rtnl_link_set_mtu (vd_nl_fn->rtnl_link_set_mtu)
#define rtnl_link_set_name (vd_nl_fn->rtnl_link_set_name)
#define rtnl_link_unset_flags (vd_nl_fn->rtnl_link_unset_flags)
#define rtnl_neigh_alloc_cache (vd_nl_fn->rtnl_neigh_alloc_cache)
#define rtnl_neigh_get_dst (vd_nl_fn->rtnl_neigh_get_dst)
#define rtnl_neigh_get_family (vd_nl_fn->rtnl_neigh_get_family)
#define rtnl_neigh_get_ifindex (vd_nl_fn->rtnl_neigh_get_ifindex)
#define rtnl_neigh_get_lladdr (vd_nl_fn->rtnl_neigh_get_lladdr)
#define rtnl_neigh_get_state (vd_nl_fn->rtnl_neigh_get_state)
#define rtnl_route_alloc_cache (vd_nl_fn->rtnl_route_alloc_cache)
#define rtnl_route_get_dst (vd_nl_fn->rtnl_route_get_dst)
#define rtnl_route_get_nnexthops (vd_nl_fn->rtnl_route_get_nnexthops)
#define rtnl_route_get_protocol (vd_nl_fn->rtnl_route_get_protocol)
#define rtnl_route_get_table (vd_nl_fn->rtnl_route_get_table)
#define rtnl_route_get_type (vd_nl_fn->rtnl_route_get_type)
#define rtnl_route_nexthop_n (vd_nl_fn->rtnl_route_nexthop_n)
#define rtnl_route_nh_get_ifindex (vd_nl_fn->rtnl_route_nh_get_ifindex)
#endif
