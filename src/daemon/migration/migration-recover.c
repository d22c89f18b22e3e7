/* Settling, at daemon start, the migrations a killed daemon left halfway
 * (migration.h, "Never lose the guest"): for every record
 * (run/domains/NAME.migration, migration-record.c) the guest ends running
 * on exactly one host, and both daemons agree which.
 *
 * Source side, by the phase recorded:
 *   begin, prepared, perform  finish was never sent, so the destination
 *              never resumed (it only does on finish): QEMU's stream is
 *              cancelled if it still runs, the destination told to drop
 *              its incoming domain (best effort: its own deadline drops it
 *              otherwise), the guest resumed here if it ran.
 *   postcopy   the destination runs the guest; wait for QEMU's stream to
 *              end, then as perform-done.
 *   perform-done, finish-sent  the destination may have resumed: ask it
 *              (GET /v1/migrations/ID, else its domain by UUID). Running
 *              there: confirm (our QEMU stopped, "shut off (migrated)",
 *              --undefinesource honoured). Still only prepared there: our
 *              QEMU alive, abort there and resume here; ours gone, ask it
 *              to finish (its stream may be whole). Gone there: resume
 *              here. Unreachable: the guest stays paused here (it must
 *              never run twice), the question is asked again with backoff,
 *              and the log and domjobinfo say so.
 *   confirmed  confirm again; cancelled: resume here.
 * Destination side:
 *   prepared   the incoming QEMU destroyed, the files prepare made
 *              removed, the transient domain dropped, the record removed.
 *   finishing  QEMU alive with the whole stream: finish what finish did
 *              (cont, --persistent's definition, "running (migrated)");
 *              else as prepared.
 * And while the daemon runs, an incoming domain whose source never sends
 * finish is dropped after a deadline since prepare (never resumed):
 * VIRTD_MIGRATION_INCOMING_TIMEOUT seconds, default 600.
 *
 * The peer calls are in migration-recover-peer.c. */
#include "migration-recover.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "daemon/domain/domain-process.h"

#include "util/vd-error.h"

#define SETTLE_POLL_MS 100
#define SETTLE_MAX_POLLS 300 /* 30 s for the domain's reconnect to end */
#define CANCEL_POLL_MS 200
#define CANCEL_MAX_POLLS 150    /* 30 s for QEMU to end its stream after migrate_cancel */
#define POSTCOPY_MAX_POLLS 1500 /* 5 min for a post-copy to end (or come back from a pause) */
#define RETRY_FIRST_S 1
#define RETRY_MAX_S 30
#define DEADLINE_DEFAULT_S 600
#define SWEEP_S 5
/* A record this old whose flow has gone is an orphan (a flow writes its
 * record after it has taken the domain's job). */
#define ORPHAN_AGE_US (2 * G_USEC_PER_SEC)

static void recover_step(Recover *r);

/* The domains being settled (by name), so that the deadline sweep and a
 * second call leave them to the one in charge. */
static GHashTable *in_progress;

static void
recover_free(Recover *r)
{
    if (r->timer)
        g_source_remove(r->timer);
    if (in_progress && r->name)
        g_hash_table_remove(in_progress, r->name);
    if (r->dom)
        vd_domain_obj_unref(r->dom);
    vd_migration_record_free(r->rec);
    vd_migration_recover_peer_close(r);
    g_free(r->name);
    g_free(r->uuid);
    g_free(r);
}

static gboolean
dom_active(Recover *r)
{
    return r->dom && vd_state_is_active(r->dom->state) && r->dom->pid > 0 && r->dom->qmp;
}

/* ---- ending ------------------------------------------------------------- */

static void
end_job(Recover *r)
{
    VdDomainObj *dom = r->dom;
    if (!dom)
        return;
    if (dom->job == VD_JOB_MIGRATION_OUT || dom->job == VD_JOB_MIGRATION_IN)
        dom->job = VD_JOB_NONE;
    if (vd_domain_async_job_current(dom))
        vd_domain_async_job_end(dom, FALSE);
}

