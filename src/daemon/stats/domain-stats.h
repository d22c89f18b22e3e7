/* Statistics of domains, many at once (issue 11, vsh domstats).
 *
 * One call collects the figures of any number of domains in virsh's key
 * names (state.state, cpu.time, balloon.current, vcpu.0.time, net.0.rx.bytes,
 * block.0.rd.bytes ...). What /proc, /sys or the definition answers is read
 * there; QEMU is asked only for what only it knows: one query-blockstats
 * per domain (when the block group is asked), all domains' queries in
 * flight at once, and query-cpus-fast once per QEMU (and vCPU count) for
 * the vCPU thread ids, cached in dom->hp_stats. A QEMU that does not answer
 * within VD_STATS_QMP_TIMEOUT_MS loses its block figures, and its record
 * says so, instead of holding the whole answer. The /proc and /sys reads
 * run in a GTask worker on copies of what they need.
 *
 *   domain-stats.c       the collection: snapshots, QMP, the worker
 *   domain-stats-read.c  the pure parsers and the record builder
 */
#pragma once

#include <json-glib/json-glib.h>

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

#define VD_STATS_QMP_TIMEOUT_MS 3000

/* virsh domstats --state, --cpu-total ... */
typedef enum {
    VD_STATS_STATE = 1 << 0,
    VD_STATS_CPU_TOTAL = 1 << 1,
    VD_STATS_BALLOON = 1 << 2,
    VD_STATS_VCPU = 1 << 3,
    VD_STATS_INTERFACE = 1 << 4,
    VD_STATS_BLOCK = 1 << 5,
    VD_STATS_ALL = (1 << 6) - 1,
    /* Not a group (no name): the block group's I/O counters without the
     * image files' sizes, which the usage sampler (usage.h) does not need. */
    VD_STATS_NO_SIZES = 1 << 6,
} VdStatsGroup;

/* "state,cpu-total,..." (virsh's group names) into a mask; NULL or "" is
 * every group. FALSE + error naming the unknown group. */
gboolean vd_stats_groups_parse(const char *list, guint *groups, GError **error);

/* The figures of one domain. @stats: its keys in virsh's order, numbers
 * as JSON integers, names and paths as strings. @omitted: the groups
 * whose figures are missing ("block") with @warnings saying why. */
typedef struct {
    char *name;
    JsonObject *stats;
    GPtrArray *omitted;  /* char* */
    GPtrArray *warnings; /* char* */
} VdStatsRecord;
void vd_stats_record_free(VdStatsRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdStatsRecord, vd_stats_record_free)

/* @records: VdStatsRecord*, in the order of the domains given; the
 * callee owns the array. Called once, from the main loop, never from
 * inside vd_domain_stats_collect. */
typedef void (*VdStatsDone)(GPtrArray *records, gpointer user_data);
/* Collects @groups of every domain in @doms (VdDomainObj*; the caller
 * keeps its references, the collection takes its own). */
void vd_domain_stats_collect(VdDaemon *d, GPtrArray *doms, guint groups, VdStatsDone done,
                             gpointer user_data);

/* Frees dom->hp_stats (hotplug.c's obj_free and stopped hooks). */
void vd_domain_stats_obj_free(VdDomainObj *dom);

/* ---- pure parts (domain-stats-read.c), unit-tested ---------------------- */

/* state.reason as libvirt numbers it: per state (virDomainRunningReason,
 * virDomainPausedReason, virDomainShutoffReason ...). */
int vd_stats_reason_code(VdState state, VdStateReason reason);
/* utime and stime (clock ticks) of a /proc/PID/stat or
 * /proc/PID/task/TID/stat text; the command name may hold spaces and
 * parentheses. */
gboolean vd_stats_parse_proc_stat(const char *text, guint64 *utime, guint64 *stime);
/* VmRSS of a /proc/PID/status text, in KiB; FALSE if absent. */
gboolean vd_stats_parse_status_rss(const char *text, guint64 *rss_kib);
/* The run-queue wait (ns) of a /proc/.../schedstat text (its 2nd figure). */
gboolean vd_stats_parse_schedstat_wait(const char *text, guint64 *wait_ns);
/* The virtual size of a qcow2 image from its first 32 header bytes;
 * FALSE when @header is not a qcow2 header. */
gboolean vd_stats_qcow2_capacity(const guint8 *header, gsize len, guint64 *capacity);
/* The entry of a query-blockstats answer for the disk with QEMU device
 * id @device_id ("disk-vda") or format node @node_name ("vda-format"),
 * or NULL. */
JsonObject *vd_stats_blockstats_find(JsonNode *answer, const char *device_id,
                                     const char *node_name);
/* vCPU thread ids from a query-cpus-fast answer: @tids gets pairs
 * (cpu-index, thread-id) as guint64, sorted by index. */
gboolean vd_stats_parse_cpus_fast(JsonNode *answer, GArray *tids);
