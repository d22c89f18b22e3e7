/* clone (virt-clone's options and output) and domrename.
 *
 * clone asks the daemon for the plan first (print_xml: nothing made),
 * which names the images to be made and their sizes; then it sends the
 * clone itself asynchronously and, until the answer, asks GET /v1/jobs
 * every 250 ms how far each image's copy is (libsoup opens a second
 * connection for it), printing virt-clone's "Allocating 'X' | SIZE TIME"
 * line for each image as it completes. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-progress.h"
#include "vsh.h"

typedef struct {
    char *path;
    char *leaf;
    guint64 capacity;
    double progress;
    gint64 first_seen;        /* monotonic us; 0: not yet */
    gint64 last_seen;
    gboolean printed;
} CloneImage;

typedef struct {
    GPtrArray *images;        /* CloneImage* */
    gboolean tty;
    gint64 started;
} CloneWait;

static void
image_free(CloneImage *img)
{
    g_free(img->path);
    g_free(img->leaf);
    g_free(img);
}

/* urlgrabber's sizes, as virt-clone prints them: "20 GB", "512 MB". */
static char *
size_text(guint64 bytes)
{
    const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)bytes;
    guint u = 0;

    while (v >= 999.5 && u + 1 < G_N_ELEMENTS(units)) {
        v /= 1024;
        u++;
    }
    return v < 9.95 && u > 0 ? g_strdup_printf("%.1f %s", v, units[u])
                             : g_strdup_printf("%.0f %s", v, units[u]);
}

