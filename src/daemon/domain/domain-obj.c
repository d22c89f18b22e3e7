/* Domain objects, the registry, and their files. See domain-obj.h. */
#include "domain-obj.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <malloc.h>
#include <string.h>

#include "daemon/domain/console.h"
#include "daemon/events/events.h"
#include "daemon/hotplug/hotplug.h"
#include "daemon/snapshot/snapshot.h"
#include "util/vd-cgroup.h"
#include "util/vd-error.h"
#include "util/vd-file.h"
#include "util/vd-names.h"

typedef struct {
    VdDomainWaitFunc func;
    gpointer user_data;
} VdDomainWaiter;

struct _VdDomainList {
    const VdPaths *paths;
    GHashTable *by_name;    /* name -> VdDomainObj* (owned ref) */
    int last_id;
    /* The texts of compacted definitions, packed in large blocks: a
     * thousand small strings freed and allocated among parser garbage
     * would fragment the heap into far more memory than they use. A
     * replaced text stays in its block as garbage until garbage
     * outweighs the live texts; then the store is rebuilt. */
    GStringChunk *texts;
    gsize texts_live, texts_garbage;
    guint compact_source;   /* pending compact_now() */
    guint trim_source;      /* pending trim_now() */
};

static VdDomainList *the_list; /* for vd_domain_obj_def()'s compaction and the text store */

static void texts_drop(VdDomainList *list, VdDomainObj *dom);
static const char *texts_add(VdDomainList *list, char *xml);

VdDomainObj *
vd_domain_obj_ref(VdDomainObj *dom)
{
    dom->refcount++;
    return dom;
}

void
vd_domain_obj_unref(VdDomainObj *dom)
{
    if (!dom || --dom->refcount > 0)
        return;
    /* Timers and callbacks hold references: none can be pending now. */
    g_assert(dom->stop_waiters == NULL && !dom->kill_timer && !dom->exit_poll && !dom->start_op);
    vd_qmp_free(dom->qmp);
    vd_hotplug_obj_free(dom);
    vd_domain_async_job_free(dom->async_job);
    vd_console_free(dom->console);
    vd_domain_def_free(dom->def);
    vd_domain_def_free(dom->live);
    vd_cgroup_free(dom->cgroup);
    if (dom->start_notes)
        g_ptr_array_unref(dom->start_notes);
    if (the_list)
        texts_drop(the_list, dom);
    g_free(dom->name);
    g_free(dom->title);
    g_free(dom);
}

/* Takes @def as the persistent definition; @xml (taken, may be NULL) is
 * its text, which lets it be dropped while inactive. */
static void
domain_obj_set_def(VdDomainObj *dom, VdDomainDef *def, char *xml)
{
    if (dom->def != def)
        vd_domain_def_free(dom->def);
    dom->def = def;
    if (the_list)
        texts_drop(the_list, dom);
    dom->def_xml = xml && the_list ? texts_add(the_list, xml) : NULL;
    g_free(xml);
    g_free(dom->title);
    dom->title = g_strdup(def->title);
    g_strlcpy(dom->uuid, def->uuid, sizeof(dom->uuid));
}

static VdDomainObj *
domain_obj_new(VdDomainDef *def)
{
    VdDomainObj *dom = g_new0(VdDomainObj, 1);
    dom->refcount = 1;
    dom->name = g_strdup(def->name);
    domain_obj_set_def(dom, def, NULL);
    dom->state = VD_STATE_SHUTOFF;
    dom->reason = VD_REASON_UNKNOWN;
    dom->id = -1;
    return dom;
}

static const char *
texts_add(VdDomainList *list, char *xml)
{
    list->texts_live += strlen(xml) + 1;
    return g_string_chunk_insert(list->texts, xml);
}

/* Forgets @dom's text (the store is rebuilt by compact_now(), never
 * here: this may run while the registry's table is being modified). */
static void
texts_drop(VdDomainList *list, VdDomainObj *dom)
{
    if (!dom->def_xml)
        return;
    gsize len = strlen(dom->def_xml) + 1;
    dom->def_xml = NULL;
    list->texts_live -= len;
    list->texts_garbage += len;
}

/* Rebuilds the text store when it is mostly garbage. */
static void
texts_repack(VdDomainList *list)
{
    if (list->texts_garbage < 64 * 1024 || list->texts_garbage < list->texts_live)
        return;
    GStringChunk *fresh = g_string_chunk_new(64 * 1024);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, list->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        VdDomainObj *d = value;
        if (d->def_xml)
            d->def_xml = g_string_chunk_insert(fresh, d->def_xml);
    }
    g_string_chunk_free(list->texts);
    list->texts = fresh;
    list->texts_garbage = 0;
}

