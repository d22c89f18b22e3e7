/* The API's snapshot routes under /v1/domains/D/ (docs/api.md):
 *
 *   GET    snapshots                      every snapshot (oldest first) and the current one
 *   POST   snapshots[?disk_only=1&no_metadata=1&halt=1&reuse_external=1&quiesce=1
 *                    &redefine=1&current=1]  body: <domainsnapshot> (may be empty);
 *                                         201 {"name": N}
 *   GET    snapshots/S                    one snapshot (the list's fields)
 *   GET    snapshots/S/xml                its XML (snapshot-dumpxml)
 *   PUT    snapshots/S/xml                snapshot-edit (the description)
 *   POST   snapshots/S/revert[?running=1&paused=1&force=1]
 *   DELETE snapshots/S[?children=1&children_only=1&metadata=1]
 *   GET    snapshot-current               {"current": N|null}
 *   PUT    snapshot-current               {"name": N}: make N current
 *
 * The flows are in daemon/snapshot/. */
#include "api-internal.h"

#include "daemon/access/access.h"
#include "daemon/snapshot/snapshot.h"
#include "util/vd-error.h"

static void
add_snapshot(JsonBuilder *b, VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *s)
{
    const char *current = vd_snapshot_current(d, dom);
    g_autoptr(GPtrArray) kids = vd_snapshot_children(d, dom, s->name);
    g_autoptr(GPtrArray) desc = vd_snapshot_descendants(d, dom, s->name);
    gboolean external = FALSE;

    for (guint i = 0; i < s->disks->len; i++)
        external |= ((VdSnapshotDiskDef *)s->disks->pdata[i])->snapshot == VD_SNAPSHOT_LOC_EXTERNAL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, s->name);
    json_builder_set_member_name(b, "description");
    if (s->description)
        json_builder_add_string_value(b, s->description);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, s->state ? s->state : "nostate");
    json_builder_set_member_name(b, "parent");
    if (s->parent)
        json_builder_add_string_value(b, s->parent);
    else
        json_builder_add_null_value(b);
    vd_api_add_int(b, "creation_time", s->creation_time);
    json_builder_set_member_name(b, "current");
    json_builder_add_boolean_value(b, g_strcmp0(current, s->name) == 0);
    json_builder_set_member_name(b, "location");
    json_builder_add_string_value(b, external ? "external" : "internal");
    json_builder_set_member_name(b, "children");
    json_builder_begin_array(b);
    for (guint i = 0; i < kids->len; i++)
        json_builder_add_string_value(b, ((VdSnapshotDef *)kids->pdata[i])->name);
    json_builder_end_array(b);
    vd_api_add_int(b, "descendants", desc->len);
    json_builder_end_object(b);
}

static void
handle_list(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GPtrArray) all = vd_snapshot_list(req->d, dom);
    const char *current = vd_snapshot_current(req->d, dom);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "snapshots");
    json_builder_begin_array(b);
    for (guint i = 0; i < all->len; i++)
        add_snapshot(b, req->d, dom, all->pdata[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "current");
    if (current)
        json_builder_add_string_value(b, current);
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
created(VdDomainObj *dom, const char *name, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    (void)dom;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, name);
    json_builder_end_object(b);
    vd_api_reply_json(req, 201, json_builder_get_root(b));
}

/* A non-root client's snapshot files (access/access.h): the overlays and
 * memory file it names; a redefined snapshot carries a whole <domain>
 * that a revert would run, so redefining is root's. A definition that
 * does not parse passes here: the create says what is wrong with it. */
static gboolean
snapshot_files_allowed(VdApiRequest *req, const char *xml, guint flags, GError **error)
{
    if ((flags & VD_SNAPSHOT_CREATE_REDEFINE) &&
        !vd_access_require(req->d, req->msg, "redefining a snapshot (its <domain> would run "
                                             "at a revert)",
                           error))
        return FALSE;
    g_autoptr(VdSnapshotDef) def = xml && *xml ? vd_snapshot_def_parse(xml, FALSE, NULL) : NULL;
    if (!def)
        return TRUE;
    if (!vd_access_check_path(req->d, req->msg, "snapshot memory file", def->memory_file, error))
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++) {
        const VdSnapshotDiskDef *disk = g_ptr_array_index(def->disks, i);
        g_autofree char *what = g_strdup_printf("snapshot file of disk '%s'", disk->name);
        if (!vd_access_check_path(req->d, req->msg, what, disk->source_file, error))
            return FALSE;
    }
    return TRUE;
}

