/* OCI hooks: each one a child process fed the state JSON on stdin, watched
 * through a pidfd so that a timeout, a hook that never reads its stdin and
 * a hook that floods its stdout all end the same way: the hook reaped, never
 * a zombie, and ward going on or failing with one line that says why. */
#include "config.h"
#include "hooks.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What is kept of each output stream; the rest is read and dropped, so a
 * chatty hook never blocks on a full pipe. */
#define OUTPUT_KEPT 4096
/* The longest stderr line quoted in an error message. */
#define SUMMARY_MAX 200
/* Without a pidfd nothing wakes poll() when the hook exits: look this often. */
#define REAP_INTERVAL_MS 10

struct captured
{
  char text[OUTPUT_KEPT + 1];
  size_t length;
};

/* One running hook, seen from the runtime. */
struct hook_child
{
  const char *point_name;
  const struct spec_hook *hook;
  pid_t pid;
  int pidfd;         /* -1 on kernels without pidfd_open */
  int stdin_fd;      /* write end; -1 once all is written or the hook stopped reading */
  const char *input; /* what is left to write */
  size_t input_left;
  int stdout_fd, stderr_fd; /* read ends; -1 at EOF */
  struct captured out, err;
  int status; /* from waitpid, once reaped */
  bool reaped;
  int (*builtin) (int argc, char **argv); /* run instead of exec'ing hook->path */
};

/* ---------------------------------------------------------------------------
 * The child side: between fork and execve, so only async-signal-safe calls. */

static void
write_all_stderr (const char *text)
{
  size_t length = strlen (text);
  while (length > 0)
    {
      ssize_t n = write (STDERR_FILENO, text, length);
      if (n <= 0)
        return;
      text += n;
      length -= (size_t)n;
    }
}

static void __attribute__ ((noreturn)) exec_hook (const struct spec_hook *hook, int (*builtin) (int, char **),
                                                  int stdin_fd, int stdout_fd, int stderr_fd)
{
  /* The path as argv[0] when args is absent (or empty: an empty argv
   * confuses most programs), an empty environment when env is absent: the
   * spec gives a hook nothing it did not ask for. */
  char *default_args[] = { hook->path, NULL };
  char *no_env[] = { NULL };
  char *const *args = hook->args && hook->args_count > 0 ? hook->args : default_args;
  char *const *env = hook->env ? hook->env : no_env;

  /* Its own process group, so a timeout kills whatever the hook started too. */
  setpgid (0, 0);
  /* A hook outlives no ward: if ward dies mid-create, so does its hook
   * (a hook's own children are not touched; the signal is not inherited). */
  prctl (PR_SET_PDEATHSIG, SIGKILL);

  /* Our pipes may have landed on 0-2 if the runtime had them closed: move
   * them all above 2 first, so that no dup2 clobbers a later source (dup2
   * also drops CLOEXEC on the copies the hook keeps). */
  int in = fcntl (stdin_fd, F_DUPFD_CLOEXEC, 3);
  int out = fcntl (stdout_fd, F_DUPFD_CLOEXEC, 3);
  int errfd = fcntl (stderr_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || errfd < 0 || dup2 (in, STDIN_FILENO) < 0 || dup2 (out, STDOUT_FILENO) < 0
      || dup2 (errfd, STDERR_FILENO) < 0)
    _exit (127);

  /* A clean slate: the runtime ignores SIGPIPE around the hook and may
   * block signals of its own; a hook expects neither. */
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);

  /* Nothing of the runtime's (sync sockets, state directory, the init's
   * start socket) may leak into a hook.  Best effort: old kernels lack it,
   * and ward opens its fds CLOEXEC anyway. */
  syscall (SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  if (builtin)
    {
      /* The same program, already in memory: what exec would have loaded
       * and what the hook would have parsed again, saved.  Our stdio
       * buffers hold nothing of ward's (it has printed nothing yet). */
      int status = builtin ((int)hook->args_count, (char **)args);
      fflush (NULL);
      _exit (status);
    }
  execve (hook->path, args, env);

  int saved = errno;
  write_all_stderr ("exec ");
  write_all_stderr (hook->path);
  write_all_stderr (": ");
  write_all_stderr (strerror (saved));
  write_all_stderr ("\n");
  _exit (127);
}

/* ---------------------------------------------------------------------------
 * The runtime side. */

