/* API handlers for /v1/domains (docs/api.md). They parse and check the
 * request, call the registry (domain-obj.c) or the process layer
 * (domain-process.c), and shape the answer. */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "conf/domain-enums.h"
#include "daemon/access/access.h"
#include "daemon/api/api-agent.h"
#include "daemon/api/api-internal.h"
#include "daemon/clone/clone.h"
#include "daemon/domain/console.h"
#include "daemon/domain/domain-files.h"
#include "daemon/domain/domain-net.h"
#include "daemon/domain/domain-process.h"
#include "daemon/domain/nvram.h"
#include "daemon/domain/swtpm.h"
#include "daemon/domain/undefine-storage.h"
#include "daemon/migration/migration.h"
#include "daemon/snapshot/snapshot.h"
#include "daemon/save/save.h"
#include "daemon/stats/usage.h"
#include "util/vd-error.h"

/* A boolean member of a request body; absent gives @fallback. */
static void add_summary(JsonBuilder *b, const VdDomainObj *dom);

void
vd_api_add_domain_summary(JsonBuilder *b, const VdDomainObj *dom)
{
    add_summary(b, dom);
}

static void
add_summary(JsonBuilder *b, const VdDomainObj *dom)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, dom->name);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, dom->uuid);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, vd_state_is_active(dom->state) ? dom->id : -1);
    /* An incoming migration shows "paused (migrating)" from prepare on. */
    VdState state;
    VdStateReason reason;
    vd_migration_shown_state(dom, &state, &reason);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, vd_state_to_string(state));
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, vd_state_reason_to_string(reason));
    json_builder_set_member_name(b, "persistent");
    json_builder_add_boolean_value(b, dom->persistent);
    json_builder_set_member_name(b, "autostart");
    json_builder_add_boolean_value(b, dom->autostart);
    /* From the object, so that listing never parses a definition. */
    const char *title = dom->live ? dom->live->title : dom->title;
    if (title) {
        json_builder_set_member_name(b, "title");
        json_builder_add_string_value(b, title);
    }
    json_builder_end_object(b);
}

static JsonNode *
summary_reply(const VdDomainObj *dom, GPtrArray *warnings)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    add_summary(b, dom);
    vd_api_add_warnings(b, warnings);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void
handle_list(VdApiRequest *req)
{
    g_autoptr(GPtrArray) doms = vd_domain_list_all(req->d->domains);
    g_autoptr(JsonBuilder) b = vd_api_list_begin("domains");

    for (guint i = 0; i < doms->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(doms, i);
        VdState state;
        VdStateReason reason;
        vd_migration_shown_state(dom, &state, &reason);
        if (vd_api_list_wants(req, vd_state_is_active(state)))
            add_summary(b, dom);
    }
    vd_api_list_reply(req, b);
}

/* --- define / create ---------------------------------------------------- */

/* A definition a client sent: the rules for new input apply, except that
 * the name of a domain already defined stays valid (it may predate them). */
static VdDomainDef *
parse_input(VdApiRequest *req, const char *xml, GError **error)
{
    g_autoptr(VdDomainDef) def = vd_domain_def_new_from_stored_xml(xml, -1, error);
    if (!def)
        return NULL;
    gboolean known = vd_domain_list_find_name(req->d->domains, def->name) != NULL;
    if (!vd_domain_def_validate_input(def, !known, error))
        return NULL;
    if (!vd_domain_net_check_macs(req->d, def, NULL, error))
        return NULL;
    /* A non-root client's files and emulator (access/access.h). */
    if (!vd_access_check_def(req->d, req->msg, def, error))
        return NULL;
    return g_steal_pointer(&def);
}

/* What the start adjusted (domain-obj.h, start_notes), as warnings. */
static void
add_start_notes(GPtrArray *warnings, const VdDomainObj *dom)
{
    for (guint i = 0; dom->start_notes && i < dom->start_notes->len; i++)
        g_ptr_array_add(warnings, g_strdup(g_ptr_array_index(dom->start_notes, i)));
}

static void
create_started(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error) {
        VdDaemon *d = req->d;
        vd_domain_list_forget_if_gone(d->domains, dom);
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(GPtrArray) warnings = vd_domain_def_warnings(vd_domain_obj_def(dom));
    add_start_notes(warnings, dom);
    vd_api_reply_json(req, 201, summary_reply(dom, warnings));
}

