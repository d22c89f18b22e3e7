/* SPICE displays at start: the port of an autoport display.
 *
 * QEMU's SPICE server has no port range to pick from (VNC's "to="), and
 * port=0 means "no plain port" to it. So the daemon picks the port, as
 * libvirt does: the first from 5900 up that no running domain's display
 * holds and that can be bound now on every address. The port goes into
 * the live definition (the argv reads it; live XML and domdisplay show
 * it), and query-spice after the spawn reads back what QEMU serves.
 *
 * What stays racy: another program (or a VNC autoport QEMU of another
 * domain, which scans 5900-5999 by itself) may take the port between the
 * check and QEMU's bind; that start then fails with QEMU's "Failed to
 * reserve port" and can simply be retried. */
#pragma once

#include "conf/domain-def.h"
#include "daemon/daemon.h"

/* Sets the port of every autoport SPICE display of @live (the definition
 * of @dom about to start). VD_ERROR_OPERATION_FAILED when no port is free. */
gboolean vd_domain_spice_pick_ports(VdDaemon *d, VdDomainObj *dom, VdDomainDef *live,
                                    GError **error);
