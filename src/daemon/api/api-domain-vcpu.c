/* The API of a domain's vCPUs (docs/api.md "Domain vCPUs"): counts and
 * per-vCPU facts, setvcpus, vcpupin, emulatorpin. The operations are in
 * daemon/hotplug/vcpu-live.c. */
#include "api-internal.h"

#include <stdlib.h>

#include "conf/domain-cputune.h"
#include "daemon/hotplug/vcpu-live.h"
#include "util/vd-error.h"

static void
add_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

static guint
current_of(const VdDomainDef *def)
{
    return def->vcpus_current ? def->vcpus_current : def->vcpus;
}

/* "maximum_config", "current_config" (persistent domains), then
 * "maximum_live", "current_live" (running ones). */
static void
add_counts(JsonBuilder *b, VdDomainObj *dom)
{
    if (dom->persistent) {
        const VdDomainDef *def = vd_domain_obj_def(dom);
        vd_api_add_int(b, "maximum_config", def->vcpus);
        vd_api_add_int(b, "current_config", current_of(def));
    }
    if (dom->live) {
        vd_api_add_int(b, "maximum_live", dom->live->vcpus);
        vd_api_add_int(b, "current_live", current_of(dom->live));
    }
}

/* [{vcpu, cpuset}] for vCPUs 0 .. maximum-1 of @def: the pin, else every
 * host CPU (an online vCPU's real affinity comes from @infos). */
static void
add_pins(JsonBuilder *b, const char *member, const VdDomainDef *def, GPtrArray *infos,
         const char *all)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    for (guint v = 0; v < def->vcpus; v++) {
        const char *set = vd_cputune_vcpupin(def->cputune, v);
        for (guint i = 0; infos && i < infos->len; i++) {
            const VdVcpuInfo *info = g_ptr_array_index(infos, i);
            if (info->vcpu == v && info->affinity)
                set = info->affinity;
        }
        json_builder_begin_object(b);
        vd_api_add_int(b, "vcpu", v);
        add_str(b, "cpuset", set ? set : all);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

typedef struct {
    VdApiRequest *req;
    guint guest;
    gboolean want_guest;
} GetReq;

static void
reply_vcpus(VdApiRequest *req, VdDomainObj *dom, const GetReq *gr)
{
    guint host = vd_host_cpus();
    g_autofree char *all = g_strdup_printf("0-%u", host - 1);
    g_autoptr(GPtrArray) infos = dom->live ? vd_vcpu_info(dom) : NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_counts(b, dom);
    if (gr && gr->want_guest)
        vd_api_add_int(b, "guest", gr->guest);
    vd_api_add_int(b, "host_cpus", host);
    if (dom->live) {
        json_builder_set_member_name(b, "vcpus");
        json_builder_begin_array(b);
        for (guint i = 0; i < infos->len; i++) {
            const VdVcpuInfo *info = g_ptr_array_index(infos, i);
            json_builder_begin_object(b);
            vd_api_add_int(b, "vcpu", info->vcpu);
            vd_api_add_int(b, "thread_id", info->tid);
            vd_api_add_int(b, "cpu", info->cpu);
            add_str(b, "state", "running");
            vd_api_add_int(b, "cpu_time_ns", (gint64)info->cpu_time_ns);
            add_str(b, "affinity", info->affinity ? info->affinity : all);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        add_pins(b, "pins_live", dom->live, infos, all);
    }
    if (dom->persistent)
        add_pins(b, "pins_config", vd_domain_obj_def(dom), NULL, all);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
guest_counted(VdDomainObj *dom, const GError *error, gpointer data)
{
    GetReq *gr = data;
    VdApiRequest *req = gr->req;
    if (error)
        vd_api_reply_error(req, error);
    else
        reply_vcpus(req, dom, gr);
    g_free(gr);
}

static void
threads_loaded(VdDomainObj *dom, const GError *error, gpointer data)
{
    GetReq *gr = data;
    if (error) {
        vd_api_reply_error(gr->req, error);
        g_free(gr);
        return;
    }
    if (gr->want_guest) {
        vd_vcpu_guest_count(gr->req->d, dom, &gr->guest, guest_counted, gr);
        return;
    }
    reply_vcpus(gr->req, dom, gr);
    g_free(gr);
}

/* GET /v1/domains/D/vcpus[?guest=1] */
static void
handle_get(VdApiRequest *req, VdDomainObj *dom)
{
    GetReq *gr = g_new0(GetReq, 1);
    gr->req = req;
    gr->want_guest = vd_api_query_bool(req, "guest");
    if (!dom->live && gr->want_guest) {
        g_autoptr(GError) error = g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                              "Requested operation is not valid: domain is "
                                              "not running");
        g_free(gr);
        vd_api_reply_error(req, error);
        return;
    }
    if (!dom->live) {
        reply_vcpus(req, dom, gr);
        g_free(gr);
        return;
    }
    vd_api_pause(req);
    vd_vcpu_threads(req->d, dom, threads_loaded, gr);
}

static void
changed(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    vd_api_add_domain_summary(b, dom);
    add_counts(b, dom);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* A non-negative integer member; FALSE + error when absent or not one. */
static gboolean
body_uint(JsonObject *body, const char *name, guint *out, GError **error)
{
    JsonNode *n = body ? json_object_get_member(body, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0 || json_node_get_int(n) > G_MAXUINT) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"%s\": a number", name);
        return FALSE;
    }
    *out = (guint)json_node_get_int(n);
    return TRUE;
}

/* PUT /v1/domains/D/vcpus?live=1&config=1 {"count": N, "maximum": bool,
 * "guest": bool} */
static void
handle_put(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean live = vd_api_query_bool(req, "live");
    gboolean config = vd_api_query_bool(req, "config");
    gboolean maximum = FALSE, guest = FALSE;
    guint count = 0;
    if (!error && body_uint(body, "count", &count, &error)) {
        maximum = json_object_get_boolean_member_with_default(body, "maximum", FALSE);
        guest = json_object_get_boolean_member_with_default(body, "guest", FALSE);
    }
    if (!error && maximum && live)
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: maximum vcpu count of a live domain can't be modified: "
                    "use --config --maximum, then shut the domain down and start it again");
    if (!error && maximum && !config)
        config = TRUE; /* virsh: --maximum is a config change, refused with --live alone */
    if (!error && guest && (maximum || config))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: --guest changes the running guest only: it cannot be "
                    "combined with --maximum or --config");
    if (!error && guest)
        live = TRUE;
    if (!vd_api_affect_or_reply(req, dom, &live, &config, &error))
        return;
    vd_api_pause(req);
    if (guest)
        vd_vcpu_set_guest(req->d, dom, count, changed, req);
    else
        vd_vcpu_set_count(req->d, dom, count, maximum, live, config, changed, req);
}