typedef struct {
    VdApiRequest *req;
    VdDomainDef *def;
    guint status;
} PendingDefine;

static void
define_files_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    PendingDefine *pd = data;
    VdApiRequest *req = pd->req;
    VdDomainDef *def = pd->def;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) format_notes = vd_domain_files_check_finish(res, &error);
    VdDomainObj *dom = format_notes ? vd_domain_list_define(req->d->domains, def, &error) : NULL;
    guint status = pd->status;

    g_free(pd);
    if (!dom) {
        vd_domain_def_free(def);
        vd_api_reply_error(req, error);
        return;
    }
    vd_kernel_cache_prefetch(req->d->kernels, def->os.kernel);
    g_autoptr(GPtrArray) warnings = vd_domain_def_warnings(def);
    for (guint i = 0; i < format_notes->len; i++)
        g_ptr_array_add(warnings, g_strdup(g_ptr_array_index(format_notes, i)));
    vd_api_reply_json(req, status, summary_reply(dom, warnings));
}

/* Stores @def (taken) as a persistent definition and answers with the
 * summary and define's warnings; its kernel is readied in the background
 * so that even the first start boots fast. The files it names are
 * checked first, in a worker thread (domain-files.h). */
static void
define_and_reply(VdApiRequest *req, VdDomainDef *def, guint status)
{
    PendingDefine *pd = g_new0(PendingDefine, 1);
    pd->req = req;
    pd->def = def;
    pd->status = status;
    vd_api_pause(req);
    vd_domain_files_check_async(req->d, def, VD_DOMAIN_FILES_DEFINE, define_files_checked, pd);
}

static void
handle_define(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vd_api_body_text(req, &error);
    if (!xml) {
        vd_api_reply_error(req, error);
        return;
    }
    VdDomainDef *def = parse_input(req, xml, &error);
    if (!def) {
        vd_api_reply_error(req, error);
        return;
    }
    if (vd_api_query_bool(req, "start")) {
        /* The same name and UUID as a defined domain: run this definition
         * once and keep the persistent one for later starts (libvirt's
         * createXML; virt-install's install phase). The start refuses a
         * running domain or one being started, as any start would. */
        VdDomainObj *defined = vd_domain_list_find_name(req->d->domains, def->name);
        if (defined && defined->persistent && g_ascii_strcasecmp(defined->uuid, def->uuid) == 0) {
            vd_api_pause(req);
            vd_domain_start_with(req->d, defined, def, vd_api_query_bool(req, "paused"),
                                 create_started, req);
            return;
        }
        VdDomainObj *dom = vd_domain_list_add_transient(req->d->domains, def, &error);
        if (!dom) {
            vd_domain_def_free(def);
            vd_api_reply_error(req, error);
            return;
        }
        vd_api_pause(req);
        vd_domain_start(req->d, dom, vd_api_query_bool(req, "paused"), create_started, req);
        return;
    }
    define_and_reply(req, def, 201);
}

/* --- one domain --------------------------------------------------------- */

static void
add_kv_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

static void
add_kv_int(JsonBuilder *b, const char *k, gint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
}

/* CPU time of the QEMU process from /proc: no QMP round trip needed. */
static gint64
cpu_time_ns(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    if (pid <= 0 || !g_file_get_contents(path, &stat, NULL, NULL))
        return 0;
    const char *p = strrchr(stat, ')');
    if (!p)
        return 0;
    g_auto(GStrv) f = g_strsplit(p + 2, " ", -1);
    /* After ")": state is field 0; utime and stime are fields 11 and 12. */
    if (g_strv_length(f) < 13)
        return 0;
    gint64 ticks = g_ascii_strtoll(f[11], NULL, 10) + g_ascii_strtoll(f[12], NULL, 10);
    return ticks * (1000000000 / sysconf(_SC_CLK_TCK));
}