/* Hands freed memory back to the system, which glibc does not do by
 * itself for scattered frees; at most once a second. */
static gboolean
trim_now(gpointer data)
{
    VdDomainList *list = data;
    list->trim_source = 0;
    malloc_trim(0);
    return G_SOURCE_REMOVE;
}

/* Drops the parsed definitions of inactive persistent domains; they
 * come back from def_xml when needed. Runs when the main loop is idle,
 * so a definition borrowed by a handler stays valid for its whole run. */
static gboolean
compact_now(gpointer data)
{
    VdDomainList *list = data;
    GHashTableIter it;
    gpointer value;
    list->compact_source = 0;
    g_hash_table_iter_init(&it, list->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        VdDomainObj *dom = value;
        if (dom->def && dom->def_xml && dom->persistent && dom->job == VD_JOB_NONE &&
            !vd_state_is_active(dom->state))
            g_clear_pointer(&dom->def, vd_domain_def_free);
    }
    texts_repack(list);
    if (!list->trim_source)
        /* Low priority: under load, trimming every second only made
         * glibc fault the same pages back in; it runs once things calm. */
        list->trim_source =
            g_timeout_add_full(G_PRIORITY_DEFAULT_IDLE, 1000, trim_now, list, NULL);
    return G_SOURCE_REMOVE;
}

static void
schedule_compaction(VdDomainList *list)
{
    /* A timeout, not an idle source: under steady load the main loop is
     * never idle, and every definition parsed meanwhile stayed in memory
     * (issue 8: 200 clients defining for 60 s, 10 -> 64 MB). */
    if (list && !list->compact_source)
        list->compact_source = g_timeout_add(100, compact_now, list);
}

VdDomainDef *
vd_domain_obj_def(VdDomainObj *dom)
{
    if (!dom->def) {
        g_autoptr(GError) error = NULL;
        /* def_xml is our own output of a valid definition. */
        dom->def = vd_domain_def_new_from_stored_xml(dom->def_xml, -1, &error);
        if (!dom->def)
            g_error("domain '%s': its stored definition no longer parses: %s", dom->name,
                    error->message);
    }
    schedule_compaction(the_list);
    return dom->def;
}

const VdDomainDef *
vd_domain_obj_current_def(VdDomainObj *dom)
{
    return dom->live ? dom->live : vd_domain_obj_def(dom);
}

void
vd_domain_obj_set_state(VdDomainObj *dom, VdState state, VdStateReason reason)
{
    if (dom->state != state || dom->reason != reason)
        g_info("domain '%s': %s (%s) -> %s (%s)", dom->name, vd_state_to_string(dom->state),
               vd_state_reason_to_string(dom->reason), vd_state_to_string(state),
               vd_state_reason_to_string(reason));
    VdState old_state = dom->state;
    VdStateReason old_reason = dom->reason;
    dom->state = state;
    dom->reason = reason;
    /* The one place every state change goes through: the lifecycle
     * events (events.h) come from here. */
    vd_events_domain_state(dom->name, dom->uuid, old_state, old_reason, state, reason);
}

gboolean
vd_domain_obj_check(VdDomainObj *dom, VdOp op, GError **error)
{
    return vd_state_check(dom->name, dom->job, dom->state, op, error);
}

void
vd_domain_obj_wait_inactive(VdDomainObj *dom, VdDomainWaitFunc func, gpointer user_data)
{
    if (!vd_state_is_active(dom->state) && dom->job != VD_JOB_START) {
        func(dom, NULL, user_data);
        return;
    }
    VdDomainWaiter *w = g_new0(VdDomainWaiter, 1);
    w->func = func;
    w->user_data = user_data;
    dom->stop_waiters = g_slist_append(dom->stop_waiters, w);
}

void
vd_domain_obj_complete_waiters(VdDomainObj *dom, const GError *error)
{
    GSList *waiters = g_steal_pointer(&dom->stop_waiters);
    vd_domain_obj_ref(dom);
    for (GSList *l = waiters; l; l = l->next) {
        VdDomainWaiter *w = l->data;
        w->func(dom, error, w->user_data);
        g_free(w);
    }
    g_slist_free(waiters);
    vd_domain_obj_unref(dom);
}

