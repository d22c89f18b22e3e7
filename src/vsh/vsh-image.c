/* vsh image build TEMPLATE: a bootable guest disk image in one command
 * (virt-builder's job; docs/images.md).
 *
 * vsh checks everything it can before the long part starts (the template,
 * the size, the output, the pool, the password, the key, the package
 * names), then runs the template's recipe (vsh-image.h) with its progress
 * shown as steps with the elapsed time. The recipe runs in its own process
 * group, so Ctrl+C reaches vsh alone, which then ends the whole group and
 * removes the partial output and the work directory: an interrupted build
 * leaves nothing behind.
 */
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "util/vd-error.h"
#include "util/vd-names.h"
#include "util/vd-units.h"
#include "vsh-client.h"
#include "vsh-image.h"
#include "vsh.h"

#define DEFAULT_SIZE "8G"
#define MIN_SIZE (G_GUINT64_CONSTANT(1) << 30)
#define MIB (G_GUINT64_CONSTANT(1) << 20)

/* What one build needs, settled before anything runs. */
typedef struct {
    char *template_name;
    char *recipe;
    char *output;   /* absolute path of the image */
    char *dom_name; /* the name the printed install commands use */
    guint64 size;   /* bytes, whole MiBs */
    const char *format;
    char *hostname;
    char *password; /* NULL: none given */
    const char *ssh_key;
    const char *packages;
    const char *cache;
    const char *pool; /* refreshed afterwards; NULL with --output */
} ImagePlan;

static void
image_plan_clear(ImagePlan *plan)
{
    g_free(plan->template_name);
    g_free(plan->recipe);
    g_free(plan->output);
    g_free(plan->dom_name);
    g_free(plan->hostname);
    if (plan->password)
        explicit_bzero(plan->password, strlen(plan->password));
    g_free(plan->password);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ImagePlan, image_plan_clear)

/* ---- planning ---- */

/* GET /v1/pools/POOL: the target directory of a running pool (the storage
 * API, /work/notes/contract.md). */
static char *
pool_target(VshCtl *ctl, const char *pool, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autofree char *escaped = g_uri_escape_string(pool, NULL, FALSE);
    g_autofree char *path = g_strdup_printf("/v1/pools/%s", escaped);
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonNode) answer = NULL;
    JsonNode *node;
    JsonObject *obj;
    const char *target;

    if (!client)
        return NULL;
    answer = vsh_client_call(client, "GET", path, NULL, &local);
    if (!answer) {
        if (local->domain == VD_ERROR && local->code == VD_ERROR_NOT_FOUND)
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "this virtd has no storage pools (GET %s: %s); use --output PATH", path,
                        local->message);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    node = json_object_get_member(json_node_get_object(answer), "pool");
    obj = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    target = vsh_json_string(obj, "target", NULL);
    if (!target || !g_path_is_absolute(target)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "unexpected answer from virtd to GET %s: no absolute \"target\"", path);
        return NULL;
    }
    if (!g_str_equal(vsh_json_string(obj, "state", ""), "running")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "storage pool '%s' is not active: start it with 'vsh pool-start %s'", pool,
                    pool);
        return NULL;
    }
    return g_strdup(target);
}

/* "web.qcow2" -> "web": the domain name the printed commands suggest. */
static char *
name_without_extension(const char *file)
{
    g_autofree char *base = g_path_get_basename(file);
    char *dot = strrchr(base, '.');

    if (dot && dot != base)
        *dot = '\0';
    return g_steal_pointer(&base);
}

