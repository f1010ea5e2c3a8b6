/* ward state ID: runc's state JSON. */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>

int
cmd_state (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse_none ("state", argc, argv, err);
  if (first < 0 || options_expect_operands ("state", argc, argv, first, 1, "state ID", err) < 0)
    return -1;
  char *json = NULL;
  if (container_state_json (global->root, argv[first], &json, err) < 0)
    return -1;
  puts (json);
  free (json);
  return 0;
}
