/* The incoming migration in flight (migration-dest.c: its state, prepare
 * and the start; migration-finish.c: finish, abort, the queries and the
 * hooks). Private to those two. */
#pragma once

#include "daemon/domain/domain-process.h"
#include "migration-flow.h"

typedef struct _LoadOp LoadOp;

struct _VdMigrationIn {
    int refs;
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    VdMigrationOffer *offer;
    VdMigrationAnswer *answer;
    char *listen_host;
    char *advertised_host;
    GPtrArray *created; /* char*: files prepare made (storage) */
    char *previous_xml; /* offline: the definition prepare replaced (NULL: it made one) */
    VdMigrationPhase phase;
    LoadOp *load;      /* the start's load(), while it has not answered */
    char *stream_status; /* QEMU's incoming status, from events and polls */
    gboolean storage_prepared;
    VdDomainDef *start_def; /* live: what QEMU starts with, once the copied disks exist */
    gboolean finishing; /* finish{ok} received */
    gint64 finishing_since; /* monotonic µs: finish's wait for the stream is bounded */
    gboolean postcopy_failed; /* the stream broke in post-copy: kept paused here */
    gboolean resuming;  /* load() answered: the start's "cont" is on its way */
    gboolean aborting;
    gboolean ended;
    gboolean polling;
    guint poll;
    VdMigrationReply prepare_reply;
    gpointer prepare_data;
    JsonObject *source_stats; /* finish's figures of the stream, for domjobinfo */
    char *qemu_said; /* abort: what the incoming QEMU wrote to its log, for the source */
    VdMigrationReply finish_reply;
    gpointer finish_data;
};

struct _LoadOp {
    VdStartRestore base;
    VdMigrationIn *in; /* a reference */
    VdStartRestoreDone done;
    gpointer start;
};

VdMigrationIn *vd_mig_in_ref(VdMigrationIn *in);
void vd_mig_in_unref(VdMigrationIn *in);
/* The record (migration-record.c) at @phase. */
void vd_mig_in_record(VdMigrationIn *in, VdMigrationPhase phase);
/* finish's answer (NULL @error: it runs here, or it was dropped as asked). */
void vd_mig_in_answer_finish(VdMigrationIn *in, const GError *error);
/* Over: the record gone, everyone waiting answered. */
void vd_mig_in_end(VdMigrationIn *in, const GError *error);
/* Answers the start's load(): NULL lets it "cont", an error fails it. */
void vd_mig_in_load_answer(VdMigrationIn *in, const GError *error);
/* Why incoming migration @id failed here (@reason), kept a while after its
 * end: the source's abort comes after it and says it in its error. */
void vd_mig_in_remember_failure(const char *id, const char *reason);
/* The last lines the incoming QEMU wrote to its log since its start (a
 * failed load says why there), or NULL. */
char *vd_mig_in_qemu_said(VdMigrationIn *in);
/* The XML the source sent, as a definition (@what names it in errors). */
VdDomainDef *vd_mig_in_parse_def(const char *xml, const char *what, GError **error);
