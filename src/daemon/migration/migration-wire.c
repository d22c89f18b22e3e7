/* The JSON of the offer (prepare's body), the answer, and the flags of
 * POST /v1/domains/D/migrate (migration-priv.h; docs/api.md "Migration").
 * Unknown members are ignored, so that a newer peer may send more; a
 * member of the wrong type is refused. */
#include "migration-flow.h"

#include <string.h>

#include "util/vd-error.h"

void
vd_migration_disk_free(VdMigrationDisk *disk)
{
    if (!disk)
        return;
    g_free(disk->target);
    g_free(disk->path);
    g_free(disk->format);
    g_free(disk->backing);
    g_free(disk->cache);
    g_free(disk);
}

void
vd_host_cpu_free(VdHostCpu *cpu)
{
    if (!cpu)
        return;
    g_free(cpu->vendor);
    g_free(cpu->model_name);
    g_strfreev(cpu->flags);
    g_free(cpu);
}

void
vd_migration_offer_free(VdMigrationOffer *offer)
{
    if (!offer)
        return;
    g_free(offer->id);
    g_free(offer->source_instance);
    g_free(offer->source_host);
    g_free(offer->xml);
    g_free(offer->persistent_xml);
    vd_migrate_params_clear(&offer->params);
    vd_host_cpu_free(offer->cpu);
    g_clear_pointer(&offer->disks, g_ptr_array_unref);
    g_free(offer->listen_host);
    g_free(offer);
}

static void
nbd_disk_free(VdMigrationNbdDisk *disk)
{
    g_free(disk->target);
    g_free(disk->export_name);
    g_free(disk);
}

void
vd_migration_answer_free(VdMigrationAnswer *answer)
{
    if (!answer)
        return;
    g_free(answer->id);
    g_free(answer->dest_instance);
    g_free(answer->migrate_uri);
    g_free(answer->nbd_host);
    g_clear_pointer(&answer->nbd_disks, g_ptr_array_unref);
    g_clear_pointer(&answer->warnings, g_ptr_array_unref);
    g_free(answer);
}

/* ---- writing ---------------------------------------------------------- */

static void
add_str(JsonBuilder *b, const char *k, const char *v)
{
    if (!v)
        return;
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

static void
add_bool(JsonBuilder *b, const char *k, gboolean v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_boolean_value(b, v);
}

static void
add_u64(JsonBuilder *b, const char *k, guint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, (gint64)MIN(v, (guint64)G_MAXINT64));
}

static const char *const copy_names[] = {"none", "all", "inc"};
static const char *const timeout_names[] = {"none", "suspend", "postcopy"};

static void
params_build(JsonBuilder *b, const VdMigrateParams *p, gboolean with_client_parts)
{
    json_builder_begin_object(b);
    if (with_client_parts) {
        add_str(b, "dest_uri", p->dest_uri);
        add_str(b, "xml", p->xml);
        add_str(b, "persistent_xml", p->persistent_xml);
    }
    add_str(b, "migrate_uri", p->migrate_uri);
    add_bool(b, "live", p->live);
    add_bool(b, "offline", p->offline);
    add_bool(b, "persistent", p->persistent);
    add_bool(b, "undefine_source", p->undefine_source);
    add_bool(b, "suspend", p->suspend);
    add_str(b, "copy_storage", copy_names[p->copy_storage]);
    add_bool(b, "postcopy", p->postcopy);
    add_bool(b, "postcopy_after_precopy", p->postcopy_after_precopy);
    add_bool(b, "auto_converge", p->auto_converge);
    add_bool(b, "tls", p->tls);
    add_bool(b, "unsafe", p->unsafe);
    add_u64(b, "bandwidth_mib", p->bandwidth_mib);
    add_u64(b, "timeout_s", p->timeout_s);
    add_str(b, "timeout_action", timeout_names[p->timeout_action]);
    add_str(b, "dname", p->dname);
    json_builder_end_object(b);
}

JsonNode *
vd_migrate_params_to_json(const VdMigrateParams *params)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    params_build(b, params, TRUE);
    return json_builder_get_root(b);
}

