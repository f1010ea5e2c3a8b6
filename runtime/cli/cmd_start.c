/* ward start ID */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

int
cmd_start (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse_none ("start", argc, argv, err);
  if (first < 0 || options_expect_operands ("start", argc, argv, first, 1, "start ID", err) < 0)
    return -1;
  return container_start (global->root, argv[first], err) < 0 ? -1 : 0;
}
