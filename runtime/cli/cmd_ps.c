/* ward ps [--format table|json] ID [PS-ARGS...]: the container's processes.
 * json is a plain array of host pids (what containerd parses); table is
 * the host's ps(1) output (default -ef) cut down to those pids, as runc
 * prints it. */
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "lifecycle.h"
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct option ps_options[] = {
  { "format", required_argument, NULL, 'f' },
  { NULL, 0, NULL, 0 },
};

static int
ps_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  if (strcmp (value, "json") == 0)
    *(bool *)ctx = true;
  else if (strcmp (value, "table") != 0)
    return ward_fail (err, 0, "ps: --format: expected table or json, got \"%s\"", value);
  return 0;
}

static bool
listed (pid_t pid, const pid_t *pids, size_t count)
{
  for (size_t i = 0; i < count; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* Column of PID in ps's header line, counting whitespace-separated fields. */
static int
pid_column (const char *header)
{
  int column = 0;
  for (const char *p = header; *p;)
    {
      while (*p == ' ')
        p++;
      if (strncmp (p, "PID", 3) == 0 && (p[3] == ' ' || p[3] == '\n' || p[3] == '\0'))
        return column;
      while (*p && *p != ' ')
        p++;
      column++;
    }
  return -1;
}

static long
field_at (const char *line, int column)
{
  const char *p = line;
  for (int i = 0; i < column; i++)
    {
      while (*p == ' ')
        p++;
      while (*p && *p != ' ')
        p++;
    }
  return strtol (p, NULL, 10);
}

static int
print_table (char **ps_args, int ps_argc, const pid_t *pids, size_t count, struct ward_error **err)
{
  int pipefd[2];
  if (pipe (pipefd) < 0)
    return ward_fail (err, errno, "pipe");
  pid_t child = fork ();
  if (child < 0)
    return ward_fail (err, errno, "fork");
  if (child == 0)
    {
      char *argv[64] = { "ps" };
      int n = 1;
      if (ps_argc == 0)
        argv[n++] = "-ef";
      for (int i = 0; i < ps_argc && n < 63; i++)
        argv[n++] = ps_args[i];
      dup2 (pipefd[1], STDOUT_FILENO);
      close (pipefd[0]);
      close (pipefd[1]);
      execvp ("ps", argv);
      _exit (127);
    }
  close (pipefd[1]);
  cleanup_fclose FILE *out = fdopen (pipefd[0], "r");
  char *line = NULL;
  size_t size = 0;
  int column = -1;
  for (bool header = true; out && getline (&line, &size, out) > 0; header = false)
    {
      if (header)
        {
          column = pid_column (line);
          fputs (line, stdout);
        }
      else if (column >= 0 && listed ((pid_t)field_at (line, column), pids, count))
        fputs (line, stdout);
    }
  free (line);
  int status;
  waitpid (child, &status, 0);
  if (column < 0)
    return ward_fail (err, 0, "ps: the output of ps(1) has no PID column");
  return 0;
}

int
cmd_ps (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  bool json = false;
  int first = options_parse ("ps", argc, argv, "f:", ps_options, ps_option, &json, err);
  if (first < 0)
    return -1;
  if (first >= argc)
    return options_expect_operands ("ps", argc, argv, first, 1, "ps [--format table|json] ID [PS-ARGS...]",
                                    err);
  cleanup_free pid_t *pids = NULL;
  size_t count = 0;
  if (container_pids (global->root, argv[first], &pids, &count, err) < 0)
    return -1;
  if (!json)
    return print_table (argv + first + 1, argc - first - 1, pids, count, err) < 0 ? -1 : 0;
  fputs ("[", stdout);
  for (size_t i = 0; i < count; i++)
    printf ("%s%d", i ? "," : "", pids[i]);
  fputs ("]\n", stdout);
  return 0;
}
