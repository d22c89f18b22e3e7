/* What the files of migration/ share (migration.h says who does what).
 * Not for use outside migration/ and api/api-migration.c. */
#pragma once

#include <json-glib/json-glib.h>

#include "daemon/migration/migration.h"
#include "remote/remote.h"

/* ---- The offer and the answer: the source's prepare request and the
 * destination's reply (JSON on the wire, migration-wire.c; docs/api.md
 * "Migration"). ---- */

/* One disk of the domain as the source sees it. */
typedef struct {
    char *target;      /* vda */
    char *path;        /* the source's file (NULL: no file: cdrom without media, network) */
    char *format;      /* qcow2, raw */
    gboolean readonly; /* readonly / shareable / cdrom: never copied */
    gboolean copy;     /* part of --copy-storage-* */
    guint64 capacity;  /* virtual size, bytes */
    guint64 allocation;
    char *backing;     /* --copy-storage-inc: the backing file the copy keeps */
    guint64 dev, ino;  /* stat of path on the source: the destination tells shared from not */
    char *cache;       /* the disk's cache mode (none, writeback, ... ; NULL: default) */
} VdMigrationDisk;

/* The source's CPU, for the destination's check (migration-check.c). */
typedef struct {
    char *vendor;      /* /proc/cpuinfo vendor_id */
    char *model_name;
    guint family, model, stepping;
    char **flags;      /* sorted */
} VdHostCpu;

typedef struct {
    char *id;              /* the migration's id (a UUID made by the source) */
    char *source_instance; /* the source daemon's instance UUID (d->instance_uuid) */
    char *source_host;     /* the source's host name, for messages */
    char *xml;             /* the domain as it will run on the destination (live XML,
                            * --dname and --xml applied) */
    char *persistent_xml;  /* --persistent: the definition to keep; NULL: the live one */
    VdMigrateParams params; /* the flags (dest_uri and xml not sent) */
    VdHostCpu *cpu;
    GPtrArray *disks;      /* VdMigrationDisk* */
    char *listen_host;     /* where the destination QEMU should listen (--migrateuri's
                            * host, else the host of the peer URI; NULL: the
                            * destination's own --migration-host) */
} VdMigrationOffer;

typedef struct {
    char *target;
    char *export_name;     /* the NBD export of this disk on the destination */
} VdMigrationNbdDisk;

typedef struct {
    char *id;
    char *dest_instance;   /* the destination daemon's instance UUID */
    char *migrate_uri;     /* "tcp:HOST:PORT" for the source QEMU's migrate */
    char *nbd_host;        /* copied storage: the NBD server ... */
    guint16 nbd_port;
    GPtrArray *nbd_disks;  /* VdMigrationNbdDisk* */
    GPtrArray *warnings;   /* char*: what the destination adjusted */
} VdMigrationAnswer;

void vd_migration_disk_free(VdMigrationDisk *disk);
void vd_host_cpu_free(VdHostCpu *cpu);
void vd_migration_offer_free(VdMigrationOffer *offer);
void vd_migration_answer_free(VdMigrationAnswer *answer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdMigrationOffer, vd_migration_offer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdMigrationAnswer, vd_migration_answer_free)
/* migration-wire.c */
JsonNode *vd_migration_offer_to_json(const VdMigrationOffer *offer);
VdMigrationOffer *vd_migration_offer_from_json(JsonNode *node, GError **error);
JsonNode *vd_migration_answer_to_json(const VdMigrationAnswer *answer);
VdMigrationAnswer *vd_migration_answer_from_json(JsonNode *node, GError **error);
/* This host's CPU (from /proc/cpuinfo, or $VIRTD_TEST_CPUINFO for the
 * tests of the CPU check). */
VdHostCpu *vd_host_cpu_read(GError **error);

/* ---- The migration in flight on a domain (dom->migration) ---- */

typedef enum {
    VD_MIG_PHASE_NONE,
    /* source */
    VD_MIG_PHASE_BEGIN,        /* checked, nothing sent yet */
    VD_MIG_PHASE_PREPARED,     /* the destination answered prepare (source: it has an
                                * incoming domain; destination: it made it) */
    VD_MIG_PHASE_PERFORM,      /* QEMU migrating (mirrors, then RAM) */
    VD_MIG_PHASE_POSTCOPY,     /* switched to post-copy: the destination runs */
    VD_MIG_PHASE_PERFORM_DONE, /* QEMU's stream complete; the guest paused here */
    VD_MIG_PHASE_FINISH_SENT,  /* finish asked of the destination, answer unknown */
    VD_MIG_PHASE_CONFIRMED,    /* the destination runs it; the source stops its QEMU */
    VD_MIG_PHASE_CANCELLED,    /* given up: the source resumes, the destination cleans up */
    /* destination */
    VD_MIG_PHASE_FINISHING,    /* finish received: cont under way */
} VdMigrationPhase;

