/* Block jobs: see blockjob.h.
 *
 * What the daemon keeps is little on purpose: QEMU is asked
 * (query-block-jobs) whenever a client asks, the job ids ("commit-vda",
 * "active-commit-vda", "pull-vda") name the disk, so a daemon restarted while a job runs finds
 * it again with nothing of its own to reload. dom->blockjobs keeps only
 * the result of each disk's last job (completed, cancelled, failed: the
 * message), from QEMU's BLOCK_JOB_* events, for the client that waits. The
 * definitions follow QEMU's chain (blockjob-chain.c) when a job ends and
 * whenever a client finds no job running, which also covers a job that
 * ended while the daemon was down. */
#include "daemon/blockjob/blockjob-priv.h"

#include <string.h>

#include "daemon/events/events.h"
#include "qemu/qemu-fdset-paths.h"
#include "util/vd-error.h"

typedef enum { OP_COMMIT, OP_PULL, OP_INFO, OP_ABORT, OP_PIVOT, OP_SPEED } OpKind;

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    OpKind kind;
    char *target;
    char *base, *top;
    gboolean active, shallow;
    guint64 bandwidth;
    VdBlockJobInfo *job;
    GPtrArray *chain; /* the disk's images (VdChainImage) while a job is started */
    char *root;       /* its root node */
    VdBlockJobDone done;
    gpointer data;
} Op;

static GHashTable *
results(VdDomainObj *dom)
{
    if (!dom->blockjobs)
        dom->blockjobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return dom->blockjobs;
}

static void
op_finish(Op *op, const GError *error, JsonNode *answer)
{
    op->done(op->dom, error, error ? NULL : answer, op->data);
    vd_blockjob_info_free(op->job);
    vd_domain_obj_unref(op->dom);
    g_free(op->target);
    g_free(op->base);
    g_free(op->top);
    if (op->chain)
        g_ptr_array_unref(op->chain);
    g_free(op->root);
    g_free(op);
}

static void
op_fail(Op *op, GError *error)
{
    op_finish(op, error, NULL);
    g_error_free(error);
}

static JsonNode *
empty_answer(void)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, json_object_new());
    return n;
}

static void
op_ok(Op *op)
{
    g_autoptr(JsonNode) n = empty_answer();
    op_finish(op, NULL, n);
}

static void
started_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Op *op = data;
    (void)qmp, (void)result;
    if (error) {
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    if (op->kind == OP_COMMIT || op->kind == OP_PULL)
        g_hash_table_remove(results(op->dom), op->target);
    op_ok(op);
}

static int
chain_index(GPtrArray *chain, const char *path)
{
    for (guint i = 0; i < chain->len; i++) {
        if (g_str_equal(((VdChainImage *)g_ptr_array_index(chain, i))->path, path))
            return (int)i;
    }
    return -1;
}

static const char *
chain_path(GPtrArray *chain, guint i)
{
    return ((VdChainImage *)g_ptr_array_index(chain, i))->path;
}

/* The chain is known: check what the user named against it, start. */
static void
start_job(Op *op, GPtrArray *chain, const char *root)
{
    int top = 0, base = (int)chain->len - 1;
    if (op->top && (top = chain_index(chain, op->top)) < 0) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: could not find image '%s' in chain for "
                                "'%s' (the chain is listed in 'vsh dumpxml' under the "
                                "disk's <backingStore>)",
                                op->top, op->target));
        return;
    }
    if (top + 1 >= (int)chain->len) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: top '%s' in chain for '%s' has no backing "
                                "file (nothing to %s: take an external snapshot first, "
                                "'vsh snapshot-create-as NAME SNAP --disk-only')",
                                chain_path(chain, (guint)top), op->target,
                                op->kind == OP_PULL ? "pull" : "commit"));
        return;
    }
    if (op->shallow)
        base = top + 1;
    if (op->base && (base = chain_index(chain, op->base)) <= top) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: could not find base image '%s' below '%s' "
                                "in chain for '%s'",
                                op->base, chain_path(chain, (guint)top), op->target));
        return;
    }
    if (op->kind == OP_COMMIT && top == 0 && !op->active) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: commit of '%s' active layer requires active "
                                "flag (give --active, then --pivot to switch to the base)",
                                op->target));
        return;
    }
    if (op->kind == OP_COMMIT && top != 0 && op->active) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: active commit requested but '%s' is not "
                                "active (leave out --top, or --active)",
                                chain_path(chain, (guint)top)));
        return;
    }
    const VdChainImage *base_image = g_ptr_array_index(chain, (guint)base);
    JsonObject *args;
    const char *cmd;
    if (op->kind == OP_PULL) {
        /* The bottom of the chain needs no name: QEMU's default. */
        cmd = "block-stream";
        args = vd_qemu_block_stream(op->target, root,
                                    base == (int)chain->len - 1 ? NULL : base_image, op->bandwidth);
    } else {
        /* The base is named even at the bottom: its path is what QEMU
         * writes into the header above the top. */
        cmd = "block-commit";
        args = vd_qemu_block_commit(op->target, root,
                                    top ? g_ptr_array_index(chain, (guint)top) : NULL, base_image,
                                    op->bandwidth, top == 0);
    }
    g_autoptr(GError) error = NULL;
    if (!vd_hotplug_live_command(op->dom, cmd, args, started_reply, op, &error))
        op_fail(op, g_steal_pointer(&error));
}