VdDomainList *
vd_domain_list_new(const VdPaths *paths)
{
    VdDomainList *list = g_new0(VdDomainList, 1);
    list->paths = paths;
    list->by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)vd_domain_obj_unref);
    list->texts = g_string_chunk_new(64 * 1024);
    the_list = list;
    return list;
}

void
vd_domain_list_free(VdDomainList *list)
{
    if (!list)
        return;
    if (list->compact_source)
        g_source_remove(list->compact_source);
    if (list->trim_source)
        g_source_remove(list->trim_source);
    if (the_list == list)
        the_list = NULL;
    g_hash_table_destroy(list->by_name);
    g_string_chunk_free(list->texts);
    g_free(list);
}

const VdPaths *
vd_domain_list_paths(VdDomainList *list)
{
    return list->paths;
}

VdDomainObj *
vd_domain_list_find_name(VdDomainList *list, const char *name)
{
    return g_hash_table_lookup(list->by_name, name);
}

VdDomainObj *
vd_domain_list_find_uuid(VdDomainList *list, const char *uuid)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, list->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        VdDomainObj *dom = value;
        if (g_str_equal(dom->uuid, uuid))
            return dom;
    }
    return NULL;
}

VdDomainObj *
vd_domain_list_lookup(VdDomainList *list, const char *key, GError **error)
{
    VdDomainObj *dom = NULL;
    char uuid[37];
    int id;

    if (vd_key_as_id(key, &id)) {
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, list->by_name);
        while (!dom && g_hash_table_iter_next(&it, NULL, &value)) {
            VdDomainObj *d = value;
            if (d->id == id && vd_state_is_active(d->state))
                dom = d;
        }
    }
    if (!dom && vd_key_as_uuid(key, uuid))
        dom = vd_domain_list_find_uuid(list, uuid);
    if (!dom)
        dom = vd_domain_list_find_name(list, key);
    if (!dom)
        g_set_error(error, VD_ERROR, VD_ERROR_NO_DOMAIN,
                    "Domain not found: no domain with matching name '%s'", key);
    return dom;
}

static gint
compare_domains(gconstpointer a, gconstpointer b)
{
    const VdDomainObj *x = *(VdDomainObj *const *)a;
    const VdDomainObj *y = *(VdDomainObj *const *)b;
    gboolean xa = vd_state_is_active(x->state), ya = vd_state_is_active(y->state);
    if (xa != ya)
        return xa ? -1 : 1;
    if (xa && x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return g_strcmp0(x->name, y->name);
}

GPtrArray *
vd_domain_list_all(VdDomainList *list)
{
    GPtrArray *arr = g_ptr_array_new_with_free_func((GDestroyNotify)vd_domain_obj_unref);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, list->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(arr, vd_domain_obj_ref(value));
    g_ptr_array_sort(arr, compare_domains);
    return arr;
}

int
vd_domain_list_next_id(VdDomainList *list)
{
    return ++list->last_id;
}

/* Writes the definition; returns its text (which the object keeps). */
static char *
save_config(VdDomainList *list, const VdDomainDef *def, GError **error)
{
    g_autofree char *path = vd_paths_domain_config(list->paths, def->name);
    g_autofree char *xml = vd_domain_def_format(def, VD_DOMAIN_FORMAT_SECURE);
    if (!vd_file_write_atomic(path, xml, -1, 0600, error))
        return NULL;
    return g_steal_pointer(&xml);
}

/* Name and UUID must each belong to at most one domain. */
static gboolean
check_unique(VdDomainList *list, const VdDomainDef *def, VdDomainObj **existing, GError **error)
{
    VdDomainObj *by_name = vd_domain_list_find_name(list, def->name);
    VdDomainObj *by_uuid = vd_domain_list_find_uuid(list, def->uuid);

    if (by_name && !g_str_equal(by_name->uuid, def->uuid)) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "operation failed: domain '%s' already exists with uuid %s", def->name,
                    by_name->uuid);
        return FALSE;
    }
    if (by_uuid && !g_str_equal(by_uuid->name, def->name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "operation failed: domain '%s' is already defined with uuid %s",
                    by_uuid->name, def->uuid);
        return FALSE;
    }
    *existing = by_name;
    return TRUE;
}

