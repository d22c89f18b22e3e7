/* What a daemon killed in the middle of a snapshot of a running domain
 * left: see snapshot.h (vd_snapshot_settle).
 *
 * The create flow writes SNAP.pending before QEMU's snapshot-save job
 * starts, and the metadata (SNAP.xml) once it has ended. QEMU finishes the
 * job without us, so at the restart a pending snapshot is either in every
 * image (the job concluded without error: it is kept, listed and current,
 * as if the create had returned) or missing from some (the job failed, or
 * QEMU died meanwhile: what it left in the images is deleted and the
 * record dropped). A snapshot-save job still running is waited for. */
#include "daemon/snapshot/snapshot.h"

#include "daemon/snapshot/snapshot-live.h"
#include "daemon/snapshot/snapshot-offline.h"
#include "daemon/snapshot/snapshot-priv.h"
#include "util/vd-error.h"

#define POLL_MS 200

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    VdSnapshotDef *snap; /* the pending record */
} Settle;

static void
settle_free(Settle *s)
{
    vd_domain_obj_unref(s->dom);
    vd_snapshot_def_free(s->snap);
    g_free(s);
}

/* @outcome: 1 kept, 0 removed, -1 left as it is (its file stays for the
 * next start; forgotten until then, so that the others get their turn). */
static void
settle_end(Settle *s, int outcome)
{
    VdSnapshotStore *store = vd_snapshot_store_get(s->d, s->dom);
    g_autoptr(GError) e = NULL;
    const char *name = s->snap->name;

    if (outcome == 1 && (!vd_snapshot_store_put(store, vd_snapshot_def_copy(s->snap), &e) ||
                         !vd_snapshot_store_set_current(store, name, &e))) {
        g_warning("domain '%s': snapshot '%s' is complete but its metadata was not saved: %s",
                  s->dom->name, name, e->message);
        outcome = -1;
    }
    if (outcome == 1)
        g_info("domain '%s': snapshot '%s', taken while the daemon stopped, is complete: kept",
               s->dom->name, name);
    else if (outcome == 0)
        g_info("domain '%s': snapshot '%s', begun when the daemon stopped, did not complete: "
               "removed from the images",
               s->dom->name, name);
    if (outcome == -1)
        g_hash_table_remove(store->pending, name);
    else
        vd_snapshot_store_drop_pending(store, name);
    if (s->dom->job == VD_JOB_SNAPSHOT)
        s->dom->job = VD_JOB_NONE;
    VdDaemon *d = s->d;
    g_autoptr(VdDomainObj) dom = vd_domain_obj_ref(s->dom);
    settle_free(s);
    vd_snapshot_settle(d, dom);
}

static void
discarded(VdDomainObj *dom, const GError *error, gpointer data)
{
    Settle *s = data;
    if (error)
        g_warning("domain '%s': cannot remove the partial snapshot '%s' from its images: %s; "
                  "tried again at the next start",
                  dom->name, s->snap->name, error->message);
    settle_end(s, error ? -1 : 0);
}

/* Deletes what the images hold of the snapshot (those without it are
 * fine): through QEMU when it runs, qemu-img otherwise. */
static void
discard(Settle *s)
{
    g_autoptr(GError) e = NULL;
    if (vd_state_is_active(s->dom->state) && s->dom->qmp) {
        vd_snapshot_live_delete(s->d, s->dom, s->snap, discarded, s);
        return;
    }
    g_autoptr(GPtrArray) images = vd_snapshot_internal_images(s->d, s->snap, &e);
    if (!images) {
        discarded(s->dom, e, s);
        return;
    }
    vd_snapshot_offline_run(s->dom, VD_SNAPSHOT_IMG_DELETE, s->snap->name, images, discarded, s);
}