JsonNode *
vd_migration_offer_to_json(const VdMigrationOffer *offer)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "id", offer->id);
    add_str(b, "source_instance", offer->source_instance);
    add_str(b, "source_host", offer->source_host);
    add_str(b, "xml", offer->xml);
    add_str(b, "persistent_xml", offer->persistent_xml);
    add_str(b, "listen_host", offer->listen_host);
    json_builder_set_member_name(b, "params");
    params_build(b, &offer->params, FALSE);
    if (offer->cpu) {
        const VdHostCpu *c = offer->cpu;
        json_builder_set_member_name(b, "cpu");
        json_builder_begin_object(b);
        add_str(b, "vendor", c->vendor);
        add_str(b, "model_name", c->model_name);
        add_u64(b, "family", c->family);
        add_u64(b, "model", c->model);
        add_u64(b, "stepping", c->stepping);
        json_builder_set_member_name(b, "flags");
        json_builder_begin_array(b);
        for (guint i = 0; c->flags && c->flags[i]; i++)
            json_builder_add_string_value(b, c->flags[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "disks");
    json_builder_begin_array(b);
    for (guint i = 0; offer->disks && i < offer->disks->len; i++) {
        const VdMigrationDisk *disk = g_ptr_array_index(offer->disks, i);
        json_builder_begin_object(b);
        add_str(b, "target", disk->target);
        add_str(b, "path", disk->path);
        add_str(b, "format", disk->format);
        add_bool(b, "readonly", disk->readonly);
        add_bool(b, "copy", disk->copy);
        add_u64(b, "capacity", disk->capacity);
        add_u64(b, "allocation", disk->allocation);
        add_str(b, "backing", disk->backing);
        add_u64(b, "dev", disk->dev);
        add_u64(b, "ino", disk->ino);
        add_str(b, "cache", disk->cache);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *
vd_migration_answer_to_json(const VdMigrationAnswer *answer)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "id", answer->id);
    add_str(b, "dest_instance", answer->dest_instance);
    add_str(b, "migrate_uri", answer->migrate_uri);
    add_str(b, "nbd_host", answer->nbd_host);
    if (answer->nbd_port)
        add_u64(b, "nbd_port", answer->nbd_port);
    json_builder_set_member_name(b, "nbd_disks");
    json_builder_begin_array(b);
    for (guint i = 0; answer->nbd_disks && i < answer->nbd_disks->len; i++) {
        const VdMigrationNbdDisk *disk = g_ptr_array_index(answer->nbd_disks, i);
        json_builder_begin_object(b);
        add_str(b, "target", disk->target);
        add_str(b, "export_name", disk->export_name);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "warnings");
    json_builder_begin_array(b);
    for (guint i = 0; answer->warnings && i < answer->warnings->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(answer->warnings, i));
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* ---- reading ---------------------------------------------------------- */

typedef struct {
    const char *what; /* "offer", "answer", "migrate request" */
    GError **error;
    gboolean failed;
} Reader;

static gboolean
bad(Reader *r, const char *member, const char *type)
{
    if (!r->failed)
        g_set_error(r->error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the migration %s's \"%s\" must be %s", r->what, member,
                    type);
    r->failed = TRUE;
    return FALSE;
}

static char *
get_str(Reader *r, JsonObject *o, const char *k)
{
    JsonNode *n = o ? json_object_get_member(o, k) : NULL;
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return NULL;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        bad(r, k, "a string");
        return NULL;
    }
    return g_strdup(json_node_get_string(n));
}

static gboolean
get_bool(Reader *r, JsonObject *o, const char *k)
{
    JsonNode *n = o ? json_object_get_member(o, k) : NULL;
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return FALSE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
        return bad(r, k, "true or false");
    return json_node_get_boolean(n);
}

static guint64
get_u64(Reader *r, JsonObject *o, const char *k)
{
    JsonNode *n = o ? json_object_get_member(o, k) : NULL;
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return 0;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0)
        return bad(r, k, "a positive integer");
    return (guint64)json_node_get_int(n);
}

static JsonObject *
get_obj(Reader *r, JsonObject *o, const char *k)
{
    JsonNode *n = o ? json_object_get_member(o, k) : NULL;
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
        bad(r, k, "an object");
        return NULL;
    }
    return json_node_get_object(n);
}

