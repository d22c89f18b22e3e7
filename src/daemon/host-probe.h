/* Host facts the daemon needs once: the KVM probe, cached per host boot. */
#pragma once

#include "daemon/paths.h"
#include "qemu/kvm-probe.h"

/* Runs qemu/kvm-probe.c, or reads its result from the cache when it was
 * taken since the host booted (the host's KVM cannot change in between). */
VdKvmProbe *vd_host_kvm_probe(const VdPaths *paths);
