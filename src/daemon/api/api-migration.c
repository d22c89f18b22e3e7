/* The API's migration routes (docs/api.md, "Migration").
 *
 * Source side, under /v1/domains/D/:
 *   POST migrate                 {params}: vsh migrate (the whole flow); answers when the
 *                                migration is over, {"domain": summary}
 *   GET/PUT migration-params     {"max_downtime_ms", "speed_mib"}
 *   POST migration-postcopy      switch the migration in flight to post-copy
 *
 * Destination side (called by the source daemon), /v1/migrations/:
 *   GET  identity                {"instance": UUID, "host": NAME, "cpu": {...}}
 *   POST (collection)            {offer}: prepare; answers {answer}
 *   POST ID/finish               {"ok": bool, "stats": {...}}: resume it here, or drop it
 *                                (stats: the source's figures, for domjobinfo --completed)
 *   POST ID/abort                drop the incoming domain
 *   GET  ID                      {"phase": ..., "state": ...}: for recovery
 *   PUT  ID/disks/TARGET         offline --copy-storage-all: the disk's bytes
 *                                (migration-storage.c's, routed by the storage work) */
#include "api-internal.h"

#include "daemon/host-ready.h"
#include "daemon/migration/migration-flow.h"
#include "util/vd-error.h"

/* ---- source side ---------------------------------------------------------- */

/* QEMU before 9.0 loses guest writes made while it copies a running TCG
 * guest's memory: its dirty-bitmap fast path does not reset TCG's software
 * TLB (QEMU commit 03bfc2188f). The guest may crash on the destination
 * seconds later; the user hears it from us, not from the guest's oops.
 * docs/migration.md, "Limit: TCG guests can crash after a live migration". */
static char *
tcg_live_copy_warning(VdDaemon *d, const VdDomainObj *dom, const VdMigrateParams *params)
{
    vd_host_ready_wait_caps(d);
    const VdDomainDef *def = dom->live ? dom->live : dom->def;
    if (params->offline || dom->state != VD_STATE_RUNNING || !def ||
        def->virt_type != VD_VIRT_QEMU || !d->caps || d->caps->version_major >= 9)
        return NULL;
    return g_strdup_printf("domain '%s' was copied while running under TCG (type 'qemu') with "
                           "QEMU %u.%u, which can lose guest writes during a live migration "
                           "(fixed in QEMU 9.0): if the guest misbehaves on the destination, "
                           "restart it there; to avoid it, suspend the domain before migrating "
                           "(docs/migration.md)",
                           dom->name, d->caps->version_major, d->caps->version_minor);
}

typedef struct {
    VdApiRequest *req;
    char *warning; /* tcg_live_copy_warning()'s, or NULL */
} MigrateCall;

static void
migrated(VdDomainObj *dom, const GError *error, gpointer data)
{
    MigrateCall *call = data;
    if (error) {
        vd_api_reply_error(call->req, error);
    } else if (!call->warning) {
        vd_api_reply_domain(call->req, 200, dom);
    } else {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(GPtrArray) warnings = g_ptr_array_new();
        g_ptr_array_add(warnings, call->warning);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "domain");
        vd_api_add_domain_summary(b, dom);
        vd_api_add_warnings(b, warnings);
        json_builder_end_object(b);
        vd_api_reply_json(call->req, 200, json_builder_get_root(b));
    }
    g_free(call->warning);
    g_free(call);
}

static void
handle_migrate(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    VdMigrateParams params = {0};
    if (error || !vd_migrate_params_from_json(body, &params, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (!params.dest_uri || !*params.dest_uri) {
        vd_migrate_params_clear(&params);
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"dest_uri\": the destination daemon's URI");
        vd_api_reply_error(req, error);
        return;
    }
    MigrateCall *call = g_new0(MigrateCall, 1);
    call->req = req;
    call->warning = tcg_live_copy_warning(req->d, dom, &params);
    vd_api_pause(req);
    vd_migration_start(req->d, dom, &params, migrated, call);
    vd_migrate_params_clear(&params);
}

static void
reply_params(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    guint64 ms = 0, speed = 0;
    gboolean have_ms = vd_migration_get_max_downtime(req->d, dom, &ms, &error);
    if (!vd_migration_get_speed(req->d, dom, &speed, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (have_ms)
        vd_api_add_int(b, "max_downtime_ms", (gint64)ms);
    vd_api_add_int(b, "speed_mib", (gint64)speed);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b)); /* takes the node */
}

static gboolean
body_u64(JsonObject *body, const char *name, guint64 *out, gboolean *given, GError **error)
{
    JsonNode *n = body ? json_object_get_member(body, name) : NULL;
    *given = n != NULL;
    if (!n)
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: \"%s\" must be a positive integer", name);
        return FALSE;
    }
    *out = (guint64)json_node_get_int(n);
    return TRUE;
}

static void
handle_set_params(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    guint64 ms = 0, speed = 0;
    gboolean has_ms = FALSE, has_speed = FALSE;
    if (error || !body_u64(body, "max_downtime_ms", &ms, &has_ms, &error) ||
        !body_u64(body, "speed_mib", &speed, &has_speed, &error) ||
        (has_ms && !vd_migration_set_max_downtime(req->d, dom, ms, &error)) ||
        (has_speed && !vd_migration_set_speed(req->d, dom, speed, &error))) {
        vd_api_reply_error(req, error);
        return;
    }
    reply_params(req, dom);
}

