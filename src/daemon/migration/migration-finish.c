/* The destination's finish and abort, the queries the source (and its
 * recovery) make, and the hooks of an incoming domain (migration-in.h).
 * finish{ok} waits for QEMU's stream to be complete (or in post-copy),
 * defines the domain with --persistent, and lets the held start "cont";
 * finish{!ok} and abort destroy the incoming QEMU (the transient domain
 * leaves with it) or undefine an offline one. */
#include "migration-in.h"

#include <string.h>

#include "util/vd-error.h"

/* How often QEMU's incoming stream is asked for its status while finish
 * waits (its MIGRATION events usually answer first). */
#define FINISH_POLL_MS 20
/* How long finish waits for the incoming stream to end (completed, or in
 * post-copy) once the source said its own stream is done: less than the
 * source's 120 s for our answer (migration-peer.c), so that it gets a
 * reason rather than a timeout. VIRTD_MIGRATION_FINISH_TIMEOUT (seconds)
 * overrides it. */
#define FINISH_STREAM_TIMEOUT_S 60
/* How many failed incoming migrations' reasons are kept, and how many of
 * the last lines QEMU wrote an abort's answer carries. */
#define FAILURES_KEPT 16
#define QEMU_SAID_LINES 3

/* ---- why it failed here ----------------------------------------------- */

/* id -> reason, the oldest first in failures_order. */
static GHashTable *failures;
static GQueue failures_order = G_QUEUE_INIT;

void
vd_mig_in_remember_failure(const char *id, const char *reason)
{
    if (!failures)
        failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!g_hash_table_contains(failures, id))
        g_queue_push_tail(&failures_order, g_strdup(id));
    g_hash_table_replace(failures, g_strdup(id), g_strdup(reason));
    while (g_queue_get_length(&failures_order) > FAILURES_KEPT) {
        g_autofree char *old = g_queue_pop_head(&failures_order);
        g_hash_table_remove(failures, old);
    }
}

static const char *
failure_of(const char *id)
{
    return failures ? g_hash_table_lookup(failures, id) : NULL;
}

/* The last lines QEMU itself wrote to the domain's log since its start
 * ("load of migration failed: ..."), without the argv and the notes the
 * daemon writes there; NULL if none. */
char *
vd_mig_in_qemu_said(VdMigrationIn *in)
{
    g_autofree char *path = vd_paths_domain_log(in->d->paths, in->dom->name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    const char *start = g_strrstr(text, ": starting up\n");
    start = start ? strchr(start, '\n') + 1 : text;
    g_auto(GStrv) lines = g_strsplit(start, "\n", -1);
    g_autoptr(GPtrArray) said = g_ptr_array_new();
    for (char **l = lines; *l; l++)
        if (**l && !g_str_has_prefix(*l, "  "))
            g_ptr_array_add(said, *l);
    if (!said->len)
        return NULL;
    guint first = said->len > QEMU_SAID_LINES ? said->len - QEMU_SAID_LINES : 0;
    GString *out = g_string_new(NULL);
    for (guint i = first; i < said->len; i++)
        g_string_append_printf(out, "%s%s", out->len ? "; " : "",
                               (const char *)g_ptr_array_index(said, i));
    return g_string_free(out, FALSE);
}

static void
set_not_found(GError **error, const char *id)
{
    const char *why = failure_of(id);
    if (why)
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no incoming migration with id '%s' on this daemon: it failed here: %s", id,
                    why);
    else
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no incoming migration with id '%s' on this daemon (it ended, or never "
                    "began)",
                    id);
}

/* ---- finish and abort ------------------------------------------------- */

static VdMigrationIn *
find_in(VdDaemon *d, const char *id)
{
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        VdMigrationIn *in = vd_migration_in(dom);
        if (in && !in->ended && g_strcmp0(in->offer->id, id) == 0)
            return in;
    }
    return NULL;
}

static void
destroyed(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    (void)dom;
    if (error)
        g_warning("incoming migration of '%s': destroying its QEMU: %s", in->dom->name,
                  error->message);
    vd_mig_in_end(in, NULL);
    vd_mig_in_unref(in);
}

