/* libvirt's domainsnapshot XML (formatdomainsnapshot): the model, its parse
 * and format, and the checks that need no I/O. Pure, tested with golden
 * files (tests/data/snapshot/).
 *
 *   <domainsnapshot>
 *     <name>before-upgrade</name>            (generated from the time if absent)
 *     <description>...</description>
 *     <state>running</state>                 (the domain's state when taken; disk-snapshot
 *                                             for a disk-only one; set by the daemon)
 *     <parent><name>base</name></parent>     (set by the daemon)
 *     <creationTime>1700000000</creationTime> (set by the daemon)
 *     <memory snapshot='no|internal|external' file='/path'/>
 *     <disks>
 *       <disk name='vda' snapshot='no|internal|external'>
 *         <driver type='qcow2'/>
 *         <source file='/var/lib/virtd/images/web1.snap1'/>
 *       </disk>
 *     </disks>
 *     <domain>...</domain>                   (the domain's definition when taken; set by
 *                                             the daemon, what revert brings back)
 *     <inactiveDomain>...</inactiveDomain>   (a running domain's persistent definition when
 *                                             taken, when it differs from <domain>: what
 *                                             revert makes the persistent one again;
 *                                             libvirt 7.x+ writes it the same way)
 *   </domainsnapshot>
 *
 * A user's snapshot-create XML gives name, description, memory and disks;
 * the daemon fills in the rest and completes the disk list from the domain
 * (vd_snapshot_def_align). Owner: conf/snapshot-def.c. */
#pragma once

#include <glib.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

typedef enum {
    VD_SNAPSHOT_LOC_DEFAULT,  /* not said: the daemon decides (vd_snapshot_def_align) */
    VD_SNAPSHOT_LOC_NO,
    VD_SNAPSHOT_LOC_INTERNAL, /* inside the qcow2 image (qemu-img snapshot, QEMU snapshot-save) */
    VD_SNAPSHOT_LOC_EXTERNAL, /* a new qcow2 overlay (disks) or a file (memory) */
} VdSnapshotLocation;

typedef struct {
    char *name;                  /* the disk's target ("vda") as the user wrote it, or its source */
    VdSnapshotLocation snapshot; /* after align: NO, INTERNAL or EXTERNAL */
    char *driver_type;           /* external: the overlay's format ("qcow2"); NULL default */
    char *source_file;           /* external: the overlay's path (align makes one when absent:
                                  * the image's path with its extension replaced by ".SNAPNAME") */
} VdSnapshotDiskDef;

typedef struct {
    char *name;
    char *description;
    char *state;                 /* "running", "paused", "shutoff", "disk-snapshot"; NULL in input */
    char *parent;                /* the parent snapshot's name; NULL: a root */
    gint64 creation_time;        /* seconds since 1970; 0 in input */
    VdSnapshotLocation memory;   /* after align: NO or INTERNAL (EXTERNAL refused for now) */
    char *memory_file;           /* <memory snapshot='external' file=> */
    GPtrArray *disks;            /* VdSnapshotDiskDef* */
    char *domain_xml;            /* the <domain> element as text (the definition when taken);
                                  * NULL in input */
    char *inactive_xml;          /* <inactiveDomain> as a <domain> element's text (the
                                  * persistent definition of a running domain when taken);
                                  * NULL: none, or the same as <domain> made inactive */
} VdSnapshotDef;

VdSnapshotDef *vd_snapshot_def_new(void);
void vd_snapshot_def_free(VdSnapshotDef *def);
VdSnapshotDef *vd_snapshot_def_copy(const VdSnapshotDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdSnapshotDef, vd_snapshot_def_free)

const char *vd_snapshot_location_to_string(VdSnapshotLocation loc);

/* Parses <domainsnapshot>. @internal: the daemon's own metadata file
 * (state, parent, creationTime and <domain> are read); otherwise a user's
 * input, where they are ignored as libvirt does. Errors: VD_ERROR_XML
 * naming the element. */
VdSnapshotDef *vd_snapshot_def_parse(const char *xml, gboolean internal, GError **error);
/* The snapshot's XML (snapshot-dumpxml shape; with <domain> when known). */
char *vd_snapshot_def_format(const VdSnapshotDef *def);

/* Completes a snapshot to take of @dom_def: one entry per disk of the
 * domain (disks not named get the default: INTERNAL for a qcow2 disk when
 * memory or disks are internal, EXTERNAL for all with @disk_only, NO for
 * cdroms and readonly disks), overlay names for external disks, memory
 * INTERNAL for a running domain unless @disk_only. Refuses, with the reason
 * and the fix: a disk named twice or unknown, an internal snapshot of a
 * non-qcow2 disk ("internal snapshot of disk 'vda' needs a qcow2 image, its
 * image is raw: convert it with 'qemu-img convert -O qcow2', or take an
 * external snapshot with --disk-only"), a mix of internal and external,
 * an external memory file. @running: the domain is active. */
gboolean vd_snapshot_def_align(VdSnapshotDef *def, const VdDomainDef *dom_def, gboolean disk_only,
                               gboolean running, GError **error);

G_END_DECLS