static void
nodes_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Op *op = data;
    (void)qmp;
    g_autoptr(GPtrArray) chain = g_steal_pointer(&op->chain);
    g_autofree char *root = g_steal_pointer(&op->root);
    if (error) {
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    vd_qemu_chain_find_nodes(chain, result);
    start_job(op, chain, root);
}

static void
block_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Op *op = data;
    (void)qmp;
    if (error) {
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    g_autofree char *root = NULL;
    g_autoptr(GPtrArray) chain = vd_qemu_block_chain(result, op->target, &root);
    if (!chain || chain->len == 0) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: disk '%s' has no media in QEMU", op->target));
        return;
    }
    /* The images' nodes next: QEMU names a file it holds as a descriptor
     * "/dev/fdset/N", so the job names its images by node. */
    g_autoptr(GError) err = NULL;
    if (!vd_hotplug_qmp_ready(op->dom, &err)) {
        op_fail(op, g_steal_pointer(&err));
        return;
    }
    op->chain = g_steal_pointer(&chain);
    op->root = g_steal_pointer(&root);
    vd_qmp_command_real_paths(op->dom->qmp, "query-named-block-nodes", NULL, nodes_reply, op);
}

static void
info_synced(VdDomainObj *dom, const GError *error, gpointer data)
{
    Op *op = data;
    (void)dom, (void)error;
    const char *res = g_hash_table_lookup(results(op->dom), op->target);
    g_autoptr(JsonNode) n = empty_answer();
    JsonObject *o = json_node_get_object(n);
    json_object_set_boolean_member(o, "active", FALSE);
    if (res && g_str_has_prefix(res, "failed:")) {
        json_object_set_string_member(o, "result", "failed");
        json_object_set_string_member(o, "error", res + strlen("failed:"));
    } else {
        json_object_set_string_member(o, "result", res ? res : "none");
    }
    op_finish(op, NULL, n);
}

static void
info_answer(Op *op)
{
    VdBlockJobInfo *j = op->job;
    g_autoptr(JsonNode) n = empty_answer();
    JsonObject *o = json_node_get_object(n);
    json_object_set_boolean_member(o, "active", TRUE);
    json_object_set_string_member(o, "type", vd_blockjob_type_raw(j->type));
    json_object_set_string_member(o, "label", vd_blockjob_type_label(j->type));
    json_object_set_int_member(o, "cur", (gint64)j->cur);
    json_object_set_int_member(o, "end", (gint64)j->end);
    json_object_set_int_member(o, "bandwidth", (gint64)j->speed);
    json_object_set_boolean_member(o, "ready", j->ready);
    json_object_set_string_member(o, "status", j->status);
    op_finish(op, NULL, n);
}

