/* The memory state of an internal snapshot, read before a revert (the
 * checks a revert makes while the running guest is still there):
 *
 * - where a qcow2 image keeps the snapshot (its table of snapshots) and
 *   the first bytes of its VM state (the clusters past the end of the
 *   disk that the snapshot's L1 table maps), read with plain reads: the
 *   running QEMU holds the image, and the snapshot's clusters are
 *   copy-on-write, so they do not change under us;
 * - the head of that state (a QEMU migration stream): the machine type
 *   (the configuration section) and the RAM blocks with their sizes (the
 *   first section, "ram");
 * - whether a command line would load it: what QEMU itself refuses with
 *   "Error -22 while loading VM state" that the head shows (another
 *   machine type, another memory size, a memory device or a NIC's ROM
 *   that the new QEMU would not have, or not in the same PCI slot).
 *
 * Devices without RAM (a disk, a controller) are only known from their
 * own sections, which cannot be read without QEMU's descriptions: a slot
 * mismatch there is found by QEMU's load alone. Unit tests:
 * tests/qemu/test-qemu-vmstate.c. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *name;              /* the tag */
    guint64 vm_state_size;   /* 0: a disk-only snapshot */
    guint64 disk_size;       /* the disk's size when it was taken */
    guint64 l1_table_offset; /* the snapshot's own L1 table */
    guint32 l1_size;
    guint cluster_bits;
} VdQcow2Snapshot;

void vd_qcow2_snapshot_free(VdQcow2Snapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdQcow2Snapshot, vd_qcow2_snapshot_free)

/* The internal snapshot @tag (its name) of the qcow2 image open on @fd;
 * NULL with VD_ERROR_OPERATION_FAILED when the image has none of that name
 * or cannot be read, VD_ERROR_UNSUPPORTED for a layout not read here
 * (external data file, extended L2 entries, compressed state). @path is for
 * the messages. */
VdQcow2Snapshot *vd_qcow2_snapshot_find(int fd, const char *path, const char *tag, GError **error);
/* The first @len bytes (fewer when the state is shorter) of @snap's VM
 * state in the image on @fd. */
GBytes *vd_qcow2_vmstate_read(int fd, const char *path, const VdQcow2Snapshot *snap, gsize len,
                              GError **error);

typedef struct {
    char *idstr;
    guint64 size;
} VdVmstateRamBlock;

typedef struct {
    char *machine;     /* NULL: the stream has no configuration section */
    GPtrArray *blocks; /* VdVmstateRamBlock; empty when the "ram" section was not read */
} VdVmstateHead;

void vd_vmstate_head_free(VdVmstateHead *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdVmstateHead, vd_vmstate_head_free)

/* The head of a migration stream @buf (its first @len bytes). Fails when
 * it is not one (no magic: the state is not readable); what it cannot
 * follow (an unknown subsection) is left out, not an error. */
VdVmstateHead *vd_vmstate_head_parse(const guint8 *buf, gsize len, GError **error);

/* Whether QEMU started with @argv (vd_qemu_build_argv with PCI
 * addresses) would take @head: FALSE with VD_ERROR_OPERATION_FAILED and
 * what differs (in the words of the definition: memory size, memory
 * device, PCI slot) otherwise. What neither side says is not refused. */
gboolean vd_vmstate_head_matches(const VdVmstateHead *head, const GPtrArray *argv, GError **error);

G_END_DECLS
