/* libnftables, loaded when a firewall is first installed rather than
 * linked: ward runs the egress hook's code in a child of its own, and every
 * other ward command (start, state, delete) would otherwise pay for loading
 * libnftables and its five dependencies on each run. */
#ifndef WARD_NFT_LIBRARY_H
#define WARD_NFT_LIBRARY_H

#include <nftables/libnftables.h>

#include "error.h"

struct nft_library
{
  struct nft_ctx *(*ctx_new) (uint32_t flags);
  void (*ctx_free) (struct nft_ctx *ctx);
  int (*ctx_buffer_output) (struct nft_ctx *ctx);
  int (*ctx_buffer_error) (struct nft_ctx *ctx);
  const char *(*ctx_get_output_buffer) (struct nft_ctx *ctx);
  const char *(*ctx_get_error_buffer) (struct nft_ctx *ctx);
  int (*run_cmd_from_buffer) (struct nft_ctx *ctx, const char *buffer);
  int (*run_cmd_from_filename) (struct nft_ctx *ctx, const char *filename);
};

/* The functions, loaded once (dlopen of the library's soname). */
int nft_library_get (const struct nft_library **out, struct ward_error **err);

#endif