const char *vd_migration_phase_to_string(VdMigrationPhase phase);
VdMigrationPhase vd_migration_phase_from_string(const char *s);

/* The record of a migration in flight, written atomically at each phase
 * change to run/domains/NAME.migration (migration-record.c), so that a
 * daemon killed at any moment knows at its restart what it was doing. */
typedef struct {
    char *id;
    gboolean outgoing;      /* source side */
    VdMigrationPhase phase;
    char *peer_uri;         /* source: the destination's URI */
    gboolean was_running;   /* source: resume it on failure; destination: cont at finish */
    gboolean offline;
    gboolean persistent;
    gboolean undefine_source;
    char *domain_name;      /* the name on this side */
    char **created_files;   /* destination: files prepare made (removed on abort) */
    gint64 updated_us;
} VdMigrationRecord;

void vd_migration_record_free(VdMigrationRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdMigrationRecord, vd_migration_record_free)
gboolean vd_migration_record_save(VdDaemon *d, const char *dom_name, const VdMigrationRecord *rec,
                                  GError **error);
/* NULL (no error) when there is none. */
VdMigrationRecord *vd_migration_record_load(VdDaemon *d, const char *dom_name, GError **error);
void vd_migration_record_remove(VdDaemon *d, const char *dom_name);
/* The names of the domains with a record (for recovery). */
GPtrArray *vd_migration_record_list(VdDaemon *d);
/* Settles the migration recorded for @dom_name (migration-recover.c), as
 * at a daemon restart: the live flow calls it when it cannot know how its
 * peer ended (finish sent, no answer): it asks the peer again with
 * backoff, the guest paused meanwhile, until the guest runs on exactly
 * one side. A second call while one runs does nothing. */
void vd_migration_settle(VdDaemon *d, const char *dom_name);
/* How long an incoming migration may stay prepared before the destination
 * drops it (never resumed): $VIRTD_MIGRATION_INCOMING_TIMEOUT seconds,
 * default 600. */
guint vd_migration_incoming_deadline_s(void);

typedef struct _VdMigration VdMigration;

/* ---- Checks before anything moves (migration-check.c). Each refusal is
 * VD_ERROR_OPERATION_INVALID (or the code its table says) naming the
 * thing and the fix. ---- */

/* Source side, at begin: the flags together, the state (--offline for a
 * shut-off domain), a cache mode unsafe for shared storage without
 * --copy-storage-* (unless --unsafe), host-passthrough/-model CPUs noted
 * for the destination, the same daemon (after the peer said who it is:
 * vd_migration_check_peer). Fills @offer's disks and cpu. */
gboolean vd_migration_check_source(VdDaemon *d, VdDomainObj *dom, const VdMigrateParams *params,
                                   VdMigrationOffer *offer, GError **error);
/* Source side, once the destination is reachable: not ourselves. */
gboolean vd_migration_check_peer(VdDaemon *d, const char *dest_instance, GError **error);
/* Destination side, at prepare, before anything is made: the name and
 * UUID free here, the machine type and devices this QEMU has, the CPU
 * runnable here (host-passthrough between different CPUs refused without
 * --unsafe), networks and bridges present, disk paths present without
 * --copy-storage-* (and not the same file with it), room for copied
 * disks. */
gboolean vd_migration_check_dest(VdDaemon *d, const VdMigrationOffer *offer, GError **error);

/* ---- Storage (migration-storage.c) ---- */

/* Destination, at prepare: create the disks to copy (@offer->disks with
 * copy set; sizes and formats from the offer), recording each file made
 * in @created (char*) before making it; for a live migration start QEMU's
 * NBD server on @listen_host and export each disk writable; fills
 * @answer's nbd_*. Async: done() once.
 * QEMU opens the disks when it starts, so call it BEFORE starting the
 * incoming QEMU: it then makes the files only, and
 * vd_migration_storage_export() (after QEMU runs, before answering the
 * source) starts the NBD server. Called with QEMU already running it does
 * both. Where the disks go: docs/migration-storage.md. */
typedef void (*VdMigrationStepDone)(VdDomainObj *dom, const GError *error, gpointer user_data);
void vd_migration_storage_prepare(VdDaemon *d, VdDomainObj *dom, const VdMigrationOffer *offer,
                                  const char *listen_host, GPtrArray *created,
                                  VdMigrationAnswer *answer, VdMigrationStepDone done,
                                  gpointer user_data);
