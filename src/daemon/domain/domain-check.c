/* The compatibility report of a definition (domain-check.h). The checks
 * are the start's (domain-start.c); what differs is that each failure is
 * recorded and the next check still runs. */
#include "daemon/domain/domain-check.h"

#include "daemon/host-probe.h"

#include <libxml/tree.h>

#include "conf/domain-enums.h"
#include "daemon/domain/disk-prepare.h"
#include "daemon/domain/domain-files.h"
#include "daemon/domain/domain-net.h"
#include "daemon/domain/domain-process.h"
#include "daemon/domain/nvram.h"
#include "daemon/domain/qemu-spawn.h"
#include "daemon/host-ready.h"
#include "qemu/qemu-command.h"

typedef struct {
    VdDaemon *d;
    VdDomainDef *def;  /* the definition as the user wrote it */
    VdDomainDef *live; /* the copy a start would run: volumes resolved, formats read */
    VdDomainCheck *check;
} CheckJob;

static void
check_job_free(CheckJob *job)
{
    vd_domain_def_free(job->def);
    vd_domain_def_free(job->live);
    if (job->check)
        vd_domain_check_free(job->check);
    g_free(job);
}

void
vd_domain_check_free(VdDomainCheck *check)
{
    g_ptr_array_unref(check->runs);
    g_ptr_array_unref(check->adjusted);
    g_ptr_array_unref(check->blocks);
    g_free(check);
}

static void add(GPtrArray *list, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
add(GPtrArray *list, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(list, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/* An error message not listed yet (the argv builder may refuse what a
 * check before it refused already). */
static void
add_block(VdDomainCheck *check, const char *message)
{
    for (guint i = 0; i < check->blocks->len; i++) {
        if (g_str_equal(g_ptr_array_index(check->blocks, i), message))
            return;
    }
    g_ptr_array_add(check->blocks, g_strdup(message));
}

/* Every refusal of vd_domain_def_check_startable, not only the first: it
 * names the first guest-visible unsupported element, so each is taken out
 * of a copy in turn until the typed checks speak (they stop at their
 * first refusal). */
static void
check_startable_all(const VdDomainDef *def, VdDomainCheck *check)
{
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);

    for (;;) {
        g_autoptr(GError) error = NULL;
        guint i;
        if (vd_domain_def_check_startable(copy, &error))
            return;
        add_block(check, error->message);
        for (i = 0; copy->unsupported && i < copy->unsupported->len; i++) {
            const VdUnsupported *u = g_ptr_array_index(copy->unsupported, i);
            if (u->guest_visible)
                break;
        }
        if (!copy->unsupported || i == copy->unsupported->len)
            return;
        g_ptr_array_remove_index(copy->unsupported, i);
    }
}

/* Define's warnings for what is kept and ignored. vd_domain_def_warnings
 * gives its notes about the name first, then one line per unsupported
 * element in order; the guest-visible ones are blockers, listed there. */
static void
add_define_warnings(const VdDomainDef *def, VdDomainCheck *check)
{
    g_autoptr(GPtrArray) warnings = vd_domain_def_warnings(def);
    guint n_unsupported = def->unsupported ? def->unsupported->len : 0;
    guint first = warnings->len >= n_unsupported ? warnings->len - n_unsupported : 0;

    for (guint i = 0; i < warnings->len; i++) {
        if (i >= first && warnings->len >= n_unsupported) {
            const VdUnsupported *u = g_ptr_array_index(def->unsupported, i - first);
            if (u->guest_visible)
                continue;
        }
        g_ptr_array_add(check->adjusted, g_strdup(g_ptr_array_index(warnings, i)));
    }
}

/* "devices: 2 disk, 1 interface, 1 sound ...": every element under
 * <devices> as the user wrote it, by class, in the order they first
 * appear; the lines below detail the ones conf/ types here. */
static char *
device_classes(const VdDomainDef *def)
{
    xmlNode *root = def->doc ? xmlDocGetRootElement(def->doc) : NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GHashTable) counts = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GString) out = g_string_new("devices:");

    for (xmlNode *n = root ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "devices"))
            continue;
        for (xmlNode *c = n->children; c; c = c->next) {
            const char *name = (const char *)c->name;
            if (c->type != XML_ELEMENT_NODE || g_str_equal(name, "emulator"))
                continue;
            guint k = GPOINTER_TO_UINT(g_hash_table_lookup(counts, name));
            if (k == 0)
                g_ptr_array_add(names, (gpointer)name);
            g_hash_table_insert(counts, (gpointer)name, GUINT_TO_POINTER(k + 1));
        }
    }
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_string_append_printf(out, "%s %u %s", i ? "," : "",
                               GPOINTER_TO_UINT(g_hash_table_lookup(counts, name)), name);
    }
    if (names->len == 0)
        g_string_append(out, " none");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
