/* The task log: see tasks.h. */
#include "daemon/events/tasks.h"

#include "daemon/domain/domain-job.h"
#include "daemon/domain/domain-obj.h"
#include "daemon/events/events.h"
#include "daemon/save/save.h"
#include "util/vd-error.h"

typedef struct {
    guint64 id;
    char *target;     /* "domain" or "volume" */
    char *name;       /* the domain's name, or the volume's */
    char *pool;       /* volumes: the pool ("" when none) */
    char *path;       /* volumes: the file */
    char *operation;  /* "Save", "Outgoing migration" ...; "upload", "clone" ... */
    gint64 started_at; /* g_get_real_time() */
    gint64 ended_at;   /* 0 while running */
    const char *state; /* "running", "completed", "failed", "cancelled" */
    gboolean cancel_requested; /* domains: a Failed after it is "cancelled" */
    char *detail;      /* volumes: the last step seen */
    char *message;     /* why it failed (volumes), or NULL */
    double progress;   /* ended: the last figure seen */
    VdStorageOp *op;   /* volumes while running: ref'd, for the live progress */
} Task;

static GQueue tasks = G_QUEUE_INIT; /* oldest first */
static guint64 next_id = 1;
static guint sub_id;

static void
task_free(Task *t)
{
    if (t->op)
        vd_storage_op_unref(t->op);
    g_free(t->target);
    g_free(t->name);
    g_free(t->pool);
    g_free(t->path);
    g_free(t->operation);
    g_free(t->message);
    g_free(t->detail);
    g_free(t);
}

static Task *
task_add(const char *target, const char *name, const char *operation)
{
    Task *t = g_new0(Task, 1);
    t->id = next_id++;
    t->target = g_strdup(target);
    t->name = g_strdup(name ? name : "");
    t->operation = g_strdup(operation ? operation : "");
    t->started_at = g_get_real_time();
    t->state = "running";
    g_queue_push_tail(&tasks, t);
    /* Drop the oldest ended tasks beyond the limit (a running one stays:
     * its end must find it). */
    for (GList *l = tasks.head; l && tasks.length > VD_TASKS_KEEP;) {
        GList *next = l->next;
        Task *old = l->data;
        if (old->ended_at) {
            task_free(old);
            g_queue_delete_link(&tasks, l);
        }
        l = next;
    }
    return t;
}

/* The newest running task matching, or NULL. */
static Task *
find_running(const char *target, const char *name, const char *operation, VdStorageOp *op)
{
    for (GList *l = tasks.tail; l; l = l->prev) {
        Task *t = l->data;
        if (t->ended_at || !g_str_equal(t->target, target))
            continue;
        if (op ? t->op == op
               : g_strcmp0(t->name, name) == 0 && g_strcmp0(t->operation, operation) == 0)
            return t;
    }
    return NULL;
}

static void
on_event(const VdEvent *ev, gpointer user_data)
{
    (void)user_data;
    if (!ev->domain || g_strcmp0(ev->kind, "job") != 0)
        return;
    if (g_strcmp0(ev->event, "Started") == 0) {
        task_add("domain", ev->domain, ev->detail);
        return;
    }
    Task *t = find_running("domain", ev->domain, ev->detail, NULL);
    if (!t) /* began before the daemon's bus saw it: record the end alone */
        t = task_add("domain", ev->domain, ev->detail);
    t->ended_at = g_get_real_time();
    t->state = g_strcmp0(ev->event, "Completed") == 0 ? "completed"
               : t->cancel_requested                      ? "cancelled"
                                                          : "failed";
    if (g_str_equal(t->state, "completed"))
        t->progress = 100;
}

void
vd_tasks_init(void)
{
    if (!sub_id)
        sub_id = vd_events_subscribe(on_event, NULL);
}

void
vd_tasks_volume_begin(VdStorageOp *op)
{
    Task *t = task_add("volume", op->volume, op->kind);
    t->pool = g_strdup(op->pool ? op->pool : "");
    t->path = g_strdup(op->path);
    t->started_at = op->started_at;
    t->op = vd_storage_op_ref(op);
    op->task_id = t->id;
}

void
vd_tasks_volume_end(VdStorageOp *op)
{
    Task *t = find_running("volume", NULL, NULL, op);
    if (!t)
        return;
    t->ended_at = g_get_real_time();
    t->progress = vd_storage_op_get_progress(op);
    t->detail = g_strdup(op->detail);
    if (op->cancelled) {
        t->state = "cancelled";
        t->message = g_strdup(op->failure);
    } else if (op->failure) {
        t->state = "failed";
        t->message = g_strdup(op->failure);
    } else {
        t->state = "completed";
        t->progress = 100;
    }
    vd_storage_op_unref(t->op);
    t->op = NULL;
}

