/* The container's init, top to bottom.  Each step's position matters; the
 * comments say why a step must come before the next. */
#include "config.h"
#include "init.h"
#include "capabilities.h"
#include "cleanup.h"
#include "devices.h"
#include "fs.h"
#include "hooks.h"
#include "lsm.h"
#include "masked_paths.h"
#include "mounts.h"
#include "namespaces.h"
#include "process.h"
#include "process_attributes.h"
#include "rootfs.h"
#include "seccomp.h"
#include "sync.h"
#include "sysctl.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static bool
in_user_namespace (const struct spec *spec)
{
  return spec->linux_config.namespaces[NS_USER].requested;
}

/* A private session keyring, so the container cannot read the host's keys
 * (or another container's) through the shared one. */
static int
join_new_session_keyring (bool skip, struct ward_error **err)
{
  if (skip)
    return 0;
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
    return ward_fail (err, errno, "create a session keyring");
  return 0;
}

/* Everything that must happen while the host's file system is still
 * reachable: mounts take their sources from it. */
static int
build_root (const struct init_context *ctx, struct ward_error **err)
{
  const struct spec *spec = ctx->spec;
  cleanup_close int rootfs_fd = rootfs_prepare (spec, ctx->rootfs, err);
  if (rootfs_fd < 0)
    return -1;
  if (mounts_apply (spec, rootfs_fd, ctx->bundle, err) < 0)
    return -1;
  /* Devices go into the /dev tmpfs that the mounts just made. */
  if (devices_create (spec, rootfs_fd, in_user_namespace (spec), err) < 0)
    return -1;
  return 0;
}

/* Once inside the new root: paths are the container's own. */
static int
harden_root (const struct init_context *ctx, struct ward_error **err)
{
  const struct spec *spec = ctx->spec;
  /* sysctls are written through the container's /proc before readonly
   * paths make /proc/sys read-only. */
  if (sysctl_apply (spec, err) < 0 || masked_paths_apply (spec, err) < 0
      || readonly_paths_apply (spec, err) < 0)
    return -1;
  /* Read-only root last: the steps above create mount points in it. */
  return rootfs_finalize (spec, err);
}

/* Load one seccomp filter; with SCMP_ACT_NOTIFY, ward passes the listener
 * fd on to the agent before we go on (the runtime spec has the agent see
 * the container while it is still being created). */
static int
load_one_filter (const struct init_context *ctx, const struct seccomp_program *program,
                 struct ward_error **err)
{
  int notify_fd = -1;
  if (program == NULL)
    return 0;
  if (seccomp_program_load (program, &notify_fd, err) < 0)
    return -1;
  if (notify_fd < 0)
    return 0;
  int ret = sync_send_fd (ctx->sync_fd, SYNC_SECCOMP, notify_fd, err);
  close (notify_fd);
  if (ret < 0)
    return -1;
  return sync_expect (ctx->sync_fd, SYNC_GO, "ward", err);
}

/* The kernel-enforced layers, once the mounts are final: Landlock first
 * (its own setup calls must not meet the filters), then the config's
 * filter and the policy's on top; the kernel runs both on every call and
 * the stricter answer wins. */
static int
confine (const struct init_context *ctx, struct ward_error **err)
{
  struct landlock_result reached;
  if (ctx->landlock && landlock_apply (ctx->landlock, &reached, err) < 0)
    return -1;
  if (load_one_filter (ctx, ctx->seccomp, err) < 0)
    return -1;
  return load_one_filter (ctx, ctx->policy_seccomp, err);
}

/* Who the process is and what it may do, most privileged step first: each
 * step needs privileges a later one gives up. */
