/* The limits of a VdCgroup, written as cgroup v1 or v2 spells them
 * (vd-cgroup.h). The conversions between the two scales are the one
 * place in virtd that knows them:
 *   cpu   v1 cpu.shares 2-262144 (default 1024); v2 cpu.weight 1-10000
 *         (default 100): weight = shares * 100 / 1024, so the default maps
 *         to the default and ratios between guests are kept.
 *         v1 cpu.cfs_period_us + cpu.cfs_quota_us (-1: none); v2 cpu.max
 *         "QUOTA PERIOD" ("max PERIOD").
 *   memory v1 memory.limit_in_bytes, soft_limit_in_bytes,
 *         memsw.limit_in_bytes (memory + swap); v2 memory.max,
 *         memory.high, memory.swap.max (swap alone: memsw - max).
 *         Unlimited: v1 "-1", v2 "max".
 *   io    v1 blkio.weight (or blkio.bfq.weight) 100-1000 (default 500);
 *         v2 io.weight (or io.bfq.weight) 1-10000 (default 100):
 *         weight / 5. Devices "MAJ:MIN VALUE" in v1's
 *         blkio.throttle.{read,write}_{bps,iops}_device, one
 *         "MAJ:MIN rbps= wbps= riops= wiops=" line in v2's io.max.
 *   pids  pids.max in both. */
#include "util/vd-cgroup.h"

#include <errno.h>

#include "util/vd-cgroup-priv.h"
#include "util/vd-error.h"

#define CPU_PERIOD_DEFAULT 100000

static gboolean
need(const VdCgroup *cg, VdCgroupController c, GError **error)
{
    if (cg->dir[c])
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "unsupported configuration: the %s cgroup controller is not available",
                vd_cgroup_controller_name(c));
    return FALSE;
}

static gboolean
put_u64(const VdCgroup *cg, VdCgroupController c, const char *file, guint64 v, GError **error)
{
    g_autofree char *text = NULL;
    if (v == G_MAXUINT64)
        text = g_strdup(cg->v2[c] || c == VD_CGROUP_PIDS ? "max" : "-1");
    else
        text = g_strdup_printf("%" G_GUINT64_FORMAT, v);
    return vd_cgroup_write(cg, cg->dir[c], file, text, error);
}

static gboolean
apply_cpu(const VdCgroup *cg, const VdCgroupLimits *l, GError **error)
{
    const char *dir = cg->dir[VD_CGROUP_CPU];
    if (!l->cpu_shares && !l->cpu_period && !l->cpu_quota)
        return TRUE;
    if (!need(cg, VD_CGROUP_CPU, error))
        return FALSE;
    if (cg->v2[VD_CGROUP_CPU]) {
        if (l->cpu_shares) {
            guint64 w = CLAMP(l->cpu_shares * 100 / 1024, 1, 10000);
            if (!put_u64(cg, VD_CGROUP_CPU, "cpu.weight", w, error))
                return FALSE;
        }
        if (l->cpu_period || l->cpu_quota) {
            guint64 period = l->cpu_period ? l->cpu_period : CPU_PERIOD_DEFAULT;
            g_autofree char *max = l->cpu_quota > 0
                                       ? g_strdup_printf("%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT,
                                                         l->cpu_quota, period)
                                       : g_strdup_printf("max %" G_GUINT64_FORMAT, period);
            return vd_cgroup_write(cg, dir, "cpu.max", max, error);
        }
        return TRUE;
    }
    if (l->cpu_shares && !put_u64(cg, VD_CGROUP_CPU, "cpu.shares", l->cpu_shares, error))
        return FALSE;
    if (l->cpu_period && !put_u64(cg, VD_CGROUP_CPU, "cpu.cfs_period_us", l->cpu_period, error))
        return FALSE;
    if (l->cpu_quota) {
        g_autofree char *q = g_strdup_printf("%" G_GINT64_FORMAT, l->cpu_quota);
        return vd_cgroup_write(cg, dir, "cpu.cfs_quota_us", q, error);
    }
    return TRUE;
}

static gboolean
apply_memory(const VdCgroup *cg, const VdCgroupLimits *l, GError **error)
{
    const VdCgroupController M = VD_CGROUP_MEMORY;
    if (!l->mem_max && !l->mem_high && !l->mem_swap_max)
        return TRUE;
    if (!need(cg, M, error))
        return FALSE;
    if (cg->v2[M]) {
        if (l->mem_max && !put_u64(cg, M, "memory.max", l->mem_max, error))
            return FALSE;
        if (l->mem_high && !put_u64(cg, M, "memory.high", l->mem_high, error))
            return FALSE;
        if (l->mem_swap_max) {
            guint64 swap = l->mem_swap_max;
            if (swap != G_MAXUINT64 && l->mem_max && l->mem_max != G_MAXUINT64)
                swap -= MIN(swap, l->mem_max);
            return put_u64(cg, M, "memory.swap.max", swap, error);
        }
        return TRUE;
    }
    /* memsw must stay >= the memory limit at every step: a new cgroup has
     * both unlimited, so the memory limit goes first. */
    if (l->mem_max && !put_u64(cg, M, "memory.limit_in_bytes", l->mem_max, error))
        return FALSE;
    if (l->mem_high && !put_u64(cg, M, "memory.soft_limit_in_bytes", l->mem_high, error))
        return FALSE;
    if (l->mem_swap_max) {
        if (!vd_cgroup_pick_file(cg, cg->dir[M], "memory.memsw.limit_in_bytes", NULL)) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: this kernel does not account swap "
                        "(no memory.memsw.limit_in_bytes): boot it with swapaccount=1, or "
                        "remove <swap_hard_limit>");
            return FALSE;
        }
        return put_u64(cg, M, "memory.memsw.limit_in_bytes", l->mem_swap_max, error);
    }
    return TRUE;
}

