/* ward pause ID: freeze every process of the container. */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

int
cmd_pause (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse_none ("pause", argc, argv, err);
  if (first < 0 || options_expect_operands ("pause", argc, argv, first, 1, "pause ID", err) < 0)
    return -1;
  return container_pause (global->root, argv[first], true, err) < 0 ? -1 : 0;
}