static int
set_nonblocking (int fd)
{
  int flags = fcntl (fd, F_GETFL);
  return flags < 0 ? -1 : fcntl (fd, F_SETFL, flags | O_NONBLOCK);
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static void
hook_child_close (struct hook_child *child)
{
  close_fd (&child->pidfd);
  close_fd (&child->stdin_fd);
  close_fd (&child->stdout_fd);
  close_fd (&child->stderr_fd);
}

/* Reap the hook if it has exited (or wait for it, when `block`). */
static bool
try_reap (struct hook_child *child, bool block)
{
  if (child->reaped)
    return true;
  for (;;)
    {
      pid_t r = waitpid (child->pid, &child->status, block ? 0 : WNOHANG);
      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        return false;
      /* ECHILD: someone else reaped it; all we can do is call it a failure. */
      if (r < 0)
        child->status = W_EXITCODE (127, 0);
      child->reaped = true;
      return true;
    }
}

/* On timeout or a failure of our own: nothing of the hook may outlive this. */
static void
kill_and_reap (struct hook_child *child)
{
  if (child->reaped)
    return;
  kill (-child->pid, SIGKILL);
  kill (child->pid, SIGKILL);
  try_reap (child, true);
}

static int
start_hook (struct hook_child *child, struct ward_error **err)
{
  int in[2], out[2], errp[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return ward_fail (err, errno, "%s hook %s: pipe", child->point_name, child->hook->path);
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      int saved = errno;
      close (in[0]);
      close (in[1]);
      return ward_fail (err, saved, "%s hook %s: pipe", child->point_name, child->hook->path);
    }
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      int saved = errno;
      close (in[0]);
      close (in[1]);
      close (out[0]);
      close (out[1]);
      return ward_fail (err, saved, "%s hook %s: pipe", child->point_name, child->hook->path);
    }
  child->stdin_fd = in[1];
  child->stdout_fd = out[0];
  child->stderr_fd = errp[0];

  pid_t pid = fork ();
  if (pid == 0)
    exec_hook (child->hook, child->builtin, in[0], out[1], errp[1]);
  int saved = errno;
  close (in[0]);
  close (out[1]);
  close (errp[1]);
  if (pid < 0)
    {
      hook_child_close (child);
      return ward_fail (err, saved, "%s hook %s: fork", child->point_name, child->hook->path);
    }
  child->pid = pid;
  /* Also here, so that kill (-pid) reaches the group even before the child
   * has run; EACCES once it has exec'd is fine: it did it itself. */
  setpgid (pid, pid);
  child->pidfd = (int)syscall (SYS_pidfd_open, pid, 0);

  /* Only our ends: the hook's stdin stays blocking, as programs expect. */
  if (set_nonblocking (child->stdin_fd) < 0 || set_nonblocking (child->stdout_fd) < 0
      || set_nonblocking (child->stderr_fd) < 0)
    {
      saved = errno;
      kill_and_reap (child);
      hook_child_close (child);
      return ward_fail (err, saved, "%s hook %s: set up its pipes", child->point_name, child->hook->path);
    }
  return 0;
}

static void
feed_input (struct hook_child *child)
{
  while (child->stdin_fd >= 0 && child->input_left > 0)
    {
      ssize_t n = write (child->stdin_fd, child->input, child->input_left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          /* EPIPE: the hook does not read its stdin, which it may. */
          if (errno != EPIPE)
            log_debug ("%s hook %s: write its stdin: %s", child->point_name, child->hook->path,
                       strerror (errno));
          break;
        }
      child->input += n;
      child->input_left -= (size_t)n;
    }
  /* EOF tells a hook reading its stdin that the state is complete. */
  close_fd (&child->stdin_fd);
}

/* Read what is there; at EOF (or on error) close the pipe. */
static void
drain_output (int *fd, struct captured *captured)
{
  char buffer[4096];
  while (*fd >= 0)
    {
      ssize_t n = read (*fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          close_fd (fd);
          return;
        }
      size_t room = OUTPUT_KEPT - captured->length;
      size_t kept = (size_t)n < room ? (size_t)n : room;
      memcpy (captured->text + captured->length, buffer, kept);
      captured->length += kept;
      captured->text[captured->length] = '\0';
    }
}

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feed, drain and watch the hook until it exits or its time is up.
 * Returns 1 on exit, 0 on timeout, -1 (errno set) when poll fails. */
