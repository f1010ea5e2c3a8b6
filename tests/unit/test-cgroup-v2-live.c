/* The cgroup v2 paths of freeze, thaw, list and kill, on the real cgroup2
 * mount of the machine (on a hybrid host, /sys/fs/cgroup/unified): a
 * cgroup made beneath this process's own, holding a child made straight
 * into it.  ward picks the v1 freezer when a host has one, so these paths
 * are driven here with a cgroup description that has only the unified
 * hierarchy, as a pure v2 host would give.  Needs root; skipped (and says
 * why) without a cgroup2 mount. */
#include "config.h"
#include "harness.h"
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char unified_mount[64];

static bool
find_cgroup2 (void)
{
  static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
    {
      struct statfs sf;
      if (statfs (candidates[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
        {
          snprintf (unified_mount, sizeof unified_mount, "%s", candidates[i]);
          return true;
        }
    }
  return false;
}

/* A v2-only description of a fresh cgroup beneath our own. */
static bool
make_cgroup (struct cgroup *cg)
{
  memset (cg, 0, sizeof *cg);
  cleanup_free char *own = cgroup_self_path ("");
  if (own == NULL)
    return false;
  cg->layout = CGROUP_LAYOUT_V2;
  cg->count = 1;
  if (asprintf (&cg->hierarchies[0].path, "%s%s/ward-unit-v2-%d", unified_mount, strcmp (own, "/") ? own : "",
                getpid ())
      < 0)
    return false;
  cg->hierarchies[0].unified = true;
  return mkdir (cg->hierarchies[0].path, 0755) == 0;
}

/* A child created directly in the cgroup, sleeping until killed. */
static pid_t
child_in (const struct cgroup *cg)
{
  int fd = open (cg->hierarchies[0].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (unsigned)fd };
  long pid = syscall (SYS_clone3, &args, sizeof args);
  if (pid == 0)
    {
      for (;;)
        pause ();
    }
  close (fd);
  return (pid_t)pid;
}

static bool
events_say (const struct cgroup *cg, const char *line)
{
  char path[4096];
  cleanup_free char *text = NULL;
  snprintf (path, sizeof path, "%s/cgroup.events", cg->hierarchies[0].path);
  return fs_read_file (path, &text, NULL, NULL) == 0 && strstr (text, line) != NULL;
}

static bool
wait_for_events (const struct cgroup *cg, const char *line)
{
  for (int i = 0; i < 2000; i++)
    {
      if (events_say (cg, line))
        return true;
      struct timespec ts = { 0, 1000000 };
      nanosleep (&ts, NULL);
    }
  return false;
}

TEST (freeze_list_kill_and_remove)
{
  if (!find_cgroup2 ())
    {
      printf ("    skipped: no cgroup2 mount on this host\n");
      return;
    }
  struct cgroup cg;
  REQUIRE (make_cgroup (&cg));
  pid_t pid = child_in (&cg);
  REQUIRE (pid > 0);
  struct ward_error *err = NULL;

  pid_t *pids = NULL;
  size_t count = 0;
  CHECK (cgroup_pids (&cg, &pids, &count, &err) == 0);
  CHECK (count == 1 && pids && pids[0] == pid);
  free (pids);

  CHECK (cgroup_freeze (&cg, true, &err) == 0);
  CHECK (cgroup_is_frozen (&cg));
  CHECK (events_say (&cg, "frozen 1"));
  CHECK (cgroup_freeze (&cg, false, &err) == 0);
  CHECK (!cgroup_is_frozen (&cg));
  CHECK (wait_for_events (&cg, "frozen 0"));

  /* Frozen, then killed: cgroup.kill reaches a frozen process too. */
  CHECK (cgroup_freeze (&cg, true, &err) == 0);
  CHECK (cgroup_signal_all (&cg, SIGKILL, &err) == 0);
  int status = 0;
  CHECK (waitpid (pid, &status, 0) == pid);
  CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  CHECK (wait_for_events (&cg, "populated 0"));

  cg.hierarchies[0].created_from = strdup (unified_mount);
  CHECK (cgroup_destroy (&cg, &err) == 0);
  CHECK (access (cg.hierarchies[0].path, F_OK) < 0);
  if (err)
    printf ("    %s\n", err->message);
  ward_error_free (&err);
  cgroup_clear (&cg);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (freeze_list_kill_and_remove),
};

HARNESS_MAIN (tests)
