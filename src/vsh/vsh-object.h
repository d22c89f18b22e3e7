/* What the pool and network commands share (vsh-object.c): both name an
 * object at /v1/COLLECTION/NAME whose answers hold its summary in one
 * member, and virsh words their messages alike, "Pool NAME started",
 * "Network NAME has been undefined" (no quotes, unlike domains). Also the
 * small request helpers the domain commands use too. */
#pragma once

#include <json-glib/json-glib.h>

#include "vsh.h"

typedef struct {
    const char *collection; /* "pools": the path is /v1/pools/NAME */
    const char *member;     /* "pool": the summary's member in answers */
    const char *noun;       /* "Pool": the start of virsh's messages */
    const char *option;     /* "pool": the command's option naming it */
    /* Called with the answer of a POST action, after its warnings and
     * before the message (may be NULL). */
    void (*after_action)(JsonNode *answer, const char *action);
} VshObjectKind;

/* "/v1/@collection/OBJ" + @suffix (may be NULL), @obj percent-encoded. */
char *vsh_object_path(const char *collection, const char *obj, const char *suffix);
/* A JSON request on an object's path. */
JsonNode *vsh_object_call(VshCtl *ctl, const char *method, const char *collection, const char *obj,
                          const char *suffix, JsonNode *body, GError **error);
/* The name in the summary of @answer, or @fallback. */
const char *vsh_object_name(const VshObjectKind *kind, JsonNode *answer, const char *fallback);

/* POST .../@action, its warnings, then "Noun NAME @done". */
gboolean vsh_object_action(VshCtl *ctl, const VshCmd *cmd, const VshObjectKind *kind,
                           const char *action, const char *done, GError **error);
/* DELETE, then "Noun NAME has been undefined". */
gboolean vsh_object_undefine(VshCtl *ctl, const VshCmd *cmd, const VshObjectKind *kind,
                             GError **error);
/* PUT .../autostart ({"autostart": !--disable}), then "Noun NAME marked
 * as autostarted" (or "unmarked"). */
gboolean vsh_object_autostart(VshCtl *ctl, const VshCmd *cmd, const VshObjectKind *kind,
                              GError **error);

/* {"@member": @value}, a request body. */
JsonNode *vsh_json_bool_body(const char *member, gboolean value);
/* POST @path with the XML of @file (vsh_read_small_file's limits). */
JsonNode *vsh_post_xml_file(VshCtl *ctl, const char *path, const char *file, GError **error);
/* The bytes of @bytes as a NUL-terminated string ("" for none). */
char *vsh_bytes_to_string(GBytes *bytes);
/* GET @path whose answer is text (an XML document). */
char *vsh_get_text(VshCtl *ctl, const char *path, GError **error);

/* POST /v1/domains@query (e.g. "", "?start=1", "/check") with the XML
 * read from @file (vsh-domain-lifecycle.c). */
JsonNode *vsh_domain_post_file(VshCtl *ctl, const char *file, const char *query, GError **error);
/* vsh domcheck FILE (vsh-domain-check.c), also define --check: prints the
 * report; FALSE without an error when the domain would not start. */
gboolean vsh_domcheck_file(VshCtl *ctl, const char *file, GError **error);
