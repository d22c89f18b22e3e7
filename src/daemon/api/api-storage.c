/* API handlers for /v1/pools and /v1/volumes (docs/api.md, "Storage").
 * Pool operations are quick and answer at once; volume operations run in
 * worker threads (storage-vol.c) and answer from their callback. The
 * volume data stream (PUT/GET .../data) is in api-storage-data.c. */
#include <string.h>

#include "daemon/access/access.h"
#include "daemon/api/api-storage.h"
#include "daemon/clone/clone.h"
#include "util/vd-error.h"

static void
add_pool(JsonBuilder *b, VdStoragePool *pool)
{
    vd_storage_pool_refresh_stats(pool);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, pool->def->name);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, pool->def->uuid);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, "dir");
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, pool->active ? "running" : "inactive");
    json_builder_set_member_name(b, "autostart");
    json_builder_add_boolean_value(b, pool->autostart);
    json_builder_set_member_name(b, "persistent");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_set_member_name(b, "target");
    json_builder_add_string_value(b, pool->def->target_path);
    json_builder_set_member_name(b, "capacity");
    json_builder_add_int_value(b, (gint64)pool->def->capacity);
    json_builder_set_member_name(b, "allocation");
    json_builder_add_int_value(b, (gint64)pool->def->allocation);
    json_builder_set_member_name(b, "available");
    json_builder_add_int_value(b, (gint64)pool->def->available);
    json_builder_end_object(b);
}

static void
reply_pool(VdApiRequest *req, guint status, VdStoragePool *pool)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "pool");
    add_pool(b, pool);
    json_builder_end_object(b);
    vd_api_reply_json(req, status, json_builder_get_root(b));
}

/* The members of one running operation, after "kind". */
static void
add_op_members(JsonBuilder *b, VdStorageOp *op)
{
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, op->kind);
    json_builder_set_member_name(b, "progress");
    json_builder_add_double_value(b, vd_storage_op_get_progress(op));
}

void
vd_api_add_volume(JsonBuilder *b, const VdStorageVolDef *vol, const char *pool,
                  VdStorage *storage)
{
    VdStorageOp *op = vd_storage_busy_lookup(storage, vol->path);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, vol->name);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, vol->path);
    json_builder_set_member_name(b, "key");
    json_builder_add_string_value(b, vol->key ? vol->key : vol->path);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, "file");
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, vol->format ? vol->format : "raw");
    json_builder_set_member_name(b, "capacity");
    json_builder_add_int_value(b, (gint64)vol->capacity);
    json_builder_set_member_name(b, "allocation");
    json_builder_add_int_value(b, (gint64)vol->allocation);
    if (vol->backing_path) {
        json_builder_set_member_name(b, "backing");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, vol->backing_path);
        if (vol->backing_format) {
            json_builder_set_member_name(b, "format");
            json_builder_add_string_value(b, vol->backing_format);
        }
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "pool");
    json_builder_add_string_value(b, pool);
    if (op) {
        json_builder_set_member_name(b, "operation");
        json_builder_begin_object(b);
        add_op_members(b, op);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
}

void
vd_api_storage_jobs(VdApiRequest *req)
{
    g_autoptr(GPtrArray) ops = vd_storage_ops_list(req->d->storage);
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "jobs");
    json_builder_begin_array(b);
    for (guint i = 0; i < ops->len; i++) {
        VdStorageOp *op = g_ptr_array_index(ops, i);
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(op->started_at / G_USEC_PER_SEC);
        g_autofree char *started = g_date_time_format_iso8601(t);
        json_builder_begin_object(b);
        add_op_members(b, op);
        json_builder_set_member_name(b, "pool");
        json_builder_add_string_value(b, op->pool);
        json_builder_set_member_name(b, "volume");
        json_builder_add_string_value(b, op->volume);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, op->path);
        json_builder_set_member_name(b, "started_at");
        json_builder_add_string_value(b, started);
        json_builder_set_member_name(b, "elapsed");
        json_builder_add_double_value(b, (double)(g_get_real_time() - op->started_at) /
                                             G_USEC_PER_SEC);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

void
vd_api_reply_volume(VdApiRequest *req, guint status, const VdStorageVolDef *vol, const char *pool)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "volume");
    vd_api_add_volume(b, vol, pool, req->d->storage);
    json_builder_end_object(b);
    vd_api_reply_json(req, status, json_builder_get_root(b));
}