static void
abort_incoming(VdMigrationIn *in)
{
    VdDomainObj *dom = in->dom;
    in->aborting = TRUE;
    g_clear_handle_id(&in->poll, g_source_remove);
    vd_mig_in_record(in, VD_MIG_PHASE_CANCELLED);
    if (in->offer->params.offline) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdDomainDef) previous =
            in->previous_xml ? vd_domain_def_new_from_stored_xml(in->previous_xml, -1, &error)
                             : NULL;
        if (previous) {
            /* It was defined here before: its own definition comes back. */
            if (vd_domain_list_define(in->d->domains, previous, &error))
                previous = NULL; /* taken */
        } else if (!error && dom->persistent) {
            vd_domain_list_undefine(in->d->domains, dom, &error);
        }
        if (error)
            g_warning("incoming migration of '%s': %s", dom->name, error->message);
        vd_mig_in_end(in, NULL);
        return;
    }
    if (!vd_state_is_active(dom->state) && !in->load) {
        vd_mig_in_end(in, NULL);
        return;
    }
    /* The start held in load() fails once QEMU is gone (start_done). */
    vd_domain_destroy(in->d, dom, destroyed, vd_mig_in_ref(in));
}

static void stream_check(VdMigrationIn *in);

/* The NBD server is stopped (or there was none): "cont" may activate the
 * disks now. An abort that came meanwhile has failed the start already. */
static void
exports_stopped(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    (void)dom, (void)error;
    if (!in->aborting && !in->ended)
        vd_mig_in_load_answer(in, NULL); /* "cont", then start_done() answers finish */
    vd_mig_in_unref(in);
}

/* finish{ok}: the stream is complete (or in post-copy): run it here. */
static void
resume_here(VdMigrationIn *in)
{
    VdDomainObj *dom = in->dom;
    g_autoptr(GError) error = NULL;
    if (in->resuming)
        return; /* on its way (the NBD server stopping) */
    g_clear_handle_id(&in->poll, g_source_remove);
    if (in->offer->params.persistent) {
        const char *xml = in->offer->persistent_xml;
        g_autoptr(VdDomainDef) def =
            xml ? vd_mig_in_parse_def(xml, "persistent definition", &error)
                : vd_domain_def_copy(vd_domain_obj_def(dom));
        if (def && g_strcmp0(def->name, dom->name) == 0 && vd_domain_list_define(in->d->domains, def, &error))
            def = NULL; /* taken */
        else if (def && !error)
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: the persistent definition names '%s', not '%s'",
                        def->name, dom->name);
        if (error) {
            /* The guest still runs on the source: better not to take it
             * than to run it without the definition asked for. */
            vd_mig_in_answer_finish(in, error);
            abort_incoming(in);
            return;
        }
    }
    if (in->load) {
        in->load->base.running_reason = g_strcmp0(in->stream_status, "completed") == 0
                                            ? VD_REASON_MIGRATED
                                            : VD_REASON_POSTCOPY;
    }
    /* The start's "cont" is ours: its RESUME is no user's resume. */
    dom->internal_transition++;
    in->resuming = TRUE;
    /* Copied disks: their exports go before QEMU activates the disks for
     * the guest at "cont" (late-block-activate), as libvirt's Finish. */
    vd_migration_storage_stop_exports(in->d, dom, exports_stopped, vd_mig_in_ref(in));
}

static void
stream_polled(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    (void)qmp;
    in->polling = FALSE;
    if (!in->ended && !error && result && JSON_NODE_HOLDS_OBJECT(result)) {
        const char *status = vd_migration_qmp_status(result, error);
        if (!in->stream_status || g_strcmp0(in->stream_status, status)) {
            g_free(in->stream_status);
            in->stream_status = g_strdup(status);
        }
        if (in->finishing && !in->aborting)
            stream_check(in);
    }
    vd_mig_in_unref(in);
}

static gboolean
poll_tick(gpointer data)
{
    VdMigrationIn *in = data;
    if (!in->polling && in->dom->qmp) {
        in->polling = TRUE;
        vd_qmp_command(in->dom->qmp, "query-migrate", NULL, stream_polled, vd_mig_in_ref(in));
    }
    return G_SOURCE_CONTINUE;
}

static gint64
finish_timeout_us(void)
{
    const char *env = g_getenv("VIRTD_MIGRATION_FINISH_TIMEOUT");
    gint64 s = env ? g_ascii_strtoll(env, NULL, 10) : 0;
    return (s > 0 ? s : FINISH_STREAM_TIMEOUT_S) * G_USEC_PER_SEC;
}

