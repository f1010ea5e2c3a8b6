/* For unit tests that need a network of their own: NETWORK_TEST (name)
 * defines a test whose body runs in a forked child, in a fresh network
 * namespace with lo up, so nothing it binds or installs touches the host's.
 * The child's failed checks fail the test; without the privilege to make
 * a namespace the test says it was skipped.  Include after harness.h. */
#ifndef WARD_TEST_PRIVATE_NETWORK_H
#define WARD_TEST_PRIVATE_NETWORK_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces.h"

static inline void
run_in_private_network_at (const char *file, int line, void (*body) (void))
{
  pid_t pid = fork ();
  if (pid < 0)
    {
      harness_check (false, file, line, "fork");
      return;
    }
  if (pid == 0)
    {
      harness_failed_checks = 0;
      if (unshare (CLONE_NEWNET) < 0)
        {
          printf ("  skipped: no network namespace (%s)\n", strerror (errno));
          fflush (stdout);
          _exit (errno == EPERM ? 0 : 1);
        }
      struct ward_error *err = NULL;
      if (CHECK (namespaces_loopback_up (&err) == 0))
        body ();
      ward_error_free (&err);
      fflush (stdout);
      _exit (harness_failed_checks == 0 ? 0 : 1);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  harness_check (WIFEXITED (status) && WEXITSTATUS (status) == 0, file, line, "child's checks passed");
}

#define RUN_IN_PRIVATE_NETWORK(body) run_in_private_network_at (__FILE__, __LINE__, (body))

#define NETWORK_TEST(name)                                                                                   \
  static void name (void);                                                                                   \
  TEST (name)                                                                                                \
  {                                                                                                          \
    RUN_IN_PRIVATE_NETWORK (name);                                                                           \
  }                                                                                                          \
  static void name (void)

#endif
