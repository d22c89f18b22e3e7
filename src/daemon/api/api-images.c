/* Issue 14, Create VM in the web console (docs/api.md "Images and install
 * media", "Tasks"):
 *
 *   POST /v1/images/build          runs an image recipe (the one `vsh image
 *                                  build` runs: src/image/vd-image.h) in the
 *                                  background into a new pool volume; a task
 *                                  with the recipe's steps, cancellable
 *   POST /v1/install-media         the installer kernel + initrd of an install
 *                                  tree or ISO (vsh install --location's
 *                                  code, src/image/vd-install-tree.h); an
 *                                  ISO's are copied into pool volumes by
 *                                  the helper virtd-install-media
 *                                  (api-install-media.c)
 *   POST /v1/tasks/ID/cancel       stops a running task (events/tasks.h);
 *   DELETE /v1/tasks/ID            the same
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-internal.h"
#include "daemon/events/tasks.h"
#include "daemon/path-policy.h"
#include "daemon/storage/storage.h"
#include "image/vd-image.h"
#include "util/vd-error.h"
#include "util/vd-names.h"
#include "util/vd-units.h"

#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define MIN_SIZE (G_GUINT64_CONSTANT(1) << 30)
#define DEFAULT_SIZE (G_GUINT64_CONSTANT(8) << 30)

/* ---- image build ---- */

typedef struct {
    VdDaemon *d;
    VdStorageOp *op; /* ref'd */
    char *pool;
    char *path;
    char *log_file;
    VdImageBuild *build;
} ImageJob;

static GList *running_jobs; /* ImageJob*, for the daemon's exit */

static void
image_job_free(ImageJob *job)
{
    running_jobs = g_list_remove(running_jobs, job);
    vd_image_build_free(job->build);
    vd_storage_op_unref(job->op);
    g_free(job->pool);
    g_free(job->path);
    g_free(job->log_file);
    g_free(job);
}

static void
image_job_line(VdImageBuild *b, const VdImageLine *line, gpointer data)
{
    ImageJob *job = data;

    if (line->kind == VD_IMAGE_LINE_STEP) {
        g_autofree char *detail = g_strdup_printf("%u/%u %s", line->step, line->steps, line->text);

        vd_storage_op_set_detail(job->op, detail);
        /* A step begun is the ones before it done. */
        vd_storage_op_set_progress(job->op, 100.0 * (line->step - 1) / line->steps);
        g_info("image build %s: step %s", job->path, detail);
    } else if (line->kind == VD_IMAGE_LINE_WARN) {
        g_message("image build %s: %s", job->path, line->text);
    }
}

static void
image_job_done(VdImageBuild *b, gpointer data)
{
    ImageJob *job = data;
    g_autoptr(GError) error = NULL;
    VdStoragePool *pool = vd_storage_lookup(job->d->storage, job->pool, NULL);

    if (!vd_image_build_result(b, &error)) {
        if (!vd_image_build_stopped(b))
            g_prefix_error(&error, "(its messages: %s) ", job->log_file);
        vd_storage_op_set_failure(job->op, error->message);
        g_message("%s: %s", job->path, error->message);
    } else {
        g_autofree char *took = vd_image_format_duration(vd_image_build_elapsed(b));
        g_autofree char *detail = g_strdup_printf("built in %s, Linux %s", took,
                                                  vd_image_build_info(b, "kernel_version")
                                                      ? vd_image_build_info(b, "kernel_version")
                                                      : "?");

        vd_storage_op_set_detail(job->op, detail);
        g_message("image %s %s", job->path, detail);
    }
    job->op->cancel = NULL;
    if (pool && pool->jobs > 0)
        pool->jobs--;
    vd_storage_busy_release(job->d->storage, job->path);
    image_job_free(job);
}

static void
image_job_cancel(gpointer data)
{
    ImageJob *job = data;

    vd_storage_op_set_failure(job->op, "cancelled: the recipe was stopped and the partial "
                                       "image removed");
    vd_image_build_stop(job->build, FALSE);
}

