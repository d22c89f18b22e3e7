/* The QMP commands of the memory balloon (setmem, dommemstat --period,
 * the stats) and the reading of their answers: pure functions, no I/O,
 * so the unit tests compare them with golden files
 * (tests/data/hotplug/balloon-*.json). */
#pragma once

#include <json-glib/json-glib.h>

/* The QOM path of the balloon device the argv builder names balloon0. */
#define VD_QMP_BALLOON_PATH "/machine/peripheral/balloon0"

/* "balloon": the guest's memory target, @kib in KiB (QEMU takes bytes). */
JsonObject *vd_qmp_balloon_args(guint64 kib);
/* "qom-set" of guest-stats-polling-interval: the guest reports its
 * memory statistics every @period seconds (0 stops it). */
JsonObject *vd_qmp_balloon_period_args(guint period);
/* "qom-get" of guest-stats: the last statistics the guest reported. */
JsonObject *vd_qmp_balloon_stats_args(void);

/* One line of dommemstat: virsh's name and value (KiB for sizes). */
typedef struct {
    const char *name; /* static */
    guint64 value;
} VdMemStat;

/* dommemstat's lines in virsh's order: "actual" from the answer of
 * query-balloon (@balloon, may be NULL), the guest's own figures from
 * qom-get guest-stats (@guest_stats, may be NULL; figures the guest did
 * not report, -1 in QEMU, are left out; none before its first report),
 * then "rss" when @rss_kib >= 0. */
GArray *vd_qmp_balloon_stats_parse(JsonNode *balloon, JsonNode *guest_stats, gint64 rss_kib);
