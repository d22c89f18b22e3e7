/* Usage history of running domains (issue 14's graphs; docs/api.md
 * "Usage history").
 *
 * A timer on the main loop samples every running domain every 10 s
 * (VIRTD_TEST_USAGE_INTERVAL_MS for tests, at least 100): one collection
 * of domain-stats.c for all of them (the QMP query-blockstats of all
 * domains in flight at once, /proc and the taps read in its worker), then
 * one job for the usage worker, which turns the counters into rates and
 * appends them to each domain's file (usage-ring.h). The worker is one
 * thread taking jobs in order (samples, reads for the API, renames,
 * removals), so a removal queued after a sample is done after it; it
 * alone touches the files. The main loop keeps only each domain's latest
 * point, for GET /v1/usage.
 *
 * Files: state_dir/usage/NAME.usage. They follow the domain: renamed by
 * domrename, removed by the undefine of an inactive domain and when a
 * domain leaves the registry as its QEMU ends (a transient one, one
 * undefined while running: hook in domain-process.c); any other file of a
 * name the registry does not have (also those found at daemon start) is
 * removed by the next sample's sweep. */
#pragma once

#include <json-glib/json-glib.h>

#include "daemon/daemon.h"
#include "daemon/stats/usage-ring.h"

#define VD_USAGE_INTERVAL_MS 10000

typedef struct _VdUsage VdUsage;

/* Starts sampling (d->loop must exist); NULL never. */
VdUsage *vd_usage_new(VdDaemon *d);
/* Stops the timer, finishes the worker's queued jobs and answers them
 * (call before the API stops), frees everything. */
void vd_usage_free(VdUsage *u);
guint vd_usage_interval_ms(const VdUsage *u);

/* Hooks: domrename of an inactive domain, undefine of an inactive one. */
void vd_usage_rename(VdDaemon *d, const char *old_name, const char *new_name);
void vd_usage_forget(VdDaemon *d, const char *name);

/* The answer of GET /v1/domains/NAME/usage?range=LEVEL, or an error;
 * called once on the main loop. */
typedef void (*VdUsageReadDone)(JsonNode *answer, const GError *error, gpointer user_data);
void vd_usage_read(VdDaemon *d, VdDomainObj *dom, VdUsageLevel level, VdUsageReadDone done,
                   gpointer user_data);
/* The answer of GET /v1/usage: the latest point of every running domain;
 * with @points > 0 (at most 360), each with its last @points hour points
 * too (sparklines), read in the worker. */
void vd_usage_latest(VdDaemon *d, guint points, VdUsageReadDone done, gpointer user_data);

/* The members of a point as the API gives it (docs/api.md), into the
 * object @b has open: t in unix seconds (with a fraction only under a
 * test interval below 1 s), unknown figures null. */
void vd_usage_point_members(JsonBuilder *b, const VdUsagePoint *p, guint interval_ms);
