/* The outgoing migration's perform phase (migration-out.h): QEMU's
 * capabilities and parameters, the disks' mirrors, "migrate", then QEMU's
 * stream followed through its MIGRATION events and query-migrate;
 * --timeout, post-copy (--postcopy-after-precopy, migrate-postcopy). */
#include "migration-out.h"

#include <string.h>

#include "daemon/domain/domain-process.h"
#include "daemon/save/save-priv.h" /* vd_save_job_update_from_migrate: domjobinfo's figures */
#include "util/vd-error.h"

/* How often query-migrate is asked while QEMU streams: the figures of
 * domjobinfo, and a fallback should an event be missed (the switch-over
 * itself follows QEMU's MIGRATION event at once). */
#define POLL_MS 200
/* The final figures: asked again this often, this many times at most,
 * while QEMU's downtime is not computed yet. */
#define FINAL_FIGURE_RETRY_MS 20
#define FINAL_FIGURE_TRIES 50

/* ---- perform: following QEMU's stream ---------------------------------- */

static void perform_done(VdMigrationOut *out);

static gboolean ask_final_figures(gpointer data);

static void
final_figures(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)qmp;
    VdDomainAsyncJob *job = vd_domain_async_job_current(out->dom);
    JsonObject *o = !error && result && JSON_NODE_HOLDS_OBJECT(result)
                        ? json_node_get_object(result)
                        : NULL;
    /* QEMU says "completed" before its migration thread has computed the
     * downtime (0 until then): ask again a little later, or the
     * destination's domjobinfo --completed would show 0 ms. */
    if (o && json_object_get_int_member_with_default(o, "downtime", 0) == 0 &&
        out->figure_tries++ < FINAL_FIGURE_TRIES && out->dom->qmp) {
        g_timeout_add(FINAL_FIGURE_RETRY_MS, ask_final_figures, out); /* keeps our reference */
        return;
    }
    if (o && job)
        vd_save_job_update_from_migrate(job, o);
    perform_done(out);
}

static gboolean
ask_final_figures(gpointer data)
{
    VdMigrationOut *out = data;
    if (out->dom->qmp)
        vd_qmp_command(out->dom->qmp, "query-migrate", NULL, final_figures, out);
    else
        perform_done(out);
    return G_SOURCE_REMOVE;
}

/* QEMU's stream is complete (and its last figures in): on to finish. */
static void
perform_done(VdMigrationOut *out)
{
    vd_mig_out_record(out, VD_MIG_PHASE_PERFORM_DONE);
    vd_migration_hold(out->d, "source-perform-done", vd_mig_out_perform_done, out);
}

static void
stream_status(VdMigrationOut *out, const char *status, const char *error_desc)
{
    VdDomainObj *dom = out->dom;
    if (out->ended || out->settling || !out->migrating)
        return;
    if (vd_qemu_migration_status_final(status) && !out->stream_done)
        g_info("migration of '%s': QEMU's stream is %s%s%s", dom->name, status,
               error_desc ? ": " : "", error_desc ? error_desc : "");
    if (g_str_equal(status, "postcopy-active") && !out->postcopy) {
        out->postcopy = TRUE;
        vd_mig_out_record(out, VD_MIG_PHASE_POSTCOPY);
        if (vd_state_is_active(dom->state))
            vd_migration_set_state(out->d, dom, VD_STATE_PAUSED, VD_REASON_POSTCOPY);
        /* The guest must run there now: its pages come on demand. */
        vd_mig_out_send_finish(out);
    } else if (g_str_equal(status, "completed") && !out->stream_done) {
        out->stream_done = TRUE;
        g_clear_handle_id(&out->poll, g_source_remove);
        g_clear_handle_id(&out->timer, g_source_remove);
        if (vd_state_is_active(dom->state) && !out->postcopy)
            vd_migration_set_state(out->d, dom, VD_STATE_PAUSED, VD_REASON_MIGRATING);
        /* The last figures (downtime) first, for domjobinfo --completed
         * on both sides: finish carries them to the destination. */
        if (dom->qmp)
            vd_qmp_command(dom->qmp, "query-migrate", NULL, final_figures, vd_mig_out_ref(out));
        else
            perform_done(vd_mig_out_ref(out));
    } else if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
        out->migrating = FALSE;
        out->stream_failed = !vd_mig_out_abort_requested(out);
        vd_mig_out_fail(out, vd_mig_out_abort_requested(out)
                          ? vd_mig_out_aborted_error()
                          : g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "operation failed: migration out job: %s",
                                        error_desc && *error_desc ? error_desc
                                                                  : "unexpectedly failed"));
    }
}

