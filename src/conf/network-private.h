/* Internal interfaces between the network-*.c files of conf/. */
#pragma once

#include <libxml/tree.h>

#include "conf/network-def.h"

G_BEGIN_DECLS

/* An IPv4 or IPv6 address as bytes in network order (IPv4 in b[0..3]). */
typedef struct {
    int family;
    guint8 b[16];
} VdNetAddr;

/* inet_pton of @text in @family (0: either). */
gboolean vd_net_addr_parse(const char *text, int family, VdNetAddr *out);
/* The canonical text (inet_ntop) of @text, or VD_ERROR_XML naming @where. */
char *vd_net_addr_canon(const char *text, int family, const char *where, GError **error);
char *vd_net_addr_to_string(const VdNetAddr *a);
/* memcmp order; both must have the same family. */
int vd_net_addr_cmp(const VdNetAddr *a, const VdNetAddr *b);
/* @a with every bit past @prefix cleared (or set, when @ones). */
VdNetAddr vd_net_addr_mask(const VdNetAddr *a, guint prefix, gboolean ones);
gboolean vd_net_addr_in_subnet(const VdNetAddr *a, const VdNetAddr *net, guint prefix);
/* Number of addresses from @start to @end inclusive, capped at G_MAXUINT32. */
guint64 vd_net_range_size(const VdNetAddr *start, const VdNetAddr *end);
/* The address of an <ip> (parsed; the parser guarantees it parses). */
VdNetAddr vd_net_ip_addr(const VdNetIpDef *ip);

VdNetIpDef *vd_net_ip_def_new(int family);
void vd_net_ip_def_free(VdNetIpDef *ip);
VdNetDhcpHost *vd_net_dhcp_host_copy(const VdNetDhcpHost *h);
void vd_net_dhcp_host_free(VdNetDhcpHost *h);
VdNetDnsHost *vd_net_dns_host_copy(const VdNetDnsHost *h);
void vd_net_dns_host_free(VdNetDnsHost *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdNetIpDef, vd_net_ip_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdNetDhcpHost, vd_net_dhcp_host_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdNetDnsHost, vd_net_dns_host_free)

/* ---- network-parse.c, shared with network-update.c ---- */
/* One <host> of <dhcp> under @ip (its subnet and family decide the checks
 * of that host alone). */
VdNetDhcpHost *vd_net_dhcp_host_parse(const xmlNode *node, const VdNetIpDef *ip, GError **error);
/* @host against the other hosts of @ip (duplicate MAC, id, IP or name);
 * @skip is the index of the entry being replaced, or -1. */
gboolean vd_net_dhcp_host_check_dups(const VdNetIpDef *ip, const VdNetDhcpHost *host, int skip,
                                     GError **error);
VdNetDnsHost *vd_net_dns_host_parse(const xmlNode *node, GError **error);
VdNetIpDef *vd_net_ip_parse(const xmlNode *node, GError **error);
/* Host and domain names (they end up in dnsmasq's files): VD_ERROR_INVALID_ARG. */
gboolean vd_net_dns_name_check(const char *name, const char *what, GError **error);
/* "52:54:00:AB:..." -> lower case in *@out; multicast refused. */
gboolean vd_net_mac_parse(const char *text, const char *where, char **out, GError **error);

/* ---- network-known.c ---- */
/* Refuses (VD_ERROR_UNSUPPORTED, by name) any element or attribute under
 * @node that virtd does not implement; @path is @node's place in
 * <network>, e.g. "network" or "network/ip/dhcp/host". */
gboolean vd_net_xml_check_known(const xmlNode *node, const char *path, GError **error);

G_END_DECLS
