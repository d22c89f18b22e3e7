/* Domain objects and the registry of all of them.
 *
 * A VdDomainObj is one domain the daemon knows: its persistent definition
 * (if any), its live definition while QEMU runs, its state, and the
 * handles to its QEMU (pid, QMP, console). The registry looks domains up
 * by name, UUID or id and owns their persistence: definitions and the
 * autostart links in the config dir, the status file of each running
 * domain in the run dir. All of it runs in the main loop only.
 */
#pragma once

#include <sys/types.h>

#include "conf/domain-def.h"
#include "daemon/domain/domain-job.h"
#include "daemon/domain/domain-state.h"
#include "daemon/paths.h"
#include "daemon/domain/start-phase.h"
#include "qemu/qmp.h"

typedef struct _VdConsole VdConsole;
typedef struct _VdDomainObj VdDomainObj;

/* Something waiting for the domain to reach a state (e.g. destroy waits
 * for QEMU to be gone). Called exactly once. */
typedef void (*VdDomainWaitFunc)(VdDomainObj *dom, const GError *error, gpointer user_data);

struct _VdDomainObj {
    int refcount;
    char *name;              /* the registry's key; never changes */
    char uuid[37];
    char *title;             /* of the persistent definition, for list --title */
    /* The persistent definition (or the transient one). An inactive
     * persistent domain keeps it only as XML text (def_xml) and parses it
     * when asked (vd_domain_obj_def): a host with a thousand defined
     * domains should not hold a thousand parsed documents. Access it
     * through vd_domain_obj_def() only. */
    VdDomainDef *def;
    const char *def_xml;     /* in the registry's text store */
    VdDomainDef *live;       /* while active: what QEMU was started with, plus run-time facts */
    gboolean persistent;
    gboolean autostart;

    VdState state;
    VdStateReason reason;
    int id;                  /* -1 when inactive */
    pid_t pid;               /* QEMU, 0 when inactive */
    VdQmp *qmp;              /* its callbacks get the object without a reference: it is
                              * owned here, and freed with the object or (after QEMU's end)
                              * from an idle callback that holds one */
    VdConsole *console;
    gint64 started_at;       /* monotonic us */

    /* What the daemon asked for, so that QEMU's exit can be told apart
     * from a crash. */
    VdStateReason stop_reason;     /* VD_REASON_UNKNOWN when nobody asked */
    VdJob job;                     /* what is in flight (domain-state.h); see vd_domain_obj_check */
    VdStartPhase start_phase;      /* of the start in flight, as the status file says */
    gboolean reconnecting;         /* re-attaching after a daemon restart */
    gboolean fake_reboot;          /* reboot: the next guest power-off becomes a reset */
    int internal_transition;       /* > 0: STOP/RESUME events are our own doing */
    gpointer start_op;             /* the pending start (domain-start.c) */
    GSList *net_detaches;          /* live detaches waiting for DEVICE_DELETED (domain-net-live.c) */
    GSList *net_attaching;         /* live attaches in flight: their aliases are taken */
    guint exit_poll;               /* waiting for the QEMU pid to disappear (holds a ref) */
    guint exit_polls;
    gpointer daemon;               /* VdDaemon*, for QMP callbacks */
    guint kill_timer;              /* SIGKILL after the grace period (holds a ref) */
    GSList *stop_waiters;          /* VdDomainWaiter*: called when inactive */
    gpointer agent;                /* guest-agent.c: the agent call in flight and those
                                    * queued behind it (each holds a ref); NULL when none */
    /* Live changes (daemon/hotplug/, issue 11): each file's own state,
     * a struct private to it, made when first needed and freed by its
     * _obj_free hook (hotplug.h); NULL when it has none. */
    gpointer hp_disk;              /* disk-live.c */
    gpointer hp_vcpu;              /* vcpu-live.c */
    gpointer hp_balloon;           /* balloon.c */
    gpointer hp_memdev;            /* memdev-live.c */
    gpointer hp_stats;             /* stats/domain-stats.c */
    /* Issue 12: each subsystem's own state, private to it, freed by its
     * _obj_free hook (called from vd_hotplug_obj_free); NULL when none. */
    gpointer snapshots;            /* snapshot/snapshot.c: the loaded metadata */
    gpointer snapshot_live;        /* snapshot/snapshot-live.c: the QEMU job in flight */
    gpointer save_op;              /* save/save.c: the save in flight */
    gpointer blockjobs;            /* blockjob/blockjob.c: block jobs per disk */
    gpointer migration;            /* migration/: the migration in flight (VdMigration,
                                    * migration-priv.h), source or destination side */
    VdDomainAsyncJob *async_job;   /* domain-job.h: the long operation in flight, or the
                                    * last one completed (domjobinfo --completed) */
    GSList *pci_reserved;          /* char*: the q35 root ports that attaches in flight
                                    * chose (hotplug/pci-slot.c) */
    gpointer cgroup;               /* VdCgroup* (util/vd-cgroup.h) while QEMU runs in its
                                    * cgroup (domain-cgroup.c); NULL when none */
    GPtrArray *start_notes;        /* char*: what the argv builder adjusted at the last
                                    * start, with the reasons (vd_qemu_build_argv_notes);
                                    * the start's answer gives them as warnings */
};

