/* ward pause ID: freeze every process of the container. */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

#include <stddef.h>

static const struct option no_options[] = { { NULL, 0, NULL, 0 } };

static int
no_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  return 0;
}

int
cmd_pause (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse ("pause", argc, argv, "", no_options, no_option, NULL, err);
  if (first < 0 || options_expect_operands ("pause", argc, argv, first, 1, "pause ID", err) < 0)
    return -1;
  return container_pause (global->root, argv[first], true, err) < 0 ? -1 : 0;
}
