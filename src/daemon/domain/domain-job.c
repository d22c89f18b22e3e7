/* The bookkeeping of domain-job.h. Querying QEMU for progress and
 * cancelling belong to save/domain-job-query.c. */
#include "daemon/domain/domain-job.h"

#include "daemon/domain/domain-obj.h"
#include "daemon/events/events.h"

void
vd_domain_async_job_free(VdDomainAsyncJob *job)
{
    if (!job)
        return;
    g_free(job->operation);
    g_free(job->qemu_job_id);
    g_free(job);
}

VdDomainAsyncJob *
vd_domain_async_job_begin(VdDomainObj *dom, const char *operation, VdAsyncJobKind kind,
                          const char *qemu_job_id, gboolean abortable)
{
    vd_domain_async_job_free(dom->async_job);
    VdDomainAsyncJob *job = g_new0(VdDomainAsyncJob, 1);
    job->operation = g_strdup(operation);
    job->kind = kind;
    job->qemu_job_id = g_strdup(qemu_job_id);
    job->abortable = abortable;
    job->started_us = g_get_real_time();
    dom->async_job = job;
    vd_events_domain_job(dom->name, dom->uuid, operation, TRUE, FALSE, 0);
    return job;
}

void
vd_domain_async_job_end(VdDomainObj *dom, gboolean succeeded)
{
    if (!dom->async_job || dom->async_job->ended_us)
        return;
    dom->async_job->ended_us = g_get_real_time();
    dom->async_job->succeeded = succeeded;
    vd_events_domain_job(dom->name, dom->uuid, dom->async_job->operation, FALSE, succeeded,
                         (dom->async_job->ended_us - dom->async_job->started_us) / 1000);
}

VdDomainAsyncJob *
vd_domain_async_job_current(VdDomainObj *dom)
{
    return dom->async_job && !dom->async_job->ended_us ? dom->async_job : NULL;
}
