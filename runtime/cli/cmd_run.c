/* ward run [--bundle B] [--detach] [--pid-file F] [create options] ID:
 * create, start, and (unless detached) wait and delete.  The exit status is
 * the container's: its code, or 128 + the signal that ended it. */
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "container.h"
#include "container_audit.h"
#include "lifecycle.h"
#include "options.h"
#include "signals.h"
#include "terminal.h"
#include "create_options.h"
#include "egress_hook.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum
{
  OPT_DETACH = 'd',
  OPT_KEEP = 2000,
};

static const struct option run_options_table[] = {
  CREATE_OPTIONS,
  { "detach", no_argument, NULL, OPT_DETACH },
  { "keep", no_argument, NULL, OPT_KEEP },
  { NULL, 0, NULL, 0 },
};

struct run_request
{
  struct create_options create;
  bool detach;
  bool keep;
};

static int
run_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct run_request *r = ctx;
  if (option == OPT_DETACH)
    r->detach = true;
  else if (option == OPT_KEEP)
    r->keep = true;
  else
    return create_parse_option (&r->create, option, value, err);
  return 0;
}

/* The exit is recorded at once: the cgroup still holds the CPU time, and
 * the duration is not stretched by the delete that follows. */
static int
wait_for_exit (const char *root, const char *id, pid_t pid, struct ward_error **err)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return ward_fail (err, errno, "wait for the container");
  container_audit_exited (root, id, status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}

static void
delete_quietly (const char *root, const char *id)
{
  struct ward_error *ignored = NULL;
  container_delete (root, id, true, &ignored);
  ward_error_free (&ignored);
}

int
cmd_run (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct run_request r
      = { .create = { .root = global->root, .console_fd = -1, .builtin_egress_hook = ward_hook_main } };
  int first = options_parse ("run", argc, argv, "b:d", run_options_table, run_option, &r, err);
  if (first < 0 || options_expect_operands ("run", argc, argv, first, 1, "run [options] ID", err) < 0)
    return -1;
  const char *id = argv[first];
  r.create.id = id;

  /* Without --console-socket, a terminal the config asks for comes to us,
   * and we connect it to our own. */
  int console[2] = { -1, -1 };
  if (r.create.console_socket == NULL && !r.detach)
    {
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0)
        return ward_fail (err, errno, "socketpair");
      r.create.console_fd = console[1];
    }
  struct create_result created;
  int ret = container_create (&r.create, &created, err);
  if (console[1] >= 0)
    close (console[1]);
  cleanup_close int console_ours = console[0];
  if (ret < 0)
    return -1;
  cleanup_close int master = -1;
  if (created.terminal && console_ours >= 0 && (master = terminal_receive_master (console_ours, err)) < 0)
    {
      delete_quietly (global->root, id);
      return -1;
    }
  /* Sized like our own terminal before the process starts and asks. */
  if (master >= 0)
    terminal_inherit_window_size (master);
  if (!r.detach)
    signals_forward_to (created.init_pid);
  if (container_start (global->root, id, err) < 0)
    {
      delete_quietly (global->root, id);
      return -1;
    }
  if (r.detach)
    return 0;
  if (master >= 0 && terminal_relay (master, err) < 0)
    log_warning ("%s", (*err)->message), ward_error_free (err);
  int status = wait_for_exit (global->root, id, created.init_pid, err);
  if (!r.keep)
    {
      struct ward_error *delete_err = NULL;
      if (container_delete (global->root, id, true, &delete_err) < 0)
        {
          log_warning ("%s", delete_err->message);
          ward_error_free (&delete_err);
        }
    }
  return status;
}
