/* Running an image recipe (vd-image.h): shared by `vsh image build`, which
 * runs its own main loop, and the daemon's image build task, which runs in
 * the daemon's. Everything is asynchronous: the recipe's stdout is read
 * line by line, its exit is waited for, and the clean-up (rm -rf of a work
 * directory of about a GiB) is a child process too, so that nothing here
 * blocks a main loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <gio/gio.h>

#include "image/vd-image.h"
#include "util/vd-error.h"

#define KILL_AFTER_S 10

struct _VdImageBuild {
    char *recipe;
    char *output;
    char *workdir;
    GSubprocess *proc;
    GDataInputStream *out;
    GCancellable *cancel; /* for the reads, once freed early */
    int pgid;
    gboolean reading;  /* stdout not yet at its end */
    gboolean running;  /* the recipe not yet reaped */
    gboolean cleaning; /* the rm after it runs */
    gboolean done;
    gboolean stopped;
    gboolean succeeded;
    guint kill_timer;
    gint64 start; /* monotonic */
    GHashTable *info;
    GPtrArray *warnings;
    char *step;
    guint step_no, steps;
    VdImageLineFunc on_line;
    VdImageDoneFunc on_done;
    gpointer data;
};

static void
child_setup(gpointer data)
{
    /* Its own process group: a terminal's Ctrl+C reaches vsh only, and a
     * stop ends the whole group, mmdebstrap's children included. */
    (void)data;
    setpgid(0, 0);
}

static GPtrArray *
recipe_argv(const VdImagePlan *plan, const char *workdir, const char *password_file,
            const char *key_file)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

#define ARG(x) g_ptr_array_add(argv, g_strdup(x))
    /* Through sh: a recipe need not be executable (a source tree). */
    ARG("sh");
    ARG(plan->recipe);
    ARG("--output");
    ARG(plan->output);
    ARG("--size");
    g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT, plan->size));
    ARG("--format");
    ARG(plan->format);
    ARG("--hostname");
    ARG(plan->hostname);
    ARG("--workdir");
    ARG(workdir);
    if (password_file) {
        ARG("--root-password-file");
        ARG(password_file);
    }
    if (key_file) {
        ARG("--ssh-key");
        ARG(key_file);
    }
    if (plan->packages) {
        ARG("--packages");
        ARG(plan->packages);
    }
    if (plan->cache) {
        ARG("--cache");
        ARG(plan->cache);
    }
#undef ARG
    g_ptr_array_add(argv, NULL);
    return argv;
}

static char *
make_workdir(GError **error)
{
    const char *base = g_getenv("TMPDIR");
    g_autofree char *dir = NULL;

    if (!base || !*base)
        base = "/var/tmp";
    dir = g_build_filename(base, "vd-image-XXXXXX", NULL);
    if (!g_mkdtemp(dir)) {
        int saved = errno;

        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot make a work directory in %s: %s (set TMPDIR to another directory)",
                    base, g_strerror(saved));
        return NULL;
    }
    return g_steal_pointer(&dir);
}

static void
finish(VdImageBuild *b)
{
    b->done = TRUE;
    if (b->on_done)
        b->on_done(b, b->data);
}

static void
on_cleaned(GObject *source, GAsyncResult *res, gpointer data)
{
    VdImageBuild *b = data;
    g_autoptr(GError) error = NULL;

    if (!g_subprocess_wait_check_finish(G_SUBPROCESS(source), res, &error))
        g_warning("could not remove the image build's work directory %s: %s", b->workdir,
                  error->message);
    g_object_unref(source);
    b->cleaning = FALSE;
    finish(b);
}

/* The work directory always; after a failure or a stop what the recipe
 * left of the output (it writes *.part files and renames them only when
 * everything succeeded). Never crossing into another file system: nothing
 * is mounted there, but a bug must not reach further. */
