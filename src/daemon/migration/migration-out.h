/* The outgoing migration in flight (migration-source.c: its state, its
 * end, giving up, finish and confirm; migration-begin.c: begin and
 * prepare; migration-perform.c: QEMU's stream). Private to those three. */
#pragma once

#include "migration-flow.h"

struct _VdMigrationOut {
    int refs;
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    VdMigrateParams params;
    VdMigrationOffer *offer;
    VdMigrationAnswer *answer;
    VdRemote *remote;
    VdMigrationPhase phase;
    gboolean was_running;
    gboolean prepared;    /* the destination has (or may have) an incoming domain */
    gboolean mirroring;   /* storage mirrors started */
    gboolean migrating;   /* QEMU accepted "migrate" */
    gboolean stream_begun; /* ... at some point (migrating goes back to FALSE at its end) */
    gboolean stream_done; /* QEMU's stream completed: the guest is paused here */
    gboolean postcopy;    /* QEMU switched to post-copy: the destination runs it */
    gboolean postcopy_asked;
    gboolean postcopy_pending; /* migrate-postcopy came: switch once streaming */
    gboolean finish_sent;
    gboolean finish_ok;   /* the destination runs it */
    gboolean settling;    /* giving up: cancel, abort there, resume here */
    gboolean stream_failed; /* QEMU's stream failed by itself: the destination may say why */
    gboolean abort_retried; /* the destination's abort was sent a second time */
    guint figure_tries;     /* query-migrate asked again for the final downtime */
    gboolean ended;
    gboolean polling;
    gboolean confirming;
    guint poll;
    guint timer;          /* --timeout */
    GError *error;        /* why it is being given up */
    VdDomainWaitFunc done;
    gpointer user_data;
};

VdMigrationOut *vd_mig_out_ref(VdMigrationOut *out);
void vd_mig_out_unref(VdMigrationOut *out);
/* The record (migration-record.c) at @phase. */
void vd_mig_out_record(VdMigrationOut *out, VdMigrationPhase phase);
gboolean vd_mig_out_abort_requested(VdMigrationOut *out);
GError *vd_mig_out_aborted_error(void);
/* Over: done() called, job and record gone (@error NULL: it succeeded). */
void vd_mig_out_end(VdMigrationOut *out, const GError *error);
/* Give up (@error taken): cancel the stream, drop the destination's copy,
 * resume here; ends the flow. */
void vd_mig_out_fail(VdMigrationOut *out, GError *error);
/* At the start of each step of the flow, which holds a reference: FALSE
 * (that reference dropped) when the flow is over or settling, or fails
 * now: with @error (copied), or with @check_abort when domjobabort was
 * asked meanwhile; TRUE: go on. */
gboolean vd_mig_out_step(VdMigrationOut *out, const GError *error, gboolean check_abort);
/* Asks the destination to resume it (finish {"ok": true}). */
void vd_mig_out_send_finish(VdMigrationOut *out);
/* The steps handed between the files; each takes the flow's reference
 * @data / @user_data. */
void vd_mig_out_perform(gpointer data);
void vd_mig_out_perform_done(gpointer data);
void vd_mig_out_mirrors_done(VdDomainObj *dom, const GError *error, gpointer data);