static void
handle_info(VdApiRequest *req, VdDomainObj *dom)
{
    const VdDomainDef *def = vd_domain_obj_current_def(dom);
    gboolean active = vd_state_is_active(dom->state);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    add_summary(b, dom);
    json_builder_set_member_name(b, "info");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "os_type");
    json_builder_add_string_value(b, def->os.type ? def->os.type : "hvm");
    add_kv_int(b, "vcpus", def->vcpus_current);
    add_kv_int(b, "vcpus_max", def->vcpus);
    add_kv_int(b, "memory_kib", (gint64)def->current_memory_kib);
    add_kv_int(b, "max_memory_kib", (gint64)def->memory_kib);
    add_kv_int(b, "cpu_time_ns", active ? cpu_time_ns(dom->pid) : 0);
    json_builder_set_member_name(b, "has_managed_save");
    json_builder_add_boolean_value(b, vd_save_has_managed(req->d, dom));
    json_builder_end_object(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
add_removals(JsonBuilder *b, GPtrArray *plan, gboolean removed)
{
    json_builder_set_member_name(b, removed ? "removed" : "kept");
    json_builder_begin_array(b);
    for (guint i = 0; plan && i < plan->len; i++) {
        VdStorageRemoval *r = g_ptr_array_index(plan, i);
        if ((r->reason == NULL) != removed)
            continue;
        json_builder_begin_object(b);
        add_kv_str(b, "target", r->target);
        add_kv_str(b, "path", r->path);
        if (r->reason)
            add_kv_str(b, "reason", r->reason);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

typedef struct {
    VdApiRequest *req;
    VdDomainObj *dom;
    gboolean tpm;        /* ?tpm=1 asked for the TPM state's removal */
    char *tpm_state;     /* its directory */
    char *tpm_reason;    /* NULL: removed; else why it was kept */
} UndefineReply;

static void
undefine_reply(GPtrArray *plan, gpointer data)
{
    UndefineReply *u = data;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    add_summary(b, u->dom);
    add_removals(b, plan, TRUE);
    add_removals(b, plan, FALSE);
    if (u->tpm) {
        json_builder_set_member_name(b, "tpm_state");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, u->tpm_state);
        json_builder_set_member_name(b, "removed");
        json_builder_add_boolean_value(b, u->tpm_reason == NULL);
        if (u->tpm_reason) {
            json_builder_set_member_name(b, "reason");
            json_builder_add_string_value(b, u->tpm_reason);
        }
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    vd_api_reply_json(u->req, 200, json_builder_get_root(b));
    vd_domain_obj_unref(u->dom);
    g_free(u->tpm_state);
    g_free(u->tpm_reason);
    g_free(u);
}

/* ?nvram=1 removes the domain's UEFI variable store, ?keep_nvram=1 keeps
 * it; without either, undefine refuses while the store exists (libvirt's
 * rule: the store is the guest's boot configuration, not to be lost or
 * left behind unnoticed). Sets *@remove to the file to remove after the
 * undefine. */
static gboolean
undefine_nvram_check(VdApiRequest *req, VdDomainObj *dom, char **remove, GError **error)
{
    gboolean rm = vd_api_query_bool(req, "nvram");
    gboolean keep = vd_api_query_bool(req, "keep_nvram");

    *remove = NULL;
    if (rm && keep) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "nvram=1 (--nvram) and keep_nvram=1 (--keep-nvram) are mutually exclusive");
        return FALSE;
    }
    if (!dom->persistent)
        return TRUE;
    g_autofree char *path = vd_domain_nvram_path(req->d, vd_domain_obj_def(dom));
    if (!path || keep || !g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE;
    if (!rm) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot undefine domain with nvram: "
                    "'%s' has a UEFI variable store '%s'; use --nvram to remove it or "
                    "--keep-nvram to keep it",
                    dom->name, path);
        return FALSE;
    }
    *remove = g_steal_pointer(&path);
    return TRUE;
}

/* DELETE /v1/domains/{dom}[?remove_all_storage=1 | ?storage=vda,/path]
 * [&nvram=1 | &keep_nvram=1][&tpm=1]:
 * the storage plan is made (and may refuse) before anything changes;
 * tpm=1 removes the TPM state too (refused while the domain runs). */
