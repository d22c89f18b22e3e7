/* Internal snapshots of a running domain with its memory: see
 * snapshot-live.h.
 *
 * Each operation is one QEMU job (snapshot-save, -load, -delete): the
 * command is accepted at once, the job runs in QEMU while the monitor keeps
 * answering, its end is a JOB_STATUS_CHANGE to "concluded" (which may
 * arrive before the command's own reply), and only query-jobs says whether
 * it failed; then it is dismissed. dom->snapshot_live is the job in flight
 * (one per domain: the core's VD_JOB_SNAPSHOT keeps others out). Replies
 * carry the domain and the job's id, never the job itself, so a late reply
 * finds the job gone and does nothing. */
#include "daemon/snapshot/snapshot-live.h"

#include "daemon/domain/domain-files.h"
#include "daemon/domain/domain-process.h"
#include "daemon/domain/start-phase.h"
#include "qemu/qemu-snapshot.h"
#include "util/vd-error.h"

typedef void (*JobDone)(VdDomainObj *dom, const GError *error, gpointer data);

typedef struct {
    VdQemuSnapshotOp op;
    char *id;
    char *tag;
    gboolean accepted;     /* the command's reply came, without error */
    gboolean concluded;    /* QEMU says the job is over */
    gboolean querying;     /* query-jobs sent */
    gboolean transition;   /* holds one dom->internal_transition (STOP/RESUME are ours) */
    gboolean shown_paused; /* QEMU stopped the guest: shown "paused (snapshot)" */
    VdState was_state;
    VdStateReason was_reason;
    JobDone done;
    gpointer data;
} LiveJob;

typedef struct {
    VdDomainObj *dom;
    char *id;
} JobRef;

static JobRef *
job_ref_new(VdDomainObj *dom, const LiveJob *job)
{
    JobRef *r = g_new0(JobRef, 1);
    r->dom = vd_domain_obj_ref(dom);
    r->id = g_strdup(job->id);
    return r;
}

static void
job_ref_free(JobRef *r)
{
    vd_domain_obj_unref(r->dom);
    g_free(r->id);
    g_free(r);
}

/* The job @r was made for, if it is still in flight. */
static LiveJob *
job_of(JobRef *r)
{
    LiveJob *job = r->dom->snapshot_live;
    return job && g_str_equal(job->id, r->id) ? job : NULL;
}

static void
job_free(LiveJob *job)
{
    g_free(job->id);
    g_free(job->tag);
    g_free(job);
}

static GError *
job_error(VdDomainObj *dom, const LiveJob *job, const char *why)
{
    switch (job->op) {
    case VD_QEMU_SNAPSHOT_SAVE:
        return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                           "operation failed: QEMU could not save snapshot '%s' of domain '%s': %s",
                           job->tag, dom->name, why);
    case VD_QEMU_SNAPSHOT_LOAD:
        return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                           "operation failed: QEMU could not load snapshot '%s' of domain '%s': %s",
                           job->tag, dom->name, why);
    case VD_QEMU_SNAPSHOT_DELETE:
        break;
    }
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                       "operation failed: QEMU could not delete snapshot '%s' from the disks of "
                       "domain '%s': %s",
                       job->tag, dom->name, why);
}

static void
job_finish(VdDomainObj *dom, const GError *error)
{
    LiveJob *job = g_steal_pointer(&dom->snapshot_live);
    if (!job)
        return;
    if (job->transition && dom->internal_transition > 0)
        dom->internal_transition--;
    if (job->shown_paused && dom->qmp && dom->state == VD_STATE_PAUSED &&
        dom->reason == VD_REASON_SNAPSHOT) {
        /* QEMU resumes a guest it paused for a save; if no RESUME came,
         * say paused by the user, which resume can undo. */
        g_warning("domain '%s': still paused after snapshot '%s'", dom->name, job->tag);
        vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
    }
    g_autoptr(VdDomainObj) keep = vd_domain_obj_ref(dom);
    job->done(dom, error, job->data);
    job_free(job);
}

