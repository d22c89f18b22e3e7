#include "host-ready.h"

#include "daemon/host-probe.h"
#include "util/vd-error.h"

/* The worker's results until the main thread takes them: written by the
 * worker and read by the main thread under @lock. */
typedef struct _VdHostReady {
    GThread *thread;
    GMutex lock;
    GCond cond;
    gboolean caps_done, kvm_done; /* under lock: the worker has put them in */
    VdQemuCaps *caps;
    GError *caps_error;
    VdKvmProbe *kvm;
    /* main thread only */
    gboolean caps_installed, kvm_installed;
    gboolean then_ran; /* the callbacks ran: later ones run at once */
    GPtrArray *then;   /* VdHostReadyFunc */
    gint64 started_us;
    /* the worker's inputs: copies, never the daemon's own */
    char *binary;
    char *cache_dir;
    VdPaths *paths;
} VdHostReady;

static gboolean on_progress(gpointer data);

/* QEMU first: GET /v1/version and every start need it, and it is the
 * shorter probe. Each result is handed over as soon as it is in. */
static gpointer
probe_thread(gpointer data)
{
    VdDaemon *d = data;
    VdHostReady *r = d->ready;
    GError *error = NULL;
    VdQemuCaps *caps = NULL;

    if (r->binary)
        caps = vd_qemu_caps_get(r->binary, r->cache_dir, &error);
    else
        g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no qemu-system-x86_64 in PATH: install the qemu-system-x86 package or set "
                    "VIRTD_QEMU");
    g_mutex_lock(&r->lock);
    r->caps = caps;
    r->caps_error = error;
    r->caps_done = TRUE;
    g_cond_broadcast(&r->cond);
    g_mutex_unlock(&r->lock);
    g_idle_add(on_progress, d); /* removed by vd_host_ready_free if it never runs */

    VdKvmProbe *kvm = vd_host_kvm_probe(r->paths);
    g_mutex_lock(&r->lock);
    r->kvm = kvm;
    r->kvm_done = TRUE;
    g_cond_broadcast(&r->cond);
    g_mutex_unlock(&r->lock);
    g_idle_add(on_progress, d);
    return NULL;
}

/* Moves what the worker has finished into the daemon (main thread). */
static void
install(VdDaemon *d)
{
    VdHostReady *r = d->ready;

    g_mutex_lock(&r->lock);
    if (r->caps_done && !r->caps_installed) {
        d->caps = g_steal_pointer(&r->caps);
        d->caps_error = g_steal_pointer(&r->caps_error);
        r->caps_installed = TRUE;
        if (!d->caps)
            g_warning("QEMU '%s' is not usable: %s", r->binary ? r->binary : "(none)",
                      d->caps_error->message);
        g_info("QEMU capabilities in %.0f ms after the start",
               (g_get_monotonic_time() - r->started_us) / 1000.0);
    }
    if (r->kvm_done && !r->kvm_installed) {
        d->kvm = g_steal_pointer(&r->kvm);
        r->kvm_installed = TRUE;
        g_info("KVM: %s: %s", vd_kvm_status_to_string(d->kvm->status), d->kvm->detail);
        g_info("KVM probe in %.0f ms after the start",
               (g_get_monotonic_time() - r->started_us) / 1000.0);
    }
    g_mutex_unlock(&r->lock);
}

static gboolean
on_progress(gpointer data)
{
    VdDaemon *d = data;
    VdHostReady *r = d->ready;

    install(d);
    if (r->caps_installed && r->kvm_installed && !r->then_ran) {
        g_autoptr(GPtrArray) then = g_steal_pointer(&r->then);
        r->then = g_ptr_array_new();
        r->then_ran = TRUE;
        for (guint i = 0; i < then->len; i++)
            ((VdHostReadyFunc)g_ptr_array_index(then, i))(d);
    }
    return G_SOURCE_REMOVE;
}

void
vd_host_ready_start(VdDaemon *d)
{
    VdHostReady *r = g_new0(VdHostReady, 1);

    g_mutex_init(&r->lock);
    g_cond_init(&r->cond);
    r->started_us = g_get_monotonic_time();
    r->binary = g_strdup(d->qemu_binary);
    r->cache_dir = g_strdup(d->paths->cache_dir);
    r->paths = vd_paths_new(d->paths->root);
    r->then = g_ptr_array_new();
    d->ready = r;
    r->thread = g_thread_new("host-probes", probe_thread, d);
}

gboolean
vd_host_ready(VdDaemon *d)
{
    return d->ready && d->ready->caps_installed && d->ready->kvm_installed;
}

static void
wait_for(VdDaemon *d, gboolean kvm_too)
{
    VdHostReady *r = d->ready;

    if (!r || (r->caps_installed && (!kvm_too || r->kvm_installed)))
        return;
    gint64 t0 = g_get_monotonic_time();
    g_mutex_lock(&r->lock);
    while (!r->caps_done || (kvm_too && !r->kvm_done))
        g_cond_wait(&r->cond, &r->lock);
    g_mutex_unlock(&r->lock);
    install(d);
    g_debug("waited %.0f ms for the host probes", (g_get_monotonic_time() - t0) / 1000.0);
}

void
vd_host_ready_wait_caps(VdDaemon *d)
{
    wait_for(d, FALSE);
}

void
vd_host_ready_wait(VdDaemon *d)
{
    wait_for(d, TRUE);
}

void
vd_host_ready_then(VdDaemon *d, VdHostReadyFunc fn)
{
    if (d->ready->then_ran) {
        fn(d);
        return;
    }
    g_ptr_array_add(d->ready->then, fn);
}

void
vd_host_ready_free(VdDaemon *d)
{
    VdHostReady *r = d->ready;

    if (!r)
        return;
    g_thread_join(r->thread);
    while (g_idle_remove_by_data(d))
        ;
    g_clear_pointer(&r->caps, vd_qemu_caps_free);
    g_clear_error(&r->caps_error);
    g_clear_pointer(&r->kvm, vd_kvm_probe_free);
    g_clear_pointer(&r->then, g_ptr_array_unref);
    g_clear_pointer(&r->paths, vd_paths_free);
    g_mutex_clear(&r->lock);
    g_cond_clear(&r->cond);
    g_free(r->binary);
    g_free(r->cache_dir);
    g_free(r);
    d->ready = NULL;
}
