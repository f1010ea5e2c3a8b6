/* ward exec [--process F] [--detach] [--pid-file F] [--tty] [--console-socket S]
 *           [--env K=V]... [--cwd D] [--user U[:G]] [--cap C]... [--no-new-privs]
 *           [--preserve-fds N] [--apparmor P] [--process-label L] ID [ARGS...]
 * Without --detach the exit status is the process's. */
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "exec.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

enum
{
  OPT_PROCESS = 'p',
  OPT_DETACH = 'd',
  OPT_TTY = 't',
  OPT_ENV = 'e',
  OPT_CWD = 1000,
  OPT_USER = 'u',
  OPT_CAP = 'c',
  OPT_PID_FILE = 1001,
  OPT_CONSOLE_SOCKET,
  OPT_NO_NEW_PRIVS,
  OPT_PRESERVE_FDS,
  OPT_APPARMOR,
  OPT_PROCESS_LABEL,
};

static const struct option exec_options_table[] = {
  { "process", required_argument, NULL, OPT_PROCESS },
  { "detach", no_argument, NULL, OPT_DETACH },
  { "tty", no_argument, NULL, OPT_TTY },
  { "env", required_argument, NULL, OPT_ENV },
  { "cwd", required_argument, NULL, OPT_CWD },
  { "user", required_argument, NULL, OPT_USER },
  { "cap", required_argument, NULL, OPT_CAP },
  { "pid-file", required_argument, NULL, OPT_PID_FILE },
  { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
  { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
  { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
  { "apparmor", required_argument, NULL, OPT_APPARMOR },
  { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
  { NULL, 0, NULL, 0 },
};

static int
push (char ***array, size_t *count, const char *value, struct ward_error **err)
{
  char **grown = realloc (*array, (*count + 2) * sizeof *grown);
  if (grown == NULL)
    return ward_fail (err, ENOMEM, "exec");
  grown[(*count)++] = (char *)value;
  grown[*count] = NULL;
  *array = grown;
  return 0;
}

static int
exec_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct exec_options *o = ctx;
  switch (option)
    {
    case OPT_PROCESS:
      o->process_file = value;
      break;
    case OPT_DETACH:
      o->detach = true;
      break;
    case OPT_TTY:
      o->tty = true;
      break;
    case OPT_ENV:
      return push (&o->env, &o->env_count, value, err);
    case OPT_CWD:
      o->cwd = value;
      break;
    case OPT_USER:
      o->user = value;
      break;
    case OPT_CAP:
      return push (&o->caps, &o->caps_count, value, err);
    case OPT_PID_FILE:
      o->pid_file = value;
      break;
    case OPT_CONSOLE_SOCKET:
      o->console_socket = value;
      break;
    case OPT_NO_NEW_PRIVS:
      o->no_new_privs = true;
      break;
    case OPT_PRESERVE_FDS:
      if (options_parse_int ("exec", "--preserve-fds", value, &o->preserve_fds, err) < 0)
        return -1;
      if (o->preserve_fds < 0)
        return ward_fail (err, 0, "exec: --preserve-fds: must not be negative");
      break;
    case OPT_APPARMOR:
      o->apparmor = value;
      break;
    case OPT_PROCESS_LABEL:
      o->process_label = value;
      break;
    }
  return 0;
}

int
cmd_exec (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct exec_options o = { .root = global->root };
  int status = -1;
  int first = options_parse ("exec", argc, argv, "p:dte:u:c:", exec_options_table, exec_option, &o, err);
  if (first >= 0 && first >= argc)
    options_expect_operands ("exec", argc, argv, first, 1, "exec [options] ID [COMMAND ARGS...]", err);
  else if (first >= 0)
    {
      o.id = argv[first];
      o.args = argv + first + 1;
      o.args_count = argc - first - 1;
      if (container_exec (&o, &status, err) < 0)
        status = -1;
    }
  free (o.env);
  free (o.caps);
  return status;
}