static void
dismiss_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    if (error)
        g_info("domain '%s': job-dismiss: %s", dom->name, error->message);
    vd_domain_obj_unref(dom);
}

static void
jobs_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    JobRef *r = data;
    LiveJob *job = job_of(r);
    if (!job) {
        job_ref_free(r);
        return;
    }
    VdDomainObj *dom = r->dom;
    const char *status = NULL, *why = NULL;
    g_autoptr(GError) failed = NULL;
    if (error) {
        failed = job_error(dom, job, error->message);
    } else if (!vd_qemu_job_find(result, job->id, &status, &why)) {
        failed = job_error(dom, job, "the job is not in query-jobs");
    } else {
        if (why)
            failed = job_error(dom, job, why);
        /* It stays "concluded" until dismissed (QEMU keeps it so that its
         * error can be read). */
        if (dom->qmp) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "id", job->id);
            vd_qmp_command(dom->qmp, "job-dismiss", args, dismiss_reply, vd_domain_obj_ref(dom));
        }
    }
    job_finish(dom, failed); /* before r, which holds dom */
    job_ref_free(r);
}

static void
maybe_query(VdDomainObj *dom, LiveJob *job)
{
    if (!job->accepted || !job->concluded || job->querying || !dom->qmp)
        return;
    job->querying = TRUE;
    vd_qmp_command(dom->qmp, "query-jobs", NULL, jobs_reply, job_ref_new(dom, job));
}

static void
command_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    JobRef *r = data;
    LiveJob *job = job_of(r);
    VdDomainObj *dom = r->dom;
    if (job && error) {
        g_autoptr(GError) failed = job_error(dom, job, error->message);
        job_finish(dom, failed);
        job_ref_free(r);
        return;
    }
    if (job) {
        job->accepted = TRUE;
        /* tests: killed while QEMU's job runs on (snapshot-recover.c) */
        if (job->op == VD_QEMU_SNAPSHOT_SAVE)
            vd_start_crash_point("snapshot-save-accepted");
        maybe_query(dom, job);
    }
    job_ref_free(r);
}

/* Runs one QEMU snapshot job on @dom; @done gets its end. */
static void
job_start(VdDomainObj *dom, VdQemuSnapshotOp op, const char *tag, const char *vmstate,
          GPtrArray *nodes, JobDone done, gpointer data)
{
    if (!dom->qmp || !vd_state_is_active(dom->state) || dom->snapshot_live) {
        g_autoptr(GError) e = g_error_new(
            VD_ERROR, VD_ERROR_OPERATION_FAILED,
            dom->snapshot_live ? "operation failed: domain '%s' has a snapshot job in QEMU already"
                               : "operation failed: domain '%s' is not running",
            dom->name);
        done(dom, e, data);
        return;
    }
    LiveJob *job = g_new0(LiveJob, 1);
    const char *command = vd_qemu_snapshot_command(op);
    job->op = op;
    /* Unique also across daemon restarts: a job left concluded by a
     * daemon that died keeps its id in QEMU. */
    job->id = g_strdup_printf("vd-%s-%" G_GINT64_FORMAT, command, g_get_real_time());
    job->tag = g_strdup(tag);
    job->done = done;
    job->data = data;
    dom->snapshot_live = job;

    /* domjobinfo asks QEMU about this job (the core began the record). */
    VdDomainAsyncJob *aj = vd_domain_async_job_current(dom);
    if (aj) {
        aj->kind = VD_ASYNC_JOB_QEMU_JOB;
        g_free(aj->qemu_job_id);
        aj->qemu_job_id = g_strdup(job->id);
    }
    /* QEMU stops a running guest for the save and resumes it: not the
     * user's pause (domain-process.c ignores STOP/RESUME meanwhile). */
    if (op == VD_QEMU_SNAPSHOT_SAVE &&
        (dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED)) {
        job->transition = TRUE;
        dom->internal_transition++;
    }
    g_info("domain '%s': %s '%s' (job %s)", dom->name, command, tag, job->id);
    vd_qmp_command(dom->qmp, command, vd_qemu_snapshot_job_args(op, job->id, tag, vmstate, nodes),
                   command_reply, job_ref_new(dom, job));
}

