/* The destination side (migration.h): the incoming migration's state,
 * prepare and the start; finish and abort are in migration-finish.c.
 *
 * Live: prepare defines the incoming domain transient and starts its QEMU
 * through vd_domain_start_restore() with "-incoming defer"; the start's
 * load() sets the migration capabilities, runs migrate-incoming on a port
 * the kernel picks and answers prepare with "tcp:HOST:PORT", then holds
 * the start (paused, "migrating") until the source's finish. finish{ok}
 * waits for QEMU's stream to be complete (or in post-copy), defines the
 * domain with --persistent, and lets the start "cont" ("running
 * (migrated)"); finish{!ok} or abort destroys that QEMU, and the transient
 * domain leaves the registry with it. The guest never runs here unless
 * the source said so.
 *
 * Offline: prepare defines the domain (shut off, carrying the incoming
 * job so that nothing starts it meanwhile); finish{ok} lets it go,
 * finish{!ok} undefines it again. */
#include "migration-in.h"

#include "util/vd-error.h"

VdMigrationIn *
vd_mig_in_ref(VdMigrationIn *in)
{
    in->refs++;
    return in;
}

void
vd_mig_in_unref(VdMigrationIn *in)
{
    if (--in->refs > 0)
        return;
    vd_migration_offer_free(in->offer);
    vd_migration_answer_free(in->answer);
    g_free(in->listen_host);
    g_free(in->advertised_host);
    g_free(in->stream_status);
    g_free(in->previous_xml);
    g_free(in->qemu_said);
    if (in->source_stats)
        json_object_unref(in->source_stats);
    g_ptr_array_unref(in->created);
    if (in->start_def)
        vd_domain_def_free(in->start_def);
    if (in->dom)
        vd_domain_obj_unref(in->dom);
    g_free(in);
}

VdMigrationIn *
vd_migration_in(VdDomainObj *dom)
{
    VdMigration *m = dom->migration;
    return m ? m->in : NULL;
}

void
vd_migration_shown_state(const VdDomainObj *dom, VdState *state, VdStateReason *reason)
{
    const VdMigration *m = dom->migration;
    const VdMigrationIn *in = m ? m->in : NULL;
    *state = dom->state;
    *reason = dom->reason;
    if (in && !in->ended && !in->offer->params.offline &&
        (dom->state == VD_STATE_SHUTOFF ||
         (dom->state == VD_STATE_PAUSED && dom->reason == VD_REASON_STARTING_UP))) {
        *state = VD_STATE_PAUSED;
        *reason = VD_REASON_MIGRATING;
    }
}

void
vd_migration_in_release(VdDomainObj *dom)
{
    VdMigration *m = dom->migration;
    if (m && m->in) {
        VdMigrationIn *in = g_steal_pointer(&m->in);
        vd_mig_in_unref(in);
    }
}

void
vd_mig_in_record(VdMigrationIn *in, VdMigrationPhase phase)
{
    g_autoptr(GError) error = NULL;
    if (in->phase != phase)
        g_info("incoming migration of '%s' (%s): %s", in->dom->name, in->offer->id,
               vd_migration_phase_to_string(phase));
    in->phase = phase;
    VdMigrationRecord rec = {
        .id = in->offer->id,
        .outgoing = FALSE,
        .phase = phase,
        .peer_uri = in->offer->source_host,
        .was_running = !in->offer->params.suspend,
        .offline = in->offer->params.offline,
        .persistent = in->offer->params.persistent,
        .undefine_source = in->offer->params.undefine_source,
        .domain_name = in->dom->name,
    };
    g_ptr_array_add(in->created, NULL);
    rec.created_files = (char **)in->created->pdata;
    if (!vd_migration_record_save(in->d, in->dom->name, &rec, &error))
        g_warning("incoming migration of '%s': %s", in->dom->name, error->message);
    g_ptr_array_remove_index(in->created, in->created->len - 1);
}

/* The source's figures of the stream (finish's "stats"): the incoming
 * QEMU knows none of them (its query-migrate has no downtime). */
