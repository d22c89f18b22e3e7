/* The source side (migration.h): the outgoing migration's state, its end,
 * giving up, finish and confirm; begin and prepare are in
 * migration-begin.c, perform in migration-perform.c (migration-out.h).
 * Everything runs on the main loop: QMP is asynchronous, the peer is
 * called with libsoup's asynchronous API (migration-peer.c).
 *
 *   begin     checks, the offer (the XML the destination will run), job
 *             VD_JOB_MIGRATION_OUT, the record; the peer opened, asked who
 *             it is (not ourselves), then prepare
 *   perform   capabilities and parameters, the disks' mirrors (copied
 *             storage), "migrate"; QEMU's MIGRATION events (and a poll, for
 *             the figures) follow it; --timeout, --postcopy-after-precopy
 *   finish    the destination resumes it (at the switch to post-copy, or
 *             once the stream is complete and the guest paused here)
 *   confirm   QEMU here is stopped ("shut off (migrated)"),
 *             --undefinesource undefines
 *
 * A failure before the destination's finish succeeded cancels QEMU's
 * stream, drops what the destination made (abort) and lets the guest run
 * on here ("running (migration canceled)"). The guest never runs on both
 * hosts: the destination resumes only on finish, and this side resumes
 * only once the destination said its copy is gone (or never existed). */
#include "migration-out.h"

#include <signal.h>

#include "daemon/domain/domain-process.h"
#include "daemon/save/save-priv.h" /* vd_save_job_update_from_migrate: domjobinfo's figures */
#include "util/vd-error.h"

/* An abort the destination did not answer is sent once more after this. */
#define ABORT_RETRY_S 1

void
vd_migrate_params_clear(VdMigrateParams *p)
{
    g_clear_pointer(&p->dest_uri, g_free);
    g_clear_pointer(&p->migrate_uri, g_free);
    g_clear_pointer(&p->dname, g_free);
    g_clear_pointer(&p->xml, g_free);
    g_clear_pointer(&p->persistent_xml, g_free);
}

VdMigrationOut *
vd_mig_out_ref(VdMigrationOut *out)
{
    out->refs++;
    return out;
}

static gboolean
free_remote_idle(gpointer data)
{
    vd_remote_free(data);
    return G_SOURCE_REMOVE;
}

void
vd_mig_out_unref(VdMigrationOut *out)
{
    if (--out->refs > 0)
        return;
    vd_migrate_params_clear(&out->params);
    vd_migration_offer_free(out->offer);
    vd_migration_answer_free(out->answer);
    /* Never from inside one of the session's own callbacks. */
    if (out->remote)
        g_idle_add(free_remote_idle, out->remote);
    g_clear_error(&out->error);
    vd_domain_obj_unref(out->dom);
    g_free(out);
}

VdMigrationOut *
vd_migration_out(VdDomainObj *dom)
{
    VdMigration *m = dom->migration;
    return m ? m->out : NULL;
}

void
vd_migration_out_release(VdDomainObj *dom)
{
    VdMigration *m = dom->migration;
    if (m && m->out) {
        VdMigrationOut *out = g_steal_pointer(&m->out);
        vd_mig_out_unref(out);
    }
}

gboolean
vd_migration_source_streaming(VdDomainObj *dom)
{
    VdMigrationOut *out = vd_migration_out(dom);
    return out && out->migrating && !out->stream_done && !out->settling;
}

void
vd_mig_out_record(VdMigrationOut *out, VdMigrationPhase phase)
{
    g_autoptr(GError) error = NULL;
    /* Each phase in the log: a failed migration's log says how far it got. */
    if (out->phase != phase)
        g_info("migration of '%s' to %s (%s): %s", out->dom->name, out->params.dest_uri,
               out->offer->id, vd_migration_phase_to_string(phase));
    out->phase = phase;
    VdMigrationRecord rec = {
        .id = out->offer->id,
        .outgoing = TRUE,
        .phase = phase,
        .peer_uri = out->params.dest_uri,
        .was_running = out->was_running,
        .offline = out->params.offline,
        .persistent = out->params.persistent,
        .undefine_source = out->params.undefine_source,
        .domain_name = out->dom->name,
    };
    if (!vd_migration_record_save(out->d, out->dom->name, &rec, &error))
        g_warning("migration of '%s': %s", out->dom->name, error->message);
}

gboolean
vd_mig_out_abort_requested(VdMigrationOut *out)
{
    VdDomainAsyncJob *job = vd_domain_async_job_current(out->dom);
    return job && job->abort_requested;
}

GError *
vd_mig_out_aborted_error(void)
{
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                       "operation aborted: migration out job: canceled by client");
}