/* ---- pins ---------------------------------------------------------------- */

typedef struct {
    VdApiRequest *req;
    gboolean emulator;
    guint vcpu;
    char *cpuset;
    gboolean live, config;
} PinReq;

static void
pin_run(VdDomainObj *dom, const GError *error, gpointer data)
{
    PinReq *pr = data;
    VdApiRequest *req = pr->req;
    g_autoptr(GError) err = NULL;
    if (error)
        err = g_error_copy(error);
    else if (pr->emulator)
        vd_vcpu_emulator_pin(req->d, dom, pr->cpuset, pr->live, pr->config, &err);
    else
        vd_vcpu_pin(req->d, dom, pr->vcpu, pr->cpuset, pr->live, pr->config, &err);
    g_free(pr->cpuset);
    g_free(pr);
    changed(dom, err, req);
}

/* PUT .../vcpus/N/pin and .../emulatorpin {"cpuset": "0-1"} */
static void
handle_pin(VdApiRequest *req, VdDomainObj *dom, gboolean emulator, const char *vcpu)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean live = vd_api_query_bool(req, "live");
    gboolean config = vd_api_query_bool(req, "config");
    const char *cpuset = body ? vd_api_body_string(body, "cpuset") : NULL;
    g_autofree char *norm = NULL;
    char *end = NULL;
    guint64 n = emulator ? 0 : g_ascii_strtoull(vcpu, &end, 10);
    if (!error && !emulator && (!*vcpu || *end || !g_ascii_isdigit(*vcpu) || n > G_MAXUINT))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: vcpu '%s' is not a vCPU number", vcpu);
    if (!error && !cpuset)
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"cpuset\": a host CPU list such as "
                    "\"0-1,3\"");
    if (!error)
        norm = vd_cpuset_check_host(cpuset, vd_host_cpus(), &error);
    if (!vd_api_affect_or_reply(req, dom, &live, &config, &error))
        return;
    PinReq *pr = g_new0(PinReq, 1);
    pr->req = req;
    pr->emulator = emulator;
    pr->vcpu = (guint)n;
    pr->cpuset = g_steal_pointer(&norm);
    pr->live = live;
    pr->config = config;
    vd_api_pause(req);
    if (live)
        vd_vcpu_threads(req->d, dom, pin_run, pr);
    else
        pin_run(dom, NULL, pr);
}

/* GET .../emulatorpin: {"live": "0-3", "config": "0-3", "host_cpus": N} */
static void
handle_get_emulatorpin(VdApiRequest *req, VdDomainObj *dom)
{
    guint host = vd_host_cpus();
    g_autofree char *all = g_strdup_printf("0-%u", host - 1);
    g_autofree char *live = dom->live ? vd_vcpu_emulator_affinity(dom) : NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (dom->live)
        add_str(b, "live", live ? live : all);
    if (dom->persistent) {
        const VdDomainDef *def = vd_domain_obj_def(dom);
        add_str(b, "config", def->cputune->emulatorpin ? def->cputune->emulatorpin : all);
    }
    vd_api_add_int(b, "host_cpus", host);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

gboolean
vd_api_domain_vcpu_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    gboolean get = g_str_equal(method, "GET");
    gboolean put = g_str_equal(method, "PUT");
    const char *what = req->segments[2];
    guint n = req->nsegments;

    if (g_str_equal(what, "emulatorpin") && n == 3) {
        if (get)
            handle_get_emulatorpin(req, dom);
        else if (put)
            handle_pin(req, dom, TRUE, NULL);
        else
            vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    if (!g_str_equal(what, "vcpus"))
        return FALSE;
    if (n == 3) {
        if (get)
            handle_get(req, dom);
        else if (put)
            handle_put(req, dom);
        else
            vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    if (n == 5 && g_str_equal(req->segments[4], "pin")) {
        if (put)
            handle_pin(req, dom, FALSE, req->segments[3]);
        else
            vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    return FALSE;
}
