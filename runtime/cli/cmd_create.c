/* ward create [--bundle B] [--pid-file F] [--console-socket S] [--no-pivot]
 *             [--no-new-keyring] [--preserve-fds N] ID */
#include "config.h"
#include "commands.h"
#include "container.h"
#include "options.h"
#include "create_options.h"
#include "egress_hook.h"

#include <stdlib.h>

static const struct option create_options_table[] = {
  CREATE_OPTIONS,
  { NULL, 0, NULL, 0 },
};

int
create_parse_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct create_options *o = ctx;
  switch (option)
    {
    case OPT_BUNDLE:
      o->bundle = value;
      return 0;
    case OPT_PID_FILE:
      o->pid_file = value;
      return 0;
    case OPT_CONSOLE_SOCKET:
      o->console_socket = value;
      return 0;
    case OPT_NO_PIVOT:
      o->no_pivot = true;
      return 0;
    case OPT_NO_NEW_KEYRING:
      o->no_new_keyring = true;
      return 0;
    case OPT_PRESERVE_FDS:
      if (options_parse_int ("create", "--preserve-fds", value, &o->preserve_fds, err) < 0)
        return -1;
      if (o->preserve_fds < 0)
        return ward_fail (err, 0, "--preserve-fds: must not be negative");
      return 0;
    }
  return ward_fail (err, 0, "unknown option");
}

int
cmd_create (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct create_options o = { .root = global->root, .console_fd = -1, .builtin_egress_hook = ward_hook_main };
  int first = options_parse ("create", argc, argv, "b:", create_options_table, create_parse_option, &o, err);
  if (first < 0 || options_expect_operands ("create", argc, argv, first, 1, "create [options] ID", err) < 0)
    return -1;
  o.id = argv[first];
  struct create_result result;
  if (container_create (&o, &result, err) < 0)
    return -1;
  return 0;
}
