/* Firewall rules of virtual networks, in nftables (docs/networking.md).
 *
 * Each active network gets one table of its own, in family inet, named
 * vd_INSTANCE_BRIDGE (INSTANCE: 8 hex digits of a hash of the daemon's
 * root directory, so that two daemons never touch each other's tables;
 * BRIDGE: the bridge name with '-' and '.' as '_'). Adding a network's
 * rules is one atomic nft transaction that creates the table; removing
 * them deletes the table. Generation is pure (golden files in
 * tests/data/network/); applying uses libnftables (nft's own library,
 * the same parser and netlink code as the nft command, so no command
 * output is ever parsed). */
#pragma once

#include <glib.h>

#include "conf/network-def.h"

/* "vd_1a2b3c4d_virbr0" for @instance "1a2b3c4d". */
char *vd_firewall_table_name(const char *instance, const char *bridge);
/* The instance tag of a daemon whose root directory is @root (NULL:
 * system mode): 8 lower-case hex digits. */
char *vd_firewall_instance(const char *root);

/* The nft script that creates the table for @def (bridge set): NAT:
 * masquerade of the subnet to anything outside it, excluding multicast
 * 224.0.0.0/24 and broadcast, TCP/UDP with ports 1024-65535 (or
 * <nat><port>), SNAT to <nat><address> when given, leaving by
 * forward_dev when given; forward: established/related in, the subnet
 * out, guest-to-guest on the bridge, everything else to or from the
 * bridge rejected; route: the subnet both ways; open: no rules (NULL is
 * returned); isolated: only guest-to-guest; input: DHCP and DNS from the
 * bridge accepted. Begins with "add table" + "delete table" + "table ..."
 * so that it replaces a stale table of the same name atomically. A bridge
 * or forward dev name that nft cannot match (outside letters, digits and
 * "-_.@+") gives a script that vd_firewall_apply() refuses, naming it:
 * never NULL, which would mean no rules at all. */
char *vd_firewall_ruleset(const VdNetworkDef *def, const char *table);

/* Runs @script in one nft transaction; the error carries nft's own
 * message. */
gboolean vd_firewall_apply(const char *script, GError **error);
/* Deletes @table if it exists (no error when it does not). */
gboolean vd_firewall_remove(const char *table, GError **error);
/* Names of the inet tables of @instance that exist now (for the clean-up
 * of a network the daemon no longer runs). */
GPtrArray *vd_firewall_list_tables(const char *instance, GError **error);

/* Coexistence with the host's other firewalls, checked at net-start.
 * Returns the problems found as sentences naming the chain and the fix,
 * e.g. "the host's FORWARD chain (table ip filter) drops forwarded
 * traffic by default (policy drop, as Docker sets it): guests on 'default'
 * cannot reach beyond the host; ..." */
typedef struct {
    char *message;
    gboolean fixed;   /* TRUE when virtd added its rule to a documented hook (DOCKER-USER) */
} VdFirewallNote;
void vd_firewall_note_free(VdFirewallNote *note);

/* For a nat/route network: a FORWARD base chain of another table with
 * policy drop, Docker's DOCKER-USER chain (then an accept rule for the
 * bridge is added there, in its own handle-tracked rule, removed by
 * vd_firewall_host_hooks_remove), ufw/firewalld chains. For a bridge
 * network: br_netfilter with bridge-nf-call-iptables=1. */
GPtrArray *vd_firewall_check_host(const VdNetworkDef *def, GError **error);
gboolean vd_firewall_host_hooks_remove(const VdNetworkDef *def, GError **error);

/* net.ipv4.ip_forward (and IPv6 forwarding when @ipv6) set to 1, as
 * libvirt does for nat and route networks. As libvirt, IPv6 forwarding is
 * refused (naming the interface and the sysctl to set) while an interface
 * has routes learnt from router advertisements and accept_ra is not 2:
 * the host would lose them. */
gboolean vd_firewall_enable_forwarding(gboolean ipv6, GError **error);
