/* Where a hot-plugged PCI device goes (disks, NICs, virtio-mem).
 * SKELETON (helper: disk moves the pcie-root-port search of
 * domain/domain-net-live.c here and makes NICs use it).
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