summarize(const VdDomainDef *def, GPtrArray *runs)
{
    add(runs, "domain '%s': machine %s, %s, %u vCPU%s, %" G_GUINT64_FORMAT " MiB", def->name,
        def->os.machine ? def->os.machine : "(QEMU's default)",
        def->virt_type == VD_VIRT_KVM ? "KVM" : "TCG emulation", def->vcpus,
        def->vcpus == 1 ? "" : "s", def->memory_kib / 1024);
    g_ptr_array_add(runs, device_classes(def));
    if (def->os.kernel)
        add(runs, "boot: kernel %s%s%s", def->os.kernel, def->os.initrd ? ", initrd " : "",
            def->os.initrd ? def->os.initrd : "");
    if (def->os.firmware || def->os.loader)
        add(runs, "firmware: %s%s%s", def->os.firmware ? def->os.firmware : "loader",
            def->os.loader ? " " : "", def->os.loader ? def->os.loader : "");
    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        const char *source = disk->source_file ? disk->source_file : disk->source_volume;
        add(runs, "disk %s: %s %s, %s %s%s", disk->target_dev ? disk->target_dev : "?",
            vd_disk_bus_to_string(disk->bus), vd_disk_device_to_string(disk->device),
            vd_disk_format_to_string(disk->format), vd_disk_type_to_string(disk->type),
            source ? "" : " (empty)");
        if (source) {
            g_autofree char *head = g_ptr_array_steal_index(runs, runs->len - 1);
            g_ptr_array_add(runs, g_strconcat(head, " ", source, NULL));
        }
    }
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        add(runs, "interface %u: %s%s%s%s, model %s, mac %s", i, vd_net_type_to_string(net->type),
            net->source ? " '" : "", net->source ? net->source : "", net->source ? "'" : "",
            net->model ? net->model : "rtl8139", net->mac ? net->mac : "?");
    }
    for (guint i = 0; i < def->graphics->len; i++) {
        const VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        add(runs, "graphics %u: %s", i, vd_graphics_type_to_string(g->type));
    }
    for (guint i = 0; i < def->videos->len; i++) {
        const VdVideoDef *v = g_ptr_array_index(def->videos, i);
        add(runs, "video %u: %s", i, vd_video_model_to_string(v->model));
    }
    const struct {
        const char *kind;
        GPtrArray *list;
    } chrs[] = {{"serial", def->serials}, {"console", def->consoles}, {"channel", def->channels}};
    for (guint k = 0; k < G_N_ELEMENTS(chrs); k++) {
        for (guint i = 0; i < chrs[k].list->len; i++) {
            const VdChrDef *c = g_ptr_array_index(chrs[k].list, i);
            add(runs, "%s %u: %s%s%s", chrs[k].kind, i, vd_chr_type_to_string(c->type),
                c->target_name ? " " : "", c->target_name ? c->target_name : "");
        }
    }
    for (guint i = 0; i < def->inputs->len; i++) {
        const VdInputDef *in = g_ptr_array_index(def->inputs, i);
        add(runs, "input %u: %s %s", i, vd_input_type_to_string(in->type),
            vd_input_bus_to_string(in->bus));
    }
    for (guint i = 0; i < def->rngs->len; i++) {
        const VdRngDef *r = g_ptr_array_index(def->rngs, i);
        add(runs, "rng %u: %s %s", i, r->model ? r->model : "virtio", r->backend ? r->backend : "");
    }
    for (guint i = 0; i < def->panics->len; i++) {
        const VdPanicDef *p = g_ptr_array_index(def->panics, i);
        add(runs, "panic %u: %s", i, p->model ? p->model : "isa");
    }
    if (def->memballoon)
        add(runs, "memballoon: %s", def->memballoon->model ? def->memballoon->model : "virtio");
}

/* The argv a start would build, with the daemon's capabilities and run
 * paths, and descriptor numbers for the taps it would open. */
