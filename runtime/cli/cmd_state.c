/* ward state ID: runc's state JSON. */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>

static const struct option no_options[] = { { NULL, 0, NULL, 0 } };

static int
no_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  return 0;
}

int
cmd_state (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse ("state", argc, argv, "", no_options, no_option, NULL, err);
  if (first < 0 || options_expect_operands ("state", argc, argv, first, 1, "state ID", err) < 0)
    return -1;
  char *json = NULL;
  if (container_state_json (global->root, argv[first], &json, err) < 0)
    return -1;
  puts (json);
  free (json);
  return 0;
}
