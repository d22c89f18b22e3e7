/* Migration between daemons (issue 13, docs/migration.md): a domain moves
 * from this daemon (the source) to another (the destination), live or
 * offline, with shared storage or copying its disks, in libvirt's phases.
 * The source daemon drives everything, talking to the destination daemon
 * itself (peer to peer) over the same transports as vsh (remote/remote.h):
 *
 *   begin    (source)  checks (migration-check.c), the XML the destination
 *                      will run, job VD_JOB_MIGRATION_OUT, the record
 *   prepare  (dest)    POST /v1/migrations: checks, the incoming domain
 *                      (transient, paused "migrating", job
 *                      VD_JOB_MIGRATION_IN), QEMU with -incoming defer and
 *                      migrate-incoming tcp:ADDR:PORT; for copied storage
 *                      the disks created and exported over NBD
 *                      (migration-storage.c)
 *   perform  (source)  disks mirrored to the NBD exports until ready, then
 *                      QEMU's migrate (precopy; --postcopy switches when
 *                      told); progress in domjobinfo; the guest pauses at
 *                      the switch-over
 *   finish   (dest)    POST /v1/migrations/ID/finish: the stream complete,
 *                      NBD stopped, cont; --persistent defines it; or, when
 *                      the source reports a failure, the incoming domain is
 *                      destroyed and what prepare made removed
 *   confirm  (source)  finish succeeded: QEMU stopped ("shut off
 *                      (migrated)"), --undefinesource undefines; finish
 *                      failed: the guest resumes here ("running (migration
 *                      canceled)")
 *
 * Never lose the guest: the destination never resumes on its own, only on
 * the source's finish; the source resumes only once the destination has
 * said its copy is gone (or never started). Each side keeps a record of
 * its phase (migration-record.c) so that a daemon killed at any moment
 * settles the migration at its restart (migration-recover.c), asking the
 * peer where it must.
 *
 * Offline (--offline --persistent): only the definition moves; with
 * --copy-storage-all the disks too, streamed through the API
 * (PUT /v1/migrations/ID/disks/TARGET).
 *
 * Files: migration-source.c (begin, perform, confirm, the flow's state
 * machine), migration-dest.c (prepare, finish, abort on the destination),
 * migration-peer.c (the source's HTTP calls to the destination),
 * migration-wire.c (the JSON of the offer and the answer),
 * migration-qemu.c (QEMU's migration: capabilities, parameters,
 * query-migrate, events, postcopy, cancel), migration-storage.c (NBD
 * exports and blockdev-mirror; the offline disk streams), migration-check.c
 * (every refusal before anything moves), migration-record.c and
 * migration-recover.c (crash consistency); API in api/api-migration.c, vsh
 * in vsh/vsh-migrate.c. */
#pragma once

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

typedef enum {
    VD_MIGRATE_COPY_NONE, /* shared storage */
    VD_MIGRATE_COPY_ALL,  /* --copy-storage-all: whole disks */
    VD_MIGRATE_COPY_INC,  /* --copy-storage-inc: the top image only (backing files shared) */
} VdMigrateCopy;

typedef enum {
    VD_MIGRATE_TIMEOUT_NONE,
    VD_MIGRATE_TIMEOUT_SUSPEND,  /* --timeout-suspend (virsh's default action) */
    VD_MIGRATE_TIMEOUT_POSTCOPY, /* --timeout-postcopy */
} VdMigrateTimeoutAction;

