/* libvirt's domainsnapshot XML: see snapshot-def.h. */
#include "conf/snapshot-def.h"

#include <libxml/tree.h>
#include <string.h>

#include "conf/domain-private.h"
#include "conf/snapshot-domain-text.h"
#include "util/vd-error.h"

VdSnapshotDef *
vd_snapshot_def_new(void)
{
    VdSnapshotDef *def = g_new0(VdSnapshotDef, 1);
    def->disks = g_ptr_array_new(); /* elements freed by vd_snapshot_def_free */
    return def;
}

static void
disk_free(VdSnapshotDiskDef *disk)
{
    if (!disk)
        return;
    g_free(disk->name);
    g_free(disk->driver_type);
    g_free(disk->source_file);
    g_free(disk);
}

void
vd_snapshot_def_free(VdSnapshotDef *def)
{
    if (!def)
        return;
    for (guint i = 0; i < def->disks->len; i++)
        disk_free(def->disks->pdata[i]);
    g_ptr_array_unref(def->disks);
    g_free(def->name);
    g_free(def->description);
    g_free(def->state);
    g_free(def->parent);
    g_free(def->memory_file);
    g_free(def->domain_xml);
    g_free(def->inactive_xml);
    g_free(def);
}

VdSnapshotDef *
vd_snapshot_def_copy(const VdSnapshotDef *def)
{
    VdSnapshotDef *c = vd_snapshot_def_new();
    c->name = g_strdup(def->name);
    c->description = g_strdup(def->description);
    c->state = g_strdup(def->state);
    c->parent = g_strdup(def->parent);
    c->creation_time = def->creation_time;
    c->memory = def->memory;
    c->memory_file = g_strdup(def->memory_file);
    c->domain_xml = g_strdup(def->domain_xml);
    c->inactive_xml = g_strdup(def->inactive_xml);
    for (guint i = 0; i < def->disks->len; i++) {
        const VdSnapshotDiskDef *d = def->disks->pdata[i];
        VdSnapshotDiskDef *n = g_new0(VdSnapshotDiskDef, 1);
        n->name = g_strdup(d->name);
        n->snapshot = d->snapshot;
        n->driver_type = g_strdup(d->driver_type);
        n->source_file = g_strdup(d->source_file);
        g_ptr_array_add(c->disks, n);
    }
    return c;
}

static const char *const location_names[] = {"default", "no", "internal", "external"};

const char *
vd_snapshot_location_to_string(VdSnapshotLocation loc)
{
    return (guint)loc < G_N_ELEMENTS(location_names) ? location_names[loc] : "default";
}

static gboolean
location_from_string(const char *s, const char *where, VdSnapshotLocation *out, GError **error)
{
    if (!s) {
        *out = VD_SNAPSHOT_LOC_DEFAULT;
        return TRUE;
    }
    for (guint i = 1; i < G_N_ELEMENTS(location_names); i++) {
        if (g_str_equal(s, location_names[i])) {
            *out = (VdSnapshotLocation)i;
            return TRUE;
        }
    }
    return vd_set_error(error, VD_ERROR_XML,
                        "XML error: invalid %s snapshot='%s': expected no, internal or external",
                        where, s);
}

static const char *const states[] = {"running", "paused", "shutoff", "disk-snapshot", "blocked",
                                     "shutdown", "crashed", "pmsuspended", "nostate", NULL};

/* Each child element of a <domainsnapshot> or of one of its <disk>s is
 * given at most once: a second one would replace the first's value (and
 * leak it, fuzz/xml-snapshot.c), so which one counts would be a guess.
 * @seen: the names met so far under @where. */
static gboolean
given_once(GHashTable *seen, const xmlNode *c, const char *where, GError **error)
{
    if (g_hash_table_add(seen, (gpointer)c->name))
        return TRUE;
    return vd_set_error(error, VD_ERROR_XML,
                        "XML error: <%s> is given twice in %s: give it once",
                        (const char *)c->name, where);
}