/* "size": bytes as a number, or a string such as "8G" (vsh's --size). */
static gboolean
body_size(JsonObject *body, guint64 *size, GError **error)
{
    JsonNode *node = body ? json_object_get_member(body, "size") : NULL;

    *size = DEFAULT_SIZE;
    if (!node || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64 &&
        json_node_get_int(node) > 0) {
        *size = (guint64)json_node_get_int(node);
    } else if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
        if (!vd_size_parse(json_node_get_string(node), "b", size, error))
            return FALSE;
    } else {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "\"size\" must be a number of bytes or a string such as \"8G\"");
        return FALSE;
    }
    if (*size < MIN_SIZE) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "\"size\" is too small: an image needs at least 1G (8G is the "
                            "default)");
        return FALSE;
    }
    *size = (*size + MIB - 1) / MIB * MIB;
    return TRUE;
}

static void
reply_started(VdApiRequest *req, VdStorageOp *op, ImageJob *job, const char *name,
              const char *format)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "task");
    json_builder_add_int_value(b, (gint64)op->task_id);
    json_builder_set_member_name(b, "pool");
    json_builder_add_string_value(b, job->pool);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, name);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, job->path);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, format);
    json_builder_set_member_name(b, "pgid");
    json_builder_add_int_value(b, vd_image_build_pgid(job->build));
    json_builder_end_object(b);
    vd_api_reply_json(req, 202, json_builder_get_root(b));
}

static void
handle_image_build(VdApiRequest *req)
{
    VdDaemon *d = req->d;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    const char *template_name, *pool_name, *name, *format, *hostname, *password, *key,
        *packages;
    g_autofree char *recipe = NULL;
    g_autofree char *path = NULL;
    g_autofree char *log_dir = NULL, *log_name = NULL, *log_file = NULL;
    VdStoragePool *pool;
    VdStorageOp *op;
    guint64 size;

    if (error)
        goto fail;
    template_name = vd_api_body_string(body, "template");
    pool_name = vd_api_body_string(body, "pool");
    name = vd_api_body_string(body, "name");
    format = vd_api_body_string(body, "format");
    hostname = vd_api_body_string(body, "hostname");
    password = vd_api_body_string(body, "root_password");
    key = vd_api_body_string(body, "ssh_key");
    packages = vd_api_body_string(body, "packages");
    if (!template_name)
        template_name = "debian-12";
    if (!format)
        format = "qcow2";
    if (!pool_name || !name) {
        g_set_error_literal(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "an image build needs \"pool\" and \"name\": the volume to make");
        goto fail;
    }
    if (!(recipe = vd_image_find_recipe(vd_image_recipes_dir(), template_name, &error)) ||
        !body_size(body, &size, &error) || !vd_name_validate(name, "volume name", &error))
        goto fail;
    if (!g_str_equal(format, "qcow2") && !g_str_equal(format, "raw")) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "unknown \"format\" '%s': the image formats are qcow2 and raw", format);
        goto fail;
    }
    if (!hostname)
        hostname = "debian";
    if (!vd_image_check_hostname(hostname, &error) ||
        (packages && !vd_image_check_packages(packages, &error)))
        goto fail;
    if (password && !*password) {
        g_set_error_literal(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "\"root_password\" is empty: leave it out for none");
        goto fail;
    }
    if (key && (strstr(key, "PRIVATE KEY") || !strchr(key, ' '))) {
        g_set_error_literal(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "\"ssh_key\" is not an ssh public key: give the text of a .pub file "
                            "('TYPE KEY [comment]')");
        goto fail;
    }
    if (!(pool = vd_storage_lookup(d->storage, pool_name, &error)) ||
        !vd_storage_check_active(pool, &error) ||
        !(path = vd_storage_vol_path(pool, name, &error)))
        goto fail;
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_EXISTS,
                    "volume '%s' already exists in pool '%s': choose another name", name,
                    pool_name);
        goto fail;
    }
    if (geteuid() != 0) {
        g_set_error_literal(&error, VD_ERROR, VD_ERROR_DENIED,
                            "image builds need a daemon running as root (mmdebstrap and "
                            "mkfs.ext4 write files owned by other users); build with "
                            "'sudo vsh image build' instead");
        goto fail;
    }
    if (!(op = vd_storage_busy_acquire(d->storage, pool->def->name, path, "build", &error)))
        goto fail;

    ImageJob *job = g_new0(ImageJob, 1);
    VdImagePlan plan = {
        .recipe = recipe,
        .output = path,
        .size = size,
        .format = format,
        .hostname = hostname,
        .password = password,
        .ssh_key_text = key,
        .packages = packages,
    };
    const char *cache = g_getenv("VSH_IMAGE_CACHE");

    log_dir = g_build_filename(d->paths->log_dir, "image-build", NULL);
    log_name = g_strdup_printf("%s.log", name);
    log_file = g_build_filename(log_dir, log_name, NULL);
    /* The recipe's messages (mmdebstrap's) stay out of the daemon's log. */
    if (g_mkdir_with_parents(log_dir, 0700) == 0)
        plan.log_file = log_file;

    if (cache && *cache)
        plan.cache = cache;
    job->d = d;
    job->op = vd_storage_op_ref(op);
    job->pool = g_strdup(pool->def->name);
    job->path = g_strdup(path);
    job->log_file = g_strdup(log_file);
    if (!(job->build = vd_image_build_start(&plan, image_job_line, image_job_done, job, &error))) {
        vd_storage_op_set_failure(op, error->message);
        vd_storage_busy_release(d->storage, path);
        image_job_free(job);
        goto fail;
    }
    pool->jobs++;
    running_jobs = g_list_prepend(running_jobs, job);
    op->cancel = image_job_cancel;
    op->cancel_data = job;
    vd_storage_op_set_detail(op, "0/? starting the recipe");
    g_message("image build of %s started (%s, task %" G_GUINT64_FORMAT ", process group %d)",
              path, recipe, op->task_id, vd_image_build_pgid(job->build));

    reply_started(req, op, job, name, format);
    return;