static void
handle_undefine(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainObj) keep = vd_domain_obj_ref(dom);
    gboolean all = vd_api_query_bool(req, "remove_all_storage");
    gboolean tpm = vd_api_query_bool(req, "tpm");
    const char *storage = req->query ? g_hash_table_lookup(req->query, "storage") : NULL;
    g_auto(GStrv) named = storage && *storage ? g_strsplit(storage, ",", -1) : NULL;
    g_autoptr(GPtrArray) plan = NULL;

    if (!vd_domain_obj_check(dom, VD_OP_UNDEFINE, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (!vd_save_undefine_check(req->d, dom, vd_api_query_bool(req, "managed_save"), &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (tpm && !vd_swtpm_can_remove_state(dom, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (all || named) {
        if (!dom->persistent) {
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                        "Requested operation is not valid: cannot undefine transient domain");
            vd_api_reply_error(req, error);
            return;
        }
        if (!vd_clone_check_removable(req->d, dom, &error)) {
            vd_api_reply_error(req, error);
            return;
        }
        plan = vd_storage_removal_plan(req->d, dom, all, (const char *const *)named, &error);
        if (!plan) {
            vd_api_reply_error(req, error);
            return;
        }
    }
    g_autofree char *nvram = NULL;
    gboolean snap_meta = vd_api_query_bool(req, "snapshots_metadata"); /* issue 12 */
    if (!vd_snapshot_undefine_check(req->d, dom, snap_meta, &error) ||
        !undefine_nvram_check(req, dom, &nvram, &error) ||
        !vd_domain_list_undefine(req->d->domains, dom, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    /* Issue 14: its usage history; a running one's goes when it stops
     * (the sampler's sweep of domains the registry no longer has). */
    if (!dom->live)
        vd_usage_forget(req->d, dom->name);
    g_autoptr(GError) snap_error = NULL; /* issue 12: --snapshots-metadata */
    if (snap_meta && !vd_snapshot_remove_all_metadata(req->d, dom, &snap_error))
        g_warning("domain '%s': %s", dom->name, snap_error->message);
    /* A local file the daemon made (or the user named): one unlink, as
     * the definition's own removal just now. */
    if (nvram && g_unlink(nvram) < 0 && errno != ENOENT)
        g_warning("domain '%s': cannot remove UEFI variable store '%s': %s", dom->name, nvram,
                  g_strerror(errno));
    UndefineReply *u = g_new0(UndefineReply, 1);
    u->req = req;
    u->dom = vd_domain_obj_ref(dom);
    if (tpm) {
        /* The definition is gone already: a failure here is reported, not
         * an error of the undefine. */
        g_autoptr(GError) tpm_error = NULL;
        u->tpm = TRUE;
        u->tpm_state = vd_swtpm_state_dir(req->d->paths, dom->uuid);
        if (!vd_swtpm_remove_state(req->d, dom, &tpm_error))
            u->tpm_reason = g_strdup(tpm_error->message);
    }
    if (!plan) {
        undefine_reply(NULL, u);
        return;
    }
    vd_api_pause(req);
    vd_storage_removal_run(req->d, plan, undefine_reply, u);
}

static void
handle_get_xml(VdApiRequest *req, VdDomainObj *dom)
{
    VdDomainFormatFlags flags = 0;
    const VdDomainDef *def = vd_domain_obj_def(dom);
    if (!vd_api_query_bool(req, "inactive") && dom->live) {
        def = dom->live;
        flags |= VD_DOMAIN_FORMAT_LIVE;
    }
    if (vd_api_query_bool(req, "secure")) {
        g_autoptr(GError) error = NULL;
        if (!vd_access_require(req->d, req->msg, "the definition with its secrets (--secure)",
                               &error)) {
            vd_api_reply_error(req, error);
            return;
        }
        flags |= VD_DOMAIN_FORMAT_SECURE;
    }
    g_autofree char *xml = vd_domain_def_format(def, flags);
    vd_api_reply_text(req, 200, "application/xml", xml);
}

static void
handle_put_xml(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vd_api_body_text(req, &error);
    if (!xml) {
        vd_api_reply_error(req, error);
        return;
    }
    VdDomainDef *def = parse_input(req, xml, &error);
    if (!def) {
        vd_api_reply_error(req, error);
        return;
    }
    if (!g_str_equal(def->name, dom->name)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the edited definition is named '%s', not '%s': renaming is not done by "
                    "editing; change <name> back",
                    def->name, dom->name);
    } else if (!g_str_equal(def->uuid, dom->uuid)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the edited definition has uuid %s, not %s: change <uuid> back", def->uuid,
                    dom->uuid);
    }
    if (error) {
        vd_domain_def_free(def);
        vd_api_reply_error(req, error);
        return;
    }
    define_and_reply(req, def, 200);
}

static void
handle_autostart(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    if (!body || !json_object_has_member(body, "autostart")) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "send {\"autostart\": true} or {\"autostart\": false}");
        vd_api_reply_error(req, error);
        return;
    }
    gboolean on = FALSE;
    if (!vd_api_body_bool(body, "autostart", &on, &error) ||
        !vd_domain_list_set_autostart(req->d->domains, dom, on, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_json(req, 200, summary_reply(dom, NULL));
}

static void
handle_disks(VdApiRequest *req, VdDomainObj *dom)
{
    const VdDomainDef *def = vd_domain_obj_current_def(dom);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "disks");
    json_builder_begin_array(b);
    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        json_builder_begin_object(b);
        add_kv_str(b, "type", vd_disk_type_to_string(disk->type));
        add_kv_str(b, "device", vd_disk_device_to_string(disk->device));
        add_kv_str(b, "target", disk->target_dev ? disk->target_dev : "");
        add_kv_str(b, "bus", vd_disk_bus_to_string(disk->bus));
        const char *source = disk->source_file;
        g_autofree char *vol = NULL;
        if (!source && disk->source_volume)
            source = vol = g_strdup_printf("%s/%s", disk->source_pool ? disk->source_pool : "",
                                           disk->source_volume);
        if (source) {
            add_kv_str(b, "source", source);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* --- operations --------------------------------------------------------- */

static void
op_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error)
        vd_api_reply_error(req, error);
    else
        vd_api_reply_json(req, 200, summary_reply(dom, NULL));
}

static void
start_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    add_start_notes(warnings, dom);
    /* As before adjustments existed: no "warnings" member without any. */
    vd_api_reply_json(req, 200, summary_reply(dom, warnings->len ? warnings : NULL));
}

typedef void (*VdDomainOpFunc)(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done,
                               gpointer user_data);

static void
start_wrapper(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data)
{
    VdApiRequest *req = user_data;
    gboolean paused = vd_api_query_bool(req, "paused");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    if (error) {
        done(dom, error, user_data);
        return;
    }
    if (!vd_api_body_bool(body, "paused", &paused, &error) ||
        /* Whoever defined it, a non-root client starts only a domain
         * whose files it could have named itself (access/access.h). */
        !vd_access_check_def(d, req->msg, vd_domain_obj_def(dom), &error)) {
        done(dom, error, user_data);
        return;
    }
    if (vd_save_start_managed(d, dom, paused, vd_api_query_bool(req, "force_boot"), done, user_data))
        return; /* resumes from its managed save image (save/save.h) */
    vd_domain_start(d, dom, paused, done, user_data);
}

static const struct {
    const char *name;
    VdDomainOpFunc func;
} operations[] = {
    {"start", start_wrapper},     {"shutdown", vd_domain_shutdown}, {"destroy", vd_domain_destroy},
    {"reboot", vd_domain_reboot}, {"reset", vd_domain_reset},       {"suspend", vd_domain_suspend},
    {"resume", vd_domain_resume},
};

void
vd_api_domains_dispatch(VdApiRequest *req, const char *method)
{
    g_autoptr(GError) error = NULL;
    gboolean get = g_str_equal(method, "GET"), post = g_str_equal(method, "POST");
    gboolean put = g_str_equal(method, "PUT"), del = g_str_equal(method, "DELETE");

    if (req->nsegments == 1) {
        if (get) {
            handle_list(req);
            return;
        }
        if (post) {
            handle_define(req);
            return;
        }
        goto bad_method;
    }
    /* No domain resource takes POST itself, so POST /v1/domains/check
     * means the report even for a domain named "check". */
    if (req->nsegments == 2 && post && g_str_equal(req->segments[1], "check")) {
        vd_api_domain_check_xml(req);
        return;
    }
    if (req->nsegments == 2 && post && g_str_equal(req->segments[1], "clone")) {
        vd_api_domain_clone_xml(req);
        return;
    }
    VdDomainObj *dom = vd_domain_list_lookup(req->d->domains, req->segments[1], &error);
    if (!dom) {
        vd_api_reply_error(req, error);
        return;
    }
    if (req->nsegments == 2) {
        if (get)
            handle_info(req, dom);
        else if (del)
            handle_undefine(req, dom);
        else
            goto bad_method;
        return;
    }
    if (vd_api_domain_net_dispatch(req, dom, method) ||
        vd_api_domain_devices_dispatch(req, dom, method) ||
        vd_api_domain_disk_dispatch(req, dom, method) ||
        vd_api_domain_vcpu_dispatch(req, dom, method) ||
        vd_api_domain_memory_dispatch(req, dom, method) ||
        vd_api_domain_memdev_dispatch(req, dom, method) ||
        vd_api_domain_stats_dispatch(req, dom, method) ||
        vd_api_domain_snapshot_dispatch(req, dom, method) ||
        vd_api_domain_blockjob_dispatch(req, dom, method) ||
        vd_api_domain_save_dispatch(req, dom, method) ||
        vd_api_domain_clone_dispatch(req, dom, method) ||
        vd_api_domain_migration_dispatch(req, dom, method))
        return;
    if (req->nsegments == 4 && g_str_equal(req->segments[2], "agent") &&
        g_str_equal(req->segments[3], "ping")) {
        if (!get)
            goto bad_method;
        vd_api_domain_agent_ping(req, dom);
        return;
    }
    if (req->nsegments != 3)
        goto not_found;
    const char *what = req->segments[2];
    if (g_str_equal(what, "xml")) {
        if (get)
            handle_get_xml(req, dom);
        else if (put)
            handle_put_xml(req, dom);
        else
            goto bad_method;
        return;
    }
    if (g_str_equal(what, "autostart")) {
        if (!put)
            goto bad_method;
        handle_autostart(req, dom);
        return;
    }
    if (g_str_equal(what, "display") || g_str_equal(what, "screenshot")) {
        if (!get)
            goto bad_method;
        if (what[0] == 'd')
            vd_api_handle_display(req, dom);
        else
            vd_api_handle_screenshot(req, dom);
        return;
    }
    if (g_str_equal(what, "send-key")) {
        if (!post)
            goto bad_method;
        vd_api_handle_send_key(req, dom);
        return;
    }
    if (g_str_equal(what, "check")) {
        if (!get)
            goto bad_method;
        vd_api_domain_check(req, dom);
        return;
    }
    if (g_str_equal(what, "qemu-monitor")) {
        if (!post)
            goto bad_method;
        vd_api_qemu_monitor(req, dom);
        return;
    }
    if (g_str_equal(what, "disks")) {
        if (!get)
            goto bad_method;
        handle_disks(req, dom);
        return;
    }
    if (g_str_equal(what, "interfaces") || g_str_equal(what, "devices"))
        goto bad_method;
    for (guint i = 0; i < G_N_ELEMENTS(operations); i++) {
        if (!g_str_equal(what, operations[i].name))
            continue;
        if (!post)
            goto bad_method;
        vd_api_pause(req);
        operations[i].func(req->d, dom, operations[i].func == start_wrapper ? start_done : op_done,
                           req);
        return;
    }
not_found:
    g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                g_uri_get_path(soup_server_message_get_uri(req->msg)));
    vd_api_reply_error(req, error);
    return;
bad_method:
    g_set_error(&error, VD_ERROR, VD_ERROR_METHOD, "method %s is not allowed on '%s'", method,
                g_uri_get_path(soup_server_message_get_uri(req->msg)));
    vd_api_reply_error(req, error);
}

/* --- console ------------------------------------------------------------ */

gboolean
vd_api_console_precheck(VdApiRequest *req, GError **error)
{
    if (req->nsegments != 3 || !g_str_equal(req->segments[0], "domains") ||
        !g_str_equal(req->segments[2], "console")) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no WebSocket at '%s': the serial console is /v1/domains/NAME/console, "
                    "the graphical one /v1/domains/NAME/vnc",
                    g_uri_get_path(soup_server_message_get_uri(req->msg)));
        return FALSE;
    }
    VdDomainObj *dom = vd_domain_list_lookup(req->d->domains, req->segments[1], error);
    if (!dom)
        return FALSE;
    if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, error))
        return FALSE;
    if (!dom->console) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "domain '%s' has no serial console: add <serial type='pty'/> and "
                    "<console type='pty'/> to its definition",
                    dom->name);
        return FALSE;
    }
    if (vd_console_has_session(dom->console) && !vd_api_query_bool(req, "force")) {
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "operation failed: Active console session exists for this domain");
        return FALSE;
    }
    return TRUE;
}

void
vd_api_console_attach(VdDaemon *d, const char *key, gboolean force, SoupWebsocketConnection *ws)
{
    g_autoptr(GError) error = NULL;
    VdDomainObj *dom = vd_domain_list_lookup(d->domains, key, &error);
    if (dom && !vd_domain_obj_check(dom, VD_OP_CONSOLE, &error))
        dom = NULL;
    if (dom && !dom->console)
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
    if (error || !vd_console_attach(dom->console, ws, force, &error)) {
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, error->message);
        return;
    }
}
