/* The container's init: the child of `ward create` that sets the container
 * up from the inside, waits for `ward start`, and becomes the user process
 * with execve(2). */
#ifndef WARD_INIT_H
#define WARD_INIT_H

#include <stdbool.h>

#include "cgroup.h"
#include "landlock.h"
#include "seccomp.h"
#include "spec.h"

struct init_context
{
  struct spec *spec;                     /* the init's own copy: it completes the process's environment */
  const char *bundle;                    /* absolute */
  const char *rootfs;                    /* absolute, resolved */
  int sync_fd;                           /* our end of the socketpair with ward */
  int start_fd;                          /* listening socket `ward start` connects to */
  int console_fd;                        /* connected console socket for process.terminal, or -1 */
  int state_lock_fd;                     /* ward's lock on the container: closed at once, or the
                                            lock would be held until execve and `start` would wait
                                            for it forever */
  int preserve_fds;                      /* fds 3 .. 3+N-1 pass through to the process */
  const struct seccomp_program *seccomp; /* compiled by ward; NULL: none */
  const struct seccomp_program *policy_seccomp; /* the policy's, stacked on it; NULL: none */
  const struct landlock_policy *landlock;       /* the policy's second layer; NULL: none */
  const struct cgroup *cgroup;                  /* v1 cgroups to move into ourselves; NULL: ward placed us */
  bool no_pivot;
  bool no_new_keyring;
};

/* Never returns: execs the user process or exits non-zero after reporting
 * the failure to ward over sync_fd (or, after start, over the start
 * connection). */
__attribute__ ((noreturn)) void init_main (const struct init_context *ctx);

#endif