static gboolean
io_put_dev(const VdCgroup *cg, const char *file, const VdCgroupDevice *d, guint64 v, GError **error)
{
    if (!v)
        return TRUE;
    g_autofree char *text = g_strdup_printf("%u:%u %" G_GUINT64_FORMAT, d->major, d->minor, v);
    return vd_cgroup_write(cg, cg->dir[VD_CGROUP_IO], file, text, error);
}

static gboolean
apply_io_v2(const VdCgroup *cg, const VdCgroupLimits *l, GError **error)
{
    const char *dir = cg->dir[VD_CGROUP_IO];
    const char *wfile = NULL;
    gboolean weights = l->io_weight != 0;
    for (guint i = 0; l->io_devices && i < l->io_devices->len; i++)
        weights |= g_array_index(l->io_devices, VdCgroupDevice, i).weight != 0;
    if (weights && !(wfile = vd_cgroup_pick_file(cg, dir, "io.weight", "io.bfq.weight"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: %s has no io.weight or io.bfq.weight: enable "
                    "the bfq I/O scheduler or io.cost on the disks, or remove the <blkiotune> "
                    "weights",
                    dir);
        return FALSE;
    }
    if (l->io_weight) {
        g_autofree char *w = g_strdup_printf("default %u", CLAMP(l->io_weight / 5, 1, 10000));
        if (!vd_cgroup_write(cg, dir, wfile, w, error))
            return FALSE;
    }
    for (guint i = 0; l->io_devices && i < l->io_devices->len; i++) {
        const VdCgroupDevice *d = &g_array_index(l->io_devices, VdCgroupDevice, i);
        if (d->weight && !io_put_dev(cg, wfile, d, CLAMP(d->weight / 5, 1, 10000), error))
            return FALSE;
        g_autoptr(GString) max = g_string_new(NULL);
        const char *keys[] = {"rbps", "wbps", "riops", "wiops"};
        guint64 vals[] = {d->read_bps, d->write_bps, d->read_iops, d->write_iops};
        for (int k = 0; k < 4; k++)
            if (vals[k])
                g_string_append_printf(max, " %s=%" G_GUINT64_FORMAT, keys[k], vals[k]);
        if (max->len) {
            g_autofree char *line = g_strdup_printf("%u:%u%s", d->major, d->minor, max->str);
            if (!vd_cgroup_write(cg, dir, "io.max", line, error))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean
apply_io(const VdCgroup *cg, const VdCgroupLimits *l, GError **error)
{
    const char *dir = cg->dir[VD_CGROUP_IO];
    if (!l->io_weight && !(l->io_devices && l->io_devices->len))
        return TRUE;
    if (!need(cg, VD_CGROUP_IO, error))
        return FALSE;
    if (cg->v2[VD_CGROUP_IO])
        return apply_io_v2(cg, l, error);
    /* No CFQ in today's kernels: BFQ's files, when the plain ones are gone. */
    const char *wfile = vd_cgroup_pick_file(cg, dir, "blkio.weight", "blkio.bfq.weight");
    const char *dfile =
        vd_cgroup_pick_file(cg, dir, "blkio.weight_device", "blkio.bfq.weight_device");
    if (l->io_weight) {
        if (!wfile) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: %s has no blkio.weight or "
                        "blkio.bfq.weight (no proportional I/O scheduler): remove "
                        "<blkiotune><weight>",
                        dir);
            return FALSE;
        }
        if (!put_u64(cg, VD_CGROUP_IO, wfile, l->io_weight, error))
            return FALSE;
    }
    for (guint i = 0; l->io_devices && i < l->io_devices->len; i++) {
        const VdCgroupDevice *d = &g_array_index(l->io_devices, VdCgroupDevice, i);
        if (d->weight && !dfile) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: %s has no blkio.weight_device: remove "
                        "the device's <weight>",
                        dir);
            return FALSE;
        }
        if (d->weight && !io_put_dev(cg, dfile, d, d->weight, error)) {
            if (errno == EOPNOTSUPP)
                g_prefix_error(error,
                               "the I/O scheduler of device %u:%u gives no weights "
                               "(select bfq in /sys/block/DEV/queue/scheduler, or "
                               "remove the device's <weight>): ",
                               d->major, d->minor);
            return FALSE;
        }
        if (!io_put_dev(cg, "blkio.throttle.read_bps_device", d, d->read_bps, error) ||
            !io_put_dev(cg, "blkio.throttle.write_bps_device", d, d->write_bps, error) ||
            !io_put_dev(cg, "blkio.throttle.read_iops_device", d, d->read_iops, error) ||
            !io_put_dev(cg, "blkio.throttle.write_iops_device", d, d->write_iops, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vd_cgroup_apply(VdCgroup *cg, const VdCgroupLimits *limits, GError **error)
{
    if (limits->pids_max && (!need(cg, VD_CGROUP_PIDS, error) ||
                             !put_u64(cg, VD_CGROUP_PIDS, "pids.max", limits->pids_max, error)))
        return FALSE;
    return apply_cpu(cg, limits, error) && apply_memory(cg, limits, error) &&
           apply_io(cg, limits, error);
}