static void
build_argv(CheckJob *job)
{
    VdDaemon *d = job->d;
    VdDomainDef *live = job->live;
    guint n = live->interfaces->len;
    g_autofree int *net_fds = g_new(int, MAX(n, 1));
    g_autofree char *qmp = vd_paths_domain_socket(d->paths, live->name, live->uuid, "qmp");
    g_autofree char *console = vd_paths_domain_socket(d->paths, live->name, live->uuid, "console");
    g_autofree char *console_log = vd_paths_domain_console_log(d->paths, live->name);
    /* What a start makes before the argv (the swtpm and its socket, the
     * domain's copy of the UEFI variables) is named, not made: the
     * builder only puts these names on the command line. The UEFI loader
     * and store are in @live (nvram.h), as for a start. */
    g_autofree char *tpm = vd_paths_domain_socket(d->paths, live->name, live->uuid, "swtpm");
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) argv = NULL;
    g_autoptr(GError) error = NULL;
    int next_fd = VD_SPAWN_FIRST_FD;

    if (!d->caps)
        return; /* vd_domain_start_check_host said why */
    /* A start picks a free port for an autoport SPICE display before the
     * argv; the check names one instead of taking it. */
    for (guint i = 0; i < live->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(live->graphics, i);
        if (g->type == VD_GRAPHICS_SPICE && g->port < 0)
            g->port = 5900;
    }
    for (guint i = 0; i < n; i++) {
        VdNetDef *net = g_ptr_array_index(live->interfaces, i);
        if (!net->alias)
            net->alias = g_strdup_printf("net%u", i);
        net_fds[i] =
            net->type == VD_NET_NETWORK || net->type == VD_NET_BRIDGE || net->type == VD_NET_DIRECT
                ? next_fd++
                : -1;
    }
    VdQemuRunPaths run = vd_domain_run_paths(d, live, qmp, console, console_log);
    run.net_fds = net_fds;
    run.n_net_fds = n;
    run.tpm_socket_path = tpm;
    /* A vsock's descriptor and CID are the start's to take: pretend ones
     * here. */
    run.vsock_fd = VD_SPAWN_FIRST_FD + (int)n;
    run.vsock_cid = 3;
    argv = vd_qemu_build_argv_notes(live, d->caps, &run, notes, &error);
    for (guint i = 0; i < notes->len; i++)
        g_ptr_array_add(job->check->adjusted, g_strdup(g_ptr_array_index(notes, i)));
    if (!argv)
        add_block(job->check, error->message);
}

static void finish(GTask *task);

/* The UEFI firmware a start would select, and its variable store's
 * template: found, nothing written. */
static void
nvram_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    CheckJob *job = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    VdDomainDef *selected = vd_domain_nvram_prepare_finish(res, &error);

    if (selected) {
        vd_domain_def_free(job->live);
        job->live = selected;
    } else {
        add_block(job->check, error->message);
    }
    finish(task);
}

static void
files_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    CheckJob *job = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) notes = vd_domain_files_check_finish(res, &error);

    if (!notes)
        add_block(job->check, error->message);
    for (guint i = 0; notes && i < notes->len; i++)
        g_ptr_array_add(job->check->adjusted, g_strdup(g_ptr_array_index(notes, i)));
    if (vd_domain_nvram_needed(job->live)) {
        vd_domain_nvram_check_async(job->d, vd_domain_def_copy(job->live), nvram_checked, task);
        return;
    }
    finish(task);
}

static void
finish(GTask *task)
{
    CheckJob *job = g_task_get_task_data(task);

    vd_domain_net_check(job->d, job->live, job->check->blocks);
    build_argv(job);
    summarize(job->live, job->check->runs);
    g_task_return_pointer(task, g_steal_pointer(&job->check), (GDestroyNotify)vd_domain_check_free);
    g_object_unref(task);
}

void
vd_domain_check_async(VdDaemon *d, VdDomainDef *def, GAsyncReadyCallback callback,
                      gpointer user_data)
{
    GTask *task = g_task_new(NULL, NULL, callback, user_data);
    CheckJob *job = g_new0(CheckJob, 1);
    g_autoptr(GError) error = NULL;

    vd_host_ready_wait(d); /* the checks read d->caps and d->kvm */
    job->d = d;
    job->def = def;
    job->live = vd_domain_def_copy(def);
    job->check = g_new0(VdDomainCheck, 1);
    job->check->runs = g_ptr_array_new_with_free_func(g_free);
    job->check->adjusted = g_ptr_array_new_with_free_func(g_free);
    job->check->blocks = g_ptr_array_new_with_free_func(g_free);
    g_task_set_task_data(task, job, (GDestroyNotify)check_job_free);

    check_startable_all(def, job->check);
    add_define_warnings(def, job->check);
    if (!vd_domain_start_check_host(d, def, &error)) {
        add_block(job->check, error->message);
        g_clear_error(&error);
    }
    if (!vd_disks_resolve_volumes(d, job->live, &error)) {
        add_block(job->check, error->message);
        g_clear_error(&error);
    }
    /* The task holds the job, and so the copy the worker writes to. */
    vd_domain_files_check_async(d, job->live, VD_DOMAIN_FILES_START, files_checked, task);
}

VdDomainCheck *
vd_domain_check_finish(GAsyncResult *result)
{
    return g_task_propagate_pointer(G_TASK(result), NULL);
}