/* Done: the record goes, and a transient domain no QEMU runs any more. */
static void
recover_done(Recover *r)
{
    end_job(r);
    vd_migration_record_remove(r->d, r->name);
    if (r->dom && vd_state_is_active(r->dom->state))
        vd_domain_status_save(r->d->domains, r->dom, NULL);
    /* Only our object: the name may be another domain's by now. */
    if (r->dom && !r->dom->persistent && !vd_state_is_active(r->dom->state) &&
        vd_domain_list_find_name(r->d->domains, r->name) == r->dom)
        vd_domain_list_forget_if_gone(r->d->domains, r->dom);
    recover_free(r);
}

static void
resumed(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    VdDomainObj *dom = r->dom;
    (void)qmp;
    (void)result;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (vd_state_is_active(dom->state)) {
        if (error)
            g_warning("domain '%s': cannot resume it after its interrupted migration: %s",
                      dom->name, error->message);
        else
            vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_MIGRATION_CANCELED);
    }
    recover_done(r);
}

static void
mirrors_dropped(VdDomainObj *dom, const GError *error, gpointer data)
{
    Recover *r = data;
    (void)error;
    if (!vd_state_is_active(dom->state) || !dom->qmp) {
        recover_done(r);
        return;
    }
    dom->internal_transition++;
    vd_qmp_command(dom->qmp, "cont", NULL, resumed, r);
}

/* Source: the migration did not happen; the guest runs here again (if it
 * ran before). */
static void
source_resume(Recover *r, const char *why)
{
    VdDomainObj *dom = r->dom;
    if (!dom_active(r)) {
        g_warning("migration %s of domain '%s': %s, and its QEMU here is gone: the guest is "
                  "lost",
                  r->rec->id, r->name, why);
        recover_done(r);
        return;
    }
    if (!r->rec->was_running) {
        g_message("migration %s of domain '%s': %s; it stays paused here, as it was", r->rec->id,
                  r->name, why);
        vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
        recover_done(r);
        return;
    }
    g_message("migration %s of domain '%s': %s; the guest resumes here", r->rec->id, r->name, why);
    end_job(r);
    /* Copied storage: the disks' mirrors go first (migration-storage-mirror.c). */
    vd_migration_storage_mirror_cleanup(r->d, dom, mirrors_dropped, r);
}

static void
confirmed_stopped(VdDomainObj *dom, const GError *error, gpointer data)
{
    Recover *r = data;
    if (error)
        g_warning("domain '%s': stopping its QEMU after the migration: %s", dom->name,
                  error->message);
    if (r->rec->undefine_source && dom->persistent) {
        g_autoptr(GError) local = NULL;
        if (!vd_domain_list_undefine(r->d->domains, dom, &local))
            g_warning("domain '%s': --undefinesource after its migration: %s", dom->name,
                      local->message);
    }
    recover_done(r);
}

/* Source: the destination runs the guest; ours stops for good. */
static void
source_confirm(Recover *r)
{
    VdDomainObj *dom = r->dom;
    g_message("migration %s of domain '%s': the destination runs the guest; confirming (QEMU "
              "here stopped%s)",
              r->rec->id, r->name, r->rec->undefine_source ? ", definition removed" : "");
    r->rec->phase = VD_MIG_PHASE_CONFIRMED;
    vd_migration_record_save(r->d, r->name, r->rec, NULL);
    end_job(r);
    if (!dom || !vd_state_is_active(dom->state)) {
        if (dom)
            confirmed_stopped(dom, NULL, r);
        else
            recover_done(r);
        return;
    }
    vd_domain_destroy(r->d, dom, confirmed_stopped, r);
    /* destroy names itself the reason; this stop is the migration's. */
    dom->stop_reason = VD_REASON_MIGRATED;
}

/* ---- destination side --------------------------------------------------- */

static void
remove_created(Recover *r)
{
    for (char **f = r->rec->created_files; f && *f; f++)
        if (g_unlink(*f) < 0 && errno != ENOENT)
            g_warning("migration %s: cannot remove '%s' made by its prepare: %s", r->rec->id, *f,
                      g_strerror(errno));
}

static void
dest_destroyed(VdDomainObj *dom, const GError *error, gpointer data)
{
    Recover *r = data;
    if (error)
        g_warning("domain '%s': destroying the incoming QEMU: %s", dom->name, error->message);
    remove_created(r);
    recover_done(r);
}

