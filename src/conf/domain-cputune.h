/* The domain model's <cputune>: <vcpupin vcpu= cpuset=> and
 * <emulatorpin cpuset=> (issue 11: vcpupin, emulatorpin).
 *
 * Typed and formatted (vcpupin --config changes it); the rest of
 * <cputune> (shares, period, quota ...) stays in the document as written
 * and is still reported as ignored (domain-unsupported.c). The cpusets
 * are host CPU lists ("0-3,^2,6"), kept normalized ("0-1,3,6"). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

/* The largest host CPU number a cpuset may name (libvirt's bitmap limit). */
#define VD_CPUSET_MAX 4096

typedef struct {
    guint vcpu;
    char *cpuset; /* normalized */
} VdVcpuPin;

struct _VdCputuneDef {
    GArray *vcpupins;  /* of VdVcpuPin, sorted by vcpu, one per vCPU */
    char *emulatorpin; /* normalized cpuset, NULL when none */
};

VdCputuneDef *vd_cputune_def_new(void);
void vd_cputune_def_free(VdCputuneDef *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdCputuneDef, vd_cputune_def_free)
VdCputuneDef *vd_cputune_def_copy(const VdCputuneDef *x);
/* Called by vd_domain_def_parse after the devices. */
gboolean vd_domain_cputune_parse(VdDomainDef *def, const xmlNode *root, GError **error);
/* Called by vd_domain_def_to_doc. */
void vd_domain_cputune_format(const VdDomainDef *def, xmlNode *root);

/* "0-3,^2,6" -> the host CPU numbers (sorted, unique) as a GArray of
 * guint; NULL + VD_ERROR_INVALID_ARG naming @where when malformed, empty
 * or a number is above VD_CPUSET_MAX. */
GArray *vd_cpuset_parse(const char *text, const char *where, GError **error);
/* The set as a normalized list: "0-1,3,6". */
char *vd_cpuset_format(const GArray *set);
/* vd_cpuset_parse, then every CPU below @host_cpus, else virsh's
 * "Physical CPU N doesn't exist." with the host's range. Returns the
 * normalized list. */
char *vd_cpuset_check_host(const char *text, guint host_cpus, GError **error);

/* The pin of vCPU @vcpu, or NULL. */
const char *vd_cputune_vcpupin(const VdCputuneDef *x, guint vcpu);
/* Sets (@cpuset non-NULL, normalized) or removes the pin of @vcpu. */
void vd_cputune_set_vcpupin(VdCputuneDef *x, guint vcpu, const char *cpuset);
void vd_cputune_set_emulatorpin(VdCputuneDef *x, const char *cpuset);
/* Drops the pins of vCPUs at or above @max (setvcpus --maximum lowering
 * the maximum). */
void vd_cputune_trim(VdCputuneDef *x, guint max);

G_END_DECLS