VdDomainObj *
vd_domain_list_define(VdDomainList *list, VdDomainDef *def, GError **error)
{
    VdDomainObj *dom = NULL;

    if (!check_unique(list, def, &dom, error))
        return NULL;
    char *xml = save_config(list, def, error);
    if (!xml)
        return NULL;
    gboolean updated = dom && dom->persistent;
    if (dom) {
        /* Redefinition: the running instance keeps its live definition;
         * the new one applies from the next start. */
        domain_obj_set_def(dom, def, xml);
        dom->persistent = TRUE;
    } else {
        dom = domain_obj_new(def);
        domain_obj_set_def(dom, def, xml);
        dom->persistent = TRUE;
        g_hash_table_insert(list->by_name, g_strdup(def->name), dom);
    }
    schedule_compaction(list);
    vd_events_domain(dom->name, dom->uuid, "lifecycle", "Defined", updated ? "Updated" : "Added",
                     NULL);
    return dom;
}

VdDomainObj *
vd_domain_list_add_transient(VdDomainList *list, VdDomainDef *def, GError **error)
{
    VdDomainObj *dom = NULL;

    if (!check_unique(list, def, &dom, error))
        return NULL;
    if (dom) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "operation failed: domain '%s' already exists with uuid %s", def->name,
                    dom->uuid);
        return NULL;
    }
    dom = domain_obj_new(def);
    dom->persistent = FALSE;
    g_hash_table_insert(list->by_name, g_strdup(def->name), dom);
    return dom;
}

gboolean
vd_domain_list_undefine(VdDomainList *list, VdDomainObj *dom, GError **error)
{
    g_autofree char *path = vd_paths_domain_config(list->paths, dom->name);
    g_autofree char *link = vd_paths_domain_autostart(list->paths, dom->name);

    if (!dom->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot undefine transient domain");
        return FALSE;
    }
    /* A running domain lives on as a transient one: it needs its parsed
     * definition from now on. */
    vd_domain_obj_def(dom);
    if (g_unlink(link) < 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot remove '%s': %s", link,
                    g_strerror(saved));
        return FALSE;
    }
    if (g_unlink(path) < 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot remove '%s': %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    dom->persistent = FALSE;
    dom->autostart = FALSE;
    texts_drop(list, dom);
    if (vd_state_is_active(dom->state)) {
        GError *ignored = NULL;
        if (!vd_domain_status_save(list, dom, &ignored)) {
            g_warning("%s", ignored->message);
            g_error_free(ignored);
        }
    }
    vd_events_domain(dom->name, dom->uuid, "lifecycle", "Undefined", "Removed", NULL);
    vd_domain_list_forget_if_gone(list, dom);
    return TRUE;
}

/* A file named after the domain follows it; a failure is only logged:
 * the definition, already renamed, is what matters. */
static void
rename_file(const char *from, const char *to)
{
    if (g_rename(from, to) < 0 && errno != ENOENT)
        g_warning("domrename: cannot rename '%s' to '%s': %s", from, to, g_strerror(errno));
}

gboolean
vd_domain_list_rename(VdDomainList *list, VdDomainObj *dom, const char *new_name, GError **error)
{
    g_autofree char *old_name = g_strdup(dom->name);
    g_autofree char *old_path = vd_paths_domain_config(list->paths, old_name);
    g_autofree char *old_link = vd_paths_domain_autostart(list->paths, old_name);
    g_autofree char *old_nvram = vd_paths_domain_nvram(list->paths, old_name);
    g_autofree char *new_nvram = vd_paths_domain_nvram(list->paths, new_name);
    VdDomainObj *other = vd_domain_list_find_name(list, new_name);

    if (other) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "operation failed: domain with name '%s' already exists", new_name);
        return FALSE;
    }
    VdDomainDef *def = vd_domain_def_copy(vd_domain_obj_def(dom));
    g_free(def->name);
    def->name = g_strdup(new_name);
    gboolean nvram_default = !def->os.nvram || g_str_equal(def->os.nvram, old_nvram);
    if (def->os.nvram && nvram_default) {
        g_free(def->os.nvram);
        def->os.nvram = g_strdup(new_nvram);
    }
    /* The new file first, written atomically; only then does the old one
     * go: a crash in between leaves the old definition, or both (the
     * second refused at load as a duplicate UUID, never lost). */
    char *xml = save_config(list, def, error);
    if (!xml) {
        vd_domain_def_free(def);
        return FALSE;
    }
    if (dom->autostart) {
        g_autofree char *link = vd_paths_domain_autostart(list->paths, new_name);
        g_autofree char *target = vd_paths_domain_config(list->paths, new_name);
        if (symlink(target, link) < 0 && errno != EEXIST)
            g_warning("domrename: cannot create '%s': %s", link, g_strerror(errno));
        g_unlink(old_link);
    }
    if (g_unlink(old_path) < 0 && errno != ENOENT)
        g_warning("domrename: cannot remove '%s': %s", old_path, g_strerror(errno));
    if (nvram_default)
        rename_file(old_nvram, new_nvram);
    g_autofree char *old_log = vd_paths_domain_console_log(list->paths, old_name);
    g_autofree char *new_log = vd_paths_domain_console_log(list->paths, new_name);
    rename_file(old_log, new_log);
    g_autofree char *old_qlog = vd_paths_domain_log(list->paths, old_name);
    g_autofree char *new_qlog = vd_paths_domain_log(list->paths, new_name);
    rename_file(old_qlog, new_qlog);

    /* The registry's key is the name: re-key the object. */
    vd_domain_obj_ref(dom);
    g_hash_table_remove(list->by_name, old_name);
    g_free(dom->name);
    dom->name = g_strdup(new_name);
    domain_obj_set_def(dom, def, xml);
    g_hash_table_insert(list->by_name, g_strdup(new_name), dom);
    schedule_compaction(list);
    /* As libvirt: the old name goes, the new one comes. */
    vd_events_domain(old_name, dom->uuid, "lifecycle", "Undefined", "Renamed", NULL);
    vd_events_domain(dom->name, dom->uuid, "lifecycle", "Defined", "Renamed", NULL);
    return TRUE;
}