static void
dest_drop(Recover *r, const char *why)
{
    g_message("incoming migration %s of domain '%s': %s; the incoming domain is dropped "
              "(never resumed here)",
              r->rec->id, r->name, why);
    if (r->dom && vd_state_is_active(r->dom->state)) {
        vd_domain_destroy(r->d, r->dom, dest_destroyed, r);
        return;
    }
    if (r->rec->offline && r->dom && r->dom->persistent) {
        /* An offline prepare defined it here; the source keeps it. */
        g_autoptr(GError) error = NULL;
        end_job(r);
        if (!vd_domain_list_undefine(r->d->domains, r->dom, &error))
            g_warning("domain '%s': %s", r->name, error->message);
    }
    remove_created(r);
    recover_done(r);
}

static void
dest_resumed(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    VdDomainObj *dom = r->dom;
    (void)qmp;
    (void)result;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (error) {
        dest_drop(r, "QEMU refused to resume it");
        return;
    }
    vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_MIGRATED);
    recover_done(r);
}

static void
dest_status(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    VdDomainObj *dom = r->dom;
    (void)qmp;
    const char *status =
        !error && result && JSON_NODE_HOLDS_OBJECT(result)
            ? json_object_get_string_member_with_default(json_node_get_object(result), "status", "")
            : "";
    /* "inmigrate": the stream is not whole; the source has it all. */
    if (!vd_state_is_active(dom->state) || error || g_str_equal(status, "inmigrate") ||
        g_str_equal(status, "")) {
        dest_drop(r, "its QEMU does not hold the whole guest");
        return;
    }
    if (r->rec->persistent && !dom->persistent) {
        g_autoptr(GError) local = NULL;
        /* The definition it came with (as finish does), not the live one
         * with its run-time names. */
        g_autoptr(VdDomainDef) def = vd_domain_def_copy(vd_domain_obj_def(dom));
        if (vd_domain_list_define(r->d->domains, def, &local))
            def = NULL; /* taken */
        else
            g_warning("domain '%s': --persistent after its migration: %s", dom->name,
                      local->message);
    }
    /* Copied storage: the NBD server prepare started has served its turn
     * (none: QEMU says so, harmlessly). */
    vd_qmp_command(dom->qmp, "nbd-server-stop", NULL, NULL, NULL);
    g_message("incoming migration %s of domain '%s': finish had begun when the daemon stopped; "
              "finishing it (the guest runs here)",
              r->rec->id, r->name);
    end_job(r);
    if (g_str_equal(status, "running") || !r->rec->was_running) {
        if (g_str_equal(status, "running"))
            vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_MIGRATED);
        else
            vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
        recover_done(r);
        return;
    }
    dom->internal_transition++;
    vd_qmp_command(dom->qmp, "cont", NULL, dest_resumed, r);
}

/* ---- source side: QEMU's stream ----------------------------------------- */

static gboolean cancel_poll(gpointer data);