static void
clean_up(VdImageBuild *b)
{
    static const char *const suffixes[] = {".part", ".vmlinuz.part", ".initrd.part",
                                           ".cmdline.part"};
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    GSubprocess *rm;

    g_clear_handle_id(&b->kill_timer, g_source_remove);
    g_ptr_array_add(argv, g_strdup("rm"));
    g_ptr_array_add(argv, g_strdup("-rf"));
    g_ptr_array_add(argv, g_strdup("--one-file-system"));
    g_ptr_array_add(argv, g_strdup("--"));
    g_ptr_array_add(argv, g_strdup(b->workdir));
    if (!b->succeeded) {
        for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++)
            g_ptr_array_add(argv, g_strconcat(b->output, suffixes[i], NULL));
    }
    g_ptr_array_add(argv, NULL);
    rm = g_subprocess_newv((const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_NONE, &error);
    if (!rm) {
        g_warning("could not remove the image build's work directory %s: %s", b->workdir,
                  error->message);
        finish(b);
        return;
    }
    b->cleaning = TRUE;
    g_subprocess_wait_check_async(rm, NULL, on_cleaned, b);
}

static void
maybe_ended(VdImageBuild *b)
{
    if (b->reading || b->running || b->cleaning || b->done)
        return;
    b->succeeded = !b->stopped && g_subprocess_get_if_exited(b->proc) &&
                   g_subprocess_get_exit_status(b->proc) == 0;
    clean_up(b);
}

static void
on_line(GObject *source, GAsyncResult *res, gpointer data)
{
    VdImageBuild *b = data;
    g_auto(VdImageLine) line = {0};
    g_autofree char *raw =
        g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, NULL);

    if (!raw) {
        b->reading = FALSE;
        maybe_ended(b);
        return;
    }
    vd_image_parse_line(raw, &line);
    switch (line.kind) {
    case VD_IMAGE_LINE_STEP:
        g_free(b->step);
        b->step = g_strdup_printf("%u/%u %s", line.step, line.steps, line.text);
        b->step_no = line.step;
        b->steps = line.steps;
        break;
    case VD_IMAGE_LINE_INFO:
        g_hash_table_replace(b->info, g_strdup(line.key), g_strdup(line.text));
        break;
    case VD_IMAGE_LINE_WARN:
        g_ptr_array_add(b->warnings, g_strdup(line.text));
        break;
    case VD_IMAGE_LINE_TEXT:
        break;
    }
    if (b->on_line)
        b->on_line(b, &line, b->data);
    g_data_input_stream_read_line_async(b->out, G_PRIORITY_DEFAULT, b->cancel, on_line, b);
}

static void
on_recipe_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    VdImageBuild *b = data;

    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    b->running = FALSE;
    /* A stopped recipe's stragglers would hold stdout open. */
    if (b->stopped && b->pgid > 0)
        kill(-b->pgid, SIGKILL);
    maybe_ended(b);
}

VdImageBuild *
vd_image_build_start(const VdImagePlan *plan, VdImageLineFunc on_line_cb, VdImageDoneFunc done,
                     gpointer data, GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autofree char *password_file = NULL;
    g_autofree char *key_file = NULL;
    g_autoptr(GPtrArray) argv = NULL;
    g_autofree char *workdir = NULL;
    GSubprocess *proc;
    VdImageBuild *b;

    if (!(workdir = make_workdir(error)))
        return NULL;
    if (plan->password) {
        /* In a file, not on a command line another user could read. */
        password_file = g_build_filename(workdir, "root-password", NULL);
        if (!g_file_set_contents_full(password_file, plan->password, -1,
                                      G_FILE_SET_CONTENTS_NONE, 0600, error))
            goto fail;
    }
    if (plan->ssh_key_text) {
        key_file = g_build_filename(workdir, "authorized_keys", NULL);
        if (!g_file_set_contents_full(key_file, plan->ssh_key_text, -1,
                                      G_FILE_SET_CONTENTS_NONE, 0600, error))
            goto fail;
    } else if (plan->ssh_key) {
        key_file = g_strdup(plan->ssh_key);
    }
    argv = recipe_argv(plan, workdir, password_file, key_file);
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    if (plan->log_file)
        g_subprocess_launcher_set_stderr_file_path(launcher, plan->log_file);
    g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
    if (!proc)
        goto fail;

    b = g_new0(VdImageBuild, 1);
    b->recipe = g_strdup(plan->recipe);
    b->output = g_strdup(plan->output);
    b->workdir = g_steal_pointer(&workdir);
    b->proc = proc;
    b->pgid = atoi(g_subprocess_get_identifier(proc));
    b->cancel = g_cancellable_new();
    b->start = g_get_monotonic_time();
    b->info = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    b->warnings = g_ptr_array_new_with_free_func(g_free);
    b->on_line = on_line_cb;
    b->on_done = done;
    b->data = data;
    b->running = b->reading = TRUE;
    b->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
    g_data_input_stream_read_line_async(b->out, G_PRIORITY_DEFAULT, b->cancel, on_line, b);
    g_subprocess_wait_async(proc, NULL, on_recipe_exit, b);
    return b;

fail: {
    const char *rm[] = {"rm", "-rf", "--one-file-system", "--", workdir, NULL};
    g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                 NULL);
    return NULL;
}
}