static void
jobs_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Op *op = data;
    g_autoptr(GError) err = NULL;
    (void)qmp;
    if (error) {
        op_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    op->job = vd_qemu_blockjob_find(result, op->target);
    switch (op->kind) {
    case OP_COMMIT:
    case OP_PULL:
        if (op->job) {
            op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                    "Requested operation is not valid: disk '%s' already in "
                                    "active block job (watch it with 'vsh blockjob %s %s "
                                    "--info', end it with --abort or --pivot)",
                                    op->target, op->dom->name, op->target));
            return;
        }
        if (!vd_hotplug_live_query_block(op->dom, block_reply, op, &err))
            op_fail(op, g_steal_pointer(&err));
        return;
    case OP_INFO:
        if (op->job)
            info_answer(op);
        else
            vd_blockjob_sync(op->d, op->dom, op->target, info_synced, op);
        return;
    case OP_ABORT:
    case OP_PIVOT:
    case OP_SPEED:
        break;
    }
    if (!op->job) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                "Requested operation is not valid: disk '%s' does not have an "
                                "active block job",
                                op->target));
        return;
    }
    g_autofree char *id = vd_qemu_blockjob_id(op->job->type, op->target);
    JsonObject *args;
    const char *cmd;
    if (op->kind == OP_PIVOT) {
        if (op->job->type != VD_BLOCKJOB_ACTIVE_COMMIT) {
            op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                    "Requested operation is not valid: pivot of disk '%s' "
                                    "requires an active commit job (this one is a %s)",
                                    op->target, vd_blockjob_type_label(op->job->type)));
            return;
        }
        if (!op->job->ready) {
            op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                    "block copy still active: disk '%s' not ready for pivot "
                                    "yet (wait for 'Now in synchronized phase', or use "
                                    "'vsh blockcommit ... --pivot' which waits)",
                                    op->target));
            return;
        }
        cmd = "block-job-complete";
        args = vd_qemu_block_job_complete(id);
    } else if (op->kind == OP_ABORT) {
        cmd = "block-job-cancel";
        args = vd_qemu_block_job_cancel(id);
    } else {
        cmd = "block-job-set-speed";
        args = vd_qemu_block_job_set_speed(id, op->bandwidth);
    }
    if (!vd_hotplug_live_command(op->dom, cmd, args, started_reply, op, &err))
        op_fail(op, g_steal_pointer(&err));
}

static void
run(VdDaemon *d, VdDomainObj *dom, OpKind kind, const char *target, const VdBlockJobParams *p,
    VdBlockJobDone done, gpointer data)
{
    Op *op = g_new0(Op, 1);
    g_autoptr(GError) error = NULL;
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->kind = kind;
    op->done = done;
    op->data = data;
    if (p) {
        op->base = g_strdup(p->base);
        op->top = g_strdup(p->top);
        op->active = p->active;
        op->shallow = p->shallow;
        op->bandwidth = p->bandwidth;
    }
    if (!vd_domain_obj_check(dom, VD_OP_BLOCKJOB, &error) || !vd_hotplug_qmp_ready(dom, &error)) {
        op->target = g_strdup(target);
        op_fail(op, g_steal_pointer(&error));
        return;
    }
    VdDiskDef *disk = vd_blockjob_disk(dom->live, target);
    if (!disk) {
        op->target = g_strdup(target);
        op_fail(op, vd_blockjob_no_disk(target));
        return;
    }
    /* A disk named by its source path is addressed by its target. */
    op->target = g_strdup(disk->target_dev);
    if (op->base && op->shallow) {
        op_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: --base and --shallow are mutually exclusive"));
        return;
    }
    vd_qmp_command(dom->qmp, "query-block-jobs", NULL, jobs_reply, op);
}

void
vd_blockjob_commit(VdDaemon *d, VdDomainObj *dom, const char *target, const VdBlockJobParams *p,
                   VdBlockJobDone done, gpointer data)
{
    run(d, dom, OP_COMMIT, target, p, done, data);
}

void
vd_blockjob_pull(VdDaemon *d, VdDomainObj *dom, const char *target, const VdBlockJobParams *p,
                 VdBlockJobDone done, gpointer data)
{
    run(d, dom, OP_PULL, target, p, done, data);
}

void
vd_blockjob_info(VdDaemon *d, VdDomainObj *dom, const char *target, VdBlockJobDone done,
                 gpointer data)
{
    run(d, dom, OP_INFO, target, NULL, done, data);
}

void
vd_blockjob_abort(VdDaemon *d, VdDomainObj *dom, const char *target, gboolean pivot,
                  VdBlockJobDone done, gpointer data)
{
    run(d, dom, pivot ? OP_PIVOT : OP_ABORT, target, NULL, done, data);
}