/* ---- pools ---- */

static void
handle_pool_list(VdApiRequest *req)
{
    g_autoptr(GPtrArray) pools = vd_storage_list(req->d->storage);
    g_autoptr(JsonBuilder) b = vd_api_list_begin("pools");

    for (guint i = 0; i < pools->len; i++) {
        VdStoragePool *pool = g_ptr_array_index(pools, i);
        if (vd_api_list_wants(req, pool->active))
            add_pool(b, pool);
    }
    vd_api_list_reply(req, b);
}

static void
handle_pool_define(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vd_api_body_text(req, &error);
    VdStoragePoolDef *def = xml ? vd_storage_pool_def_parse(xml, &error) : NULL;
    /* A pool's directory becomes one whose files non-root clients may
     * name: such a client puts pools only where it may already. */
    if (def && !vd_access_check_pool_target(req->d, req->msg, def->name, def->target_path,
                                            &error))
        g_clear_pointer(&def, vd_storage_pool_def_free);
    VdStoragePool *pool = def ? vd_storage_define(req->d->storage, def, &error) : NULL;

    if (!pool) {
        vd_api_reply_error(req, error);
        return;
    }
    reply_pool(req, 201, pool);
}

static void
handle_pool_xml(VdApiRequest *req, VdStoragePool *pool)
{
    vd_storage_pool_refresh_stats(pool);
    g_autofree char *xml = vd_storage_pool_def_format(pool->def);
    vd_api_reply_text(req, 200, "application/xml", xml);
}

static gboolean
handle_pool_action(VdApiRequest *req, VdStoragePool *pool, const char *action, GError **error)
{
    VdStorage *s = req->d->storage;

    if (g_str_equal(action, "build"))
        return vd_storage_build(s, pool, error);
    if (g_str_equal(action, "start"))
        return vd_storage_start(s, pool, error);
    if (g_str_equal(action, "destroy"))
        return vd_storage_destroy(s, pool, error);
    /* refresh: a dir pool's volumes are read from the directory on every
     * listing, so there is nothing cached to refresh; it still tells the
     * caller whether the pool is usable. */
    return vd_storage_check_active(pool, error);
}

static gboolean
handle_pool_autostart(VdApiRequest *req, VdStoragePool *pool, GError **error)
{
    gboolean on = FALSE;

    return vd_api_body_autostart(req, &on, error) &&
           vd_storage_set_autostart(req->d->storage, pool, on, error);
}

/* ---- volumes: answers from worker threads ---- */

typedef struct {
    VdApiRequest *req;
    guint status;
    gboolean xml;
    char *pool;
} VolReply;

static VolReply *
vol_reply_new(VdApiRequest *req, guint status, gboolean xml, VdStoragePool *pool)
{
    VolReply *r = g_new0(VolReply, 1);
    r->req = req;
    r->status = status;
    r->xml = xml;
    r->pool = g_strdup(pool->def->name);
    vd_api_pause(req);
    return r;
}

static void
on_vol_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VolReply *r = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStorageVolDef) vol = vd_storage_vol_finish(r->req->d, res, &error);

    if (!vol) {
        vd_api_reply_error(r->req, error);
    } else if (r->xml) {
        g_autofree char *xml = vd_storage_vol_def_format(vol);
        vd_api_reply_text(r->req, 200, "application/xml", xml);
    } else {
        vd_api_reply_volume(r->req, r->status, vol, r->pool);
    }
    g_free(r->pool);
    g_free(r);
}

static void
on_vol_list_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VolReply *r = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) vols = vd_storage_vol_list_finish(r->req->d, res, &error);

    if (!vols) {
        vd_api_reply_error(r->req, error);
    } else {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "volumes");
        json_builder_begin_array(b);
        for (guint i = 0; i < vols->len; i++)
            vd_api_add_volume(b, g_ptr_array_index(vols, i), r->pool, r->req->d->storage);
        json_builder_end_array(b);
        json_builder_end_object(b);
        vd_api_reply_json(r->req, 200, json_builder_get_root(b));
    }
    g_free(r->pool);
    g_free(r);
}

