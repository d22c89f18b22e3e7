/* blockcommit, blockpull, blockjob: virsh's options and output
 * (tools/virsh-domain.c): "Block Commit: [ 42 %]" progress lines on
 * stderr with --verbose, "Successfully pivoted", "Commit complete", "Now
 * in synchronized phase", "Pull complete", "No current block job for
 * vda". Waiting polls GET /blockjobs/T as virsh polls the job's info. */
#include <stdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"

typedef enum {
    WAIT_FAILED = -1,
    WAIT_COMPLETED,
    WAIT_READY,
    WAIT_CANCELLED,
    WAIT_JOB_FAILED
} WaitResult;

static const char *
opt(const VshCmd *cmd, const char *name)
{
    return vsh_cmd_get_string(cmd, name);
}

static char *
job_suffix(const char *kind, const char *target, const char *what)
{
    g_autofree char *t = g_uri_escape_string(target, NULL, FALSE);
    return what ? g_strdup_printf("/%s/%s/%s", kind, t, what) : g_strdup_printf("/%s/%s", kind, t);
}

/* --bandwidth: MiB/s (virsh's default) or bytes/s with --bytes. */
static gboolean
bandwidth(const VshCmd *cmd, guint64 *out, GError **error)
{
    const char *v = opt(cmd, "bandwidth");
    guint64 n = 0;
    *out = 0;
    if (!v)
        return TRUE;
    if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT64 >> 20, &n, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Numeric value '%s' for <bandwidth> option is malformed or out of range", v);
        return FALSE;
    }
    *out = vsh_cmd_has(cmd, "bytes") ? n : n << 20;
    return TRUE;
}

static gboolean
timeout_ms(const VshCmd *cmd, guint64 *out, GError **error)
{
    const char *v = opt(cmd, "timeout");
    guint64 n = 0;
    *out = 0;
    if (!v)
        return TRUE;
    if (!g_ascii_string_to_unsigned(v, 10, 1, G_MAXUINT32 / 1000, &n, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid timeout: '%s' (a positive number of seconds)", v);
        return FALSE;
    }
    *out = n * 1000;
    return TRUE;
}

static void
print_progress(const char *label, guint64 remaining, guint64 total)
{
    int pct = 100;
    if (remaining != 0) {
        pct = (int)(100 - remaining * 100.0 / (double)total);
        if (pct >= 100) /* not done: never show 100 % early */
            pct = 99;
    }
    fflush(stdout);
    fprintf(stderr, "\r%s: [%3d %%]", label, pct);
    fflush(stderr);
}

static JsonNode *
get_info(VshCtl *ctl, const char *dom, const char *target, GError **error)
{
    g_autofree char *suffix = job_suffix("blockjobs", target, NULL);
    return vsh_domain_call(ctl, "GET", dom, suffix, NULL, error);
}

static gboolean
post_abort(VshCtl *ctl, const char *dom, const char *target, gboolean pivot, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "pivot");
    json_builder_add_boolean_value(b, pivot);
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *suffix = job_suffix("blockjobs", target, "abort");
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "POST", dom, suffix, body, error);
    return answer != NULL;
}

/* The result of a job QEMU has ended ("completed", "cancelled"), NULL
 * while it runs; NULL and *@failed with the job's error if it failed. */
static const char *
job_result(JsonObject *o, gboolean *failed, GError **error)
{
    *failed = FALSE;
    if (vsh_json_bool(o, "active", FALSE))
        return NULL;
    const char *res = vsh_json_string(o, "result", "none");
    if (g_str_equal(res, "failed")) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "%s",
                    vsh_json_string(o, "error", "the block job failed"));
        *failed = TRUE;
        return NULL;
    }
    return res;
}

/* Polls until the job is gone (its result) or, for an active commit,
 * ready; prints progress with @verbose; aborts past @timeout. */
static gboolean wait_gone(VshCtl *ctl, const char *dom, const char *target, const char **result,
                          GError **error);

