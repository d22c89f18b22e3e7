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
              vd_image_find_recipe(vd_image_recipes_dir(), plan->template_name, error)))
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
        !(plan->password = vd_image_read_password(spec, error)))
        return FALSE;
    plan->ssh_key = vsh_cmd_get_string(cmd, "ssh-key");
    if (plan->ssh_key && !vd_image_check_ssh_key(plan->ssh_key, error))
        return FALSE;
    plan->packages = vsh_cmd_get_string(cmd, "packages");
    if (plan->packages && !vd_image_check_packages(plan->packages, error))
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
        if (!vd_image_check_hostname(plan->hostname, NULL)) {
            g_free(plan->hostname);
            plan->hostname = g_strdup("debian");
        }
    }
    if (!vd_image_check_hostname(plan->hostname, error))
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

/* ---- running the recipe (src/image/vd-image-build.c) ---- */

typedef struct {
    VshCtl *ctl;
    GMainLoop *loop;
    VdImageBuild *build;
    guint signals; /* how many times the user interrupted */
} Build;

static void
on_line(VdImageBuild *build, const VdImageLine *line, gpointer data)
{
    Build *b = data;
    g_autofree char *elapsed = NULL;

    switch (line->kind) {
    case VD_IMAGE_LINE_STEP:
        elapsed = vd_image_format_duration(vd_image_build_elapsed(build));
        vsh_print_extra(b->ctl, "[%u/%u, %s] %s\n", line->step, line->steps, elapsed,
                        line->text);
        break;
    case VD_IMAGE_LINE_TEXT:
        vsh_print_extra(b->ctl, "%s\n", line->text);
        break;
    case VD_IMAGE_LINE_INFO:
    case VD_IMAGE_LINE_WARN:
        break; /* kept by the build, shown with the result */
    }
    fflush(stdout);
}

static void
on_done(VdImageBuild *build, gpointer data)
{
    Build *b = data;

    (void)build;
    g_main_loop_quit(b->loop);
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
    vd_image_build_stop(b->build, b->signals > 1);
    return G_SOURCE_CONTINUE;
}

static gboolean
run_recipe(const ImagePlan *plan, Build *b, GError **error)
{
    VdImagePlan p = {
        .recipe = plan->recipe,
        .output = plan->output,
        .size = plan->size,
        .format = plan->format,
        .hostname = plan->hostname,
        .password = plan->password,
        .ssh_key = plan->ssh_key,
        .packages = plan->packages,
        .cache = plan->cache,
    };
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    guint sources[3];
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    g_autoptr(GError) local = NULL;

    b->loop = loop;
    if (!(b->build = vd_image_build_start(&p, on_line, on_done, b, error)))
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
        sources[i] = g_unix_signal_add(sigs[i], on_signal, b);
    g_main_loop_run(loop);
    for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
        g_source_remove(sources[i]);
    b->loop = NULL;

    if (vd_image_build_result(b->build, &local))
        return TRUE;
    if (b->signals > 0) {
        const char *step = vd_image_build_step(b->build, NULL, NULL);

        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "image build interrupted during step %s; the partial image was removed",
                    step ? step : "0");
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "%s; its messages are above",
                    local->message);
    }
    return FALSE;
}

/* ---- the result ---- */

static const char *
info(Build *b, const char *key)
{
    const char *value = vd_image_build_info(b->build, key);

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
    g_autofree char *took = vd_image_format_duration(vd_image_build_elapsed(b->build));
    g_autofree char *size = vd_size_format_pretty(plan->size);
    g_autofree char *q_name = shell_word(plan->dom_name);
    g_autofree char *disk = g_strdup_printf("path=%s,format=%s", plan->output, plan->format);
    g_autofree char *q_disk = shell_word(disk);
    g_autofree char *boot =
        g_strdup_printf("kernel=%s,initrd=%s,kernel_args=%s", info(b, "kernel"),
                        info(b, "initrd"), info(b, "cmdline"));
    g_autofree char *q_boot = shell_word(boot);
    const char *password = info(b, "root_password");

    GPtrArray *warnings = vd_image_build_warnings(b->build);

    for (guint i = 0; i < warnings->len; i++)
        vsh_warn("%s", (const char *)g_ptr_array_index(warnings, i));

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
    g_autofree char *size = NULL;
    Build b = {.ctl = ctl};
    gboolean ok;

    if (!plan_build(ctl, cmd, &plan, error))
        return FALSE;

    size = vd_size_format_pretty(plan.size);
    vsh_print_extra(ctl, "Building %s into %s (%s, %s) with %s\n", plan.template_name, plan.output,
                    plan.format, size, plan.recipe);
    ok = run_recipe(&plan, &b, error);

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
    vd_image_build_free(b.build);
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