void
vd_domain_list_forget_if_gone(VdDomainList *list, VdDomainObj *dom)
{
    if (dom->persistent || vd_state_is_active(dom->state) || dom->job != VD_JOB_NONE)
        return;
    vd_snapshot_domain_gone(list->paths, dom->name);
    g_hash_table_remove(list->by_name, dom->name);
}

gboolean
vd_domain_list_set_autostart(VdDomainList *list, VdDomainObj *dom, gboolean on, GError **error)
{
    g_autofree char *link = vd_paths_domain_autostart(list->paths, dom->name);
    g_autofree char *target = vd_paths_domain_config(list->paths, dom->name);

    if (!dom->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot set autostart for transient domain");
        return FALSE;
    }
    if (on) {
        if (symlink(target, link) < 0 && errno != EEXIST) {
            int saved = errno;
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create '%s': %s", link,
                        g_strerror(saved));
            return FALSE;
        }
    } else if (g_unlink(link) < 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot remove '%s': %s", link,
                    g_strerror(saved));
        return FALSE;
    }
    dom->autostart = on;
    return TRUE;
}

void
vd_domain_list_load_config(VdDomainList *list)
{
    g_autoptr(GDir) dir = g_dir_open(list->paths->domains_dir, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".xml") || entry[0] == '.')
            continue;
        g_autofree char *path = g_build_filename(list->paths->domains_dir, entry, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) error = NULL;
        gsize len;

        if (!g_file_get_contents(path, &xml, &len, &error)) {
            g_warning("skipping %s: %s", path, error->message);
            continue;
        }
        VdDomainDef *def = vd_domain_def_new_from_stored_xml(xml, (gssize)len, &error);
        if (!def) {
            g_warning("skipping %s: %s", path, error->message);
            continue;
        }
        g_autofree char *expected = g_strconcat(def->name, ".xml", NULL);
        if (!g_str_equal(expected, entry) || vd_domain_list_find_name(list, def->name) ||
            vd_domain_list_find_uuid(list, def->uuid)) {
            g_warning("skipping %s: name or uuid clashes with another definition", path);
            vd_domain_def_free(def);
            continue;
        }
        VdDomainObj *dom = domain_obj_new(def);
        domain_obj_set_def(dom, def, g_steal_pointer(&xml));
        /* Parsed once to check it; kept as text until needed, so that
         * loading many definitions never holds them all parsed at once. */
        g_clear_pointer(&dom->def, vd_domain_def_free);
        dom->persistent = TRUE;
        g_autofree char *link = vd_paths_domain_autostart(list->paths, dom->name);
        dom->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK);
        g_hash_table_insert(list->by_name, g_strdup(dom->name), dom);
    }
    schedule_compaction(list);
}

/* <domstatus state='running' reason='booted' pid='1234' id='3'
 *   persistent='yes' [start-phase='setting-up']> <domain ...live.../> </domstatus> */
