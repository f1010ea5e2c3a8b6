/* `ward exec`: a new process in a running container, in all of its
 * namespaces and cgroups, under its seccomp filter, capabilities,
 * no_new_privs, labels and limits unless the process JSON says otherwise. */
#ifndef WARD_EXEC_H
#define WARD_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct exec_options
{
  const char *root;
  const char *id;
  const char *process_file; /* --process: the OCI process JSON, as engines send it */
  char **args;              /* trailing arguments (when no --process) */
  size_t args_count;
  bool detach;
  bool tty;
  const char *console_socket;
  const char *pid_file;
  char **env; /* --env K=V, added to the container's */
  size_t env_count;
  const char *cwd;
  const char *user; /* "UID[:GID]" */
  char **caps;      /* --cap, added to every set */
  size_t caps_count;
  bool no_new_privs;
  int preserve_fds;
  const char *apparmor;
  const char *process_label;
};

/* Run the process; without detach, *exit_status is its status (128 +
 * signal when killed).  With detach, returns once it has exec'd. */
int container_exec (const struct exec_options *options, int *exit_status, struct ward_error **err);

#endif