gboolean
vd_api_domain_migration_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    g_autoptr(GError) error = NULL;
    if (req->nsegments != 3)
        return FALSE;
    const char *what = req->segments[2];
    gboolean get = g_str_equal(method, "GET"), post = g_str_equal(method, "POST");
    gboolean put = g_str_equal(method, "PUT");
    if (g_str_equal(what, "migrate")) {
        if (!post)
            vd_api_reply_not_allowed(req, method);
        else
            handle_migrate(req, dom);
        return TRUE;
    }
    if (g_str_equal(what, "migration-params")) {
        if (get)
            reply_params(req, dom);
        else if (put)
            handle_set_params(req, dom);
        else
            vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    if (g_str_equal(what, "migration-postcopy")) {
        if (!post)
            vd_api_reply_not_allowed(req, method);
        else if (!vd_migration_start_postcopy(req->d, dom, &error))
            vd_api_reply_error(req, error);
        else
            vd_api_reply_domain(req, 200, dom);
        return TRUE;
    }
    return FALSE;
}

/* ---- destination side ------------------------------------------------------ */

static void
answered(JsonNode *answer, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    /* vd_api_reply_json takes the node; @answer is borrowed. */
    if (answer) {
        vd_api_reply_json(req, 200, json_node_copy(answer));
        return;
    }
    JsonObject *empty = json_object_new();
    JsonNode *node = json_node_init_object(json_node_alloc(), empty);
    json_object_unref(empty);
    vd_api_reply_json(req, 200, node);
}

/* The host name the source reached us by, without its port. */
static char *
request_host(VdApiRequest *req)
{
    const char *host = soup_message_headers_get_one(
        soup_server_message_get_request_headers(req->msg), "Host");
    if (!host)
        return NULL;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        return end ? g_strndup(host + 1, (gsize)(end - host - 1)) : NULL;
    }
    const char *colon = strchr(host, ':');
    return colon ? g_strndup(host, (gsize)(colon - host)) : g_strdup(host);
}

static void
handle_prepare(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    if (!body && !error)
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: prepare needs the migration offer as its body");
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), body);
    VdMigrationOffer *offer = vd_migration_offer_from_json(node, &error);
    if (!offer) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autofree char *host = request_host(req);
    vd_api_pause(req);
    vd_migration_dest_prepare(req->d, offer, host, answered, req);
}

static void
handle_finish(VdApiRequest *req, const char *id, gboolean is_abort)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = FALSE;
    g_autoptr(JsonObject) body = NULL;
    JsonObject *stats = NULL;
    if (!is_abort) {
        body = vd_api_body_json(req, &error);
        if (error || !vd_api_body_bool(body, "ok", &ok, &error)) {
            vd_api_reply_error(req, error);
            return;
        }
        /* The source's figures of the stream (optional). */
        JsonNode *n = body ? json_object_get_member(body, "stats") : NULL;
        if (n && JSON_NODE_HOLDS_OBJECT(n))
            stats = json_node_get_object(n);
    }
    vd_api_pause(req);
    vd_migration_dest_finish(req->d, id, ok, stats, answered, req);
}

void
vd_api_migrations_dispatch(VdApiRequest *req, const char *method)
{
    g_autoptr(GError) error = NULL;
    gboolean get = g_str_equal(method, "GET"), post = g_str_equal(method, "POST");
    if (req->nsegments == 1) {
        if (post)
            handle_prepare(req);
        else
            vd_api_reply_not_allowed(req, method);
        return;
    }
    const char *id = req->segments[1];
    if (req->nsegments == 4 && g_str_equal(req->segments[2], "disks")) {
        if (!g_str_equal(method, "PUT"))
            vd_api_reply_not_allowed(req, method);
        else
            vd_api_migration_disk(req); /* api-migration-disk.c */
        return;
    }
    if (req->nsegments == 2 && g_str_equal(id, "identity")) {
        if (!get) {
            vd_api_reply_not_allowed(req, method);
            return;
        }
        vd_api_reply_json(req, 200, vd_migration_identity(req->d));
        return;
    }
    if (req->nsegments == 2) {
        if (!get) {
            vd_api_reply_not_allowed(req, method);
            return;
        }
        JsonNode *node = vd_migration_dest_query(req->d, id, &error);
        if (!node)
            vd_api_reply_error(req, error);
        else
            vd_api_reply_json(req, 200, g_steal_pointer(&node)); /* it takes the node */
        return;
    }
    if (req->nsegments == 3 &&
        (g_str_equal(req->segments[2], "finish") || g_str_equal(req->segments[2], "abort"))) {
        if (!post)
            vd_api_reply_not_allowed(req, method);
        else
            handle_finish(req, id, g_str_equal(req->segments[2], "abort"));
        return;
    }
    g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no such resource '%s'",
                g_uri_get_path(soup_server_message_get_uri(req->msg)));
    vd_api_reply_error(req, error);
}