static gboolean
plan_output(VshCtl *ctl, const VshCmd *cmd, ImagePlan *plan, GError **error)
{
    const char *output = vsh_cmd_get_string(cmd, "output");
    const char *name = vsh_cmd_get_string(cmd, "name");
    g_autofree char *dir = NULL;

    plan->pool = vsh_cmd_get_string(cmd, "pool");
    if (output && (plan->pool || name)) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--output and --pool/--name exclude each other: give one");
        return FALSE;
    }
    if (!!plan->pool != !!name) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--pool and --name go together: --pool POOL --name VOLUME");
        return FALSE;
    }
    if (plan->pool) {
        g_autofree char *target = NULL;

        if (!vd_name_validate(name, "volume name", error))
            return FALSE;
        if (!(target = pool_target(ctl, plan->pool, error)))
            return FALSE;
        plan->output = g_build_filename(target, name, NULL);
    } else if (output) {
        plan->output = g_canonicalize_filename(output, NULL);
    } else {
        g_autofree char *file = g_strdup_printf("%s.%s", plan->template_name, plan->format);

        plan->output = g_canonicalize_filename(file, NULL);
    }
    plan->dom_name = name_without_extension(plan->output);

    dir = g_path_get_dirname(plan->output);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "directory '%s' for the image does not exist: create it first", dir);
        return FALSE;
    }
    if (g_file_test(plan->output, G_FILE_TEST_EXISTS) && !vsh_cmd_has(cmd, "force")) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "'%s' already exists: choose another %s, or add --force to replace it",
                    plan->output, plan->pool ? "--name" : "--output");
        return FALSE;
    }
    return TRUE;
}

static gboolean
plan_build(VshCtl *ctl, const VshCmd *cmd, ImagePlan *plan, GError **error)
{
    const char *size = vsh_cmd_get_string(cmd, "size");
    const char *spec;

    plan->template_name = g_strdup(vsh_cmd_get_string(cmd, "template"));
    if (!(plan->recipe =
              vsh_image_find_recipe(vsh_image_recipes_dir(), plan->template_name, error)))
        return FALSE;

    if (!vd_size_parse(size ? size : DEFAULT_SIZE, "b", &plan->size, error))
        return FALSE;
    if (plan->size < MIN_SIZE) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--size %s is too small: a %s image needs at least 1G (a bare number is "
                    "bytes; write 8G for 8 GiB)",
                    size, plan->template_name);
        return FALSE;
    }
    /* Whole MiBs, so that the partition ends on the disk's last sector. */
    plan->size = (plan->size + MIB - 1) / MIB * MIB;

    plan->format = vsh_cmd_get_string(cmd, "format");
    if (!plan->format)
        plan->format = "qcow2";
    if (!g_str_equal(plan->format, "qcow2") && !g_str_equal(plan->format, "raw")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "unknown --format '%s': the image formats are qcow2 and raw", plan->format);
        return FALSE;
    }

    if ((spec = vsh_cmd_get_string(cmd, "root-password")) &&
        !(plan->password = vsh_image_read_password(spec, error)))
        return FALSE;
    plan->ssh_key = vsh_cmd_get_string(cmd, "ssh-key");
    if (plan->ssh_key && !vsh_image_check_ssh_key(plan->ssh_key, error))
        return FALSE;
    plan->packages = vsh_cmd_get_string(cmd, "packages");
    if (plan->packages && !vsh_image_check_packages(plan->packages, error))
        return FALSE;
    plan->cache = vsh_cmd_get_string(cmd, "cache");
    if (!plan->cache && g_getenv("VSH_IMAGE_CACHE") && *g_getenv("VSH_IMAGE_CACHE"))
        plan->cache = g_getenv("VSH_IMAGE_CACHE");

    if (!plan_output(ctl, cmd, plan, error))
        return FALSE;

    spec = vsh_cmd_get_string(cmd, "hostname");
    plan->hostname = g_strdup(spec);
    if (!plan->hostname) {
        /* The image's own name when it makes a host name, else "debian". */
        plan->hostname = g_strdup(plan->dom_name);
        if (!vsh_image_check_hostname(plan->hostname, NULL)) {
            g_free(plan->hostname);
            plan->hostname = g_strdup("debian");
        }
    }
    if (!vsh_image_check_hostname(plan->hostname, error))
        return FALSE;

    /* Last: the checks above tell a user what is wrong even without root. */
    if (geteuid() != 0) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_DENIED,
                            "image build must run as root: the image holds files owned by root "
                            "and other users, which mmdebstrap and mkfs.ext4 can only write as "
                            "root; run it with sudo");
        return FALSE;
    }
    return TRUE;
}

/* ---- running the recipe ---- */