static WaitResult
wait_job(VshCtl *ctl, const char *dom, const char *target, const char *label, gboolean verbose,
         guint64 timeout, gboolean async, GError **error)
{
    gint64 start = g_get_monotonic_time();
    guint64 last_cur = 0, last_end = 0;
    WaitResult ret;
    for (;;) {
        g_autoptr(JsonNode) info = get_info(ctl, dom, target, error);
        if (!info)
            return WAIT_FAILED;
        JsonObject *o = vsh_json_root(info);
        gboolean failed;
        const char *res = job_result(o, &failed, error);
        if (failed)
            return WAIT_JOB_FAILED;
        if (res) {
            ret = g_str_equal(res, "cancelled") ? WAIT_CANCELLED : WAIT_COMPLETED;
            break;
        }
        guint64 cur = (guint64)vsh_json_int(o, "cur", 0), end = (guint64)vsh_json_int(o, "end", 0);
        if (vsh_json_bool(o, "ready", FALSE)) {
            ret = WAIT_READY;
            break;
        }
        if (verbose && (cur != last_cur || end != last_end))
            print_progress(label, end - cur, end);
        last_cur = cur, last_end = end;
        if (timeout && (guint64)(g_get_monotonic_time() - start) / 1000 > timeout) {
            /* As virsh: the abort is waited for unless --async. */
            if (!post_abort(ctl, dom, target, FALSE, error) ||
                (!async && !wait_gone(ctl, dom, target, NULL, error)))
                return WAIT_FAILED;
            return WAIT_CANCELLED;
        }
        g_usleep(250 * 1000);
    }
    if (verbose && (ret == WAIT_COMPLETED || ret == WAIT_READY))
        print_progress(label, 0, 1);
    return ret;
}

/* After an abort or pivot: until QEMU has ended the job. */
static gboolean
wait_gone(VshCtl *ctl, const char *dom, const char *target, const char **result, GError **error)
{
    for (;;) {
        g_autoptr(JsonNode) info = get_info(ctl, dom, target, error);
        if (!info)
            return FALSE;
        gboolean failed;
        const char *res = job_result(vsh_json_root(info), &failed, error);
        if (failed)
            return FALSE;
        if (res) {
            if (result)
                *result = g_intern_string(res);
            return TRUE;
        }
        g_usleep(100 * 1000);
    }
}

/* blockcommit's and blockpull's wait (@what: "Commit", "Pull"): TRUE
 * when the job completed or is ready; otherwise virsh's "WHAT failed: "
 * error or "WHAT aborted" line. */
static gboolean
wait_finished(VshCtl *ctl, const VshCmd *cmd, const char *label, const char *what, guint64 timeout,
              GError **error)
{
    switch (wait_job(ctl, opt(cmd, "domain"), opt(cmd, "path"), label, vsh_cmd_has(cmd, "verbose"),
                     timeout, vsh_cmd_has(cmd, "async"), error)) {
    case WAIT_FAILED:
        return FALSE;
    case WAIT_JOB_FAILED:
        g_prefix_error(error, "\n%s failed: ", what);
        return FALSE;
    case WAIT_CANCELLED:
        vsh_print_extra(ctl, "\n%s aborted\n", what);
        return FALSE;
    case WAIT_READY:
    case WAIT_COMPLETED:
        break;
    }
    return TRUE;
}

static gboolean
start_job(VshCtl *ctl, const VshCmd *cmd, const char *what, gboolean active, GError **error)
{
    guint64 bw;
    if (!bandwidth(cmd, &bw, error))
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    const char *strs[] = {"base", "top", NULL};
    for (guint i = 0; strs[i]; i++) {
        if (opt(cmd, strs[i])) {
            json_builder_set_member_name(b, strs[i]);
            json_builder_add_string_value(b, opt(cmd, strs[i]));
        }
    }
    if (g_str_equal(what, "commit")) {
        json_builder_set_member_name(b, "active");
        json_builder_add_boolean_value(b, active);
        json_builder_set_member_name(b, "shallow");
        json_builder_add_boolean_value(b, vsh_cmd_has(cmd, "shallow"));
    }
    json_builder_set_member_name(b, "bandwidth");
    json_builder_add_int_value(b, (gint64)bw);
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *suffix = job_suffix("disks", opt(cmd, "path"), what);
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "POST", opt(cmd, "domain"), suffix, body, error);
    return answer != NULL;
}

