#include "config.h"
#include "lifecycle.h"
#include "cleanup.h"
#include "container_audit.h"
#include "container_policy.h"
#include "fs.h"
#include "hooks.h"
#include "spec.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* How long delete waits for a killed container to die. */
#define DEATH_TIMEOUT_MS 10000

int
container_read_status (const char *root, const char *id, struct container_state *state,
                       enum container_status *status, struct ward_error **err)
{
  if (state_validate_id (id, err) < 0)
    return -1;
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/%s", root, id) < 0)
    return ward_fail (err, ENOMEM, "container \"%s\"", id);
  cleanup_close int dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return ward_fail (err, 0, "container \"%s\" does not exist", id);
      return ward_fail (err, errno, "open %s", path);
    }
  if (state_read_at (dir_fd, id, state, err) < 0)
    return -1;
  *status = state_status (dir_fd, state);
  return 0;
}

int
container_state_json (const char *root, const char *id, char **out, struct ward_error **err)
{
  struct container_state state;
  enum container_status status;
  if (container_read_status (root, id, &state, &status, err) < 0)
    return -1;
  *out = state_render_json (&state, status, true);
  state_clear (&state);
  return *out ? 0 : ward_fail (err, ENOMEM, "state");
}

/* The config.json kept with the state (the bundle may be gone). */
static struct spec *
saved_spec (const struct state_handle *handle)
{
  char path[64];
  struct spec *spec = NULL;
  struct ward_error *err = NULL;
  snprintf (path, sizeof path, "/proc/self/fd/%d/%s", handle->dir_fd, STATE_CONFIG_FILE);
  if (spec_load (path, &spec, &err) < 0)
    {
      log_warning ("container \"%s\": %s", handle->id, err->message);
      ward_error_free (&err);
    }
  return spec;
}

static void
run_logged_hooks (const struct spec *spec, enum spec_hook_point point, struct container_state *state,
                  enum container_status status)
{
  if (spec == NULL || spec->hooks_count[point] == 0)
    return;
  cleanup_free char *json = state_render_json (state, status, false);
  if (json)
    hooks_run_logged (spec, point, json);
}

/* Open and lock a container and read its state and status. */
static int
open_container (const char *root, const char *id, struct state_handle *handle, struct container_state *state,
                enum container_status *status, struct ward_error **err)
{
  if (state_open (root, id, handle, err) < 0)
    return -1;
  if (state_read (handle, state, err) < 0)
    {
      state_close (handle);
      return -1;
    }
  *status = state_status (handle->dir_fd, state);
  return 0;
}

