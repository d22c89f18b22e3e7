/* placeholder: being written */
#include "network/dnsmasq-conf.h"
/* TEMPORARY STUBS (helper D, uncommitted) */
char *vd_dnsmasq_conf_format(const VdNetworkDef *def, const VdDnsmasqFiles *files) { return g_strdup(""); }
char *vd_dnsmasq_hosts_format(const VdNetworkDef *def) { return g_strdup(""); }
char *vd_dnsmasq_addn_hosts_format(const VdNetworkDef *def) { return g_strdup(""); }
void vd_dnsmasq_lease_free(VdDnsmasqLease *lease) { if (lease) { g_free(lease->mac); g_free(lease->ip); g_free(lease->hostname); g_free(lease->client_id); g_free(lease);} }
GPtrArray *vd_dnsmasq_leases_parse(const char *text) { return g_ptr_array_new_with_free_func((GDestroyNotify)vd_dnsmasq_lease_free); }
