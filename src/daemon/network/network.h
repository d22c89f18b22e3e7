/* Virtual networks (docs/networking.md): the registry, start/stop, dnsmasq
 * supervision and leases. The pure parts are in conf/network-def.h
 * (XML) and network/ (dnsmasq configuration, nftables rules, links).
 *
 * Files (daemon/paths.h):
 *   config_dir/networks/NAME.xml            persistent definitions
 *   config_dir/networks/autostart/NAME.xml  symlink: autostart
 *   run_dir/networks/NAME.xml               status of an active network:
 *       <networkstatus> with the live <network>, dnsmasq's pid, the
 *       firewall table and the notes (e.g. "subnet moved"): a daemon
 *       restart takes the network over as it is (bridge, rules, dnsmasq,
 *       leases untouched)
 *   state_dir/dnsmasq/NAME.{conf,hostsfile,addnhosts,leases}, NAME.pid
 *
 * Everything here runs in the main loop; each operation is a few
 * netlink and nft round trips plus a fork/exec of dnsmasq. */
#pragma once

#include <glib.h>

#include "conf/network-def.h"
#include "daemon/daemon.h"
#include "network/dnsmasq-conf.h"

typedef struct {
    VdNetworkDef *def;        /* persistent definition (or the transient one) */
    VdNetworkDef *live;       /* the running configuration; NULL when inactive */
    gboolean active;
    gboolean autostart;
    gboolean persistent;
    int dnsmasq_pid;          /* 0: none */
    char *fw_table;           /* nftables table while active; NULL: none (open, bridge) */
    GPtrArray *notes;         /* char*: what start decided or found (net-info "Notes") */
    gboolean starting;        /* a start in progress (its status file says so: a daemon
                               * killed then finds a half-made network and undoes it) */
} VdNetwork;

VdNetworks *vd_networks_new(VdDaemon *d);
void vd_networks_free(VdNetworks *nets);

/* Loads definitions and active states; takes over active networks whose
 * bridge still exists (checks dnsmasq by pid + argv, restarts it if it
 * died, re-applies the firewall table if it is missing). On the very
 * first start (no config_dir/networks yet) defines, starts and marks
 * autostart 'default' (see vd_network_def_new_default; bridge virbr0 or
 * the first free virbrN; subnet 192.168.122.0/24 or the first
 * 192.168.N.0/24 not routed on the host, said in the log and the notes).
 * Problems are logged, never fatal. Then removes firewall tables of this
 * instance that belong to no active network. */
void vd_networks_load(VdNetworks *nets);
void vd_networks_autostart(VdNetworks *nets);

/* By name or UUID; VD_ERROR_NO_NETWORK ("Network not found: no network
 * with matching name 'x'") otherwise. Borrowed. */
VdNetwork *vd_networks_lookup(VdNetworks *nets, const char *key, GError **error);
/* All networks sorted by name (borrowed pointers; free the array). */
GPtrArray *vd_networks_list(VdNetworks *nets);

/* Defines (or redefines, same name and UUID) a network; takes @def.
 * Picks the bridge name (first free virbrN not used by another network
 * or the host) and a bridge MAC when absent. Refuses a bridge name or
 * subnet used by another defined network (naming it). @warnings gets
 * sentences for the answer. */
VdNetwork *vd_networks_define(VdNetworks *nets, VdNetworkDef *def, GPtrArray *warnings,
                              GError **error);
/* net-create: defines a transient network and starts it; on failure
 * nothing is left. */
VdNetwork *vd_networks_create(VdNetworks *nets, VdNetworkDef *def, GPtrArray *warnings,
                              GError **error);
/* An active persistent network becomes transient (libvirt's rule). */
gboolean vd_networks_undefine(VdNetworks *nets, VdNetwork *net, GError **error);

/* Checks everything first (subnet against host routes and other active
 * networks, bridge name free — or, for forward mode bridge, existing and
 * a bridge —, forward dev present), then bridge, addresses, firewall,
 * dnsmasq; any failure undoes what was done. Re-attaches the taps of
 * running guests on this network. */
gboolean vd_networks_start(VdNetworks *nets, VdNetwork *net, GPtrArray *warnings,
                           GError **error);
/* Stops dnsmasq, removes the table and host hooks, deletes the bridge
 * (never a forward-mode-bridge host bridge). Running guests keep their
 * taps (they are detached from the bridge with it). */
gboolean vd_networks_destroy(VdNetworks *nets, VdNetwork *net, GError **error);
gboolean vd_networks_set_autostart(VdNetworks *nets, VdNetwork *net, gboolean on,
                                   GError **error);
/* net-edit: replaces the persistent definition (same name and UUID);
 * an active network keeps running with its live one until restarted. */
VdNetwork *vd_networks_redefine(VdNetworks *nets, VdNetwork *net, VdNetworkDef *def,
                                GPtrArray *warnings, GError **error);
/* net-update with virsh's --live/--config (both FALSE: --current =
 * live if active, else config). Live changes rewrite dnsmasq's host
 * files and SIGHUP it. */
gboolean vd_networks_update(VdNetworks *nets, VdNetwork *net, VdNetUpdateCommand command,
                            VdNetUpdateSection section, int parent_index, const char *xml,
                            gboolean live, gboolean config, GError **error);

/* The DHCP leases of an active network (dnsmasq's lease file), expired
 * ones dropped; VdDnsmasqLease*. Empty for an inactive network or one
 * without DHCP. */
GPtrArray *vd_networks_leases(VdNetworks *nets, VdNetwork *net);

/* ---- for domains (daemon/domain/domain-net.c) ---- */

/* Where a guest interface of type='network' source @name plugs in: the
 * network's bridge and MTU. VD_ERROR_NO_NETWORK when undefined,
 * VD_ERROR_INVALID_STATE "network 'x' is not active" when inactive. */
typedef struct {
    char *bridge;
    guint mtu;               /* 0: default */
    VdNetForwardMode forward;
} VdNetworkPort;
gboolean vd_networks_port(VdNetworks *nets, const char *name, VdNetworkPort *out,
                          GError **error);
void vd_network_port_clear(VdNetworkPort *port);
