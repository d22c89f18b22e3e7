/* dnsmasq's configuration file for one network (libvirt's
 * networkxml2confdata): pure text generation, tested by golden files in
 * tests/data/network/. The daemon (daemon/network/network-dnsmasq.c)
 * writes the files and runs dnsmasq. */
#pragma once

#include <glib.h>

#include "conf/network-def.h"

typedef struct {
    const char *pid_file;      /* pid-file= */
    const char *lease_file;    /* dhcp-leasefile= (read back for net-dhcp-leases) */
    const char *hosts_file;    /* dhcp-hostsfile= (the <dhcp><host>s, re-read on SIGHUP) */
    const char *addn_hosts;    /* addn-hosts= (the <dns><host>s, re-read on SIGHUP) */
    /* FALSE: dnsmasq answers only what it knows (no-resolv) unless the
     * network names <forwarder>s; virtd --dns-forward=none, used by the
     * tests so that no query ever leaves the machine. TRUE: as libvirt,
     * queries go to the host's resolvers. */
    gboolean forward_to_host;
} VdDnsmasqFiles;

/* The main configuration file (bind-dynamic to the network's bridge,
 * except-interface=lo, strict-order, DHCP ranges with their lease time,
 * dhcp-lease-max, dhcp-no-override, dhcp-authoritative, local=/domain/
 * for localOnly, server= for forwarders, no-resolv when nothing is
 * forwarded to the host, enable-ra and dhcp-range ...,ra-only/constructor
 * for IPv6). */
char *vd_dnsmasq_conf_format(const VdNetworkDef *def, const VdDnsmasqFiles *files);
/* The dhcp-hostsfile: one "MAC,IP,NAME" (or "id:DUID,[IPv6],NAME") line per host. */
char *vd_dnsmasq_hosts_format(const VdNetworkDef *def);
/* The addn-hosts file: one "IP NAME NAME..." line per <dns><host>. */
char *vd_dnsmasq_addn_hosts_format(const VdNetworkDef *def);

typedef struct {
    gint64 expiry;        /* seconds since the epoch; 0 = infinite */
    char *mac;
    char *ip;
    gboolean ipv6;
    char *hostname;       /* NULL when the client sent none ("*") */
    char *client_id;      /* NULL when "*" */
} VdDnsmasqLease;

void vd_dnsmasq_lease_free(VdDnsmasqLease *lease);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdDnsmasqLease, vd_dnsmasq_lease_free)
/* Parses dnsmasq's lease file text ("EXPIRY MAC IP HOST CLIENTID" lines;
 * the "duid ..." line of DHCPv6 skipped); malformed lines are skipped.
 * Returns VdDnsmasqLease* in file order. */
GPtrArray *vd_dnsmasq_leases_parse(const char *text);
