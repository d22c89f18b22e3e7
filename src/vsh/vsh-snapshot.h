/* Shared by vsh-snapshot.c and vsh-snapshot-list.c. */
#pragma once

#include <json-glib/json-glib.h>

#include "vsh.h"

/* "/snapshots/SNAP" + @suffix, SNAP percent-encoded (a domain path suffix). */
char *vsh_snapshot_path(const char *snap, const char *suffix);
/* GET /v1/domains/D/snapshots: {"snapshots": [...], "current": N|null}. */
JsonNode *vsh_snapshot_all(VshCtl *ctl, const char *dom, GError **error);
/* The snapshot named by --snapshotname, or the current one with --current. */
char *vsh_snapshot_pick(VshCtl *ctl, const VshCmd *cmd, const char *dom, GError **error);

gboolean vsh_cmd_snapshot_list(VshCtl *ctl, const VshCmd *cmd, GError **error);
gboolean vsh_cmd_snapshot_info(VshCtl *ctl, const VshCmd *cmd, GError **error);
gboolean vsh_cmd_snapshot_dumpxml(VshCtl *ctl, const VshCmd *cmd, GError **error);
gboolean vsh_cmd_snapshot_parent(VshCtl *ctl, const VshCmd *cmd, GError **error);
extern const VshOptDef vsh_snapshot_list_opts[];
extern const VshOptDef vsh_snapshot_info_opts[];
extern const VshOptDef vsh_snapshot_dumpxml_opts[];
extern const VshOptDef vsh_snapshot_parent_opts[];

#define VSH_SNAPSHOT_LIST_COMMANDS                                                                 \
    {"snapshot-list", "snapshot", vsh_snapshot_list_opts, vsh_cmd_snapshot_list,                   \
     "List snapshots for a domain", NULL},                                                         \
        {"snapshot-info", "snapshot", vsh_snapshot_info_opts, vsh_cmd_snapshot_info,               \
         "snapshot information", NULL},                                                            \
        {"snapshot-dumpxml", "snapshot", vsh_snapshot_dumpxml_opts, vsh_cmd_snapshot_dumpxml,      \
         "Dump XML for a domain snapshot", NULL},                                                  \
    {                                                                                              \
        "snapshot-parent", "snapshot", vsh_snapshot_parent_opts, vsh_cmd_snapshot_parent,          \
            "Get the name of the parent of a snapshot", NULL                                       \
    }
