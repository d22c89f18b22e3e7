/* Virtual networks and domain interfaces on the command line
 * (vsh-network.c: net-*; vsh-network-hosts.c: net-update, net-dhcp-leases;
 * vsh-domain-net.c: domif*, attach/detach-interface
 * and -device). The renderers and the <interface> builder are pure
 * functions of the API's JSON or of the options, so tests/vsh feeds them
 * canned data. */
#pragma once

#include <json-glib/json-glib.h>

#include "vsh.h"

/* "/v1/networks/NET" + @suffix, @net percent-encoded. */
char *vsh_network_path(const char *net, const char *suffix);

/* A JSON request on a network's path. */
JsonNode *vsh_network_call(VshCtl *ctl, const char *method, const char *net, const char *suffix,
                           JsonNode *body, GError **error);
/* The name in the "network" summary of @answer, or @fallback. */
const char *vsh_network_name(JsonNode *answer, const char *fallback);

/* The options of net-list that shape its output. */
typedef struct {
    gboolean name;                                           /* --name: names, one per line */
    gboolean uuid;                                           /* --uuid: UUIDs, one per line */
    gboolean persistent, transient, autostart, no_autostart; /* filters */
} VshNetListFormat;

/* net-list from the answer of GET /v1/networks: virsh's table (sorted by
 * name, case-insensitively), or names/UUIDs; @header FALSE drops the two
 * header lines (-q). */
char *vsh_render_net_list(JsonNode *answer, const VshNetListFormat *format, gboolean header);

/* net-info from a network summary: virsh's "Name:  value" lines, and one
 * "Notes:" line per note of the summary. */
char *vsh_render_net_info(JsonObject *net);

/* net-dhcp-leases from the answer of GET /v1/networks/{net}/leases:
 * sorted by MAC, expiry in local time, "-" for what is unknown. */
char *vsh_render_net_leases(JsonNode *answer, gboolean header);

/* domifaddr from the answer of GET /v1/domains/{dom}/interfaces/addresses
 * (virsh's fixed-width layout, not a vshTable); @iface (may be NULL)
 * keeps one interface; @full repeats name and MAC on every address line. */
char *vsh_render_domifaddr(JsonNode *answer, const char *iface, gboolean full, gboolean header);

/* The options of attach-interface. */
typedef struct {
    const char *type;   /* network, bridge, direct, user */
    const char *source; /* network name, bridge, host NIC; NULL for user */
    const char *target; /* <target dev> */
    const char *mac;
    const char *model;
} VshIfaceSpec;

/* The <interface> element attach-interface sends, as virsh writes it
 * (source, target, mac, model, in that order); NULL and an
 * invalid-argument error for an unknown type or a missing source. */
char *vsh_build_interface_xml(const VshIfaceSpec *spec, GError **error);

/* VshAffect and vsh_affect_from_cmd(): vsh-device.h. */
#include "vsh-device.h"
