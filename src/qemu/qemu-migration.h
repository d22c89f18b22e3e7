/* QEMU's migration over QMP (issue 13): the arguments of the commands a
 * migration sends and the reading of query-migrate, pure functions with
 * no I/O, so the unit tests compare them with golden files
 * (tests/data/migration/). The daemon's flow is daemon/migration/. */
#pragma once

#include <json-glib/json-glib.h>

/* QEMU's own default downtime limit (ms), which migrate-getmaxdowntime
 * reports until it is changed. */
#define VD_QEMU_MIGRATION_DEFAULT_DOWNTIME_MS 300
/* "unlimited" as libvirt reports it (INT64_MAX bytes/s in MiB/s):
 * migrate-getspeed's answer when no limit is set. */
#define VD_QEMU_MIGRATION_SPEED_UNLIMITED_MIB ((guint64)G_MAXINT64 / (1024 * 1024))

/* migrate-set-capabilities: "events" always (MIGRATION and
 * MIGRATION_PASS drive the flow), "postcopy-ram" and "auto-converge" as
 * asked, each set explicitly so that an earlier migration's choice never
 * stays. Both ends need the same postcopy-ram; auto-converge is the
 * source's only (@incoming leaves it out). */
JsonObject *vd_qemu_migration_caps_args(gboolean postcopy, gboolean auto_converge,
                                        gboolean incoming);
/* migrate-set-parameters: the downtime limit (@downtime_ms, 0: QEMU's
 * default) and the bandwidth (@bandwidth_mib MiB/s, 0: unlimited; QEMU's
 * own default would be a 128 MiB/s network's). */
JsonObject *vd_qemu_migration_params_args(guint64 downtime_ms, guint64 bandwidth_mib);
/* migrate-set-parameters of the bandwidth alone (migrate-setspeed). */
JsonObject *vd_qemu_migration_speed_args(guint64 bandwidth_mib);
/* migrate-set-parameters of the downtime limit alone (migrate-setmaxdowntime). */
JsonObject *vd_qemu_migration_downtime_args(guint64 downtime_ms);
/* migrate: the stream to @uri ("tcp:HOST:PORT"). */
JsonObject *vd_qemu_migrate_args(const char *uri);
/* migrate-incoming: listen on @host (IPv6 in brackets), a port the
 * kernel picks (read back with vd_qemu_migration_listen_port). */
JsonObject *vd_qemu_migrate_incoming_args(const char *host);
/* "tcp:HOST:PORT" (IPv6 hosts in brackets). */
char *vd_qemu_migration_tcp_uri(const char *host, guint port);
/* The port an incoming migration listens on, from the destination's
 * query-migrate answer ("socket-address", QEMU 7.2); 0 when not there. */
guint vd_qemu_migration_listen_port(JsonNode *query_migrate);

/* --tls: the stream in TLS with x509 credentials, QEMU's names in @dir
 * (ca-cert.pem; server-cert.pem and server-key.pem for the destination's
 * @server end; client-cert.pem and client-key.pem for the source's), both
 * ends checking the other's certificate. object-add of the credentials
 * object @id, */
#define VD_QEMU_MIGRATION_TLS_ID "vd-migration-tls"
JsonObject *vd_qemu_migration_tls_object_args(const char *id, const char *dir, gboolean server);
/* migrate-set-parameters naming it (@id NULL: "" turns TLS off again),
 * with the name the destination's certificate must carry (@hostname, the
 * source's only; NULL: none sent). */
JsonObject *vd_qemu_migration_tls_params_args(const char *id, const char *hostname);

/* A query-migrate answer, read (missing figures are 0). */
typedef struct {
    char *status;             /* "setup", "active", "postcopy-active", "completed", "failed",
                               * "cancelled", "cancelling", "pre-switchover", ...; "" if none */
    char *error_desc;         /* "failed": QEMU's reason; NULL otherwise */
    guint64 total_time_ms;
    guint64 downtime_ms;      /* completed only */
    guint64 expected_downtime_ms;
    guint64 setup_time_ms;
    guint64 ram_transferred;
    guint64 ram_remaining;
    guint64 ram_total;
    guint64 ram_duplicate;    /* constant (zero) pages */
    guint64 ram_normal;       /* pages */
    guint64 ram_normal_bytes;
    guint64 ram_page_size;
    guint64 ram_bps;          /* bytes/s (QEMU's mbps is megabits) */
    guint64 ram_dirty_rate;   /* pages/s */
    guint64 ram_iteration;    /* dirty-sync-count */
    guint64 postcopy_requests;
    gboolean has_ram;
} VdQemuMigrationInfo;

void vd_qemu_migration_info_parse(JsonNode *query_migrate, VdQemuMigrationInfo *info);
void vd_qemu_migration_info_clear(VdQemuMigrationInfo *info);
/* Whether @status is an end: completed, failed or cancelled. */
gboolean vd_qemu_migration_status_final(const char *status);