/* Destination, live, once the incoming QEMU runs (-incoming defer): QEMU's
 * NBD server on @listen_host (NULL: d->migration_host, else every
 * address; the port is picked by the kernel and passed to QEMU as a
 * listening socket) and a writable export per copied disk; fills
 * @answer's nbd_host, nbd_port, nbd_disks. done() at once when prepare
 * found nothing to copy, or already exported. */
void vd_migration_storage_export(VdDaemon *d, VdDomainObj *dom, const char *listen_host,
                                 VdMigrationAnswer *answer, VdMigrationStepDone done,
                                 gpointer user_data);
/* Destination, at finish (ok) or abort: stop the NBD server; on abort
 * remove @created (and their streams' temporary files). Also after a
 * prepare that failed. */
void vd_migration_storage_finish(VdDaemon *d, VdDomainObj *dom, gboolean ok, char **created);
/* Destination, at finish before "cont": stops the NBD server and waits for
 * QEMU's answer, so that no export holds a disk when QEMU activates the
 * disks for the guest (late-block-activate). @done gets no error: a server
 * QEMU cannot stop is logged, and the activation then says what failed. */
void vd_migration_storage_stop_exports(VdDaemon *d, VdDomainObj *dom, VdMigrationStepDone done,
                                       gpointer user_data);
/* Destination: the file an offline stream of disk @target of incoming
 * migration @id goes to (and its virtual size), or NULL with
 * VD_ERROR_NOT_FOUND. The stream writes vd_migration_storage_temp_name()
 * of it and renames it there when complete. */
char *vd_migration_storage_upload_target(const char *id, const char *target, guint64 *capacity,
                                         GError **error);
char *vd_migration_storage_temp_name(const char *path);
/* Source, at perform: blockdev-mirror every copied disk to its NBD export
 * and call ready() once all are in sync (QEMU's BLOCK_JOB_READY); they
 * stay in sync (mirror write-blocking) while RAM migrates. */
void vd_migration_storage_mirror_start(VdDaemon *d, VdDomainObj *dom,
                                       const VdMigrationAnswer *answer, VdMigrateCopy copy,
                                       VdMigrationStepDone ready, gpointer user_data);
/* Source, after QEMU's stream completed (guest paused) or on failure:
 * complete (@ok: block-job-cancel of ready mirrors, the destination has
 * every block) or abandon the mirrors. done() once. */
void vd_migration_storage_mirror_end(VdDaemon *d, VdDomainObj *dom, gboolean ok,
                                     VdMigrationStepDone done, gpointer user_data);
/* Source, at recovery after a daemon restart, before resuming the guest:
 * abandon the mirrors (and NBD client nodes) a killed daemon left in QEMU
 * (found by their names, migrate-TARGET-nbd). done() once, never with an
 * error (what fails is logged). */
void vd_migration_storage_mirror_cleanup(VdDaemon *d, VdDomainObj *dom, VdMigrationStepDone done,
                                         gpointer user_data);
/* Offline --copy-storage-all: stream each copied disk's file to the
 * destination (PUT /v1/migrations/ID/disks/TARGET) through @remote. */
void vd_migration_storage_upload(VdDaemon *d, VdDomainObj *dom, VdRemote *remote,
                                 const VdMigrationOffer *offer, VdMigrationStepDone done,
                                 gpointer user_data);

/* ---- Test seam for the kill-point tests (migration-record.c) ----
 * When $VIRTD_TEST_MIGRATION_HOLD is a comma-separated list naming
 * @point, the flow stops there: it creates run_dir/migration-hold.POINT
 * and calls resume(data) once the test has removed that file (checked
 * every 50 ms), so that a test can kill a daemon or a QEMU at exactly that
 * phase. Otherwise resume(data) is called at once (synchronously). Points
 * (named in docs/migration.md): "source-prepared" (destination answered
 * prepare, source QEMU not migrating yet), "source-mirrors-ready" (copied
 * storage: every disk mirrored and in sync, RAM not moving yet),
 * "source-perform-done" (source
 * QEMU's stream complete, guest paused, finish not yet sent),
 * "dest-finish" (destination got finish, before cont), "source-confirm"
 * (finish succeeded, source QEMU not yet stopped). */
typedef void (*VdMigrationResume)(gpointer data);
/* @dom's state, saved at once in its status file (a restart finds it). */
void vd_migration_set_state(VdDaemon *d, VdDomainObj *dom, VdState state, VdStateReason reason);
/* The "status" of a query-migrate answer ("" when none or @error). */
const char *vd_migration_qmp_status(JsonNode *result, const GError *error);
void vd_migration_hold(VdDaemon *d, const char *point, VdMigrationResume resume, gpointer data);
