/* The slow host probes, run in the background so that the API socket
 * answers at once (issue 15: within 100 ms of the exec).
 *
 * Two probes take time at start: the KVM probe (qemu/kvm-probe.c: about
 * 1 s on a host whose KVM cannot run guest kernels) and, without a cache,
 * the QEMU capabilities probe (qemu/qemu-caps.c: a QEMU run, 0.1-0.5 s).
 * Both run in one worker thread started before the API listens, QEMU's
 * first; d->caps, d->caps_error and d->kvm stay NULL until the main
 * thread installs the worker's results.
 *
 * What needs them either waits (vd_host_ready_wait_caps for QEMU's facts
 * only, as GET /v1/version; vd_host_ready_wait for both: the main loop
 * blocks until the worker has them, at most the probes' own deadlines,
 * ~2.5 s for KVM and 20 s for a QEMU that hangs) or runs when they are in
 * (vd_host_ready_then: domain autostart). Only the requests that need
 * them in the first second after a start wait; lists, definitions,
 * networks and pools are answered meanwhile. */
#pragma once

#include "daemon/daemon.h"

typedef void (*VdHostReadyFunc)(VdDaemon *d);

/* Starts the worker. Call once, after d->paths and d->qemu_binary are set. */
void vd_host_ready_start(VdDaemon *d);
/* TRUE once d->caps/d->caps_error and d->kvm are both installed. */
gboolean vd_host_ready(VdDaemon *d);
/* Installs the worker's results, waiting for the worker if it still runs;
 * returns at once when they are in already. Main thread only. */
void vd_host_ready_wait(VdDaemon *d);
/* The same for d->caps and d->caps_error only (d->kvm may stay NULL). */
void vd_host_ready_wait_caps(VdDaemon *d);
/* Calls @fn(d) from the main loop once both results are in (in the order
 * given; at once when they are). */
void vd_host_ready_then(VdDaemon *d, VdHostReadyFunc fn);
/* Joins the worker (if any: a stop during the probes waits for them) and
 * frees its state; d->caps and d->kvm are left to main.c's free_probed. */
void vd_host_ready_free(VdDaemon *d);