static gboolean
parse_disk(const xmlNode *node, VdSnapshotDef *def, GError **error)
{
    g_autofree char *name = vd_xml_prop(node, "name");
    g_autofree char *snap = vd_xml_prop(node, "snapshot");
    g_autofree char *type = vd_xml_prop(node, "type");
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    VdSnapshotDiskDef *disk;

    if (!name || !*name)
        return vd_set_error(error, VD_ERROR_XML,
                            "XML error: <disk> in <disks> needs a name='...' attribute (the "
                            "disk's target, such as vda)");
    if (type && !g_str_equal(type, "file"))
        return vd_set_error(error, VD_ERROR_XML,
                            "XML error: <disk name='%s' type='%s'>: only type='file' is "
                            "supported for a snapshot's disk",
                            name, type);
    disk = g_new0(VdSnapshotDiskDef, 1);
    g_ptr_array_add(def->disks, disk);
    disk->name = g_steal_pointer(&name);
    g_autofree char *where = g_strdup_printf("<disk name='%s'>", disk->name);
    if (!location_from_string(snap, where, &disk->snapshot, error))
        return FALSE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!given_once(seen, c, where, error))
            return FALSE;
        if (vd_xml_is(c, "driver")) {
            disk->driver_type = vd_xml_prop(c, "type");
            if (disk->driver_type && !g_str_equal(disk->driver_type, "qcow2"))
                return vd_set_error(error, VD_ERROR_XML,
                                    "XML error: %s <driver type='%s'>: an external snapshot "
                                    "is a qcow2 overlay, use type='qcow2'",
                                    where, disk->driver_type);
        } else if (vd_xml_is(c, "source")) {
            disk->source_file = vd_xml_prop(c, "file");
            if (!disk->source_file || !*disk->source_file)
                return vd_set_error(error, VD_ERROR_XML,
                                    "XML error: %s <source> needs a file='...' attribute", where);
        } else {
            return vd_set_error(error, VD_ERROR_XML,
                                "XML error: unknown element <%s> in %s of <domainsnapshot>",
                                (const char *)c->name, where);
        }
    }
    if (disk->snapshot == VD_SNAPSHOT_LOC_DEFAULT && disk->source_file)
        disk->snapshot = VD_SNAPSHOT_LOC_EXTERNAL;
    if (disk->snapshot != VD_SNAPSHOT_LOC_EXTERNAL && (disk->source_file || disk->driver_type))
        return vd_set_error(error, VD_ERROR_XML,
                            "XML error: %s has <source> or <driver> but snapshot='%s': only an "
                            "external snapshot names a file",
                            where, vd_snapshot_location_to_string(disk->snapshot));
    return TRUE;
}

VdSnapshotDef *
vd_snapshot_def_parse(const char *xml, gboolean internal, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_new();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    xmlNode *root;

    vd_xml_init();
    doc = vd_xml_read_doc(xml ? xml : "", -1, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || root->ns || !vd_xml_is(root, "domainsnapshot")) {
        vd_set_error(error, VD_ERROR_XML,
                     "XML error: expected a <domainsnapshot> element as the root, found <%s>",
                     root ? (const char *)root->name : "");
        return NULL;
    }
    for (xmlNode *c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!given_once(seen, c, "<domainsnapshot>", error))
            return NULL;
        if (vd_xml_is(c, "name")) {
            def->name = vd_xml_text(c);
        } else if (vd_xml_is(c, "description")) {
            def->description = vd_xml_text(c);
        } else if (vd_xml_is(c, "state")) {
            g_autofree char *s = vd_xml_text(c);
            if (!s || !g_strv_contains(states, s)) {
                vd_set_error(error, VD_ERROR_XML, "XML error: invalid <state>%s</state>",
                             s ? s : "");
                return NULL;
            }
            if (internal)
                def->state = g_steal_pointer(&s);
        } else if (vd_xml_is(c, "parent")) {
            xmlNode *n = vd_xml_child(c, "name");
            g_autofree char *p = n ? vd_xml_text(n) : NULL;
            if (!p || !*p) {
                vd_set_error(error, VD_ERROR_XML, "XML error: <parent> needs a <name>");
                return NULL;
            }
            if (internal)
                def->parent = g_steal_pointer(&p);
        } else if (vd_xml_is(c, "creationTime")) {
            g_autofree char *t = vd_xml_text(c);
            gint64 v = 0;
            if (!vd_xml_parse_int(t, "<creationTime>", 0, G_MAXINT64, &v, error))
                return NULL;
            if (internal)
                def->creation_time = v;
        } else if (vd_xml_is(c, "memory")) {
            g_autofree char *snap = vd_xml_prop(c, "snapshot");
            if (!location_from_string(snap, "<memory>", &def->memory, error))
                return NULL;
            def->memory_file = vd_xml_prop(c, "file");
            if (def->memory_file && def->memory == VD_SNAPSHOT_LOC_DEFAULT)
                def->memory = VD_SNAPSHOT_LOC_EXTERNAL;
        } else if (vd_xml_is(c, "disks")) {
            for (xmlNode *dn = c->children; dn; dn = dn->next) {
                if (dn->type != XML_ELEMENT_NODE)
                    continue;
                if (!vd_xml_is(dn, "disk")) {
                    vd_set_error(error, VD_ERROR_XML,
                                 "XML error: unknown element <%s> in <disks> of <domainsnapshot>",
                                 (const char *)dn->name);
                    return NULL;
                }
                if (!parse_disk(dn, def, error))
                    return NULL;
            }
        } else if (vd_xml_is(c, "domain")) {
            if (internal)
                def->domain_xml = vd_snapshot_domain_text(xml, c);
        } else if (vd_xml_is(c, "inactiveDomain")) {
            if (internal)
                def->inactive_xml = vd_snapshot_domain_text(xml, c);
        } else if (vd_xml_is(c, "active") || vd_xml_is(c, "cookie")) {
            /* libvirt's private bookkeeping: nothing for us */
        } else {
            vd_set_error(error, VD_ERROR_XML, "XML error: unknown element <%s> in <domainsnapshot>",
                         (const char *)c->name);
            return NULL;
        }
    }
    if (def->name && (!*def->name || g_str_equal(def->name, ".") ||
                      g_str_equal(def->name, "..") || strchr(def->name, '/'))) {
        vd_set_error(error, VD_ERROR_XML,
                     "XML error: invalid snapshot <name>%s</name>: a name must not be empty, "
                     "'.' or '..', nor contain '/'",
                     def->name);
        return NULL;
    }
    return g_steal_pointer(&def);
}