void
vd_blockjob_set_speed(VdDaemon *d, VdDomainObj *dom, const char *target, guint64 bandwidth,
                      VdBlockJobDone done, gpointer data)
{
    VdBlockJobParams p = {.bandwidth = bandwidth};
    run(d, dom, OP_SPEED, target, &p, done, data);
}

/* ---- QEMU's events ----------------------------------------------------- */

/* The disk a job id of ours names, or NULL. */
static const char *
job_target(const char *id)
{
    if (g_str_has_prefix(id, "active-commit-"))
        return id + strlen("active-commit-");
    if (g_str_has_prefix(id, "commit-"))
        return id + strlen("commit-");
    if (g_str_has_prefix(id, "pull-"))
        return id + strlen("pull-");
    return NULL;
}

/* virsh's block-job event (events.h): the job's type in libvirt's words,
 * the disk (its target and its file now) and how it ended. */
static void
publish(VdDomainObj *dom, const char *id, const char *target, const char *status)
{
    const char *type = g_str_has_prefix(id, "active-commit-") ? "Active Block Commit"
                       : g_str_has_prefix(id, "commit-")      ? "Block Commit"
                                                              : "Block Pull";
    const char *path = "";
    for (guint i = 0; dom->live && dom->live->disks && i < dom->live->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(dom->live->disks, i);
        if (g_strcmp0(disk->target_dev, target) == 0 && disk->source_file)
            path = disk->source_file;
    }
    JsonObject *extra = json_object_new();
    json_object_set_string_member(extra, "disk", target);
    json_object_set_string_member(extra, "path", path);
    vd_events_domain(dom->name, dom->uuid, "block-job", type, status, extra);
}

void
vd_blockjob_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    if (!data || !g_str_has_prefix(event, "BLOCK_JOB_"))
        return;
    const char *target = job_target(json_object_get_string_member_with_default(data, "device", ""));
    if (!target)
        return;
    const char *id = json_object_get_string_member_with_default(data, "device", "");
    if (g_str_equal(event, "BLOCK_JOB_COMPLETED")) {
        const char *err = json_object_get_string_member_with_default(data, "error", NULL);
        publish(dom, id, target, err ? "failed" : "completed");
        g_hash_table_replace(results(dom), g_strdup(target),
                             err ? g_strconcat("failed:", err, NULL) : g_strdup("completed"));
    } else if (g_str_equal(event, "BLOCK_JOB_CANCELLED")) {
        publish(dom, id, target, "canceled");
        g_hash_table_replace(results(dom), g_strdup(target), g_strdup("cancelled"));
    } else if (g_str_equal(event, "BLOCK_JOB_ERROR")) {
        /* The job's own policy (report) ends it with BLOCK_JOB_COMPLETED
         * and the error; this one only says which way it failed. */
        g_message("domain '%s': block job on '%s': %s error", dom->name, target,
                  json_object_get_string_member_with_default(data, "operation", "I/O"));
        return;
    } else {
        /* BLOCK_JOB_READY: query-block-jobs says "ready" from now on. */
        if (g_str_equal(event, "BLOCK_JOB_READY"))
            publish(dom, id, target, "ready");
        return;
    }
    /* Ended: the definitions follow the chain QEMU has now. */
    vd_blockjob_sync(d, dom, target, NULL, NULL);
}

void
vd_blockjob_reconnected(VdDaemon *d, VdDomainObj *dom)
{
    for (guint i = 0; dom->live && dom->live->disks && i < dom->live->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(dom->live->disks, i);
        if (disk->device == VD_DISK_DEVICE_DISK && disk->source_file && disk->target_dev)
            vd_blockjob_sync(d, dom, disk->target_dev, NULL, NULL);
    }
}

void
vd_blockjob_stopped(VdDomainObj *dom)
{
    /* QEMU's jobs died with it; the definitions already name what the
     * last completed job left (a job cut short changed no chain). */
    if (dom->blockjobs)
        g_hash_table_remove_all(dom->blockjobs);
}

void
vd_blockjob_obj_free(VdDomainObj *dom)
{
    g_clear_pointer((GHashTable **)&dom->blockjobs, g_hash_table_unref);
}