gboolean
vd_mig_out_step(VdMigrationOut *out, const GError *error, gboolean check_abort)
{
    if (out->ended || out->settling) {
        vd_mig_out_unref(out);
        return FALSE;
    }
    if (error || (check_abort && vd_mig_out_abort_requested(out))) {
        vd_mig_out_fail(out, error ? g_error_copy(error) : vd_mig_out_aborted_error());
        vd_mig_out_unref(out);
        return FALSE;
    }
    return TRUE;
}

/* ---- the end ---------------------------------------------------------- */

void
vd_mig_out_end(VdMigrationOut *out, const GError *error)
{
    VdDomainObj *dom = out->dom;
    if (out->ended)
        return;
    out->ended = TRUE;
    g_clear_handle_id(&out->poll, g_source_remove);
    g_clear_handle_id(&out->timer, g_source_remove);
    if (dom->job == VD_JOB_MIGRATION_OUT)
        dom->job = VD_JOB_NONE;
    if (error && out->params.tls && dom->qmp && vd_state_is_active(dom->state)) {
        /* The guest runs on here: its next migration is not TLS unless
         * asked again. */
        vd_qmp_command(dom->qmp, "migrate-set-parameters",
                       vd_qemu_migration_tls_params_args(NULL, NULL), NULL, NULL);
        JsonObject *del = json_object_new();
        json_object_set_string_member(del, "id", VD_QEMU_MIGRATION_TLS_ID);
        vd_qmp_command(dom->qmp, "object-del", del, NULL, NULL);
    }
    VdDomainAsyncJob *job = dom->async_job;
    if (job && !job->ended_us)
        vd_domain_async_job_end(dom, error == NULL);
    vd_migration_record_remove(out->d, dom->name);
    vd_mig_out_ref(out);
    vd_migration_out_release(dom);
    out->done(dom, error, out->user_data);
    vd_domain_list_forget_if_gone(out->d->domains, dom);
    vd_mig_out_unref(out);
}

/* ---- giving up -------------------------------------------------------- */

static void
resumed(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    VdDomainObj *dom = out->dom;
    (void)qmp;
    (void)result;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (!error && vd_state_is_active(dom->state)) {
        vd_migration_set_state(out->d, dom, VD_STATE_RUNNING, VD_REASON_MIGRATION_CANCELED);
    } else if (error) {
        g_warning("domain '%s': cannot resume after a failed migration: %s", dom->name,
                  error->message);
    }
    vd_mig_out_end(out, out->error);
    vd_mig_out_unref(out);
}

static void
status_after_cancel(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    VdDomainObj *dom = out->dom;
    (void)qmp;
    const char *status = vd_migration_qmp_status(result, error);
    /* QEMU resumes a guest itself when a stream it paused fails; one
     * paused at completion (finish refused) or by --timeout is ours to
     * resume. */
    if (g_str_equal(status, "running")) {
        /* As libvirt: "migration canceled" once QEMU's stream had begun
         * (it may have paused the guest meanwhile); a migration refused
         * before leaves the state as it was. */
        if (out->stream_begun || dom->state != VD_STATE_RUNNING)
            vd_migration_set_state(out->d, dom, VD_STATE_RUNNING, VD_REASON_MIGRATION_CANCELED);
        vd_mig_out_end(out, out->error);
    } else if (out->was_running && dom->qmp) {
        dom->internal_transition++;
        vd_qmp_command(dom->qmp, "cont", NULL, resumed, vd_mig_out_ref(out));
    } else {
        if (vd_state_is_active(dom->state))
            vd_migration_set_state(out->d, dom, VD_STATE_PAUSED, VD_REASON_USER);
        vd_mig_out_end(out, out->error);
    }
    vd_mig_out_unref(out);
}

static gboolean resume_poll(gpointer data);

static void
stream_settled(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    VdDomainObj *dom = out->dom;
    const char *status = vd_migration_qmp_status(result, error);
    /* A cancelled stream settles in QEMU's own time (it resumes a guest
     * it paused itself then): ask again until it has. */
    if (!error && dom->qmp &&
        (g_str_equal(status, "active") || g_str_equal(status, "setup") ||
         g_str_equal(status, "cancelling") || g_str_equal(status, "pre-switchover") ||
         g_str_equal(status, "device") || g_str_equal(status, "wait-unplug"))) {
        g_timeout_add(20, resume_poll, out); /* keeps our reference */
        return;
    }
    vd_qmp_command(qmp, "query-status", NULL, status_after_cancel, out);
}

