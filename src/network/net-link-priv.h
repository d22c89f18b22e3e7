/* What net-link.c and net-tap.c share: a route netlink socket, a link
 * looked up by name, and libnl's errors as GErrors. */
#pragma once

#include <glib.h>

#include "network/nl-lib.h"

typedef struct nl_sock VdNlSock;
typedef struct rtnl_link VdRtnlLink;
typedef struct nl_addr VdNlAddr;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdNlSock, nl_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdRtnlLink, rtnl_link_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdNlAddr, nl_addr_put)

/* A connected NETLINK_ROUTE socket, or NULL with @error set. */
struct nl_sock *vd_nl_open(GError **error);

/* Link @name as the kernel has it now; NULL with @error (naming the
 * interface) when it does not exist or netlink failed. */
struct rtnl_link *vd_nl_get_link(struct nl_sock *sock, const char *name, GError **error);

/* Sets @error from a negative libnl error code: VD_ERROR_EXISTS for
 * -NLE_EXIST, VD_ERROR_OPERATION_FAILED otherwise, with "@what: <libnl's
 * text for the kernel's errno>". */
void vd_nl_set_error(GError **error, int nlerr, const char *what);

/* "52:54:00:ab:cd:ef" into 6 bytes; FALSE when malformed. */
gboolean vd_mac_parse(const char *mac, guint8 out[6]);

/* Applies MAC @mac (may be NULL), MTU @mtu (0: unchanged), master
 * @master (NULL: unchanged) and the up flag to existing link @name in one
 * RTM_NEWLINK/SETLINK. */
gboolean vd_nl_link_configure(struct nl_sock *sock, const char *name, const char *mac, guint mtu,
                              const char *master, gboolean up, GError **error);

/* The first interface with an IPv6 route learnt from router
 * advertisements while its accept_ra is not 2: turning IPv6 forwarding on
 * makes the kernel ignore RAs there (accept_ra=1 means "unless
 * forwarding"), so the host would lose those routes when they expire.
 * NULL when there is none. */
char *vd_nl_ipv6_ra_conflict(void);