static void
cancel_status(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    (void)qmp;
    const char *status = !error && result && JSON_NODE_HOLDS_OBJECT(result)
                             ? json_object_get_string_member_with_default(
                                   json_node_get_object(result), "status", "none")
                             : "none";
    if (!dom_active(r)) {
        recover_step(r);
        return;
    }
    if (g_str_equal(status, "completed")) {
        /* The stream ended whole before the cancel: the destination has
         * it all but was never told to finish; ask it. */
        r->rec->phase = VD_MIG_PHASE_PERFORM_DONE;
        recover_step(r);
        return;
    }
    gboolean postcopy_going = g_str_equal(status, "postcopy-active") ||
                              g_str_equal(status, "postcopy-paused") ||
                              g_str_equal(status, "postcopy-recover");
    if (postcopy_going && ++r->polls <= POSTCOPY_MAX_POLLS) {
        /* The destination runs the guest: never cancel; wait for the end. */
        r->rec->phase = VD_MIG_PHASE_POSTCOPY;
        r->timer = g_timeout_add(CANCEL_POLL_MS, cancel_poll, r);
        return;
    }
    if (r->rec->phase == VD_MIG_PHASE_POSTCOPY &&
        (postcopy_going || g_str_equal(status, "failed"))) {
        /* Post-copy broke: the destination ran the guest with pages still
         * here; neither side has it whole, and running this stale copy
         * would be worse than stopping (libvirt's "postcopy failed"). */
        g_warning("migration %s of domain '%s': post-copy failed; the guest stays paused here "
                  "(paused (post-copy failed)): neither host has all of it",
                  r->rec->id, r->name);
        vd_domain_obj_set_state(r->dom, VD_STATE_PAUSED, VD_REASON_POSTCOPY_FAILED);
        recover_done(r);
        return;
    }
    if (r->rec->phase == VD_MIG_PHASE_POSTCOPY) {
        r->rec->phase = VD_MIG_PHASE_PERFORM_DONE;
        recover_step(r);
        return;
    }
    if (g_str_equal(status, "none") || g_str_equal(status, "cancelled") ||
        g_str_equal(status, "failed")) {
        /* The stream never completed: the destination cannot hold the
         * whole guest, and never runs it without finish. */
        r->rec->phase = VD_MIG_PHASE_CANCELLED;
        r->stream_checked = TRUE;
        recover_step(r);
        return;
    }
    if (!r->cancel_sent) {
        r->cancel_sent = TRUE;
        vd_qmp_command(r->dom->qmp, "migrate_cancel", NULL, NULL, NULL);
    }
    if (++r->polls > CANCEL_MAX_POLLS) {
        g_warning("migration %s of domain '%s': QEMU's stream did not end after migrate_cancel "
                  "(status %s); asking the destination",
                  r->rec->id, r->name, status);
        r->rec->phase = VD_MIG_PHASE_PERFORM_DONE;
        recover_step(r);
        return;
    }
    r->timer = g_timeout_add(CANCEL_POLL_MS, cancel_poll, r);
}

static gboolean
cancel_poll(gpointer data)
{
    Recover *r = data;
    r->timer = 0;
    if (!dom_active(r)) {
        recover_step(r);
        return G_SOURCE_REMOVE;
    }
    vd_qmp_command(r->dom->qmp, "query-migrate", NULL, cancel_status, r);
    return G_SOURCE_REMOVE;
}

/* ---- source side: the destination's word -------------------------------- */

static gboolean
retry_fire(gpointer data)
{
    Recover *r = data;
    r->timer = 0;
    recover_step(r);
    return G_SOURCE_REMOVE;
}

/* The destination could not be asked: keep the guest paused here and ask
 * again later. */
static void
retry_later(Recover *r, const char *why)
{
    VdDomainObj *dom = r->dom;
    r->retry_s = r->retry_s ? MIN(r->retry_s * 2, RETRY_MAX_S) : RETRY_FIRST_S;
    gboolean changed = g_strcmp0(r->waiting_for, why) != 0;
    g_free(r->waiting_for);
    r->waiting_for = g_strdup(why);
    if (r->retries++ == 0 || changed || r->retry_s == RETRY_MAX_S)
        g_warning("migration %s of domain '%s': %s; the guest stays paused here until the "
                  "destination (%s) answers whether it runs it (asking again in %u s)",
                  r->rec->id, r->name, why, r->rec->peer_uri ? r->rec->peer_uri : "?", r->retry_s);
    if (dom && vd_state_is_active(dom->state)) {
        dom->job = VD_JOB_MIGRATION_OUT;
        VdDomainAsyncJob *job = vd_domain_async_job_current(dom);
        g_autofree char *op = g_strdup_printf(
            "Outgoing migration (interrupted; waiting for the destination: %s)", why);
        if (!job || g_strcmp0(job->operation, op) != 0) {
            if (job)
                vd_domain_async_job_end(dom, FALSE);
            vd_domain_async_job_begin(dom, op, VD_ASYNC_JOB_DAEMON, NULL, FALSE);
        }
    }
    r->timer = g_timeout_add_seconds(r->retry_s, retry_fire, r);
}

static void
source_after_abort(Recover *r, const VdPeerAnswer *a)
{
    (void)a; /* best effort: the destination never resumes without finish */
    source_resume(r, "the destination never resumed it");
}

static void
source_after_finish(Recover *r, const VdPeerAnswer *a)
{
    if (a->unreachable) {
        retry_later(r, a->message);
        return;
    }
    if (a->status >= 200 && a->status < 300) {
        source_confirm(r);
        return;
    }
    /* It could not resume it: check what it says now. */
    r->finish_refused = TRUE;
    recover_step(r);
}

