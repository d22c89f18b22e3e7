/* virt-install's sub-option syntax, "VALUE,key=value,key=value", split
 * into items (vsh-install-opts.c) for the option parsers of vsh install
 * (vsh-install-opts.c, vsh-install-net.c). */
#pragma once

#include <glib.h>

typedef struct {
    char *key; /* NULL for a bare first item */
    char *value;
} VshInstallItem;

/* Splits @spec at the commas outside double quotes into VshInstallItems;
 * only the first item may lack "key=". Errors name --@opt and @spec. */
GPtrArray *vsh_install_split_items(const char *opt, const char *spec, GError **error);

/* "--OPT: unknown option 'KEY' (known: @known)"; returns FALSE. */
gboolean vsh_install_unknown_key(const char *opt, const VshInstallItem *it, const char *known,
                                 GError **error);

/* TRUE if @value is one of @allowed (NULL-terminated); else an error
 * naming --@opt, @key, the value and the allowed ones. */
gboolean vsh_install_one_of(const char *opt, const char *key, const char *value,
                            const char *const *allowed, GError **error);