static void
handle_create(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vd_api_body_text(req, &error);
    static const struct {
        const char *q;
        guint flag;
    } flags[] = {
        {"disk_only", VD_SNAPSHOT_CREATE_DISK_ONLY},
        {"no_metadata", VD_SNAPSHOT_CREATE_NO_METADATA},
        {"halt", VD_SNAPSHOT_CREATE_HALT},
        {"reuse_external", VD_SNAPSHOT_CREATE_REUSE_EXT},
        {"quiesce", VD_SNAPSHOT_CREATE_QUIESCE},
        {"redefine", VD_SNAPSHOT_CREATE_REDEFINE},
        {"current", VD_SNAPSHOT_CREATE_CURRENT},
    };
    guint f = 0;

    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    for (guint i = 0; i < G_N_ELEMENTS(flags); i++)
        if (vd_api_query_bool(req, flags[i].q))
            f |= flags[i].flag;
    if (!snapshot_files_allowed(req, xml, f, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_snapshot_create(req->d, dom, xml, f, created, req);
}

static void
op_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    vd_api_add_domain_summary(b, dom);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
handle_current(VdApiRequest *req, VdDomainObj *dom, gboolean put)
{
    g_autoptr(GError) error = NULL;
    if (put) {
        g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
        const char *name = vd_api_body_string(body, "name");
        if (!error && !name)
            vd_set_error(&error, VD_ERROR_INVALID_ARG, "the body needs {\"name\": SNAPSHOT}");
        if (error || !vd_snapshot_set_current(req->d, dom, name, &error)) {
            vd_api_reply_error(req, error);
            return;
        }
    }
    const char *current = vd_snapshot_current(req->d, dom);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "current");
    if (current)
        json_builder_add_string_value(b, current);
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
handle_one(VdApiRequest *req, VdDomainObj *dom, const char *name, const char *what,
           const char *method)
{
    g_autoptr(GError) error = NULL;
    gboolean get = g_str_equal(method, "GET"), post = g_str_equal(method, "POST");
    gboolean put = g_str_equal(method, "PUT"), del = g_str_equal(method, "DELETE");

    if (!what) {
        if (del) {
            guint f = 0;
            if (vd_api_query_bool(req, "children"))
                f |= VD_SNAPSHOT_DELETE_CHILDREN;
            if (vd_api_query_bool(req, "children_only"))
                f |= VD_SNAPSHOT_DELETE_CHILDREN_ONLY;
            if (vd_api_query_bool(req, "metadata"))
                f |= VD_SNAPSHOT_DELETE_METADATA_ONLY;
            vd_api_pause(req);
            vd_snapshot_delete(req->d, dom, name, f, op_done, req);
            return;
        }
        if (!get) {
            vd_api_reply_not_allowed(req, method);
            return;
        }
        const VdSnapshotDef *s = vd_snapshot_lookup(req->d, dom, name, &error);
        if (!s) {
            vd_api_reply_error(req, error);
            return;
        }
        g_autoptr(JsonBuilder) b = json_builder_new();
        add_snapshot(b, req->d, dom, s);
        vd_api_reply_json(req, 200, json_builder_get_root(b));
        return;
    }
    if (g_str_equal(what, "xml")) {
        if (put) {
            g_autofree char *xml = vd_api_body_text(req, &error);
            if (!xml || !vd_snapshot_edit(req->d, dom, name, xml, &error)) {
                vd_api_reply_error(req, error);
                return;
            }
        } else if (!get) {
            vd_api_reply_not_allowed(req, method);
            return;
        }
        const VdSnapshotDef *s = vd_snapshot_lookup(req->d, dom, name, &error);
        if (!s) {
            vd_api_reply_error(req, error);
            return;
        }
        g_autofree char *xml = vd_snapshot_def_format(s);
        vd_api_reply_text(req, 200, "application/xml", xml);
        return;
    }
    if (g_str_equal(what, "revert")) {
        if (!post) {
            vd_api_reply_not_allowed(req, method);
            return;
        }
        guint f = 0;
        if (vd_api_query_bool(req, "running"))
            f |= VD_SNAPSHOT_REVERT_RUNNING;
        if (vd_api_query_bool(req, "paused"))
            f |= VD_SNAPSHOT_REVERT_PAUSED;
        if (vd_api_query_bool(req, "force"))
            f |= VD_SNAPSHOT_REVERT_FORCE;
        vd_api_pause(req);
        vd_snapshot_revert(req->d, dom, name, f, op_done, req);
        return;
    }
    vd_set_error(&error, VD_ERROR_NOT_FOUND, "no API resource 'snapshots/%s/%s'", name, what);
    vd_api_reply_error(req, error);
}

gboolean
vd_api_domain_snapshot_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    const char *what = req->segments[2];

    if (req->nsegments == 3 && g_str_equal(what, "snapshot-current")) {
        if (!g_str_equal(method, "GET") && !g_str_equal(method, "PUT"))
            vd_api_reply_not_allowed(req, method);
        else
            handle_current(req, dom, g_str_equal(method, "PUT"));
        return TRUE;
    }
    if (!g_str_equal(what, "snapshots") || req->nsegments > 5)
        return FALSE;
    if (req->nsegments == 3) {
        if (g_str_equal(method, "GET"))
            handle_list(req, dom);
        else if (g_str_equal(method, "POST"))
            handle_create(req, dom);
        else
            vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    handle_one(req, dom, req->segments[3], req->nsegments == 5 ? req->segments[4] : NULL, method);
    return TRUE;
}