static void
print_image(CloneWait *w, CloneImage *img, gboolean final)
{
    g_autofree char *size = size_text(img->capacity);
    g_autofree char *label = g_strdup_printf("Allocating '%s'", img->leaf);
    gint64 end = final ? g_get_monotonic_time() : img->last_seen;
    gint64 secs = ((img->first_seen ? end - img->first_seen : 0) + 500000) / G_USEC_PER_SEC;

    if (!final && img->progress < 100) {
        /* A live line, redrawn in place: only for somebody watching. */
        if (w->tty)
            printf("\r%-48s %3.0f%% | %7s  %02d:%02d:%02d\033[K", label, img->progress, size,
                   (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
        fflush(stdout);
        return;
    }
    printf("%s%-48s | %7s  %02d:%02d:%02d%s\n", w->tty ? "\r" : "", label, size,
           (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), w->tty ? "\033[K" : "");
    fflush(stdout);
    img->printed = TRUE;
}

static void
on_jobs(JsonNode *answer, gpointer data)
{
    CloneWait *w = data;
    gint64 now = g_get_monotonic_time();

    JsonArray *jobs = vsh_json_array(vsh_json_root(answer), "jobs");
    for (guint i = 0; i < w->images->len; i++) {
        CloneImage *img = g_ptr_array_index(w->images, i);
        gboolean seen = FALSE;
        for (guint j = 0; jobs && j < json_array_get_length(jobs); j++) {
            JsonObject *job = vsh_json_array_object(jobs, j);
            if (!job || !g_str_equal(vsh_json_string(job, "path", ""), img->path))
                continue;
            seen = TRUE;
            if (!img->first_seen)
                img->first_seen = now;
            img->last_seen = now;
            img->progress = json_object_get_double_member_with_default(job, "progress", 0);
            print_image(w, img, FALSE);
        }
        /* Gone from the list after having been there: this image is done. */
        if (!seen && img->first_seen && !img->printed) {
            img->progress = 100;
            print_image(w, img, FALSE);
        }
    }
}

static void
on_cloned(guint status, gpointer data)
{
    CloneWait *w = data;

    if (status == 0)
        return;
    if (status < 200 || status >= 300) {
        if (w->tty)
            printf("\n");
        return;
    }
    /* Images too fast to be seen in /v1/jobs (linked clones: ms). */
    for (guint i = 0; i < w->images->len; i++) {
        CloneImage *img = g_ptr_array_index(w->images, i);
        if (!img->printed) {
            if (!img->first_seen)
                img->first_seen = w->started;
            print_image(w, img, TRUE);
        }
    }
}

/* The clone request, with the images' lines while it runs. */
static JsonNode *
clone_with_progress(VshClient *client, const char *path, JsonNode *body, GPtrArray *images,
                    GError **error)
{
    CloneWait w = {0};

    w.images = images;
    w.tty = isatty(STDOUT_FILENO);
    w.started = g_get_monotonic_time();
    return vsh_client_post_polling(client, path, body, "/v1/jobs", on_jobs, on_cloned, &w, error);
}

static void
add_strv(JsonBuilder *b, const char *member, const char **values)
{
    if (!values || !values[0])
        return;
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    for (guint i = 0; values[i]; i++)
        json_builder_add_string_value(b, values[i]);
    json_builder_end_array(b);
}

static JsonNode *
options_body(const VshCmd *cmd, const char *original_xml, gboolean print_xml)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    const char *bools[] = {"auto-clone", "linked", "preserve-data", "nonsparse", "reflink"};
    g_autofree const char **macs = vsh_cmd_get_argv(cmd, "mac");
    g_autofree const char **files = vsh_cmd_get_argv(cmd, "file");
    g_autofree const char **skip = vsh_cmd_get_argv(cmd, "skip-copy");

    json_builder_begin_object(b);
    for (guint i = 0; i < G_N_ELEMENTS(bools); i++) {
        g_autofree char *member = g_strdelimit(g_strdup(bools[i]), "-", '_');
        json_builder_set_member_name(b, member);
        json_builder_add_boolean_value(b, vsh_cmd_has(cmd, bools[i]));
    }
    json_builder_set_member_name(b, "print_xml");
    json_builder_add_boolean_value(b, print_xml);
    if (vsh_cmd_get_string(cmd, "name")) {
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, vsh_cmd_get_string(cmd, "name"));
    }
    if (vsh_cmd_get_string(cmd, "uuid")) {
        json_builder_set_member_name(b, "uuid");
        json_builder_add_string_value(b, vsh_cmd_get_string(cmd, "uuid"));
    }
    if (original_xml) {
        json_builder_set_member_name(b, "original_xml");
        json_builder_add_string_value(b, original_xml);
    }
    add_strv(b, "macs", macs);
    add_strv(b, "files", files);
    add_strv(b, "skip_copy", skip);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static gboolean
cmd_clone(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *original = vsh_cmd_get_string(cmd, "original");
    const char *xml_file = vsh_cmd_get_string(cmd, "original-xml");
    g_autofree char *xml = NULL;
    g_autofree char *path = NULL;
    VshClient *client = vsh_ctl_client(ctl, error);

    if (!client)
        return FALSE;
    if (!original == !xml_file) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    original ? "--original and --original-xml exclude each other: give one"
                             : "An original machine name is required, use '--original "
                               "src_name' and try again.");
        return FALSE;
    }
    if (!vsh_cmd_get_string(cmd, "name") && !vsh_cmd_has(cmd, "auto-clone")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "A name is required for the new virtual machine, use '--name "
                    "NEW_VM_NAME' to specify one, or --auto-clone.");
        return FALSE;
    }
    if (xml_file) {
        if (!g_file_get_contents(xml_file, &xml, NULL, error)) {
            g_prefix_error(error, "failed to read --original-xml: ");
            return FALSE;
        }
        path = g_strdup("/v1/domains/clone");
    } else {
        path = vsh_domain_path(original, "/clone");
    }
    /* The plan: what --print-xml shows, and the images to watch. */
    g_autoptr(JsonNode) plan_body = options_body(cmd, xml, TRUE);
    g_autoptr(JsonNode) plan =
        original ? vsh_domain_call(ctl, "POST", original, "/clone", plan_body, error)
                 : vsh_client_call(client, "POST", path, plan_body, error);
    if (!plan)
        return FALSE;
    JsonObject *root = vsh_json_root(plan);
    if (vsh_cmd_has(cmd, "print-xml")) {
        const char *text = vsh_json_string(root, "xml", "");
        vsh_print(ctl, "%s%s", text, g_str_has_suffix(text, "\n") ? "" : "\n");
        return TRUE;
    }
    g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func((GDestroyNotify)image_free);
    JsonArray *disks = vsh_json_array(root, "disks");
    for (guint i = 0; disks && i < json_array_get_length(disks); i++) {
        JsonObject *disk = vsh_json_array_object(disks, i);
        const char *action = vsh_json_string(disk, "action", "");
        if (!g_str_equal(action, "copy") && !g_str_equal(action, "link"))
            continue;
        CloneImage *img = g_new0(CloneImage, 1);
        img->path = g_strdup(vsh_json_string(disk, "path", ""));
        img->leaf = g_path_get_basename(img->path);
        img->capacity = (guint64)MAX(vsh_json_int(disk, "capacity", 0), 0);
        g_ptr_array_add(images, img);
    }
    g_autoptr(JsonNode) body = options_body(cmd, xml, FALSE);
    g_autoptr(JsonNode) answer = clone_with_progress(client, path, body, images, error);
    if (!answer)
        return FALSE;
    JsonObject *dom = vsh_json_domain(answer);
    vsh_print_extra(ctl, "\nClone '%s' created successfully.\n",
                    vsh_json_string(dom, "name", ""));
    return TRUE;
}

