/* Builds the QEMU command line for a domain.
 *
 * -device, -blockdev, -object and -netdev are built as typed JSON
 * (json-glib), so no value a user wrote can inject an option. The few
 * options QEMU 7.2 only takes in key=value form (-chardev, -vnc, -name,
 * -machine) get every user-supplied value escaped (',' doubled) or are
 * built only from validated values. The output is deterministic, so tests
 * compare it with golden files. */
#pragma once

#include <glib.h>

#include "conf/domain-def.h"
#include "qemu/qemu-caps.h"

/* Where the per-domain run-time files live. The daemon fills this in. */
typedef struct {
    const char *qmp_socket_path;     /* QEMU listens here (server=on,wait=off) */
    const char *console_socket_path; /* unix socket QEMU listens on for serial0 (pty serials) */
    const char *console_log_path;    /* chardev logfile of serial0: everything the guest printed */
    const char *pid_path;            /* -pidfile */
    const char *guest_agent_dir;     /* where unix channels without a path go */
    gboolean start_paused;           /* always -S; the daemon sends "cont" */
    const char *accel;               /* "tcg" or "kvm" */
} VdQemuRunPaths;

/* argv[0] is the emulator. Fails with VD_ERROR_UNSUPPORTED when the
 * definition asks for something this QEMU (caps) lacks, naming it. */
GPtrArray *vd_qemu_build_argv(const VdDomainDef *def, const VdQemuCaps *caps,
                              const VdQemuRunPaths *paths, GError **error);

/* Quotes an argv for logs and golden files: one argument per line. */
char *vd_qemu_argv_to_string(const GPtrArray *argv);
