/* The QMP arguments of block jobs and external snapshots, and the reading
 * of QEMU's answers about them: pure functions, no I/O (golden files in
 * tests/data/blockjob/, tests/qemu/test-blockjob.c).
 *
 * Job ids are "commit-<target>", "active-commit-<target>" and
 * "pull-<target>", so a job found again
 * through query-block-jobs after a daemon restart names its disk. The
 * overlay of an external snapshot gets the nodes "<target>-ov<tag>-storage"
 * and "<target>-ov<tag>-format" (the argv builder's naming with a tag: a
 * chain may hold several overlays, each added while running). */
#pragma once

#include <json-glib/json-glib.h>

typedef enum {
    VD_BLOCKJOB_PULL,
    VD_BLOCKJOB_COMMIT,
    VD_BLOCKJOB_ACTIVE_COMMIT,
    VD_BLOCKJOB_UNKNOWN,
} VdBlockJobType;

/* One job of query-block-jobs. */
typedef struct {
    char *target; /* from the job id; NULL for a job virtd did not start */
    VdBlockJobType type;
    guint64 cur, end;
    guint64 speed; /* bytes/s, 0: unlimited */
    gboolean ready;
    char *status; /* QEMU's: running, ready, concluded ... */
} VdBlockJobInfo;

void vd_blockjob_info_free(VdBlockJobInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdBlockJobInfo, vd_blockjob_info_free)

/* "commit-vda", "active-commit-vda", "pull-vda". */
char *vd_qemu_blockjob_id(VdBlockJobType type, const char *target);
/* The job of @target in query-block-jobs' @result, or NULL. */
VdBlockJobInfo *vd_qemu_blockjob_find(JsonNode *result, const char *target);
/* virsh's names: "Block Pull", "Block Commit", "Active Block Commit"; and
 * --raw's "pull", "commit", "active-commit". */
const char *vd_blockjob_type_label(VdBlockJobType type);
const char *vd_blockjob_type_raw(VdBlockJobType type);

/* One image of a disk's chain, top first (query-block's inserted.image). */
typedef struct {
    char *path;   /* the daemon's path ("/dev/fdset/N" read back: qemu-fdset-paths.h) */
    char *format;
    char *node;   /* QEMU's node of the image (vd_qemu_chain_find_nodes), NULL: not known */
    gboolean in_fdset; /* a hot-plug's image QEMU already holds in fd set @fdset */
    gboolean no_write; /* a backing file without its owner's write bit: read-only
                        * descriptor only (a commit into it fails, as it would for
                        * QEMU as its own user) */
    gint64 fdset;
} VdChainImage;
void vd_chain_image_free(gpointer p);
/* The chain of the device "disk-<target>" in query-block's @result, top
 * first, and its root node name (the node block jobs name): NULL when the
 * disk is not there or has no media. */
GPtrArray *vd_qemu_block_chain(JsonNode *result, const char *target, char **root_node);

/* Fills each image's node of @chain (read back with real paths) from
 * query-named-block-nodes' @result (read back the same way): the format
 * node whose file is the image's and whose chain below is as deep. */
void vd_qemu_chain_find_nodes(GPtrArray *chain, JsonNode *result);

/* block-commit of @top (NULL: the active layer) into @base (NULL: the
 * bottom of the chain): "top-node"/"base-node" when their node is known,
 * else the file names "top"/"base" (QEMU finds a file it opened by path
 * so, not one it holds as "/dev/fdset/N"); @speed bytes/s (0: none). A
 * commit that is not active names @base's path as "backing-file": what
 * QEMU writes into the header of the image above @top (its own name for
 * the base could be "/dev/fdset/N", meaningless once QEMU ends). */
JsonObject *vd_qemu_block_commit(const char *target, const char *root_node,
                                 const VdChainImage *top, const VdChainImage *base, guint64 speed,
                                 gboolean active);
/* block-stream into the top image from @base (NULL: the whole chain);
 * @base's path becomes the top's backing file ("backing-file"). */
JsonObject *vd_qemu_block_stream(const char *target, const char *root_node,
                                 const VdChainImage *base, guint64 speed);
/* block-job-cancel, block-job-complete, block-job-set-speed. */
JsonObject *vd_qemu_block_job_cancel(const char *job_id);
JsonObject *vd_qemu_block_job_complete(const char *job_id);
JsonObject *vd_qemu_block_job_set_speed(const char *job_id, guint64 speed);

/* blockdev-add of an overlay's protocol node, then its qcow2 node with
 * "backing": null (blockdev-snapshot attaches the old top as backing). */
JsonObject *vd_qemu_overlay_storage(const char *target, const char *tag, const char *path);
/* The same for an overlay QEMU holds in fd set @set (read-only and
 * read-write descriptors): "/dev/fdset/<set>", no auto-read-only (see
 * qemu-command-disk.c: a mode switch would leave stale image locks). */
JsonObject *vd_qemu_overlay_storage_fdset(const char *target, const char *tag, gint64 set);
JsonObject *vd_qemu_overlay_format(const char *target, const char *tag);
char *vd_qemu_overlay_node(const char *target, const char *tag, gboolean storage);
/* One "transaction" of blockdev-snapshot actions: @roots[i] (the current
 * root node of @targets[i]) gets the overlay of @targets[i]/@tag on top. */
JsonObject *vd_qemu_snapshot_transaction(const char *const *targets, const char *const *roots,
                                         const char *tag);
