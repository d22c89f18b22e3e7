/* The usage sampler (usage.h): the timer and the collection on the main
 * loop, the files in one worker thread that takes jobs in order. */
#include "daemon/stats/usage.h"

#include "daemon/stats/usage-priv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/stats/domain-stats.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

#define SUFFIX ".usage"

struct _VdUsage {
    VdDaemon *d;
    guint interval_ms;
    guint timer;
    gboolean tick_busy; /* a sample in flight: the next tick is skipped */
    char *dir;
    GThreadPool *pool; /* one thread: jobs run in the order queued */
    GMutex lock;       /* guards done and wake */
    GQueue done;       /* Job*: finished, for the main loop */
    guint wake;
    /* the worker's only */
    GHashTable *files; /* name -> VdUsageFile* */
    gboolean dir_swept;
    char *last_warning;
    /* the main loop's only */
    GHashTable *latest; /* name -> VdUsagePoint* of the last sample, with uuid in Latest */
};

typedef struct {
    char uuid[40];
    VdUsagePoint p;
} Latest;

typedef enum {
    JOB_SAMPLE,
    JOB_READ,
    JOB_RENAME,
    JOB_REMOVE,
    JOB_LATEST,
} JobKind;

typedef struct {
    JobKind kind;
    GPtrArray *samples; /* VdUsageSample*: JOB_SAMPLE; JOB_LATEST: the running domains' latest */
    GHashTable *known;  /* name -> uuid of every domain registered: JOB_SAMPLE's sweep */
    char *name;         /* JOB_READ, JOB_RENAME (old), JOB_REMOVE */
    char *new_name;     /* JOB_RENAME */
    char uuid[40];      /* JOB_READ */
    VdUsageLevel level;
    guint points; /* JOB_LATEST: hour points per domain */
    gint64 now_ms;
    JsonNode *answer; /* JOB_READ's result */
    GError *error;
    VdUsageReadDone read_done;
    gpointer user_data;
} Job;

/* A tick between the main loop's snapshot and its collection's answer. */
typedef struct {
    VdUsage *u;
    gint64 t_ms;
    GPtrArray *samples; /* VdUsageSample*, in the order of the domains collected */
} Tick;

static void
sample_free(VdUsageSample *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s);
}

static void
job_free(Job *job)
{
    g_clear_pointer(&job->samples, g_ptr_array_unref);
    g_clear_pointer(&job->known, g_hash_table_unref);
    g_free(job->name);
    g_free(job->new_name);
    g_clear_pointer(&job->answer, json_node_unref);
    g_clear_error(&job->error);
    g_free(job);
}

static char *
file_path(const VdUsage *u, const char *name)
{
    g_autofree char *base = g_strconcat(name, SUFFIX, NULL);
    return g_build_filename(u->dir, base, NULL);
}

guint
vd_usage_interval_ms(const VdUsage *u)
{
    return u->interval_ms;
}

/* ---- the worker ---------------------------------------------------------- */

/* Once per distinct problem, not every 10 s for every domain. */
static void
warn(VdUsage *u, const char *message)
{
    if (u->last_warning && g_str_equal(u->last_warning, message))
        return;
    g_warning("usage history: %s", message);
    g_free(u->last_warning);
    u->last_warning = g_strdup(message);
}

/* The file of @name, if it is the history of @uuid: another domain's of
 * the same name (undefined, then the name defined again) is dropped and,
 * with @create, made afresh. NULL: none (and no error) or an error. */
static VdUsageFile *
file_for(VdUsage *u, const char *name, const char *uuid, gboolean create, GError **error)
{
    VdUsageFile *f = g_hash_table_lookup(u->files, name);
    if (f && g_str_equal(vd_usage_file_uuid(f), uuid))
        return f;
    g_hash_table_remove(u->files, name);
    g_autofree char *path = file_path(u, name);
    if (!(f = vd_usage_file_open(path, uuid, u->interval_ms, create, error)))
        return NULL;
    g_hash_table_insert(u->files, g_strdup(name), f);
    return f;
}