static void
append_escaped(GString *s, const char *text)
{
    g_autofree char *e = g_markup_escape_text(text, -1);
    g_string_append(s, e);
}

/* A <domain> element's text, indented by two as libvirt nests it; @rename:
 * the element's name in the snapshot instead of "domain". */
static void
append_domain(GString *s, const char *xml, const char *rename)
{
    g_autoptr(GString) text = g_string_new(xml);
    while (text->len && text->str[text->len - 1] == '\n')
        g_string_truncate(text, text->len - 1);
    if (rename && g_str_has_prefix(text->str, "<domain") &&
        g_str_has_suffix(text->str, "</domain>")) {
        g_string_truncate(text, text->len - strlen("domain>"));
        g_string_append_printf(text, "%s>", rename);
        g_string_erase(text, 1, strlen("domain"));
        g_string_insert(text, 1, rename);
    }
    g_auto(GStrv) lines = g_strsplit(text->str, "\n", -1);
    for (char **l = lines; *l; l++)
        g_string_append_printf(s, "  %s\n", *l);
}

char *
vd_snapshot_def_format(const VdSnapshotDef *def)
{
    GString *s = g_string_new("<domainsnapshot>\n");

    if (def->name) {
        g_string_append(s, "  <name>");
        append_escaped(s, def->name);
        g_string_append(s, "</name>\n");
    }
    if (def->description) {
        g_string_append(s, "  <description>");
        append_escaped(s, def->description);
        g_string_append(s, "</description>\n");
    }
    if (def->state)
        g_string_append_printf(s, "  <state>%s</state>\n", def->state);
    if (def->parent) {
        g_string_append(s, "  <parent>\n    <name>");
        append_escaped(s, def->parent);
        g_string_append(s, "</name>\n  </parent>\n");
    }
    if (def->creation_time)
        g_string_append_printf(s, "  <creationTime>%" G_GINT64_FORMAT "</creationTime>\n",
                               def->creation_time);
    if (def->memory != VD_SNAPSHOT_LOC_DEFAULT) {
        g_string_append_printf(s, "  <memory snapshot='%s'",
                               vd_snapshot_location_to_string(def->memory));
        if (def->memory_file) {
            g_string_append(s, " file='");
            append_escaped(s, def->memory_file);
            g_string_append(s, "'");
        }
        g_string_append(s, "/>\n");
    }
    if (def->disks->len) {
        g_string_append(s, "  <disks>\n");
        for (guint i = 0; i < def->disks->len; i++) {
            const VdSnapshotDiskDef *d = def->disks->pdata[i];
            g_string_append(s, "    <disk name='");
            append_escaped(s, d->name);
            g_string_append(s, "'");
            if (d->snapshot != VD_SNAPSHOT_LOC_DEFAULT)
                g_string_append_printf(s, " snapshot='%s'",
                                       vd_snapshot_location_to_string(d->snapshot));
            if (!d->driver_type && !d->source_file) {
                g_string_append(s, "/>\n");
                continue;
            }
            if (d->snapshot == VD_SNAPSHOT_LOC_EXTERNAL)
                g_string_append(s, " type='file'");
            g_string_append(s, ">\n");
            if (d->driver_type)
                g_string_append_printf(s, "      <driver type='%s'/>\n", d->driver_type);
            if (d->source_file) {
                g_string_append(s, "      <source file='");
                append_escaped(s, d->source_file);
                g_string_append(s, "'/>\n");
            }
            g_string_append(s, "    </disk>\n");
        }
        g_string_append(s, "  </disks>\n");
    }
    if (def->domain_xml)
        append_domain(s, def->domain_xml, NULL);
    if (def->inactive_xml)
        append_domain(s, def->inactive_xml, "inactiveDomain");
    g_string_append(s, "</domainsnapshot>\n");
    return g_string_free(s, FALSE);
}