/* A size member: a non-negative integer of bytes. */
static gboolean
body_size(JsonObject *body, const char *name, gboolean required, guint64 *out, gboolean *present,
          GError **error)
{
    JsonNode *node = body ? json_object_get_member(body, name) : NULL;

    if (present)
        *present = node != NULL;
    if (!node) {
        if (required)
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "\"%s\" (bytes) is required",
                        name);
        return !required;
    }
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
        json_node_get_int(node) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "\"%s\" must be a non-negative integer number of bytes", name);
        return FALSE;
    }
    *out = (guint64)json_node_get_int(node);
    return TRUE;
}

static gboolean
body_flag(JsonObject *body, const char *name)
{
    JsonNode *node = body ? json_object_get_member(body, name) : NULL;

    return node && JSON_NODE_HOLDS_VALUE(node) &&
           json_node_get_value_type(node) == G_TYPE_BOOLEAN && json_node_get_boolean(node);
}

/* The request of POST .../volumes: volume XML or JSON. */
static VdStorageVolDef *
vol_request(VdApiRequest *req, GError **error)
{
    const char *ct = soup_message_headers_get_content_type(
        soup_server_message_get_request_headers(req->msg), NULL);

    if (ct && g_str_has_suffix(ct, "/xml")) {
        g_autofree char *xml = vd_api_body_text(req, error);
        return xml ? vd_storage_vol_def_parse(xml, error) : NULL;
    }
    g_autoptr(JsonObject) body = vd_api_body_json(req, error);
    g_autoptr(VdStorageVolDef) vol = vd_storage_vol_def_new();
    if (!body) {
        if (error && !*error)
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "send {\"name\": ..., \"capacity\": BYTES} or volume XML");
        return NULL;
    }
    vol->name = g_strdup(vd_api_body_string(body, "name"));
    vol->format = g_strdup(vd_api_body_string(body, "format"));
    vol->backing_path = g_strdup(vd_api_body_string(body, "backing_vol"));
    vol->backing_format = g_strdup(vd_api_body_string(body, "backing_format"));
    if (!vol->name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "\"name\" is required");
        return NULL;
    }
    if (!body_size(body, "capacity", !vol->backing_path, &vol->capacity, NULL, error) ||
        !body_size(body, "allocation", FALSE, &vol->allocation, &vol->has_allocation, error))
        return NULL;
    return g_steal_pointer(&vol);
}

static void
handle_volumes(VdApiRequest *req, const char *method, VdStoragePool *pool)
{
    g_autoptr(GError) error = NULL;
    VdDaemon *d = req->d;
    guint n = req->nsegments;
    const char *vol = n >= 4 ? req->segments[3] : NULL;
    const char *op = n == 5 ? req->segments[4] : NULL;

    if (n == 3 && g_str_equal(method, "GET")) {
        vd_storage_vol_list_async(d, pool, on_vol_list_done, vol_reply_new(req, 200, FALSE, pool));
        return;
    }
    if (n == 3 && g_str_equal(method, "POST")) {
        VdStorageVolDef *def = vol_request(req, &error);
        if (def && def->backing_path && g_path_is_absolute(def->backing_path) &&
            !vd_access_check_path(d, req->msg, "backing volume", def->backing_path, &error))
            g_clear_pointer(&def, vd_storage_vol_def_free);
        if (!def) {
            vd_api_reply_error(req, error);
            return;
        }
        vd_storage_vol_create_async(d, pool, def, on_vol_done, vol_reply_new(req, 201, FALSE, pool));
        return;
    }
    if (n == 4 && g_str_equal(method, "GET")) {
        vd_storage_vol_get_async(d, pool, vol, on_vol_done, vol_reply_new(req, 200, FALSE, pool));
        return;
    }
    if (n == 4 && g_str_equal(method, "DELETE")) {
        g_autofree char *base = vd_storage_vol_existing_path(pool, vol, NULL);
        if (base && !vd_clone_check_backing_unused(d, base, &error)) {
            vd_api_reply_error(req, error);
            return;
        }
        vd_storage_vol_delete_async(d, pool, vol, on_vol_done, vol_reply_new(req, 200, FALSE, pool));
        return;
    }
    if (op && g_str_equal(op, "xml") && g_str_equal(method, "GET")) {
        vd_storage_vol_get_async(d, pool, vol, on_vol_done, vol_reply_new(req, 200, TRUE, pool));
        return;
    }
    if (op && g_str_equal(op, "data") && (g_str_equal(method, "GET") || g_str_equal(method, "PUT"))) {
        vd_api_storage_data(req, method, pool, vol);
        return;
    }
    if (op && (g_str_equal(op, "resize") || g_str_equal(op, "clone")) &&
        g_str_equal(method, "POST")) {
        g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
        if (error) {
            vd_api_reply_error(req, error);
            return;
        }
        if (g_str_equal(op, "clone")) {
            const char *name = vd_api_body_string(body, "name");
            if (!name) {
                g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "send {\"name\": NEW} to name the clone");
                vd_api_reply_error(req, error);
                return;
            }
            vd_storage_vol_clone_async(d, pool, vol, name, on_vol_done,
                                       vol_reply_new(req, 201, FALSE, pool));
            return;
        }
        guint64 capacity = 0;
        if (!body_size(body, "capacity", TRUE, &capacity, NULL, &error)) {
            vd_api_reply_error(req, error);
            return;
        }
        vd_storage_vol_resize_async(d, pool, vol, capacity, body_flag(body, "delta"),
                                    body_flag(body, "shrink"), on_vol_done,
                                    vol_reply_new(req, 200, FALSE, pool));
        return;
    }
    vd_api_reply_not_allowed(req, method);
}

