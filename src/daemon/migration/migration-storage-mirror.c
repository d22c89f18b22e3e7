/* Copied storage on the source (migration-priv.h, "Storage";
 * docs/migration-storage.md): each copied disk mirrored into its NBD
 * export on the destination, in sync before RAM moves, completed after.
 *
 *   start   query-block (each disk's root node: the top of its chain),
 *           blockdev-add of an NBD client node per disk, blockdev-mirror
 *           (sync full, or top for --copy-storage-inc; write-blocking);
 *           query-block-jobs every POLL_MS until every mirror is ready
 *   end ok  (QEMU's stream complete, guest paused) block-job-cancel of
 *           each ready mirror: QEMU completes it with every block on the
 *           destination and the guest still on its own disks (libvirt's
 *           way); then job-dismiss and blockdev-del of the NBD nodes
 *   failure block-job-cancel force, job-dismiss, blockdev-del: the guest
 *           runs on, on its own disks
 *
 * The mirrors run with auto-dismiss off, so a mirror that failed between
 * two polls (ENOSPC on the destination, the connection cut) waits in
 * query-block-jobs with QEMU's error: polling loses nothing and needs no
 * hook into the QMP events. */
#include <string.h>

#include "migration-storage-priv.h"
#include "qemu/qemu-fdset-paths.h"
#include "qemu/qemu-blockjob.h"
#include "qemu/qemu-migration-storage.h"
#include "util/vd-error.h"

#define POLL_MS 100

typedef enum { ST_STARTING, ST_SYNCING, ST_READY, ST_ENDING } Stage;

typedef struct {
    char *target;
    char *export_name;
    char *root;
    gboolean full; /* sync full: --copy-storage-all, or a disk with no backing file */
    gboolean node_added;
    gboolean mirror_started;
    gboolean cancel_asked;
    VdMirrorInfo info;
} Mirror;

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;   /* a reference */
    GPtrArray *mirrors; /* Mirror* */
    gboolean full;
    char *host;
    guint16 port;
    Stage stage;
    guint next; /* the disk the start chain is at */
    guint timer;
    gint64 logged; /* monotonic µs of the last progress line in the log */
    gboolean busy; /* a QMP command of the chain is on its way */
    gboolean end_ok;
    GError *error; /* the first failure */
    VdMigrationStepDone ready;
    gpointer ready_data;
    VdMigrationStepDone done;
    gpointer done_data;
} Src;

static GHashTable *src_by_dom; /* VdDomainObj* -> Src* */

static void
mirror_free(gpointer p)
{
    Mirror *m = p;
    g_free(m->target);
    g_free(m->export_name);
    g_free(m->root);
    vd_mirror_info_clear(&m->info);
    g_free(m);
}

static GHashTable *
sources(void)
{
    if (!src_by_dom)
        src_by_dom = g_hash_table_new(g_direct_hash, g_direct_equal);
    return src_by_dom;
}

static void
src_free(Src *s)
{
    if (s->timer)
        g_source_remove(s->timer);
    g_hash_table_remove(sources(), s->dom);
    vd_migration_storage_progress_clear(s->dom);
    g_ptr_array_unref(s->mirrors);
    g_free(s->host);
    g_clear_error(&s->error);
    vd_domain_obj_unref(s->dom);
    g_free(s);
}

static gboolean
qmp_up(Src *s)
{
    return s->dom->qmp && vd_qmp_is_connected(s->dom->qmp);
}

static void
set_error(Src *s, GError *error)
{
    if (!s->error)
        s->error = error;
    else
        g_error_free(error);
}

static void teardown(Src *s);

/* Calls ready() with the start's failure (if it has not been called),
 * after the mirrors are gone. */
static void
start_failed(Src *s, GError *error)
{
    set_error(s, error);
    s->end_ok = FALSE;
    s->stage = ST_ENDING;
    teardown(s);
}

/* ---- the end: cancel, wait until concluded, dismiss, delete ---- */

static void teardown_next(Src *s);

static void
end_report(Src *s)
{
    /* Out of the table before any callback: one may call mirror_end. */
    VdDomainObj *dom = vd_domain_obj_ref(s->dom);
    VdMigrationStepDone ready = s->ready, done = s->done;
    gpointer ready_data = s->ready_data, done_data = s->done_data;
    gboolean end_ok = s->end_ok;
    GError *error = g_steal_pointer(&s->error);
    src_free(s);
    /* A start that never got ready reports to ready(); an end to done(). */
    if (ready) {
        if (!error)
            error =
                g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "the disks' copy was abandoned");
        ready(dom, error, ready_data);
    }
    if (done)
        done(dom, end_ok ? error : NULL, done_data);
    g_clear_error(&error);
    vd_domain_obj_unref(dom);
}

