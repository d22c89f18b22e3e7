/* The QMP arguments of migration with copied storage, and the reading of
 * QEMU's answers about its mirrors: pure functions, no I/O (golden files
 * in tests/data/migration-storage/, tests/qemu/test-migration-storage.c).
 *
 * Destination: QEMU's NBD server listens on a socket the daemon made
 * (nbd-server-start with a descriptor passed by getfd, so that the daemon
 * knows the port without racing for a free one) and exports each copied
 * disk's format node writable under the disk's target name ("vda").
 * Source: an NBD client node "migrate-<target>-nbd" per disk, and a
 * blockdev-mirror "migrate-<target>" from the disk's root node to it
 * (auto-dismiss off: a mirror that failed stays in query-block-jobs with
 * its error until job-dismiss, so nothing is lost between two polls). */
#pragma once

#include <json-glib/json-glib.h>

/* nbd-server-start on a listening socket the daemon passed as @fdname. */
JsonObject *vd_qemu_nbd_server_start_fd(const char *fdname);
/* nbd-server-start on @host:@port (QEMU binds it). */
JsonObject *vd_qemu_nbd_server_start_inet(const char *host, guint16 port);
/* block-export-add of @node, writable, named @target; its id
 * "migrate-<target>". */
JsonObject *vd_qemu_nbd_export_add(const char *target, const char *node);
char *vd_qemu_nbd_export_id(const char *target);
/* getfd {"fdname": @fdname}. */
JsonObject *vd_qemu_getfd(const char *fdname);

/* blockdev-add of the source's NBD client node for @target, connected to
 * export @export_name on @host:@port. */
JsonObject *vd_qemu_nbd_client_add(const char *target, const char *host, guint16 port,
                                   const char *export_name);
char *vd_qemu_nbd_client_node(const char *target);
/* blockdev-del {"node-name": @node}. */
JsonObject *vd_qemu_blockdev_del(const char *node);

/* blockdev-mirror of @target's @root_node to its NBD client node; @full:
 * sync "full" (--copy-storage-all), else "top" (--copy-storage-inc: the
 * backing files are on both hosts already); write-blocking so that the
 * copy stays in sync once ready. */
JsonObject *vd_qemu_migration_mirror(const char *target, const char *root_node, gboolean full);
char *vd_qemu_migration_mirror_id(const char *target);
/* block-job-cancel of the mirror: @force FALSE on a ready mirror
 * completes it (the destination has every block, QEMU's way to end a
 * mirror without switching to its target); TRUE abandons it. */
JsonObject *vd_qemu_migration_mirror_cancel(const char *target, gboolean force);
/* job-dismiss of the concluded mirror. */
JsonObject *vd_qemu_migration_mirror_dismiss(const char *target);

typedef enum {
    VD_MIRROR_ABSENT,    /* not in query-block-jobs */
    VD_MIRROR_RUNNING,   /* copying (created, running, paused ...) */
    VD_MIRROR_READY,     /* in sync */
    VD_MIRROR_CONCLUDED, /* ended (completed or cancelled), waits for job-dismiss */
} VdMirrorState;

typedef struct {
    VdMirrorState state;
    guint64 offset, len;
    char *error; /* a concluded mirror's failure (QEMU's words), or NULL */
} VdMirrorInfo;

void vd_mirror_info_clear(VdMirrorInfo *info);
/* The mirror of @target in query-block-jobs' @result. */
void vd_qemu_migration_mirror_find(JsonNode *result, const char *target, VdMirrorInfo *info);