static gboolean
on_kill_timer(gpointer data)
{
    VdImageBuild *b = data;

    b->kill_timer = 0;
    if (b->running && b->pgid > 0)
        kill(-b->pgid, SIGKILL);
    return G_SOURCE_REMOVE;
}

void
vd_image_build_stop(VdImageBuild *b, gboolean kill_now)
{
    if (b->done || !b->running)
        return;
    b->stopped = TRUE;
    if (b->pgid > 0)
        kill(-b->pgid, kill_now ? SIGKILL : SIGTERM);
    if (!kill_now && !b->kill_timer)
        b->kill_timer = g_timeout_add_seconds(KILL_AFTER_S, on_kill_timer, b);
}

void
vd_image_build_kill_sync(VdImageBuild *b)
{
    static const char *const suffixes[] = {".part", ".vmlinuz.part", ".initrd.part",
                                           ".cmdline.part"};
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

    if (b->done)
        return;
    b->stopped = TRUE;
    if (b->pgid > 0)
        kill(-b->pgid, SIGKILL);
    if (b->running)
        g_subprocess_wait(b->proc, NULL, NULL);
    g_ptr_array_add(argv, g_strdup("rm"));
    g_ptr_array_add(argv, g_strdup("-rf"));
    g_ptr_array_add(argv, g_strdup("--one-file-system"));
    g_ptr_array_add(argv, g_strdup("--"));
    g_ptr_array_add(argv, g_strdup(b->workdir));
    for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++)
        g_ptr_array_add(argv, g_strconcat(b->output, suffixes[i], NULL));
    g_ptr_array_add(argv, NULL);
    g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                 NULL, NULL);
    b->done = TRUE;
}

gboolean
vd_image_build_stopped(VdImageBuild *b)
{
    return b->stopped;
}

gboolean
vd_image_build_result(VdImageBuild *b, GError **error)
{
    if (b->succeeded)
        return TRUE;
    if (b->stopped)
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "image build stopped during step %s; the partial image was removed",
                    b->step ? b->step : "0");
    else
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "image build failed during step %s: the recipe %s %s", b->step ? b->step : "0",
                    b->recipe,
                    g_subprocess_get_if_exited(b->proc) ? "exited with an error" : "was killed");
    return FALSE;
}

const char *
vd_image_build_step(VdImageBuild *b, guint *step, guint *steps)
{
    if (step)
        *step = b->step_no;
    if (steps)
        *steps = b->steps;
    return b->step;
}

const char *
vd_image_build_info(VdImageBuild *b, const char *key)
{
    return g_hash_table_lookup(b->info, key);
}

GPtrArray *
vd_image_build_warnings(VdImageBuild *b)
{
    return b->warnings;
}

gint64
vd_image_build_elapsed(VdImageBuild *b)
{
    return g_get_monotonic_time() - b->start;
}

int
vd_image_build_pgid(VdImageBuild *b)
{
    return b->pgid;
}

void
vd_image_build_free(VdImageBuild *b)
{
    if (!b)
        return;
    g_clear_handle_id(&b->kill_timer, g_source_remove);
    g_clear_object(&b->cancel);
    g_clear_object(&b->out);
    g_clear_object(&b->proc);
    g_hash_table_unref(b->info);
    g_ptr_array_unref(b->warnings);
    g_free(b->step);
    g_free(b->recipe);
    g_free(b->output);
    g_free(b->workdir);
    g_free(b);
}
