/* libnftables, loaded with dlopen() the first time a network needs its
 * firewall: a daemon that runs no network never maps it nor what it pulls
 * in (libnftnl, libgmp, libjansson, libxtables: ~1.2 MiB resident). Only
 * the functions firewall-host.c uses are resolved. */
#pragma once

#include <glib.h>
#include <nftables/libnftables.h>

typedef struct {
    struct nft_ctx *(*ctx_new)(uint32_t flags);
    void (*ctx_free)(struct nft_ctx *ctx);
    int (*ctx_buffer_output)(struct nft_ctx *ctx);
    int (*ctx_buffer_error)(struct nft_ctx *ctx);
    const char *(*ctx_get_output_buffer)(struct nft_ctx *ctx);
    const char *(*ctx_get_error_buffer)(struct nft_ctx *ctx);
    void (*ctx_output_set_flags)(struct nft_ctx *ctx, unsigned int flags);
    int (*run_cmd_from_buffer)(struct nft_ctx *nft, const char *buf);
} VdNftLib;

/* The library's functions (loaded once, kept for the process's life), or
 * NULL with VD_ERROR_UNSUPPORTED naming the library and the package. */
const VdNftLib *vd_nft_lib(GError **error);
