/* The memory balloon of a running guest and the memory sizes of the
 * definition: setmem, setmaxmem, dommemstat (and its --period), and the
 * live <currentMemory> kept as the balloon moves (BALLOON_CHANGE). */
#pragma once

#include "daemon/hotplug/hotplug.h"

/* setmem: <currentMemory> = @kib. Live: QMP "balloon" (the guest gives
 * the memory back through its virtio-balloon driver, the live definition
 * follows QEMU's BALLOON_CHANGE events); config: <currentMemory>. Scope
 * already resolved (vd_domain_affect). Refused above <memory> with
 * virsh's words, and live without a balloon. @done is called once. */
void vd_balloon_setmem(VdDaemon *d, VdDomainObj *dom, guint64 kib, gboolean live, gboolean config,
                       VdDomainWaitFunc done, gpointer user_data);
/* setmaxmem: <memory> = @kib in the persistent definition, lowering
 * <currentMemory> to it; a running domain's maximum cannot change (live
 * refused: memory hot-plug is the way). */
gboolean vd_balloon_setmaxmem(VdDaemon *d, VdDomainObj *dom, guint64 kib, gboolean live,
                              gboolean config, GError **error);
/* dommemstat --period: how often the guest reports its statistics, live
 * (qom-set guest-stats-polling-interval) and/or <memballoon><stats
 * period=>. */
void vd_balloon_set_period(VdDaemon *d, VdDomainObj *dom, guint period, gboolean live,
                           gboolean config, VdDomainWaitFunc done, gpointer user_data);
/* dommemstat: the lines (GArray of VdMemStat, qemu/qmp-balloon.h) of a
 * running domain, or the error. @stats is borrowed for the call. */
typedef void (*VdBalloonStatsFunc)(VdDomainObj *dom, GArray *stats, const GError *error,
                                   gpointer user_data);
void vd_balloon_stats(VdDomainObj *dom, VdBalloonStatsFunc done, gpointer user_data);

/* A QMP event of a running domain (hotplug.c hands every one). */
void vd_balloon_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
/* The domain's QEMU ended: fail what waits on the guest, drop run-time state. */
void vd_balloon_stopped(VdDomainObj *dom);
/* The domain object is being freed. */
void vd_balloon_obj_free(VdDomainObj *dom);