static JsonArray *
get_arr(Reader *r, JsonObject *o, const char *k)
{
    JsonNode *n = o ? json_object_get_member(o, k) : NULL;
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(n)) {
        bad(r, k, "an array");
        return NULL;
    }
    return json_node_get_array(n);
}

static guint
get_enum(Reader *r, JsonObject *o, const char *k, const char *const *names, guint n_names)
{
    g_autofree char *s = get_str(r, o, k);
    if (!s)
        return 0;
    for (guint i = 0; i < n_names; i++)
        if (g_str_equal(s, names[i]))
            return i;
    g_autofree char *list = g_strjoinv(", ", (char **)names);
    g_autofree char *type = g_strdup_printf("one of %s", list);
    bad(r, k, type);
    return 0;
}

static void
params_read(Reader *r, JsonObject *o, VdMigrateParams *p, gboolean with_client_parts)
{
    static const char *const copy_list[] = {"none", "all", "inc", NULL};
    static const char *const timeout_list[] = {"none", "suspend", "postcopy", NULL};
    if (with_client_parts) {
        p->dest_uri = get_str(r, o, "dest_uri");
        p->xml = get_str(r, o, "xml");
        p->persistent_xml = get_str(r, o, "persistent_xml");
    }
    p->migrate_uri = get_str(r, o, "migrate_uri");
    p->live = get_bool(r, o, "live");
    p->offline = get_bool(r, o, "offline");
    p->persistent = get_bool(r, o, "persistent");
    p->undefine_source = get_bool(r, o, "undefine_source");
    p->suspend = get_bool(r, o, "suspend");
    p->copy_storage = get_enum(r, o, "copy_storage", copy_list, 3);
    p->postcopy = get_bool(r, o, "postcopy");
    p->postcopy_after_precopy = get_bool(r, o, "postcopy_after_precopy");
    p->auto_converge = get_bool(r, o, "auto_converge");
    p->tls = get_bool(r, o, "tls");
    p->unsafe = get_bool(r, o, "unsafe");
    p->bandwidth_mib = get_u64(r, o, "bandwidth_mib");
    guint64 t = get_u64(r, o, "timeout_s");
    p->timeout_s = (guint)MIN(t, G_MAXUINT);
    p->timeout_action = get_enum(r, o, "timeout_action", timeout_list, 3);
    p->dname = get_str(r, o, "dname");
}

static JsonObject *
root_object(JsonNode *node, const char *what, GError **error)
{
    if (node && JSON_NODE_HOLDS_OBJECT(node))
        return json_node_get_object(node);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "invalid argument: the migration %s must be a JSON object", what);
    return NULL;
}

gboolean
vd_migrate_params_from_json(JsonObject *o, VdMigrateParams *params, GError **error)
{
    Reader r = {"request", error, FALSE};
    params_read(&r, o, params, TRUE);
    if (r.failed)
        vd_migrate_params_clear(params);
    return !r.failed;
}