static gboolean
resume_poll(gpointer data)
{
    VdMigrationOut *out = data;
    if (!out->dom->qmp) {
        vd_mig_out_end(out, out->error);
        vd_mig_out_unref(out);
        return G_SOURCE_REMOVE;
    }
    vd_qmp_command(out->dom->qmp, "query-migrate", NULL, stream_settled, out);
    return G_SOURCE_REMOVE;
}

/* The destination has dropped its copy (or never had one): the guest may
 * run here again, once QEMU's stream has settled. */
static void
resume_here(VdMigrationOut *out)
{
    VdDomainObj *dom = out->dom;
    if (out->params.offline || !vd_state_is_active(dom->state) || !dom->qmp) {
        vd_mig_out_end(out, out->error);
        return;
    }
    resume_poll(vd_mig_out_ref(out));
}

/* QEMU's stream failed by itself: what the destination saw (its answer to
 * the abort) goes into the error, since QEMU here often knows only that
 * the stream broke ("failed", no reason) while the incoming QEMU wrote why. */
static void
add_dest_view(VdMigrationOut *out, JsonNode *answer, const GError *error)
{
    g_autofree char *view = NULL;
    if (error) {
        view = g_strdup(error->message);
    } else if (answer && JSON_NODE_HOLDS_OBJECT(answer)) {
        JsonObject *o = json_node_get_object(answer);
        const char *stream = json_object_get_string_member_with_default(o, "stream", "");
        const char *said = json_object_get_string_member_with_default(o, "qemu_said", "");
        view = g_strdup_printf("its incoming stream was %s%s%s", *stream ? stream : "unknown",
                               *said ? "; its QEMU said: " : "", said);
    }
    if (!view || !out->error)
        return;
    GError *e = g_error_new(out->error->domain, out->error->code, "%s; the destination: %s",
                            out->error->message, view);
    g_error_free(out->error);
    out->error = e;
}

static void aborted_there(JsonNode *answer, const GError *error, gboolean http_answered,
                          gpointer data);

static void
send_abort(VdMigrationOut *out)
{
    g_autofree char *path = g_strdup_printf("/v1/migrations/%s/abort", out->offer->id);
    vd_migration_peer_call(out->remote, "POST", path, NULL, aborted_there, out);
}

static gboolean
abort_again(gpointer data)
{
    send_abort(data); /* keeps our reference */
    return G_SOURCE_REMOVE;
}

static void
aborted_there(JsonNode *answer, const GError *error, gboolean http_answered, gpointer data)
{
    VdMigrationOut *out = data;
    if (error && !http_answered && !out->abort_retried && error->code != VD_ERROR_TIMEOUT) {
        /* Not answered (a connection the destination had closed as idle
         * during a long stream, a moment's overload; not a peer that let
         * the whole PEER_TIMEOUT_S pass): once more, or its
         * incoming domain would wait for its deadline and refuse the
         * next attempt meanwhile. */
        g_info("migration of '%s': abort on the destination: %s; asking again", out->dom->name,
               error->message);
        out->abort_retried = TRUE;
        g_timeout_add_seconds(ABORT_RETRY_S, abort_again, out);
        return;
    }
    if (out->stream_failed && (http_answered || !error))
        add_dest_view(out, answer, error);
    /* After finish went out, "no such migration" is no answer either: the
     * destination may have finished and forgotten it, or be settling it
     * after a restart (its record is not in its memory then). */
    if (error && (!http_answered || error->code != VD_ERROR_NOT_FOUND || out->finish_sent)) {
        /* Nobody can say whether the destination still holds an incoming
         * copy: the guest stays paused here, recorded, for the recovery
         * at the next daemon start (or an operator) to settle. */
        if (out->stream_done || out->finish_sent) {
            g_warning("migration of '%s': the destination did not confirm the abort (%s); the "
                      "domain stays paused here until the migration is settled",
                      out->dom->name, error->message);
            g_autoptr(GError) e = g_error_new(
                VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "%s; the destination did not confirm that it dropped its copy (%s): domain '%s' "
                "stays paused here until the destination answers (the migration is settled "
                "then, see domjobinfo)",
                out->error->message, error->message, out->dom->name);
            VdDomainObj *dom = out->dom;
            if (vd_state_is_active(dom->state))
                vd_migration_set_state(out->d, dom, VD_STATE_PAUSED, VD_REASON_MIGRATING);
            /* The record stays: out_end() would remove it. */
            out->ended = TRUE;
            g_clear_handle_id(&out->poll, g_source_remove);
            if (dom->job == VD_JOB_MIGRATION_OUT)
                dom->job = VD_JOB_NONE;
            if (dom->async_job && !dom->async_job->ended_us)
                vd_domain_async_job_end(dom, FALSE);
            vd_mig_out_ref(out);
            vd_migration_out_release(dom);
            out->done(dom, e, out->user_data);
            /* The recovery asks the destination again (with backoff)
             * until the guest runs on exactly one side. */
            vd_migration_settle(out->d, dom->name);
            vd_mig_out_unref(out);
            vd_mig_out_unref(out);
            return;
        }
        /* The stream never completed: the destination's QEMU cannot have
         * the whole guest, and never runs without our finish. */
        g_warning("migration of '%s': abort on the destination: %s", out->dom->name,
                  error->message);
    }
    resume_here(out);
    vd_mig_out_unref(out);
}

