/* What every command that changes a domain's devices, vCPUs or memory
 * shares: virsh's --live/--config/--current/--persistent, and sending a
 * device's XML to attach, detach or update it.
 *
 * The scope, as virsh: --live the running guest, --config the persistent
 * definition, both together both, --persistent the definition and the
 * running guest if there is one, --current (also no flag at all) whichever
 * the domain has now: live when running, else config. The daemon applies
 * the same rule (vd_domain_affect()), so the query may be left empty.
 */
#pragma once

#include "vsh.h"

/* Which of a domain's states --live/--config/--current/--persistent
 * address (virsh's rules, with its "mutually exclusive" errors).
 * @need_active is set when --persistent means "also live if running":
 * vsh_affect_query() asks the domain's state and adds live itself. */
typedef struct {
    gboolean live;
    gboolean config;
    gboolean need_active;
} VshAffect;

gboolean vsh_affect_from_cmd(const VshCmd *cmd, gboolean has_persistent, VshAffect *out,
                             GError **error);
/* "?live=1&config=1", "?live=1", "?config=1" or "" (current), after
 * resolving --persistent against the domain's state (one GET). */
char *vsh_affect_query(VshCtl *ctl, const char *dom, VshAffect *affect, GError **error);

/* The options of the scope, for a command's option table. */
#define VSH_OPTS_AFFECT                                                                            \
    {"persistent", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,                                              \
     "make live change persistent (the definition, and the guest if it runs)"},                    \
        {"config", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect next boot"},                         \
        {"live", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect running domain"},                      \
    {                                                                                              \
        "current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect current domain (the default)"        \
    }
/* The same without --persistent (setvcpus, setmem ...: virsh has none). */
#define VSH_OPTS_AFFECT_NO_PERSISTENT                                                              \
    {"config", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect next boot"},                             \
        {"live", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect running domain"},                      \
    {                                                                                              \
        "current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect current domain (the default)"        \
    }

typedef enum {
    VSH_DEVICE_ATTACH, /* POST /v1/domains/D/devices */
    VSH_DEVICE_DETACH, /* POST /v1/domains/D/devices/detach */
    VSH_DEVICE_UPDATE, /* PUT  /v1/domains/D/devices */
} VshDeviceOp;

/* Sends the device element @xml for the domain of --domain, in the scope
 * of the command's --live/--config/--current/--persistent, prints the
 * answer's warnings, then @done ("Device attached successfully\n"). */
gboolean vsh_post_device(VshCtl *ctl, const VshCmd *cmd, const char *xml, VshDeviceOp op,
                         const char *done, GError **error);
/* The same with @param ("boot_disk=1", NULL: none) added to the query. */
gboolean vsh_post_device_with(VshCtl *ctl, const VshCmd *cmd, const char *xml, VshDeviceOp op,
                              const char *param, const char *done, GError **error);
