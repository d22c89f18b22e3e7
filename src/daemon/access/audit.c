/* The audit log (audit.h). */
#include "daemon/access/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/api-conn.h"
#include "util/vd-error.h"

#define SYNC_DELAY_MS 1000
#define ERROR_KEY "vd-audit-error"

struct _VdAudit {
    char *path;
    int fd;
    goffset size; /* of the current generation, as written */
    goffset max;
    guint sync_id;         /* the pending fdatasync's timer; 0: all synced */
    GHashTable *user_names; /* uid -> name (or "" for none): one look-up per uid */
};

typedef struct {
    VdAudit *audit;
    JsonObject *line; /* everything but time, status and error */
    gboolean written;
} Pending;

static gboolean
open_log(VdAudit *a, GError **error)
{
    a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat st;
    if (a->fd < 0 || fstat(a->fd, &st) < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot open the audit log '%s': %s (--audit-log PATH chooses another)",
                    a->path, g_strerror(err));
        return FALSE;
    }
    a->size = st.st_size;
    return TRUE;
}

VdAudit *
vd_audit_open(const char *path, goffset max, GError **error)
{
    VdAudit *a = g_new0(VdAudit, 1);
    a->path = g_strdup(path);
    a->max = max;
    a->user_names = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    if (!open_log(a, error)) {
        vd_audit_free(a);
        return NULL;
    }
    return a;
}

static void
sync_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    int fd = GPOINTER_TO_INT(data);
    fdatasync(fd);
    close(fd);
    g_task_return_boolean(task, TRUE);
}

/* fdatasync of the current descriptor, off the main loop (a copy of the
 * descriptor: the log may be rotated and closed meanwhile). */
static void
sync_in_thread(VdAudit *a)
{
    int fd = fcntl(a->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, NULL, NULL);
    g_task_set_task_data(task, GINT_TO_POINTER(fd), NULL);
    g_task_run_in_thread(task, sync_thread);
}

static gboolean
on_sync_due(gpointer data)
{
    VdAudit *a = data;
    a->sync_id = 0;
    sync_in_thread(a);
    return G_SOURCE_REMOVE;
}

void
vd_audit_free(VdAudit *a)
{
    if (!a)
        return;
    g_clear_handle_id(&a->sync_id, g_source_remove);
    if (a->fd >= 0) {
        fdatasync(a->fd); /* at exit: the main loop has ended */
        close(a->fd);
    }
    g_hash_table_unref(a->user_names);
    g_free(a->path);
    g_free(a);
}

/* Past the limit: audit.log -> .1 -> .2, and a new audit.log. */
static void
rotate(VdAudit *a)
{
    g_autofree char *old = g_strconcat(a->path, ".1", NULL);
    g_autofree char *older = g_strconcat(a->path, ".2", NULL);
    g_autoptr(GError) error = NULL;

    if ((rename(old, older) < 0 && errno != ENOENT) || rename(a->path, old) < 0) {
        g_warning("cannot rotate the audit log '%s': %s (it keeps growing)", a->path,
                  g_strerror(errno));
        a->max = G_MAXINT64;
        return;
    }
    g_clear_handle_id(&a->sync_id, g_source_remove);
    sync_in_thread(a); /* the generation just closed */
    close(a->fd);
    if (!open_log(a, &error)) {
        g_warning("%s: changes are no longer audited", error->message);
        a->fd = -1;
    }
}

static void
write_line(VdAudit *a, const char *text, gsize len)
{
    if (a->fd < 0)
        return;
    g_autofree char *line = g_strndup(text, len + 1);
    line[len] = '\n';
    ssize_t n = write(a->fd, line, len + 1); /* one write: lines never interleave */
    if (n < 0) {
        g_warning("cannot write to the audit log '%s': %s", a->path, g_strerror(errno));
        return;
    }
    a->size += n;
    if (a->size > a->max)
        rotate(a);
    else if (!a->sync_id)
        a->sync_id = g_timeout_add(SYNC_DELAY_MS, on_sync_due, a);
}

static const char *
user_name(VdAudit *a, gint64 uid)
{
    const char *known = g_hash_table_lookup(a->user_names, &uid);
    if (known)
        return *known ? known : NULL;
    struct passwd pw, *found = NULL;
    gsize size = 1024;
    g_autofree char *buf = g_malloc(size);
    int rc;
    while ((rc = getpwuid_r((uid_t)uid, &pw, buf, size, &found)) == ERANGE && size < 1 << 20)
        buf = g_realloc(buf, size *= 2);
    char *name = rc == 0 && found ? g_strdup(found->pw_name) : g_strdup("");
    g_hash_table_insert(a->user_names, g_memdup2(&uid, sizeof(uid)), name);
    return *name ? name : NULL;
}

