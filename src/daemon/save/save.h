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
 * A save writes to a temporary name beside FILE (".FILE.vdsave-tmp") and
 * renames it once QEMU's stream is complete and synced: a failed or
 * aborted save leaves no torn image, and the guest runs on as before.
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

typedef struct {
    gboolean running;          /* restore it running, whatever it was */
    gboolean paused;           /* restore it paused */
    guint64 max_bandwidth_mib; /* QEMU's migration speed limit, MiB/s; 0: none */
} VdSaveOptions;

/* Saves @dom to @path (NULL: its managed save image); the domain ends
 * "shut off (saved)". done() is called once. */
void vd_save_domain(VdDaemon *d, VdDomainObj *dom, const char *path, const VdSaveOptions *opts,
                    VdDomainWaitFunc done, gpointer user_data);

/* Restores the image at @path: the domain of the image's XML (@xml, if
 * not NULL, replaces it: same name and UUID) is started from it.
 * @running / @paused override the state it was saved in. @check (may be
 * NULL) judges the definition that would run, before anything starts:
 * the client's access rules (access/access.h), for an image's XML is
 * the file's word, not the client's. */
typedef gboolean (*VdSaveDefCheck)(const VdDomainDef *def, gpointer user_data, GError **error);
void vd_save_restore(VdDaemon *d, const char *path, const char *xml, gboolean running,
                     gboolean paused, VdSaveDefCheck check, VdDomainWaitFunc done,
                     gpointer user_data);

/* The start hook: when @dom has a managed save image, restore it instead
 * of booting (TRUE: done() will be called). The image is removed once the
 * guest runs; a failed restore keeps it and says how to boot afresh.
 * @force_boot (virsh start --force-boot) discards the image and boots. */
gboolean vd_save_start_managed(VdDaemon *d, VdDomainObj *dom, gboolean paused, gboolean force_boot,
                               VdDomainWaitFunc done, gpointer user_data);
/* managedsave-remove. FALSE + error if there was none (virsh prints a
 * message instead: the API says removed=false). */
gboolean vd_save_remove_managed(VdDaemon *d, VdDomainObj *dom, gboolean *removed, GError **error);
/* undefine: refused while a managed save image exists, unless @remove
 * (virsh's --managed-save), which deletes it. */
gboolean vd_save_undefine_check(VdDaemon *d, VdDomainObj *dom, gboolean remove, GError **error);

/* save-image-dumpxml: the XML in the image at @path, read in a worker
 * thread. */
void vd_save_image_xml_async(VdDaemon *d, const char *path, GAsyncReadyCallback callback,
                             gpointer user_data);
char *vd_save_image_xml_finish(GAsyncResult *res, GError **error);

/* domjobinfo: the job in flight (or, @completed, the last one ended) as
 * JSON; asks QEMU for progress. */
typedef void (*VdSaveJobInfoFunc)(VdDomainObj *dom, JsonNode *info, const GError *error,
                                  gpointer user_data);
void vd_save_job_info(VdDaemon *d, VdDomainObj *dom, gboolean completed, VdSaveJobInfoFunc done,
                      gpointer user_data);
/* domjobabort: cancels the job in flight. */
gboolean vd_save_job_abort(VdDaemon *d, VdDomainObj *dom, GError **error);

/* Daemon restart (domain-reconnect.c): @dom's QEMU answered query-status
 * (@query_status, NULL if it did not): a save the previous daemon did not
 * finish is finished (its stream was complete) or cancelled (the guest
 * runs on); a managed restore's image is removed if the guest ran from
 * it, kept if its start did not complete. */
void vd_save_reconnected(VdDaemon *d, VdDomainObj *dom, JsonNode *query_status);
/* Daemon restart, @dom's QEMU gone: the same, before its end is recorded
 * (a save whose image was renamed ends "shut off (saved)"). */
void vd_save_reconnect_dead(VdDaemon *d, VdDomainObj *dom);

void vd_save_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_save_stopped(VdDomainObj *dom);
void vd_save_obj_free(VdDomainObj *dom);
