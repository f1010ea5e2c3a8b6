#include "config.h"
#include "nft_library.h"

#include <dlfcn.h>
#include <stddef.h>

#define NFT_LIBRARY_SONAME "libnftables.so.1"

static const struct
{
  const char *symbol;
  size_t offset;
} symbols[] = {
  { "nft_ctx_new", offsetof (struct nft_library, ctx_new) },
  { "nft_ctx_free", offsetof (struct nft_library, ctx_free) },
  { "nft_ctx_buffer_output", offsetof (struct nft_library, ctx_buffer_output) },
  { "nft_ctx_buffer_error", offsetof (struct nft_library, ctx_buffer_error) },
  { "nft_ctx_get_output_buffer", offsetof (struct nft_library, ctx_get_output_buffer) },
  { "nft_ctx_get_error_buffer", offsetof (struct nft_library, ctx_get_error_buffer) },
  { "nft_run_cmd_from_buffer", offsetof (struct nft_library, run_cmd_from_buffer) },
  { "nft_run_cmd_from_filename", offsetof (struct nft_library, run_cmd_from_filename) },
};

int
nft_library_get (const struct nft_library **out, struct ward_error **err)
{
  static struct nft_library library;
  static bool loaded;
  if (!loaded)
    {
      void *handle = dlopen (NFT_LIBRARY_SONAME, RTLD_NOW | RTLD_LOCAL);
      if (handle == NULL)
        return ward_fail (err, 0, "load %s: %s", NFT_LIBRARY_SONAME, dlerror ());
      for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
        {
          void *function = dlsym (handle, symbols[i].symbol);
          if (function == NULL)
            return ward_fail (err, 0, "%s: no %s", NFT_LIBRARY_SONAME, symbols[i].symbol);
          *(void **)((char *)&library + symbols[i].offset) = function;
        }
      loaded = true;
    }
  *out = &library;
  return 0;
}