static void
mirrors_dropped(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    if (error)
        g_warning("migration of '%s': ending the disk mirrors: %s", dom->name, error->message);
    if (out->prepared && out->remote) {
        send_abort(out);
        return;
    }
    resume_here(out);
    vd_mig_out_unref(out);
}

void
vd_mig_out_fail(VdMigrationOut *out, GError *error)
{
    VdDomainObj *dom = out->dom;
    if (out->settling || out->ended || out->finish_ok) {
        g_error_free(error);
        return;
    }
    if (out->postcopy) {
        /* The destination runs the guest and pages still come from
         * here: neither side has it whole (libvirt's "postcopy failed"). */
        out->settling = TRUE;
        if (vd_state_is_active(dom->state))
            vd_migration_set_state(out->d, dom, VD_STATE_PAUSED, VD_REASON_POSTCOPY_FAILED);
        g_prefix_error(&error, "post-copy migration failed: ");
        out->ended = TRUE;
        /* Settled as far as the daemons can: both sides paused, kept so
         * by an operator's decision only. No record, or the sweep would
         * take the destination's paused copy for a run there and
         * confirm, stopping the only QEMU that has the other pages. */
        vd_migration_record_remove(out->d, dom->name);
        /* The stream's poll and --timeout hold no reference: they go
         * before the last one does (the flow ends here). */
        g_clear_handle_id(&out->poll, g_source_remove);
        g_clear_handle_id(&out->timer, g_source_remove);
        if (dom->job == VD_JOB_MIGRATION_OUT)
            dom->job = VD_JOB_NONE;
        if (dom->async_job && !dom->async_job->ended_us)
            vd_domain_async_job_end(dom, FALSE);
        vd_mig_out_ref(out);
        vd_migration_out_release(dom);
        out->done(dom, error, out->user_data);
        vd_mig_out_unref(out);
        g_error_free(error);
        return;
    }
    out->settling = TRUE;
    out->error = error;
    g_clear_handle_id(&out->poll, g_source_remove);
    g_clear_handle_id(&out->timer, g_source_remove);
    if (out->offer)
        vd_mig_out_record(out, VD_MIG_PHASE_CANCELLED);
    if (out->migrating && !out->stream_done && dom->qmp)
        vd_qmp_command(dom->qmp, "migrate_cancel", NULL, NULL, NULL);
    if (out->mirroring) {
        out->mirroring = FALSE;
        vd_migration_storage_mirror_end(out->d, dom, FALSE, mirrors_dropped, vd_mig_out_ref(out));
        return;
    }
    mirrors_dropped(dom, NULL, vd_mig_out_ref(out));
}

/* ---- confirm ---------------------------------------------------------- */

static void
qemu_gone(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    if (error)
        g_warning("migration of '%s': stopping its QEMU here: %s", dom->name, error->message);
    vd_mig_out_end(out, NULL);
    vd_mig_out_unref(out);
}

static void
quit_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    (void)qmp;
    (void)result;
    /* "quit" may be answered by the connection closing as QEMU ends. */
    if (error && dom->pid > 0 && vd_state_is_active(dom->state) && kill(dom->pid, 0) == 0)
        kill(dom->pid, SIGTERM);
    vd_domain_obj_unref(dom);
}

static void
confirm(gpointer data)
{
    VdMigrationOut *out = data;
    VdDomainObj *dom = out->dom;
    g_autoptr(GError) error = NULL;
    if (out->ended) {
        vd_mig_out_unref(out);
        return;
    }
    out->confirming = TRUE;
    if (out->params.undefine_source && dom->persistent &&
        !vd_domain_list_undefine(out->d->domains, dom, &error))
        g_warning("migration of '%s': --undefinesource: %s", dom->name, error->message);
    if (out->params.offline || !vd_state_is_active(dom->state) || !dom->qmp) {
        vd_mig_out_end(out, NULL);
        vd_mig_out_unref(out);
        return;
    }
    /* The guest runs on the destination: QEMU here ends, as asked (not a
     * crash): "shut off (migrated)". */
    dom->stop_reason = VD_REASON_MIGRATED;
    vd_domain_obj_wait_inactive(dom, qemu_gone, out); /* keeps our reference */
    vd_qmp_command(dom->qmp, "quit", NULL, quit_reply, vd_domain_obj_ref(dom));
}