/* Post-copy broke off here before the guest ran (our "cont" waits for
 * finish): the source switched and stopped, pages are on both hosts.
 * Neither side runs it: QEMU stays, paused (post-copy failed), as on the
 * source, which gets the error as finish's answer and pauses the same
 * way (vd_mig_out_fail). The incoming migration ends; the domain stays. */
static void
postcopy_broke(VdMigrationIn *in, const char *status)
{
    VdDomainObj *dom = in->dom;
    g_clear_handle_id(&in->poll, g_source_remove);
    g_warning("incoming migration of '%s' (%s): post-copy broke off (QEMU's stream is %s); "
              "the guest stays paused here (paused (post-copy failed))",
              dom->name, in->offer->id, status);
    g_autoptr(GError) e = g_error_new(
        VD_ERROR, VD_ERROR_OPERATION_FAILED,
        "operation failed: post-copy migration of domain '%s' broke off on the destination "
        "(its incoming stream is %s): both hosts keep it paused (post-copy failed), its memory "
        "split between them, and neither can run it alone (QEMU cannot cancel a post-copy). "
        "virtd cannot resume a broken post-copy yet; to give the guest up: 'vsh destroy %s' "
        "on both hosts",
        dom->name, status, dom->name);
    in->postcopy_failed = TRUE;
    vd_mig_in_answer_finish(in, e);
    /* No "cont": the start ends paused; start_done() ends the migration. */
    in->load->base.paused_reason = VD_REASON_POSTCOPY_FAILED;
    vd_mig_in_load_answer(in, NULL);
}

/* Where finish stands: resume once the stream allows it, fail on its
 * failure or when it stops moving, else keep waiting. */
static void
stream_check(VdMigrationIn *in)
{
    const char *s = in->stream_status ? in->stream_status : "";
    gboolean postcopy = in->offer->params.postcopy;
    if (!in->load)
        return;
    if (g_str_equal(s, "completed") || (postcopy && g_str_equal(s, "postcopy-active"))) {
        resume_here(in);
    } else if (g_str_equal(s, "failed") || g_str_equal(s, "cancelled")) {
        GError *e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: the migration stream of '%s' failed on the "
                                "destination (%s); see its log",
                                in->dom->name, s);
        vd_mig_in_answer_finish(in, e);
        abort_incoming(in);
        g_error_free(e);
    } else if (postcopy && (g_str_equal(s, "postcopy-paused") ||
                            g_str_equal(s, "postcopy-recover"))) {
        postcopy_broke(in, s);
    } else if (g_get_monotonic_time() - in->finishing_since > finish_timeout_us()) {
        /* The source's stream is done and ours never ends (the link or
         * the source died with data in flight): the guest never ran here
         * and the source has it whole. Drop ours; the source resumes. */
        GError *e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: the migration stream of '%s' did not end on "
                                "the destination within %d s (it is %s); the destination "
                                "dropped its copy",
                                in->dom->name, (int)(finish_timeout_us() / G_USEC_PER_SEC),
                                *s ? s : "unknown");
        vd_mig_in_answer_finish(in, e);
        abort_incoming(in);
        g_error_free(e);
    } else if (!in->poll) {
        in->poll = g_timeout_add(FINISH_POLL_MS, poll_tick, in);
        poll_tick(in);
    }
}

static void
finish_go(gpointer data)
{
    VdMigrationIn *in = data;
    if (!in->ended && !in->aborting) {
        if (in->offer->params.offline) {
            vd_mig_in_end(in, NULL);
        } else if (!in->load) {
            g_autoptr(GError) e = g_error_new(
                VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "operation failed: the incoming domain '%s' is no longer waiting for its "
                "migration",
                in->dom->name);
            vd_mig_in_answer_finish(in, e);
        } else {
            in->finishing = TRUE;
            in->finishing_since = g_get_monotonic_time();
            stream_check(in);
        }
    }
    vd_mig_in_unref(in);
}