typedef struct {
    VshCtl *ctl;
    GMainLoop *loop;
    GSubprocess *proc;
    GDataInputStream *out;
    gboolean reading; /* a read of the recipe's stdout is pending */
    gboolean running; /* the recipe has not been reaped */
    int pgid;
    guint signals;    /* how many times the user interrupted */
    gint64 start;     /* monotonic, usec */
    GHashTable *info; /* @@info KEY VALUE */
    GPtrArray *warnings;
    char *step; /* "3/7 Configuring the guest", the step underway */
} Build;

static void
build_maybe_quit(Build *b)
{
    if (!b->reading && !b->running)
        g_main_loop_quit(b->loop);
}

static void
build_show_line(Build *b, const char *raw)
{
    g_auto(VshImageLine) line = {0};
    g_autofree char *elapsed = NULL;

    vsh_image_parse_line(raw, &line);
    switch (line.kind) {
    case VSH_IMAGE_LINE_STEP:
        g_free(b->step);
        b->step = g_strdup_printf("%u/%u %s", line.step, line.steps, line.text);
        elapsed = vsh_image_format_duration(g_get_monotonic_time() - b->start);
        vsh_print_extra(b->ctl, "[%u/%u, %s] %s\n", line.step, line.steps, elapsed, line.text);
        break;
    case VSH_IMAGE_LINE_INFO:
        g_hash_table_replace(b->info, g_steal_pointer(&line.key), g_steal_pointer(&line.text));
        break;
    case VSH_IMAGE_LINE_WARN:
        g_ptr_array_add(b->warnings, g_strdup(line.text));
        break;
    case VSH_IMAGE_LINE_TEXT:
        vsh_print_extra(b->ctl, "%s\n", line.text);
        break;
    }
    fflush(stdout);
}

static void
on_line(GObject *source, GAsyncResult *res, gpointer data)
{
    Build *b = data;
    g_autofree char *raw =
        g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, NULL);

    if (!raw) {
        b->reading = FALSE;
        build_maybe_quit(b);
        return;
    }
    build_show_line(b, raw);
    g_data_input_stream_read_line_async(b->out, G_PRIORITY_DEFAULT, NULL, on_line, b);
}

static void
on_recipe_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    Build *b = data;

    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    b->running = FALSE;
    build_maybe_quit(b);
}

/* Ctrl+C (and SIGTERM, SIGHUP): end the recipe's whole process group
 * (mmdebstrap and what it runs), politely first; a second Ctrl+C kills. */
static gboolean
on_signal(gpointer data)
{
    Build *b = data;

    if (b->signals++ == 0) {
        fflush(stdout);
        fputs("\nInterrupted: stopping the build and removing what it made "
              "(Ctrl+C again to kill it)\n",
              stderr);
    }
    if (b->running && b->pgid > 0)
        kill(-b->pgid, b->signals == 1 ? SIGTERM : SIGKILL);
    return G_SOURCE_CONTINUE;
}

static void
child_setup(gpointer data)
{
    /* Its own process group: the terminal's Ctrl+C reaches vsh only, and
     * vsh ends the whole group, grandchildren included. */
    setpgid(0, 0);
}

static GPtrArray *
recipe_argv(const ImagePlan *plan, const char *workdir, const char *password_file)
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
    if (plan->ssh_key) {
        ARG("--ssh-key");
        ARG(plan->ssh_key);
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

/* Removes @dir and everything under it, never crossing into another file
 * system (nothing is mounted there, but a bug must not reach further). */
static void
remove_tree(const char *dir)
{
    const char *argv[] = {"rm", "-rf", "--one-file-system", "--", dir, NULL};
    g_autoptr(GError) error = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                      &status, &error) ||
        !g_spawn_check_wait_status(status, NULL))
        vsh_warn("could not remove the work directory %s: %s", dir,
                 error ? error->message : "rm failed");
}

/* What a failed or interrupted build leaves: the recipe writes *.part
 * files and renames them only when everything succeeded. */
static void
remove_partial_output(const ImagePlan *plan)
{
    static const char *const suffixes[] = {".part", ".vmlinuz.part", ".initrd.part",
                                           ".cmdline.part"};

    for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *path = g_strconcat(plan->output, suffixes[i], NULL);

        if (unlink(path) < 0 && errno != ENOENT)
            vsh_warn("could not remove %s: %s", path, g_strerror(errno));
    }
}