static void
polled(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)qmp;
    out->polling = FALSE;
    if (!error && result && !out->ended) {
        VdDomainAsyncJob *job = vd_domain_async_job_current(out->dom);
        if (job && JSON_NODE_HOLDS_OBJECT(result))
            vd_save_job_update_from_migrate(job, json_node_get_object(result));
        VdQemuMigrationInfo info;
        vd_qemu_migration_info_parse(result, &info);
        stream_status(out, info.status, info.error_desc);
        vd_qemu_migration_info_clear(&info);
    }
    vd_mig_out_unref(out);
}

/* A MIGRATION event said "failed": it carries no reason, query-migrate's
 * error-desc does (the event may come before the next poll). */
static void
failure_queried(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)qmp;
    VdQemuMigrationInfo info;
    vd_qemu_migration_info_parse(error ? NULL : result, &info);
    stream_status(out, "failed", info.error_desc);
    vd_qemu_migration_info_clear(&info);
    vd_mig_out_unref(out);
}

static gboolean
poll_tick(gpointer data)
{
    VdMigrationOut *out = data;
    if (!out->polling && out->dom->qmp) {
        out->polling = TRUE;
        vd_qmp_command(out->dom->qmp, "query-migrate", NULL, polled, vd_mig_out_ref(out));
    }
    return G_SOURCE_CONTINUE;
}

static void
switch_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)qmp;
    (void)result;
    if (error)
        g_warning("migration of '%s': migrate-start-postcopy: %s", out->dom->name,
                  error->message);
    vd_mig_out_unref(out);
}

static void
start_postcopy(VdMigrationOut *out)
{
    if (out->postcopy_asked || !out->dom->qmp)
        return;
    out->postcopy_asked = TRUE;
    vd_qmp_command(out->dom->qmp, "migrate-start-postcopy", NULL, switch_reply, vd_mig_out_ref(out));
}

static void
suspended(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)qmp;
    (void)result;
    if (out->dom->internal_transition > 0)
        out->dom->internal_transition--;
    if (!error && vd_state_is_active(out->dom->state) && !out->stream_done)
        vd_migration_set_state(out->d, out->dom, VD_STATE_PAUSED, VD_REASON_MIGRATING);
    vd_mig_out_unref(out);
}

/* --timeout N: the stream has not converged in N seconds. */
static gboolean
timed_out(gpointer data)
{
    VdMigrationOut *out = data;
    out->timer = 0;
    if (out->ended || out->settling || out->stream_done || !out->dom->qmp)
        return G_SOURCE_REMOVE;
    if (out->params.timeout_action == VD_MIGRATE_TIMEOUT_POSTCOPY) {
        g_info("migration of '%s' timed out; switching to post-copy", out->dom->name);
        start_postcopy(out);
    } else if (out->dom->state == VD_STATE_RUNNING) {
        g_info("migration of '%s' timed out; suspending domain", out->dom->name);
        out->dom->internal_transition++;
        vd_qmp_command(out->dom->qmp, "stop", NULL, suspended, vd_mig_out_ref(out));
    }
    return G_SOURCE_REMOVE;
}