void
vd_migration_dest_finish(VdDaemon *d, const char *id, gboolean ok, JsonObject *stats,
                         VdMigrationReply reply, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    VdMigrationIn *in = find_in(d, id);
    if (!in) {
        set_not_found(&error, id);
        reply(NULL, error, user_data);
        return;
    }
    if (in->aborting) {
        /* Dropping it already: answered when that is done. */
        if (in->finish_reply) {
            g_set_error(&error, VD_ERROR, VD_ERROR_BUSY,
                        "the incoming migration '%s' is being aborted", id);
            reply(NULL, error, user_data);
            return;
        }
        in->finish_reply = reply;
        in->finish_data = user_data;
        return;
    }
    if (in->finish_reply || in->prepare_reply) {
        g_set_error(&error, VD_ERROR, VD_ERROR_BUSY,
                    "the incoming migration '%s' of domain '%s' is %s; try again when it has "
                    "answered",
                    id, in->dom->name, in->prepare_reply ? "being prepared" : "being finished");
        /* An abort wins over a finish in flight: the source gave up. */
        if (ok || in->prepare_reply) {
            reply(NULL, error, user_data);
            return;
        }
        vd_mig_in_answer_finish(in, error);
    }
    in->finish_reply = reply;
    in->finish_data = user_data;
    if (!ok) {
        abort_incoming(in);
        return;
    }
    if (stats) {
        if (in->source_stats)
            json_object_unref(in->source_stats);
        in->source_stats = json_object_ref(stats);
    }
    /* in->finishing (the stream's events and polls may resume the guest)
     * only once finish_go runs: not while the dest-finish test hold
     * stops here, or a late MIGRATION "completed" would resume it under
     * the hold, and finish_go then answer "no longer waiting" to a
     * source that resumes the guest too. */
    vd_mig_in_record(in, VD_MIG_PHASE_FINISHING);
    vd_migration_hold(d, "dest-finish", finish_go, vd_mig_in_ref(in));
}

JsonNode *
vd_migration_dest_query(VdDaemon *d, const char *id, GError **error)
{
    VdMigrationIn *in = find_in(d, id);
    if (!in) {
        set_not_found(error, id);
        return NULL;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, in->dom->name);
    json_builder_set_member_name(b, "phase");
    json_builder_add_string_value(b, vd_migration_phase_to_string(in->phase));
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, vd_state_to_string(in->dom->state));
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, vd_state_reason_to_string(in->dom->reason));
    json_builder_set_member_name(b, "stream");
    json_builder_add_string_value(b, in->stream_status ? in->stream_status : "");
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *
vd_migration_identity(VdDaemon *d)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "instance");
    json_builder_add_string_value(b, d->instance_uuid ? d->instance_uuid : "");
    json_builder_set_member_name(b, "host");
    json_builder_add_string_value(b, g_get_host_name());
    VdHostCpu *cpu = vd_host_cpu_read(NULL);
    if (cpu) {
        json_builder_set_member_name(b, "cpu");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "vendor");
        json_builder_add_string_value(b, cpu->vendor ? cpu->vendor : "");
        json_builder_set_member_name(b, "model_name");
        json_builder_add_string_value(b, cpu->model_name ? cpu->model_name : "");
        json_builder_end_object(b);
        vd_host_cpu_free(cpu);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* ---- hooks ------------------------------------------------------------ */

void
vd_migration_dest_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    if (!g_str_equal(event, "MIGRATION") || !data)
        return;
    const char *status = json_object_get_string_member_with_default(data, "status", "");
    VdMigrationIn *in = vd_migration_in(dom);
    /* QEMU's incoming stream in the log: a failure there is the first
     * thing to look for when the source's stream failed. */
    if (in && !g_str_equal(status, "setup") && !g_str_equal(status, "active"))
        g_info("incoming migration of '%s': QEMU's stream is %s", dom->name, status);
    if (!in) {
        /* After finish: a post-copy that completes here. */
        if (g_str_equal(status, "completed") && dom->state == VD_STATE_RUNNING &&
            dom->reason == VD_REASON_POSTCOPY) {
            vd_migration_set_state(d, dom, VD_STATE_RUNNING, VD_REASON_MIGRATED);
        }
        return;
    }
    g_free(in->stream_status);
    in->stream_status = g_strdup(status);
    if (in->finishing && !in->aborting && !in->ended)
        stream_check(in);
}

void
vd_migration_dest_stopped(VdDomainObj *dom)
{
    /* QEMU is gone under the incoming migration: the start ends with it
     * and its done, start_done(), ends the migration (and answers the
     * held load() afterwards). Nothing to do before. */
    (void)dom;
}