static void
checked(VdDomainObj *dom, const GError *error, gpointer data)
{
    Settle *s = data;
    if (!error) {
        settle_end(s, 1);
    } else if (g_error_matches(error, VD_ERROR, VD_ERROR_NOT_FOUND)) {
        /* QEMU never got to write it anywhere */
        settle_end(s, 0);
    } else if (g_error_matches(error, VD_ERROR, VD_ERROR_INVALID_STATE)) {
        g_info("domain '%s': pending snapshot '%s': %s", dom->name, s->snap->name, error->message);
        discard(s);
    } else {
        g_warning("domain '%s': cannot tell whether snapshot '%s' is complete: %s; tried again "
                  "at the next start",
                  dom->name, s->snap->name, error->message);
        settle_end(s, -1);
    }
}

/* Complete only in every image (QEMU adds it to them one after the other
 * at the job's end). */
static void
check_images(Settle *s)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(GPtrArray) images = vd_snapshot_internal_images(s->d, s->snap, &e);
    if (!images) {
        g_warning("domain '%s': cannot tell whether snapshot '%s' is complete: %s; tried again "
                  "at the next start",
                  s->dom->name, s->snap->name, e->message);
        settle_end(s, -1);
        return;
    }
    vd_snapshot_offline_run(s->dom, VD_SNAPSHOT_IMG_HAS_ALL, s->snap->name, images, checked, s);
}

static void query_jobs(Settle *s);

static gboolean
requery(gpointer data)
{
    query_jobs(data);
    return G_SOURCE_REMOVE;
}

static void
dismiss_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    (void)qmp;
    (void)result;
    if (error)
        g_info("job-dismiss: %s", error->message);
    vd_domain_obj_unref(data);
}

static void
jobs_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Settle *s = data;
    VdDomainObj *dom = s->dom;
    gboolean found = FALSE, ok = FALSE, busy = FALSE;

    (void)qmp;
    if (error || !vd_state_is_active(dom->state) || !dom->qmp || !result ||
        !JSON_NODE_HOLDS_ARRAY(result)) {
        /* QEMU went away: the images say it all */
        check_images(s);
        return;
    }
    JsonArray *jobs = json_node_get_array(result);
    for (guint i = 0; i < json_array_get_length(jobs); i++) {
        JsonNode *n = json_array_get_element(jobs, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            continue;
        JsonObject *job = json_node_get_object(n);
        const char *type = json_object_get_string_member_with_default(job, "type", "");
        const char *status = json_object_get_string_member_with_default(job, "status", "");
        const char *id = json_object_get_string_member_with_default(job, "id", "");
        if (!g_str_equal(type, "snapshot-save") || !g_str_has_prefix(id, "vd-"))
            continue;
        found = TRUE;
        if (!g_str_equal(status, "concluded") && !g_str_equal(status, "null")) {
            busy = TRUE;
            continue;
        }
        if (!json_object_has_member(job, "error"))
            ok = TRUE;
        else
            g_info("domain '%s': snapshot-save job %s failed: %s", dom->name, id,
                   json_object_get_string_member_with_default(job, "error", ""));
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", id);
        vd_qmp_command(dom->qmp, "job-dismiss", args, dismiss_reply, vd_domain_obj_ref(dom));
    }
    if (busy) {
        /* QEMU still writes it: its end decides */
        g_timeout_add(POLL_MS, requery, s);
        return;
    }
    if (found && !ok)
        discard(s);
    else
        check_images(s);
}

static void
query_jobs(Settle *s)
{
    if (!vd_state_is_active(s->dom->state) || !s->dom->qmp) {
        check_images(s);
        return;
    }
    vd_qmp_command(s->dom->qmp, "query-jobs", NULL, jobs_reply, s);
}

/* ---- revert and delete intents ---- */

typedef struct {
    VdDaemon *d;
    const char *kind;
} Intent;

static void
intent_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    g_autofree Intent *in = data;
    VdDaemon *d = in->d;
    const char *kind = in->kind;
    if (error) {
        g_warning("domain '%s': cannot complete the snapshot %s the daemon stopped in: %s",
                  dom->name, kind, error->message);
        /* not again and again: the user sees the state and decides */
        vd_snapshot_store_clear_intent(vd_snapshot_store_get(d, dom), kind);
    } else {
        g_info("domain '%s': the snapshot %s the daemon stopped in is complete", dom->name, kind);
    }
    vd_snapshot_settle(d, dom);
}