static void
add_who(VdAudit *a, JsonObject *o, const VdApiIdentity *who)
{
    if (!who) {
        json_object_set_string_member(o, "transport", "internal");
        return;
    }
    json_object_set_string_member(o, "transport", vd_api_transport_to_string(who->transport));
    if (who->transport == VD_API_TRANSPORT_UNIX) {
        json_object_set_int_member(o, "uid", who->uid);
        const char *name = who->uid >= 0 ? user_name(a, who->uid) : NULL;
        if (name)
            json_object_set_string_member(o, "user", name);
        else
            json_object_set_null_member(o, "user");
        json_object_set_int_member(o, "pid", who->pid);
        return;
    }
    if (who->transport == VD_API_TRANSPORT_WEB) {
        json_object_set_string_member(o, "user", who->user ? who->user : "");
        json_object_set_string_member(o, "auth", who->auth ? who->auth : "");
    } else {
        json_object_set_string_member(o, "dn", who->dn ? who->dn : "");
    }
    json_object_set_string_member(o, "address", who->address ? who->address : "");
}

/* The <name> of a definition sent in the body (define: the path names
 * no object yet), else NULL. A record, not a decision: a plain scan. */
static char *
body_name(SoupServerMessage *msg)
{
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    if (!body || !body->data || body->length == 0)
        return NULL;
    gsize n = MIN((gsize)body->length, 65536);
    const char *start = g_strstr_len(body->data, (gssize)n, "<name>");
    if (!start)
        return NULL;
    start += strlen("<name>");
    const char *end = g_strstr_len(start, (gssize)(n - (gsize)(start - body->data)), "</name>");
    return end && end - start <= 256 ? g_strstrip(g_strndup(start, (gsize)(end - start))) : NULL;
}

/* What the request is about: the object its path names ("web1", a
 * pool's volume "default/disk.qcow2"), or the definition's name. */
static char *
object_of(SoupServerMessage *msg, const char *path)
{
    g_auto(GStrv) seg = g_strsplit(g_str_has_prefix(path, "/v1/") ? path + 4 : path, "/", 5);
    guint n = g_strv_length(seg);
    if (n >= 4 && g_str_equal(seg[0], "pools") && g_str_equal(seg[2], "volumes"))
        return g_strdup_printf("%s/%s", seg[1], seg[3]);
    /* Collections whose second segment is an action, not a name. */
    gboolean action = n >= 2 && (g_str_equal(seg[0], "save-images") ||
                                 g_str_equal(seg[0], "images") ||
                                 (n == 2 && (g_str_equal(seg[1], "check") ||
                                             g_str_equal(seg[1], "clone"))));
    if (n >= 2 && *seg[1] && !action)
        return g_uri_unescape_string(seg[1], NULL);
    return body_name(msg);
}

static void
write_pending(Pending *p, guint status, const char *code)
{
    if (p->written)
        return;
    p->written = TRUE;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
    memmove(stamp + 23, stamp + 26, strlen(stamp + 26) + 1); /* milliseconds */

    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "time", stamp);
    GList *members = json_object_get_members(p->line);
    for (GList *m = members; m; m = m->next)
        json_object_set_member(o, m->data, json_object_dup_member(p->line, m->data));
    g_list_free(members);
    json_object_set_int_member(o, "status", status);
    if (code)
        json_object_set_string_member(o, "error", code);
    else
        json_object_set_null_member(o, "error");
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
    g_autofree char *text = json_to_string(node, FALSE);
    write_line(p->audit, text, strlen(text));
}

static void
finish(SoupServerMessage *msg, Pending *p)
{
    write_pending(p, soup_server_message_get_status(msg), g_object_get_data(G_OBJECT(msg), ERROR_KEY));
}

static void
pending_free(gpointer data, GClosure *closure)
{
    Pending *p = data;
    json_object_unref(p->line);
    g_free(p);
}

/* The line of a change, but for its result; NULL for GET and HEAD. */
static Pending *
pending_new(VdAudit *audit, SoupServerMessage *msg, const char *path)
{
    const char *method = soup_server_message_get_method(msg);
    if (!audit || g_str_equal(method, "GET") || g_str_equal(method, "HEAD"))
        return NULL;
    Pending *p = g_new0(Pending, 1);
    p->audit = audit;
    p->line = json_object_new();
    add_who(audit, p->line, vd_api_conn_get_identity(msg));
    json_object_set_string_member(p->line, "method", method);
    json_object_set_string_member(p->line, "path", path);
    g_autofree char *object = object_of(msg, path);
    if (object)
        json_object_set_string_member(p->line, "object", object);
    else
        json_object_set_null_member(p->line, "object");
    return p;
}

void
vd_audit_watch(VdAudit *audit, SoupServerMessage *msg, const char *path)
{
    Pending *p = pending_new(audit, msg, path);
    if (!p)
        return;
    /* Whichever comes first: the answer sent, or the client gone. */
    g_signal_connect_data(msg, "finished", G_CALLBACK(finish), p, pending_free, 0);
    g_signal_connect(msg, "disconnected", G_CALLBACK(finish), p);
}

void
vd_audit_refused(VdAudit *audit, SoupServerMessage *msg, const char *path, const GError *error)
{
    Pending *p = pending_new(audit, msg, path);
    if (!p)
        return;
    VdErrorCode code = error->domain == VD_ERROR ? (VdErrorCode)error->code : VD_ERROR_INTERNAL;
    write_pending(p, vd_error_code_http_status(code), vd_error_code_to_string(code));
    pending_free(p, NULL);
}

void
vd_audit_set_error(SoupServerMessage *msg, const char *code)
{
    g_object_set_data_full(G_OBJECT(msg), ERROR_KEY, g_strdup(code), g_free);
}
