/* Shared by the usage sampler's files: usage.c (the timer, the worker,
 * the hooks) and usage-points.c (points in and out). */
#pragma once

#include "daemon/stats/domain-stats.h"
#include "daemon/stats/usage.h"

/* One domain's sample, from the tick to the worker; also an entry of
 * GET /v1/usage (its latest point). */
typedef struct {
    char *name;
    char uuid[40];
    guint vcpus;
    VdUsagePoint p;
} VdUsageSample;

/* The raw counters (CPU time, RSS, balloon, bytes of every disk and
 * interface) of @rec, a domstats record, into @p's raw fields and flags. */
void vd_usage_sample_fill(VdUsagePoint *p, VdStatsRecord *rec);
/* "interval_s": @interval_ms in seconds. */
void vd_usage_add_interval(JsonBuilder *b, guint interval_ms);
/* GET /v1/usage's answer: @latest (VdUsageSample*, by name) and, if
 * @points, each one's hour points (GArray* of VdUsagePoint, or NULL). */
JsonNode *vd_usage_latest_json(GPtrArray *latest, GPtrArray *points, guint interval_ms);