static void
handle_volume_by_path(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    const char *path = req->query ? g_hash_table_lookup(req->query, "path") : NULL;
    g_autofree char *pool_name = NULL;
    g_autofree char *vol = NULL;

    if (!path || !vd_storage_find_volume_by_path(req->d, path, &pool_name, &vol)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_NO_VOLUME,
                    "Storage volume not found: no storage vol with matching path '%s'",
                    path ? path : "");
        vd_api_reply_error(req, error);
        return;
    }
    VdStoragePool *pool = vd_storage_lookup(req->d->storage, pool_name, NULL);
    vd_storage_vol_get_async(req->d, pool, vol, on_vol_done, vol_reply_new(req, 200, FALSE, pool));
}

void
vd_api_storage_dispatch(VdApiRequest *req, const char *method)
{
    g_autoptr(GError) error = NULL;
    guint n = req->nsegments;

    if (g_str_equal(req->segments[0], "volumes")) {
        if (n == 1 && g_str_equal(method, "GET"))
            handle_volume_by_path(req);
        else
            vd_api_reply_not_allowed(req, method);
        return;
    }
    if (n == 1) {
        vd_api_dispatch_collection(req, method, handle_pool_list, handle_pool_define);
        return;
    }
    VdStoragePool *pool = vd_storage_lookup(req->d->storage, req->segments[1], &error);
    if (!vd_api_check_found(req, pool, error))
        return;
    if (n >= 3 && g_str_equal(req->segments[2], "volumes")) {
        handle_volumes(req, method, pool);
        return;
    }
    const char *op = n == 3 ? req->segments[2] : NULL;
    gboolean ok;
    if (n == 2 && g_str_equal(method, "GET")) {
        reply_pool(req, 200, pool);
        return;
    } else if (n == 2 && g_str_equal(method, "DELETE")) {
        /* Answer with the summary as it was: the pool is gone after. */
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "pool");
        add_pool(b, pool);
        json_builder_end_object(b);
        g_autoptr(JsonNode) answer = json_builder_get_root(b);
        if (!vd_storage_undefine(req->d->storage, pool, &error)) {
            vd_api_reply_error(req, error);
            return;
        }
        vd_api_reply_json(req, 200, g_steal_pointer(&answer));
        return;
    } else if (op && g_str_equal(op, "xml") && g_str_equal(method, "GET")) {
        handle_pool_xml(req, pool);
        return;
    } else if (op && g_str_equal(method, "POST") &&
               (g_str_equal(op, "build") || g_str_equal(op, "start") ||
                g_str_equal(op, "destroy") || g_str_equal(op, "refresh"))) {
        ok = handle_pool_action(req, pool, op, &error);
    } else if (op && g_str_equal(op, "autostart") && g_str_equal(method, "PUT")) {
        ok = handle_pool_autostart(req, pool, &error);
    } else {
        vd_api_reply_not_allowed(req, method);
        return;
    }
    if (!ok)
        vd_api_reply_error(req, error);
    else
        reply_pool(req, 200, pool);
}
