/* The outgoing migration's begin and prepare (migration-out.h): the
 * checks, the offer (the XML the destination will run), the job and the
 * record; the destination opened (remote/), asked who it is, then asked to
 * prepare. */
#include "migration-out.h"

#include "remote/remote-uri.h"
#include "util/vd-error.h"

/* ---- begin and prepare -------------------------------------------------- */

static void
prepared(JsonNode *answer, const GError *error, gboolean http_answered, gpointer data)
{
    VdMigrationOut *out = data;
    g_autoptr(GError) e = NULL;
    if (!vd_mig_out_step(out, NULL, FALSE))
        return;
    if (error) {
        /* No answer at all: the destination may have begun an incoming
         * domain; abort it there too (not found is fine). */
        out->prepared = !http_answered;
        vd_mig_out_fail(out, g_error_copy(error));
        vd_mig_out_unref(out);
        return;
    }
    out->prepared = TRUE;
    out->answer = vd_migration_answer_from_json(answer, &e);
    if (out->answer && !out->params.offline && !out->answer->migrate_uri)
        g_set_error(&e, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: the destination %s named no address for the migration "
                    "stream",
                    out->params.dest_uri);
    if (e) {
        vd_mig_out_fail(out, g_steal_pointer(&e));
        vd_mig_out_unref(out);
        return;
    }
    for (guint i = 0; out->answer->warnings && i < out->answer->warnings->len; i++)
        g_info("migration of '%s': the destination says: %s", out->dom->name,
               (const char *)g_ptr_array_index(out->answer->warnings, i));
    vd_mig_out_record(out, VD_MIG_PHASE_PREPARED);
    vd_migration_hold(out->d, "source-prepared", vd_mig_out_perform, out);
}

static void
identified(JsonNode *answer, const GError *error, gboolean http_answered, gpointer data)
{
    VdMigrationOut *out = data;
    g_autoptr(GError) e = NULL;
    (void)http_answered;
    if (!vd_mig_out_step(out, error, FALSE))
        return;
    JsonObject *o = answer && JSON_NODE_HOLDS_OBJECT(answer) ? json_node_get_object(answer) : NULL;
    const char *instance = o ? json_object_get_string_member_with_default(o, "instance", "") : "";
    if (!vd_migration_check_peer(out->d, instance, &e)) {
        vd_mig_out_fail(out, g_steal_pointer(&e));
        vd_mig_out_unref(out);
        return;
    }
    if (vd_mig_out_abort_requested(out)) {
        vd_mig_out_fail(out, vd_mig_out_aborted_error());
        vd_mig_out_unref(out);
        return;
    }
    g_autoptr(JsonNode) body = vd_migration_offer_to_json(out->offer);
    vd_migration_peer_call(out->remote, "POST", "/v1/migrations", body, prepared, out);
}

static void
opened(GObject *source, GAsyncResult *res, gpointer data)
{
    VdMigrationOut *out = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    VdRemote *remote = vd_remote_open_finish(res, &error);
    if (!remote) {
        vd_mig_out_fail(out, g_steal_pointer(&error));
        vd_mig_out_unref(out);
        return;
    }
    out->remote = remote;
    if (!vd_mig_out_step(out, NULL, FALSE))
        return;
    vd_migration_peer_call(remote, "GET", "/v1/migrations/identity", NULL, identified, out);
}

/* The definition the destination gets: @xml (the live one, or --xml),
 * under --dname's name when given. */
static char *
dest_xml(const char *xml, const char *dname, const char *uuid, GError **error)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(VdDomainDef) def = vd_domain_def_new_from_xml(xml, -1, &e);
    if (!def) {
        g_set_error(error, VD_ERROR, e->domain == VD_ERROR ? e->code : VD_ERROR_XML, "%s",
                    e->message);
        return NULL;
    }
    if (g_strcmp0(def->uuid, uuid) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the XML given must keep the domain's UUID %s (it has %s)",
                    uuid, def->uuid);
        return NULL;
    }
    if (dname) {
        g_free(def->name);
        def->name = g_strdup(dname);
    }
    return vd_domain_def_format(def, VD_DOMAIN_FORMAT_SECURE);
}

/* The stream's host from --migrateuri tcp://HOST[:PORT], else the
 * destination URI's host (ssh, tls); NULL for a local socket. */
static char *
listen_host_of(const VdMigrateParams *p, const VdRemoteUri *dest, GError **error)
{
    if (p->migrate_uri) {
        g_autoptr(GUri) u = g_uri_parse(p->migrate_uri, G_URI_FLAGS_NONE, NULL);
        if (!u || g_strcmp0(g_uri_get_scheme(u), "tcp") != 0 || !g_uri_get_host(u) ||
            !*g_uri_get_host(u)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: migration URI '%s' is not tcp://HOST[:PORT]",
                        p->migrate_uri);
            return NULL;
        }
        return g_strdup(g_uri_get_host(u));
    }
    return g_strdup(dest->host);
}