static gboolean
cmd_blockcommit(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    gboolean pivot = vsh_cmd_has(cmd, "pivot"), finish = vsh_cmd_has(cmd, "keep-overlay");
    gboolean active = vsh_cmd_has(cmd, "active") || pivot || finish;
    gboolean verbose = vsh_cmd_has(cmd, "verbose");
    guint64 timeout;
    const char *dom = opt(cmd, "domain"), *path = opt(cmd, "path");

    if (pivot && finish) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --pivot and --keep-overlay are mutually exclusive");
        return FALSE;
    }
    if (!timeout_ms(cmd, &timeout, error))
        return FALSE;
    gboolean blocking = vsh_cmd_has(cmd, "wait") || pivot || finish || timeout;
    if ((verbose || vsh_cmd_has(cmd, "async")) && !blocking) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--%s requires at least one of --timeout, --wait, --pivot, or "
                    "--keep-overlay",
                    verbose ? "verbose" : "async");
        return FALSE;
    }
    if (!start_job(ctl, cmd, "commit", active, error))
        return FALSE;
    if (!blocking) {
        vsh_print_extra(ctl, "%s\n",
                        active ? "Active Block Commit started" : "Block Commit started");
        return TRUE;
    }
    if (!wait_finished(ctl, cmd, "Block Commit", "Commit", timeout, error))
        return FALSE;
    if (!active) {
        vsh_print_extra(ctl, "\nCommit complete\n");
        return TRUE;
    }
    if (pivot || finish) {
        const char *res = NULL;
        if (!post_abort(ctl, dom, path, pivot, error)) {
            g_prefix_error(error, "failed to %s job for disk %s: ", pivot ? "pivot" : "finish",
                           path);
            return FALSE;
        }
        if (!wait_gone(ctl, dom, path, &res, error))
            return FALSE;
        vsh_print_extra(ctl, "\n%s\n",
                        pivot ? "Successfully pivoted" : "Commit complete, overlay image kept");
    } else {
        vsh_print_extra(ctl, "\nNow in synchronized phase\n");
    }
    return TRUE;
}

static gboolean
cmd_blockpull(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    gboolean verbose = vsh_cmd_has(cmd, "verbose");
    guint64 timeout;
    if (!timeout_ms(cmd, &timeout, error))
        return FALSE;
    gboolean blocking = vsh_cmd_has(cmd, "wait") || timeout;
    if ((verbose || vsh_cmd_has(cmd, "async")) && !blocking) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--%s requires at least one of --timeout or --wait",
                    verbose ? "verbose" : "async");
        return FALSE;
    }
    if (!start_job(ctl, cmd, "pull", FALSE, error))
        return FALSE;
    if (!blocking) {
        vsh_print_extra(ctl, "Block Pull started\n");
        return TRUE;
    }
    if (!wait_finished(ctl, cmd, "Block Pull", "Pull", timeout, error))
        return FALSE;
    vsh_print_extra(ctl, "\nPull complete\n");
    return TRUE;
}

static void
pretty_speed(guint64 bytes, double *val, const char **unit)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", NULL};
    guint i = 0;
    *val = (double)bytes;
    while (*val >= 1024 && units[i + 1]) {
        *val /= 1024;
        i++;
    }
    *unit = units[i];
}

