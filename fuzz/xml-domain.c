/* Domain XML (conf/domain-parse.c): parse, fill in defaults, format; the
 * formatted text must parse again and format to the very same text. */
#include "fuzz-common.h"

#include "conf/domain-def.h"

/* Parse -> defaults -> format, as define does before storing. NULL if the
 * input is refused. */
static char *
parse_format(const char *xml, gssize len, VdDomainFormatFlags flags, GError **error)
{
    g_autoptr(VdDomainDef) def = vd_domain_def_parse(xml, len, error);

    if (!def)
        return NULL;
    vd_domain_def_apply_defaults(def);
    /* Exercised for its own sake; its verdict does not change the format. */
    g_autoptr(GError) invalid = NULL;
    (void)vd_domain_def_validate(def, &invalid);
    return vd_domain_def_format(def, flags);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    /* SECURE: passwords are kept, so the second parse sees them too. */
    const VdDomainFormatFlags flags = VD_DOMAIN_FORMAT_SECURE;
    g_autofree char *first = parse_format((const char *)data, (gssize)size, flags, &error);

    if (!first) {
        FUZZ_ASSERT(error && error->message, "domain: refused without an error message");
        return 0;
    }
    g_autofree char *second = parse_format(first, -1, flags, &error);
    FUZZ_ASSERT(second, "domain: its own format is refused: %s\n%s", error->message, first);
    fuzz_check_fixed_point("domain", first, second);
    return 0;
}
