/* Storage pool XML (conf/storage-pool-def.c): parse -> format -> parse ->
 * format must give the same text twice. */
#include "fuzz-common.h"

#include "conf/storage-pool-def.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet_glib();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = fuzz_strndup(data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStoragePoolDef) def = vd_storage_pool_def_parse(xml, &error);

    if (!def) {
        FUZZ_ASSERT(error && error->message, "pool: refused without an error message");
        return 0;
    }
    g_autofree char *first = vd_storage_pool_def_format(def);
    g_autoptr(VdStoragePoolDef) again = vd_storage_pool_def_parse(first, &error);
    FUZZ_ASSERT(again, "pool: its own format is refused: %s\n%s", error->message, first);
    g_autofree char *second = vd_storage_pool_def_format(again);
    fuzz_check_fixed_point("pool", first, second);
    return 0;
}