static gboolean
build_offer(VdMigrationOut *out, const VdRemoteUri *dest, GError **error)
{
    VdDomainObj *dom = out->dom;
    const VdMigrateParams *p = &out->params;
    VdMigrationOffer *offer = g_new0(VdMigrationOffer, 1);
    out->offer = offer;
    offer->id = g_uuid_string_random();
    offer->source_instance = g_strdup(out->d->instance_uuid);
    offer->source_host = g_strdup(g_get_host_name());
    offer->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vd_migration_disk_free);
    offer->params = *p;
    offer->params.dest_uri = NULL;
    offer->params.migrate_uri = g_strdup(p->migrate_uri);
    offer->params.dname = g_strdup(p->dname);
    offer->params.xml = NULL;
    offer->params.persistent_xml = NULL;
    gboolean active = vd_state_is_active(dom->state) && dom->live;
    g_autofree char *current =
        p->xml ? g_strdup(p->xml)
               : vd_domain_def_format(active && !p->offline ? dom->live : vd_domain_obj_def(dom),
                                      VD_DOMAIN_FORMAT_SECURE);
    offer->xml = dest_xml(current, p->dname, dom->uuid, error);
    if (!offer->xml)
        return FALSE;
    if (p->persistent_xml) {
        offer->persistent_xml = dest_xml(p->persistent_xml, p->dname, dom->uuid, error);
        if (!offer->persistent_xml)
            return FALSE;
    } else if (p->persistent && dom->persistent && active && !p->xml) {
        /* The persistent definition goes as it is, not the live one
         * (libvirt keeps the two apart too). */
        g_autofree char *inactive =
            vd_domain_def_format(vd_domain_obj_def(dom), VD_DOMAIN_FORMAT_SECURE);
        offer->persistent_xml = dest_xml(inactive, p->dname, dom->uuid, error);
        if (!offer->persistent_xml)
            return FALSE;
    }
    if (!p->offline) {
        offer->listen_host = listen_host_of(p, dest, error);
        if (error && *error)
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_flags(VdDomainObj *dom, const VdMigrateParams *p, GError **error)
{
    gboolean active = vd_state_is_active(dom->state);
    if (p->offline && !p->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: offline migration must be specified with "
                    "the persistent flag set");
        return FALSE;
    }
    if (!p->offline && !active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running; migrate it with "
                    "--offline --persistent to move its definition");
        return FALSE;
    }
    if (p->offline && !dom->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot migrate a transient domain "
                    "offline: it has no definition to move");
        return FALSE;
    }
    if (p->postcopy_after_precopy && !p->postcopy) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: --postcopy-after-precopy needs --postcopy");
        return FALSE;
    }
    if (p->timeout_action == VD_MIGRATE_TIMEOUT_POSTCOPY && !p->postcopy) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: --timeout-postcopy needs --postcopy");
        return FALSE;
    }
    return TRUE;
}

void
vd_migration_start(VdDaemon *d, VdDomainObj *dom, const VdMigrateParams *params,
                   VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdRemoteUri) dest = NULL;

    if (!vd_domain_obj_check(dom, VD_OP_MIGRATE, &error) || !check_flags(dom, params, &error)) {
        done(dom, error, user_data);
        return;
    }
    dest = vd_remote_uri_parse(params->dest_uri ? params->dest_uri : "", &error);
    if (!dest) {
        done(dom, error, user_data);
        return;
    }
    VdMigrationOut *out = g_new0(VdMigrationOut, 1);
    out->refs = 1;
    out->d = d;
    out->dom = vd_domain_obj_ref(dom);
    out->params = *params;
    out->params.dest_uri = g_strdup(params->dest_uri);
    out->params.migrate_uri = g_strdup(params->migrate_uri);
    out->params.dname = g_strdup(params->dname);
    out->params.xml = g_strdup(params->xml);
    out->params.persistent_xml = g_strdup(params->persistent_xml);
    out->was_running = dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED;
    /* A paused domain stays paused there, as libvirt's virDomainMigrate*
     * adds VIR_MIGRATE_PAUSED when the source is paused: the user paused
     * it for a reason (docs/migration.md: a TCG guest moved safely). */
    if (!params->offline && dom->state == VD_STATE_PAUSED)
        out->params.suspend = TRUE;
    out->done = done;
    out->user_data = user_data;
    dom->daemon = d;

    if (!build_offer(out, dest, &error) ||
        !vd_migration_check_source(d, dom, &out->params, out->offer, &error)) {
        out->ended = TRUE;
        done(dom, error, user_data);
        vd_mig_out_unref(out);
        return;
    }
    dom->job = VD_JOB_MIGRATION_OUT;
    vd_migration_get(dom)->out = out; /* holds the first reference */
    vd_domain_async_job_begin(dom, "Outgoing migration",
                              params->offline ? VD_ASYNC_JOB_DAEMON : VD_ASYNC_JOB_MIGRATION,
                              NULL, TRUE);
    vd_mig_out_record(out, VD_MIG_PHASE_BEGIN);
    vd_remote_open_async(dest, d->tls_dir, NULL, opened, vd_mig_out_ref(out));
}
