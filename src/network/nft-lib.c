/* libnftables on demand (nft-lib.h). */
#include "network/nft-lib.h"

#include <dlfcn.h>

#include "util/vd-error.h"

#define NFT_SONAME "libnftables.so.1"

static VdNftLib lib;
static char *load_error;

static gpointer
load(gpointer unused)
{
    void *h = dlopen(NFT_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        load_error = g_strdup(dlerror());
        return NULL;
    }
    struct {
        const char *name;
        void **slot;
    } syms[] = {
        {"nft_ctx_new", (void **)&lib.ctx_new},
        {"nft_ctx_free", (void **)&lib.ctx_free},
        {"nft_ctx_buffer_output", (void **)&lib.ctx_buffer_output},
        {"nft_ctx_buffer_error", (void **)&lib.ctx_buffer_error},
        {"nft_ctx_get_output_buffer", (void **)&lib.ctx_get_output_buffer},
        {"nft_ctx_get_error_buffer", (void **)&lib.ctx_get_error_buffer},
        {"nft_ctx_output_set_flags", (void **)&lib.ctx_output_set_flags},
        {"nft_run_cmd_from_buffer", (void **)&lib.run_cmd_from_buffer},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(syms); i++) {
        *syms[i].slot = dlsym(h, syms[i].name);
        if (!*syms[i].slot) {
            load_error = g_strdup_printf("%s has no %s", NFT_SONAME, syms[i].name);
            dlclose(h);
            return NULL;
        }
    }
    /* Kept loaded: the process uses it again at the next net-start. */
    return &lib;
}

const VdNftLib *
vd_nft_lib(GError **error)
{
    static GOnce once = G_ONCE_INIT;
    const VdNftLib *l = g_once(&once, load, NULL);

    if (!l)
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "cannot load nftables' library (%s): %s; install it (Debian: apt-get "
                    "install libnftables1)",
                    NFT_SONAME, load_error ? load_error : "unknown error");
    return l;
}
