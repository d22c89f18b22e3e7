/* A UEFI domain's firmware and variable store, made ready before its QEMU
 * starts.
 *
 * For <os firmware='efi'> without a <loader>, the firmware is selected
 * from QEMU's firmware descriptors (qemu/firmware-select.h) and put into
 * the live definition, as libvirt does: the live XML names the loader,
 * its template and the nvram. Every UEFI domain with a read-only pflash
 * loader gets its own variable store: <nvram> as written, or
 * lib/nvram/NAME_VARS.fd (libvirt's naming), created from the template
 * (<nvram template=>, the descriptor's, the descriptor whose executable is
 * the <loader>, or the loader's _VARS sibling) only when it does not
 * exist: what the guest stored survives restarts. `undefine --nvram`
 * removes it, `--keep-nvram` keeps it; plain undefine refuses while it
 * exists (libvirt's rule).
 *
 * Descriptors are read and the template copied in a worker thread.
 */
#pragma once

#include <gio/gio.h>

#include "daemon/daemon.h"

/* Whether a start of @def needs vd_domain_nvram_prepare_async(). */
gboolean vd_domain_nvram_needed(const VdDomainDef *def);

/* The variable store of @def (the persistent or live definition of domain
 * @def->name): <nvram> or the daemon's lib/nvram/NAME_VARS.fd; NULL when
 * the domain has none (BIOS, ROM, stateless, writable pflash). */
char *vd_domain_nvram_path(VdDaemon *d, const VdDomainDef *def);

/* Takes @live (the start's copy of the definition); the result is the
 * definition to start, firmware and nvram filled in. Errors name what is
 * missing and how to get it: no descriptor ("install ovmf"), none that
 * fits (and why each does not), secure boot off q35, no template, a copy
 * that failed. */
void vd_domain_nvram_prepare_async(VdDaemon *d, VdDomainDef *live, GAsyncReadyCallback callback,
                                   gpointer user_data);
VdDomainDef *vd_domain_nvram_prepare_finish(GAsyncResult *result, GError **error);
/* The same without writing anything (vsh domcheck): the firmware is
 * selected and the template found, the store is not created. Finish with
 * vd_domain_nvram_prepare_finish(). */
void vd_domain_nvram_check_async(VdDaemon *d, VdDomainDef *live, GAsyncReadyCallback callback,
                                 gpointer user_data);
