/* POST /v1/install-media (docs/api.md "Images and install media"): the
 * installer kernel + initrd of an install tree or ISO, for the web
 * console's "Install tree or ISO" (vsh install --location does the same in
 * the client, src/image/vd-install-tree.h).
 *
 * An ISO is read by virtd-install-media (src/image/virtd-install-media.c),
 * not here: libarchive parsing an image a client names stays out of the
 * daemon's address space, and libarchive's libraries out of its memory. A
 * tree is only a few stat()s, looked at in a worker thread. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "api-internal.h"
#include "daemon/path-policy.h"
#include "daemon/storage/storage.h"
#include "image/vd-install-tree.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

/* Reading a 4 GiB DVD image twice from a slow disk stays well inside.
 * VIRTD_TEST_INSTALL_MEDIA_TIMEOUT_S shortens it for the tests. */
#define MEDIA_TIME_LIMIT_S 600

static guint
media_time_limit(void)
{
    const char *env = g_getenv("VIRTD_TEST_INSTALL_MEDIA_TIMEOUT_S");
    guint64 s = MEDIA_TIME_LIMIT_S;

    if (env && !g_ascii_string_to_unsigned(env, 10, 1, 3600, &s, NULL)) {
        g_warning("VIRTD_TEST_INSTALL_MEDIA_TIMEOUT_S='%s' is not a number of seconds from 1 to "
                  "3600; reading an ISO may take %d s",
                  env, MEDIA_TIME_LIMIT_S);
        s = MEDIA_TIME_LIMIT_S;
    }
    return (guint)s;
}

typedef struct {
    VdApiRequest *req;
    VdPathGuard *guard;
    char *location;
    char *resolved;
    char *kernel_dest; /* ISO: the pool volumes to copy into */
    char *initrd_dest;
    char *stage;       /* ISO: a temporary directory in the pool */
    char *kernel;      /* result */
    char *initrd;
    gboolean iso;
    GSubprocess *helper; /* ISO: virtd-install-media while it runs */
    guint timeout_id;
    gboolean timed_out;
    GError *error;     /* the helper's failure, for the clean-up thread */
} MediaJob;

static GList *running_media; /* MediaJob* whose helper runs, for the daemon's exit */

static void
media_job_free(MediaJob *m)
{
    running_media = g_list_remove(running_media, m);
    if (m->timeout_id)
        g_source_remove(m->timeout_id);
    g_clear_object(&m->helper);
    g_clear_error(&m->error);
    vd_path_guard_unref(m->guard);
    g_free(m->location);
    g_free(m->resolved);
    g_free(m->kernel_dest);
    g_free(m->initrd_dest);
    g_free(m->stage);
    g_free(m->kernel);
    g_free(m->initrd);
    g_free(m);
}

/* $VIRTD_INSTALL_MEDIA (tests), else the build tree's helper for a daemon
 * run from the build tree, else the installed one (as web.c finds the
 * front end). */
static char *
media_helper_path(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);

    if (g_getenv("VIRTD_INSTALL_MEDIA"))
        return g_strdup(g_getenv("VIRTD_INSTALL_MEDIA"));
    if (exe && g_str_has_prefix(exe, VD_BUILD_ROOT "/"))
        return g_build_filename(VD_BUILD_ROOT, "src", "image", "virtd-install-media", NULL);
    return g_build_filename(VD_LIBEXEC_DIR, "virtd-install-media", NULL);
}

/* Worker thread: the path policy, a tree's files, an ISO's staging
 * directory. */
static void
media_check_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    MediaJob *m = data;
    g_autoptr(GError) error = NULL;

    if (!(m->resolved = vd_path_guard_check(m->guard, "\"location\"", m->location, &error)))
        goto fail;
    if (g_file_test(m->resolved, G_FILE_TEST_IS_DIR)) {
        if (!vd_install_tree_find_dir(m->resolved, &m->kernel, &m->initrd, &error))
            goto fail;
        g_task_return_boolean(task, TRUE);
        return;
    }
    if (!g_file_test(m->resolved, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "install location '%s' is neither a directory (an install tree) nor an ISO "
                    "image file",
                    m->location);
        goto fail;
    }
    m->iso = TRUE;
    if (!g_mkdtemp(m->stage)) {
        int saved = errno;

        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot make a staging directory %s: %s", m->stage, g_strerror(saved));
        goto fail;
    }
    g_task_return_boolean(task, TRUE);
    return;

fail:
    g_task_return_error(task, g_steal_pointer(&error));
}

