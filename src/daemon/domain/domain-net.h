/* A domain's network interfaces on the host side: the taps (macvtaps)
 * the daemon creates for them and hands to QEMU as open descriptors, and
 * the operations on the interfaces of a running domain (link state,
 * counters, addresses, hot-plug). docs/networking.md.
 *
 * The daemon, not QEMU, creates every network device: QEMU gets
 * `-netdev tap,fd=N` (at start, through qemu-spawn.c) or a descriptor
 * passed over QMP with SCM_RIGHTS (`getfd`, at attach), and so never
 * needs CAP_NET_ADMIN. A tap lives as long as a descriptor to it is
 * open: it vanishes with QEMU. A macvtap is a link of its own and is
 * deleted by the daemon when the domain stops (from the live XML's
 * <target dev>, also after a daemon restart). */
#pragma once

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"
#include "network/net-link.h"

/* What a start hands to QEMU: fds[] in that order, at
 * VD_SPAWN_FIRST_FD + i; net_fds/vhost_fds (one per interface) name
 * those numbers for the argv builder. */
typedef struct {
    GArray *fds;    /* int: the daemon's descriptors, closed by _clear() */
    int *net_fds;   /* per interface: number in QEMU, or -1 */
    int *vhost_fds; /* per interface: number in QEMU, or -1 */
    guint n;        /* interfaces */
} VdDomainNetFds;

/* Creates the host side of every interface of @live (a running
 * definition): checks first that each network is active and each bridge
 * and host NIC exists (a clear error naming it, nothing created), then
 * taps plugged into their bridge (MTU of the interface, else the
 * network's) or macvtaps; records the names in <target dev> and gives
 * each interface its alias ("net<N>" unless the user chose "ua-..."). On
 * failure nothing is left. */
gboolean vd_domain_net_prepare(VdDaemon *d, VdDomainDef *live, VdDomainNetFds *out, GError **error);
/* The checks of vd_domain_net_prepare without creating anything: every
 * interface whose network is not active, or whose bridge or host NIC is
 * missing, adds its error message to @blocks (vsh domcheck). */
void vd_domain_net_check(VdDaemon *d, const VdDomainDef *def, GPtrArray *blocks);
/* Closes the daemon's copies of the descriptors (after the spawn, or on
 * failure) and frees the arrays. */
void vd_domain_net_fds_clear(VdDomainNetFds *fds);
/* Deletes what QEMU's exit does not: the macvtaps of @live. */
void vd_domain_net_release(const VdDomainDef *live);

/* One interface (index @index, for messages): checks, then creates its
 * tap (macvtap) and records the name in <target dev>. Returns the
 * descriptor (close-on-exec) and in @vhostfd a vhost-net one or -1. */
int vd_domain_net_open(VdDaemon *d, VdNetDef *net, guint index, int *vhostfd, GError **error);
/* Deletes @net's macvtap (a tap needs nothing: it goes with QEMU). */
void vd_domain_net_close_one(const VdNetDef *net);

/* MACs are unique among all defined and running domains: a MAC
 * generated at parse (no <mac> in the XML) that another domain uses is
 * generated again; a given one is refused naming the other domain. For
 * define (@extra NULL) and attach (@extra: the new interface of @def's
 * domain, checked against @def too). */
gboolean vd_domain_net_check_macs(VdDaemon *d, VdDomainDef *def, VdNetDef *extra, GError **error);

/* The interface @key names in @def (its <target dev> or its MAC, as
 * virsh takes them); -1 and VD_ERROR_INVALID_ARG naming the key. */
int vd_domain_net_find(const VdDomainDef *def, const char *key, GError **error);

/* The guest's counters of a running domain's interface: the tap's,
 * swapped (what the host receives, the guest sent), as libvirt does. */
gboolean vd_domain_net_stats(VdDomainObj *dom, const char *key, VdLinkStats *out, GError **error);

/* Which definitions an operation changes, from the API's live/config
 * flags (neither: the live one when running, else the persistent one,
 * virsh's --current). FALSE + error when asked for what is not there. */
gboolean vd_domain_net_scope(VdDomainObj *dom, gboolean *live, gboolean *config, GError **error);

/* domif-setlink: QMP set_link on the device (live), <link state> in the
 * persistent definition (config). */
void vd_domain_net_set_link(VdDaemon *d, VdDomainObj *dom, const char *key, gboolean up,
                            gboolean live, gboolean config, VdDomainWaitFunc done,
                            gpointer user_data);

/* Hot-plug. @device_xml: the interface as attached (MAC and alias
 * filled in), for the answer. */
typedef void (*VdDomainNetAttached)(VdDomainObj *dom, const GError *error, const char *device_xml,
                                    gpointer user_data);
/* Takes @net. Live: tap (macvtap) created here, its descriptor passed
 * with getfd, netdev_add, device_add (set_link when down), the live
 * definition and status file updated; config: the persistent
 * definition. */
void vd_domain_net_attach(VdDaemon *d, VdDomainObj *dom, VdNetDef *net, gboolean live,
                          gboolean config, VdDomainNetAttached done, gpointer user_data);
/* The interface matching @match (type, then MAC when given; several
 * matches without a MAC fail naming them). Live: device_del, then the
 * guest's DEVICE_DELETED (10 s, else an error saying the guest did not
 * answer), netdev_del, the live definition; config: the persistent one. */
void vd_domain_net_detach(VdDaemon *d, VdDomainObj *dom, const VdNetDef *match, gboolean live,
                          gboolean config, VdDomainWaitFunc done, gpointer user_data);
/* QMP's DEVICE_DELETED for @device (domain-process.c's event handler). */
void vd_domain_net_device_deleted(VdDomainObj *dom, const char *device);
/* The domain stopped: pending detaches fail (domain-process.c). */
void vd_domain_net_stopped(VdDomainObj *dom);
