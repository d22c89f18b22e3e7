/* domjobinfo and domjobabort for the long operation recorded in
 * dom->async_job (domain-job.h): a save or restore (QEMU's migration
 * stream: query-migrate, migrate_cancel), a snapshot (a QEMU job:
 * query-jobs, job-cancel), or the daemon's own work (no figures). */
#include "daemon/save/save-priv.h"

#include "daemon/migration/migration.h"
#include "util/vd-error.h"

void
vd_save_job_update_from_migrate(VdDomainAsyncJob *job, JsonObject *info)
{
    JsonObject *ram =
        json_object_has_member(info, "ram") ? json_object_get_object_member(info, "ram") : NULL;
    if (ram) {
        job->mem_total = (guint64)json_object_get_int_member_with_default(ram, "total", 0);
        job->mem_processed =
            (guint64)json_object_get_int_member_with_default(ram, "transferred", 0);
        job->mem_remaining = (guint64)json_object_get_int_member_with_default(ram, "remaining", 0);
        job->data_total = job->mem_total;
        job->data_processed = job->mem_processed;
        job->data_remaining = job->mem_remaining;
    }
    if (json_object_has_member(info, "downtime"))
        job->downtime_ms = (guint64)json_object_get_int_member(info, "downtime");
}

/* A migration copying disks: their bytes count in the data figures
 * (virsh's "Data processed" is memory and disks). */
static void
add_disk_copy(VdDomainObj *dom, VdDomainAsyncJob *job)
{
    guint64 total = 0, processed = 0;
    if (!vd_migration_storage_progress(dom, &total, &processed))
        return;
    job->data_total = job->mem_total + total;
    job->data_processed = job->mem_processed + processed;
    job->data_remaining = job->data_total > job->data_processed
                              ? job->data_total - job->data_processed
                              : 0;
}

typedef struct {
    VdDomainObj *dom;
    gboolean completed;
    VdSaveJobInfoFunc done;
    gpointer user_data;
} InfoReq;

static void
add_u64(JsonBuilder *b, const char *k, guint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, (gint64)v);
}

/* The answer: the recorded figures, and what @migrate (a query-migrate
 * answer, may be NULL) adds. */
static JsonNode *
build_info(VdDomainAsyncJob *job, gboolean completed, JsonObject *migrate)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    if (!job)
        json_builder_add_string_value(b, "none");
    else if (!completed)
        json_builder_add_string_value(b, "unbounded");
    else
        json_builder_add_string_value(b, job->succeeded         ? "completed"
                                         : job->abort_requested ? "cancelled"
                                                                : "failed");
    if (job) {
        json_builder_set_member_name(b, "operation");
        json_builder_add_string_value(b, job->operation);
        gint64 end = job->ended_us ? job->ended_us : g_get_real_time();
        add_u64(b, "time_elapsed_ms", (guint64)MAX(0, (end - job->started_us) / 1000));
        if (job->data_total) {
            add_u64(b, "data_total", job->data_total);
            add_u64(b, "data_processed", job->data_processed);
            add_u64(b, "data_remaining", job->data_remaining);
        }
        if (job->mem_total) {
            add_u64(b, "mem_total", job->mem_total);
            add_u64(b, "mem_processed", job->mem_processed);
            add_u64(b, "mem_remaining", job->mem_remaining);
        }
        if (completed)
            add_u64(b, "downtime_ms", job->downtime_ms);
        JsonObject *ram = migrate && json_object_has_member(migrate, "ram")
                              ? json_object_get_object_member(migrate, "ram")
                              : NULL;
        if (ram) {
            /* QEMU's mbps is megabits per second. */
            double mbps = json_object_get_double_member_with_default(ram, "mbps", 0);
            add_u64(b, "mem_bps", (guint64)(mbps * 1000000.0 / 8.0));
            add_u64(b, "mem_constant",
                    (guint64)json_object_get_int_member_with_default(ram, "duplicate", 0));
            add_u64(b, "mem_normal",
                    (guint64)json_object_get_int_member_with_default(ram, "normal", 0));
            add_u64(b, "mem_normal_bytes",
                    (guint64)json_object_get_int_member_with_default(ram, "normal-bytes", 0));
            add_u64(b, "mem_page_size",
                    (guint64)json_object_get_int_member_with_default(ram, "page-size", 0));
            add_u64(b, "mem_iteration",
                    (guint64)json_object_get_int_member_with_default(ram, "dirty-sync-count", 0));
            /* A migration's own figures (virsh's "Dirty rate", "Postcopy
             * requests"); QEMU reports them for a save too, as zeros. */
            if (g_str_has_suffix(job->operation, "migration")) {
                add_u64(b, "mem_dirty_rate",
                        (guint64)json_object_get_int_member_with_default(ram, "dirty-pages-rate",
                                                                         0));
                add_u64(b, "mem_postcopy_requests",
                        (guint64)json_object_get_int_member_with_default(ram, "postcopy-requests",
                                                                         0));
            }
        }
        if (migrate && !completed && json_object_has_member(migrate, "expected-downtime"))
            add_u64(b, "expected_downtime_ms",
                    (guint64)json_object_get_int_member(migrate, "expected-downtime"));
        if (migrate && json_object_has_member(migrate, "setup-time"))
            add_u64(b, "setup_time_ms", (guint64)json_object_get_int_member(migrate, "setup-time"));
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void
info_free(InfoReq *q)
{
    vd_domain_obj_unref(q->dom);
    g_free(q);
}

static void
migrate_queried(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    InfoReq *q = data;
    (void)qmp;
    VdDomainAsyncJob *job = vd_domain_async_job_current(q->dom);
    JsonObject *info =
        !error && result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
    if (job && info)
        vd_save_job_update_from_migrate(job, info);
    if (job)
        add_disk_copy(q->dom, job);
    /* A job that ended meanwhile is reported as none, as libvirt. */
    g_autoptr(JsonNode) node = build_info(job, FALSE, job ? info : NULL);
    q->done(q->dom, node, NULL, q->user_data);
    info_free(q);
}

static void
jobs_queried(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    InfoReq *q = data;
    (void)qmp;
    VdDomainAsyncJob *job = vd_domain_async_job_current(q->dom);
    JsonArray *jobs =
        !error && result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; job && jobs && i < json_array_get_length(jobs); i++) {
        JsonObject *j = json_array_get_object_element(jobs, i);
        if (!j ||
            g_strcmp0(json_object_get_string_member_with_default(j, "id", ""), job->qemu_job_id))
            continue;
        guint64 cur = (guint64)json_object_get_int_member_with_default(j, "current-progress", 0);
        guint64 tot = (guint64)json_object_get_int_member_with_default(j, "total-progress", 0);
        job->data_total = tot;
        job->data_processed = cur;
        job->data_remaining = tot > cur ? tot - cur : 0;
    }
    g_autoptr(JsonNode) node = build_info(job, FALSE, NULL);
    q->done(q->dom, node, NULL, q->user_data);
    info_free(q);
}