static void
source_after_domain(Recover *r, const VdPeerAnswer *a)
{
    if (a->unreachable) {
        retry_later(r, a->message);
        return;
    }
    if (a->status == 404) {
        source_resume(r, "the destination has neither the migration nor the domain");
        return;
    }
    JsonObject *o =
        a->json && JSON_NODE_HOLDS_OBJECT(a->json) ? json_node_get_object(a->json) : NULL;
    JsonNode *dn = o ? json_object_get_member(o, "domain") : NULL;
    JsonObject *dom = dn && JSON_NODE_HOLDS_OBJECT(dn) ? json_node_get_object(dn) : NULL;
    if (a->status != 200 || !dom) {
        retry_later(r, a->message);
        return;
    }
    const char *state = json_object_get_string_member_with_default(dom, "state", "");
    const char *reason = json_object_get_string_member_with_default(dom, "reason", "");
    /* Paused "migrating": its incoming domain, still being settled there
     * (its own restart drops or finishes it): ask again. */
    if (g_str_equal(state, "paused") && g_str_equal(reason, "migrating")) {
        retry_later(r, "the destination is still settling its incoming domain");
        return;
    }
    if (g_str_equal(state, "paused") && g_str_equal(reason, "post-copy failed")) {
        /* Post-copy broke off: pages on both hosts, neither runs it; an
         * operator decides (docs/migration-recovery.md). */
        g_warning("migration %s of domain '%s': post-copy failed on the destination; the guest "
                  "stays paused here (paused (post-copy failed))",
                  r->rec->id, r->name);
        if (dom_active(r))
            vd_domain_obj_set_state(r->dom, VD_STATE_PAUSED, VD_REASON_POSTCOPY_FAILED);
        recover_done(r);
        return;
    }
    if (g_str_equal(state, "running") || g_str_equal(state, "paused") ||
        g_str_equal(state, "blocked")) {
        source_confirm(r);
        return;
    }
    source_resume(r, "the destination's copy is not active");
}

static void
source_after_query(Recover *r, const VdPeerAnswer *a)
{
    if (a->unreachable) {
        retry_later(r, a->message);
        return;
    }
    if (a->status == 404) {
        /* Finished and forgotten, or dropped: its domain tells. */
        vd_migration_recover_peer_get_domain(r, r->uuid, source_after_domain);
        return;
    }
    if (a->status != 200 || !a->json || !JSON_NODE_HOLDS_OBJECT(a->json)) {
        retry_later(r, a->message);
        return;
    }
    JsonObject *o = json_node_get_object(a->json);
    VdMigrationPhase phase =
        vd_migration_phase_from_string(json_object_get_string_member_with_default(o, "phase", ""));
    const char *state = json_object_get_string_member_with_default(o, "state", "");
    if (g_str_equal(state, "running") || phase == VD_MIG_PHASE_CONFIRMED) {
        source_confirm(r);
        return;
    }
    if (phase == VD_MIG_PHASE_FINISHING) {
        retry_later(r, "the destination is finishing it");
        return;
    }
    if (phase == VD_MIG_PHASE_CANCELLED || g_str_equal(state, "shut off")) {
        source_resume(r, "the destination dropped it");
        return;
    }
    /* Prepared there, finish never received. */
    if (dom_active(r) || r->finish_refused) {
        vd_migration_recover_peer_abort(r, source_after_abort);
        return;
    }
    /* Our copy is gone: the destination's may be whole. */
    g_message("migration %s of domain '%s': QEMU here is gone; asking the destination to "
              "finish (its copy may be whole)",
              r->rec->id, r->name);
    vd_migration_recover_peer_finish(r, TRUE, source_after_finish);
}

/* ---- the state machine -------------------------------------------------- */

static void
stopped(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Recover *r = data;
    VdDomainObj *dom = r->dom;
    (void)qmp;
    (void)result;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (error)
        g_warning("domain '%s': cannot pause it while its migration is settled: %s", dom->name,
                  error->message);
    if (vd_state_is_active(dom->state) &&
        (dom->state != VD_STATE_PAUSED || dom->reason != VD_REASON_MIGRATING)) {
        vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_MIGRATING);
        vd_domain_status_save(r->d->domains, dom, NULL);
    }
    recover_step(r);
}