static void
media_stage_clean(MediaJob *m)
{
    g_autofree char *k = g_build_filename(m->stage, "vmlinuz", NULL);
    g_autofree char *i = g_build_filename(m->stage, "initrd", NULL);

    unlink(k);
    unlink(i);
    rmdir(m->stage);
}

/* Worker thread, after the helper: the copies into the pool volumes, or
 * the staging directory away on failure. */
static void
media_finish_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    MediaJob *m = data;
    g_autofree char *k = g_build_filename(m->stage, "vmlinuz", NULL);
    g_autofree char *i = g_build_filename(m->stage, "initrd", NULL);

    if (m->error) {
        media_stage_clean(m);
        g_task_return_error(task, g_steal_pointer(&m->error));
        return;
    }
    if (rename(k, m->kernel_dest) < 0 || rename(i, m->initrd_dest) < 0) {
        int saved = errno;

        media_stage_clean(m);
        g_task_return_new_error(task, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "cannot move the installer's kernel and initrd into the pool: %s",
                                g_strerror(saved));
        return;
    }
    rmdir(m->stage);
    m->kernel = g_strdup(m->kernel_dest);
    m->initrd = g_strdup(m->initrd_dest);
    g_task_return_boolean(task, TRUE);
}

static void
media_reply(VdApiRequest *req, MediaJob *m)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "kernel");
    json_builder_add_string_value(b, m->kernel);
    json_builder_set_member_name(b, "initrd");
    json_builder_add_string_value(b, m->initrd);
    json_builder_set_member_name(b, "copied");
    json_builder_add_boolean_value(b, m->iso);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
media_done(GObject *source, GAsyncResult *res, gpointer data)
{
    MediaJob *m = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;

    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        vd_api_reply_error(m->req, error);
        return;
    }
    media_reply(m->req, m);
}

/* The helper's answer as a GError, or NULL when it copied the two files
 * into the staging directory. Its paths are not taken from it: whatever
 * it printed, only the staging directory's two files are moved. */
static GError *
media_helper_result(MediaJob *m, GSubprocess *p, const char *out, const char *err)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *msg = g_strstrip(g_strdup(err ? err : ""));
    g_autofree char *k = g_build_filename(m->stage, "vmlinuz", NULL);
    g_autofree char *i = g_build_filename(m->stage, "initrd", NULL);
    JsonObject *o;

    if (m->timed_out)
        return g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                           "reading ISO '%s' took longer than %u s, so it was stopped: copy the "
                           "ISO to a faster disk, or use an install tree (the mounted ISO)",
                           m->location, media_time_limit());
    if (g_subprocess_get_if_signaled(p))
        return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                           "virtd-install-media died of signal %d reading ISO '%s'%s%s",
                           g_subprocess_get_term_sig(p), m->location, *msg ? ": " : "", msg);
    if (g_subprocess_get_exit_status(p) != 0)
        return g_error_new_literal(VD_ERROR,
                                   g_subprocess_get_exit_status(p) == 2
                                       ? VD_ERROR_INVALID_ARG
                                       : VD_ERROR_OPERATION_FAILED,
                                   *msg ? msg : "virtd-install-media failed without a message");
    if (!out || !json_parser_load_from_data(parser, out, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)) ||
        !(o = json_node_get_object(json_parser_get_root(parser))) ||
        g_strcmp0(json_object_get_string_member_with_default(o, "kernel", ""), k) != 0 ||
        g_strcmp0(json_object_get_string_member_with_default(o, "initrd", ""), i) != 0)
        return g_error_new(VD_ERROR, VD_ERROR_INTERNAL,
                           "virtd-install-media answered what the daemon cannot use for ISO "
                           "'%s' (is it the one of this virtd version?): %.200s",
                           m->location, out ? out : "");
    return NULL;
}

static void
media_helper_done(GObject *source, GAsyncResult *res, gpointer data)
{
    GTask *task = data; /* owns m */
    MediaJob *m = g_task_get_task_data(task);
    GSubprocess *p = G_SUBPROCESS(source);
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;

    running_media = g_list_remove(running_media, m);
    if (m->timeout_id) {
        g_source_remove(m->timeout_id);
        m->timeout_id = 0;
    }
    if (!g_subprocess_communicate_utf8_finish(p, res, &out, &err, &error)) {
        g_subprocess_force_exit(p);
        m->error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                               "cannot read virtd-install-media's answer: %s", error->message);
    } else {
        m->error = media_helper_result(m, p, out, err);
    }
    g_task_run_in_thread(task, media_finish_thread);
    g_object_unref(task);
}

