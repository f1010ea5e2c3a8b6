/* ward features: the OCI runtime features document, for engines that ask
 * what they may configure before they write a config.json. */
#include "config.h"
#include "commands.h"
#include "runtime_features.h"
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
cmd_features (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  int first = options_parse ("features", argc, argv, "", no_options, no_option, NULL, err);
  if (first < 0 || options_expect_operands ("features", argc, argv, first, 0, "features", err) < 0)
    return -1;
  char *json = NULL;
  if (features_render_json (&json, err) < 0)
    return -1;
  fputs (json, stdout);
  free (json);
  return 0;
}
