/* What a graphical console shows: where its VNC or SPICE server listens
 * (vncdisplay, domdisplay) and a picture of the screen (screenshot).
 * Graphical installs are watched this way. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/api-internal.h"
#include "util/vd-error.h"

static const VdGraphicsDef *
live_graphics(VdDomainObj *dom, VdGraphicsType type)
{
    if (!dom->live)
        return NULL;
    for (guint i = 0; i < dom->live->graphics->len; i++) {
        const VdGraphicsDef *g = g_ptr_array_index(dom->live->graphics, i);
        if (g->type == type)
            return g;
    }
    return NULL;
}

static gboolean
check_active(VdDomainObj *dom, GError **error)
{
    if (vd_state_is_active(dom->state) && dom->live)
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                "Requested operation is not valid: domain is not running");
    return FALSE;
}

/* {"vnc": {"host", "port", "display", "websocket", "password"},
 *  "spice": {"host", "port", "password"}}, each present when the domain
 * has that display. */
void
vd_api_handle_display(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    if (!check_active(dom, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    const VdGraphicsDef *vnc = live_graphics(dom, VD_GRAPHICS_VNC);
    const VdGraphicsDef *spice = live_graphics(dom, VD_GRAPHICS_SPICE);
    if (vnc && vnc->port > 0) {
        json_builder_set_member_name(b, "vnc");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "host");
        json_builder_add_string_value(b, vnc->listen ? vnc->listen : "127.0.0.1");
        json_builder_set_member_name(b, "port");
        json_builder_add_int_value(b, vnc->port);
        json_builder_set_member_name(b, "display");
        json_builder_add_int_value(b, vnc->port - 5900);
        json_builder_set_member_name(b, "websocket");
        json_builder_add_int_value(b, vnc->websocket);
        json_builder_set_member_name(b, "password");
        json_builder_add_boolean_value(b, vnc->passwd != NULL);
        json_builder_end_object(b);
    }
    if (spice && spice->port > 0) {
        json_builder_set_member_name(b, "spice");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "host");
        json_builder_add_string_value(b, spice->listen ? spice->listen : "127.0.0.1");
        json_builder_set_member_name(b, "port");
        json_builder_add_int_value(b, spice->port);
        json_builder_set_member_name(b, "password");
        json_builder_add_boolean_value(b, spice->passwd != NULL);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* A PNG of QEMU's largest screen (16384 x 16384 would need a vgamem far
 * beyond any default) stays far below this. */
#define SCREENSHOT_MAX (64 * 1024 * 1024)

/* The file QEMU's screendump writes: the daemon creates it (O_EXCL, so
 * nothing planted at the name is used) and keeps its descriptor, and
 * reads the dump through that descriptor. QEMU, which runs what its guest
 * controls, could replace the name meanwhile (a symlink to /dev/zero or to
 * a secret, a FIFO that would block the main loop): the daemon still
 * reads only the file it made, and at most SCREENSHOT_MAX of it. */
static int
create_screen_file(const char *path, GError **error)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot create the screen dump file '%s': %s", path,
                    g_strerror(errno));
    return fd;
}

static char *
read_screen_dump(int fd, gsize *len, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > SCREENSHOT_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: QEMU's screen dump is larger than %d MiB",
                    SCREENSHOT_MAX / (1024 * 1024));
        return NULL;
    }
    g_autofree char *data = g_malloc((gsize)st.st_size + 1);
    gsize got = 0;
    while (got < (gsize)st.st_size) {
        ssize_t n = pread(fd, data + got, (gsize)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (gsize)n;
    }
    if (got == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: QEMU's screen dump is empty");
        return NULL;
    }
    *len = got;
    return g_steal_pointer(&data);
}

typedef struct {
    VdApiRequest *req;
    VdDomainObj *dom;
    char *path;
    int fd;        /* of the file the daemon created at @path */
    gint64 fdset;  /* the fd set QEMU holds the file in, -1: none yet */
} Screenshot;

