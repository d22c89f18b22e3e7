/* The argv builder's part for the domain's TPM devices and their swtpm emulator (issue 10).
 * See conf/domain-tpm.h for the model.
 *
 * A TPM is three options, as libvirt writes them: the control socket of
 * swtpm as a chardev, a tpmdev of type emulator on it, and the guest's
 * device (tpm-crb or tpm-tis) on the tpmdev:
 *
 *   -chardev socket,id=chrtpm,fd=N
 *   -tpmdev emulator,id=tpm-tpm0,chardev=chrtpm
 *   -device {"driver":"tpm-crb","tpmdev":"tpm-tpm0","id":"tpm0"}
 *
 * QEMU is swtpm's client (it never listens here), so swtpm must run
 * before QEMU starts: the daemon starts it (daemon/domain/swtpm.c) and
 * passes its socket in paths->tpm_socket_path. An external backend names
 * its socket in the definition. Either way the daemon connects and QEMU
 * gets the connected socket as descriptor N (qemu-run-fds.h). */
#include "conf/domain-tpm.h"
#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

/* The control socket QEMU connects to, or NULL with @error set. */
static const char *
tpm_socket(VdQemuCmd *cmd, const VdTpmDef *tpm, GError **error)
{
    if (tpm->backend == VD_TPM_BACKEND_EXTERNAL)
        return tpm->source_path;
    if (cmd->paths->tpm_socket_path)
        return cmd->paths->tpm_socket_path;
    if (cmd->paths->host && !cmd->paths->host->swtpm) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: <tpm><backend type='emulator'>: TPM emulation "
                    "needs swtpm: apt-get install swtpm swtpm-tools");
        return NULL;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                "<tpm><backend type='emulator'>: no swtpm socket was given (the daemon starts "
                "swtpm before QEMU and passes it in tpm_socket_path)");
    return NULL;
}

gboolean
vd_qemu_build_tpm(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;

    for (guint i = 0; def->tpm && i < def->tpm->tpms->len; i++) {
        const VdTpmDef *tpm = g_ptr_array_index(def->tpm->tpms, i);
        VdTpmModel model = vd_tpm_def_model(tpm);
        const char *driver = vd_tpm_model_to_string(model);

        /* What check_startable refuses, refused here too: the builder may
         * be asked without it (vsh domcheck). */
        if (tpm->backend == VD_TPM_BACKEND_PASSTHROUGH || i > 0 ||
            (model != VD_TPM_MODEL_CRB && model != VD_TPM_MODEL_TIS)) {
            g_autoptr(GError) why = NULL;
            if (!vd_domain_tpm_check_startable(def, &why)) {
                g_propagate_error(error, g_steal_pointer(&why));
                return FALSE;
            }
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: <tpm model='%s'><backend type='%s'>", driver,
                        vd_tpm_backend_to_string(tpm->backend));
            return FALSE;
        }
        const char *socket = tpm_socket(cmd, tpm, error);
        if (!socket || !vd_qemu_check_socket_path(socket, "<tpm> swtpm socket", error) ||
            !vd_qemu_cmd_need_device(cmd, driver, "<tpm>", error))
            return FALSE;

        /* The daemon connects and QEMU gets the connected socket
         * (qemu-run-fds.h): swtpm's socket is root's alone. */
        int fd = vd_qemu_cmd_request_fd(cmd, VD_QEMU_FD_CONNECT, socket);
        g_autofree char *chardev = g_strdup_printf("socket,id=chrtpm,fd=%d", fd);
        vd_qemu_cmd_opt(cmd, "-chardev", chardev);
        vd_qemu_cmd_opt(cmd, "-tpmdev", "emulator,id=tpm-tpm0,chardev=chrtpm");
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "driver", driver);
        json_object_set_string_member(o, "tpmdev", "tpm-tpm0");
        json_object_set_string_member(o, "id", "tpm0");
        vd_qemu_cmd_opt_json(cmd, "-device", o);
    }
    return TRUE;
}
