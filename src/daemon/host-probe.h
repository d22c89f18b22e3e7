/* Host facts the daemon needs once: the KVM probe, cached per host boot. */
#pragma once

#include "daemon/paths.h"
#include "qemu/kvm-probe.h"
#include "qemu/qemu-command.h"

/* Runs qemu/kvm-probe.c, or reads its result from the cache when it was
 * taken since the host booted (the host's KVM cannot change in between). */
VdKvmProbe *vd_host_kvm_probe(const VdPaths *paths);

/* What this host gives guests beyond QEMU (qemu-command.h's VdHostFacts),
 * probed once at daemon start (issue 10): the argv builder refuses what
 * needs a missing piece, naming it. @facts points into this struct. */
typedef struct _VdHostInfo {
    VdHostFacts facts;
    char *swtpm;             /* facts.swtpm */
    GStrv smbios;            /* facts.smbios_host: "section.name", value, ... */
} VdHostInfo;

/* Reads /dev, /sys and PATH under @root ("/" or NULL on a real host; a
 * directory of fake files in tests: the daemon takes $VIRTD_HOST_ROOT,
 * for tests only). Never fails: what cannot be read is absent. */
VdHostInfo *vd_host_info_probe(const char *root);
void vd_host_info_free(VdHostInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdHostInfo, vd_host_info_free)

/* Opens /dev/vhost-vsock (under @root) for one guest and gives it a
 * context id: @cid, or with @cid 0 the first free one from 3 up (as
 * libvirt's <cid auto='yes'>). The kernel keeps the CID taken while the
 * descriptor is open, i.e. for QEMU's lifetime. Returns the descriptor
 * (close-on-exec) and the CID in @out_cid, or -1 with VD_ERROR_UNSUPPORTED
 * (no device: the module is not loaded) or VD_ERROR_OPERATION_FAILED
 * (the CID is another guest's). */
int vd_host_vsock_open(const char *root, guint cid, guint *out_cid, GError **error);