void
vd_snapshot_live_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    LiveJob *job = dom->snapshot_live;
    if (!job)
        return;
    if (g_str_equal(event, "JOB_STATUS_CHANGE") && data) {
        const char *id = json_object_get_string_member_with_default(data, "id", "");
        const char *status = json_object_get_string_member_with_default(data, "status", "");
        if (g_str_equal(id, job->id) && g_str_equal(status, "concluded")) {
            job->concluded = TRUE;
            maybe_query(dom, job);
        }
    } else if (g_str_equal(event, "STOP") && job->transition) {
        /* virsh shows "paused (snapshot)" while QEMU writes the memory. */
        if (dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED) {
            job->was_state = dom->state;
            job->was_reason = dom->reason;
            job->shown_paused = TRUE;
            vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_SNAPSHOT);
        }
    } else if (g_str_equal(event, "RESUME") && job->shown_paused) {
        job->shown_paused = FALSE;
        if (dom->state == VD_STATE_PAUSED && dom->reason == VD_REASON_SNAPSHOT)
            vd_domain_obj_set_state(dom, job->was_state, job->was_reason);
    }
}

void
vd_snapshot_live_stopped(VdDomainObj *dom)
{
    LiveJob *job = dom->snapshot_live;
    if (!job)
        return;
    g_autoptr(GError) e = job_error(dom, job, "QEMU ended during the job");
    job_finish(dom, e);
}

/* ---- create ------------------------------------------------------------ */

typedef struct {
    VdDomainObj *dom;
    char *tag;
    char *vmstate;
    GPtrArray *nodes;
    VdSnapshotDoneFunc done;
    gpointer data;
} CreateOp;

static void
create_op_free(CreateOp *op)
{
    vd_domain_obj_unref(op->dom);
    g_free(op->tag);
    g_free(op->vmstate);
    g_ptr_array_unref(op->nodes);
    g_free(op);
}

static void
create_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    CreateOp *op = data;
    op->done(dom, error, op->data);
    create_op_free(op);
}

static void
blockers_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    CreateOp *op = data;
    VdDomainObj *dom = op->dom;
    g_autoptr(GError) e = NULL;
    g_autofree char *blockers = error ? NULL : vd_qemu_migration_blockers(result);

    if (error)
        e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: cannot ask QEMU whether domain '%s' can be saved: %s",
                        dom->name, error->message);
    else if (blockers)
        /* The same check as QEMU's save (and migration): the job would
         * fail with the same words, after the guest was paused. */
        e = g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "domain '%s' cannot have its memory in a snapshot: QEMU cannot save the "
                        "state of a device: %s; detach that device first, or take a disk-only "
                        "snapshot (--disk-only)",
                        dom->name, blockers);
    if (e) {
        op->done(dom, e, op->data);
        create_op_free(op);
        return;
    }
    job_start(dom, VD_QEMU_SNAPSHOT_SAVE, op->tag, op->vmstate, op->nodes, create_done, op);
}

void
vd_snapshot_live_create(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                        VdSnapshotDoneFunc done, gpointer user_data)
{
    (void)d;
    g_autoptr(GError) e = NULL;
    g_autofree char *vmstate = NULL;

    if (!dom->qmp || !dom->live || !vd_state_is_active(dom->state)) {
        e = g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                        "Requested operation is not valid: domain is not running");
        done(dom, e, user_data);
        return;
    }
    /* Every refusal before anything reaches QEMU. */
    GPtrArray *nodes =
        vd_qemu_snapshot_nodes(dom->name, dom->live, def, VD_QEMU_SNAPSHOT_SAVE, &vmstate, &e);
    if (!nodes) {
        done(dom, e, user_data);
        return;
    }
    CreateOp *op = g_new0(CreateOp, 1);
    op->dom = vd_domain_obj_ref(dom);
    op->tag = g_strdup(def->name);
    op->vmstate = g_steal_pointer(&vmstate);
    op->nodes = nodes;
    op->done = done;
    op->data = user_data;
    vd_qmp_command(dom->qmp, "query-migrate", NULL, blockers_reply, op);
}