VdDomainObj *vd_domain_obj_ref(VdDomainObj *dom);
void vd_domain_obj_unref(VdDomainObj *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdDomainObj, vd_domain_obj_unref)

/* The persistent (or transient) definition, parsed from def_xml if it
 * was compacted away. Borrowed: valid until the main loop runs again. */
VdDomainDef *vd_domain_obj_def(VdDomainObj *dom);
/* The definition to show: live when active, else persistent. */
const VdDomainDef *vd_domain_obj_current_def(VdDomainObj *dom);
void vd_domain_obj_set_state(VdDomainObj *dom, VdState state, VdStateReason reason);
/* Whether @op may run now: the job in flight, then the state (the one
 * rule, vd_state_check() in domain-state.c). Every handler that acts on
 * a domain calls this first. */
gboolean vd_domain_obj_check(VdDomainObj *dom, VdOp op, GError **error);
/* Calls back when the domain becomes inactive with no start in flight
 * (immediately if it is). */
void vd_domain_obj_wait_inactive(VdDomainObj *dom, VdDomainWaitFunc func, gpointer user_data);
/* Fails every waiter with @error or completes them (error NULL). */
void vd_domain_obj_complete_waiters(VdDomainObj *dom, const GError *error);

typedef struct _VdDomainList VdDomainList;

VdDomainList *vd_domain_list_new(const VdPaths *paths);
void vd_domain_list_free(VdDomainList *list);

/* @key: numeric id of a running domain, else UUID, else name, in that
 * order (virsh's, see vd_key_as_id()): a domain named "1" or named like another's UUID is
 * reached by its UUID while the key means something else. NULL + error
 * VD_ERROR_NO_DOMAIN ("Domain not found: no domain with matching name 'x'").
 * The one place where the API resolves a domain argument. */
VdDomainObj *vd_domain_list_lookup(VdDomainList *list, const char *key, GError **error);
VdDomainObj *vd_domain_list_find_name(VdDomainList *list, const char *name);
VdDomainObj *vd_domain_list_find_uuid(VdDomainList *list, const char *uuid);
/* A snapshot of all objects (caller frees the array; objects are ref'd). */
GPtrArray *vd_domain_list_all(VdDomainList *list);

/* Adds (define) or replaces the persistent definition. Rejects another
 * domain with the same name or UUID (VD_ERROR_EXISTS), writes the file
 * atomically, then updates memory. Returns the object (borrowed). */
VdDomainObj *vd_domain_list_define(VdDomainList *list, VdDomainDef *def, GError **error);
/* A transient domain (create): registered in memory only; never written
 * to the config dir. */
VdDomainObj *vd_domain_list_add_transient(VdDomainList *list, VdDomainDef *def, GError **error);
/* Removes the persistent definition and autostart link. An active domain
 * stays, as transient. */
gboolean vd_domain_list_undefine(VdDomainList *list, VdDomainObj *dom, GError **error);
/* Drops an inactive transient (or removed) domain from the registry,
 * unless a job is in flight (a start still makes it active): the registry
 * holds every domain a callback or a QEMU can still reach. */
void vd_domain_list_forget_if_gone(VdDomainList *list, VdDomainObj *dom);
/* domrename of an inactive persistent domain: the definition file (new
 * one written atomically, then the old removed), the autostart link, the
 * default UEFI store and the logs follow; the object is re-keyed. */
gboolean vd_domain_list_rename(VdDomainList *list, VdDomainObj *dom, const char *new_name,
                               GError **error);
gboolean vd_domain_list_set_autostart(VdDomainList *list, VdDomainObj *dom, gboolean on,
                                      GError **error);

/* Allocates the next domain id. */
int vd_domain_list_next_id(VdDomainList *list);

/* Loads persistent definitions from the config dir. Files that fail to
 * parse are reported in the log and skipped, never deleted. */
void vd_domain_list_load_config(VdDomainList *list);

/* The status file (run dir) of an active domain: pid, id, state, live XML,
 * and the phase of an unfinished start. */
gboolean vd_domain_status_save(VdDomainList *list, VdDomainObj *dom, GError **error);
void vd_domain_status_remove(VdDomainList *list, VdDomainObj *dom);
/* Reads every status file into objects (creating transient ones when
 * there is no persistent definition). Returns the objects that claim to
 * be active; the caller (qemu-process) checks whether their QEMU lives. */
GPtrArray *vd_domain_list_load_status(VdDomainList *list);

const VdPaths *vd_domain_list_paths(VdDomainList *list);
