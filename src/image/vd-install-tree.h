/* Install trees (shared by vsh install --location and the daemon's
 * POST /v1/install-media, the web console's "Install tree or ISO"): where
 * the distributions keep the installer's kernel and initrd, in a directory
 * or inside an ISO, and --initrd-inject. Blocking file work. The daemon
 * does not link the ISO part (libvdinstalliso, libarchive): it runs
 * virtd-install-media, which prints what these functions return. */
#pragma once

#include <glib.h>

/* Finds a kernel and initrd under directory @dir in the layouts of the
 * known install trees (Debian netboot and ISO, Ubuntu, Fedora/RHEL family).
 * The error lists every place looked at. */
gboolean vd_install_tree_find_dir(const char *dir, char **kernel, char **initrd, GError **error);

/* The same inside ISO image @iso (read with libarchive; vd-install-iso.c,
 * libvdinstalliso: not in the daemon); the two files are copied into
 * directory @stage_dir as "vmlinuz" and "initrd". */
gboolean vd_install_tree_extract_iso(const char *iso, const char *stage_dir, char **kernel,
                                      char **initrd, GError **error);

/* The same for an image held in memory (@len bytes of @data; @name names
 * it in messages): the fuzz target's way in (fuzz/install-iso.c). */
gboolean vd_install_tree_extract_iso_memory(const void *data, gsize len, const char *name,
                                            const char *stage_dir, char **kernel,
                                            char **initrd, GError **error);

/* The layouts searched, as "KERNEL INITRD" relative paths, NULL-terminated
 * (for the error message and the docs). */
extern const char *const vd_install_tree_layouts[][2];

/* The layouts under @where, one "\n  WHERE/KERNEL + INITRD" each: the
 * "Looked for:" part of the errors above. */
char *vd_install_tree_looked_list(const char *where);

/* Appends a newc cpio archive holding each of @files (at "/" + basename)
 * to the initrd @initrd, in place. Linux unpacks concatenated initramfs
 * archives, so the installer finds the files in its root (--initrd-inject). */
gboolean vd_install_initrd_inject(const char *initrd, const char *const *files, GError **error);
