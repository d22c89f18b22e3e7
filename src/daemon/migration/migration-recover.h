/* What migration-recover.c and migration-recover-peer.c share: one
 * migration being settled. Not for use outside migration/. */
#pragma once

#include "migration-priv.h"

typedef struct {
    VdDaemon *d;
    char *name; /* the domain's name on this side */
    char *uuid; /* the domain's UUID (the destination's copy has it too) */
    VdMigrationRecord *rec;
    VdDomainObj *dom; /* a reference, or NULL when the domain is gone */
    VdRemote *remote; /* to the peer (rec->peer_uri), opened on first use */
    guint timer;
    guint retry_s; /* the wait before asking the destination again */
    guint retries;
    int polls;
    gboolean cancel_sent;
    gboolean paused;         /* "stop" sent before asking the destination */
    gboolean stream_checked; /* QEMU said its stream did not complete */
    gboolean finish_refused;
    gboolean deadline; /* the deadline sweep found it, not a restart */
    char *waiting_for; /* why the destination could not be asked (domjobinfo) */
} Recover;

/* One answer of the peer: an HTTP status and its JSON body, or
 * @unreachable (no HTTP answer: the daemon is down, the link cut) with
 * @message saying why. */
typedef struct {
    gboolean unreachable;
    guint status;
    JsonNode *json;
    char *message;
} VdPeerAnswer;

typedef void (*VdPeerAnswerFunc)(Recover *r, const VdPeerAnswer *answer);

/* GET /v1/migrations/ID on the destination. */
void vd_migration_recover_peer_query(Recover *r, VdPeerAnswerFunc done);
/* GET /v1/domains/UUID on the destination. */
void vd_migration_recover_peer_get_domain(Recover *r, const char *uuid, VdPeerAnswerFunc done);
/* POST /v1/migrations/ID/abort (@done may be NULL: fire and forget). */
void vd_migration_recover_peer_abort(Recover *r, VdPeerAnswerFunc done);
/* POST /v1/migrations/ID/finish {"ok": @ok}. */
void vd_migration_recover_peer_finish(Recover *r, gboolean ok, VdPeerAnswerFunc done);
void vd_migration_recover_peer_close(Recover *r);