void
vd_save_job_info(VdDaemon *d, VdDomainObj *dom, gboolean completed, VdSaveJobInfoFunc done,
                 gpointer user_data)
{
    (void)d;
    if (completed) {
        VdDomainAsyncJob *job = dom->async_job && dom->async_job->ended_us ? dom->async_job : NULL;
        g_autoptr(JsonNode) node = build_info(job, TRUE, NULL);
        done(dom, node, NULL, user_data);
        return;
    }
    VdDomainAsyncJob *job = vd_domain_async_job_current(dom);
    if (!job || !dom->qmp || job->kind == VD_ASYNC_JOB_DAEMON) {
        if (job)
            add_disk_copy(dom, job); /* an offline copy's streams */
        g_autoptr(JsonNode) node = build_info(job, FALSE, NULL);
        done(dom, node, NULL, user_data);
        return;
    }
    InfoReq *q = g_new0(InfoReq, 1);
    q->dom = vd_domain_obj_ref(dom);
    q->done = done;
    q->user_data = user_data;
    if (job->kind == VD_ASYNC_JOB_MIGRATION)
        vd_qmp_command(dom->qmp, "query-migrate", NULL, migrate_queried, q);
    else
        vd_qmp_command(dom->qmp, "query-jobs", NULL, jobs_queried, q);
}

gboolean
vd_save_job_abort(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    /* A migration settles itself (the destination dropped, the guest
     * running on here): migration/ cancels it. */
    if (dom->job == VD_JOB_MIGRATION_OUT || dom->job == VD_JOB_MIGRATION_IN)
        return vd_migration_abort(d, dom, error);
    VdDomainAsyncJob *job = vd_domain_async_job_current(dom);
    if (!job) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: no job is active on the domain");
        return FALSE;
    }
    if (!job->abortable || (job->kind != VD_ASYNC_JOB_DAEMON && !dom->qmp)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot abort the %s job of domain '%s'",
                    job->operation, dom->name);
        return FALSE;
    }
    job->abort_requested = TRUE;
    switch (job->kind) {
    case VD_ASYNC_JOB_MIGRATION:
        /* Before the stream starts, the save sees abort_requested itself. */
        if (dom->job != VD_JOB_SAVE || vd_save_op_migrating(dom))
            vd_qmp_command(dom->qmp, "migrate_cancel", NULL, NULL, NULL);
        break;
    case VD_ASYNC_JOB_QEMU_JOB: {
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", job->qemu_job_id ? job->qemu_job_id : "");
        vd_qmp_command(dom->qmp, "job-cancel", args, NULL, NULL);
        break;
    }
    case VD_ASYNC_JOB_DAEMON:
        /* The owner of the job polls abort_requested. */
        break;
    }
    return TRUE;
}
