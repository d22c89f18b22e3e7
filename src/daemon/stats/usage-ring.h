/* A domain's usage history (issue 14's graphs): one fixed-size file,
 * state_dir/usage/NAME.usage, holding three rings of fixed-size records:
 *
 *   hour  360 points, one per sample      (10 s  by default)
 *   day   288 points, one per 30 samples  (5 min)
 *   week  336 points, one per 180 samples (30 min)
 *
 * Each record carries a sequence number (its slot is (seq - 1) % slots)
 * and a checksum: a record torn by a crash mid-write fails its checksum
 * and is skipped, the others stand. The header is written once, when the
 * file is made (atomically), and never again, so nothing but records can
 * tear. The day and week points are averages of the samples of their
 * period (5 and 30 minutes from the epoch), written when the first sample
 * of the next period comes; the period in progress is kept in memory
 * (VdUsageAcc) and rebuilt from the hour ring when the file is opened
 * again. Hour records keep the raw counters (CPU time, bytes) too, so
 * that the first sample after a daemon restart still has its rates.
 *
 * Everything here does file I/O: the sampler calls it from its worker
 * thread only (usage.c). Pure enough to be unit-tested on a temporary
 * directory (tests/daemon/test-usage-ring.c). */
#pragma once

#include <glib.h>

typedef enum {
    VD_USAGE_HOUR,
    VD_USAGE_DAY,
    VD_USAGE_WEEK,
    VD_USAGE_LEVELS,
} VdUsageLevel;

/* "hour", "day", "week" */
const char *vd_usage_level_name(VdUsageLevel level);
gboolean vd_usage_level_parse(const char *name, VdUsageLevel *level);
/* Points per ring, and samples per point. */
guint vd_usage_level_slots(VdUsageLevel level);
guint vd_usage_level_factor(VdUsageLevel level);

/* Which figures of a point are known. */
enum {
    VD_USAGE_HAS_CPU = 1 << 0,
    VD_USAGE_HAS_MEM = 1 << 1,
    VD_USAGE_HAS_BALLOON = 1 << 2,
    VD_USAGE_HAS_DISK = 1 << 3,
    VD_USAGE_HAS_NET = 1 << 4,
    /* the raw counters below are valid (hour records) */
    VD_USAGE_RAW_CPU = 1 << 8,
    VD_USAGE_RAW_DISK = 1 << 9,
    VD_USAGE_RAW_NET = 1 << 10,
};

/* One record, exactly as on disk (host byte order: the file never leaves
 * the host). 128 bytes, so that no record crosses a page. */
typedef struct {
    guint64 seq; /* 1, 2, ...; 0: an empty slot */
    gint64 t_ms; /* unix time; of a day/week point: its period's start */
    guint32 flags;
    guint32 samples; /* samples averaged: 1 in the hour ring */
    double cpu_pct;  /* CPU time over wall time, in % of the domain's vCPUs */
    guint64 mem_kib; /* resident memory of the QEMU process */
    guint64 balloon_kib;
    double disk_rd_bps, disk_wr_bps, net_rx_bps, net_tx_bps;
    /* raw counters at t_ms (hour records) */
    guint64 cpu_ns, rd_bytes, wr_bytes, rx_bytes, tx_bytes;
    guint32 pid;
    guint32 checksum; /* FNV-1a of everything before it */
} VdUsagePoint;

/* A period in progress: sums and counts of each figure. */
typedef struct {
    gint64 period; /* t_ms / period length; meaningful when n > 0 */
    guint32 n;
    guint32 n_cpu, n_mem, n_balloon, n_disk, n_net;
    double cpu, mem, balloon, rd, wr, rx, tx;
} VdUsageAcc;

typedef struct _VdUsageFile VdUsageFile;

/* Opens the history at @path of the domain with @uuid, sampled every
 * @interval_ms. With @create, a missing file, one of another domain (a
 * name reused), of another layout or interval, or with a damaged header
 * is made afresh; without, they give NULL and no error (no history).
 * NULL + error when the file cannot be read or made. */
VdUsageFile *vd_usage_file_open(const char *path, const char *uuid, guint interval_ms,
                                gboolean create, GError **error);
void vd_usage_file_free(VdUsageFile *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdUsageFile, vd_usage_file_free)

const char *vd_usage_file_path(const VdUsageFile *f);
const char *vd_usage_file_uuid(const VdUsageFile *f);
/* After the file was renamed (domrename). */
void vd_usage_file_set_path(VdUsageFile *f, const char *path);
/* The last hour point written, or NULL. */
const VdUsagePoint *vd_usage_file_last(const VdUsageFile *f);

/* Fills the rates of @cur (a sample with its raw counters, pid and time)
 * from @prev (the previous sample, or NULL): CPU % of @vcpus, bytes/s.
 * A rate is left unknown when there is no previous sample of the same
 * QEMU within @max_gap_ms or a counter went backwards (a disk unplugged). */
void vd_usage_point_rates(const VdUsagePoint *prev, VdUsagePoint *cur, guint vcpus,
                          gint64 max_gap_ms);

/* Appends sample @p (an hour point) and writes the day and week points
 * of the periods it closes. */
gboolean vd_usage_file_add(VdUsageFile *f, const VdUsagePoint *p, GError **error);

/* The valid points of @level within its range before @now_ms (360 x 10 s
 * for the hour ring ...), oldest first; with @partial, the average of the
 * period in progress last (day and week). Torn records are skipped. */
GArray *vd_usage_file_read(VdUsageFile *f, VdUsageLevel level, gint64 now_ms, gboolean partial,
                           GError **error);

/* @v (>= 0) rounded to the nearest integer (without libm). */
static inline guint64
vd_usage_round(double v)
{
    return v <= 0 ? 0 : (guint64)(v + 0.5);
}

/* The last @n (at most 360) hour points written, within the hour before
 * @now_ms, oldest first: two reads at most (sparklines). */
GArray *vd_usage_file_read_last(VdUsageFile *f, guint n, gint64 now_ms, GError **error);

/* ---- the parts above, exposed for the unit tests ------------------------ */
guint32 vd_usage_point_checksum(const VdUsagePoint *p);
void vd_usage_acc_add(VdUsageAcc *acc, gint64 period, const VdUsagePoint *p);
/* The average point of @acc (t_ms = period start, @period_ms long). */
void vd_usage_acc_point(const VdUsageAcc *acc, gint64 period_ms, VdUsagePoint *out);
