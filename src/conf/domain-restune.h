/* The domain model's resource limits, applied through the domain's cgroup
 * (issue 15): <cputune>'s scheduler knobs (shares, period, quota,
 * global_period, global_quota), <memtune> (hard_limit, soft_limit,
 * swap_hard_limit) and <blkiotune> (weight, per-device weight and
 * throttles).
 *
 * Parsed and checked here (ranges as libvirt's); not formatted: the user's
 * elements stay in the kept document. <memtune><min_guarantee> is not in
 * the table of domain-unsupported.c, so start refuses it (libvirt's QEMU
 * driver refuses it too); emulator_* and iothread_* stay warned-about. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

/* libvirt's bounds (cgroup v1 scale; the daemon converts for v2). */
#define VD_CPU_SHARES_MIN 2
#define VD_CPU_SHARES_MAX 262144
#define VD_CPU_PERIOD_MIN 1000
#define VD_CPU_PERIOD_MAX 1000000
#define VD_CPU_QUOTA_MIN 1000
#define VD_CPU_QUOTA_MAX 17592186044415LL
#define VD_BLKIO_WEIGHT_MIN 100
#define VD_BLKIO_WEIGHT_MAX 1000
/* libvirt's "unlimited" for memtune values, in KiB (2^53 - 1). */
#define VD_MEMTUNE_UNLIMITED_KIB 9007199254740991ULL

typedef struct {
    char *path;             /* <path>: a block device on the host */
    guint weight;           /* 0: not set */
    guint64 read_bytes_sec; /* 0: not set, for all four */
    guint64 write_bytes_sec;
    guint64 read_iops_sec;
    guint64 write_iops_sec;
} VdBlkioDevice;

struct _VdResTuneDef {
    guint64 cpu_shares; /* 0: not set */
    guint64 period;     /* <period>, per vCPU, µs; 0: not set */
    gint64 quota;       /* <quota>, per vCPU, µs; 0: not set, -1: unlimited */
    guint64 global_period;
    gint64 global_quota;
    /* KiB; 0: not set; VD_MEMTUNE_UNLIMITED_KIB: unlimited. */
    guint64 hard_limit_kib;
    guint64 soft_limit_kib;
    guint64 swap_hard_limit_kib;
    guint blkio_weight;       /* 0: not set */
    GPtrArray *blkio_devices; /* VdBlkioDevice* */
};

VdResTuneDef *vd_restune_def_new(void);
void vd_restune_def_free(VdResTuneDef *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdResTuneDef, vd_restune_def_free)
VdResTuneDef *vd_restune_def_copy(const VdResTuneDef *x);
/* TRUE when the definition asks for any limit (start then needs cgroups). */
gboolean vd_restune_is_set(const VdResTuneDef *x);

/* Called by vd_domain_def_parse after the devices: ranges and shapes. */
gboolean vd_domain_restune_parse(VdDomainDef *def, const xmlNode *root, GError **error);
/* Called by vd_domain_def_validate: limits against the guest's memory and
 * each other. */
gboolean vd_domain_restune_validate(const VdDomainDef *def, GError **error);

G_END_DECLS