/* The domain's disk that @name designates: its target, or its source file. */
static const VdDiskDef *
find_disk(const VdDomainDef *dom_def, const char *name)
{
    for (guint i = 0; i < dom_def->disks->len; i++) {
        const VdDiskDef *disk = dom_def->disks->pdata[i];
        if (g_strcmp0(disk->target_dev, name) == 0 || g_strcmp0(disk->source_file, name) == 0)
            return disk;
    }
    return NULL;
}

static VdSnapshotDiskDef *
find_snap_disk(const VdSnapshotDef *def, const VdDiskDef *disk)
{
    for (guint i = 0; i < def->disks->len; i++) {
        VdSnapshotDiskDef *sd = def->disks->pdata[i];
        if (g_strcmp0(sd->name, disk->target_dev) == 0)
            return sd;
    }
    return NULL;
}

static char *
default_overlay(const char *image, const char *snap)
{
    g_autofree char *dir = g_path_get_dirname(image);
    g_autofree char *base = g_path_get_basename(image);
    char *dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';
    g_autofree char *file = g_strdup_printf("%s.%s", base, snap);
    return g_build_filename(dir, file, NULL);
}

gboolean
vd_snapshot_def_align(VdSnapshotDef *def, const VdDomainDef *dom_def, gboolean disk_only,
                      gboolean running, GError **error)
{
    gboolean any_internal = FALSE, any_external = FALSE;

    if (def->memory == VD_SNAPSHOT_LOC_EXTERNAL)
        return vd_set_unsupported(error,
                                  "unsupported configuration: external memory snapshots are not "
                                  "supported: leave out <memory snapshot='external'> (an internal "
                                  "snapshot keeps the memory) or take a --disk-only snapshot");
    if (def->memory == VD_SNAPSHOT_LOC_INTERNAL && (disk_only || !running))
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "unsupported configuration: memory state cannot be saved with "
                            "offline or disk-only snapshot: leave out <memory snapshot='internal'>");
    if (def->memory == VD_SNAPSHOT_LOC_DEFAULT)
        def->memory = running && !disk_only ? VD_SNAPSHOT_LOC_INTERNAL : VD_SNAPSHOT_LOC_NO;

    /* Each named disk must exist, once. Names become the targets. */
    for (guint i = 0; i < def->disks->len; i++) {
        VdSnapshotDiskDef *sd = def->disks->pdata[i];
        const VdDiskDef *disk = find_disk(dom_def, sd->name);
        if (!disk || !disk->target_dev)
            return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                "unsupported configuration: no disk named '%s': name a disk by "
                                "its target (domblklist shows them)",
                                sd->name);
        if (!g_str_equal(sd->name, disk->target_dev)) {
            g_free(sd->name);
            sd->name = g_strdup(disk->target_dev);
        }
        for (guint j = 0; j < i; j++) {
            const VdSnapshotDiskDef *o = def->disks->pdata[j];
            if (g_str_equal(o->name, sd->name))
                return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                    "unsupported configuration: disk '%s' specified twice in "
                                    "the snapshot: name each disk once",
                                    sd->name);
        }
    }
    /* Then one entry per disk of the domain, in the domain's order. */
    /* Owns its entries until they move into def->disks: a refusal below
     * frees those made so far. */
    g_autoptr(GPtrArray) ordered = g_ptr_array_new_with_free_func((GDestroyNotify)disk_free);
    for (guint i = 0; i < dom_def->disks->len; i++) {
        const VdDiskDef *disk = dom_def->disks->pdata[i];
        VdSnapshotDiskDef *sd = find_snap_disk(def, disk);
        gboolean eligible = disk->device == VD_DISK_DEVICE_DISK && !disk->readonly &&
                            !disk->shareable && (disk->source_file || disk->source_volume);
        if (!sd) {
            sd = g_new0(VdSnapshotDiskDef, 1);
            sd->name = g_strdup(disk->target_dev);
            if (!eligible)
                sd->snapshot = VD_SNAPSHOT_LOC_NO;
            else if (disk_only)
                sd->snapshot = VD_SNAPSHOT_LOC_EXTERNAL;
            else
                sd->snapshot = VD_SNAPSHOT_LOC_DEFAULT; /* decided below */
        } else {
            g_ptr_array_remove(def->disks, sd);
            if (sd->snapshot == VD_SNAPSHOT_LOC_DEFAULT)
                sd->snapshot = disk_only ? VD_SNAPSHOT_LOC_EXTERNAL : VD_SNAPSHOT_LOC_DEFAULT;
            if (sd->snapshot != VD_SNAPSHOT_LOC_NO && !eligible) {
                disk_free(sd);
                return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                    "unsupported configuration: disk '%s' cannot be part of a "
                                    "snapshot (a cdrom, floppy, read-only, shareable or empty "
                                    "disk): leave it out or give it snapshot='no'",
                                    disk->target_dev);
            }
        }
        g_ptr_array_add(ordered, sd);
    }
    for (guint i = 0; i < def->disks->len; i++)
        disk_free(def->disks->pdata[i]);
    g_ptr_array_set_size(def->disks, 0);
    for (guint i = 0; i < ordered->len; i++)
        g_ptr_array_add(def->disks, ordered->pdata[i]);
    g_ptr_array_set_free_func(ordered, NULL);

    for (guint i = 0; i < def->disks->len; i++) {
        const VdSnapshotDiskDef *sd = def->disks->pdata[i];
        any_internal |= sd->snapshot == VD_SNAPSHOT_LOC_INTERNAL;
        any_external |= sd->snapshot == VD_SNAPSHOT_LOC_EXTERNAL;
    }
    if (def->memory == VD_SNAPSHOT_LOC_INTERNAL && any_external)
        return vd_set_unsupported(error,
                                  "unsupported configuration: mixing internal and external "
                                  "targets for a snapshot is not yet supported: take a "
                                  "--disk-only snapshot for external disks");
    for (guint i = 0; i < def->disks->len; i++) {
        VdSnapshotDiskDef *sd = def->disks->pdata[i];
        if (sd->snapshot == VD_SNAPSHOT_LOC_DEFAULT)
            sd->snapshot = any_external ? VD_SNAPSHOT_LOC_EXTERNAL : VD_SNAPSHOT_LOC_INTERNAL;
        any_internal |= sd->snapshot == VD_SNAPSHOT_LOC_INTERNAL;
        any_external |= sd->snapshot == VD_SNAPSHOT_LOC_EXTERNAL;
    }
    if (any_internal && any_external)
        return vd_set_unsupported(error,
                                  "unsupported configuration: mixing internal and external "
                                  "targets for a snapshot is not yet supported: make every disk "
                                  "snapshot='internal' or every one snapshot='external'");
    for (guint i = 0; i < def->disks->len; i++) {
        VdSnapshotDiskDef *sd = def->disks->pdata[i];
        const VdDiskDef *disk = find_disk(dom_def, sd->name);
        if (sd->snapshot == VD_SNAPSHOT_LOC_INTERNAL && disk->format != VD_DISK_FORMAT_QCOW2)
            return vd_set_error(
                error, VD_ERROR_INVALID_ARG,
                "unsupported configuration: internal snapshot of disk '%s' needs a qcow2 image, "
                "its image is %s: convert it with 'qemu-img convert -O qcow2', or take an "
                "external snapshot with --disk-only",
                sd->name, disk->format == VD_DISK_FORMAT_RAW ? "raw" : "of an unknown format");
        if (sd->snapshot == VD_SNAPSHOT_LOC_EXTERNAL) {
            if (!sd->driver_type)
                sd->driver_type = g_strdup("qcow2");
            if (!sd->source_file) {
                if (!disk->source_file)
                    return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                        "unsupported configuration: disk '%s' has no file to "
                                        "name its overlay after: give one with --diskspec "
                                        "%s,snapshot=external,file=PATH",
                                        sd->name, sd->name);
                sd->source_file = default_overlay(disk->source_file, def->name ? def->name : "snap");
            }
        }
    }
    if (def->memory == VD_SNAPSHOT_LOC_NO && !any_internal && !any_external)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "unsupported configuration: nothing selected for snapshot: the "
                            "domain has no writable disk to snapshot (attach a qcow2 disk, or "
                            "do not exclude every disk)");
    return TRUE;
}