static void
recover_step(Recover *r)
{
    VdMigrationRecord *rec = r->rec;
    if (!rec->outgoing) {
        if (rec->phase == VD_MIG_PHASE_FINISHING && dom_active(r)) {
            vd_qmp_command(r->dom->qmp, "query-status", NULL, dest_status, r);
            return;
        }
        dest_drop(r, r->deadline ? "its source never finished it in time"
                                 : "the daemon stopped before finish");
        return;
    }
    if (rec->offline) {
        /* Only a definition moved: nothing runs twice. Keep ours. */
        g_message("offline migration %s of domain '%s' was interrupted; the definition stays "
                  "here",
                  rec->id, r->name);
        vd_migration_recover_peer_abort(r, NULL);
        recover_done(r);
        return;
    }
    switch (rec->phase) {
    case VD_MIG_PHASE_NONE:
    case VD_MIG_PHASE_BEGIN:
    case VD_MIG_PHASE_PREPARED:
    case VD_MIG_PHASE_PERFORM:
    case VD_MIG_PHASE_POSTCOPY:
        if (dom_active(r)) {
            /* QEMU may be migrating still: stop it (or see it done). */
            vd_qmp_command(r->dom->qmp, "query-migrate", NULL, cancel_status, r);
            return;
        }
        if (rec->phase == VD_MIG_PHASE_POSTCOPY) {
            rec->phase = VD_MIG_PHASE_PERFORM_DONE;
            recover_step(r);
            return;
        }
        rec->phase = VD_MIG_PHASE_CANCELLED;
        vd_migration_recover_peer_abort(r, source_after_abort);
        return;
    case VD_MIG_PHASE_CANCELLED:
        /* Given up, but maybe after the stream completed and finish went
         * out unanswered (the flow records "cancelled" before it asks the
         * destination to abort): QEMU's stream status tells whether the
         * destination may have it all. */
        if (dom_active(r) && !r->stream_checked) {
            vd_qmp_command(r->dom->qmp, "query-migrate", NULL, cancel_status, r);
            return;
        }
        if (!dom_active(r)) {
            /* Our copy is gone: the destination's is all there may be. */
            rec->phase = VD_MIG_PHASE_PERFORM_DONE;
            recover_step(r);
            return;
        }
        vd_migration_recover_peer_abort(r, source_after_abort);
        return;
    case VD_MIG_PHASE_PERFORM_DONE:
    case VD_MIG_PHASE_FINISH_SENT:
        if (dom_active(r) && !r->paused) {
            /* QEMU paused at the end of its stream; make sure of it (the
             * guest must not run here while the destination may). */
            r->paused = TRUE;
            r->dom->job = VD_JOB_MIGRATION_OUT;
            r->dom->internal_transition++;
            vd_qmp_command(r->dom->qmp, "stop", NULL, stopped, r);
            return;
        }
        vd_migration_recover_peer_query(r, source_after_query);
        return;
    case VD_MIG_PHASE_CONFIRMED:
        source_confirm(r);
        return;
    case VD_MIG_PHASE_FINISHING:
        break;
    }
    recover_done(r);
}

/* Waits until the domain's reconnect (async, domain-reconnect.c) has said
 * what its QEMU is doing. */
static gboolean
settle_poll(gpointer data)
{
    Recover *r = data;
    r->timer = 0;
    VdDomainObj *dom = r->dom;
    if (dom && vd_state_is_active(dom->state) && (dom->reconnecting || !dom->qmp) &&
        ++r->polls < SETTLE_MAX_POLLS) {
        r->timer = g_timeout_add(SETTLE_POLL_MS, settle_poll, r);
        return G_SOURCE_REMOVE;
    }
    r->polls = 0;
    recover_step(r);
    return G_SOURCE_REMOVE;
}

