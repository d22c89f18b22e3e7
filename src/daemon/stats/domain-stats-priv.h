/* What the stats worker reads: copies made on the main loop (domain-stats.c)
 * and turned into records in the worker (domain-stats-read.c). */
#pragma once

#include "daemon/stats/domain-stats.h"

typedef struct {
    char *target;    /* vda */
    char *path;      /* the source file, NULL for an empty drive */
    char *device_id; /* disk-vda: what query-blockstats names it by */
    char *node_name; /* vda-format */
    /* filled by vd_stats_read_disk_sizes */
    gboolean sized;
    guint64 allocation, capacity, physical;
} VdStatsDisk;

typedef struct {
    VdDomainObj *dom; /* ref'd; main loop only */
    char *name;
    VdState state;
    VdStateReason reason;
    gboolean active;
    pid_t pid;
    guint vcpus;         /* <vcpu>: maximum */
    guint vcpus_current; /* online */
    GArray *tids;        /* guint64 pairs (cpu-index, thread id), or NULL: unknown */
    guint64 mem_max_kib;
    guint64 mem_cur_kib;
    GPtrArray *ifaces;    /* char*: host device, "" when none */
    GPtrArray *disks;     /* VdStatsDisk* */
    JsonNode *blockstats; /* query-blockstats answer */
    char *block_problem;  /* why there are no block figures (QEMU's error, timeout) */
    gboolean block_pending;
    gboolean cpus_pending;
    const char *proc_root; /* "/proc"; tests give their own */
    /* Interface counters (host view swapped as the guest sees them); NULL:
     * vd_link_stats. Tests give their own. */
    gboolean (*link_stats)(const char *dev, guint64 out[8]);
} VdStatsSnap;

void vd_stats_snap_free(VdStatsSnap *s);
/* The record of @s in three steps, so that the worker's reads overlap the
 * QMP queries: vd_stats_read_disk_sizes (stat and header of each disk
 * file) and vd_stats_build_base (every group but block: /proc, /sys)
 * block and run in the worker; vd_stats_add_block appends the block
 * group from what they and query-blockstats gave, without I/O. */
void vd_stats_read_disk_sizes(VdStatsSnap *s);
VdStatsRecord *vd_stats_build_base(const VdStatsSnap *s, guint groups);
void vd_stats_add_block(VdStatsRecord *rec, const VdStatsSnap *s);
/* All three in a row (tests). */
VdStatsRecord *vd_stats_build_record(VdStatsSnap *s, guint groups);
