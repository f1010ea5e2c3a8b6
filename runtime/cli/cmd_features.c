/* ward features: the OCI runtime features document, for engines that ask
 * what they may configure before they write a config.json. */
#include "config.h"
#include "commands.h"
#include "runtime_features.h"
#include "options.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

int
cmd_features (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse_none ("features", argc, argv, err);
  if (first < 0 || options_expect_operands ("features", argc, argv, first, 0, "features", err) < 0)
    return -1;
  char *json = NULL;
  if (features_render_json (&json, err) < 0)
    return -1;
  fputs (json, stdout);
  free (json);
  return 0;
}
