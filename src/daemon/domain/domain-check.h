/* The compatibility report of a domain definition (vsh domcheck): what a
 * start would run as written, what it would adjust (with the reason) and
 * what would refuse it, without starting anything.
 *
 * It runs the start's own checks, in the start's order, but goes on after
 * a failure so that the user sees every blocker at once: each element
 * still unsupported (vd_domain_def_check_startable, one per element), the
 * host (QEMU usable, KVM for type='kvm'), pool volumes, the files the
 * definition names (domain-files.h, in a worker thread, as start), the
 * networks and bridges its interfaces plug into, and the argv builder
 * with the daemon's capabilities and descriptors it pretends to have. */
#pragma once

#include <gio/gio.h>

#include "conf/domain-def.h"
#include "daemon/daemon.h"

typedef struct {
    GPtrArray *runs;     /* char*: what runs as written (machine, vcpus, memory, devices) */
    GPtrArray *adjusted; /* char*: what the builder changes and define ignores, with why */
    GPtrArray *blocks;   /* char*: every error a start would meet; empty: it would start */
} VdDomainCheck;

void vd_domain_check_free(VdDomainCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdDomainCheck, vd_domain_check_free)

/* Checks @def (taken: a parsed, validated definition). Never fails: what
 * would fail a start is in ->blocks. */
void vd_domain_check_async(VdDaemon *d, VdDomainDef *def, GAsyncReadyCallback callback,
                           gpointer user_data);
VdDomainCheck *vd_domain_check_finish(GAsyncResult *result);