gboolean
vd_domain_status_save(VdDomainList *list, VdDomainObj *dom, GError **error)
{
    g_autofree char *path = vd_paths_domain_run(list->paths, dom->name, "xml");
    g_autofree char *live = vd_domain_def_format(vd_domain_obj_current_def(dom),
                                                 VD_DOMAIN_FORMAT_LIVE | VD_DOMAIN_FORMAT_SECURE);
    g_autofree char *state = g_markup_escape_text(vd_state_to_string(dom->state), -1);
    g_autofree char *phase =
        dom->start_phase != VD_START_PHASE_NONE
            ? g_strdup_printf(" start-phase='%s'", vd_start_phase_to_string(dom->start_phase))
            : g_strdup("");
    g_autofree char *text = g_strdup_printf(
        "<domstatus state='%s' reason='%d' pid='%d' id='%d' persistent='%s'%s>\n%s</domstatus>\n",
        state, (int)dom->reason, (int)dom->pid, dom->id, dom->persistent ? "yes" : "no", phase,
        live);
    return vd_file_replace(path, text, -1, 0600, error);
}

void
vd_domain_status_remove(VdDomainList *list, VdDomainObj *dom)
{
    g_autofree char *path = vd_paths_domain_run(list->paths, dom->name, "xml");
    g_unlink(path);
}

static VdState
state_from_string(const char *s)
{
    for (int i = 0; i < VD_STATE_LAST; i++)
        if (g_strcmp0(vd_state_to_string((VdState)i), s) == 0)
            return (VdState)i;
    return VD_STATE_NOSTATE;
}

static VdDomainObj *
load_status_file(VdDomainList *list, const char *path)
{
    g_autoptr(GError) error = NULL;
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    VdDomainObj *dom = NULL;

    if (!doc) {
        g_warning("ignoring unreadable status file %s", path);
        return NULL;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *child = root ? root->children : NULL;
    while (child && child->type != XML_ELEMENT_NODE)
        child = child->next;
    if (!root || !child || !xmlStrEqual(root->name, BAD_CAST "domstatus")) {
        g_warning("ignoring malformed status file %s", path);
        xmlFreeDoc(doc);
        return NULL;
    }
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, child, 0, 0);
    VdDomainDef *live = vd_domain_def_new_from_stored_xml((const char *)xmlBufferContent(buf),
                                                          xmlBufferLength(buf), &error);
    xmlBufferFree(buf);

    g_autofree char *state = (char *)xmlGetProp(root, BAD_CAST "state");
    g_autofree char *reason = (char *)xmlGetProp(root, BAD_CAST "reason");
    g_autofree char *pid = (char *)xmlGetProp(root, BAD_CAST "pid");
    g_autofree char *id = (char *)xmlGetProp(root, BAD_CAST "id");
    g_autofree char *phase = (char *)xmlGetProp(root, BAD_CAST "start-phase");
    xmlFreeDoc(doc);
    if (!live) {
        g_warning("ignoring status file %s: %s", path, error->message);
        return NULL;
    }

    dom = vd_domain_list_find_name(list, live->name);
    if (dom && !g_str_equal(dom->uuid, live->uuid)) {
        g_warning("ignoring status file %s: uuid differs from the definition", path);
        vd_domain_def_free(live);
        return NULL;
    }
    if (!dom) {
        /* A transient domain: its definition is the live one. */
        dom = domain_obj_new(vd_domain_def_copy(live));
        dom->persistent = FALSE;
        g_hash_table_insert(list->by_name, g_strdup(live->name), dom);
    }
    dom->live = live;
    dom->state = state_from_string(state);
    dom->reason = reason ? (VdStateReason)atoi(reason) : VD_REASON_UNKNOWN;
    if ((guint)dom->reason >= VD_REASON_LAST)
        dom->reason = VD_REASON_UNKNOWN;
    dom->pid = pid ? (pid_t)atoi(pid) : 0;
    dom->id = id ? atoi(id) : -1;
    dom->start_phase = vd_start_phase_from_string(phase);
    live->id = dom->id;
    if (dom->id > list->last_id)
        list->last_id = dom->id;
    return dom;
}

GPtrArray *
vd_domain_list_load_status(VdDomainList *list)
{
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)vd_domain_obj_unref);
    g_autoptr(GDir) dir = g_dir_open(list->paths->run_domains_dir, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".xml") || entry[0] == '.')
            continue;
        g_autofree char *path = g_build_filename(list->paths->run_domains_dir, entry, NULL);
        VdDomainObj *dom = load_status_file(list, path);
        if (dom)
            g_ptr_array_add(found, vd_domain_obj_ref(dom));
    }
    return found;
}
