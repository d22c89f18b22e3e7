/* Where a hot-plugged PCI device goes (disks, NICs, virtio-mem).
 *
 * On a q35 machine the root complex takes no hot-plugged device: it goes
 * into a pcie-root-port ("pci.N", <controller type='pci'
 * model='pcie-root-port'>) with nothing behind it, found with QMP
 * query-pci, and reserved (dom->pci_reserved) until the attach is done,
 * so two attaches in flight never choose the same port. On pc (i440fx)
 * the device goes on pci.0 and QEMU picks the slot; @bus is NULL. */
#pragma once

#include "daemon/hotplug/hotplug.h"

/* @bus: the root port's id, reserved for the caller; NULL on pc. @error:
 * no free root port, naming the fix (add <controller type='pci'
 * model='pcie-root-port'/> and restart), or QMP's error. */
typedef void (*VdPciSlotFunc)(VdDomainObj *dom, const char *bus, const GError *error,
                              gpointer user_data);
/* @what names the device in errors ("disk 'vdb'", "the interface"). */
void vd_pci_slot_find(VdDaemon *d, VdDomainObj *dom, const char *what, VdPciSlotFunc done,
                      gpointer user_data);
/* Ends the reservation (the attach succeeded or failed); NULL is fine. */
void vd_pci_slot_release(VdDomainObj *dom, const char *bus);
/* QEMU's "no slot" error on pc, as a message naming the fix, or NULL
 * when @qemu_message is something else. */
char *vd_pci_slot_exhausted_message(const char *what, const char *qemu_message);

/* Before a disk or NIC is detached from the running @dom: the PCI slots
 * (q35: the root port "pci.N" and slot) of its virtio disks, NICs, the
 * balloon, RNGs and videos, asked of QEMU, kept in the live XML as a
 * hot-plugged device's are. A QEMU started later to load the guest's
 * state (revert, restore, incoming migration) then keeps the hole the
 * detached device left, where a fresh command line would move the
 * devices after it up one slot or port (Error -22). Not yet: sound,
 * watchdog, USB, virtio-serial and boot-time SCSI controllers. Asked
 * before device_del is sent: QMP answers in order. */
void vd_pci_slot_pin_boot_devices(VdDaemon *d, VdDomainObj *dom);

/* The PCI slot of a hot-plugged device from QEMU's answer to qom-get of its
 * "addr" (devfn): TRUE with @slot when QEMU gave one; @bus_alias ("pci.N",
 * NULL for bus 0) gives @bus. A device's slot is kept in the live XML so
 * that a QEMU loading the guest's state (revert, restore, incoming
 * migration) puts it there again. */
gboolean vd_pci_slot_from_addr(JsonNode *result, const GError *error, const char *bus_alias,
                               guint *bus, guint *slot);
