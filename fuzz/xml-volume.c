/* Storage volume XML (conf/storage-vol-def.c): parse -> format -> parse ->
 * format must give the same text twice. */
#include "fuzz-common.h"

#include "conf/storage-vol-def.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet_glib();
    return 0;
}

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
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStorageVolDef) def = vd_storage_vol_def_parse(xml, &error);

    if (!def) {
        FUZZ_ASSERT(error && error->message, "volume: refused without an error message");
        return 0;
    }
    place_in_pool(def);
    g_autofree char *first = vd_storage_vol_def_format(def);
    g_autoptr(VdStorageVolDef) again = vd_storage_vol_def_parse(first, &error);
    FUZZ_ASSERT(again, "volume: its own format is refused: %s\n%s", error->message, first);
    place_in_pool(again);
    g_autofree char *second = vd_storage_vol_def_format(again);
    fuzz_check_fixed_point("volume", first, second);
    return 0;
}