static int
drop_privileges (const struct init_context *ctx, char **executable, struct ward_error **err)
{
  const struct spec_process *process = ctx->spec->process;
  bool seccomp_needs_privilege = !process->no_new_privileges;

  if (process_attributes_apply (ctx->spec, err) < 0 || lsm_apply_exec_labels (process, err) < 0)
    return -1;
  /* Limits while still privileged: raising a hard limit needs it. */
  if (process_set_rlimits (process, err) < 0)
    return -1;
  /* Without no_new_privs, installing a filter (or a Landlock domain) needs
   * CAP_SYS_ADMIN, which the capability sets below may take away: load it
   * while we have it. */
  if (seccomp_needs_privilege && confine (ctx, err) < 0)
    return -1;
  if (capabilities_before_user_switch (process, err) < 0 || process_switch_user (process, true, err) < 0
      || capabilities_after_user_switch (process, err) < 0)
    return -1;
  /* A change of credentials clears the parent-death signal: armed again,
   * or an init whose ward died in the steps left would wait forever. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (process_change_directory (process, err) < 0)
    return -1;
  /* Resolved as the final user, in the final directory, so a missing or
   * non-executable program fails `create`, not a later `start`. */
  if (process_default_environment (ctx->spec->process, err) < 0
      || process_find_executable (process, executable, err) < 0)
    return -1;
  if (process->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ward_fail (err, errno, "set no_new_privs");
  /* Last, so the filter constrains as little of ward's own work as possible. */
  if (!seccomp_needs_privilege && confine (ctx, err) < 0)
    return -1;
  return 0;
}

static bool
has_creation_hooks (const struct spec *spec)
{
  return spec->hooks_count[HOOK_PRESTART] + spec->hooks_count[HOOK_CREATE_RUNTIME]
      + spec->hooks_count[HOOK_CREATE_CONTAINER]
      > 0;
}

/* The runtime environment exists (namespaces, cgroups, mounts) and the
 * root is not pivoted yet: ward runs prestart and createRuntime hooks in
 * its namespaces, then we run createContainer hooks in ours. */
static int
run_creation_hooks (const struct init_context *ctx, struct ward_error **err)
{
  cleanup_free struct sync_message *reply = malloc (sizeof *reply);
  if (reply == NULL)
    return ward_fail (err, ENOMEM, "hooks");
  if (sync_send (ctx->sync_fd, SYNC_HOOKS, NULL, err) < 0
      || sync_receive (ctx->sync_fd, reply, "ward", err) < 0)
    return -1;
  if (reply->type == SYNC_ERROR)
    return ward_fail (err, 0, "%s", reply->text);
  return hooks_run (ctx->spec, HOOK_CREATE_CONTAINER, reply->text, err);
}

static int
set_up_terminal (const struct init_context *ctx, struct ward_error **err)
{
  if (!ctx->spec->process->terminal)
    return 0;
  int master = terminal_setup_in_container (ctx->spec->process, err);
  if (master < 0)
    return -1;
  return terminal_send_master (ctx->console_fd, master, err);
}

static int
prepare (const struct init_context *ctx, char **executable, struct ward_error **err)
{
  const struct spec *spec = ctx->spec;
  const struct spec_process *process = spec->process;

  /* ward writes our uid/gid maps meanwhile; nothing below may run before. */
  if (sync_expect (ctx->sync_fd, SYNC_GO, "ward", err) < 0)
    return -1;
  /* Into our cgroups first: nothing we do may escape the limits, and the
   * cgroup namespace below is rooted where we are. */
  if (ctx->cgroup && cgroup_enter_self_v1 (ctx->cgroup, err) < 0)
    return -1;
  if (namespaces_join_paths (spec, err) < 0)
    return -1;
  if (namespaces_creates (spec, NS_USER) && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    return ward_fail (err, errno, "become root in the user namespace");
  if (namespaces_enter_time (spec, err) < 0 || namespaces_enter_cgroup (spec, err) < 0)
    return -1;
  if (process_set_names (spec, err) < 0 || process_set_oom_score_adj (process, err) < 0
      || namespaces_bring_up_loopback (spec, err) < 0)
    return -1;

  /* mknod and mkdir must not be filtered by ward's own umask. */
  umask (0);
  if (build_root (ctx, err) < 0)
    return -1;
  if (has_creation_hooks (spec) && run_creation_hooks (ctx, err) < 0)
    return -1;
  if (rootfs_enter (ctx->rootfs, ctx->no_pivot, err) < 0 || harden_root (ctx, err) < 0)
    return -1;
  /* The pty comes from the container's own devpts, so after pivot_root;
   * and while root, to give its slave to process.user. */
  if (set_up_terminal (ctx, err) < 0)
    return -1;

  if (join_new_session_keyring (ctx->no_new_keyring, err) < 0)
    return -1;
  return drop_privileges (ctx, executable, err);
}

/* Block until `ward start` connects.  The connection stays open across a
 * successful execve only until CLOEXEC closes it: ward start reads EOF as
 * success, or the error text we write when execve fails. */
static int
wait_for_start (const struct init_context *ctx, struct ward_error **err)
{
  for (;;)
    {
      int connection = accept4 (ctx->start_fd, NULL, NULL, SOCK_CLOEXEC);
      if (connection >= 0)
        return connection;
      if (errno != EINTR)
        return ward_fail (err, errno, "wait for start");
    }
}

/* `ward start` sends the state JSON (then shuts its side) for the
 * startContainer hooks, which run in the container just before execve. */
static int
run_start_hooks (const struct init_context *ctx, int connection, struct ward_error **err)
{
  if (ctx->spec->hooks_count[HOOK_START_CONTAINER] == 0)
    return 0;
  size_t capacity = 65536, used = 0;
  cleanup_free char *state = malloc (capacity);
  if (state == NULL)
    return ward_fail (err, ENOMEM, "startContainer hooks");
  for (;;)
    {
      ssize_t n = read (connection, state + used, capacity - 1 - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || (used += n) == capacity - 1)
        break;
    }
  state[used] = '\0';
  return hooks_run (ctx->spec, HOOK_START_CONTAINER, state, err);
}

static void
reset_signals (void)
{
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
}

void
init_main (const struct init_context *ctx)
{
  struct ward_error *err = NULL;
  cleanup_free char *executable = NULL;

  close (ctx->state_lock_fd);
  /* If ward dies while we are half set up, so do we. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  reset_signals ();

  if (prepare (ctx, &executable, &err) < 0)
    sync_fail_and_exit (ctx->sync_fd, err);

  /* `ward create` exits after READY; we must outlive it. */
  prctl (PR_SET_PDEATHSIG, 0);
  if (sync_send (ctx->sync_fd, SYNC_READY, NULL, &err) < 0)
    _exit (1);
  close (ctx->sync_fd);

  int connection = wait_for_start (ctx, &err);
  if (connection < 0)
    _exit (1);
  close (ctx->start_fd);
  if (run_start_hooks (ctx, connection, &err) < 0)
    {
      ssize_t ignored = write (connection, err->message, strlen (err->message));
      (void)ignored;
      _exit (1);
    }

  /* Only 0, 1, 2 and the preserved fds may reach the user process
   * (CVE-2024-21626 leaked a runtime fd into the container). */
  int first_closed = 3 + ctx->preserve_fds;
  if (syscall (SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = first_closed; fd < 65536; fd++)
      if (fd != connection)
        fcntl (fd, F_SETFD, FD_CLOEXEC);

  execve (executable, ctx->spec->process->args, ctx->spec->process->env);

  int saved = errno;
  char message[512];
  int n = snprintf (message, sizeof message, "exec %s: %s", executable, strerror (saved));
  ssize_t ignored = write (connection, message, n);
  (void)ignored;
  _exit (127);
}