static void
td_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Src *s = data;
    (void)qmp, (void)result;
    s->busy = FALSE;
    if (error)
        g_message("domain '%s': ending the disks' mirrors: %s", s->dom->name, error->message);
    teardown_next(s);
}

static gboolean poll_jobs(gpointer data);

/* Steps, each asked once per mirror: cancel; (wait) dismiss; del. */
static void
teardown_next(Src *s)
{
    if (!qmp_up(s)) {
        if (s->end_ok && !s->error)
            s->error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                   "QEMU of domain '%s' ended before its disks' copy completed",
                                   s->dom->name);
        end_report(s);
        return;
    }
    for (guint i = 0; i < s->mirrors->len; i++) {
        Mirror *m = g_ptr_array_index(s->mirrors, i);
        if (m->mirror_started && m->info.state != VD_MIRROR_ABSENT &&
            m->info.state != VD_MIRROR_CONCLUDED) {
            /* Cancel once, then wait for it to conclude. */
            if (!m->cancel_asked) {
                m->cancel_asked = TRUE;
                s->busy = TRUE;
                vd_qmp_command(s->dom->qmp, "block-job-cancel",
                               vd_qemu_migration_mirror_cancel(m->target, !s->end_ok), td_reply, s);
                return;
            }
            if (!s->timer)
                s->timer = g_timeout_add(POLL_MS, poll_jobs, s);
            return;
        }
    }
    for (guint i = 0; i < s->mirrors->len; i++) {
        Mirror *m = g_ptr_array_index(s->mirrors, i);
        if (m->mirror_started && m->info.state == VD_MIRROR_CONCLUDED) {
            if (s->end_ok && m->info.error)
                set_error(s, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                         "disk '%s': its copy to the destination failed: %s",
                                         m->target, m->info.error));
            m->mirror_started = FALSE;
            s->busy = TRUE;
            vd_qmp_command(s->dom->qmp, "job-dismiss", vd_qemu_migration_mirror_dismiss(m->target),
                           td_reply, s);
            return;
        }
        m->mirror_started = FALSE;
        if (m->node_added) {
            g_autofree char *node = vd_qemu_nbd_client_node(m->target);
            m->node_added = FALSE;
            s->busy = TRUE;
            vd_qmp_command(s->dom->qmp, "blockdev-del", vd_qemu_blockdev_del(node), td_reply, s);
            return;
        }
    }
    end_report(s);
}

static void
teardown(Src *s)
{
    if (s->timer) {
        g_source_remove(s->timer);
        s->timer = 0;
    }
    if (!s->busy)
        teardown_next(s);
}

/* ---- polling ---- */

static void
jobs_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Src *s = data;
    (void)qmp;
    s->busy = FALSE;
    if (error) {
        GError *e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "cannot follow the disks' copy: %s", error->message);
        if (s->stage == ST_ENDING) {
            set_error(s, e);
            end_report(s);
        } else {
            start_failed(s, e);
        }
        return;
    }
    gboolean all_ready = TRUE;
    guint64 total = 0, done = 0;
    for (guint i = 0; i < s->mirrors->len; i++) {
        Mirror *m = g_ptr_array_index(s->mirrors, i);
        if (!m->mirror_started)
            continue;
        vd_qemu_migration_mirror_find(result, m->target, &m->info);
        total += m->info.len;
        done += m->info.offset;
        if (m->info.state != VD_MIRROR_READY)
            all_ready = FALSE;
        if (s->stage == ST_SYNCING &&
            (m->info.state == VD_MIRROR_CONCLUDED || m->info.state == VD_MIRROR_ABSENT)) {
            start_failed(s,
                         g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                     "disk '%s': its copy to the destination failed: %s", m->target,
                                     m->info.error ? m->info.error : "the mirror ended"));
            return;
        }
    }
    vd_migration_storage_progress_set(s->dom, total, done);
    gint64 now = g_get_monotonic_time();
    if (s->stage == ST_SYNCING && !all_ready && now - s->logged > 10 * G_USEC_PER_SEC) {
        if (s->logged)
            g_info("migration of '%s': disks copied %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                   " bytes, not in sync yet",
                   s->dom->name, done, total);
        s->logged = now;
    }
    if (s->stage == ST_SYNCING && all_ready) {
        g_info("migration of '%s': disks in sync (%" G_GUINT64_FORMAT " bytes)", s->dom->name,
               total);
        s->stage = ST_READY;
        VdMigrationStepDone ready = s->ready;
        s->ready = NULL;
        ready(s->dom, NULL, s->ready_data);
        return;
    }
    if (s->stage == ST_ENDING) {
        /* Cancels to ask, or more waiting, or the clean-up. */
        teardown_next(s);
        return;
    }
    if (!s->timer)
        s->timer = g_timeout_add(POLL_MS, poll_jobs, s);
}