/* ---- delete ------------------------------------------------------------ */

typedef struct {
    VdSnapshotDoneFunc done;
    gpointer data;
} Relay;

static void
relay_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    Relay *r = data;
    r->done(dom, error, r->data);
    g_free(r);
}

void
vd_snapshot_live_delete(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                        VdSnapshotDoneFunc done, gpointer user_data)
{
    (void)d;
    g_autoptr(GError) e = NULL;
    if (!dom->live || !vd_state_is_active(dom->state)) {
        e = g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                        "Requested operation is not valid: domain is not running");
        done(dom, e, user_data);
        return;
    }
    g_autoptr(GPtrArray) nodes =
        vd_qemu_snapshot_nodes(dom->name, dom->live, def, VD_QEMU_SNAPSHOT_DELETE, NULL, &e);
    if (!nodes) {
        done(dom, e, user_data);
        return;
    }
    if (nodes->len == 0) {
        /* Its disks were detached since: nothing QEMU holds has it. */
        g_info("domain '%s': snapshot '%s' is on none of the running disks", dom->name, def->name);
        done(dom, NULL, user_data);
        return;
    }
    Relay *r = g_new0(Relay, 1);
    r->done = done;
    r->data = user_data;
    job_start(dom, VD_QEMU_SNAPSHOT_DELETE, def->name, NULL, nodes, relay_done, r);
}

/* ---- revert ------------------------------------------------------------ */

/* What vd_domain_start_restore() calls before "cont". */
typedef struct {
    VdStartRestore base;
    VdSnapshotDef *snap;
} LiveRestore;

typedef struct {
    VdStartRestoreDone done;
    gpointer start;
} LoadCtx;

static void
load_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    LoadCtx *ctx = data;
    ctx->done(dom, error, ctx->start);
    g_free(ctx);
}

static void
restore_load(VdStartRestore *self, VdDomainObj *dom, VdStartRestoreDone done, gpointer start)
{
    LiveRestore *lr = (LiveRestore *)self;
    g_autoptr(GError) e = NULL;
    g_autofree char *vmstate = NULL;
    /* The nodes of the QEMU just started from the snapshot's definition:
     * the same rule as at the save, so the VM state is read from the disk
     * it went to. */
    g_autoptr(GPtrArray) nodes =
        vd_qemu_snapshot_nodes(dom->name, dom->live, lr->snap, VD_QEMU_SNAPSHOT_LOAD, &vmstate, &e);
    if (!nodes) {
        done(dom, e, start);
        return;
    }
    LoadCtx *ctx = g_new0(LoadCtx, 1);
    ctx->done = done;
    ctx->start = start;
    job_start(dom, VD_QEMU_SNAPSHOT_LOAD, lr->snap->name, vmstate, nodes, load_done, ctx);
}

static void
restore_finish(VdStartRestore *self, VdDomainObj *dom, const GError *error)
{
    (void)dom;
    (void)error;
    LiveRestore *lr = (LiveRestore *)self;
    vd_snapshot_def_free(lr->snap);
    g_free(lr);
}

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    VdSnapshotDef *snap;
    VdDomainDef *domain;     /* the snapshot's <domain>, the definition QEMU starts with */
    VdDomainDef *checked;    /* a copy, in the files check's worker meanwhile */
    VdDomainDef *persistent; /* what the persistent definition becomes (NULL: transient) */
    gboolean paused;
    gboolean stopped_guest; /* the running QEMU was destroyed for the revert */
    VdSnapshotDoneFunc done;
    gpointer data;
} RevertOp;

static void
revert_op_free(RevertOp *op)
{
    vd_domain_obj_unref(op->dom);
    vd_snapshot_def_free(op->snap);
    vd_domain_def_free(op->domain);
    vd_domain_def_free(op->checked);
    vd_domain_def_free(op->persistent);
    g_free(op);
}

/* A revert that failed after the running guest was stopped says so: the
 * guest's memory is gone, the domain shut off ("failed" when the new QEMU
 * could not load the state). */