static char *
format_time(gint64 us)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    return g_date_time_format_iso8601(t);
}

static Task *
find_id(guint64 id)
{
    for (GList *l = tasks.tail; l; l = l->prev) {
        Task *t = l->data;
        if (t->id == id)
            return t;
    }
    return NULL;
}

/* The running domain job of @t's domain, if domjobabort may abort it. */
static VdDomainObj *
abortable_domain(VdDaemon *d, Task *t)
{
    VdDomainObj *dom;

    if (t->ended_at || t->target[0] != 'd' || !d ||
        !(dom = vd_domain_list_lookup(d->domains, t->name, NULL)))
        return NULL;
    if (dom->job == VD_JOB_MIGRATION_OUT || dom->job == VD_JOB_MIGRATION_IN)
        return dom;
    VdDomainAsyncJob *job = vd_domain_async_job_current(dom);
    return job && job->abortable ? dom : NULL;
}

static gboolean
task_cancellable(VdDaemon *d, Task *t)
{
    if (t->ended_at)
        return FALSE;
    if (t->op)
        return t->op->cancel && !t->op->cancelled;
    return abortable_domain(d, t) != NULL && !t->cancel_requested;
}

gboolean
vd_tasks_cancel(VdDaemon *d, guint64 id, GError **error)
{
    Task *t = find_id(id);

    if (!t) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no task %" G_GUINT64_FORMAT " (GET /v1/tasks lists them)", id);
        return FALSE;
    }
    if (t->ended_at) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "task %" G_GUINT64_FORMAT " (%s of %s) has already ended: %s", id,
                    t->operation, t->name, t->state);
        return FALSE;
    }
    if (t->op) {
        if (!t->op->cancel) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                        "task %" G_GUINT64_FORMAT " (%s of volume '%s') cannot be cancelled: "
                        "wait for it to end",
                        id, t->operation, t->name);
            return FALSE;
        }
        if (!t->op->cancelled) {
            t->op->cancelled = TRUE;
            t->op->cancel(t->op->cancel_data);
        }
        return TRUE;
    }
    VdDomainObj *dom = abortable_domain(d, t);
    if (!dom) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "task %" G_GUINT64_FORMAT " (%s of domain '%s') cannot be cancelled: "
                    "wait for it to end",
                    id, t->operation, t->name);
        return FALSE;
    }
    if (!vd_save_job_abort(d, dom, error))
        return FALSE;
    t->cancel_requested = TRUE;
    return TRUE;
}

JsonNode *
vd_tasks_to_json(VdDaemon *d)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    gint64 now = g_get_real_time();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tasks");
    json_builder_begin_array(b);
    for (GList *l = tasks.tail; l; l = l->prev) {
        Task *t = l->data;
        g_autofree char *started = format_time(t->started_at);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_int_value(b, (gint64)t->id);
        json_builder_set_member_name(b, "target");
        json_builder_add_string_value(b, t->target);
        json_builder_set_member_name(b, t->target[0] == 'd' ? "domain" : "volume");
        json_builder_add_string_value(b, t->name);
        if (t->pool) {
            json_builder_set_member_name(b, "pool");
            json_builder_add_string_value(b, t->pool);
            json_builder_set_member_name(b, "path");
            json_builder_add_string_value(b, t->path);
        }
        json_builder_set_member_name(b, "operation");
        json_builder_add_string_value(b, t->operation);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, t->state);
        if (t->op || t->ended_at || t->pool) {
            json_builder_set_member_name(b, "progress");
            json_builder_add_double_value(b, t->op ? vd_storage_op_get_progress(t->op)
                                                   : t->progress);
        }
        const char *detail = t->op ? t->op->detail : t->detail;
        if (detail) {
            json_builder_set_member_name(b, "detail");
            json_builder_add_string_value(b, detail);
        }
        json_builder_set_member_name(b, "cancellable");
        json_builder_add_boolean_value(b, task_cancellable(d, t));
        if (t->message) {
            json_builder_set_member_name(b, "message");
            json_builder_add_string_value(b, t->message);
        }
        json_builder_set_member_name(b, "started_at");
        json_builder_add_string_value(b, started);
        if (t->ended_at) {
            g_autofree char *ended = format_time(t->ended_at);
            json_builder_set_member_name(b, "ended_at");
            json_builder_add_string_value(b, ended);
        }
        json_builder_set_member_name(b, "elapsed");
        json_builder_add_double_value(b, (double)((t->ended_at ? t->ended_at : now) -
                                                  t->started_at) / G_USEC_PER_SEC);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