static void
apply_stats(VdDomainAsyncJob *job, JsonObject *stats)
{
    struct {
        const char *key;
        guint64 *field;
    } f[] = {
        {"downtime_ms", &job->downtime_ms},       {"mem_total", &job->mem_total},
        {"mem_processed", &job->mem_processed},   {"mem_remaining", &job->mem_remaining},
        {"data_total", &job->data_total},         {"data_processed", &job->data_processed},
        {"data_remaining", &job->data_remaining},
    };
    for (guint i = 0; i < G_N_ELEMENTS(f); i++) {
        JsonNode *n = json_object_get_member(stats, f[i].key);
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64 &&
            json_node_get_int(n) >= 0)
            *f[i].field = (guint64)json_node_get_int(n);
    }
}

JsonObject *
vd_migration_job_stats(VdDomainObj *dom)
{
    JsonObject *o = json_object_new();
    VdDomainAsyncJob *job = dom->async_job;
    if (!job)
        return o;
    json_object_set_int_member(o, "downtime_ms", (gint64)job->downtime_ms);
    json_object_set_int_member(o, "mem_total", (gint64)job->mem_total);
    json_object_set_int_member(o, "mem_processed", (gint64)job->mem_processed);
    json_object_set_int_member(o, "mem_remaining", (gint64)job->mem_remaining);
    json_object_set_int_member(o, "data_total", (gint64)job->data_total);
    json_object_set_int_member(o, "data_processed", (gint64)job->data_processed);
    json_object_set_int_member(o, "data_remaining", (gint64)job->data_remaining);
    return o;
}

/* ---- answers ---------------------------------------------------------- */

static void
answer_prepare(VdMigrationIn *in, const GError *error)
{
    VdMigrationReply reply = g_steal_pointer(&in->prepare_reply);
    if (!reply)
        return;
    if (error) {
        reply(NULL, error, in->prepare_data);
        return;
    }
    g_autoptr(JsonNode) node = vd_migration_answer_to_json(in->answer);
    reply(node, NULL, in->prepare_data);
}

void
vd_mig_in_answer_finish(VdMigrationIn *in, const GError *error)
{
    VdMigrationReply reply = g_steal_pointer(&in->finish_reply);
    if (!reply)
        return;
    if (error) {
        reply(NULL, error, in->finish_data);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, in->offer->id);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, in->dom->name);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, vd_state_to_string(in->dom->state));
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, vd_state_reason_to_string(in->dom->reason));
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, !in->aborting);
    /* An abort: where QEMU's incoming stream stood and what QEMU said,
     * for the source's error (its own QEMU knows only that it failed). */
    json_builder_set_member_name(b, "stream");
    json_builder_add_string_value(b, in->stream_status ? in->stream_status : "");
    if (in->qemu_said) {
        json_builder_set_member_name(b, "qemu_said");
        json_builder_add_string_value(b, in->qemu_said);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) node = json_builder_get_root(b);
    reply(node, NULL, in->finish_data);
}

/* The copied disks' end here (@ok: kept; else the files prepare made go). */
static void
storage_finish(VdMigrationIn *in, gboolean ok)
{
    g_ptr_array_add(in->created, NULL);
    vd_migration_storage_finish(in->d, in->dom, ok, (char **)in->created->pdata);
    g_ptr_array_remove_index(in->created, in->created->len - 1);
    in->storage_prepared = FALSE;
}

/* A load() still unanswered when the start has already ended (QEMU gone
 * under it): answered from an idle callback, never from inside the
 * start's own done(), which still uses its op afterwards. */
static gboolean
release_load(gpointer data)
{
    VdMigrationIn *in = data;
    g_autoptr(GError) e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                      "operation failed: the incoming QEMU of '%s' ended",
                                      in->dom->name);
    vd_mig_in_load_answer(in, e);
    vd_mig_in_unref(in);
    return G_SOURCE_REMOVE;
}

/* The incoming migration is over, either way: nothing is left to settle
 * (the record goes), everyone waiting is answered. */