static void
finished(JsonNode *answer, const GError *error, gboolean http_answered, gpointer data)
{
    VdMigrationOut *out = data;
    (void)answer;
    (void)http_answered;
    if (out->ended) {
        vd_mig_out_unref(out);
        return;
    }
    if (error) {
        vd_mig_out_fail(out, g_error_copy(error));
        vd_mig_out_unref(out);
        return;
    }
    out->finish_ok = TRUE;
    if (out->postcopy && !out->stream_done) {
        /* The guest runs there; the rest of its pages follow. Confirm
         * when the stream is complete. */
        vd_mig_out_unref(out);
        return;
    }
    vd_mig_out_record(out, VD_MIG_PHASE_CONFIRMED);
    vd_migration_hold(out->d, "source-confirm", confirm, out);
}

void
vd_mig_out_send_finish(VdMigrationOut *out)
{
    out->finish_sent = TRUE;
    vd_mig_out_record(out, VD_MIG_PHASE_FINISH_SENT);
    g_autofree char *path = g_strdup_printf("/v1/migrations/%s/finish", out->offer->id);
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "ok", TRUE);
    /* The stream's figures: the destination's domjobinfo --completed
     * shows them too (its QEMU knows no downtime). */
    json_object_set_object_member(o, "stats", vd_migration_job_stats(out->dom));
    g_autoptr(JsonNode) body = json_node_init_object(json_node_alloc(), o);
    json_object_unref(o);
    vd_migration_peer_call(out->remote, "POST", path, body, finished, vd_mig_out_ref(out));
}

void
vd_mig_out_mirrors_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)dom;
    out->mirroring = FALSE;
    if (!vd_mig_out_step(out, error, FALSE))
        return;
    if (out->finish_ok) {
        /* Post-copy: the destination was told at the switch. */
        vd_mig_out_record(out, VD_MIG_PHASE_CONFIRMED);
        vd_migration_hold(out->d, "source-confirm", confirm, out);
        return;
    }
    if (out->finish_sent) {
        /* Post-copy: finish is on its way; its answer confirms. */
        vd_mig_out_unref(out);
        return;
    }
    vd_mig_out_send_finish(out);
    vd_mig_out_unref(out);
}

void
vd_mig_out_perform_done(gpointer data)
{
    VdMigrationOut *out = data;
    if (!vd_mig_out_step(out, NULL, FALSE))
        return;
    if (out->params.copy_storage != VD_MIGRATE_COPY_NONE || out->mirroring) {
        out->mirroring = TRUE;
        vd_migration_storage_mirror_end(out->d, out->dom, TRUE, vd_mig_out_mirrors_done, out);
        return;
    }
    vd_mig_out_mirrors_done(out->dom, NULL, out);
}

/* ---- requests on the migration in flight -------------------------------- */

gboolean
vd_migration_source_abort(VdDomainObj *dom, GError **error)
{
    VdMigrationOut *out = vd_migration_out(dom);
    if (!out || out->ended) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: no job is active on the domain");
        return FALSE;
    }
    if (out->finish_sent || out->stream_done || out->postcopy) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: the migration of domain '%s' has %s and "
                    "can no longer be aborted",
                    dom->name,
                    out->postcopy ? "switched to post-copy" : "completed its switch-over");
        return FALSE;
    }
    VdDomainAsyncJob *job = vd_domain_async_job_current(dom);
    if (job)
        job->abort_requested = TRUE;
    /* Before "migrate" the flow sees abort_requested at its next step. */
    if (out->migrating && dom->qmp)
        vd_qmp_command(dom->qmp, "migrate_cancel", NULL, NULL, NULL);
    return TRUE;
}

void
vd_migration_source_stopped(VdDomainObj *dom)
{
    VdMigrationOut *out = vd_migration_out(dom);
    if (!out || out->ended || out->confirming)
        return;
    if (out->params.offline)
        return;
    vd_mig_out_ref(out);
    if (out->finish_ok && !out->postcopy) {
        /* Finish succeeded: it runs there; a QEMU gone here is fine. */
        vd_mig_out_end(out, NULL);
    } else {
        vd_mig_out_fail(out, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: domain '%s' stopped while it was migrated",
                                  dom->name));
    }
    vd_mig_out_unref(out);
}