/* The work directory: $TMPDIR, else /var/tmp, which is on disk where /tmp
 * may be memory; the root tree is about a GiB. */
static char *
make_workdir(GError **error)
{
    const char *base = g_getenv("TMPDIR");
    g_autofree char *dir = NULL;

    if (!base || !*base)
        base = "/var/tmp";
    dir = g_build_filename(base, "vsh-image-XXXXXX", NULL);
    if (!g_mkdtemp(dir)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot make a work directory in %s: %s (set TMPDIR to another directory)",
                    base, g_strerror(errno));
        return NULL;
    }
    return g_steal_pointer(&dir);
}

static gboolean
run_recipe(VshCtl *ctl, const ImagePlan *plan, const char *workdir, Build *b, GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autofree char *password_file = NULL;
    g_autoptr(GPtrArray) argv = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    guint sources[3];
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

    if (plan->password) {
        /* In a file, not on a command line another user could read. */
        password_file = g_build_filename(workdir, "root-password", NULL);
        if (!g_file_set_contents_full(password_file, plan->password, -1, G_FILE_SET_CONTENTS_NONE,
                                      0600, error))
            return FALSE;
    }
    argv = recipe_argv(plan, workdir, password_file);

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
    b->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
    if (!b->proc)
        return FALSE;
    b->pgid = atoi(g_subprocess_get_identifier(b->proc));
    b->running = TRUE;
    b->reading = TRUE;
    b->loop = loop = g_main_loop_new(NULL, FALSE);
    b->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(b->proc));
    for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
        sources[i] = g_unix_signal_add(sigs[i], on_signal, b);

    g_data_input_stream_read_line_async(b->out, G_PRIORITY_DEFAULT, NULL, on_line, b);
    g_subprocess_wait_async(b->proc, NULL, on_recipe_exit, b);
    g_main_loop_run(loop);

    for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
        g_source_remove(sources[i]);
    g_clear_object(&b->out);
    b->loop = NULL;

    if (b->signals > 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "image build interrupted during step %s; the partial image was removed",
                    b->step ? b->step : "0");
        return FALSE;
    }
    if (!g_subprocess_get_if_exited(b->proc) || g_subprocess_get_exit_status(b->proc) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "image build failed during step %s: the recipe %s %s; its messages are "
                    "above",
                    b->step ? b->step : "0", plan->recipe,
                    g_subprocess_get_if_exited(b->proc) ? "exited with an error" : "was killed");
        return FALSE;
    }
    return TRUE;
}

/* ---- the result ---- */

static const char *
info(Build *b, const char *key)
{
    const char *value = g_hash_table_lookup(b->info, key);

    return value ? value : "?";
}

/* @s as one shell word, quoted only when it needs to be: the printed
 * commands are meant to be read as well as pasted. */
static char *
shell_word(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("_./=,:+-@%", *p))
            return g_shell_quote(s);
    }
    return *s ? g_strdup(s) : g_shell_quote(s);
}

static void
print_result(VshCtl *ctl, const ImagePlan *plan, Build *b)
{
    g_autofree char *took = vsh_image_format_duration(g_get_monotonic_time() - b->start);
    g_autofree char *size = vd_size_format_pretty(plan->size);
    g_autofree char *q_name = shell_word(plan->dom_name);
    g_autofree char *disk = g_strdup_printf("path=%s,format=%s", plan->output, plan->format);
    g_autofree char *q_disk = shell_word(disk);
    g_autofree char *boot =
        g_strdup_printf("kernel=%s,initrd=%s,kernel_args=%s", info(b, "kernel"),
                        info(b, "initrd"), info(b, "cmdline"));
    g_autofree char *q_boot = shell_word(boot);
    const char *password = info(b, "root_password");

    for (guint i = 0; i < b->warnings->len; i++)
        vsh_warn("%s", (const char *)g_ptr_array_index(b->warnings, i));

    vsh_print(ctl, "Image '%s' built in %s\n", plan->output, took);
    vsh_print(ctl, "  %s, %s disk, Linux %s, host name %s\n", plan->format, size,
              info(b, "kernel_version"), plan->hostname);
    vsh_print(ctl, "  root: %s\n",
              g_str_equal(password, "set")      ? "the password given"
              : g_str_equal(password, "locked") ? "password locked; log in with the ssh key"
                                                : "no password (log in at the console as root)");
    vsh_print(ctl, "  direct kernel boot: %s, %s\n", info(b, "kernel"), info(b, "initrd"));
    vsh_print(ctl, "  kernel arguments: %s\n", info(b, "cmdline"));

    vsh_print(ctl,
              "\nBoot it from its disk (SeaBIOS, GRUB):\n"
              "  vsh install --name %s --memory 1024 --osinfo debian12 --import --disk %s "
              "--network user --graphics none\n",
              q_name, q_disk);
    vsh_print(ctl,
              "Or boot its kernel directly (faster: no firmware, no GRUB):\n"
              "  vsh install --name %s --memory 1024 --osinfo debian12 --import --disk %s "
              "--network user --graphics none --boot %s\n",
              q_name, q_disk, q_boot);
}

