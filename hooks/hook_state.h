/* The container state an OCI hook reads on its stdin (runtime-spec
 * "state"): what ward-hook needs of it. */
#ifndef WARD_HOOK_STATE_H
#define WARD_HOOK_STATE_H

#include <sys/types.h>

#include "error.h"

/* A state document is a few hundred bytes; this bounds a runaway writer. */
#define HOOK_STATE_MAX (1 << 20)

struct hook_state
{
  char *id;
  pid_t pid; /* the container's init */
  char *bundle;
};

/* Read the whole of `fd` and parse it; id, pid (> 0) and bundle are required. */
int hook_state_read (int fd, struct hook_state *state, struct ward_error **err);

int hook_state_parse (const char *text, size_t length, struct hook_state *state, struct ward_error **err);

void hook_state_clear (struct hook_state *state);

#endif
