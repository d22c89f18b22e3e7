/* UEFI firmware auto-selection from QEMU's firmware descriptors, as
 * libvirt does it for <os firmware='efi'>.
 *
 * QEMU's docs/interop/firmware.json defines a JSON file per firmware build
 * that says what it is (interface-types: uefi, bios), how it is mapped
 * (device flash: an executable and an nvram template; memory; kernel), for
 * which targets (architecture and machine-type globs such as pc-q35-*) and
 * with which features (secure-boot, enrolled-keys, requires-smm ...).
 * Distributions install them: Debian's ovmf puts 40-edk2-x86_64-secure-
 * enrolled.json, 50-edk2-x86_64-secure.json and 60-edk2-x86_64.json in
 * /usr/share/qemu/firmware. They are searched in /etc/qemu/firmware, then
 * /usr/share/qemu/firmware (the same file name in an earlier directory
 * hides the later one, so an administrator can override or, with an empty
 * file, mask a descriptor), in the order of their file names across the
 * directories; the first one that satisfies the domain wins.
 *
 * Parsing and selection are pure; vd_firmware_desc_load() reads the
 * directories, so the daemon calls it in a worker thread.
 */
#pragma once

#include <glib.h>

#include "conf/domain-def.h"
#include "qemu/qemu-caps.h"

G_BEGIN_DECLS

#define VD_FIRMWARE_DEFAULT_DIRS "/etc/qemu/firmware:/usr/share/qemu/firmware"

typedef struct {
    char *path; /* the descriptor file */
    char *description;
    gboolean uefi;        /* interface-types holds "uefi" */
    gboolean flash;       /* mapping device "flash" in split mode (code + vars) */
    char *executable;     /* mapping.executable.filename */
    char *nvram_template; /* mapping.nvram-template.filename (may be NULL) */
    gboolean raw;         /* both in format "raw" (QEMU's pflash takes nothing else here) */
    GPtrArray *machines;  /* char*: the machine globs of the x86_64 targets */
    gboolean secure_boot;
    gboolean enrolled_keys;
    gboolean requires_smm;
} VdFirmwareDesc;

void vd_firmware_desc_free(VdFirmwareDesc *desc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdFirmwareDesc, vd_firmware_desc_free)

/* Parses one descriptor (@path names it in messages). VD_ERROR_XML is not
 * right for JSON: fails with VD_ERROR_INVALID_ARG naming the file and what
 * is wrong. */
VdFirmwareDesc *vd_firmware_desc_parse(const char *json, gssize len, const char *path,
                                       GError **error);

/* The descriptor files of @dirs (':'-separated; NULL: the default), in
 * selection order (see above). Blocking I/O. Directories that do not
 * exist are skipped; empty files mask their name and are not listed. */
GPtrArray *vd_firmware_desc_paths(const char *dirs);

/* Every descriptor of @dirs, parsed, in selection order (VdFirmwareDesc*).
 * A file that cannot be read or parsed is skipped with a warning (one
 * broken file must not stop every UEFI domain). Blocking I/O. */
GPtrArray *vd_firmware_desc_load(const char *dirs);

/* The machine name as the descriptors' globs see it: "q35" and "pc" are
 * QEMU's aliases of the newest pc-q35-X.Y and pc-i440fx-X.Y. */
char *vd_firmware_machine_name(const char *machine, const VdQemuCaps *caps);

/* The first of @descs (loaded from @dirs, for messages) that satisfies
 * @def on @machine (vd_firmware_machine_name): UEFI, flash, x86_64 with a
 * matching machine glob, the secure-boot and enrolled-keys features as
 * asked (absent: anything), requires-smm only where SMM is not off and
 * where <loader secure='yes'> asks for it. NULL with VD_ERROR_UNSUPPORTED
 * saying why none does: secure boot on a machine without SMM (i440fx), no
 * descriptor at all ("install ovmf"), or what each one lacks. */
const VdFirmwareDesc *vd_firmware_select(GPtrArray *descs, const VdDomainDef *def,
                                         const char *machine, const char *dirs, GError **error);

/* The flash descriptor whose executable is @loader (an explicit <loader>
 * without a template: its template is the one to copy), or NULL. */
const VdFirmwareDesc *vd_firmware_find_executable(GPtrArray *descs, const char *loader);

/* The variable store that goes with @loader by name: OVMF_CODE_4M.fd ->
 * OVMF_VARS_4M.fd, edk2-x86_64-code.fd -> edk2-i386-vars.fd is not
 * guessed. NULL when the name has no _CODE / -code part. The caller
 * checks that the file exists. */
char *vd_firmware_guess_template(const char *loader);

/* Puts @desc into @live: <loader readonly='yes' type='pflash'
 * [secure='yes']>executable</loader>, the template, and SMM on when the
 * firmware requires it (libvirt's qemuFirmwareEnableFeatures). The nvram
 * path is the caller's. */
void vd_firmware_apply(VdDomainDef *live, const VdFirmwareDesc *desc);

G_END_DECLS
