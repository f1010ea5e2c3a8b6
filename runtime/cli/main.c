/* ward: global options, then one subcommand.  Every command returns its
 * exit status or an error, which is printed here exactly once. */
#include "config.h"
#include "commands.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_features.h"

struct command
{
  const char *name;
  command_fn *run;
};

static const struct command commands[] = {
  { "create", cmd_create }, { "start", cmd_start }, { "run", cmd_run },
  { "state", cmd_state },   { "kill", cmd_kill },   { "delete", cmd_delete },
  { "list", cmd_list },     { "spec", cmd_spec },   { "pause", cmd_pause },
  { "resume", cmd_resume }, { "ps", cmd_ps },       { "update", cmd_update },
  { "events", cmd_events }, { "exec", cmd_exec },   { "features", cmd_features },
  { "policy", cmd_policy }, { "audit", cmd_audit }, { "top", cmd_top },
  { "verify", cmd_verify },
};

static void
print_usage (FILE *out)
{
  fputs ("usage: ward [global options] COMMAND [options] [ID] [ARGS...]\n"
         "\n"
         "A hardened OCI container runtime for running AI agents' code.\n"
         "\n"
         "Commands:\n"
         "  create   create a container, leaving its process waiting for start\n"
         "  start    run the user process of a created container\n"
         "  run      create and start a container, and wait for it\n"
         "  state    print a container's state as JSON\n"
         "  kill     send a signal to a container's process\n"
         "  delete   remove a stopped container (--force: any)\n"
         "  list     list containers\n"
         "  pause    freeze every process of a container\n"
         "  resume   thaw a paused container\n"
         "  ps       list a container's processes\n"
         "  update   change a running container's resource limits\n"
         "  events   print a container's resource statistics and OOM events\n"
         "  exec     run a new process in a running container\n"
         "  features print the OCI features ward supports, as JSON\n"
         "  policy   list and show the policy profiles (list, show NAME)\n"
         "  audit    print a container's audit log (--follow, --json, --since T)\n"
         "  top      watch the running containers' budgets (--once: one frame)\n"
         "  verify   try to break out of the sandbox a policy gives, and report\n"
         "  spec     write a default config.json\n"
         "\n"
         "Global options:\n"
         "  --root DIR           state directory (default /run/ward)\n"
         "  --log FILE           also write messages to FILE\n"
         "  --log-format FORMAT  text or json\n"
         "  --debug              log debug messages\n"
         "  --systemd-cgroup     use the systemd cgroup driver (not supported)\n"
         "  --version            print the version\n",
         out);
}

enum
{
  OPT_ROOT = 1000,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_VERSION,
  OPT_HELP,
};

static const struct option global_options_table[] = {
  { "root", required_argument, NULL, OPT_ROOT },
  { "log", required_argument, NULL, OPT_LOG },
  { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
  { "debug", no_argument, NULL, OPT_DEBUG },
  { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
  { "version", no_argument, NULL, OPT_VERSION },
  { "help", no_argument, NULL, OPT_HELP },
  { NULL, 0, NULL, 0 },
};

struct global_parse
{
  struct global_options *options;
  const char *log_format_name;
  bool version, help;
};

static int
handle_global (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct global_parse *p = ctx;
  switch (option)
    {
    case OPT_ROOT:
      p->options->root = value;
      break;
    case OPT_LOG:
      p->options->log_path = value;
      break;
    case OPT_LOG_FORMAT:
      p->log_format_name = value;
      break;
    case OPT_DEBUG:
      p->options->debug = true;
      break;
    case OPT_SYSTEMD_CGROUP:
      p->options->systemd_cgroup = true;
      break;
    case OPT_VERSION:
    case 'v':
      p->version = true;
      break;
    case OPT_HELP:
    case 'h':
      p->help = true;
      break;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  struct global_options global = { .root = "/run/ward", .log_format = LOG_FORMAT_TEXT };
  struct global_parse parse = { .options = &global };
  struct ward_error *err = NULL;

  int first = options_parse ("ward", argc, argv, "vh", global_options_table, handle_global, &parse, &err);
  /* The log must be set up before any error is printed, so that an engine
   * sees even an option error in its log file. */
  if (parse.log_format_name && log_parse_format (parse.log_format_name, &global.log_format) < 0)
    {
      log_init (global.log_path, LOG_FORMAT_TEXT, global.debug);
      log_error ("invalid --log-format \"%s\" (expected text or json)", parse.log_format_name);
      return 1;
    }
  log_init (global.log_path, global.log_format, global.debug);
  if (first < 0)
    goto fail;
  if (parse.version)
    {
      features_print_version (stdout);
      return 0;
    }
  if (parse.help)
    {
      print_usage (stdout);
      return 0;
    }
  if (first >= argc)
    {
      print_usage (stderr);
      return 1;
    }
  if (global.systemd_cgroup)
    {
      ward_fail (&err, 0, "--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs paths");
      goto fail;
    }

  const char *name = argv[first];
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (commands[i].name, name) == 0)
      {
        int status = commands[i].run (&global, argc - first, argv + first, &err);
        if (status < 0)
          goto fail;
        return status;
      }
  ward_fail (&err, 0, "unknown command \"%s\" (see ward --help)", name);

fail:
  log_error ("%s", err ? err->message : "unknown error");
  ward_error_free (&err);
  return 1;
}