void
vd_mig_in_end(VdMigrationIn *in, const GError *error)
{
    VdDomainObj *dom = in->dom;
    if (in->ended)
        return;
    in->ended = TRUE;
    g_clear_handle_id(&in->poll, g_source_remove);
    if (error) {
        g_info("incoming migration of '%s' (%s) failed: %s", dom->name, in->offer->id,
               error->message);
        vd_mig_in_remember_failure(in->offer->id, error->message);
    }
    /* Aborted: QEMU is gone (destroyed, or ended by itself meanwhile), its
     * log complete; a load that failed says why there, for the source. */
    if (in->aborting && !in->offer->params.offline && !in->qemu_said)
        in->qemu_said = vd_mig_in_qemu_said(in);
    if (in->storage_prepared && (error || in->aborting)) {
        storage_finish(in, FALSE);
    }
    if (dom->job == VD_JOB_MIGRATION_IN)
        dom->job = VD_JOB_NONE;
    if (dom->async_job && !dom->async_job->ended_us &&
        g_str_equal(dom->async_job->operation, "Incoming migration")) {
        if (in->source_stats && error == NULL && !in->aborting)
            apply_stats(dom->async_job, in->source_stats);
        vd_domain_async_job_end(dom, error == NULL && !in->aborting);
    }
    vd_migration_record_remove(in->d, dom->name);
    vd_mig_in_ref(in);
    vd_migration_in_release(dom);
    if (in->prepare_reply && !error) {
        g_autoptr(GError) e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                          "operation failed: the incoming migration of '%s' was "
                                          "aborted while it was prepared",
                                          dom->name);
        answer_prepare(in, e);
    }
    answer_prepare(in, error);
    vd_mig_in_answer_finish(in, error);
    if (in->load)
        g_idle_add(release_load, vd_mig_in_ref(in));
    vd_domain_list_forget_if_gone(in->d->domains, dom);
    vd_mig_in_unref(in);
}

/* ---- the start (live) ------------------------------------------------- */

void
vd_mig_in_load_answer(VdMigrationIn *in, const GError *error)
{
    LoadOp *load = g_steal_pointer(&in->load);
    if (!load)
        return;
    VdStartRestoreDone done = load->done;
    load->done = NULL;
    done(in->dom, error, load->start);
}

static void
incoming_failed(VdMigrationIn *in, GError *error)
{
    /* The start fails with it: QEMU is killed, the transient domain
     * leaves, start_done() answers whoever waits. */
    if (in->load)
        vd_mig_in_load_answer(in, error);
    else
        vd_mig_in_end(in, error);
    g_error_free(error);
}

static void
storage_prepared(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    (void)dom;
    if (!in->ended && !in->aborting) {
        if (error) {
            incoming_failed(in, g_error_copy(error));
        } else {
            in->storage_prepared = TRUE;
            vd_mig_in_record(in, VD_MIG_PHASE_PREPARED);
            answer_prepare(in, NULL);
        }
    }
    vd_mig_in_unref(in);
}

static void
port_queried(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    (void)qmp;
    if (in->ended || in->aborting || !in->load) {
        vd_mig_in_unref(in);
        return;
    }
    guint port = error ? 0 : vd_qemu_migration_listen_port(result);
    if (!port) {
        incoming_failed(in, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "operation failed: the incoming QEMU of '%s' reports no "
                                        "port it listens on%s%s",
                                        in->dom->name, error ? ": " : "",
                                        error ? error->message : ""));
        vd_mig_in_unref(in);
        return;
    }
    in->answer->migrate_uri = vd_qemu_migration_tcp_uri(in->advertised_host, port);
    /* Copied disks: made before QEMU started (files_made); now exported. */
    vd_migration_storage_export(in->d, in->dom, in->listen_host, in->answer, storage_prepared, in);
}

static void
incoming_started(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    (void)result;
    if (in->ended || in->aborting || !in->load) {
        vd_mig_in_unref(in);
        return;
    }
    if (error) {
        incoming_failed(in, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "operation failed: QEMU cannot listen for the migration "
                                        "of '%s' on %s: %s",
                                        in->dom->name, in->listen_host, error->message));
        vd_mig_in_unref(in);
        return;
    }
    vd_qmp_command(qmp, "query-migrate", NULL, port_queried, in);
}

static void
caps_set(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    (void)qmp;
    (void)result;
    if (error && !in->ended && in->load)
        incoming_failed(in, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "operation failed: the incoming QEMU of '%s' refused the "
                                        "migration capabilities: %s",
                                        in->dom->name, error->message));
    vd_mig_in_unref(in);
}

typedef struct {
    VdMigrationIn *in;
    char *dir;
} TlsAdd;

