/* save / restore / managedsave: a running or paused guest's state written
 * to a file through QEMU's migration stream, and a start that reads it
 * back instead of booting.
 *
 * The daemon opens the file itself and hands QEMU the descriptor (getfd,
 * then migrate "fd:NAME"; at restore, QEMU starts with -incoming defer and
 * gets migrate-incoming "fd:NAME"), so QEMU never opens the path. The
 * file starts with the daemon's header (magic, version, the length of the
 * domain XML, whether the guest was running), then the domain's live XML,
 * then QEMU's stream (save-image-dumpxml reads the XML). Managed saves
 * live in state_dir/save/NAME.save (vd_paths_domain_managed_save); a start
 * of a domain that has one restores it and removes it once the guest
 * runs (dominfo: "Managed save: yes").
 *
 * domjobinfo / domjobabort (domain-job.h) are answered here too.
 * Owner: save/save.c, save/save-image.c, save/domain-job-query.c; API
 * api/api-domain-save.c; vsh vsh/vsh-domain-save.c. */
#pragma once

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

/* Whether @dom has a managed save image (dominfo, undefine's refusal
 * "Refusing to undefine while domain managed save image exists", list
 * --managed-save). */
gboolean vd_save_has_managed(VdDaemon *d, VdDomainObj *dom);
/* The managed save image follows a renamed domain (domrename). */
gboolean vd_save_rename_managed(VdDaemon *d, const char *old_name, const char *new_name,
                                GError **error);

void vd_save_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_save_stopped(VdDomainObj *dom);
void vd_save_obj_free(VdDomainObj *dom);
