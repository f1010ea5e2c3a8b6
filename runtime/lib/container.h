/* Creating a container, as seen from ward (the parent): config.json →
 * parsed spec → state directory → clone of the init → id maps → wait for
 * the init to report it is ready → state.json and the pid file. */
#ifndef WARD_CONTAINER_H
#define WARD_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct create_options
{
  const char *root; /* state root */
  const char *id;
  const char *bundle;         /* as given; made absolute */
  const char *pid_file;       /* may be NULL */
  const char *console_socket; /* path of the engine's console socket */
  int console_fd;             /* or an already connected one (run), -1: none */
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  /* ward-hook's code, linked into the CLI: the egress hook runs it in a
   * child instead of exec'ing the ward-hook binary (NULL: exec it). */
  int (*builtin_egress_hook) (int argc, char **argv);
};

/* On success the container is "created": its init waits in its namespaces,
 * rootfs pivoted, for `start`.  On failure nothing is left behind: no state
 * directory, no process, no mount. */
struct create_result
{
  pid_t init_pid;
  bool terminal; /* the process has a terminal (sent over the console socket) */
};

int container_create (const struct create_options *options, struct create_result *result,
                      struct ward_error **err);

#endif