static int
watch_hook (struct hook_child *child)
{
  long long deadline = child->hook->timeout > 0 ? now_ms () + (long long)child->hook->timeout * 1000 : -1;
  for (;;)
    {
      if (try_reap (child, false))
        return 1;
      int wait_ms = -1;
      if (deadline >= 0)
        {
          long long left = deadline - now_ms ();
          if (left <= 0)
            return 0;
          wait_ms = left > 60000 ? 60000 : (int)left;
        }
      if (child->pidfd < 0 && (wait_ms < 0 || wait_ms > REAP_INTERVAL_MS))
        wait_ms = REAP_INTERVAL_MS;

      struct pollfd fds[4];
      nfds_t count = 0;
      if (child->pidfd >= 0)
        fds[count++] = (struct pollfd){ .fd = child->pidfd, .events = POLLIN };
      if (child->stdin_fd >= 0)
        fds[count++] = (struct pollfd){ .fd = child->stdin_fd, .events = POLLOUT };
      if (child->stdout_fd >= 0)
        fds[count++] = (struct pollfd){ .fd = child->stdout_fd, .events = POLLIN };
      if (child->stderr_fd >= 0)
        fds[count++] = (struct pollfd){ .fd = child->stderr_fd, .events = POLLIN };
      if (poll (fds, count, wait_ms) < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      for (nfds_t i = 0; i < count; i++)
        {
          if (fds[i].revents == 0)
            continue;
          if (fds[i].fd == child->stdin_fd)
            feed_input (child);
          else if (fds[i].fd == child->stdout_fd)
            drain_output (&child->stdout_fd, &child->out);
          else if (fds[i].fd == child->stderr_fd)
            drain_output (&child->stderr_fd, &child->err);
        }
    }
}

/* The first non-empty line of what the hook printed on stderr, trimmed and
 * made printable, so it fits in ward's one-line error. */
static void
summarize (const struct captured *captured, char *summary, size_t size)
{
  const char *p = captured->text;
  const char *end = captured->text + captured->length;
  summary[0] = '\0';
  while (p < end)
    {
      const char *line_end = memchr (p, '\n', (size_t)(end - p));
      if (line_end == NULL)
        line_end = end;
      const char *start = p, *stop = line_end;
      while (start < stop && (*start == ' ' || *start == '\t' || *start == '\r'))
        start++;
      while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r'))
        stop--;
      if (stop > start)
        {
          size_t length = (size_t)(stop - start);
          bool cut = length > size - 4;
          if (cut)
            length = size - 4;
          for (size_t i = 0; i < length; i++)
            summary[i] = (unsigned char)start[i] < 0x20 || start[i] == 0x7f ? ' ' : start[i];
          strcpy (summary + length, cut ? "..." : "");
          return;
        }
      p = line_end + 1;
    }
}

static int
fail_from_status (const struct hook_child *child, struct ward_error **err)
{
  char summary[SUMMARY_MAX + 4];
  summarize (&child->err, summary, sizeof summary);
  const char *separator = summary[0] ? ": " : "";
  if (WIFSIGNALED (child->status))
    return ward_fail (err, 0, "%s hook %s: killed by signal %d%s%s", child->point_name, child->hook->path,
                      WTERMSIG (child->status), separator, summary);
  return ward_fail (err, 0, "%s hook %s: exited with status %d%s%s", child->point_name, child->hook->path,
                    WEXITSTATUS (child->status), separator, summary);
}

static void
log_output (const struct hook_child *child)
{
  if (child->out.length > 0)
    log_debug ("%s hook %s: stdout: %s", child->point_name, child->hook->path, child->out.text);
  if (child->err.length > 0)
    log_debug ("%s hook %s: stderr: %s", child->point_name, child->hook->path, child->err.text);
}

static int
run_started_hook (struct hook_child *child, struct ward_error **err)
{
  int watched = watch_hook (child);
  int saved = errno;
  if (watched <= 0)
    kill_and_reap (child);
  /* What the hook wrote before it ended; whatever it left running in the
   * background may hold the pipes open, so no waiting for EOF. */
  drain_output (&child->stdout_fd, &child->out);
  drain_output (&child->stderr_fd, &child->err);
  log_output (child);
  if (watched < 0)
    return ward_fail (err, saved, "%s hook %s: wait", child->point_name, child->hook->path);
  if (watched == 0)
    return ward_fail (err, 0, "%s hook %s: timed out after %d s", child->point_name, child->hook->path,
                      child->hook->timeout);
  if (WIFEXITED (child->status) && WEXITSTATUS (child->status) == 0)
    return 0;
  return fail_from_status (child, err);
}

static struct hook_child *
hook_child_new (enum spec_hook_point point, const struct spec_hook *hook, const char *input)
{
  struct hook_child *child = calloc (1, sizeof *child);
  if (child == NULL)
    return NULL;
  *child = (struct hook_child){
    .point_name = spec_hook_point_name (point),
    .hook = hook,
    .pidfd = -1,
    .stdin_fd = -1,
    .stdout_fd = -1,
    .stderr_fd = -1,
    .input = input ? input : "",
    .input_left = input ? strlen (input) : 0,
  };
  return child;
}

/* A hook that exits without reading its stdin turns our write into
 * SIGPIPE, which would kill ward; EPIPE is what we handle instead.  (The
 * hook itself gets SIGPIPE back: exec_hook resets every signal.) */
static void
ignore_sigpipe (struct sigaction *previous)
{
  struct sigaction ignore = { .sa_handler = SIG_IGN };
  sigemptyset (&ignore.sa_mask);
  sigaction (SIGPIPE, &ignore, previous);
}

static int
run_hook (enum spec_hook_point point, const struct spec_hook *hook, const char *state_json,
          struct ward_error **err)
{
  struct hook_child *child = hook_child_new (point, hook, state_json);
  if (child == NULL)
    return ward_fail (err, ENOMEM, "%s hook %s", spec_hook_point_name (point), hook->path);
  log_debug ("%s hook %s: running", child->point_name, hook->path);
  struct sigaction previous;
  ignore_sigpipe (&previous);
  int ret = start_hook (child, err);
  if (ret == 0)
    ret = run_started_hook (child, err);
  hook_child_close (child);
  sigaction (SIGPIPE, &previous, NULL);
  free (child);
  return ret;
}

struct hook_running
{
  struct hook_child child;
  char *input; /* ours: the caller's state may be gone by hooks_finish */
  struct sigaction previous_sigpipe;
};

int
hooks_start (enum spec_hook_point point, const struct spec_hook *hook, const char *state_json,
             struct hook_running **out, struct ward_error **err)
{
  return hooks_start_builtin (point, hook, NULL, state_json, out, err);
}

int
hooks_start_builtin (enum spec_hook_point point, const struct spec_hook *hook, int (*builtin) (int, char **),
                     const char *state_json, struct hook_running **out, struct ward_error **err)
{
  struct hook_running *running = calloc (1, sizeof *running);
  char *input = strdup (state_json ? state_json : "");
  struct hook_child *child = input ? hook_child_new (point, hook, input) : NULL;
  if (running == NULL || child == NULL)
    {
      free (running);
      free (input);
      free (child);
      return ward_fail (err, ENOMEM, "%s hook %s", spec_hook_point_name (point), hook->path);
    }
  running->child = *child;
  running->child.builtin = builtin;
  running->input = input;
  free (child);
  if (state_json == NULL)
    running->child.input_left = 0; /* hooks_send_state () gives it */
  log_debug ("%s hook %s: started", running->child.point_name, hook->path);
  ignore_sigpipe (&running->previous_sigpipe);
  if (start_hook (&running->child, err) < 0)
    {
      sigaction (SIGPIPE, &running->previous_sigpipe, NULL);
      free (running->input);
      free (running);
      return -1;
    }
  /* The state fits in the pipe: written now, the hook reads it at once. */
  if (state_json)
    feed_input (&running->child);
  *out = running;
  return 0;
}

int
hooks_send_state (struct hook_running *running, const char *state_json, struct ward_error **err)
{
  char *input = strdup (state_json);
  if (input == NULL)
    return ward_fail (err, ENOMEM, "%s hook %s", running->child.point_name, running->child.hook->path);
  free (running->input);
  running->input = input;
  running->child.input = input;
  running->child.input_left = strlen (input);
  feed_input (&running->child);
  return 0;
}

int
hooks_finish (struct hook_running *running, struct ward_error **err)
{
  int ret = run_started_hook (&running->child, err);
  hook_child_close (&running->child);
  sigaction (SIGPIPE, &running->previous_sigpipe, NULL);
  free (running->input);
  free (running);
  return ret;
}

void
hooks_abandon (struct hook_running *running)
{
  if (running == NULL)
    return;
  kill_and_reap (&running->child);
  hook_child_close (&running->child);
  sigaction (SIGPIPE, &running->previous_sigpipe, NULL);
  free (running->input);
  free (running);
}

int
hooks_run (const struct spec *spec, enum spec_hook_point point, const char *state_json,
           struct ward_error **err)
{
  for (size_t i = 0; i < spec->hooks_count[point]; i++)
    if (run_hook (point, &spec->hooks[point][i], state_json, err) < 0)
      return -1;
  return 0;
}

void
hooks_run_logged (const struct spec *spec, enum spec_hook_point point, const char *state_json)
{
  /* The spec: the remaining hooks still run, and the lifecycle goes on. */
  for (size_t i = 0; i < spec->hooks_count[point]; i++)
    {
      struct ward_error *err = NULL;
      if (run_hook (point, &spec->hooks[point][i], state_json, &err) < 0)
        log_warning ("%s", err ? err->message : "hook failed");
      ward_error_free (&err);
    }
}
