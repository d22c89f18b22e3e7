/* Storage volume XML (conf/storage-vol-def.c): parse -> format -> parse ->
 * format must give the same text twice. */
#include "fuzz-common.h"

#include "conf/storage-vol-def.h"

/* A volume is formatted once it is in a pool (storage/storage-vol.c):
 * its path is the pool's target and its name, never part of the input. */
static void
place_in_pool(VdStorageVolDef *def)
{
    g_free(def->path);
    def->path = g_build_filename("/var/lib/virtd/images", def->name, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = fuzz_strndup(data, size);

    FUZZ_XML_FIXED_POINT("volume", VdStorageVolDef, xml, vd_storage_vol_def_parse,
                         place_in_pool, vd_storage_vol_def_format);
    return 0;
}
