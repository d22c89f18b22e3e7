/* Shared by blockjob.c (jobs), blockjob-chain.c (the definitions follow
 * QEMU's chain) and snapshot-external.c. */
#pragma once

#include "daemon/blockjob/blockjob.h"
#include "daemon/hotplug/hotplug.h"
#include "qemu/qemu-blockjob.h"

/* The disk of @def with target @target, or NULL. */
VdDiskDef *vd_blockjob_disk(const VdDomainDef *def, const char *target);
/* "invalid argument: disk 'vdz' not found in domain" (libvirt's), with the fix. */
GError *vd_blockjob_no_disk(const char *target);

/* Records @paths/@formats (top first, NULL-terminated) as the source and
 * <backingStore> chain of @target: in the live definition (status file)
 * when @live, and in the persistent one (atomically) when its disk still
 * names @old_source (NULL: always). */
gboolean vd_blockjob_record_chain(VdDaemon *d, VdDomainObj *dom, const char *target,
                                  const char *old_source, const char *const *paths,
                                  const char *const *formats, gboolean live, GError **error);

/* blockdev-del of a node virtd added (its format node, then its storage
 * node), replies ignored: one still in use refuses, which is fine.
 * dom->qmp must be set. */
void vd_blockjob_del_nodes(VdDomainObj *dom, const char *format_node, const char *storage_node);

/* Reads the chain of @target from QEMU (query-block), records it as
 * above when it differs from the live definition (the persistent one
 * follows a new source, and a <backingStore> it already states, but gets
 * none added to a disk element that never had one), and closes the nodes
 * virtd added for images no longer in the chain (blockdev-del). */
typedef void (*VdBlockJobSyncDone)(VdDomainObj *dom, const GError *error, gpointer data);
void vd_blockjob_sync(VdDaemon *d, VdDomainObj *dom, const char *target, VdBlockJobSyncDone done,
                      gpointer data);
