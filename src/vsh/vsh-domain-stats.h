/* domstats and domblkstat (vsh-domain-stats.c): the renderers are pure,
 * for the unit tests. */
#pragma once

#include <json-glib/json-glib.h>

/* virsh domstats' records from GET /v1/domain-stats's answer:
 * "Domain: 'NAME'", then "  key=value" lines, then an empty line. */
char *vsh_render_domstats(JsonNode *answer);

/* virsh domblkstat's lines from the figures @figures (the answer of
 * GET .../disks/T/stats, or the sum made by vsh_domblkstat_sum):
 * "DEVICE rd_req N" ..., or with @human "Device: DEVICE" then
 * " number of read operations:      N" ... */
char *vsh_render_domblkstat(JsonObject *figures, const char *device, gboolean human);

/* domblkstat without a device: the figures of every disk of a domain's
 * block record (GET /v1/domains/D/stats?groups=block), summed as libvirt
 * sums them; NULL when no disk has figures. */
JsonObject *vsh_domblkstat_sum(JsonObject *stats);

/* domusage (virtd's own command, issue 14): the points of GET
 * /v1/domains/D/usage?range= as a table, one row per point, times in
 * @tz; an unknown figure prints as "-". */
char *vsh_render_domusage(JsonNode *answer, GTimeZone *tz);
