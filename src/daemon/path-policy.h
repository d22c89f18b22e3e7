/* Which paths a client may name: the daemon's policy over util/vd-path.h.
 *
 * Refused for every guest-, pool- or volume-supplied path (disk sources,
 * kernel, initrd, loader, nvram, serial/console/channel files and
 * sockets, pool targets): anything that resolves, after symlinks and
 * '..', into the daemon's configuration, run-time, log, cache or state
 * directories or onto its API socket; there live the definitions, the
 * QMP and console sockets of running domains and their logs. The one
 * exception is the directory the daemon made for its default storage
 * pool (state_dir/images), which is meant for disk images.
 *
 * Pool targets are refused, in addition, when they are '/' or a shared
 * directory such as /tmp or /home (a pool lets a client overwrite any
 * regular file directly in its directory), or inside the system's own
 * trees (/etc, /usr, /boot, /proc, /sys, /dev ...).
 */
#pragma once

#include "daemon/paths.h"
#include "util/vd-path.h"

/* The guard for a daemon with @paths (cheap; build one per check or
 * keep one: it does not change while the daemon runs). */
VdPathGuard *vd_path_policy_guard(const VdPaths *paths);

/* Checks @target for pool @pool (blocking only on the daemon's own
 * directories and the target's parents: the main loop may call it).
 * VD_ERROR_INVALID_ARG naming the pool, the path and why. */
gboolean vd_path_policy_check_pool_target(const VdPaths *paths, const char *pool,
                                          const char *target, GError **error);

/* A backing file @backing that the qcow2 header of @image names (not a
 * client: whoever wrote the image): refused when it resolves into the
 * system's own trees (/etc, /usr, /boot, /proc, /sys, /dev ...) or the
 * daemon's own directories, or is not a regular file. Blocking only on
 * resolving the path. VD_ERROR_DENIED naming both files and the fix. */
gboolean vd_path_policy_check_backing(const VdPaths *paths, const char *image,
                                      const char *backing, GError **error);
