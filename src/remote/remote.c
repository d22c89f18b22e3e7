/* Connections to a virtd API (remote.h). Whatever the transport, the
 * result is one SoupSession and a base URL: UNIX and SSH connect to a
 * local UNIX socket (the daemon's, or ssh's end of the tunnel) through the
 * session's remote-connectable; TLS is plain https with the CA and client
 * certificate of remote-tls.h (remote-tls-client.c). */
#include "remote/remote.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "remote/remote-priv.h"
#include "remote/remote-ssh.h"
#include "util/vd-error.h"

static VdRemoteUri *
uri_copy(const VdRemoteUri *u)
{
    VdRemoteUri *c = g_new0(VdRemoteUri, 1);
    *c = *u;
    c->uri = g_strdup(u->uri);
    c->socket_path = g_strdup(u->socket_path);
    c->user = g_strdup(u->user);
    c->host = g_strdup(u->host);
    c->keyfile = g_strdup(u->keyfile);
    c->ssh_command = g_strdup(u->ssh_command);
    c->pkipath = g_strdup(u->pkipath);
    return c;
}

/* A session whose connections all go to the UNIX socket @path. */
static SoupSession *
unix_session(const char *path)
{
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);

    /* No I/O timeout (libsoup's default is 60 s): the daemon bounds its
     * own operations and answers "timeout", and an idle console must not
     * be cut. More than libsoup's 2 connections per host: vsh migrate
     * holds one for its POST and one for a progress poll, and its Ctrl+C
     * sends the abort synchronously from the main loop, which would wait
     * for ever for a connection only that loop can free. */
    return soup_session_new_with_options("remote-connectable", addr, "user-agent",
                                         "virtd-client/" VD_VERSION, "timeout", 0,
                                         "max-conns-per-host", VD_REMOTE_MAX_CONNS_PER_HOST,
                                         NULL);
}

static VdRemote *
remote_new(const VdRemoteUri *uri)
{
    VdRemote *r = g_new0(VdRemote, 1);

    r->uri = uri_copy(uri);
    return r;
}

/* The part of opening that needs the caller's thread: the session. */
static gboolean
remote_finish_open(VdRemote *r, const char *pki_dir, GError **error)
{
    switch (r->uri->transport) {
    case VD_REMOTE_UNIX:
        r->local_socket = g_strdup(r->uri->socket_path);
        r->base_url = g_strdup("http://localhost");
        r->session = unix_session(r->local_socket);
        return TRUE;
    case VD_REMOTE_SSH:
        r->local_socket = g_strdup(vd_ssh_tunnel_socket(r->tunnel));
        r->base_url = g_strdup("http://localhost");
        r->session = unix_session(r->local_socket);
        return TRUE;
    case VD_REMOTE_TLS:
        return vd_remote_tls_setup(r, pki_dir, error);
    }
    g_assert_not_reached();
}

VdRemote *
vd_remote_open(const VdRemoteUri *uri, const char *pki_dir, GError **error)
{
    g_autoptr(VdRemote) r = remote_new(uri);

    if (uri->transport == VD_REMOTE_SSH) {
        if (!(r->tunnel = vd_ssh_tunnel_spawn(uri, error)) ||
            !vd_ssh_tunnel_wait(r->tunnel, NULL, error))
            return NULL;
    }
    if (!remote_finish_open(r, pki_dir, error))
        return NULL;
    return g_steal_pointer(&r);
}

typedef struct {
    VdRemote *remote;
    char *pki_dir;
} OpenData;

static void
open_data_free(OpenData *d)
{
    vd_remote_free(d->remote);
    g_free(d->pki_dir);
    g_free(d);
}