static gboolean
cmd_image_build(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_auto(ImagePlan) plan = {0};
    g_autofree char *workdir = NULL;
    g_autofree char *size = NULL;
    g_autoptr(GHashTable) info_table =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    Build b = {.ctl = ctl, .info = info_table, .warnings = warnings};
    gboolean ok;

    if (!plan_build(ctl, cmd, &plan, error))
        return FALSE;
    if (!(workdir = make_workdir(error)))
        return FALSE;

    size = vd_size_format_pretty(plan.size);
    vsh_print_extra(ctl, "Building %s into %s (%s, %s) with %s\n", plan.template_name, plan.output,
                    plan.format, size, plan.recipe);
    b.start = g_get_monotonic_time();
    ok = run_recipe(ctl, &plan, workdir, &b, error);
    if (!ok)
        remove_partial_output(&plan);
    remove_tree(workdir);
    g_clear_object(&b.proc);

    if (ok && plan.pool) {
        /* So that the new volume is listed at once (POST .../refresh). */
        g_autofree char *escaped = g_uri_escape_string(plan.pool, NULL, FALSE);
        g_autofree char *path = g_strdup_printf("/v1/pools/%s/refresh", escaped);
        g_autoptr(JsonNode) answer = NULL;
        g_autoptr(GError) local = NULL;
        VshClient *client = vsh_ctl_client(ctl, &local);

        if (client)
            answer = vsh_client_call(client, "POST", path, NULL, &local);
        if (!answer)
            vsh_warn("the image is built but the pool '%s' was not refreshed: %s; run "
                     "'vsh pool-refresh %s'",
                     plan.pool, local->message, plan.pool);
    }
    if (ok)
        print_result(ctl, &plan, &b);
    g_free(b.step);
    return ok;
}

static const VshOptDef opts_image_build[] = {
    {"template", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "what to build: debian-12"},
    {"size", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "disk size, e.g. 8G (the default), 20GiB"},
    {"output", VSH_OT_STRING, 0, VSH_COMPLETE_FILE, "the image file (default: ./TEMPLATE.FORMAT)"},
    {"pool", VSH_OT_STRING, 0, VSH_COMPLETE_POOL, "make the image a volume of this pool"},
    {"name", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "the volume's name (with --pool)"},
    {"format", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "qcow2 (the default) or raw"},
    {"hostname", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "the guest's host name (default: the image's name)"},
    {"root-password", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "root's password, or file:PATH to read it from (default: none)"},
    {"ssh-key", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "a public key file for root's authorized_keys (adds openssh-server)"},
    {"packages", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "more Debian packages: a,b,c"},
    {"cache", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "keep the installed packages here for the next build (or $VSH_IMAGE_CACHE)"},
    {"force", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "replace an existing image"},
    {NULL},
};

const VshCmdDef vsh_image_commands[] = {
    {"image-build", "image", opts_image_build, cmd_image_build,
     "build a bootable guest disk image (also: image build)",
     "Builds a Debian 12 guest disk image without mounting anything, bootable by itself "
     "(GRUB) or from the kernel and initrd written next to it. Needs root. See "
     "docs/images.md."},
    {NULL},
};