static void
remove_file(VdUsage *u, const char *name)
{
    g_autofree char *path = file_path(u, name);
    g_hash_table_remove(u->files, name);
    if (g_unlink(path) < 0 && errno != ENOENT) {
        g_autofree char *m = g_strdup_printf("cannot remove '%s': %s", path, g_strerror(errno));
        warn(u, m);
    }
}

/* Files of domains the registry no longer has: those opened since the
 * start, and at the first sweep every file in the directory. */
static void
sweep(VdUsage *u, GHashTable *known)
{
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, u->files);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const char *uuid = g_hash_table_lookup(known, key);
        if (!uuid || !g_str_equal(uuid, vd_usage_file_uuid(value)))
            g_ptr_array_add(gone, g_strdup(key));
    }
    if (!u->dir_swept) {
        u->dir_swept = TRUE;
        g_autoptr(GDir) dir = g_dir_open(u->dir, 0, NULL);
        const char *entry;
        while (dir && (entry = g_dir_read_name(dir))) {
            if (!g_str_has_suffix(entry, SUFFIX) || strlen(entry) == strlen(SUFFIX))
                continue;
            g_autofree char *name = g_strndup(entry, strlen(entry) - strlen(SUFFIX));
            if (!g_hash_table_contains(known, name))
                g_ptr_array_add(gone, g_steal_pointer(&name));
        }
    }
    for (guint i = 0; i < gone->len; i++)
        remove_file(u, g_ptr_array_index(gone, i));
}

static void
do_sample(VdUsage *u, Job *job)
{
    gint64 max_gap = MAX(3 * (gint64)u->interval_ms, 60000);
    for (guint i = 0; i < job->samples->len; i++) {
        VdUsageSample *s = g_ptr_array_index(job->samples, i);
        g_autoptr(GError) error = NULL;
        VdUsageFile *f = file_for(u, s->name, s->uuid, TRUE, &error);
        if (f) {
            vd_usage_point_rates(vd_usage_file_last(f), &s->p, s->vcpus, max_gap);
            vd_usage_file_add(f, &s->p, &error);
        }
        if (error)
            warn(u, error->message);
    }
    sweep(u, job->known);
}

static void
do_read(VdUsage *u, Job *job)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) points = NULL;
    VdUsageFile *f = file_for(u, job->name, job->uuid, FALSE, &error);
    if (f)
        points = vd_usage_file_read(f, job->level, job->now_ms, TRUE, &error);
    if (error) {
        job->error = g_steal_pointer(&error);
        return;
    }
    guint interval = u->interval_ms * vd_usage_level_factor(job->level);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "range");
    json_builder_add_string_value(b, vd_usage_level_name(job->level));
    vd_usage_add_interval(b, interval);
    json_builder_set_member_name(b, "points");
    json_builder_begin_array(b);
    for (guint i = 0; points && i < points->len; i++) {
        json_builder_begin_object(b);
        vd_usage_point_members(b, &g_array_index(points, VdUsagePoint, i), interval);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    job->answer = json_builder_get_root(b);
}

static void
do_latest(VdUsage *u, Job *job)
{
    g_autoptr(GPtrArray) points = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
    for (guint i = 0; i < job->samples->len; i++) {
        const VdUsageSample *s = g_ptr_array_index(job->samples, i);
        g_autoptr(GError) error = NULL;
        VdUsageFile *f = file_for(u, s->name, s->uuid, FALSE, &error);
        GArray *a = f ? vd_usage_file_read_last(f, job->points, job->now_ms, &error) : NULL;
        if (error)
            warn(u, error->message); /* that domain without its points, not the answer */
        g_ptr_array_add(points, a ? a : g_array_new(FALSE, FALSE, sizeof(VdUsagePoint)));
    }
    job->answer = vd_usage_latest_json(job->samples, points, u->interval_ms);
}

