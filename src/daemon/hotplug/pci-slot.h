/* The PCI slot a hot-plugged device goes into. SKELETON (helper: disk
 * moves the pcie-root-port search of domain-net-live.c here). */
#pragma once

#include "daemon/hotplug/hotplug.h"
