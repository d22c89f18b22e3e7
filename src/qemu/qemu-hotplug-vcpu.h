/* The QMP arguments of vCPU hot-plug and hot-unplug (issue 11): pure
 * functions of QEMU's answers, no I/O, so that the unit tests compare
 * them with golden files (tests/qemu/test-hotplug-vcpu.c).
 *
 * QEMU's model: query-hotpluggable-cpus lists every possible CPU of the
 * machine (-smp N,maxcpus=M), each with its "props" (socket-id, die-id,
 * core-id, thread-id ...), its "type" (the device to add) and, when
 * present, its "qom-path". Hot-plug is device_add of that type with those
 * props; hot-unplug is device_del of the qom-path (QEMU accepts a QOM path
 * where it takes an id, which also covers the CPUs -smp created at boot),
 * finished when the guest has ejected the CPU (DEVICE_DELETED). The vCPU
 * number N of virsh is a slot's place in topology order (QEMU's
 * cpu-index). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
    guint index;    /* the vCPU number: place in topology order */
    char *type;     /* "qemu64-x86_64-cpu" */
    char *qom_path; /* NULL when the slot is free */
    JsonObject *props;
} VdQemuVcpuSlot;

void vd_qemu_vcpu_slot_free(VdQemuVcpuSlot *slot);

/* The slots of query-hotpluggable-cpus' answer @result in topology order
 * (socket, die, cluster, core, thread): a GPtrArray of VdQemuVcpuSlot.
 * NULL + VD_ERROR_OPERATION_FAILED when the answer has not that shape. */
GPtrArray *vd_qemu_vcpu_slots(JsonNode *result, GError **error);
/* How many slots hold a CPU. */
guint vd_qemu_vcpu_slots_present(const GPtrArray *slots);

/* device_add's arguments for @slot: {"driver": type, "id": "vcpuN",
 * props...}. */
JsonObject *vd_qemu_vcpu_add_args(const VdQemuVcpuSlot *slot);
/* device_del's arguments for @slot: {"id": qom-path}. */
JsonObject *vd_qemu_vcpu_del_args(const VdQemuVcpuSlot *slot);

/* The commands that take the machine from its present CPUs to @target:
 * device_add into the lowest free slots, or device_del of the highest
 * present ones, as an array of {"execute": ..., "arguments": ...} (empty
 * when nothing changes). NULL + VD_ERROR_INVALID_ARG when @target is 0 or
 * above the slots (virsh's "requested vcpus is greater than max allowable
 * vcpus for the live domain: T > M" and how to raise the maximum). */
JsonArray *vd_qemu_vcpu_plan(const GPtrArray *slots, guint target, GError **error);

G_END_DECLS
