/* vol-clone with a progress line: the clone request is sent while GET
 * /v1/jobs is asked how far the daemon's qemu-img convert is
 * (vsh_client_post_polling). */
#include "vsh-progress.h"
#include "vsh-storage.h"

typedef struct {
    const char *pool;
    const char *new_name;
    VshProgress progress;
} CloneWait;

/* The clone's progress in a /v1/jobs answer, or -1. */
static double
job_progress(JsonNode *answer, const char *pool, const char *name)
{
    if (!JSON_NODE_HOLDS_OBJECT(answer))
        return -1;
    JsonObject *root = json_node_get_object(answer);
    JsonNode *member = json_object_get_member(root, "jobs");
    JsonArray *jobs = member && JSON_NODE_HOLDS_ARRAY(member) ? json_node_get_array(member) : NULL;
    for (guint i = 0; jobs && i < json_array_get_length(jobs); i++) {
        JsonObject *job = json_array_get_object_element(jobs, i);
        if (job && g_str_equal(vsh_json_string(job, "kind", ""), "clone") &&
            g_str_equal(vsh_json_string(job, "pool", ""), pool) &&
            g_str_equal(vsh_json_string(job, "volume", ""), name))
            return json_object_get_double_member_with_default(job, "progress", -1);
    }
    return -1;
}

static void
on_jobs(JsonNode *answer, gpointer data)
{
    CloneWait *w = data;
    double pct = job_progress(answer, w->pool, w->new_name);

    if (pct < 0)
        return;
    w->progress.done = (guint64)((double)w->progress.total * pct / 100.0);
    vsh_progress_draw(&w->progress, FALSE);
}

static void
on_end(guint status, gpointer data)
{
    CloneWait *w = data;

    if (status >= 200 && status < 300)
        w->progress.done = w->progress.total;
    vsh_progress_draw(&w->progress, TRUE);
}

JsonNode *
vsh_volume_clone_with_progress(VshCtl *ctl, const char *pool, const char *name,
                               const char *new_name, guint64 capacity, JsonNode *body,
                               GError **error)
{
    CloneWait w = {pool, new_name};
    g_autofree char *path = vsh_volume_path(pool, name, "/clone");
    VshClient *client = vsh_ctl_client(ctl, error);

    if (!client)
        return NULL;
    vsh_progress_init(&w.progress, "Cloning", capacity);
    vsh_progress_draw(&w.progress, FALSE); /* 0%: something happens at once */
    return vsh_client_post_polling(client, path, body, "/v1/jobs", on_jobs, on_end, &w, error);
}