static void
screenshot_free(Screenshot *s)
{
    /* QEMU's copy goes when the set is removed (it closes it once the
     * guest runs; a paused guest's QEMU keeps it until then). */
    if (s->fdset >= 0 && s->dom->qmp && vd_qmp_is_connected(s->dom->qmp)) {
        JsonObject *args = json_object_new();
        json_object_set_int_member(args, "fdset-id", s->fdset);
        vd_qmp_command(s->dom->qmp, "remove-fd", args, NULL, NULL);
    }
    g_unlink(s->path);
    close(s->fd);
    g_free(s->path);
    vd_domain_obj_unref(s->dom);
    g_free(s);
}

static void
screendump_done(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Screenshot *s = data;
    g_autoptr(GError) local = NULL;
    g_autofree char *png = NULL;
    gsize len = 0;

    if (error) {
        vd_api_reply_error(s->req, error);
    } else if (!(png = read_screen_dump(s->fd, &len, &local))) {
        vd_api_reply_error(s->req, local);
    } else {
        vd_api_reply_bytes(s->req, 200, "image/png", g_steal_pointer(&png), len);
    }
    screenshot_free(s);
}

/* add-fd's answer: QEMU holds the file in set N; screendump writes it
 * through "/dev/fdset/N" (qemu_open() dups the set's write-only
 * descriptor), so QEMU opens no path of the host. */
static void
screen_fd_added(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Screenshot *s = data;
    JsonObject *o = result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
    if (error || !o || !json_object_has_member(o, "fdset-id")) {
        g_autoptr(GError) e = NULL;
        if (!error)
            g_set_error(&e, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: QEMU did not take the screen dump file");
        vd_api_reply_error(s->req, error ? error : e);
        screenshot_free(s);
        return;
    }
    s->fdset = json_object_get_int_member(o, "fdset-id");
    g_autofree char *file = g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT, s->fdset);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "filename", file);
    json_object_set_string_member(args, "format", "png");
    vd_qmp_command(qmp, "screendump", args, screendump_done, s);
}

/* QMP screendump writes into a file the daemon created next to the
 * domain's other run-time files (run/qemu, the daemon's alone), under a
 * name nobody can guess, and handed to QEMU as a descriptor (add-fd);
 * the daemon hands its bytes over and removes it, whether QEMU succeeded
 * or not. */
void
vd_api_handle_screenshot(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    if (!check_active(dom, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    /* screendump reads the video device, whichever protocol shows it. */
    if (!live_graphics(dom, VD_GRAPHICS_VNC) && !live_graphics(dom, VD_GRAPHICS_SPICE)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' has no graphics device; "
                    "add <graphics type='vnc'/> or <graphics type='spice'/> to see its screen",
                    dom->name);
        vd_api_reply_error(req, error);
        return;
    }
    if (!dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: QEMU monitor of domain '%s' is not connected", dom->name);
        vd_api_reply_error(req, error);
        return;
    }
    g_autofree char *path = g_strdup_printf(
        "%s/%s.screen-%d.png", req->d->paths->run_qemu_dir, dom->name,
        g_random_int_range(0, G_MAXINT));
    int fd = create_screen_file(path, &error);
    if (fd < 0) {
        vd_api_reply_error(req, error);
        return;
    }
    /* QEMU gets the file write-only, as screendump opens it. */
    int wfd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (wfd < 0) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot open the screen dump file '%s': %s", path,
                    g_strerror(errno));
        g_unlink(path);
        close(fd);
        vd_api_reply_error(req, error);
        return;
    }
    Screenshot *s = g_new0(Screenshot, 1);
    s->req = req;
    s->dom = vd_domain_obj_ref(dom);
    s->path = g_steal_pointer(&path);
    s->fd = fd;
    s->fdset = -1;
    vd_api_pause(req);
    vd_qmp_command_with_fd(dom->qmp, "add-fd", NULL, wfd, screen_fd_added, s);
}

