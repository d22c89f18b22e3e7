/* libnl on demand (nl-lib.h). */
#define VD_NL_NO_REDIRECT
#include "network/nl-lib.h"

#include <dlfcn.h>

#include "util/vd-error.h"

/* libnl-route-3 needs libnl-3, which the loader brings in with it; dlsym
 * on the handle finds the symbols of both. */
#define NL_ROUTE_SONAME "libnl-route-3.so.200"

const VdNlLib *vd_nl_fn;
static VdNlLib table;
static char *load_error;

static gpointer
load(gpointer unused)
{
    void *h = dlopen(NL_ROUTE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        load_error = g_strdup(dlerror());
        return NULL;
    }
#define VD_NL_RESOLVE(name)                                                                    \
    if (!(table.name = (__typeof__(&name))dlsym(h, #name))) {                                  \
        load_error = g_strdup_printf("%s has no %s", NL_ROUTE_SONAME, #name);                 \
        dlclose(h);                                                                            \
        return NULL;                                                                           \
    }
    VD_NL_FUNCS(VD_NL_RESOLVE)
#undef VD_NL_RESOLVE
    /* Kept loaded for the process's life. */
    return &table;
}

gboolean
vd_nl_lib_load(GError **error)
{
    static GOnce once = G_ONCE_INIT;

    vd_nl_fn = g_once(&once, load, NULL);
    if (!vd_nl_fn)
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "cannot load libnl's route library (%s): %s; install it (Debian: apt-get "
                    "install libnl-route-3-200)",
                    NL_ROUTE_SONAME, load_error ? load_error : "unknown error");
    return vd_nl_fn != NULL;
}
