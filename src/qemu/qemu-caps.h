/* What the installed QEMU binary can do, probed once and cached. */
#pragma once

#include <glib.h>

typedef struct {
    char *binary;              /* absolute path */
    char *version;             /* "7.2.19" */
    guint version_major, version_minor, version_micro;
    GPtrArray *machines;       /* char*: every machine type and alias: pc, q35, pc-q35-7.2, microvm ... */
    char *default_machine;     /* the alias QEMU marks default ("pc") */
    GHashTable *devices;       /* set of device driver names (virtio-blk-pci, isa-serial ...) */
    gboolean has_kvm_accel;    /* QEMU was built with KVM support (says nothing about the host) */
    gboolean has_tcg_accel;
    GHashTable *cpu_models;    /* set of -cpu model names and aliases (query-cpu-definitions);
                                * empty: not probed (a cache of an older format), trust */
} VdQemuCaps;

/* Empty caps (machines and devices allocated, nothing in them): for
 * callers that build caps by hand, such as tests. */
VdQemuCaps *vd_qemu_caps_new(void);
void vd_qemu_caps_free(VdQemuCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdQemuCaps, vd_qemu_caps_free)

/* Returns the capabilities of @binary, from @cache_dir when the cached
 * copy matches the binary (path, size, mtime, ctime), else by running the
 * binary (`-machine none -qmp stdio`, query-version, query-machines,
 * qom-list-types) and caching the result as JSON. Blocking: call it from a
 * worker thread or at start-up (at most 20 s: a binary that does not
 * answer fails with VD_ERROR_TIMEOUT). @binary may be a name looked up in
 * PATH; @cache_dir may be NULL (no cache). */
VdQemuCaps *vd_qemu_caps_get(const char *binary, const char *cache_dir, GError **error);
/* The same with another deadline than 20 s for running the binary. */
VdQemuCaps *vd_qemu_caps_get_with_timeout(const char *binary, const char *cache_dir,
                                          guint timeout_ms, GError **error);

gboolean vd_qemu_caps_has_machine(const VdQemuCaps *caps, const char *machine);
gboolean vd_qemu_caps_has_device(const VdQemuCaps *caps, const char *driver);
/* Whether -cpu @model exists in this QEMU ("host" needs @kvm); else
 * VD_ERROR_UNSUPPORTED naming the models that share its family prefix. */
gboolean vd_qemu_caps_check_cpu_model(const VdQemuCaps *caps, const char *model, gboolean kvm,
                                      GError **error);

/* The default emulator: $VIRTD_QEMU if set, else qemu-system-x86_64 in
 * PATH; NULL when there is none. */
char *vd_qemu_default_binary(void);