/* Completes an offline revert or a delete begun by a daemon that was
 * killed: the same operation again (applying a snapshot twice, or
 * deleting what is gone already, is harmless). TRUE: one started. */
static gboolean
settle_intents(VdDaemon *d, VdDomainObj *dom)
{
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    g_autofree char *revert = vd_snapshot_store_get_intent(store, "revert");
    g_autofree char *delete = vd_snapshot_store_get_intent(store, "delete");

    if (revert &&
        (vd_state_is_active(dom->state) || !g_hash_table_contains(store->by_name, revert))) {
        /* started since (the revert had reached its start), or gone */
        vd_snapshot_store_clear_intent(store, "revert");
        g_clear_pointer(&revert, g_free);
    }
    if (revert) {
        g_info("domain '%s': completing the revert to snapshot '%s' the daemon stopped in",
               dom->name, revert);
        Intent *in = g_new0(Intent, 1);
        in->d = d;
        in->kind = "revert";
        vd_snapshot_revert(d, dom, revert, 0, intent_done, in);
        return TRUE;
    }
    if (delete &&!g_hash_table_contains(store->by_name, delete)) {
        vd_snapshot_store_clear_intent(store, "delete");
        g_clear_pointer(&delete, g_free);
    }
    if (delete) {
        g_info("domain '%s': completing the delete of snapshot '%s' the daemon stopped in",
               dom->name, delete);
        Intent *in = g_new0(Intent, 1);
        in->d = d;
        in->kind = "delete";
        vd_snapshot_delete(d, dom, delete, 0, intent_done, in);
        return TRUE;
    }
    return FALSE;
}

static gboolean
has_work(VdDaemon *d, VdDomainObj *dom)
{
    /* Most domains have no snapshot at all: no need to load their store. */
    g_autofree char *path = vd_paths_domain_snapshot_dir(d->paths, dom->name);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *entry;
    while (dir && (entry = g_dir_read_name(dir)))
        if (g_str_has_suffix(entry, ".pending") || g_str_has_suffix(entry, ".intent"))
            return TRUE;
    return FALSE;
}

void
vd_snapshot_settle(VdDaemon *d, VdDomainObj *dom)
{
    if (dom->job != VD_JOB_NONE || dom->reconnecting || dom->snapshot_live || !has_work(d, dom))
        return;
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, store->pending);
    if (!g_hash_table_iter_next(&it, NULL, &value)) {
        settle_intents(d, dom);
        return;
    }
    Settle *s = g_new0(Settle, 1);
    s->d = d;
    s->dom = vd_domain_obj_ref(dom);
    s->snap = vd_snapshot_def_copy(value);
    /* Other snapshot operations wait (vd_domain_obj_check). */
    dom->job = VD_JOB_SNAPSHOT;
    g_info("domain '%s': settling snapshot '%s', begun when the daemon stopped", dom->name,
           s->snap->name);
    query_jobs(s);
}

/* Metadata of a domain the registry does not have: an undefine (or the
 * end of a transient domain) that a kill cut between the definition's
 * removal and the metadata's. Finished here, so that it happened whole. */
static void
discard_orphans(VdDaemon *d)
{
    g_autofree char *top = g_build_filename(d->paths->state_dir, "snapshots", NULL);
    g_autoptr(GDir) dir = g_dir_open(top, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        if (vd_domain_list_find_name(d->domains, entry))
            continue;
        g_warning("removing the snapshot metadata of domain '%s', which no longer exists "
                  "(the daemon stopped while it was undefined)",
                  entry);
        vd_snapshot_domain_gone(d->paths, entry);
    }
}

void
vd_snapshot_settle_all(VdDaemon *d)
{
    discard_orphans(d);
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = all->pdata[i];
        /* a running one once its QEMU answers (vd_snapshot_settle from the reconnect) */
        if (!vd_state_is_active(dom->state))
            vd_snapshot_settle(d, dom);
    }
}