int
container_start (const char *root, const char *id, struct ward_error **err)
{
  struct state_handle handle;
  struct container_state state;
  enum container_status status;
  if (open_container (root, id, &handle, &state, &status, err) < 0)
    return -1;
  int ret = -1;
  cleanup_close int fd = -1;
  struct spec *spec = NULL;
  if (status != STATUS_CREATED)
    {
      ward_fail (err, 0, "cannot start container \"%s\": it is %s", id, state_status_name (status));
      goto out;
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      ward_fail (err, errno, "socket");
      goto out;
    }
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", handle.dir_fd, STATE_START_SOCKET);
  if (connect (fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    {
      ward_fail (err, errno, "start container \"%s\": connect to its init", id);
      goto out;
    }
  /* From here the init is released, whatever happens: the socket goes so
   * that the container no longer reads as "created". */
  unlinkat (handle.dir_fd, STATE_START_SOCKET, 0);
  spec = saved_spec (&handle);
  if (spec && spec->hooks_count[HOOK_START_CONTAINER] > 0)
    {
      cleanup_free char *json = state_render_json (&state, STATUS_CREATED, false);
      for (size_t done = 0, length = json ? strlen (json) : 0; done < length;)
        {
          ssize_t n = write (fd, json + done, length - done);
          if (n <= 0)
            break;
          done += n;
        }
    }
  shutdown (fd, SHUT_WR);
  char message[512];
  size_t used = 0;
  for (;;)
    {
      ssize_t n = read (fd, message + used, sizeof message - 1 - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || (used += n) >= sizeof message - 1)
        break;
    }
  message[used] = '\0';
  if (used > 0)
    {
      ward_fail (err, 0, "start container \"%s\": %s", id, message);
      goto out;
    }
  container_audit_started (handle.dir_fd, id, state.pid);
  run_logged_hooks (spec, HOOK_POSTSTART, &state, STATUS_RUNNING);
  ret = 0;
out:
  spec_free (spec);
  state_clear (&state);
  state_close (&handle);
  return ret;
}

/* Is pid the first process (pid 1) of its pid namespace?  Then the
 * namespace is the container's own; otherwise it was joined and holds
 * processes that are not the container's. */
static bool
owns_pid_namespace (pid_t pid)
{
  char path[64];
  cleanup_free char *status = NULL;
  snprintf (path, sizeof path, "/proc/%d/status", pid);
  if (fs_read_file (path, &status, NULL, NULL) < 0)
    return false;
  const char *line = strstr (status, "\nNSpid:");
  if (line == NULL)
    return false;
  const char *end = strchr (line + 1, '\n');
  const char *last = end;
  while (last > line && (last[-1] == ' ' || last[-1] == '\t'))
    last--;
  while (last > line && last[-1] != ' ' && last[-1] != '\t')
    last--;
  return strtol (last, NULL, 10) == 1;
}

/* Every process in the container's own pid namespace; just the init when
 * it shares one (cgroup-wide signalling comes with cgroup support). */
static int
signal_all (pid_t init_pid, int signum, struct ward_error **err)
{
  char path[64], target[64], other[64];
  if (!owns_pid_namespace (init_pid))
    {
      if (kill (init_pid, signum) < 0 && errno != ESRCH)
        return ward_fail (err, errno, "kill %d", init_pid);
      return 0;
    }
  snprintf (path, sizeof path, "/proc/%d/ns/pid", init_pid);
  ssize_t n = readlink (path, target, sizeof target - 1);
  if (n < 0)
    return ward_fail (err, errno, "read %s", path);
  target[n] = '\0';
  cleanup_closedir DIR *proc = opendir ("/proc");
  if (proc == NULL)
    return ward_fail (err, errno, "open /proc");
  struct dirent *entry;
  while ((entry = readdir (proc)) != NULL)
    {
      char *end;
      long pid = strtol (entry->d_name, &end, 10);
      if (*end != '\0' || pid <= 0)
        continue;
      snprintf (path, sizeof path, "/proc/%ld/ns/pid", pid);
      ssize_t m = readlink (path, other, sizeof other - 1);
      if (m == n && memcmp (other, target, n) == 0)
        kill ((pid_t)pid, signum);
    }
  return 0;
}

int
container_kill (const char *root, const char *id, int signum, bool all, struct ward_error **err)
{
  struct state_handle handle;
  struct container_state state;
  enum container_status status;
  if (open_container (root, id, &handle, &state, &status, err) < 0)
    return -1;
  int ret = 0;
  /* kill --all of a stopped container signals what is left of it in its
   * cgroup (engines force-delete that way); a plain kill has no process to
   * signal.  Engines recognise runc's "container not running". */
  if (all && state.cgroup.count > 0)
    ret = cgroup_signal_all (&state.cgroup, signum, err);
  else if (status == STATUS_STOPPED || status == STATUS_CREATING)
    ret = ward_fail (err, 0, "cannot kill container \"%s\": container not running", id);
  else if (all)
    ret = signal_all (state.pid, signum, err);
  else if (kill (state.pid, signum) < 0)
    ret = ward_fail (err, errno, "kill container \"%s\" (pid %d)", id, state.pid);
  state_clear (&state);
  state_close (&handle);
  return ret;
}

/* The init is usually not our child: watch it through a pidfd, which
 * becomes readable when it exits. */
static int
wait_for_death (pid_t pid, uint64_t start_time, struct ward_error **err)
{
  if (!state_process_alive (pid, start_time))
    return 0;
  cleanup_close int pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    return errno == ESRCH ? 0 : ward_fail (err, errno, "pidfd_open %d", pid);
  /* The pid may have been reused between the check and pidfd_open. */
  if (!state_process_alive (pid, start_time))
    return 0;
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  int n;
  do
    n = poll (&p, 1, DEATH_TIMEOUT_MS);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return ward_fail (err, ETIMEDOUT, "wait for pid %d to exit", pid);
  return 0;
}

int
container_delete (const char *root, const char *id, bool force, struct ward_error **err)
{
  struct state_handle handle;
  struct container_state state;
  enum container_status status;
  if (force && state_validate_id (id, NULL) == 0)
    {
      /* Engines clean up with delete --force after a failed create, which
       * has already removed everything: nothing to do is success, as with
       * runc. */
      char path[4096];
      snprintf (path, sizeof path, "%s/%s", root, id);
      if (access (path, F_OK) < 0 && errno == ENOENT)
        return 0;
    }
  if (open_container (root, id, &handle, &state, &status, err) < 0)
    return -1;
  int ret = -1;
  struct audit_log *audit = NULL;
  if ((status == STATUS_RUNNING || status == STATUS_PAUSED) && !force)
    {
      ward_fail (err, 0, "cannot delete container \"%s\": it is %s (use --force)", id,
                 state_status_name (status));
      goto out;
    }
  audit = container_audit_open (handle.dir_fd, id);
  if (status != STATUS_STOPPED && state.pid > 0)
    {
      if (signal_all (state.pid, SIGKILL, err) < 0 && state_process_alive (state.pid, state.pid_start_time))
        goto out;
      ward_error_free (err);
    }
  /* Also when the init is gone: processes it left (or that joined
   * later) may still be in the cgroup, and keep it from being removed. */
  if (state.cgroup.count > 0 && cgroup_signal_all (&state.cgroup, SIGKILL, err) < 0)
    goto out;
  if (status != STATUS_STOPPED && state.pid > 0 && wait_for_death (state.pid, state.pid_start_time, err) < 0)
    goto out;
  /* Before the cgroup goes: it holds the CPU time the container used. */
  container_audit_exit_at_delete (audit, handle.dir_fd, &state, status);
  if (cgroup_destroy (&state.cgroup, err) < 0)
    goto out;
  {
    struct spec *spec = saved_spec (&handle);
    run_logged_hooks (spec, HOOK_POSTSTOP, &state, STATUS_STOPPED);
    spec_free (spec);
  }
  ret = state_destroy (&handle, err);
  if (ret == 0)
    container_audit_deleted (audit, force, status);
out:
  audit_close (audit);
  state_clear (&state);
  state_close (&handle);
  return ret;
}

int
container_pause (const char *root, const char *id, bool pause, struct ward_error **err)
{
  struct state_handle handle;
  struct container_state state;
  enum container_status status;
  if (open_container (root, id, &handle, &state, &status, err) < 0)
    return -1;
  int ret = -1;
  enum container_status wanted = pause ? STATUS_RUNNING : STATUS_PAUSED;
  if (status != wanted)
    ward_fail (err, 0, "cannot %s container \"%s\": it is %s", pause ? "pause" : "resume", id,
               state_status_name (status));
  else if (state.cgroup.count == 0)
    ward_fail (err, 0, "cannot %s container \"%s\": it has no cgroup", pause ? "pause" : "resume", id);
  else
    ret = cgroup_freeze (&state.cgroup, pause, err);
  state_clear (&state);
  state_close (&handle);
  return ret;
}

int
container_pids (const char *root, const char *id, pid_t **pids, size_t *count, struct ward_error **err)
{
  struct container_state state;
  enum container_status status;
  if (container_read_status (root, id, &state, &status, err) < 0)
    return -1;
  int ret = 0;
  *pids = NULL;
  *count = 0;
  if (state.cgroup.count > 0)
    ret = cgroup_pids (&state.cgroup, pids, count, err);
  else if (status != STATUS_STOPPED && state.pid > 0)
    {
      *pids = malloc (sizeof (pid_t));
      if (*pids == NULL)
        ret = ward_fail (err, ENOMEM, "ps");
      else
        {
          (*pids)[0] = state.pid;
          *count = 1;
        }
    }
  state_clear (&state);
  return ret;
}

/* The limits an update asks for, held to the container's policy. */
static int
cap_to_policy (int dir_fd, struct resources *resources, struct ward_error **err)
{
  cleanup_free char *name = NULL;
  size_t length = 0;
  if (fs_read_file_at (dir_fd, STATE_POLICY_FILE, &name, &length, err) < 0)
    return ward_error_prefix (err, "its policy");
  if (strcmp (name, WARD_UNCONFINED) == 0)
    return 0;
  struct ward_conf *conf = NULL;
  struct policy *policy = NULL;
  if (ward_conf_load (&conf, err) < 0)
    return -1;
  int ret = policy_load (container_policy_directory (conf), name, &policy, err);
  if (ret == 0)
    container_policy_cap_update (policy, resources);
  policy_free (policy);
  ward_conf_free (conf);
  return ret;
}

int
container_update (const char *root, const char *id, struct resources *resources, struct ward_error **err)
{
  struct state_handle handle;
  struct container_state state;
  enum container_status status;
  if (open_container (root, id, &handle, &state, &status, err) < 0)
    return -1;
  int ret = -1;
  if (status == STATUS_STOPPED || status == STATUS_CREATING)
    ward_fail (err, 0, "cannot update container \"%s\": it is %s", id, state_status_name (status));
  else if (state.cgroup.count == 0)
    ward_fail (err, 0, "cannot update container \"%s\": it has no cgroup", id);
  else if (cap_to_policy (handle.dir_fd, resources, err) == 0)
    ret = cgroup_apply (&state.cgroup, resources, err);
  state_clear (&state);
  state_close (&handle);
  return ret;
}
