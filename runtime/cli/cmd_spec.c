/* ward spec [--bundle DIR] [--rootless]: write a default config.json. */
#include "config.h"
#include "commands.h"
#include "options.h"

#include <stddef.h>

#include "spec_default.h"

enum
{
  OPT_BUNDLE = 'b',
  OPT_ROOTLESS = 1000,
};

static const struct option spec_options[] = {
  { "bundle", required_argument, NULL, OPT_BUNDLE },
  { "rootless", no_argument, NULL, OPT_ROOTLESS },
  { NULL, 0, NULL, 0 },
};

struct spec_args
{
  const char *bundle;
  bool rootless;
};

static int
handle_spec_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct spec_args *args = ctx;
  switch (option)
    {
    case OPT_BUNDLE:
      args->bundle = value;
      break;
    case OPT_ROOTLESS:
      args->rootless = true;
      break;
    }
  return 0;
}

int
cmd_spec (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct spec_args args = { .bundle = "." };
  int first = options_parse ("spec", argc, argv, "b:", spec_options, handle_spec_option, &args, err);
  if (first < 0)
    return -1;
  if (options_expect_operands ("spec", argc, argv, first, 0, "spec [--bundle DIR] [--rootless]", err) < 0)
    return -1;
  if (spec_default_write (args.bundle, args.rootless, err) < 0)
    return -1;
  return 0;
}