static Recover *
recover_new(VdDaemon *d, const char *name, VdMigrationRecord *rec)
{
    if (!in_progress)
        in_progress = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (g_hash_table_contains(in_progress, name)) {
        vd_migration_record_free(rec);
        return NULL;
    }
    Recover *r = g_new0(Recover, 1);
    r->d = d;
    r->name = g_strdup(name);
    r->rec = rec;
    VdDomainObj *dom = vd_domain_list_find_name(d->domains, name);
    if (dom) {
        r->dom = vd_domain_obj_ref(dom);
        r->uuid = g_strdup(dom->uuid);
    }
    g_hash_table_add(in_progress, g_strdup(name));
    return r;
}

void
vd_migration_settle(VdDaemon *d, const char *dom_name)
{
    g_autoptr(GError) error = NULL;
    VdMigrationRecord *rec = vd_migration_record_load(d, dom_name, &error);
    if (!rec) {
        if (error)
            g_warning("%s", error->message);
        return;
    }
    Recover *r = recover_new(d, dom_name, rec);
    if (!r)
        return;
    VdDomainObj *dom = r->dom;
    g_message("%s migration %s of domain '%s' was interrupted in phase %s; settling it",
              rec->outgoing ? "outgoing" : "incoming", rec->id, dom_name,
              vd_migration_phase_to_string(rec->phase));
    if (dom && vd_state_is_active(dom->state)) {
        if (!rec->outgoing && rec->phase == VD_MIG_PHASE_FINISHING &&
            dom->start_phase != VD_START_PHASE_NONE) {
            /* The incoming start is still "unfinished" in its status file
             * (its last step, cont, is finish's): the reconnect would kill
             * it as a half-made QEMU, but it holds the guest. */
            dom->start_phase = VD_START_PHASE_NONE;
            dom->stop_reason = VD_REASON_UNKNOWN;
        }
        if (dom->start_phase == VD_START_PHASE_NONE)
            dom->job = rec->outgoing ? VD_JOB_MIGRATION_OUT : VD_JOB_MIGRATION_IN;
    }
    r->timer = g_timeout_add(SETTLE_POLL_MS, settle_poll, r);
}

/* ---- the deadline of incoming migrations -------------------------------- */

guint
vd_migration_incoming_deadline_s(void)
{
    const char *env = g_getenv("VIRTD_MIGRATION_INCOMING_TIMEOUT");
    guint64 v = env && *env ? g_ascii_strtoull(env, NULL, 10) : 0;
    return v > 0 && v < G_MAXUINT ? (guint)v : DEADLINE_DEFAULT_S;
}

/* Every few seconds: incoming migrations past their deadline, and
 * outgoing records no flow owns any more (the flow gave up without an
 * answer from the destination and left the guest paused): both settled
 * as at a restart. */
static gboolean
sweep(gpointer data)
{
    VdDaemon *d = data;
    gint64 now = g_get_real_time();
    gint64 limit = (gint64)vd_migration_incoming_deadline_s() * G_USEC_PER_SEC;
    g_autoptr(GPtrArray) names = vd_migration_record_list(d);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        if (in_progress && g_hash_table_contains(in_progress, name))
            continue;
        g_autoptr(VdMigrationRecord) rec = vd_migration_record_load(d, name, NULL);
        if (!rec || now - rec->updated_us < ORPHAN_AGE_US)
            continue;
        VdDomainObj *dom = vd_domain_list_find_name(d->domains, name);
        if (rec->outgoing) {
            if (!dom || dom->job != VD_JOB_MIGRATION_OUT) {
                g_message("migration %s of domain '%s' was left unsettled (phase %s); settling it",
                          rec->id, name, vd_migration_phase_to_string(rec->phase));
                vd_migration_settle(d, name);
            }
            continue;
        }
        if (rec->phase != VD_MIG_PHASE_PREPARED || now - rec->updated_us < limit)
            continue;
        Recover *r = recover_new(d, name, g_steal_pointer(&rec));
        if (!r)
            continue;
        r->deadline = TRUE;
        recover_step(r);
    }
    return G_SOURCE_CONTINUE;
}

void
vd_migration_recover_all(VdDaemon *d)
{
    g_autoptr(GPtrArray) names = vd_migration_record_list(d);
    for (guint i = 0; i < names->len; i++)
        vd_migration_settle(d, g_ptr_array_index(names, i));
    g_timeout_add_seconds(CLAMP(vd_migration_incoming_deadline_s() / 4, 1, SWEEP_S), sweep, d);
}
