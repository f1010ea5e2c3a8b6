/* The subcommands of the ward CLI: one file each, thin over libward. */
#ifndef WARD_COMMANDS_H
#define WARD_COMMANDS_H

#include <stdbool.h>

#include "error.h"
#include "log.h"

struct global_options
{
  const char *root; /* state directory, default /run/ward */
  const char *log_path;
  enum log_format log_format;
  bool debug;
  bool systemd_cgroup;
};

/* argv[0] is the subcommand's name.  Returns the exit status (>= 0), or -1
 * with *err set: main prints it once and exits 1. */
typedef int command_fn (struct global_options *global, int argc, char **argv, struct ward_error **err);

command_fn cmd_spec;
command_fn cmd_create;
command_fn cmd_start;
command_fn cmd_run;
command_fn cmd_state;
command_fn cmd_kill;
command_fn cmd_delete;
command_fn cmd_list;
command_fn cmd_pause;
command_fn cmd_resume;
command_fn cmd_ps;
command_fn cmd_update;
command_fn cmd_events;
command_fn cmd_features;
command_fn cmd_exec;
command_fn cmd_policy;
command_fn cmd_audit;
command_fn cmd_top;
command_fn cmd_verify;

#endif