static GError *
revert_lost(const RevertOp *op, const GError *error)
{
    if (!op->stopped_guest)
        return g_error_copy(error);
    return g_error_new(VD_ERROR,
                       error->domain == VD_ERROR ? error->code : VD_ERROR_OPERATION_FAILED,
                       "%s; the running guest of domain '%s' was stopped for the revert and is "
                       "lost: the domain is shut off, start it again (its disks may hold "
                       "snapshot '%s' already)",
                       error->message, op->dom->name, op->snap->name);
}

static void
revert_started(VdDomainObj *dom, const GError *error, gpointer data)
{
    RevertOp *op = data;
    /* The start ended its own job; the core's ends with the revert. */
    if (dom->job == VD_JOB_NONE)
        dom->job = VD_JOB_SNAPSHOT;
    if (!error && op->paused && dom->state == VD_STATE_PAUSED) {
        g_autoptr(GError) e = NULL;
        vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_FROM_SNAPSHOT);
        if (!vd_domain_status_save(op->d->domains, dom, &e))
            g_warning("domain '%s': %s", dom->name, e->message);
    }
    g_autoptr(GError) lost = error ? revert_lost(op, error) : NULL;
    if (lost)
        g_warning("%s", lost->message);
    op->done(dom, lost, op->data);
    revert_op_free(op);
}

static gboolean
revert_start(gpointer data)
{
    RevertOp *op = data;
    VdDomainObj *dom = op->dom;
    LiveRestore *lr = g_new0(LiveRestore, 1);
    lr->base.incoming = FALSE;
    lr->base.running_reason = VD_REASON_FROM_SNAPSHOT;
    lr->base.load = restore_load;
    lr->base.finish = restore_finish;
    lr->snap = vd_snapshot_def_copy(op->snap);
    /* The start checks the job like any start; it runs as the revert's
     * own step (revert_started gives the job back to the core). */
    if (dom->job == VD_JOB_SNAPSHOT)
        dom->job = VD_JOB_NONE;
    vd_domain_start_restore(op->d, dom, g_steal_pointer(&op->domain), &lr->base, op->paused,
                            revert_started, op);
    return G_SOURCE_REMOVE;
}

static void
revert_stopped(VdDomainObj *dom, const GError *error, gpointer data)
{
    RevertOp *op = data;
    if (error) {
        op->done(dom, error, op->data);
        revert_op_free(op);
        return;
    }
    /* The old QEMU's end cleared the job: nothing else may start the
     * domain meanwhile. */
    dom->job = VD_JOB_SNAPSHOT;
    /* The persistent definition as it was when the snapshot was taken, as
     * the revert to a shut-off snapshot does (written atomically, before
     * the start: a daemon killed after it finds the snapshot's definition
     * and a shut-off domain). A domain undefined meanwhile stays transient. */
    if (op->persistent && dom->persistent) {
        g_autoptr(GError) e = NULL;
        if (!vd_domain_list_define(op->d->domains, op->persistent, &e)) {
            g_prefix_error(&e, "cannot revert domain '%s' to snapshot '%s': its definition: ",
                           dom->name, op->snap->name);
            g_autoptr(GError) lost = revert_lost(op, e);
            op->done(dom, lost, op->data);
            revert_op_free(op);
            return;
        }
        op->persistent = NULL; /* the registry's now */
    }
    /* Not from inside its end: the old QEMU's monitor is freed from an
     * idle callback, and until then events it still had buffered (the
     * SHUTDOWN of the SIGTERM, when the exit was seen by its pid first)
     * reach the domain and would be taken for the new QEMU's (a destroy:
     * the start gives up). After every default-priority idle, it is gone. */
    g_idle_add_full(G_PRIORITY_LOW, revert_start, op, NULL);
}

