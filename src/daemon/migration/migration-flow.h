/* What the files of the migration flow share (migration-source.c,
 * migration-dest.c, migration-peer.c, migration-qemu.c and
 * api/api-migration.c): the per-domain state behind dom->migration and
 * the calls between the two sides. The contracts with the checks,
 * storage and recovery parts stay in migration-priv.h. */
#pragma once

#include "daemon/migration/migration-priv.h"
#include "qemu/qemu-migration.h"

typedef struct _VdMigrationOut VdMigrationOut; /* migration-source.c */
typedef struct _VdMigrationIn VdMigrationIn;   /* migration-dest.c */

/* dom->migration: made when first needed, freed with the domain. The
 * tunables outlive a migration (libvirt keeps them per domain too). */
struct _VdMigration {
    guint64 max_downtime_ms; /* 0: QEMU's default (300 ms) */
    guint64 speed_mib;       /* 0: unlimited */
    VdMigrationOut *out;     /* the outgoing migration in flight */
    VdMigrationIn *in;       /* the incoming migration in flight */
};

VdMigration *vd_migration_get(VdDomainObj *dom);
/* dom->migration's in-flight parts, NULL when none. */
VdMigrationOut *vd_migration_out(VdDomainObj *dom);
VdMigrationIn *vd_migration_in(VdDomainObj *dom);

/* migration-qemu.c: --tls. A directory of QEMU's file names for this
 * daemon's credentials (links into --tls-dir: the CA, and the server's or
 * the client's certificate and key), for QEMU's tls-creds-x509 object of
 * migration @id; an error names the missing file. QEMU reads them when
 * the object is made: the directory goes right after. */
char *vd_migration_tls_dir_make(VdDaemon *d, const char *id, gboolean server, GError **error);
void vd_migration_tls_dir_remove(const char *dir);

/* migration-wire.c: the body of POST /v1/domains/D/migrate. */
JsonNode *vd_migrate_params_to_json(const VdMigrateParams *params);
gboolean vd_migrate_params_from_json(JsonObject *o, VdMigrateParams *params, GError **error);
GPtrArray *vd_migration_nbd_disks_new(void);

/* migration-peer.c: one request to the peer daemon, with libsoup's
 * asynchronous API on the main loop. @answer is the JSON of a 2xx answer
 * (NULL for an empty one); @error the API's error (its code and message
 * kept, prefixed with the peer's URI) or the transport's. @http_answered
 * tells an answer from no answer at all (the request may or may not have
 * been acted on). */
typedef void (*VdMigrationPeerReply)(JsonNode *answer, const GError *error,
                                     gboolean http_answered, gpointer user_data);
void vd_migration_peer_call(VdRemote *remote, const char *method, const char *path, JsonNode *body,
                            VdMigrationPeerReply reply, gpointer user_data);

/* migration-dest.c: the routes the source daemon calls (api-migration.c).
 * Each answers once through @reply. */
typedef void (*VdMigrationReply)(JsonNode *answer, const GError *error, gpointer user_data);
JsonNode *vd_migration_identity(VdDaemon *d);
/* POST /v1/migrations: @offer taken. @request_host: the host name the
 * source reached us by (the Host of its request), told back as the
 * stream's address when the incoming QEMU listens on every address. */
void vd_migration_dest_prepare(VdDaemon *d, VdMigrationOffer *offer, const char *request_host,
                               VdMigrationReply reply, gpointer user_data);
/* POST /v1/migrations/ID/finish {"ok", "stats"}: ok resumes the guest here
 * (once QEMU's stream is complete), !ok (and POST ID/abort) drops
 * everything prepare made. @stats (may be NULL, borrowed): the source's
 * figures of the stream (downtime_ms, mem_*, data_*), which this side's
 * domjobinfo --completed shows too, as libvirt's. */
void vd_migration_dest_finish(VdDaemon *d, const char *id, gboolean ok, JsonObject *stats,
                              VdMigrationReply reply, gpointer user_data);
/* The figures of @dom's migration job as finish's "stats" (source). */
JsonObject *vd_migration_job_stats(VdDomainObj *dom);
/* GET /v1/migrations/ID. NULL + VD_ERROR_NOT_FOUND when there is none. */
JsonNode *vd_migration_dest_query(VdDaemon *d, const char *id, GError **error);
void vd_migration_dest_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_migration_dest_stopped(VdDomainObj *dom);
void vd_migration_in_release(VdDomainObj *dom);

/* migration-source.c */
void vd_migration_source_event(VdDaemon *d, VdDomainObj *dom, const char *event,
                               JsonObject *data);
void vd_migration_source_stopped(VdDomainObj *dom);
void vd_migration_out_release(VdDomainObj *dom);
/* QEMU is streaming (migrate accepted, not yet ended). */
gboolean vd_migration_source_streaming(VdDomainObj *dom);
gboolean vd_migration_source_abort(VdDomainObj *dom, GError **error);
gboolean vd_migration_source_postcopy(VdDomainObj *dom, GError **error);
