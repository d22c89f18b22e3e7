/* The stream under a console WebSocket. See ws-guard.h. */
#include "ws-guard.h"

/* ---- the input: a pollable stream over the connection's ---------------------- */

#define VD_TYPE_WS_GUARD_INPUT (vd_ws_guard_input_get_type())
G_DECLARE_FINAL_TYPE(VdWsGuardInput, vd_ws_guard_input, VD, WS_GUARD_INPUT, GInputStream)

struct _VdWsGuardInput {
    GInputStream parent;
    GPollableInputStream *in;   /* the connection's input */
    GPollableOutputStream *out; /* and output, watched for back-pressure */
    gsize turn;                 /* bytes read since the last yield */
    gboolean yielded;           /* "would block" said for the turn: resume next iteration */
};

static void vd_ws_guard_input_pollable_init(GPollableInputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE(VdWsGuardInput, vd_ws_guard_input, G_TYPE_INPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_INPUT_STREAM,
                                              vd_ws_guard_input_pollable_init))

static gboolean
output_full(VdWsGuardInput *self)
{
    return !g_pollable_output_stream_is_writable(self->out);
}

static gssize
guard_read_nonblocking(GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
    VdWsGuardInput *self = VD_WS_GUARD_INPUT(stream);
    if (self->turn >= VD_WS_GUARD_TURN) {
        self->turn = 0;
        self->yielded = TRUE;
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "yielding");
        return -1;
    }
    if (output_full(self)) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "client not reading");
        return -1;
    }
    gssize n = g_pollable_input_stream_read_nonblocking(self->in, buffer, count, NULL, error);
    if (n > 0)
        self->turn += (gsize)n;
    return n;
}

static gboolean
guard_is_readable(GPollableInputStream *stream)
{
    VdWsGuardInput *self = VD_WS_GUARD_INPUT(stream);
    return !self->yielded && !output_full(self) && g_pollable_input_stream_is_readable(self->in);
}

static gboolean
guard_can_poll(GPollableInputStream *stream)
{
    return TRUE;
}

/* What wakes libsoup's reader: the next iteration after a yield; the
 * output taking more while it is full; else the input itself. */
static GSource *
guard_create_source(GPollableInputStream *stream, GCancellable *cancellable)
{
    VdWsGuardInput *self = VD_WS_GUARD_INPUT(stream);
    g_autoptr(GSource) child = NULL;
    if (self->yielded) {
        self->yielded = FALSE;
        child = g_timeout_source_new(0);
    } else if (output_full(self)) {
        child = g_pollable_output_stream_create_source(self->out, NULL);
    } else {
        child = g_pollable_input_stream_create_source(self->in, NULL);
    }
    return g_pollable_source_new_full(stream, child, cancellable);
}

static gssize
guard_read(GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
           GError **error)
{
    VdWsGuardInput *self = VD_WS_GUARD_INPUT(stream);
    return g_input_stream_read(G_INPUT_STREAM(self->in), buffer, count, cancellable, error);
}

static gboolean
guard_close(GInputStream *stream, GCancellable *cancellable, GError **error)
{
    return TRUE; /* the GIOStream closes the connection */
}

static void
vd_ws_guard_input_finalize(GObject *object)
{
    VdWsGuardInput *self = VD_WS_GUARD_INPUT(object);
    g_clear_object(&self->in);
    g_clear_object(&self->out);
    G_OBJECT_CLASS(vd_ws_guard_input_parent_class)->finalize(object);
}

static void
vd_ws_guard_input_class_init(VdWsGuardInputClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = vd_ws_guard_input_finalize;
    G_INPUT_STREAM_CLASS(klass)->read_fn = guard_read;
    G_INPUT_STREAM_CLASS(klass)->close_fn = guard_close;
}

static void
vd_ws_guard_input_pollable_init(GPollableInputStreamInterface *iface)
{
    iface->can_poll = guard_can_poll;
    iface->is_readable = guard_is_readable;
    iface->create_source = guard_create_source;
    iface->read_nonblocking = guard_read_nonblocking;
}

static void
vd_ws_guard_input_init(VdWsGuardInput *self)
{
}

/* ---- the stream ---------------------------------------------------------------- */

#define VD_TYPE_WS_GUARD (vd_ws_guard_get_type())
G_DECLARE_FINAL_TYPE(VdWsGuard, vd_ws_guard, VD, WS_GUARD, GIOStream)

struct _VdWsGuard {
    GIOStream parent;
    GIOStream *base;
    GInputStream *input;
};

G_DEFINE_TYPE(VdWsGuard, vd_ws_guard, G_TYPE_IO_STREAM)

static GInputStream *
guard_get_input(GIOStream *stream)
{
    return VD_WS_GUARD(stream)->input;
}

static GOutputStream *
guard_get_output(GIOStream *stream)
{
    return g_io_stream_get_output_stream(VD_WS_GUARD(stream)->base);
}

static gboolean
guard_io_close(GIOStream *stream, GCancellable *cancellable, GError **error)
{
    return g_io_stream_close(VD_WS_GUARD(stream)->base, cancellable, error);
}

static void
base_closed(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    GError *error = NULL;
    if (g_io_stream_close_finish(G_IO_STREAM(source), res, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/* The connection's own asynchronous close (GIOStream's default would
 * close in a worker thread while the main loop may still poll it). */
static void
guard_io_close_async(GIOStream *stream, int priority, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer data)
{
    GTask *task = g_task_new(stream, cancellable, callback, data);
    g_io_stream_close_async(VD_WS_GUARD(stream)->base, priority, cancellable, base_closed, task);
}

static gboolean
guard_io_close_finish(GIOStream *stream, GAsyncResult *res, GError **error)
{
    return g_task_propagate_boolean(G_TASK(res), error);
}

static void
vd_ws_guard_finalize(GObject *object)
{
    VdWsGuard *self = VD_WS_GUARD(object);
    g_clear_object(&self->input);
    g_clear_object(&self->base);
    G_OBJECT_CLASS(vd_ws_guard_parent_class)->finalize(object);
}

static void
vd_ws_guard_class_init(VdWsGuardClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = vd_ws_guard_finalize;
    G_IO_STREAM_CLASS(klass)->get_input_stream = guard_get_input;
    G_IO_STREAM_CLASS(klass)->get_output_stream = guard_get_output;
    G_IO_STREAM_CLASS(klass)->close_fn = guard_io_close;
    G_IO_STREAM_CLASS(klass)->close_async = guard_io_close_async;
    G_IO_STREAM_CLASS(klass)->close_finish = guard_io_close_finish;
}

static void
vd_ws_guard_init(VdWsGuard *self)
{
}

GIOStream *
vd_ws_guard_new(GIOStream *base)
{
    GInputStream *in = g_io_stream_get_input_stream(base);
    GOutputStream *out = g_io_stream_get_output_stream(base);
    g_return_val_if_fail(G_IS_POLLABLE_INPUT_STREAM(in) && G_IS_POLLABLE_OUTPUT_STREAM(out), NULL);

    VdWsGuard *self = g_object_new(VD_TYPE_WS_GUARD, NULL);
    self->base = g_object_ref(base);
    VdWsGuardInput *input = g_object_new(VD_TYPE_WS_GUARD_INPUT, NULL);
    input->in = G_POLLABLE_INPUT_STREAM(g_object_ref(in));
    input->out = G_POLLABLE_OUTPUT_STREAM(g_object_ref(out));
    self->input = G_INPUT_STREAM(input);
    return G_IO_STREAM(self);
}