static gboolean
media_timeout(gpointer data)
{
    MediaJob *m = data;

    m->timeout_id = 0;
    m->timed_out = TRUE;
    g_subprocess_force_exit(m->helper);
    return G_SOURCE_REMOVE;
}

/* The helper must not outlive the daemon (the daemon's exit kills it too),
 * and a parser it runs on hostile input gains nothing from setuid files. */
static void
media_child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void
media_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    MediaJob *m = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocessLauncher) l = NULL;
    g_autofree char *helper = NULL;
    GTask *task;

    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        vd_api_reply_error(m->req, error);
        media_job_free(m);
        return;
    }
    if (!m->iso) {
        media_reply(m->req, m);
        media_job_free(m);
        return;
    }
    /* From here the finishing task owns m. */
    task = g_task_new(NULL, NULL, media_done, m->req);
    g_task_set_task_data(task, m, (GDestroyNotify)media_job_free);

    helper = media_helper_path();
    l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_set_child_setup(l, media_child_setup, NULL, NULL);
    m->helper = g_subprocess_launcher_spawn(l, &error, helper, m->resolved, m->stage, NULL);
    if (!m->helper) {
        m->error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                               "cannot run %s to read ISO '%s': %s (reinstall virtd: the helper "
                               "belongs in its libexec directory)",
                               helper, m->location, error->message);
        g_task_run_in_thread(task, media_finish_thread);
        g_object_unref(task);
        return;
    }
    running_media = g_list_prepend(running_media, m);
    m->timeout_id = g_timeout_add_seconds(media_time_limit(), media_timeout, m);
    g_subprocess_communicate_utf8_async(m->helper, NULL, NULL, media_helper_done, task);
}

/* {"location": DIR or ISO, "pool": P, "name": N}: a tree's files are
 * used where they are; an ISO's are copied out into volumes N.vmlinuz and
 * N.initrd of pool P (the default: 'default'), replacing earlier ones. */
void
vd_api_install_media(VdApiRequest *req)
{
    VdDaemon *d = req->d;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    const char *location, *pool_name, *name;
    VdStoragePool *pool;
    g_autofree char *kvol = NULL, *ivol = NULL;
    MediaJob *m;

    if (error)
        goto fail;
    location = vd_api_body_string(body, "location");
    pool_name = vd_api_body_string(body, "pool");
    name = vd_api_body_string(body, "name");
    if (!location || !g_path_is_absolute(location)) {
        g_set_error_literal(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "\"location\" must be the absolute path of an install tree or an "
                            "ISO image");
        goto fail;
    }
    if (!name || !vd_name_validate(name, "domain name", &error)) {
        if (!error)
            g_set_error_literal(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                                "\"name\" (the new domain's) is needed: it names the copies "
                                "of an ISO's kernel and initrd");
        goto fail;
    }
    kvol = g_strdup_printf("%s.vmlinuz", name);
    ivol = g_strdup_printf("%s.initrd", name);
    m = g_new0(MediaJob, 1);
    m->guard = vd_path_policy_guard(d->paths);
    m->location = g_strdup(location);
    if ((pool = vd_storage_lookup(d->storage, pool_name ? pool_name : "default", NULL)) &&
        vd_storage_check_active(pool, NULL)) {
        g_autofree char *stage = g_strdup_printf(".%s.install-XXXXXX", name);

        m->kernel_dest = vd_storage_vol_path(pool, kvol, NULL);
        m->initrd_dest = vd_storage_vol_path(pool, ivol, NULL);
        m->stage = g_build_filename(pool->def->target_path,
                                    stage, NULL);
    }
    if (!m->kernel_dest || !m->initrd_dest) {
        /* Only an ISO needs the pool; a tree is checked in the worker. */
        g_free(m->kernel_dest);
        g_free(m->initrd_dest);
        m->kernel_dest = g_strdup("/nonexistent/vmlinuz");
        m->initrd_dest = g_strdup("/nonexistent/initrd");
        m->stage = m->stage ? m->stage : g_strdup("/nonexistent/stage-XXXXXX");
    }
    m->req = req;
    vd_api_pause(req);
    {
        g_autoptr(GTask) task = g_task_new(NULL, NULL, media_checked, req);

        g_task_set_task_data(task, m, NULL); /* media_checked frees or passes it on */
        g_task_run_in_thread(task, media_check_thread);
    }
    return;

fail:
    vd_api_reply_error(req, error);
}

void
vd_api_install_media_shutdown(void)
{
    for (GList *l = running_media; l; l = l->next) {
        MediaJob *m = l->data;

        g_message("daemon exiting: reading ISO %s stopped", m->location);
        g_subprocess_force_exit(m->helper);
        media_stage_clean(m);
    }
}