static gboolean
poll_jobs(gpointer data)
{
    Src *s = data;
    s->timer = 0;
    if (s->busy) {
        s->timer = g_timeout_add(POLL_MS, poll_jobs, s);
        return G_SOURCE_REMOVE;
    }
    if (!qmp_up(s)) {
        if (s->stage == ST_ENDING)
            teardown_next(s);
        else
            start_failed(s, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "QEMU of domain '%s' ended during the disks' copy",
                                        s->dom->name));
        return G_SOURCE_REMOVE;
    }
    s->busy = TRUE;
    vd_qmp_command(s->dom->qmp, "query-block-jobs", NULL, jobs_reply, s);
    return G_SOURCE_REMOVE;
}

/* ---- the start chain ---- */

static void start_next(Src *s);

static void
start_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Src *s = data;
    (void)qmp, (void)result;
    s->busy = FALSE;
    if (s->stage == ST_ENDING) { /* mirror_end came meanwhile */
        teardown(s);
        return;
    }
    if (error) {
        Mirror *m = g_ptr_array_index(s->mirrors, s->next);
        start_failed(s, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                    "disk '%s': cannot copy it to the destination (NBD %s:%u): %s",
                                    m->target, s->host, s->port, error->message));
        return;
    }
    start_next(s);
}

static void
start_next(Src *s)
{
    if (!qmp_up(s)) {
        start_failed(s,
                     g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                 "QEMU of domain '%s' ended during the disks' copy", s->dom->name));
        return;
    }
    for (; s->next < s->mirrors->len; s->next++) {
        Mirror *m = g_ptr_array_index(s->mirrors, s->next);
        if (!m->node_added) {
            m->node_added = TRUE;
            s->busy = TRUE;
            /* Each step in the log: a copy that never gets in sync says
             * where it stands (QEMU connects to the export synchronously). */
            g_info("migration of '%s': disk '%s' connects to the destination's NBD export "
                   "%s:%u",
                   s->dom->name, m->target, s->host, s->port);
            vd_qmp_command(s->dom->qmp, "blockdev-add",
                           vd_qemu_nbd_client_add(m->target, s->host, s->port, m->export_name),
                           start_reply, s);
            return;
        }
        if (!m->mirror_started) {
            g_info("migration of '%s': disk '%s' mirrored (%s)", s->dom->name, m->target,
                   m->full ? "whole" : "its top image");
            m->mirror_started = TRUE;
            m->info.state = VD_MIRROR_RUNNING;
            s->busy = TRUE;
            vd_qmp_command(s->dom->qmp, "blockdev-mirror",
                           vd_qemu_migration_mirror(m->target, m->root, m->full), start_reply, s);
            return;
        }
    }
    s->stage = ST_SYNCING;
    poll_jobs(s);
}

static void
block_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Src *s = data;
    (void)qmp;
    s->busy = FALSE;
    if (s->stage == ST_ENDING) {
        teardown(s);
        return;
    }
    if (error) {
        start_failed(s, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                    "cannot read the disks' block nodes: %s", error->message));
        return;
    }
    for (guint i = 0; i < s->mirrors->len; i++) {
        Mirror *m = g_ptr_array_index(s->mirrors, i);
        g_autoptr(GPtrArray) chain = vd_qemu_block_chain(result, m->target, &m->root);
        /* --copy-storage-inc of a disk without a backing file copies it
         * whole (the destination made it whole too). */
        m->full = s->full || !chain || chain->len <= 1;
        if (!chain || !m->root || !*m->root) {
            start_failed(s, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "disk '%s' is not open in QEMU: it cannot be copied",
                                        m->target));
            return;
        }
    }
    start_next(s);
}

/* HOST of "tcp:HOST:PORT" ("[v6]" unbracketed), for an answer without
 * nbd_host: the destination's QEMU listens there for RAM already. */