static void
do_rename(VdUsage *u, Job *job)
{
    g_autofree char *from = file_path(u, job->name);
    g_autofree char *to = file_path(u, job->new_name);
    g_hash_table_remove(u->files, job->new_name);
    VdUsageFile *f = g_hash_table_lookup(u->files, job->name);
    if (g_rename(from, to) < 0) {
        if (errno != ENOENT) {
            g_autofree char *m =
                g_strdup_printf("cannot move '%s' to '%s': %s", from, to, g_strerror(errno));
            warn(u, m);
        }
        g_hash_table_remove(u->files, job->name);
        return;
    }
    if (f) {
        gpointer old_key = NULL;
        g_hash_table_steal_extended(u->files, job->name, &old_key, NULL);
        g_free(old_key);
        vd_usage_file_set_path(f, to);
        g_hash_table_insert(u->files, g_strdup(job->new_name), f);
    }
}

static gboolean drain(gpointer data);

static void
worker(gpointer data, gpointer user_data)
{
    Job *job = data;
    VdUsage *u = user_data;
    switch (job->kind) {
    case JOB_SAMPLE:
        do_sample(u, job);
        break;
    case JOB_READ:
        do_read(u, job);
        break;
    case JOB_RENAME:
        do_rename(u, job);
        break;
    case JOB_REMOVE:
        remove_file(u, job->name);
        break;
    case JOB_LATEST:
        do_latest(u, job);
        break;
    }
    g_mutex_lock(&u->lock);
    g_queue_push_tail(&u->done, job);
    if (!u->wake)
        u->wake = g_idle_add(drain, u);
    g_mutex_unlock(&u->lock);
}

static void
push(VdUsage *u, Job *job)
{
    g_thread_pool_push(u->pool, job, NULL);
}

/* ---- back on the main loop ------------------------------------------------ */

static gboolean
not_running(gpointer key, gpointer value, gpointer data)
{
    VdDaemon *d = data;
    const Latest *l = value;
    VdDomainObj *dom = vd_domain_list_find_name(d->domains, key);
    return !dom || !dom->live || dom->pid <= 0 || !g_str_equal(dom->uuid, l->uuid);
}

static void
finish(VdUsage *u, Job *job)
{
    switch (job->kind) {
    case JOB_SAMPLE:
        /* the latest points are this sample's, and those of domains an
         * operation in flight kept out of it (their last one) */
        g_hash_table_foreach_remove(u->latest, not_running, u->d);
        for (guint i = 0; i < job->samples->len; i++) {
            VdUsageSample *s = g_ptr_array_index(job->samples, i);
            Latest *l = g_new(Latest, 1);
            memcpy(l->uuid, s->uuid, sizeof(l->uuid));
            l->p = s->p;
            g_hash_table_insert(u->latest, g_strdup(s->name), l);
        }
        u->tick_busy = FALSE;
        break;
    case JOB_READ:
    case JOB_LATEST:
        job->read_done(job->answer, job->error, job->user_data);
        break;
    case JOB_RENAME:
    case JOB_REMOVE:
        break;
    }
    job_free(job);
}

static gboolean
drain(gpointer data)
{
    VdUsage *u = data;
    GQueue q = G_QUEUE_INIT;
    g_mutex_lock(&u->lock);
    u->wake = 0;
    q = u->done;
    g_queue_init(&u->done);
    g_mutex_unlock(&u->lock);
    Job *job;
    while ((job = g_queue_pop_head(&q)))
        finish(u, job);
    return G_SOURCE_REMOVE;
}

/* ---- the tick --------------------------------------------------------------- */

static void
tick_free(Tick *t)
{
    g_clear_pointer(&t->samples, g_ptr_array_unref);
    g_free(t);
}