/* QEMU has read the credentials (or refused them): the links go. */
static void
tls_added(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    TlsAdd *t = data;
    VdMigrationIn *in = t->in;
    (void)qmp;
    (void)result;
    vd_migration_tls_dir_remove(t->dir);
    if (error && !in->ended && in->load)
        incoming_failed(in, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "operation failed: the incoming QEMU of '%s' refused "
                                        "this daemon's TLS credentials: %s",
                                        in->dom->name, error->message));
    vd_mig_in_unref(in);
    g_free(t->dir);
    g_free(t);
}

/* The port --migrateuri tcp://HOST:PORT asked for, else 0. */
static guint
wanted_port(const VdMigrationOffer *offer)
{
    const char *uri = offer->params.migrate_uri;
    if (!uri)
        return 0;
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NONE, NULL);
    int port = u ? g_uri_get_port(u) : -1;
    return port > 0 ? (guint)port : 0;
}

static void
incoming_load(VdStartRestore *self, VdDomainObj *dom, VdStartRestoreDone done, gpointer start)
{
    LoadOp *load = (LoadOp *)self;
    VdMigrationIn *in = load->in;
    load->done = done;
    load->start = start;
    in->load = load;
    /* From here on the domain is the incoming migration's (the start's
     * own job ends at its "cont", which finish allows). */
    dom->job = VD_JOB_MIGRATION_IN;
    vd_migration_set_state(in->d, dom, VD_STATE_PAUSED, VD_REASON_MIGRATING);
    const VdMigrateParams *p = &in->offer->params;
    if (p->tls) {
        /* QEMU's stream in TLS: the destination is the server end. */
        g_autoptr(GError) e = NULL;
        char *dir = vd_migration_tls_dir_make(in->d, in->offer->id, TRUE, &e);
        if (!dir) {
            incoming_failed(in, g_steal_pointer(&e));
            return;
        }
        TlsAdd *t = g_new0(TlsAdd, 1);
        t->in = vd_mig_in_ref(in);
        t->dir = dir;
        vd_qmp_command(dom->qmp, "object-add",
                       vd_qemu_migration_tls_object_args(VD_QEMU_MIGRATION_TLS_ID, dir, TRUE),
                       tls_added, t);
        vd_qmp_command(dom->qmp, "migrate-set-parameters",
                       vd_qemu_migration_tls_params_args(VD_QEMU_MIGRATION_TLS_ID, NULL),
                       caps_set, vd_mig_in_ref(in));
    }
    vd_qmp_command(dom->qmp, "migrate-set-capabilities",
                   vd_qemu_migration_caps_args(p->postcopy, FALSE, TRUE), caps_set, vd_mig_in_ref(in));
    JsonObject *args = vd_qemu_migrate_incoming_args(in->listen_host);
    guint port = wanted_port(in->offer);
    if (port) {
        g_autofree char *uri = vd_qemu_migration_tcp_uri(in->listen_host, port);
        json_object_set_string_member(args, "uri", uri);
    }
    vd_qmp_command(dom->qmp, "migrate-incoming", args, incoming_started, vd_mig_in_ref(in));
}

static void
load_finish(VdStartRestore *self, VdDomainObj *dom, const GError *error)
{
    LoadOp *load = (LoadOp *)self;
    (void)dom;
    (void)error;
    if (load->in->load == load)
        load->in->load = NULL;
    vd_mig_in_unref(load->in);
    g_free(load);
}

static void
start_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    if (in->resuming && dom->internal_transition > 0)
        dom->internal_transition--;
    in->resuming = FALSE;
    if (!error && !in->aborting && in->postcopy_failed) {
        /* Paused (post-copy failed), never run here: the domain and its
         * copied disks stay for the operator; the migration failed. */
        if (in->storage_prepared)
            storage_finish(in, TRUE);
        g_autoptr(GError) e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                          "operation failed: post-copy migration of '%s' broke "
                                          "off; it stays paused (post-copy failed)",
                                          dom->name);
        vd_mig_in_end(in, e);
    } else if (!error && !in->aborting) {
        /* Running here (or paused with --suspend): the stream is complete,
         * or the guest runs in post-copy while the rest comes. */
        if (in->storage_prepared) {
            storage_finish(in, TRUE);
        }
        vd_mig_in_end(in, NULL);
    } else if (error && in->aborting) {
        vd_mig_in_end(in, NULL); /* the abort destroyed it, as asked */
    } else {
        vd_mig_in_end(in, error);
    }
    vd_mig_in_unref(in);
}

