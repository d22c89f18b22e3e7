/* The edit loop of `vsh edit` (vsh-domain-edit.c), for any object whose
 * definition is XML behind the API: domains, networks. */
#pragma once

#include "vsh.h"

typedef struct {
    /* The persistent (inactive) XML of @obj, NUL-terminated. */
    char *(*get_xml)(VshCtl *ctl, const char *obj, GError **error);
    /* Replaces the definition with @xml; @name gets the name the answer
     * gives (may stay NULL). Prints the answer's warnings. */
    gboolean (*put_xml)(VshCtl *ctl, const char *obj, const char *xml, char **name, GError **error);
    /* virsh's "NOUN NAME XML configuration edited." (or "not changed."),
     * with the name in quotes for domains. */
    const char *noun;
    gboolean quote_name;
} VshEditOps;

/* Fetches the XML, runs $VISUAL/$EDITOR on a temporary copy and puts the
 * result back, offering to edit again on failure (virsh-edit.c's loop).
 * @obj is what the user typed, @name the object's name for messages. */
gboolean vsh_edit_xml(VshCtl *ctl, const VshEditOps *ops, const char *obj, const char *name,
                      GError **error);