void
vd_migration_source_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    VdMigrationOut *out = vd_migration_out(dom);
    (void)d;
    if (!out || out->ended)
        return;
    if (g_str_equal(event, "MIGRATION") && data) {
        const char *status = json_object_get_string_member_with_default(data, "status", "");
        if (g_str_equal(status, "failed") && dom->qmp)
            vd_qmp_command(dom->qmp, "query-migrate", NULL, failure_queried, vd_mig_out_ref(out));
        else
            stream_status(out, status, NULL);
    } else if (g_str_equal(event, "MIGRATION_PASS") && data) {
        gint64 pass = json_object_get_int_member_with_default(data, "pass", 0);
        if (out->params.postcopy && out->params.postcopy_after_precopy && pass >= 2)
            start_postcopy(out);
    } else if (g_str_equal(event, "STOP") && out->migrating && !dom->internal_transition &&
               (dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED)) {
        /* QEMU paused the guest for the switch-over (or post-copy). */
        vd_migration_set_state(out->d, dom, VD_STATE_PAUSED, VD_REASON_MIGRATING);
    } else if (g_str_equal(event, "RESUME") && out->migrating && !out->settling &&
               dom->state == VD_STATE_PAUSED && dom->reason == VD_REASON_MIGRATING) {
        /* QEMU resumed the guest itself after a failed switch-over. */
        vd_migration_set_state(out->d, dom, VD_STATE_RUNNING, VD_REASON_MIGRATION_CANCELED);
    }
}

static void
migrate_started(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)qmp;
    (void)result;
    if (!vd_mig_out_step(out, NULL, FALSE))
        return;
    if (error) {
        vd_mig_out_fail(out, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: QEMU refused to migrate domain '%s' to "
                                  "'%s': %s",
                                  out->dom->name, out->answer->migrate_uri, error->message));
        vd_mig_out_unref(out);
        return;
    }
    out->migrating = TRUE;
    out->stream_begun = TRUE;
    vd_mig_out_record(out, VD_MIG_PHASE_PERFORM);
    if (vd_mig_out_abort_requested(out))
        vd_qmp_command(out->dom->qmp, "migrate_cancel", NULL, NULL, NULL);
    else if (out->postcopy_pending)
        start_postcopy(out);
    out->poll = g_timeout_add(POLL_MS, poll_tick, out);
    if (out->params.timeout_s)
        out->timer = g_timeout_add_seconds(out->params.timeout_s, timed_out, out);
    vd_mig_out_unref(out);
}

static void start_ram(gpointer data);

static void
mirrors_ready(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    if (!vd_mig_out_step(out, error, FALSE))
        return;
    (void)dom;
    /* Test seam: the disks in sync, RAM not moving yet. */
    vd_migration_hold(out->d, "source-mirrors-ready", start_ram, out);
}

static void
start_ram(gpointer data)
{
    VdMigrationOut *out = data;
    VdDomainObj *dom = out->dom;
    if (!vd_mig_out_step(out, NULL, TRUE))
        return;
    if (!dom->qmp) {
        vd_mig_out_fail(out, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: domain '%s' stopped while it was migrated",
                                  dom->name));
        vd_mig_out_unref(out);
        return;
    }
    vd_qmp_command(dom->qmp, "migrate", vd_qemu_migrate_args(out->answer->migrate_uri),
                   migrate_started, out);
}

static void
setup_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationOut *out = data;
    (void)qmp;
    (void)result;
    if (error && !out->ended && !out->settling)
        vd_mig_out_fail(out, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: QEMU refused the migration settings of "
                                  "domain '%s': %s",
                                  out->dom->name, error->message));
    vd_mig_out_unref(out);
}

typedef struct {
    VdMigrationOut *out;
    char *dir;
} TlsAdd;

/* QEMU has read the credentials (or refused them): the links go. */
static void
tls_added(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    TlsAdd *t = data;
    VdMigrationOut *out = t->out;
    (void)qmp;
    (void)result;
    vd_migration_tls_dir_remove(t->dir);
    if (error && !out->ended && !out->settling)
        vd_mig_out_fail(out, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                         "operation failed: QEMU refused this daemon's TLS "
                                         "credentials for the migration of '%s': %s",
                                         out->dom->name, error->message));
    vd_mig_out_unref(out);
    g_free(t->dir);
    g_free(t);
}

/* The host of "tcp:HOST:PORT" ([IPv6] without its brackets): the name
 * the destination's certificate must carry. */
static char *
uri_host(const char *uri)
{
    const char *h = g_str_has_prefix(uri, "tcp:") ? uri + 4 : uri;
    const char *colon = strrchr(h, ':');
    if (!colon)
        return g_strdup(h);
    if (h[0] == '[' && colon > h && colon[-1] == ']')
        return g_strndup(h + 1, (gsize)(colon - h - 2));
    return g_strndup(h, (gsize)(colon - h));
}