static gboolean
cmd_blockjob(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = opt(cmd, "domain"), *path = opt(cmd, "path");
    gboolean abort_ = vsh_cmd_has(cmd, "abort") || vsh_cmd_has(cmd, "async"),
             pivot = vsh_cmd_has(cmd, "pivot");
    gboolean raw = vsh_cmd_has(cmd, "raw"), info = vsh_cmd_has(cmd, "info") || raw;
    gboolean speed = opt(cmd, "bandwidth") != NULL;

    if ((abort_ || pivot) + info + speed > 1 || (vsh_cmd_has(cmd, "abort") && pivot)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "conflict between options: use one of --abort, --pivot, --info or "
                    "--bandwidth");
        return FALSE;
    }
    if (abort_ || pivot) {
        if (!post_abort(ctl, dom, path, pivot, error))
            return FALSE;
        return vsh_cmd_has(cmd, "async") || wait_gone(ctl, dom, path, NULL, error);
    }
    if (speed) {
        guint64 bw;
        if (!bandwidth(cmd, &bw, error))
            return FALSE;
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "bandwidth");
        json_builder_add_int_value(b, (gint64)bw);
        json_builder_end_object(b);
        g_autoptr(JsonNode) body = json_builder_get_root(b);
        g_autofree char *suffix = job_suffix("blockjobs", path, "speed");
        g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "POST", dom, suffix, body, error);
        return answer != NULL;
    }
    g_autoptr(JsonNode) answer = get_info(ctl, dom, path, error);
    if (!answer)
        return FALSE;
    JsonObject *o = vsh_json_root(answer);
    if (!vsh_json_bool(o, "active", FALSE)) {
        if (!raw)
            vsh_print_extra(ctl, "No current block job for %s\n", path);
        return TRUE;
    }
    guint64 cur = (guint64)vsh_json_int(o, "cur", 0), end = (guint64)vsh_json_int(o, "end", 0);
    guint64 bw = (guint64)vsh_json_int(o, "bandwidth", 0);
    if (raw) {
        /* virsh --raw gives the bandwidth as the API has it: MiB/s unless
         * --bytes. */
        vsh_print(ctl,
                  " type=%s\n bandwidth=%" G_GUINT64_FORMAT "\n cur=%" G_GUINT64_FORMAT
                  "\n end=%" G_GUINT64_FORMAT "\n",
                  vsh_json_string(o, "type", "unknown"), vsh_cmd_has(cmd, "bytes") ? bw : bw >> 20,
                  cur, end);
        return TRUE;
    }
    print_progress(vsh_json_string(o, "label", "Block Job"), end - cur, end);
    if (bw) {
        double val;
        const char *unit;
        pretty_speed(bw, &val, &unit);
        vsh_print(ctl, "    Bandwidth limit: %" G_GUINT64_FORMAT " bytes/s (%-.3f %s/s)", bw, val,
                  unit);
    }
    vsh_print(ctl, "\n");
    return TRUE;
}

#define OPT_PATH                                                                                   \
    {                                                                                              \
        "path", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,           \
            "fully-qualified path of disk"                                                         \
    }
#define OPT_BANDWIDTH                                                                              \
    {"bandwidth", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "bandwidth limit in MiB/s"},                   \
    {                                                                                              \
        "bytes", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,                                                \
            "the bandwidth limit is in bytes/s rather than MiB/s"                                  \
    }
#define OPT_WAIT                                                                                   \
    {"wait", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "wait for job to complete"},                       \
        {"verbose", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "with --wait, display the progress"},       \
        {"timeout", VSH_OT_INT, 0, VSH_COMPLETE_NONE,                                              \
         "implies --wait, abort if copy exceeds timeout (in seconds)"},                            \
    {                                                                                              \
        "async", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "with --wait, don't wait for cancel to finish" \
    }

static const VshOptDef opts_blockcommit[] = {
    VSH_OPT_DOMAIN,
    OPT_PATH,
    OPT_BANDWIDTH,
    {"base", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "path of base file to commit into (default bottom of chain)"},
    {"shallow", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "use backing file of top as base"},
    {"top", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "path of top file to commit from (default top of chain)"},
    {"active", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "trigger two-stage active commit of top file"},
    OPT_WAIT,
    {"pivot", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "implies --active --wait, pivot when commit is synced"},
    {"keep-overlay", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "implies --active --wait, quit when commit is synced"},
    {NULL},
};

static const VshOptDef opts_blockpull[] = {
    VSH_OPT_DOMAIN,
    OPT_PATH,
    OPT_BANDWIDTH,
    {"base", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "path of backing file in chain for a partial pull"},
    OPT_WAIT,
    {NULL},
};

static const VshOptDef opts_blockjob[] = {
    VSH_OPT_DOMAIN,
    OPT_PATH,
    {"abort", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "abort the active job on the specified disk"},
    {"async", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "implies --abort; request but don't wait for job end"},
    {"pivot", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "implies --abort; conclude and pivot a copy or commit job"},
    {"info", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "get active job information for the specified disk"},
    {"raw", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "implies --info; output details rather than human summary"},
    OPT_BANDWIDTH,
    {NULL},
};

const VshCmdDef vsh_domain_blockjob_commands[] = {
    {"blockcommit", "domain", opts_blockcommit, cmd_blockcommit, "Start a block commit operation.",
     "Commit changes from a snapshot down to its backing image."},
    {"blockpull", "domain", opts_blockpull, cmd_blockpull,
     "Populate a disk from its backing image.", "Populate a disk from its backing image."},
    {"blockjob", "domain", opts_blockjob, cmd_blockjob, "Manage active block operations",
     "Query, adjust speed, or cancel active block operations."},
    {NULL},
};