static void
wait_in_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    OpenData *d = task_data;
    GError *error = NULL;

    if (vd_ssh_tunnel_wait(d->remote->tunnel, cancellable, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void
on_waited(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GTask) outer = data;
    OpenData *d = g_task_get_task_data(outer);
    GError *error = NULL;

    if (!g_task_propagate_boolean(G_TASK(result), &error) ||
        !remote_finish_open(d->remote, d->pki_dir, &error)) {
        g_task_return_error(outer, error);
        return;
    }
    g_task_return_pointer(outer, g_steal_pointer(&d->remote), (GDestroyNotify)vd_remote_free);
}

void
vd_remote_open_async(const VdRemoteUri *uri, const char *pki_dir, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    OpenData *d = g_new0(OpenData, 1);
    GError *error = NULL;

    g_task_set_source_tag(task, vd_remote_open_async);
    d->remote = remote_new(uri);
    d->pki_dir = g_strdup(pki_dir);
    g_task_set_task_data(task, d, (GDestroyNotify)open_data_free);
    if (uri->transport != VD_REMOTE_SSH) {
        if (remote_finish_open(d->remote, pki_dir, &error))
            g_task_return_pointer(task, g_steal_pointer(&d->remote),
                                  (GDestroyNotify)vd_remote_free);
        else
            g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    /* ssh is spawned here, in the caller's thread: its parent-death signal
     * follows the thread that forked it, and a worker thread may end. The
     * login and the probe, which block, run in a worker. */
    d->remote->tunnel = vd_ssh_tunnel_spawn(uri, &error);
    if (!d->remote->tunnel) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    GTask *inner = g_task_new(NULL, cancellable, on_waited, task);
    g_task_set_task_data(inner, d, NULL);
    g_task_run_in_thread(inner, wait_in_thread);
    g_object_unref(inner);
}

VdRemote *
vd_remote_open_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

void
vd_remote_free(VdRemote *remote)
{
    if (!remote)
        return;
    /* The session first: its connections end before ssh does. */
    if (remote->session)
        soup_session_abort(remote->session);
    g_clear_object(&remote->session);
    g_clear_pointer(&remote->tunnel, vd_ssh_tunnel_free);
    g_clear_object(&remote->tls_ca);
    g_clear_object(&remote->tls_cert);
    g_clear_object(&remote->tls_interaction);
    vd_remote_uri_free(remote->uri);
    g_free(remote->local_socket);
    g_free(remote->base_url);
    g_free(remote->pki_dir);
    g_free(remote);
}

const VdRemoteUri *
vd_remote_uri(const VdRemote *remote)
{
    return remote->uri;
}

SoupSession *
vd_remote_session(const VdRemote *remote)
{
    return remote->session;
}

char *
vd_remote_url(const VdRemote *remote, const char *path)
{
    return g_strconcat(remote->base_url, path, NULL);
}

const char *
vd_remote_local_socket(const VdRemote *remote)
{
    return remote->uri->transport == VD_REMOTE_TLS ? NULL : remote->local_socket;
}

/* 0 when something accepts connections on @path, else the errno. */
static int
probe_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;
    int err = 0;

    if (strlen(path) >= sizeof(sa.sun_path))
        return ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        err = errno;
    close(fd);
    return err;
}

void
vd_remote_set_transport_error(const VdRemote *remote, const GError *cause, GError **error)
{
    switch (remote->uri->transport) {
    case VD_REMOTE_UNIX: {
        int err = probe_socket(remote->local_socket);

        if (err != 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT, "Failed to connect socket to '%s': %s",
                        remote->local_socket, g_strerror(err));
            return;
        }
        break;
    }
    case VD_REMOTE_SSH:
        /* The tunnel is ours to ask, even through a const connection. */
        if (vd_ssh_tunnel_explain(((VdRemote *)remote)->tunnel, error))
            return;
        break;
    case VD_REMOTE_TLS:
        if (vd_remote_tls_explain(remote, cause, error))
            return;
        break;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_CONNECT, "lost connection to virtd at '%s': %s",
                remote->uri->uri, cause ? cause->message : "unknown error");
}
