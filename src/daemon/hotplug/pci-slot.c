/* SKELETON (helper: disk). */
#include "daemon/hotplug/pci-slot.h"