/* ---- prepare ---------------------------------------------------------- */

VdDomainDef *
vd_mig_in_parse_def(const char *xml, const char *what, GError **error)
{
    g_autoptr(GError) e = NULL;
    VdDomainDef *def = vd_domain_def_new_from_xml(xml, -1, &e);
    if (!def)
        g_set_error(error, VD_ERROR, e && e->domain == VD_ERROR ? e->code : VD_ERROR_XML,
                    "%s (the %s the source sent)", e ? e->message : "XML error", what);
    return def;
}

/* The name and UUID the offer brings, as libvirt takes them: free here,
 * or both those of one inactive domain defined here (a guest migrating
 * back: it runs under that definition, which --persistent replaces at
 * finish). *@existing gets that domain, else NULL. The checks say so
 * first, with more; this guards the registry itself. */
static gboolean
check_free(VdDaemon *d, const VdDomainDef *def, VdDomainObj **existing, GError **error)
{
    VdDomainObj *by_name = vd_domain_list_find_name(d->domains, def->name);
    VdDomainObj *by_uuid = vd_domain_list_find_uuid(d->domains, def->uuid);
    *existing = NULL;
    if (by_uuid && by_uuid != by_name) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "operation failed: domain '%s' is already defined with uuid %s on the "
                    "destination; undefine it there first",
                    by_uuid->name, by_uuid->uuid);
        return FALSE;
    }
    if (by_name && by_name != by_uuid) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "operation failed: domain '%s' already exists with uuid %s on the "
                    "destination; undefine it there first, or migrate under another name with "
                    "--dname",
                    by_name->name, by_name->uuid);
        return FALSE;
    }
    if (by_name && (vd_state_is_active(by_name->state) || by_name->job != VD_JOB_NONE ||
                    vd_migration_in(by_name))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' is already active on the "
                    "destination",
                    by_name->name);
        return FALSE;
    }
    *existing = by_name;
    return TRUE;
}

static const char *
any_address(const char *host)
{
    return g_strcmp0(host, "0.0.0.0") == 0 || g_strcmp0(host, "::") == 0 ||
                   g_strcmp0(host, "[::]") == 0
               ? host
               : NULL;
}

static VdMigrationIn *
in_new(VdDaemon *d, VdDomainObj *dom, VdMigrationOffer *offer)
{
    VdMigrationIn *in = g_new0(VdMigrationIn, 1);
    in->refs = 1;
    in->d = d;
    in->dom = vd_domain_obj_ref(dom);
    in->offer = offer;
    in->created = g_ptr_array_new_with_free_func(g_free);
    in->answer = g_new0(VdMigrationAnswer, 1);
    in->answer->id = g_strdup(offer->id);
    in->answer->dest_instance = g_strdup(d->instance_uuid);
    in->answer->nbd_disks = vd_migration_nbd_disks_new();
    in->answer->warnings = g_ptr_array_new_with_free_func(g_free);
    vd_migration_get(dom)->in = in; /* holds the first reference */
    return in;
}

static void
prepare_offline(VdDaemon *d, VdMigrationOffer *offer, VdMigrationReply reply, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    const char *xml = offer->persistent_xml ? offer->persistent_xml : offer->xml;
    g_autoptr(VdDomainDef) def = vd_mig_in_parse_def(xml, "persistent definition", &error);
    VdDomainObj *existing = NULL;
    if (!def || !check_free(d, def, &existing, &error)) {
        vd_migration_offer_free(offer);
        reply(NULL, error, user_data);
        return;
    }
    /* The definition it replaces (a domain migrating back), put back if
     * the migration is abandoned. */
    g_autofree char *previous =
        existing ? vd_domain_def_format(vd_domain_obj_def(existing), VD_DOMAIN_FORMAT_SECURE)
                 : NULL;
    VdDomainObj *dom = vd_domain_list_define(d->domains, def, &error);
    if (!dom) {
        vd_migration_offer_free(offer);
        reply(NULL, error, user_data);
        return;
    }
    def = NULL; /* taken */
    VdMigrationIn *in = in_new(d, dom, offer);
    in->previous_xml = g_steal_pointer(&previous);
    in->prepare_reply = reply;
    in->prepare_data = user_data;
    dom->job = VD_JOB_MIGRATION_IN;
    vd_mig_in_record(in, VD_MIG_PHASE_PREPARED);
    /* Offline --copy-storage-all: the disks are made now and filled by
     * the source's uploads before finish. */
    in->storage_prepared = TRUE;
    vd_migration_storage_prepare(d, dom, offer, NULL, in->created, in->answer, storage_prepared,
                                 vd_mig_in_ref(in));
}