static gboolean
cmd_domrename(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, vsh_cmd_get_string(cmd, "new-name"));
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "POST", vsh_cmd_get_string(cmd, "domain"), "/rename", body, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Domain successfully renamed\n");
    return TRUE;
}

static const VshOptDef opts_clone[] = {
    {"original", VSH_OT_STRING, 0, VSH_COMPLETE_DOMAIN, "name of the original guest to clone"},
    {"original-xml", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "XML file to use as the original guest"},
    {"name", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "name for the new guest"},
    {"auto-clone", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "auto generate clone name and storage paths from the original guest configuration"},
    {"file", VSH_OT_STRING, VSH_OPT_MULTI, VSH_COMPLETE_FILE,
     "new file to use as the disk image for the new guest (one per cloned disk, in order)"},
    {"mac", VSH_OT_STRING, VSH_OPT_MULTI, VSH_COMPLETE_NONE,
     "new fixed MAC address for the clone guest (one per interface, or RANDOM)"},
    {"uuid", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "new UUID for the clone guest"},
    {"skip-copy", VSH_OT_STRING, VSH_OPT_MULTI, VSH_COMPLETE_NONE,
     "do not clone the disk with this target (e.g. vdb): the clone shares it"},
    {"nonsparse", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "do not use a sparse file for the clone"},
    {"reflink", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "use btrfs/XFS COW lightweight copy"},
    {"preserve-data", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "do not clone storage: the --file paths (which must exist) are used as they are"},
    {"linked", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "each qcow2 disk becomes a new qcow2 overlay backed by the original's image"},
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "print the generated clone XML and exit, making nothing"},
    {NULL},
};

static const VshOptDef opts_domrename[] = {
    VSH_OPT_DOMAIN,
    {"new-name", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "new domain name"},
    {NULL},
};

const VshCmdDef vsh_clone_commands[] = {
    {"clone", "domain", opts_clone, cmd_clone,
     "clone a virtual machine (virt-clone)",
     "virt-clone's options: a new name, UUID and MAC addresses, each writable disk copied "
     "beside the original's (NAME.qcow2, NAME-1.qcow2 ...), VNC/SPICE ports set to auto. "
     "The original must be shut off or paused (or --preserve-data). --linked makes qcow2 "
     "overlays on the original's images instead of copies (the original must stay "
     "unchanged: do not start it while linked clones use its images). See docs/cloning.md."},
    {"domrename", "domain", opts_domrename, cmd_domrename, "rename a domain",
     "Renames an inactive domain; its UUID, snapshots and managed save stay with it."},
    {NULL},
};
