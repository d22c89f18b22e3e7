/* The QMP side of internal snapshots of a running domain (QEMU 6.0+'s
 * snapshot-save / snapshot-load / snapshot-delete jobs): which block nodes
 * take part, the commands' arguments, and reading QEMU's answers. Pure
 * functions (no I/O), compared with golden files in
 * tests/data/snapshot-live/ (tests/qemu/test-qemu-snapshot.c). The daemon
 * side is daemon/snapshot/snapshot-live.c. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain-def.h"
#include "conf/snapshot-def.h"

G_BEGIN_DECLS

typedef enum {
    VD_QEMU_SNAPSHOT_SAVE,   /* with the memory: every snapshotted disk, vmstate on the first */
    VD_QEMU_SNAPSHOT_LOAD,   /* the same nodes as the save, vmstate read back */
    VD_QEMU_SNAPSHOT_DELETE, /* the disks of @live that take part; no vmstate */
} VdQemuSnapshotOp;

/* The block nodes of @live (the running definition) that take part in
 * @snap's internal snapshot: the format node (vd_qemu_disk_node_name) of
 * each disk with snapshot='internal' in @snap, in @live's order; the first
 * holds the VM state (*@vmstate, SAVE and LOAD only). For SAVE and LOAD,
 * refuses with the reason and the fix (VD_ERROR_UNSUPPORTED) what QEMU
 * cannot do or what would bring back a memory that does not match a disk:
 * pflash (UEFI) firmware, a writable disk that is not qcow2 or that is
 * left out, no qcow2 disk to hold the memory. For DELETE, the disks @live
 * no longer has are skipped (an empty array is fine). @name is the
 * domain's, for the messages. */
GPtrArray *vd_qemu_snapshot_nodes(const char *name, const VdDomainDef *live,
                                  const VdSnapshotDef *snap, VdQemuSnapshotOp op, char **vmstate,
                                  GError **error);

/* The arguments of snapshot-save / snapshot-load ({"job-id", "tag",
 * "vmstate", "devices"}) and snapshot-delete ({"job-id", "tag",
 * "devices"}; @vmstate ignored). @devices: char*. */
JsonObject *vd_qemu_snapshot_job_args(VdQemuSnapshotOp op, const char *job_id, const char *tag,
                                      const char *vmstate, GPtrArray *devices);
/* "snapshot-save", "snapshot-load", "snapshot-delete". */
const char *vd_qemu_snapshot_command(VdQemuSnapshotOp op);

/* From query-jobs' answer (an array), the job @id: TRUE if found, with its
 * "status" in *@status and its "error" in *@error_text (NULL when it has
 * none), both borrowed from @result. */
gboolean vd_qemu_job_find(JsonNode *result, const char *id, const char **status,
                          const char **error_text);
/* From query-migrate's answer, the reasons QEMU cannot save the state
 * ("blocked-reasons", QEMU 6.0+) joined with "; ", or NULL when none. */
char *vd_qemu_migration_blockers(JsonNode *result);

G_END_DECLS