fail:
    vd_api_reply_error(req, error);
}

void
vd_api_images_shutdown(void)
{
    while (running_jobs) {
        ImageJob *job = running_jobs->data;

        g_message("daemon exiting: image build of %s killed, its partial image removed",
                  job->path);
        vd_image_build_kill_sync(job->build);
        image_job_free(job); /* the busy registry goes with the storage */
    }
    vd_api_install_media_shutdown();
}

void
vd_api_images_dispatch(VdApiRequest *req, const char *method)
{
    gboolean post = g_str_equal(method, "POST");

    if (req->nsegments == 2 && g_str_equal(req->segments[0], "images") &&
        g_str_equal(req->segments[1], "build")) {
        if (post)
            handle_image_build(req);
        else
            vd_api_reply_not_allowed(req, method);
        return;
    }
    if (req->nsegments == 1 && g_str_equal(req->segments[0], "install-media")) {
        if (post)
            vd_api_install_media(req);
        else
            vd_api_reply_not_allowed(req, method);
        return;
    }
    g_autoptr(GError) error = g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                                          g_uri_get_path(soup_server_message_get_uri(req->msg)));
    vd_api_reply_error(req, error);
}

/* /v1/tasks/ID/cancel (POST), /v1/tasks/ID (DELETE). */
void
vd_api_tasks_dispatch(VdApiRequest *req, const char *method)
{
    g_autoptr(GError) error = NULL;
    char *end = NULL;
    guint64 id = g_ascii_strtoull(req->segments[1], &end, 10);
    gboolean cancel = (req->nsegments == 3 && g_str_equal(req->segments[2], "cancel") &&
                       g_str_equal(method, "POST")) ||
                      (req->nsegments == 2 && g_str_equal(method, "DELETE"));

    if (!*req->segments[1] || *end || req->nsegments > 3 ||
        (req->nsegments == 3 && !g_str_equal(req->segments[2], "cancel"))) {
        g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                    g_uri_get_path(soup_server_message_get_uri(req->msg)));
        vd_api_reply_error(req, error);
        return;
    }
    if (!cancel) {
        vd_api_reply_not_allowed(req, method);
        return;
    }
    if (!vd_tasks_cancel(req->d, id, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, (gint64)id);
    json_builder_set_member_name(b, "cancelling");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_end_object(b);
    vd_api_reply_json(req, 202, json_builder_get_root(b));
}