static char *
host_of_uri(const char *uri)
{
    if (!uri || !g_str_has_prefix(uri, "tcp:"))
        return NULL;
    const char *h = uri + 4;
    if (*h == '[') {
        const char *end = strchr(h, ']');
        return end ? g_strndup(h + 1, (gsize)(end - h - 1)) : NULL;
    }
    const char *colon = strrchr(h, ':');
    return colon ? g_strndup(h, (gsize)(colon - h)) : g_strdup(h);
}

void
vd_migration_storage_mirror_start(VdDaemon *d, VdDomainObj *dom, const VdMigrationAnswer *answer,
                                  VdMigrateCopy copy, VdMigrationStepDone ready, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (copy == VD_MIGRATE_COPY_NONE || !answer || !answer->nbd_disks ||
        answer->nbd_disks->len == 0) {
        ready(dom, NULL, user_data);
        return;
    }
    g_autofree char *host =
        answer->nbd_host ? g_strdup(answer->nbd_host) : host_of_uri(answer->migrate_uri);
    if (!host || !answer->nbd_port) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the destination gave no NBD server for the disks' copy");
        ready(dom, error, user_data);
        return;
    }
    if (g_hash_table_contains(sources(), dom) || !dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "domain '%s' is not running, or its disks are being copied already", dom->name);
        ready(dom, error, user_data);
        return;
    }
    Src *s = g_new0(Src, 1);
    s->d = d;
    s->dom = vd_domain_obj_ref(dom);
    s->mirrors = g_ptr_array_new_with_free_func(mirror_free);
    s->full = copy != VD_MIGRATE_COPY_INC;
    s->host = g_steal_pointer(&host);
    s->port = answer->nbd_port;
    s->ready = ready;
    s->ready_data = user_data;
    for (guint i = 0; i < answer->nbd_disks->len; i++) {
        VdMigrationNbdDisk *nd = g_ptr_array_index(answer->nbd_disks, i);
        Mirror *m = g_new0(Mirror, 1);
        m->target = g_strdup(nd->target);
        m->export_name = g_strdup(nd->export_name ? nd->export_name : nd->target);
        g_ptr_array_add(s->mirrors, m);
    }
    g_hash_table_insert(sources(), dom, s);
    s->busy = TRUE;
    vd_qmp_command_real_paths(dom->qmp, "query-block", NULL, block_reply, s);
}

void
vd_migration_storage_mirror_end(VdDaemon *d, VdDomainObj *dom, gboolean ok,
                                VdMigrationStepDone done, gpointer user_data)
{
    (void)d;
    Src *s = g_hash_table_lookup(sources(), dom);
    if (!s || s->done) {
        done(dom, NULL, user_data);
        return;
    }
    s->done = done;
    s->done_data = user_data;
    /* Completing needs every mirror ready: an end asked before that is
     * a failure, reported through done(). */
    s->end_ok = ok;
    if (ok && s->stage != ST_READY)
        set_error(s, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                 "the disks' copy was not in sync yet"));
    s->stage = ST_ENDING;
    teardown(s);
}

/* ---- after a daemon restart ---- */

static void
nodes_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Src *s = data;
    (void)qmp;
    s->busy = FALSE;
    JsonArray *nodes =
        !error && result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);
        const char *name = n ? json_object_get_string_member_with_default(n, "node-name", "") : "";
        if (!g_str_has_prefix(name, "migrate-") || !g_str_has_suffix(name, "-nbd"))
            continue;
        Mirror *m = g_new0(Mirror, 1);
        m->target = g_strndup(name + strlen("migrate-"), strlen(name) - strlen("migrate--nbd"));
        m->node_added = TRUE;
        m->mirror_started = TRUE; /* if there is no job, the cancel just fails */
        m->info.state = VD_MIRROR_RUNNING;
        g_ptr_array_add(s->mirrors, m);
        g_message("domain '%s': dropping the disk copy of '%s' left by an interrupted migration",
                  s->dom->name, m->target);
    }
    teardown_next(s);
}

void
vd_migration_storage_mirror_cleanup(VdDaemon *d, VdDomainObj *dom, VdMigrationStepDone done,
                                    gpointer user_data)
{
    if (g_hash_table_contains(sources(), dom) || !dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        done(dom, NULL, user_data);
        return;
    }
    Src *s = g_new0(Src, 1);
    s->d = d;
    s->dom = vd_domain_obj_ref(dom);
    s->mirrors = g_ptr_array_new_with_free_func(mirror_free);
    s->stage = ST_ENDING;
    s->done = done;
    s->done_data = user_data;
    g_hash_table_insert(sources(), dom, s);
    s->busy = TRUE;
    vd_qmp_command_real_paths(dom->qmp, "query-named-block-nodes", NULL, nodes_reply, s);
}