VdMigrationOffer *
vd_migration_offer_from_json(JsonNode *node, GError **error)
{
    JsonObject *o = root_object(node, "offer", error);
    if (!o)
        return NULL;
    Reader r = {"offer", error, FALSE};
    g_autoptr(VdMigrationOffer) offer = g_new0(VdMigrationOffer, 1);
    offer->id = get_str(&r, o, "id");
    offer->source_instance = get_str(&r, o, "source_instance");
    offer->source_host = get_str(&r, o, "source_host");
    offer->xml = get_str(&r, o, "xml");
    offer->persistent_xml = get_str(&r, o, "persistent_xml");
    offer->listen_host = get_str(&r, o, "listen_host");
    params_read(&r, get_obj(&r, o, "params"), &offer->params, FALSE);
    JsonObject *cpu = get_obj(&r, o, "cpu");
    if (cpu) {
        offer->cpu = g_new0(VdHostCpu, 1);
        offer->cpu->vendor = get_str(&r, cpu, "vendor");
        offer->cpu->model_name = get_str(&r, cpu, "model_name");
        offer->cpu->family = (guint)get_u64(&r, cpu, "family");
        offer->cpu->model = (guint)get_u64(&r, cpu, "model");
        offer->cpu->stepping = (guint)get_u64(&r, cpu, "stepping");
        JsonArray *flags = get_arr(&r, cpu, "flags");
        GPtrArray *fl = g_ptr_array_new();
        for (guint i = 0; flags && i < json_array_get_length(flags); i++) {
            JsonNode *n = json_array_get_element(flags, i);
            if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
                g_ptr_array_add(fl, g_strdup(json_node_get_string(n)));
            else
                bad(&r, "cpu.flags", "an array of strings");
        }
        g_ptr_array_add(fl, NULL);
        offer->cpu->flags = (char **)g_ptr_array_free(fl, FALSE);
    }
    offer->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vd_migration_disk_free);
    JsonArray *disks = get_arr(&r, o, "disks");
    for (guint i = 0; disks && i < json_array_get_length(disks); i++) {
        JsonNode *n = json_array_get_element(disks, i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            bad(&r, "disks", "an array of objects");
            break;
        }
        JsonObject *d = json_node_get_object(n);
        VdMigrationDisk *disk = g_new0(VdMigrationDisk, 1);
        disk->target = get_str(&r, d, "target");
        disk->path = get_str(&r, d, "path");
        disk->format = get_str(&r, d, "format");
        disk->readonly = get_bool(&r, d, "readonly");
        disk->copy = get_bool(&r, d, "copy");
        disk->capacity = get_u64(&r, d, "capacity");
        disk->allocation = get_u64(&r, d, "allocation");
        disk->backing = get_str(&r, d, "backing");
        disk->dev = get_u64(&r, d, "dev");
        disk->ino = get_u64(&r, d, "ino");
        disk->cache = get_str(&r, d, "cache");
        g_ptr_array_add(offer->disks, disk);
        if (!disk->target)
            bad(&r, "disks[].target", "a string");
    }
    if (!r.failed && (!offer->id || !offer->source_instance || !offer->xml)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the migration offer needs \"id\", \"source_instance\" "
                    "and \"xml\"");
        return NULL;
    }
    if (!r.failed && !g_uuid_string_is_valid(offer->id)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the migration offer's id '%s' is not a UUID", offer->id);
        return NULL;
    }
    return r.failed ? NULL : g_steal_pointer(&offer);
}

VdMigrationAnswer *
vd_migration_answer_from_json(JsonNode *node, GError **error)
{
    JsonObject *o = root_object(node, "answer", error);
    if (!o)
        return NULL;
    Reader r = {"answer", error, FALSE};
    g_autoptr(VdMigrationAnswer) answer = g_new0(VdMigrationAnswer, 1);
    answer->id = get_str(&r, o, "id");
    answer->dest_instance = get_str(&r, o, "dest_instance");
    answer->migrate_uri = get_str(&r, o, "migrate_uri");
    answer->nbd_host = get_str(&r, o, "nbd_host");
    guint64 port = get_u64(&r, o, "nbd_port");
    if (port > 65535)
        bad(&r, "nbd_port", "a port number");
    answer->nbd_port = (guint16)port;
    answer->nbd_disks = vd_migration_nbd_disks_new();
    JsonArray *disks = get_arr(&r, o, "nbd_disks");
    for (guint i = 0; disks && i < json_array_get_length(disks); i++) {
        JsonNode *n = json_array_get_element(disks, i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            bad(&r, "nbd_disks", "an array of objects");
            break;
        }
        VdMigrationNbdDisk *disk = g_new0(VdMigrationNbdDisk, 1);
        disk->target = get_str(&r, json_node_get_object(n), "target");
        disk->export_name = get_str(&r, json_node_get_object(n), "export_name");
        g_ptr_array_add(answer->nbd_disks, disk);
    }
    answer->warnings = g_ptr_array_new_with_free_func(g_free);
    JsonArray *warnings = get_arr(&r, o, "warnings");
    for (guint i = 0; warnings && i < json_array_get_length(warnings); i++) {
        JsonNode *n = json_array_get_element(warnings, i);
        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
            g_ptr_array_add(answer->warnings, g_strdup(json_node_get_string(n)));
    }
    return r.failed ? NULL : g_steal_pointer(&answer);
}

GPtrArray *
vd_migration_nbd_disks_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)nbd_disk_free);
}
