/* What the files of the network registry share (network.h is the
 * interface): network.c holds the registry and its files, network-load.c
 * the load at daemon start, network-start.c
 * start/destroy/update and the take-over after a restart,
 * network-dnsmasq.c dnsmasq's files and process. */
#pragma once

#include "daemon/network/network.h"

struct _VdNetworks {
    VdDaemon *d;          /* the daemon's context: outlives the registry */
    const VdPaths *paths; /* d->paths */
    char *instance;       /* firewall instance tag (vd_firewall_instance) */
    GHashTable *nets;     /* name -> VdNetwork* */
};

/* ---- network.c ---- */

VdNetwork *vd_network_new(VdNetworkDef *def);
char *vd_networks_config_path(VdNetworks *nets, const char *name);
char *vd_networks_autostart_path(VdNetworks *nets, const char *name);
char *vd_networks_status_path(VdNetworks *nets, const char *name);
/* Writes run_dir/networks/NAME.xml for an active network (live
 * definition, dnsmasq pid, firewall table, notes). */
gboolean vd_networks_save_status(VdNetworks *nets, VdNetwork *net, GError **error);
void vd_networks_remove_status(VdNetworks *nets, VdNetwork *net);
/* Drops an inactive transient network from the registry (frees it). */
void vd_networks_forget(VdNetworks *nets, VdNetwork *net);
void vd_network_add_note(VdNetwork *net, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Bridge names of every network but @skip (definitions and live ones),
 * borrowed. */
GPtrArray *vd_networks_bridges_taken(VdNetworks *nets, VdNetwork *skip);

/* ---- network-start.c ---- */

/* After a daemon restart: @net was active (its status file read into
 * net->live, dnsmasq_pid, fw_table, notes). Keeps what still runs and
 * mends what does not (dnsmasq, firewall table); a network whose bridge
 * is gone is cleaned up and left inactive. */
void vd_networks_take_over(VdNetworks *nets, VdNetwork *net);
/* The host route that overlaps @ip's subnet, ignoring routes via
 * @ignore_dev and blackhole/unreachable/prohibit routes (an
 * administrator's fallback that keeps a subnet's traffic off the
 * default route while its bridge is down: nothing uses the subnet). */
gboolean vd_networks_host_route(const VdNetIpDef *ip, const char *ignore_dev, char **dev,
                                char **route);
/* The first subnet of @prefix bits after @subnet's that no host route
 * and no other network (but @skip) uses, as "A.B.C.D/P"; NULL if none
 * in the next 256. */
char *vd_networks_free_subnet(VdNetworks *nets, const char *subnet, guint prefix, VdNetwork *skip);
/* Plugs the taps of running guests on @net into its bridge again. */
void vd_networks_reattach_taps(VdNetworks *nets, VdNetwork *net);

/* ---- network-dnsmasq.c ---- */

/* state_dir/dnsmasq/NAME.SUFFIX ("conf", "hostsfile", "addnhosts",
 * "leases", "pid"). */
char *vd_network_dnsmasq_path(VdNetworks *nets, const char *name, const char *suffix);
/* Writes the configuration and host files of net->live and starts
 * dnsmasq (it detaches itself and outlives the daemon); sets
 * net->dnsmasq_pid. dnsmasq's own message is the error's. */
gboolean vd_network_dnsmasq_start(VdNetworks *nets, VdNetwork *net, GError **error);
/* Whether net->dnsmasq_pid is alive and is the dnsmasq of this network
 * (its command line names the network's configuration file). */
gboolean vd_network_dnsmasq_alive(VdNetworks *nets, VdNetwork *net);
/* SIGTERM, waits (1 s, then SIGKILL) and removes the files of the run
 * (configuration, host files, pid; the leases stay for the next start). */
void vd_network_dnsmasq_stop(VdNetworks *nets, VdNetwork *net);
/* Rewrites the host files from net->live and SIGHUPs dnsmasq. */
gboolean vd_network_dnsmasq_reload(VdNetworks *nets, VdNetwork *net, GError **error);
/* Removes every file of network @name, leases included (undefine). */
void vd_network_dnsmasq_forget(VdNetworks *nets, const char *name);