/* Live: the copied disks are made (or there are none): QEMU starts. */
static void
files_made(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdMigrationIn *in = data;
    g_autoptr(VdDomainDef) def = g_steal_pointer(&in->start_def);
    if (in->ended || in->aborting) {
        vd_mig_in_unref(in);
        return;
    }
    vd_mig_in_record(in, VD_MIG_PHASE_PREPARED); /* the files made, for a restart */
    if (error) {
        vd_mig_in_end(in, error);
        vd_mig_in_unref(in);
        return;
    }
    LoadOp *load = g_new0(LoadOp, 1);
    load->base.incoming = TRUE;
    load->base.running_reason = VD_REASON_MIGRATED;
    load->base.load = incoming_load;
    load->base.finish = load_finish;
    load->in = vd_mig_in_ref(in);
    vd_domain_start_restore(in->d, dom, g_steal_pointer(&def), &load->base,
                            in->offer->params.suspend, start_done, in);
}

void
vd_migration_dest_prepare(VdDaemon *d, VdMigrationOffer *offer, const char *request_host,
                          VdMigrationReply reply, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdMigrationOffer) owned = offer;

    if (g_strcmp0(offer->source_instance, d->instance_uuid) == 0) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "internal error: Attempt to migrate guest to the same host: the source and "
                    "the destination are the same daemon (instance %s)",
                    d->instance_uuid);
        reply(NULL, error, user_data);
        return;
    }
    if (!vd_migration_check_dest(d, offer, &error)) {
        reply(NULL, error, user_data);
        return;
    }
    if (offer->params.offline) {
        prepare_offline(d, g_steal_pointer(&owned), reply, user_data);
        return;
    }
    g_autoptr(VdDomainDef) def = vd_mig_in_parse_def(offer->xml, "domain XML", &error);
    VdDomainObj *dom = NULL;
    if (!def || !check_free(d, def, &dom, &error)) {
        reply(NULL, error, user_data);
        return;
    }
    /* A domain defined here (inactive) runs the incoming guest under its
     * own object; otherwise a transient one, gone if the migration fails. */
    if (!dom)
        dom = vd_domain_list_add_transient(d->domains, vd_domain_def_copy(def), &error);
    if (!dom) {
        reply(NULL, error, user_data);
        return;
    }
    VdMigrationIn *in = in_new(d, dom, g_steal_pointer(&owned));
    in->prepare_reply = reply;
    in->prepare_data = user_data;
    /* Where QEMU listens: the host the source named (--migrateuri, or the
     * destination URI's), else --migration-host, else everywhere; the
     * source is told an address it can reach. */
    const char *listen = in->offer->listen_host ? in->offer->listen_host
                         : d->migration_host    ? d->migration_host
                                                : "0.0.0.0";
    in->listen_host = g_strdup(listen);
    if (!any_address(listen))
        in->advertised_host = g_strdup(listen);
    else if (request_host && *request_host && g_strcmp0(request_host, "localhost") != 0)
        in->advertised_host = g_strdup(request_host);
    else
        in->advertised_host = g_strdup(strchr(listen, ':') ? "::1" : "127.0.0.1");
    vd_mig_in_record(in, VD_MIG_PHASE_PREPARED);
    vd_domain_async_job_begin(dom, "Incoming migration", VD_ASYNC_JOB_MIGRATION, NULL, FALSE);
    /* Copied disks exist before QEMU opens them (migration-storage-dest.c);
     * from here on an abort removes what was made. */
    in->start_def = g_steal_pointer(&def);
    in->storage_prepared = TRUE;
    vd_migration_storage_prepare(d, dom, in->offer, in->listen_host, in->created, in->answer,
                                 files_made, vd_mig_in_ref(in));
}
