/* Probes of the limits and privileges: processes, memory, capabilities,
 * no_new_privs, terminal injection, and the CPU spin the watchdog must
 * stop.  The bombs run in a child, and everything they start is killed
 * before the probe reports. */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* A limit above these is no limit for a sandbox; the bombs stop there. */
#define FORK_CEILING 4096
#define MEMORY_CEILING (16ULL << 30)

static bool
read_first_line (const char *path, char *buf, size_t size)
{
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return false;
  bool ok = fgets (buf, (int)size, f) != NULL;
  fclose (f);
  buf[strcspn (buf, "\n")] = '\0';
  return ok;
}

/* In its own process group, so that one kill ends every fork. */
static int
fork_until_refused (void *ctx)
{
  (void)ctx;
  setpgid (0, 0);
  for (int forked = 0; forked < FORK_CEILING; forked++)
    {
      pid_t pid = fork ();
      if (pid == 0)
        {
          pause ();
          _exit (0);
        }
      if (pid < 0)
        {
          printf ("%d %d\n", forked, errno);
          return 0;
        }
    }
  printf ("%d 0\n", FORK_CEILING);
  return 0;
}

static void
probe_fork_bomb (const char *name, const struct probe_args *args)
{
  (void)args;
  int out[2];
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      probe_report (name, PROBE_ERROR, "pipe: %s", strerrorname_np (errno));
      return;
    }
  fflush (stdout);
  pid_t bomb = fork ();
  if (bomb == 0)
    {
      dup2 (out[1], 1);
      int ret = fork_until_refused (NULL);
      fflush (stdout);
      /* The forks die with their group, the bomb with them. */
      kill (0, SIGKILL);
      _exit (ret);
    }
  close (out[1]);
  char line[64] = "";
  ssize_t n = bomb > 0 ? read (out[0], line, sizeof line - 1) : -1;
  close (out[0]);
  if (bomb > 0)
    {
      kill (-bomb, SIGKILL);
      waitpid (bomb, NULL, 0);
    }
  /* The killed forks are reparented to pid 1 (the probe, in the container): reap them. */
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  int forked = 0, errnum = 0;
  if (n <= 0 || sscanf (line, "%d %d", &forked, &errnum) != 2)
    probe_report (name, PROBE_ERROR, "the bomb said nothing");
  else if (errnum == 0)
    probe_report (name, PROBE_ESCAPED, "%d processes forked without a refusal", forked);
  else
    probe_report (name, PROBE_CONTAINED, "fork refused (%s) after %d processes", strerrorname_np (errnum),
                  forked);
}