/* ---- send-key ---------------------------------------------------------------- */

/* virsh send-key's limit (VIR_DOMAIN_SEND_KEY_MAX_KEYS). */
#define SEND_KEY_MAX 16
#define SEND_KEY_MAX_HOLD_MS 60000

static void
send_key_done(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "ok", TRUE);
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(root, o);
    vd_api_reply_json(req, 200, root);
}

/* One key of the body: a QEMU key name ("ctrl", "alt", "delete", "f2",
 * "a" ...: QMP's QKeyCode) or a number in QEMU's "qnum" code set; as QMP's
 * KeyValue. QEMU checks the names. */
static JsonObject *
send_key_value(JsonNode *e, GError **error)
{
    JsonObject *k = json_object_new();
    GType t = JSON_NODE_HOLDS_VALUE(e) ? json_node_get_value_type(e) : G_TYPE_INVALID;
    if (t == G_TYPE_STRING && *json_node_get_string(e) &&
        strspn(json_node_get_string(e), "abcdefghijklmnopqrstuvwxyz0123456789_") ==
            strlen(json_node_get_string(e))) {
        json_object_set_string_member(k, "type", "qcode");
        json_object_set_string_member(k, "data", json_node_get_string(e));
    } else if (t == G_TYPE_INT64 && json_node_get_int(e) > 0 && json_node_get_int(e) <= 0xffff) {
        json_object_set_string_member(k, "type", "number");
        json_object_set_int_member(k, "data", json_node_get_int(e));
    } else {
        json_object_unref(k);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid key in \"keys\": give QEMU key names (\"ctrl\", \"alt\", "
                    "\"delete\") or qnum key codes (1 to 65535)");
        return NULL;
    }
    return k;
}

/* POST .../send-key {"keys": ["ctrl", "alt", "delete"], "holdtime": MS}:
 * QMP send-key, the keys pressed together, then released. */
void
vd_api_handle_send_key(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    if (error || !check_active(dom, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    JsonNode *keys = body ? json_object_get_member(body, "keys") : NULL;
    if (!keys || !JSON_NODE_HOLDS_ARRAY(keys) ||
        json_array_get_length(json_node_get_array(keys)) == 0 ||
        json_array_get_length(json_node_get_array(keys)) > SEND_KEY_MAX) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "send-key needs \"keys\": an array of 1 to %d keys, e.g. "
                    "{\"keys\": [\"ctrl\", \"alt\", \"delete\"]}",
                    SEND_KEY_MAX);
        vd_api_reply_error(req, error);
        return;
    }
    JsonNode *hold = json_object_get_member(body, "holdtime");
    if (hold && (!JSON_NODE_HOLDS_VALUE(hold) || json_node_get_value_type(hold) != G_TYPE_INT64 ||
                 json_node_get_int(hold) < 0 || json_node_get_int(hold) > SEND_KEY_MAX_HOLD_MS)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid \"holdtime\": milliseconds, 0 to %d", SEND_KEY_MAX_HOLD_MS);
        vd_api_reply_error(req, error);
        return;
    }
    if (!dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: QEMU monitor of domain '%s' is not connected", dom->name);
        vd_api_reply_error(req, error);
        return;
    }
    JsonArray *values = json_array_new();
    JsonArray *in = json_node_get_array(keys);
    for (guint i = 0; i < json_array_get_length(in); i++) {
        JsonObject *k = send_key_value(json_array_get_element(in, i), &error);
        if (!k) {
            json_array_unref(values);
            vd_api_reply_error(req, error);
            return;
        }
        json_array_add_object_element(values, k);
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "keys", values);
    /* 0 or none: QEMU's default hold, 100 ms. */
    if (hold && json_node_get_int(hold) > 0)
        json_object_set_int_member(args, "hold-time", json_node_get_int(hold));
    vd_api_pause(req);
    vd_qmp_command(dom->qmp, "send-key", args, send_key_done, req);
}
