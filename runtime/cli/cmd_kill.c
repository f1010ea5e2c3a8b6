/* ward kill [--all] ID [SIGNAL]: SIGNAL by name or number, TERM by default. */
#include "config.h"
#include "commands.h"
#include "lifecycle.h"
#include "options.h"

#include <stddef.h>
#include "signals.h"

#include <signal.h>

enum
{
  OPT_ALL = 'a',
};

static const struct option kill_options[] = {
  { "all", no_argument, NULL, OPT_ALL },
  { NULL, 0, NULL, 0 },
};

static int
kill_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  *(bool *)ctx = true;
  return 0;
}

int
cmd_kill (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  bool all = false;
  int first = options_parse ("kill", argc, argv, "a", kill_options, kill_option, &all, err);
  if (first < 0)
    return -1;
  int operands = argc - first;
  if (operands < 1 || operands > 2)
    return options_expect_operands ("kill", argc, argv, first, operands < 1 ? 1 : 2,
                                    "kill [--all] ID [SIGNAL]", err);
  int signum = SIGTERM;
  if (operands == 2 && signal_parse (argv[first + 1], &signum, err) < 0)
    return -1;
  return container_kill (global->root, argv[first], signum, all, err) < 0 ? -1 : 0;
}