static void
collected(GPtrArray *records, gpointer data)
{
    Tick *t = data;
    g_autoptr(GPtrArray) owned = records;
    Job *job = g_new0(Job, 1);
    job->kind = JOB_SAMPLE;
    job->samples = g_ptr_array_new_with_free_func((GDestroyNotify)sample_free);
    /* The registry as it is now, not at the tick: a domain that left it
     * meanwhile had its file removed (vd_usage_forget, queued before this
     * job): its sample would make it again. */
    job->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GPtrArray) all = vd_domain_list_all(t->u->d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        g_hash_table_insert(job->known, g_strdup(dom->name), g_strdup(dom->uuid));
    }
    for (guint i = 0; i < records->len && i < t->samples->len; i++) {
        VdUsageSample *s = g_ptr_array_index(t->samples, i);
        const char *uuid = g_hash_table_lookup(job->known, s->name);
        if (!uuid || !g_str_equal(uuid, s->uuid))
            continue;
        vd_usage_sample_fill(&s->p, g_ptr_array_index(records, i));
        g_ptr_array_add(job->samples, g_steal_pointer(&t->samples->pdata[i]));
    }
    push(t->u, job);
    tick_free(t);
}

/* Running or paused, with no operation in flight on its QEMU: a start,
 * destroy, save, snapshot or migration owns the QMP conversation (and
 * its timing) until it ends; the graph shows a gap. A clone copies disks
 * only. */
static gboolean
sampled(const VdDomainObj *dom)
{
    return dom->live && dom->pid > 0 && dom->qmp &&
           (dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_PAUSED) &&
           (dom->job == VD_JOB_NONE || dom->job == VD_JOB_CLONE);
}

static gboolean
on_tick(gpointer data)
{
    VdUsage *u = data;
    if (u->tick_busy)
        return G_SOURCE_CONTINUE;
    u->tick_busy = TRUE;
    g_autoptr(GPtrArray) all = vd_domain_list_all(u->d->domains);
    g_autoptr(GPtrArray) doms = g_ptr_array_new();
    Tick *t = g_new0(Tick, 1);
    t->u = u;
    t->t_ms = g_get_real_time() / 1000;
    t->samples = g_ptr_array_new_with_free_func((GDestroyNotify)sample_free);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        if (!sampled(dom))
            continue;
        VdUsageSample *s = g_new0(VdUsageSample, 1);
        s->name = g_strdup(dom->name);
        g_strlcpy(s->uuid, dom->uuid, sizeof(s->uuid));
        s->vcpus = MAX(dom->live->vcpus_current, 1);
        s->p.t_ms = t->t_ms;
        s->p.pid = (guint32)dom->pid;
        g_ptr_array_add(t->samples, s);
        g_ptr_array_add(doms, dom);
    }
    vd_domain_stats_collect(u->d, doms,
                            VD_STATS_CPU_TOTAL | VD_STATS_BALLOON | VD_STATS_INTERFACE |
                                VD_STATS_BLOCK | VD_STATS_NO_SIZES,
                            collected, t);
    return G_SOURCE_CONTINUE;
}

/* ---- life -------------------------------------------------------------------- */

VdUsage *
vd_usage_new(VdDaemon *d)
{
    VdUsage *u = g_new0(VdUsage, 1);
    g_autoptr(GError) error = NULL;
    const char *env = g_getenv("VIRTD_TEST_USAGE_INTERVAL_MS");
    guint64 ms = VD_USAGE_INTERVAL_MS;
    if (env && (!g_ascii_string_to_unsigned(env, 10, 100, 3600000, &ms, NULL))) {
        g_warning("VIRTD_TEST_USAGE_INTERVAL_MS='%s' is not a number of milliseconds from 100 "
                  "to 3600000; sampling every %u ms",
                  env, VD_USAGE_INTERVAL_MS);
        ms = VD_USAGE_INTERVAL_MS;
    }
    u->d = d;
    u->interval_ms = (guint)ms;
    u->dir = g_build_filename(d->paths->state_dir, "usage", NULL);
    if (!vd_dir_ensure(u->dir, 0700, &error))
        g_warning("usage history: %s", error->message); /* each write says so again */
    /* what a kill left of a file being made (vd_file_write_atomic) */
    vd_file_remove_stale_temps(u->dir);
    g_mutex_init(&u->lock);
    g_queue_init(&u->done);
    u->files =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)vd_usage_file_free);
    u->latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    u->pool = g_thread_pool_new(worker, u, 1, FALSE, NULL);
    /* whole seconds: GLib groups the wake-ups with others' */
    u->timer = u->interval_ms % 1000 == 0 ? g_timeout_add_seconds(u->interval_ms / 1000, on_tick, u)
                                          : g_timeout_add(u->interval_ms, on_tick, u);
    return u;
}

