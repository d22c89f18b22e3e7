/* The questions migration-recover.c asks the destination daemon, over
 * remote/ as every peer call (migration-recover.h). Each call opens its
 * own connection, so that a fire-and-forget abort outlives the settling
 * that sent it; the answer is bounded in time (a peer that hangs is as
 * good as unreachable: the guest stays paused and it is asked again). */
#include "migration-recover.h"

#include "util/vd-error.h"

#define PEER_TIMEOUT_S 10

typedef struct {
    Recover *r; /* NULL: nobody waits for the answer */
    VdPeerAnswerFunc done;
    VdRemote *remote;
    char *method;
    char *path;
    char *body;
} Call;

static void
call_free(Call *c)
{
    vd_remote_free(c->remote);
    g_free(c->method);
    g_free(c->path);
    g_free(c->body);
    g_free(c);
}

static void
call_end(Call *c, VdPeerAnswer *a)
{
    if (c->done)
        c->done(c->r, a);
    if (a->json)
        json_node_unref(a->json);
    g_free(a->message);
    call_free(c);
}

static void
call_unreachable(Call *c, const GError *error)
{
    VdPeerAnswer a = {.unreachable = TRUE};
    g_autoptr(GError) why = NULL;
    if (c->remote)
        vd_remote_set_transport_error(c->remote, error, &why);
    a.message = g_strdup_printf("the destination does not answer (%s)",
                                why ? why->message : error->message);
    call_end(c, &a);
}

static void
call_answered(GObject *source, GAsyncResult *res, gpointer data)
{
    Call *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
    SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
    if (!bytes) {
        call_unreachable(c, error);
        return;
    }
    VdPeerAnswer a = {.status = soup_message_get_status(msg)};
    gsize len = 0;
    const char *text = g_bytes_get_data(bytes, &len);
    g_autoptr(JsonParser) parser = json_parser_new();
    if (len > 0 && json_parser_load_from_data(parser, text, (gssize)len, NULL) &&
        json_parser_get_root(parser))
        a.json = json_node_copy(json_parser_get_root(parser));
    const char *message = NULL;
    if (a.json && JSON_NODE_HOLDS_OBJECT(a.json)) {
        JsonObject *o = json_node_get_object(a.json);
        JsonObject *err = json_object_has_member(o, "error") &&
                                  JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "error"))
                              ? json_object_get_object_member(o, "error")
                              : NULL;
        if (err)
            message = json_object_get_string_member_with_default(err, "message", NULL);
    }
    a.message = g_strdup_printf("%s %s: HTTP %u%s%s", c->method, c->path, a.status,
                                message ? ": " : "", message ? message : "");
    call_end(c, &a);
}

static void
call_opened(GObject *source, GAsyncResult *res, gpointer data)
{
    Call *c = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    c->remote = vd_remote_open_finish(res, &error);
    if (!c->remote) {
        call_unreachable(c, error);
        return;
    }
    SoupSession *session = vd_remote_session(c->remote);
    g_object_set(session, "timeout", PEER_TIMEOUT_S, NULL);
    g_autofree char *url = vd_remote_url(c->remote, c->path);
    g_autoptr(SoupMessage) msg = soup_message_new(c->method, url);
    if (!msg) {
        error = g_error_new(VD_ERROR, VD_ERROR_INTERNAL, "bad URL '%s'", url);
        call_unreachable(c, error);
        return;
    }
    if (c->body) {
        g_autoptr(GBytes) body = g_bytes_new(c->body, strlen(c->body));
        soup_message_set_request_body_from_bytes(msg, "application/json", body);
    }
    soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, call_answered, c);
}

static void
call(Recover *r, const char *method, const char *path, const char *body, VdPeerAnswerFunc done)
{
    Call *c = g_new0(Call, 1);
    c->r = done ? r : NULL;
    c->done = done;
    c->method = g_strdup(method);
    c->path = g_strdup(path);
    c->body = g_strdup(body);
    g_autoptr(GError) error = NULL;
    g_autoptr(VdRemoteUri) uri =
        r->rec->peer_uri ? vd_remote_uri_parse(r->rec->peer_uri, &error) : NULL;
    if (!uri) {
        if (!error)
            error = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "the migration record names no destination");
        call_unreachable(c, error);
        return;
    }
    vd_remote_open_async(uri, r->d->tls_dir, NULL, call_opened, c);
}

static char *
migration_path(Recover *r, const char *suffix)
{
    g_autofree char *id = g_uri_escape_string(r->rec->id ? r->rec->id : "", NULL, FALSE);
    return g_strconcat("/v1/migrations/", id, suffix, NULL);
}

void
vd_migration_recover_peer_query(Recover *r, VdPeerAnswerFunc done)
{
    g_autofree char *path = migration_path(r, "");
    call(r, "GET", path, NULL, done);
}

void
vd_migration_recover_peer_get_domain(Recover *r, const char *uuid, VdPeerAnswerFunc done)
{
    g_autofree char *path = g_strconcat("/v1/domains/", uuid ? uuid : "-", NULL);
    call(r, "GET", path, NULL, done);
}

void
vd_migration_recover_peer_abort(Recover *r, VdPeerAnswerFunc done)
{
    g_autofree char *path = migration_path(r, "/abort");
    call(r, "POST", path, "{}", done);
}

void
vd_migration_recover_peer_finish(Recover *r, gboolean ok, VdPeerAnswerFunc done)
{
    g_autofree char *path = migration_path(r, "/finish");
    call(r, "POST", path, ok ? "{\"ok\": true}" : "{\"ok\": false}", done);
}

void
vd_migration_recover_peer_close(Recover *r)
{
    g_clear_pointer(&r->remote, vd_remote_free);
    g_clear_pointer(&r->waiting_for, g_free);
}
