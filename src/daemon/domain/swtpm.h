/* The swtpm of a domain with <tpm><backend type='emulator'> (issue 10).
 *
 * The daemon runs one swtpm per such domain, as libvirt does, and keeps
 * its TPM's state between starts:
 *
 *   state_dir/swtpm/UUID/tpm2/ (tpm1.2/)   the TPM's state (0700); made by
 *                                          swtpm_setup on the first start
 *   state_dir/swtpm-localca/               the local CA that signs the EK
 *                                          and platform certificates (its
 *                                          config made here: nothing of
 *                                          the host's /var/lib/swtpm-localca)
 *   run_dir/domains/NAME.swtpm             swtpm's control socket (QEMU connects)
 *   run_dir/domains/NAME.swtpm-pid         swtpm's pid file
 *   log_dir/swtpm/NAME.log                 swtpm_setup's and swtpm's log
 *
 * (UUID instead of NAME where the name holds a ',' that swtpm's options
 * cannot carry, or makes the socket path too long.)
 *
 * swtpm starts before QEMU, in its own session like QEMU, so that it
 * outlives the daemon; with --terminate it ends when QEMU closes its
 * connection. The pid file is the record: a stop, a failed start and a
 * restarted daemon find swtpm through it, checked against swtpm's command
 * line (its socket path) so that a reused pid is never signalled. The
 * state stays after the domain stops and after undefine, unless undefine
 * is asked to remove it (--tpm). */
#pragma once

#include "daemon/daemon.h"

/* The directory of @uuid's TPM state (state_dir/swtpm/UUID). */
char *vd_swtpm_state_dir(const VdPaths *paths, const char *uuid);

/* Makes the TPM state on the first start (swtpm_setup) and starts swtpm
 * for the emulator TPM of @def, in a worker thread (swtpm_setup takes a
 * second or more). Nothing to do when @def has no emulator TPM. */
void vd_swtpm_start_async(VdDaemon *d, VdDomainObj *dom, const VdDomainDef *def,
                          GAsyncReadyCallback callback, gpointer user_data);
/* TRUE with *@socket_out the control socket for QEMU (NULL: no emulator
 * TPM), or FALSE: VD_ERROR_UNSUPPORTED when swtpm is not installed ("TPM
 * emulation needs swtpm: apt-get install swtpm swtpm-tools"),
 * VD_ERROR_OPERATION_FAILED with swtpm's own words otherwise. */
gboolean vd_swtpm_start_finish(GAsyncResult *result, char **socket_out, GError **error);

/* Ends @dom's swtpm if one runs (SIGTERM; it removes its socket and pid
 * file itself). Never blocks: a start that follows waits for the old one
 * to be gone, in its worker thread. */
void vd_swtpm_stop(VdDaemon *d, VdDomainObj *dom);

/* After a daemon restart, for a domain whose QEMU runs: the pid of its
 * swtpm (logged), 0 when none runs (warned if its TPM is an emulator). */
pid_t vd_swtpm_reconnect(VdDaemon *d, VdDomainObj *dom);

/* undefine --tpm: removes @dom's TPM state directory (absent is fine).
 * Refused (VD_ERROR_INVALID_STATE) while the domain is active: its swtpm
 * holds the state. */
gboolean vd_swtpm_remove_state(VdDaemon *d, VdDomainObj *dom, GError **error);
/* The refusal of vd_swtpm_remove_state(), asked before anything changes. */
gboolean vd_swtpm_can_remove_state(VdDomainObj *dom, GError **error);