static int
allocate_until_stopped (void *ctx)
{
  unsigned long long ceiling = *(unsigned long long *)ctx;
  const size_t chunk = 16 << 20;
  for (unsigned long long total = 0; total < ceiling; total += chunk)
    {
      char *p = mmap (NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        return 1;
      for (size_t i = 0; i < chunk; i += 4096)
        p[i] = 1;
    }
  return 0;
}

static void
probe_memory_bomb (const char *name, const struct probe_args *args)
{
  (void)args;
  char limit[64] = "";
  if (!read_first_line ("/sys/fs/cgroup/memory.max", limit, sizeof limit)
      && !read_first_line ("/sys/fs/cgroup/memory/memory.limit_in_bytes", limit, sizeof limit))
    {
      probe_report (name, PROBE_ERROR, "the container's memory limit cannot be read");
      return;
    }
  unsigned long long bytes = strcmp (limit, "max") == 0 ? ~0ULL : strtoull (limit, NULL, 10);
  if (bytes > MEMORY_CEILING)
    {
      /* Not tried: it would take the host's memory. */
      probe_report (name, PROBE_ESCAPED, "no memory limit (%s)", limit);
      return;
    }
  unsigned long long ceiling = bytes + (256ULL << 20);
  int status = probe_in_child (allocate_until_stopped, &ceiling);
  if (status < 0)
    probe_report (name, PROBE_ERROR, "fork: %s", strerrorname_np (errno));
  else if (WIFSIGNALED (status))
    probe_report (name, PROBE_CONTAINED, "killed by signal %d at the %llu MiB limit", WTERMSIG (status),
                  bytes >> 20);
  else if (WEXITSTATUS (status) == 1)
    probe_report (name, PROBE_CONTAINED, "ENOMEM at the %llu MiB limit", bytes >> 20);
  else
    probe_report (name, PROBE_ESCAPED, "%llu MiB touched past the %llu MiB limit", ceiling >> 20,
                  bytes >> 20);
}

static bool
capabilities_held (char *held, size_t size)
{
  static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
  held[0] = '\0';
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
    {
      char value[32];
      if (probe_status_field (sets[i], value, sizeof value) && strtoull (value, NULL, 16) != 0)
        snprintf (held + strlen (held), size - strlen (held), "%s%s=%s", held[0] ? " " : "", sets[i], value);
    }
  return held[0] != '\0';
}

static void
probe_capabilities (const char *name, const struct probe_args *args)
{
  (void)args;
  char held[256];
  if (capabilities_held (held, sizeof held))
    probe_report (name, PROBE_ESCAPED, "%s", held);
  else
    probe_report (name, PROBE_CONTAINED, "every capability set is empty");
}

/* After an exec (of this binary again, `exec-caps`): prints its CapEff. */
static void
probe_exec_caps (const char *name, const struct probe_args *args)
{
  (void)args;
  char effective[32] = "?";
  probe_status_field ("CapEff", effective, sizeof effective);
  probe_report (name, PROBE_CONTAINED, "%s", effective);
}

static void
probe_no_new_privs (const char *name, const struct probe_args *args)
{
  (void)args;
  char nnp[8] = "";
  if (!probe_status_field ("NoNewPrivs", nnp, sizeof nnp))
    {
      probe_report (name, PROBE_ERROR, "NoNewPrivs missing from /proc/self/status");
      return;
    }
  if (strcmp (nnp, "1") != 0)
    {
      probe_report (name, PROBE_ESCAPED, "no_new_privs is off: a setuid binary would gain privileges");
      return;
    }
  /* What a setuid binary would get: with no_new_privs, an exec grants nothing. */
  int out[2];
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      probe_report (name, PROBE_ERROR, "pipe: %s", strerrorname_np (errno));
      return;
    }
  fflush (stdout);
  pid_t pid = fork ();
  if (pid == 0)
    {
      dup2 (out[1], 1);
      execl ("/proc/self/exe", "ward-probe", "exec-caps", (char *)NULL);
      _exit (127);
    }
  close (out[1]);
  char line[512] = "";
  ssize_t n = pid > 0 ? read (out[0], line, sizeof line - 1) : -1;
  close (out[0]);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  /* An exec keeps what the process holds; gaining more is the hole. */
  char before[32] = "0";
  probe_status_field ("CapEff", before, sizeof before);
  const char *detail = n > 0 ? (line[n] = '\0', strstr (line, "\"detail\": \"")) : NULL;
  if (detail == NULL)
    {
      probe_report (name, PROBE_ERROR, "exec of the probe said nothing");
      return;
    }
  unsigned long long gained
      = strtoull (detail + strlen ("\"detail\": \""), NULL, 16) & ~strtoull (before, NULL, 16);
  if (gained)
    probe_report (name, PROBE_ESCAPED, "no_new_privs is on, but an exec gained capabilities %llx", gained);
  else
    probe_report (name, PROBE_CONTAINED, "no_new_privs is on; an exec gains no capabilities");
}

/* TIOCSTI types into a terminal's input: through a terminal shared with
 * the host (the user's own), the classic way out of a sandbox.  A pty of
 * the container's own devpts is harmless, so only standard descriptors
 * that are terminals are tried. */
static void
probe_tiocsti (const char *name, const struct probe_args *args)
{
  (void)args;
  for (int fd = 0; fd <= 2; fd++)
    {
      if (!isatty (fd))
        continue;
      char c = '\n';
      if (ioctl (fd, TIOCSTI, &c) == 0)
        probe_report (name, PROBE_ESCAPED, "TIOCSTI typed into fd %d's terminal", fd);
      else
        probe_report (name, probe_refused (errno) || errno == EIO ? PROBE_CONTAINED : PROBE_ERROR,
                      "TIOCSTI on fd %d: %s", fd, strerrorname_np (errno));
      return;
    }
  probe_report (name, PROBE_CONTAINED, "no terminal is shared: fds 0-2 are not terminals");
}

/* Never returns: the watchdog must end it.  The line comes first, so
 * that verify knows the spin began. */
static void
probe_cpu_spin (const char *name, const struct probe_args *args)
{
  (void)args;
  probe_report (name, PROBE_ERROR, "spinning (the watchdog must kill this)");
  for (volatile unsigned long i = 0;; i++)
    ;
}

const struct probe probe_limit_table[] = {
  { "capabilities", probe_capabilities, true }, { "nnp-setuid", probe_no_new_privs, true },
  { "tiocsti", probe_tiocsti, true },           { "fork-bomb", probe_fork_bomb, true },
  { "memory-bomb", probe_memory_bomb, true },   { "cpu-spin", probe_cpu_spin, false },
  { "exec-caps", probe_exec_caps, false },      { NULL, NULL, false },
};
