/* The host beyond GET /v1/host (docs/api.md "Host"):
 *   GET /v1/host/validate           vsh host-validate's checks (host-validate.h)
 *   GET /v1/host/node               vsh nodeinfo
 *   GET /v1/host/memory-stats[?cell=N]  vsh nodememstats
 *   GET /v1/host/cpu-stats[?cpu=N]  vsh nodecpustats (the client takes two
 *                                   readings a second apart for --percent)
 *   GET /v1/host/sysinfo            vsh sysinfo: XML (application/xml)
 */
#include <string.h>

#include "api-internal.h"
#include "daemon/host-node.h"
#include "daemon/host-probe.h"
#include "daemon/host-ready.h"
#include "daemon/host-validate.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"

/* The fake host files of the tests ($VIRTD_HOST_ROOT, as host-probe.h),
 * else the real ones. */
static const char *
host_root(void)
{
    const char *root = g_getenv("VIRTD_HOST_ROOT");

    return root && *root ? root : "/";
}

/* ?NAME=N, a number >= 0; -1 when absent. FALSE + error when malformed. */
static gboolean
query_index(VdApiRequest *req, const char *name, int *out, GError **error)
{
    const char *text = req->query ? g_hash_table_lookup(req->query, name) : NULL;
    guint64 v = 0;

    *out = -1;
    if (!text)
        return TRUE;
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT, &v, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid %s '%s': give a number from 0 up", name, text);
        return FALSE;
    }
    *out = (int)v;
    return TRUE;
}

/* ---- validate: copies of the daemon's facts, checked in a worker ---- */

static VdHostValidateInput *
validate_input(VdDaemon *d)
{
    VdHostValidateInput *in = g_new0(VdHostValidateInput, 1);

    vd_host_ready_wait(d); /* the KVM verdict and QEMU's facts */
    in->root = g_strdup(host_root());
    in->kvm_status = d->kvm->status;
    in->kvm_detail = g_strdup(d->kvm->detail);
    in->kvm_rate = d->kvm->iterations_per_sec;
    in->qemu_binary = g_strdup(d->qemu_binary);
    in->machines = g_ptr_array_new_with_free_func(g_free);
    if (d->caps) {
        in->qemu_version = g_strdup(d->caps->version);
        for (guint i = 0; i < d->caps->machines->len; i++)
            g_ptr_array_add(in->machines, g_strdup(g_ptr_array_index(d->caps->machines, i)));
        in->default_machine = g_strdup(d->caps->default_machine);
        in->tcg = d->caps->has_tcg_accel;
    } else {
        in->qemu_error = g_strdup(d->caps_error ? d->caps_error->message : "not probed");
    }
    in->pools = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) pools = vd_storage_list(d->storage);
    for (guint i = 0; i < pools->len; i++) {
        VdStoragePool *p = g_ptr_array_index(pools, i);
        if (!p->active || !p->def->target_path)
            continue;
        g_ptr_array_add(in->pools, g_strdup(p->def->name));
        g_ptr_array_add(in->pools, g_strdup(p->def->target_path));
    }
    return in;
}

static void
validate_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    g_task_return_pointer(task, vd_host_validate_run(data), (GDestroyNotify)json_node_unref);
}

static void
validate_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VdApiRequest *req = data;
    JsonNode *answer = g_task_propagate_pointer(G_TASK(res), NULL);

    vd_api_reply_json(req, 200, answer);
}

static void
handle_validate(VdApiRequest *req)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, validate_done, req);

    g_task_set_task_data(task, validate_input(req->d), (GDestroyNotify)vd_host_validate_input_free);
    vd_api_pause(req);
    g_task_run_in_thread(task, validate_thread);
}

/* ---- node figures ---- */

static void
handle_node(VdApiRequest *req)
{
    vd_api_reply_json(req, 200, vd_host_node_info(host_root()));
}

static void
handle_memory_stats(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    int cell;
    JsonNode *answer = NULL;

    if (query_index(req, "cell", &cell, &error))
        answer = vd_host_node_memory_stats(host_root(), cell, &error);
    if (!answer) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_json(req, 200, answer);
}

static void
handle_cpu_stats(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    int cpu;
    JsonNode *answer = NULL;

    if (query_index(req, "cpu", &cpu, &error))
        answer = vd_host_node_cpu_stats(host_root(), cpu, &error);
    if (!answer) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_json(req, 200, answer);
}

static void
handle_sysinfo(VdApiRequest *req)
{
    const char *const *smbios = req->d->host ? (const char *const *)req->d->host->smbios : NULL;
    g_autofree char *xml = vd_host_sysinfo_xml(host_root(), smbios);

    vd_api_reply_text(req, 200, "application/xml", xml);
}

gboolean
vd_api_host_dispatch(VdApiRequest *req, const char *method)
{
    static const struct {
        const char *name;
        void (*handle)(VdApiRequest *req);
    } routes[] = {
        {"validate", handle_validate},         {"node", handle_node},
        {"memory-stats", handle_memory_stats}, {"cpu-stats", handle_cpu_stats},
        {"sysinfo", handle_sysinfo},
    };

    if (req->nsegments != 2 || !g_str_equal(req->segments[0], "host"))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
        if (!g_str_equal(req->segments[1], routes[i].name))
            continue;
        if (!g_str_equal(method, "GET"))
            vd_api_reply_not_allowed(req, method);
        else
            routes[i].handle(req);
        return TRUE;
    }
    return FALSE;
}
