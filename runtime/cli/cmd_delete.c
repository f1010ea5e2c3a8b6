/* ward delete [--force] ID */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

#include <stddef.h>

enum
{
  OPT_FORCE = 'f',
};

static const struct option delete_options[] = {
  { "force", no_argument, NULL, OPT_FORCE },
  { NULL, 0, NULL, 0 },
};

static int
delete_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  *(bool *)ctx = true;
  return 0;
}

int
cmd_delete (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  bool force = false;
  int first = options_parse ("delete", argc, argv, "f", delete_options, delete_option, &force, err);
  if (first < 0 || options_expect_operands ("delete", argc, argv, first, 1, "delete [--force] ID", err) < 0)
    return -1;
  return container_delete (global->root, argv[first], force, err) < 0 ? -1 : 0;
}
