/* The long operation in flight on a domain, as `vsh domjobinfo` reports it
 * and `vsh domjobabort` cancels it (libvirt's "async job"): a save, a
 * managed save, a restore, a snapshot, later a migration.
 *
 * dom->job (domain-state.h) says what else may run meanwhile; this says
 * how far the operation is and how to stop it. The operation that sets
 * dom->job = VD_JOB_SAVE / VD_JOB_SNAPSHOT calls vd_domain_async_job_begin()
 * at the same time and vd_domain_async_job_end() when it is over (success
 * or not); the last one ended stays as the "completed" job
 * (domjobinfo --completed) until the next one begins.
 *
 * Progress comes from QEMU, asked when a client asks: a migration stream
 * (save, managedsave, later migrate) from query-migrate, cancelled with
 * migrate_cancel; a QEMU job (snapshot-save/-load/-delete, block jobs)
 * from query-jobs by its id, cancelled with job-cancel. Owner of the
 * query/abort code and of the API and vsh commands: save/
 * (save/domain-job-query.c, api/api-domain-save.c, vsh/vsh-domain-save.c). */
#pragma once

#include <glib.h>

typedef struct _VdDomainObj VdDomainObj;

typedef enum {
    VD_ASYNC_JOB_MIGRATION, /* QEMU's migration stream: query-migrate, migrate_cancel */
    VD_ASYNC_JOB_QEMU_JOB,  /* a QEMU job: query-jobs (by id), job-cancel */
    VD_ASYNC_JOB_DAEMON,    /* the daemon's own work (e.g. qemu-img): no QEMU progress */
} VdAsyncJobKind;

typedef struct {
    char *operation;      /* virsh's "Operation:" word: "Save", "Restore", "Snapshot",
                           * "Snapshot revert", "Snapshot delete" */
    VdAsyncJobKind kind;
    char *qemu_job_id;    /* VD_ASYNC_JOB_QEMU_JOB: the job's id */
    gboolean abortable;   /* domjobabort may cancel it */
    gboolean abort_requested;
    gint64 started_us;    /* g_get_real_time() at begin */
    gint64 ended_us;      /* 0 while it runs */
    gboolean succeeded;   /* when ended */
    /* Figures kept at the end for --completed (filled by the owner of the
     * query code when it can, from the last query-migrate); 0 = unknown. */
    guint64 data_total;
    guint64 data_processed;
    guint64 data_remaining;
    guint64 mem_total;
    guint64 mem_processed;
    guint64 mem_remaining;
    guint64 downtime_ms;
} VdDomainAsyncJob;

/* Starts recording @operation on @dom (the previous completed job is
 * dropped). @qemu_job_id: NULL unless @kind is VD_ASYNC_JOB_QEMU_JOB. */
VdDomainAsyncJob *vd_domain_async_job_begin(VdDomainObj *dom, const char *operation,
                                            VdAsyncJobKind kind, const char *qemu_job_id,
                                            gboolean abortable);
/* It is over: kept as the completed job. */
void vd_domain_async_job_end(VdDomainObj *dom, gboolean succeeded);
/* The job in flight, NULL when none (an ended one is not "in flight"). */
VdDomainAsyncJob *vd_domain_async_job_current(VdDomainObj *dom);
void vd_domain_async_job_free(VdDomainAsyncJob *job);
