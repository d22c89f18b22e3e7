/* Links, addresses and routes of the host, through libnl-route-3
 * (netlink; never ip(8) output), and taps through /dev/net/tun.
 * Everything here acts on the host at once and blocks only for the
 * netlink round trip (microseconds). */
#pragma once

#include <glib.h>

/* Does a link of that name exist? */
gboolean vd_link_exists(const char *name);
/* Is @name a bridge? (FALSE when missing) */
gboolean vd_link_is_bridge(const char *name);
/* The first free name from a printf pattern with one %u (e.g.
 * "virbr%u", "vnet%u") not in @taken (may be NULL), starting at 0. */
char *vd_link_free_name(const char *pattern, const GPtrArray *taken);

/* Creates bridge @name (STP @stp, forward delay @delay s, MAC @mac or
 * random when NULL, MTU @mtu or default when 0) and sets it up. Fails
 * with VD_ERROR_EXISTS when the name is taken. */
gboolean vd_bridge_create(const char *name, const char *mac, gboolean stp, guint delay,
                          guint mtu, GError **error);
/* Deletes link @name; no error if it is already gone. */
gboolean vd_link_delete(const char *name, GError **error);
/* Adds @address/@prefix (IPv4 or IPv6) to @name. */
gboolean vd_link_add_address(const char *name, const char *address, guint prefix,
                             GError **error);
gboolean vd_link_set_up(const char *name, gboolean up, GError **error);
gboolean vd_link_set_master(const char *name, const char *master, GError **error);
gboolean vd_link_set_mtu(const char *name, guint mtu, GError **error);
guint vd_link_get_mtu(const char *name);
/* The host route that overlaps @subnet (e.g. "192.168.122.0") /
 * @prefix, ignoring routes via @ignore_dev (may be NULL): on TRUE, @dev
 * is the interface it goes through (or "blackhole"/"unreachable") and
 * @route its destination ("192.168.0.0/16"). IPv4 only. */
gboolean vd_route_find_overlap(const char *subnet, guint prefix, const char *ignore_dev,
                               char **dev, char **route);
/* Every such route (VdRouteOverlap*, in the kernel's order), for a caller
 * that ignores more than one kind (its own bridge, blackhole fallbacks,
 * unreachable routes): empty when none. */
typedef struct {
    char *dev;      /* interface, or "blackhole", "unreachable", "prohibit" */
    char *route;    /* "192.168.0.0/16" */
} VdRouteOverlap;
void vd_route_overlap_free(VdRouteOverlap *o);
GPtrArray *vd_route_list_overlaps(const char *subnet, guint prefix);

/* Creates tap @name (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, not
 * persistent: it lives as long as an fd to it is open), with MAC @mac
 * for the host side (libvirt: the guest's MAC with the first byte set to
 * 0xfe, so the bridge never takes the guest's address), MTU @mtu (0:
 * the bridge's), plugged into @bridge (NULL: none) and up. Returns the
 * fd (close-on-exec), or -1. @name NULL: the first free "vnet%u"; the
 * name used is returned in @out_name. */
int vd_tap_create(const char *name, const char *mac, const char *bridge, guint mtu,
                  char **out_name, GError **error);
/* macvtap @name (NULL: first free "macvtap%u") on host interface @dev in
 * @mode ("bridge", "vepa", "private", "passthrough") with the guest's MAC
 * @mac, up; opens and returns /dev/tapIFINDEX (close-on-exec). */
int vd_macvtap_create(const char *name, const char *dev, const char *mode, const char *mac,
                      char **out_name, GError **error);
/* /dev/vhost-net opened (close-on-exec), or -1 when it does not work
 * here (then QEMU's userspace virtio-net is used; never an error). */
int vd_vhost_net_open(void);

typedef struct {
    guint64 rx_bytes, rx_packets, rx_errs, rx_drop;
    guint64 tx_bytes, tx_packets, tx_errs, tx_drop;
} VdLinkStats;
/* Counters of @name as the kernel counts them (/sys/class/net/NAME/statistics). */
gboolean vd_link_stats(const char *name, VdLinkStats *out, GError **error);

/* The host's neighbour table (ARP, IPv4) entries on link @dev (NULL:
 * all links), MACs lower case: VdNeigh*. */
typedef struct {
    char *ip;
    char *mac;
    char *dev;
} VdNeigh;
void vd_neigh_free(VdNeigh *n);
GPtrArray *vd_neigh_list(const char *dev);