/* --tls: the source is the client end of QEMU's TLS stream. FALSE: the
 * flow has failed (its reference dropped). */
static gboolean
tls_setup(VdMigrationOut *out)
{
    VdDomainObj *dom = out->dom;
    g_autoptr(GError) e = NULL;
    char *dir = vd_migration_tls_dir_make(out->d, out->offer->id, FALSE, &e);
    if (!dir) {
        vd_mig_out_fail(out, g_steal_pointer(&e));
        vd_mig_out_unref(out);
        return FALSE;
    }
    /* An earlier --tls migration's object, if any, goes first. */
    JsonObject *del = json_object_new();
    json_object_set_string_member(del, "id", VD_QEMU_MIGRATION_TLS_ID);
    vd_qmp_command(dom->qmp, "object-del", del, NULL, NULL);
    TlsAdd *t = g_new0(TlsAdd, 1);
    t->out = vd_mig_out_ref(out);
    t->dir = dir;
    vd_qmp_command(dom->qmp, "object-add",
                   vd_qemu_migration_tls_object_args(VD_QEMU_MIGRATION_TLS_ID, dir, FALSE),
                   tls_added, t);
    g_autofree char *host = uri_host(out->answer->migrate_uri);
    vd_qmp_command(dom->qmp, "migrate-set-parameters",
                   vd_qemu_migration_tls_params_args(VD_QEMU_MIGRATION_TLS_ID, host), setup_reply,
                   vd_mig_out_ref(out));
    return TRUE;
}

void
vd_mig_out_perform(gpointer data)
{
    VdMigrationOut *out = data;
    VdDomainObj *dom = out->dom;
    if (!vd_mig_out_step(out, NULL, TRUE))
        return;
    if (out->params.offline) {
        if (out->params.copy_storage != VD_MIGRATE_COPY_NONE) {
            /* The disks' bytes first, then finish defines it there. */
            vd_migration_storage_upload(out->d, dom, out->remote, out->offer, vd_mig_out_mirrors_done, out);
            return;
        }
        vd_mig_out_send_finish(out);
        vd_mig_out_unref(out);
        return;
    }
    if (!dom->qmp || !vd_state_is_active(dom->state)) {
        vd_mig_out_fail(out, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "operation failed: domain '%s' stopped while it was migrated",
                                  dom->name));
        vd_mig_out_unref(out);
        return;
    }
    if (out->params.tls && !tls_setup(out))
        return;
    VdMigration *m = vd_migration_get(dom);
    guint64 bw = out->params.bandwidth_mib ? out->params.bandwidth_mib : m->speed_mib;
    /* QMP answers in order: a refusal of either fails the flow before
     * "migrate" is answered. */
    vd_qmp_command(dom->qmp, "migrate-set-capabilities",
                   vd_qemu_migration_caps_args(out->params.postcopy, out->params.auto_converge,
                                               FALSE),
                   setup_reply, vd_mig_out_ref(out));
    vd_qmp_command(dom->qmp, "migrate-set-parameters",
                   vd_qemu_migration_params_args(m->max_downtime_ms, bw), setup_reply,
                   vd_mig_out_ref(out));
    out->mirroring = out->params.copy_storage != VD_MIGRATE_COPY_NONE;
    vd_migration_storage_mirror_start(out->d, dom, out->answer, out->params.copy_storage,
                                      mirrors_ready, out);
}

gboolean
vd_migration_source_postcopy(VdDomainObj *dom, GError **error)
{
    VdMigrationOut *out = vd_migration_out(dom);
    if (!out || out->ended || out->params.offline) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: post-copy can only be started while "
                    "outgoing migration is in progress");
        return FALSE;
    }
    if (!out->params.postcopy) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: switching to post-copy requires "
                    "migration to be started with the --postcopy flag");
        return FALSE;
    }
    if (out->stream_done || out->settling) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: the migration of domain '%s' is %s",
                    dom->name, out->settling ? "being cancelled" : "completing already");
        return FALSE;
    }
    /* Before QEMU streams, the switch waits for "migrate" to be
     * accepted (migrate_started). */
    out->postcopy_pending = TRUE;
    if (out->migrating)
        start_postcopy(out);
    return TRUE;
}