/* Everything is checked: the running guest goes now. */
static void
revert_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    RevertOp *op = data;
    VdDomainObj *dom = op->dom;
    g_autoptr(GError) e = NULL;
    gboolean ok = vd_snapshot_revert_check_finish(res, &e);
    g_clear_pointer(&op->checked, vd_domain_def_free);
    if (!ok) {
        const char *left = dom->state == VD_STATE_PAUSED    ? "; nothing was changed, the guest "
                                                              "stays paused"
                           : vd_state_is_active(dom->state) ? "; nothing was changed, the guest "
                                                              "runs on"
                                                            : "";
        g_autoptr(GError) refused =
            g_error_new(VD_ERROR, e->domain == VD_ERROR ? e->code : VD_ERROR_OPERATION_FAILED,
                        "cannot revert domain '%s' to snapshot '%s': %s%s", dom->name,
                        op->snap->name, e->message, left);
        op->done(dom, refused, op->data);
        revert_op_free(op);
        return;
    }
    if (vd_state_is_active(dom->state)) {
        op->stopped_guest = TRUE;
        vd_domain_destroy(op->d, dom, revert_stopped, op);
    } else {
        revert_stopped(dom, NULL, op);
    }
}

/* The files of the snapshot's definition are there and right (the start's
 * own check, run before the running guest goes): a disk deleted or turned
 * raw since is refused while nothing has changed yet. Then the snapshot
 * in the images and its memory state (snapshot-revert-check.c). */
static void
revert_files_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    RevertOp *op = data;
    VdDomainObj *dom = op->dom;
    g_autoptr(GError) e = NULL;
    g_autoptr(GPtrArray) notes = vd_domain_files_check_finish(res, &e);
    if (!notes) {
        g_clear_pointer(&op->checked, vd_domain_def_free);
        g_prefix_error(&e, "cannot revert domain '%s' to snapshot '%s': ", dom->name,
                       op->snap->name);
        op->done(dom, e, op->data);
        revert_op_free(op);
        return;
    }
    vd_snapshot_revert_check_async(op->d, op->checked, op->snap, revert_checked, op);
}

void
vd_snapshot_live_revert(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def, gboolean paused,
                        VdSnapshotDoneFunc done, gpointer user_data)
{
    g_autoptr(GError) e = NULL;
    if (!def->domain_xml) {
        e = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                        "snapshot '%s' of domain '%s' has no domain definition to revert to",
                        def->name, dom->name);
        done(dom, e, user_data);
        return;
    }
    g_autoptr(VdDomainDef) domain = vd_domain_def_new_from_stored_xml(def->domain_xml, -1, &e);
    if (!domain) {
        done(dom, e, user_data);
        return;
    }
    /* What QEMU could not load, refused before the running guest goes. */
    g_autoptr(GPtrArray) nodes =
        vd_qemu_snapshot_nodes(dom->name, domain, def, VD_QEMU_SNAPSHOT_LOAD, NULL, &e);
    if (!nodes) {
        done(dom, e, user_data);
        return;
    }
    /* Parsed before anything changes: <inactiveDomain>, or else <domain>
     * itself (the live definition, written inactive). It keeps the
     * domain's name and UUID (a renamed domain stays itself). */
    g_autoptr(VdDomainDef) persistent = NULL;
    if (dom->persistent) {
        persistent = def->inactive_xml
                         ? vd_domain_def_new_from_stored_xml(def->inactive_xml, -1, &e)
                         : vd_domain_def_copy(domain);
        if (!persistent) {
            g_prefix_error(&e, "snapshot '%s': its inactive domain definition: ", def->name);
            done(dom, e, user_data);
            return;
        }
        g_free(persistent->name);
        persistent->name = g_strdup(dom->name);
        g_strlcpy(persistent->uuid, dom->uuid, sizeof(persistent->uuid));
    }
    RevertOp *op = g_new0(RevertOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->snap = vd_snapshot_def_copy(def);
    op->checked = vd_domain_def_copy(domain);
    op->persistent = g_steal_pointer(&persistent);
    op->domain = g_steal_pointer(&domain);
    op->paused = paused;
    op->done = done;
    op->data = user_data;
    vd_domain_files_check_async(d, op->checked, VD_DOMAIN_FILES_START, revert_files_checked, op);
}
