/* <cputune>'s vcpupin and emulatorpin (domain-cputune.h). */
#include "conf/domain-cputune.h"

#include <string.h>

#include "conf/domain-private.h"
#include "util/vd-error.h"

static void
pin_clear(gpointer p)
{
    g_free(((VdVcpuPin *)p)->cpuset);
}

VdCputuneDef *
vd_cputune_def_new(void)
{
    VdCputuneDef *x = g_new0(VdCputuneDef, 1);
    x->vcpupins = g_array_new(FALSE, FALSE, sizeof(VdVcpuPin));
    g_array_set_clear_func(x->vcpupins, pin_clear);
    return x;
}

void
vd_cputune_def_free(VdCputuneDef *x)
{
    if (!x)
        return;
    g_array_unref(x->vcpupins);
    g_free(x->emulatorpin);
    g_free(x);
}

VdCputuneDef *
vd_cputune_def_copy(const VdCputuneDef *x)
{
    VdCputuneDef *c = vd_cputune_def_new();
    for (guint i = 0; i < x->vcpupins->len; i++) {
        const VdVcpuPin *p = &g_array_index(x->vcpupins, VdVcpuPin, i);
        vd_cputune_set_vcpupin(c, p->vcpu, p->cpuset);
    }
    c->emulatorpin = g_strdup(x->emulatorpin);
    return c;
}

/* ---- cpusets ---------------------------------------------------------- */

GArray *
vd_cpulist_parse(const char *text, guint limit, gboolean *too_big, guint64 *cpu)
{
    g_autoptr(GArray) set = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree gboolean *in = g_new0(gboolean, limit);
    g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);

    *too_big = FALSE;
    for (guint i = 0; parts[i]; i++) {
        char *p = g_strstrip(parts[i]);
        gboolean negate = *p == '^';
        guint64 lo, hi;
        char *dash, *end;

        if (negate)
            p++;
        dash = strchr(p, '-');
        if (dash)
            *dash = 0;
        lo = g_ascii_strtoull(p, &end, 10);
        if (!*p || *end || !g_ascii_isdigit(*p))
            return NULL;
        hi = lo;
        if (dash) {
            hi = g_ascii_strtoull(dash + 1, &end, 10);
            if (!dash[1] || *end || !g_ascii_isdigit(dash[1]) || hi < lo || negate)
                return NULL;
        }
        if (hi >= limit) {
            *too_big = TRUE;
            *cpu = hi;
            return NULL;
        }
        for (guint64 c = lo; c <= hi; c++)
            in[c] = !negate;
    }
    for (guint c = 0; c < limit; c++)
        if (in[c])
            g_array_append_val(set, c);
    if (set->len == 0)
        return NULL;
    return g_steal_pointer(&set);
}

GArray *
vd_cpuset_parse(const char *text, const char *where, GError **error)
{
    gboolean too_big;
    guint64 cpu;
    GArray *set = vd_cpulist_parse(text, VD_CPUSET_MAX + 1, &too_big, &cpu);

    if (!set)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: invalid CPU list '%s' in %s: expected host CPU numbers "
                    "(0 to %d) and ranges such as '0-1,4'",
                    text ? text : "", where, VD_CPUSET_MAX);
    return set;
}

char *
vd_cpuset_format(const GArray *set)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < set->len;) {
        guint lo = g_array_index(set, guint, i), hi = lo;
        guint j = i + 1;
        while (j < set->len && g_array_index(set, guint, j) == hi + 1)
            hi = g_array_index(set, guint, j++);
        if (s->len)
            g_string_append_c(s, ',');
        if (hi == lo)
            g_string_append_printf(s, "%u", lo);
        else
            g_string_append_printf(s, "%u-%u", lo, hi);
        i = j;
    }
    return g_string_free(s, FALSE);
}

char *
vd_cpuset_check_host(const char *text, guint host_cpus, GError **error)
{
    g_autoptr(GArray) set = vd_cpuset_parse(text, "the CPU list", error);
    if (!set)
        return NULL;
    guint last = g_array_index(set, guint, set->len - 1);
    if (last >= host_cpus) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: Physical CPU %u doesn't exist: this host has CPUs 0-%u",
                    last, host_cpus ? host_cpus - 1 : 0);
        return NULL;
    }
    return vd_cpuset_format(set);
}

/* ---- the model -------------------------------------------------------- */

const char *
vd_cputune_vcpupin(const VdCputuneDef *x, guint vcpu)
{
    for (guint i = 0; x && i < x->vcpupins->len; i++) {
        const VdVcpuPin *p = &g_array_index(x->vcpupins, VdVcpuPin, i);
        if (p->vcpu == vcpu)
            return p->cpuset;
    }
    return NULL;
}

void
vd_cputune_set_vcpupin(VdCputuneDef *x, guint vcpu, const char *cpuset)
{
    guint i = 0;
    while (i < x->vcpupins->len && g_array_index(x->vcpupins, VdVcpuPin, i).vcpu < vcpu)
        i++;
    if (i < x->vcpupins->len && g_array_index(x->vcpupins, VdVcpuPin, i).vcpu == vcpu)
        g_array_remove_index(x->vcpupins, i);
    if (cpuset) {
        VdVcpuPin p = {vcpu, g_strdup(cpuset)};
        g_array_insert_val(x->vcpupins, i, p);
    }
}

