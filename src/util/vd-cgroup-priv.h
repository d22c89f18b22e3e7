/* What vd-cgroup.c and vd-cgroup-layout.c share. */
#pragma once

#include "util/vd-cgroup.h"

/* "blkio" for VD_CGROUP_IO, else as vd_cgroup_controller_name(). */
const char *vd_cgroup_v1_name(VdCgroupController c);
/* The path a /proc/PID/cgroup text gives for v1 controller @v1, or for
 * the v2 tree when @v1 is NULL. */
char *vd_cgroup_proc_path(const char *proc_cgroup, const char *v1);
/* The part of hierarchy path @path below mount root @root, or NULL. */
const char *vd_cgroup_below_root(const char *path, const char *root);

struct _VdCgroup {
    char *relpath;
    char *base[VD_CGROUP_N];
    char *dir[VD_CGROUP_N]; /* NULL: the controller is unavailable */
    gboolean v2[VD_CGROUP_N];
    gboolean fake;
};

/* Writes @value to @dir/@file in one write(), as the kernel wants it;
 * the error names the file and the value (errno kept). In a test tree
 * the file is created and each write appended as a line. */
gboolean vd_cgroup_write(const VdCgroup *cg, const char *dir, const char *file, const char *value,
                         GError **error);
/* @a if @dir has it, else @b if it has that, else NULL (a test tree: @a). */
const char *vd_cgroup_pick_file(const VdCgroup *cg, const char *dir, const char *a, const char *b);
