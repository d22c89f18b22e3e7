/* Control groups for the daemon's QEMUs (issue 15): one small interface
 * over cgroup v1 and v2, chosen per controller.
 *
 * A host may mount each controller in a v1 hierarchy of its own
 * (/sys/fs/cgroup/memory ...), all of them in the v2 tree, or a mix (the
 * "hybrid" layout: v1 controllers plus a v2 tree holding the rest). The
 * layout is read once from /proc/self/mountinfo, /proc/self/cgroup and
 * the v2 tree's cgroup.controllers; every controller virtd uses then has
 * a base directory (the daemon's own cgroup in that hierarchy) and a
 * version, or a reason why it is not available.
 *
 * A VdCgroup is one cgroup by its path relative to those bases
 * ("virtd.slice/machine-virtd-web1.scope"): one directory per hierarchy
 * (hierarchies shared by several controllers are made once). The limits
 * are given in one neutral form (VdCgroupLimits, libvirt's units and v1's
 * scales) and written as each version spells them: cpu.shares or
 * cpu.weight, cfs_quota_us or cpu.max, memory.limit_in_bytes or
 * memory.max, blkio.* or io.*, pids.max. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
    VD_CGROUP_CPU,
    VD_CGROUP_MEMORY,
    VD_CGROUP_IO, /* v1: blkio */
    VD_CGROUP_PIDS,
    VD_CGROUP_N,
} VdCgroupController;

/* "cpu", "memory", "io", "pids" (v1's "blkio" is called "io" too). */
const char *vd_cgroup_controller_name(VdCgroupController c);

typedef struct {
    char *base[VD_CGROUP_N]; /* the daemon's own cgroup's directory; NULL: unavailable */
    gboolean v2[VD_CGROUP_N];
    char *mount[VD_CGROUP_N];      /* the hierarchy's mount point (prefix included) */
    char *mount_root[VD_CGROUP_N]; /* the hierarchy path mounted there ("/" usually) */
    char *why[VD_CGROUP_N];        /* why unavailable, for the log and errors */
    gboolean fake;                 /* a test tree: files are created when written */
} VdCgroupLayout;

/* Reads the layout from the text of /proc/self/mountinfo and
 * /proc/self/cgroup. @prefix (NULL: none) is put before every mount
 * point: tests build a fake tree in a temporary directory (files are
 * then created as they are written, as the kernel would have them). */
VdCgroupLayout *vd_cgroup_layout_parse(const char *mountinfo, const char *self_cgroup,
                                       const char *prefix);
/* The running process's layout. */
VdCgroupLayout *vd_cgroup_layout_detect(void);
void vd_cgroup_layout_free(VdCgroupLayout *layout);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdCgroupLayout, vd_cgroup_layout_free)

typedef struct {
    guint major, minor;
    guint weight;                                       /* 100-1000; 0: not set */
    guint64 read_bps, write_bps, read_iops, write_iops; /* 0: not set */
} VdCgroupDevice;

/* What to limit, in libvirt's units and v1's scales; 0 is "not set"
 * everywhere (the kernel's default stays). */
typedef struct {
    guint64 cpu_shares; /* 2-262144 (v2: cpu.weight = shares * 100 / 1024, 1-10000) */
    guint64 cpu_period; /* µs; with a quota and no period: 100000 */
    gint64 cpu_quota;   /* µs per period; -1: unlimited */
    /* Bytes; G_MAXUINT64: unlimited. mem_swap_max is v1's memory+swap
     * limit (v2: memory.swap.max = mem_swap_max - mem_max). */
    guint64 mem_max, mem_high, mem_swap_max;
    guint io_weight;    /* 100-1000 (v2: io.weight = weight / 5, so 500 -> 100) */
    GArray *io_devices; /* of VdCgroupDevice; may be NULL */
    guint64 pids_max;
} VdCgroupLimits;

typedef struct _VdCgroup VdCgroup;

/* The cgroup @relpath (relative to each base) in @layout; no I/O. */
VdCgroup *vd_cgroup_new(const VdCgroupLayout *layout, const char *relpath);
/* The cgroup that process @pid is in, read from /proc/PID/cgroup for the
 * controllers of @layout; NULL (and @error) when it cannot be read or
 * the process is in no cgroup under the bases. */
VdCgroup *vd_cgroup_of_pid(const VdCgroupLayout *layout, pid_t pid, GError **error);
void vd_cgroup_free(VdCgroup *cg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdCgroup, vd_cgroup_free)

/* Its path relative to the bases (the same in every hierarchy for a
 * cgroup made by vd_cgroup_new; for one read from a pid, that of the
 * first available controller). */
const char *vd_cgroup_relpath(const VdCgroup *cg);
/* Its directory in @c's hierarchy; NULL when @c is unavailable. */
const char *vd_cgroup_dir(const VdCgroup *cg, VdCgroupController c);

/* Makes the directories (and their parents) in every available
 * hierarchy; on v2 first enables the controllers in each parent's
 * cgroup.subtree_control. An existing directory is used as it is. */
gboolean vd_cgroup_create(VdCgroup *cg, GError **error);
/* Writes @limits; a limit whose controller is unavailable is an error
 * naming the controller and why (the caller checks first for a better
 * message). Stops at the first file the kernel refuses, naming it and
 * the value. */
gboolean vd_cgroup_apply(VdCgroup *cg, const VdCgroupLimits *limits, GError **error);
/* Moves process @pid into the cgroup in every hierarchy. */
gboolean vd_cgroup_add_pid(VdCgroup *cg, pid_t pid, GError **error);
/* The pids in the cgroup (any hierarchy); empty when none or gone. */
GArray *vd_cgroup_pids(const VdCgroup *cg);
/* Removes the directories (the cgroup must be empty: EBUSY otherwise).
 * Missing ones are not an error. */
gboolean vd_cgroup_remove(VdCgroup *cg, GError **error);

/* The entries (directory names) under @relparent in any hierarchy:
 * candidates for a stale-cgroup sweep. */
GPtrArray *vd_cgroup_list_children(const VdCgroupLayout *layout, const char *relparent);

/* cgroup v2 lets no cgroup that holds processes hand controllers down
 * ("no internal processes"). A daemon that systemd started in a unit with
 * Delegate=yes sits in the unit's cgroup itself; as systemd's rules for
 * delegation advise, it moves itself (@pid, all its threads) into a leaf
 * of its own, VD_CGROUP_SUPERVISOR, and its QEMUs' cgroups are made beside
 * it. Nothing to do without a v2 controller. */
#define VD_CGROUP_SUPERVISOR "supervisor"
gboolean vd_cgroup_layout_leave_v2_base(const VdCgroupLayout *layout, pid_t pid,
                                        GError **error);

/* @name as one path component, systemd-style: [A-Za-z0-9_.:] kept
 * (a leading '.' escaped), everything else "\xNN". */
char *vd_cgroup_escape(const char *name);

G_END_DECLS