void
vd_cputune_set_emulatorpin(VdCputuneDef *x, const char *cpuset)
{
    g_free(x->emulatorpin);
    x->emulatorpin = g_strdup(cpuset);
}

void
vd_cputune_trim(VdCputuneDef *x, guint max)
{
    while (x->vcpupins->len &&
           g_array_index(x->vcpupins, VdVcpuPin, x->vcpupins->len - 1).vcpu >= max)
        g_array_remove_index(x->vcpupins, x->vcpupins->len - 1);
}

/* ---- XML -------------------------------------------------------------- */

static char *
parse_cpuset_attr(const xmlNode *node, const char *where, GError **error)
{
    g_autofree char *text = vd_xml_prop(node, "cpuset");
    if (!text) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "%s needs a cpuset attribute", where);
        return NULL;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) set = vd_cpuset_parse(text, where, &err);
    if (!set) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_XML, err->message);
        return NULL;
    }
    return vd_cpuset_format(set);
}

gboolean
vd_domain_cputune_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *tune = vd_xml_child(root, "cputune");
    if (!tune)
        return TRUE;
    for (const xmlNode *n = vd_xml_child(tune, "vcpupin"); n; n = vd_xml_next(n, "vcpupin")) {
        guint vcpu = 0;
        gboolean present = FALSE;
        if (!vd_xml_prop_uint(n, "vcpu", "<vcpupin vcpu=>", G_MAXUINT, &vcpu, &present, error))
            return FALSE;
        if (!present) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "<vcpupin> needs a vcpu attribute");
            return FALSE;
        }
        if (def->vcpus && vcpu >= def->vcpus) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "vcpupin vcpu id '%u' is out of range of maximum vcpus (%u): use 0 "
                        "to %u",
                        vcpu, def->vcpus, def->vcpus - 1);
            return FALSE;
        }
        if (vd_cputune_vcpupin(def->cputune, vcpu)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "duplicate vcpupin for vcpu %u", vcpu);
            return FALSE;
        }
        g_autofree char *set = parse_cpuset_attr(n, "<vcpupin cpuset=>", error);
        if (!set)
            return FALSE;
        vd_cputune_set_vcpupin(def->cputune, vcpu, set);
    }
    const xmlNode *emu = vd_xml_child(tune, "emulatorpin");
    if (emu) {
        g_autofree char *set = parse_cpuset_attr(emu, "<emulatorpin cpuset=>", error);
        if (!set)
            return FALSE;
        vd_cputune_set_emulatorpin(def->cputune, set);
    }
    return TRUE;
}

/* libvirt's order of <domain>'s children up to <cputune>. */
static const char *const root_order[] = {
    "name",      "uuid",   "genid",         "title",       "description",     "metadata",
    "maxMemory", "memory", "currentMemory", "blkiotune",   "memtune",         "memoryBacking",
    "vcpu",      "vcpus",  "iothreads",     "iothreadids", "defaultiothread", "cputune",
    NULL,
};

/* libvirt's order of <cputune>'s children. */
static const char *const tune_order[] = {
    "shares",         "period",          "quota",
    "global_period",  "global_quota",    "emulator_period",
    "emulator_quota", "iothread_period", "iothread_quota",
    "vcpupin",        "emulatorpin",     "iothreadpin",
    "vcpusched",      "iothreadsched",   "emulatorsched",
    "cachetune",      "memorytune",      NULL,
};

void
vd_domain_cputune_format(const VdDomainDef *def, xmlNode *root)
{
    const VdCputuneDef *x = def->cputune;
    gboolean any = x && (x->vcpupins->len || x->emulatorpin);
    xmlNode *tune = vd_xml_child(root, "cputune");
    if (!tune && !any)
        return;
    if (!tune)
        tune = vd_xml_ensure(root, "cputune", root_order);
    vd_xml_remove_all(tune, "vcpupin");
    vd_xml_remove_all(tune, "emulatorpin");
    for (guint i = 0; x && i < x->vcpupins->len; i++) {
        const VdVcpuPin *p = &g_array_index(x->vcpupins, VdVcpuPin, i);
        xmlNode *n = xmlNewNode(NULL, BAD_CAST "vcpupin");
        vd_xml_set_prop_int(n, "vcpu", p->vcpu);
        vd_xml_set_prop(n, "cpuset", p->cpuset);
        vd_xml_insert(tune, n, tune_order);
    }
    if (x && x->emulatorpin) {
        xmlNode *n = xmlNewNode(NULL, BAD_CAST "emulatorpin");
        vd_xml_set_prop(n, "cpuset", x->emulatorpin);
        vd_xml_insert(tune, n, tune_order);
    }
    /* <cputune> with nothing left (the last pin removed) goes too. */
    gboolean elements = tune->properties != NULL;
    for (const xmlNode *c = tune->children; c && !elements; c = c->next)
        elements = c->type == XML_ELEMENT_NODE;
    if (!elements) {
        xmlUnlinkNode(tune);
        xmlFreeNode(tune);
    }
}
