/* vol-upload and vol-download: the file is streamed to and from the
 * daemon (PUT/GET .../data), never read into memory whole. A progress
 * line is drawn on stderr when it is a terminal. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-units.h"
#include "vsh-progress.h"
#include "vsh-storage.h"

#define READ_CHUNK (256 * 1024)

static gboolean
parse_byte_count(const char *opt, const char *value, guint64 *out, GError **error)
{
    *out = 0;
    if (value && !g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, out, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid --%s '%s': give a number of bytes", opt, value);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_offsets(const VshCmd *cmd, guint64 *offset, guint64 *length, GError **error)
{
    return parse_byte_count("offset", vsh_cmd_get_string(cmd, "offset"), offset, error) &&
           parse_byte_count("length", vsh_cmd_get_string(cmd, "length"), length, error);
}

static void
on_wrote_body_data(SoupMessage *msg, guint chunk, gpointer data)
{
    VshProgress *p = data;

    p->done += chunk;
    vsh_progress_draw(p, FALSE);
}

/* The error body of a failed answer, read from @in. */
static void
stream_error(SoupMessage *msg, GInputStream *in, GError **error)
{
    g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable();
    g_output_stream_splice(mem, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL);
    g_autoptr(GBytes) body = g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(mem));
    vsh_client_set_api_error(msg, body, error);
}

gboolean
vsh_cmd_vol_upload(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autofree char *pool = NULL;
    g_autofree char *name = NULL;
    guint64 offset, length;
    struct stat st;

    if (!parse_offsets(cmd, &offset, &length, error))
        return FALSE;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read file '%s': %s", file,
                    g_strerror(err));
        return FALSE;
    }
    g_autoptr(GInputStream) in = g_unix_input_stream_new(fd, TRUE);
    g_autoptr(JsonNode) found = vsh_volume_lookup(ctl, cmd, &pool, &name, error);
    if (!found)
        return FALSE;
    guint64 size = (guint64)st.st_size;
    if (length && length < size)
        size = length; /* libsoup sends only Content-Length bytes of the stream */
    g_autofree char *suffix = g_strdup_printf("/data?offset=%" G_GUINT64_FORMAT, offset);
    g_autofree char *path = vsh_volume_path(pool, name, suffix);
    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return FALSE;
    g_autofree char *url = vsh_client_url(client, path);
    g_autoptr(SoupMessage) msg = soup_message_new("PUT", url);
    VshProgress progress;
    g_autoptr(GError) local = NULL;

    vsh_progress_init(&progress, "Uploading", size);
    soup_message_set_request_body(msg, "application/octet-stream", in, (gssize)size);
    g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), &progress);
    g_autoptr(GBytes) answer = soup_session_send_and_read(vsh_client_session(client), msg, NULL,
                                                          &local);
    if (progress.tty)
        vsh_progress_draw(&progress, TRUE);
    if (!answer) {
        vsh_client_set_transport_error(client, local, error);
        return FALSE;
    }
    guint status = soup_message_get_status(msg);
    if (status < 200 || status >= 300) {
        vsh_client_set_api_error(msg, answer, error);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsh_cmd_vol_download(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autofree char *pool = NULL;
    g_autofree char *name = NULL;
    guint64 offset, length;
    g_autoptr(GError) local = NULL;

    if (!parse_offsets(cmd, &offset, &length, error))
        return FALSE;
    g_autoptr(JsonNode) found = vsh_volume_lookup(ctl, cmd, &pool, &name, error);
    if (!found)
        return FALSE;
    g_autofree char *suffix = g_strdup_printf("/data?offset=%" G_GUINT64_FORMAT
                                              "&length=%" G_GUINT64_FORMAT,
                                              offset, length);
    g_autofree char *path = vsh_volume_path(pool, name, suffix);
    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return FALSE;
    g_autofree char *url = vsh_client_url(client, path);
    g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
    g_autoptr(GInputStream) in = soup_session_send(vsh_client_session(client), msg, NULL, &local);

    if (!in) {
        vsh_client_set_transport_error(client, local, error);
        return FALSE;
    }
    guint status = soup_message_get_status(msg);
    if (status < 200 || status >= 300) {
        stream_error(msg, in, error);
        return FALSE;
    }
    /* As virsh: create the file, or truncate an existing one. */
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot create file '%s': %s", file,
                    g_strerror(err));
        return FALSE;
    }
    VshProgress progress;
    vsh_progress_init(&progress, "Downloading",
                      (guint64)soup_message_headers_get_content_length(
                          soup_message_get_response_headers(msg)));
    g_autofree char *buf = g_malloc(READ_CHUNK);
    gboolean ok = TRUE;
    for (;;) {
        gssize n = g_input_stream_read(in, buf, READ_CHUNK, NULL, &local);
        if (n < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT, "download of '%s' failed: %s", name,
                        local->message);
            ok = FALSE;
            break;
        }
        if (n == 0)
            break;
        for (gssize off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                int err = errno;
                g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                            "cannot write to '%s': %s", file, g_strerror(err));
                ok = FALSE;
                break;
            }
            off += w;
        }
        if (!ok)
            break;
        progress.done += (guint64)n;
        vsh_progress_draw(&progress, FALSE);
    }
    if (ok && progress.done != progress.total) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "download of '%s' ended after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                    " bytes",
                    name, progress.done, progress.total);
        ok = FALSE;
    }
    if (close(fd) < 0 && ok) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot write to '%s': %s", file,
                    g_strerror(err));
        ok = FALSE;
    }
    if (progress.tty)
        vsh_progress_draw(&progress, TRUE);
    return ok;
}
