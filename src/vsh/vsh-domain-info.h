/* Renderers of the domain monitoring commands, from the API's JSON to
 * virsh's text; separate from the HTTP calls so tests can feed them
 * fixtures. */
#pragma once

#include <json-glib/json-glib.h>

typedef enum {
    VSH_LIST_TABLE, /* " Id   Name   State" */
    VSH_LIST_PLAIN, /* --name / --uuid / --id: values per line */
} VshListStyle;

typedef struct {
    VshListStyle style;
    gboolean title; /* table: add a Title column */
    gboolean name;  /* plain: print the name */
    gboolean uuid;  /* plain: print the UUID (first) */
    gboolean id;    /* plain: print the id; alone, only running domains */
} VshListFormat;

/* `vsh list` output for @domains (summaries); @header FALSE drops the two
 * header lines (-q). */
char *vsh_render_domain_list(JsonArray *domains, const VshListFormat *format, gboolean header);

/* `vsh dominfo` output from the answer of GET /v1/domains/{dom}. */
char *vsh_render_dominfo(JsonObject *domain, JsonObject *info);