void
vd_usage_free(VdUsage *u)
{
    if (!u)
        return;
    g_clear_handle_id(&u->timer, g_source_remove);
    /* a tick whose collection is still in flight is never answered: the
     * main loop has stopped */
    g_thread_pool_free(u->pool, FALSE, TRUE);
    g_mutex_lock(&u->lock);
    g_clear_handle_id(&u->wake, g_source_remove);
    g_mutex_unlock(&u->lock);
    drain(u);
    g_mutex_clear(&u->lock);
    g_hash_table_unref(u->files);
    g_hash_table_unref(u->latest);
    g_free(u->last_warning);
    g_free(u->dir);
    g_free(u);
}

/* ---- hooks and the API ------------------------------------------------------- */

void
vd_usage_rename(VdDaemon *d, const char *old_name, const char *new_name)
{
    if (!d->usage)
        return;
    g_hash_table_remove(d->usage->latest, old_name);
    Job *job = g_new0(Job, 1);
    job->kind = JOB_RENAME;
    job->name = g_strdup(old_name);
    job->new_name = g_strdup(new_name);
    push(d->usage, job);
}

void
vd_usage_forget(VdDaemon *d, const char *name)
{
    if (!d->usage)
        return;
    g_hash_table_remove(d->usage->latest, name);
    Job *job = g_new0(Job, 1);
    job->kind = JOB_REMOVE;
    job->name = g_strdup(name);
    push(d->usage, job);
}

void
vd_usage_read(VdDaemon *d, VdDomainObj *dom, VdUsageLevel level, VdUsageReadDone done,
              gpointer user_data)
{
    Job *job = g_new0(Job, 1);
    job->kind = JOB_READ;
    job->name = g_strdup(dom->name);
    g_strlcpy(job->uuid, dom->uuid, sizeof(job->uuid));
    job->level = level;
    job->now_ms = g_get_real_time() / 1000;
    job->read_done = done;
    job->user_data = user_data;
    push(d->usage, job);
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    const VdUsageSample *x = *(VdUsageSample *const *)a, *y = *(VdUsageSample *const *)b;
    return strcmp(x->name, y->name);
}

void
vd_usage_latest(VdDaemon *d, guint points, VdUsageReadDone done, gpointer user_data)
{
    VdUsage *u = d->usage;
    GPtrArray *latest = g_ptr_array_new_with_free_func((GDestroyNotify)sample_free);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, u->latest);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const Latest *l = value;
        VdDomainObj *dom = vd_domain_list_find_name(d->domains, key);
        /* stopped (or another domain of that name) since the sample */
        if (!dom || !dom->live || dom->pid <= 0 || !g_str_equal(dom->uuid, l->uuid))
            continue;
        VdUsageSample *s = g_new0(VdUsageSample, 1);
        s->name = g_strdup(key);
        memcpy(s->uuid, l->uuid, sizeof(s->uuid));
        s->p = l->p;
        g_ptr_array_add(latest, s);
    }
    g_ptr_array_sort(latest, by_name);
    if (points == 0) {
        g_autoptr(JsonNode) answer = vd_usage_latest_json(latest, NULL, u->interval_ms);
        g_ptr_array_unref(latest);
        done(answer, NULL, user_data);
        return;
    }
    Job *job = g_new0(Job, 1);
    job->kind = JOB_LATEST;
    job->samples = latest;
    job->points = MIN(points, vd_usage_level_slots(VD_USAGE_HOUR));
    job->now_ms = g_get_real_time() / 1000;
    job->read_done = done;
    job->user_data = user_data;
    push(u, job);
}