/* What `vsh migrate` asks (POST /v1/domains/NAME/migrate). */
typedef struct {
    char *dest_uri;      /* the destination daemon (remote-uri.h) */
    char *migrate_uri;   /* --migrateuri tcp://HOST[:PORT]: where QEMU's stream goes;
                          * NULL: the destination's choice (migration-dest.c) */
    gboolean live;       /* --live (a running guest migrates live anyway, as virsh) */
    gboolean offline;    /* --offline: the definition only (needs --persistent) */
    gboolean persistent; /* --persistent: defined on the destination */
    gboolean undefine_source; /* --undefinesource */
    gboolean suspend;    /* --suspend: leave it paused on the destination */
    VdMigrateCopy copy_storage;
    gboolean postcopy;   /* --postcopy: enable post-copy (switch with migrate-postcopy,
                          * --timeout-postcopy or --postcopy-after-precopy) */
    gboolean postcopy_after_precopy;
    gboolean auto_converge;
    gboolean tls;        /* --tls: QEMU's stream encrypted (the daemons' certificates) */
    gboolean unsafe;     /* --unsafe: skip the checks that only warn of danger */
    guint64 bandwidth_mib; /* --bandwidth MiB/s; 0: unlimited */
    guint timeout_s;     /* --timeout N; 0: none */
    VdMigrateTimeoutAction timeout_action;
    char *dname;         /* --dname: the name on the destination */
    char *xml;           /* --xml: the definition to run there (same UUID, name = dname) */
    char *persistent_xml; /* --persistent-xml */
} VdMigrateParams;

void vd_migrate_params_clear(VdMigrateParams *p);

/* The outgoing migration of @dom with @params: every phase above; done()
 * once, when the source has confirmed (or given up and resumed). */
void vd_migration_start(VdDaemon *d, VdDomainObj *dom, const VdMigrateParams *params,
                        VdDomainWaitFunc done, gpointer user_data);

/* Tunables of the migration in flight (or the next one, kept on @dom):
 * migrate-setmaxdowntime / getmaxdowntime (ms), migrate-setspeed /
 * getspeed (MiB/s), migrate-postcopy (switch now). */
gboolean vd_migration_set_max_downtime(VdDaemon *d, VdDomainObj *dom, guint64 ms, GError **error);
gboolean vd_migration_get_max_downtime(VdDaemon *d, VdDomainObj *dom, guint64 *ms, GError **error);
gboolean vd_migration_set_speed(VdDaemon *d, VdDomainObj *dom, guint64 mib_s, GError **error);
gboolean vd_migration_get_speed(VdDaemon *d, VdDomainObj *dom, guint64 *mib_s, GError **error);
gboolean vd_migration_start_postcopy(VdDaemon *d, VdDomainObj *dom, GError **error);
/* domjobabort of a migration (source: migrate_cancel, then the flow
 * settles; destination: refused, abort it on the source). */
gboolean vd_migration_abort(VdDaemon *d, VdDomainObj *dom, GError **error);

/* Hooks called for every domain (as the other subsystems', hotplug.c). */
void vd_migration_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_migration_stopped(VdDomainObj *dom);
void vd_migration_obj_free(VdDomainObj *dom);
/* What a listing shows for @dom: an incoming live migration's domain is
 * "paused (migrating)" from prepare on, as libvirt's, also while its QEMU
 * is not started yet (its object is still shut off then). */
void vd_migration_shown_state(const VdDomainObj *dom, VdState *state, VdStateReason *reason);

/* Source of a copied-storage migration: the disks' bytes so far (live:
 * the mirrors' offset/len from their last poll; offline: the streams),
 * which domjobinfo adds to its data figures. FALSE when no copy runs on
 * @dom (migration-storage.c). */
gboolean vd_migration_storage_progress(VdDomainObj *dom, guint64 *total, guint64 *processed);

/* The command line this host would start @def's incoming QEMU with (PCI
 * addresses on every device, pretended descriptors); NULL when the
 * builder refuses, @error says why. Nothing is started or created. */
GPtrArray *vd_migration_dry_run_argv(VdDaemon *d, const VdDomainDef *def, GError **error);

/* At daemon start, after the domains reconnected: settle every migration
 * a killed daemon left halfway (migration-recover.c). */
void vd_migration_recover_all(VdDaemon *d);

/* This daemon's instance UUID (state_dir/instance-uuid, made on the first
 * start) into d->instance_uuid: a migration to the same daemon is refused
 * by it. */
gboolean vd_migration_instance_uuid_ensure(VdDaemon *d, GError **error);
