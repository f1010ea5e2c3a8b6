/* ward resume ID: thaw a paused container. */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

int
cmd_resume (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse_none ("resume", argc, argv, err);
  if (first < 0 || options_expect_operands ("resume", argc, argv, first, 1, "resume ID", err) < 0)
    return -1;
  return container_pause (global->root, argv[first], false, err) < 0 ? -1 : 0;
}
