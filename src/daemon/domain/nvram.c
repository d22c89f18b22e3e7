/* A UEFI domain's firmware and variable store before its start: see
 * nvram.h. The worker sees only its own copy of the definition and
 * strings; the daemon's state stays on the main loop. */
#include "daemon/domain/nvram.h"
#include "daemon/host-ready.h"

#include "conf/domain-firmware.h"
#include "qemu/firmware-select.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

typedef struct {
    VdDomainDef *def;    /* owned: becomes the result */
    char *dirs;          /* descriptor directories, NULL: the default */
    char *default_nvram; /* lib/nvram/NAME_VARS.fd */
    guint qemu_major, qemu_minor;
    gboolean check_only; /* vsh domcheck: select and find, write nothing */
} NvramJob;

static void
nvram_job_free(NvramJob *job)
{
    vd_domain_def_free(job->def);
    g_free(job->dirs);
    g_free(job->default_nvram);
    g_free(job);
}

gboolean
vd_domain_nvram_needed(const VdDomainDef *def)
{
    return g_strcmp0(def->os.firmware, "efi") == 0 || vd_firmware_needs_nvram(def);
}

char *
vd_domain_nvram_path(VdDaemon *d, const VdDomainDef *def)
{
    if (!vd_firmware_needs_nvram(def))
        return NULL;
    if (def->os.nvram)
        return g_strdup(def->os.nvram);
    return vd_paths_domain_nvram(d->paths, def->name);
}

/* The template to copy for @def's store, or NULL with an error. */
static char *
find_template(NvramJob *job, GPtrArray **descs)
{
    VdDomainDef *def = job->def;
    if (def->fw->nvram_template)
        return g_strdup(def->fw->nvram_template);
    if (!*descs)
        *descs = vd_firmware_desc_load(job->dirs);
    const VdFirmwareDesc *d = vd_firmware_find_executable(*descs, def->os.loader);
    if (d)
        return g_strdup(d->nvram_template);
    g_autofree char *guess = vd_firmware_guess_template(def->os.loader);
    if (guess && g_file_test(guess, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&guess);
    return NULL;
}

static gboolean
prepare(NvramJob *job, GError **error)
{
    VdDomainDef *def = job->def;
    g_autoptr(GPtrArray) descs = NULL;

    if (g_strcmp0(def->os.firmware, "efi") == 0 && !def->os.loader) {
        VdQemuCaps caps = {.version_major = job->qemu_major, .version_minor = job->qemu_minor};
        g_autofree char *machine = vd_firmware_machine_name(def->os.machine, &caps);
        descs = vd_firmware_desc_load(job->dirs);
        const VdFirmwareDesc *fw = vd_firmware_select(descs, def, machine, job->dirs, error);
        if (!fw)
            return FALSE;
        if (!g_file_test(fw->executable, G_FILE_TEST_IS_REGULAR)) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "UEFI firmware '%s' (named by %s) does not exist: reinstall ovmf "
                        "(apt install --reinstall ovmf)",
                        fw->executable, fw->path);
            return FALSE;
        }
        g_info("domain '%s': UEFI firmware %s (%s)", def->name, fw->executable, fw->path);
        vd_firmware_apply(def, fw);
    }
    if (!vd_firmware_needs_nvram(def))
        return TRUE;
    if (!def->os.nvram)
        def->os.nvram = g_strdup(job->default_nvram);
    if (g_file_test(def->os.nvram, G_FILE_TEST_EXISTS))
        return TRUE;

    g_autofree char *template = find_template(job, &descs);
    if (template && job->check_only)
        return TRUE;
    if (!template) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "domain '%s': no template for its UEFI variable store '%s': no firmware "
                    "descriptor names loader '%s'; give <nvram template='...'> (the VARS file "
                    "that goes with the loader, e.g. /usr/share/OVMF/OVMF_VARS_4M.fd for "
                    "OVMF_CODE_4M.fd)",
                    def->name, def->os.nvram, def->os.loader);
        return FALSE;
    }
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(template, &data, &len, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "domain '%s': cannot read UEFI variable store template: %s", def->name,
                    local->message);
        return FALSE;
    }
    /* Atomic: a daemon killed mid-copy leaves no half store that the
     * next start would take for the guest's own. */
    if (!vd_file_write_atomic(def->os.nvram, data, (gssize)len, 0600, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "domain '%s': cannot create its UEFI variable store from '%s': %s", def->name,
                    template, local->message);
        return FALSE;
    }
    g_info("domain '%s': UEFI variable store %s created from %s", def->name, def->os.nvram,
           template);
    if (!def->fw->nvram_template)
        def->fw->nvram_template = g_steal_pointer(&template);
    return TRUE;
}

static void
prepare_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    NvramJob *job = data;
    GError *error = NULL;

    if (!prepare(job, &error)) {
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, g_steal_pointer(&job->def), (GDestroyNotify)vd_domain_def_free);
}

static void
nvram_async(VdDaemon *d, VdDomainDef *live, gboolean check_only, GAsyncReadyCallback callback,
            gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    NvramJob *job = g_new0(NvramJob, 1);

    job->def = live;
    job->check_only = check_only;
    job->dirs = g_strdup(d->firmware_dirs);
    job->default_nvram = vd_paths_domain_nvram(d->paths, live->name);
    vd_host_ready_wait_caps(d);
    if (d->caps) {
        job->qemu_major = d->caps->version_major;
        job->qemu_minor = d->caps->version_minor;
    }
    g_task_set_source_tag(task, vd_domain_nvram_prepare_async);
    g_task_set_task_data(task, job, (GDestroyNotify)nvram_job_free);
    g_task_run_in_thread(task, prepare_thread);
}

void
vd_domain_nvram_prepare_async(VdDaemon *d, VdDomainDef *live, GAsyncReadyCallback callback,
                              gpointer user_data)
{
    nvram_async(d, live, FALSE, callback, user_data);
}

void
vd_domain_nvram_check_async(VdDaemon *d, VdDomainDef *live, GAsyncReadyCallback callback,
                            gpointer user_data)
{
    nvram_async(d, live, TRUE, callback, user_data);
}

VdDomainDef *
vd_domain_nvram_prepare_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
