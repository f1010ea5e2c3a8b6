/* ward exec, in the order it happens:
 *
 *   ward (host)          builds the process from --process or the
 *                        container's own, opens the init's namespaces
 *     └─ joiner          joins the container's cgroups, then its
 *                        namespaces (a pid namespace only applies to
 *                        children, hence a second fork); waits and
 *                        passes the exit status up
 *          └─ process    limits, labels, user, capabilities,
 *                        no_new_privs, seccomp, execve
 *
 * The process reports to ward over a SOCK_SEQPACKET pair: its pid, then
 * nothing (the CLOEXEC end closes at execve: success) or an error. */
#include "config.h"
#include "exec.h"
#include "capabilities.h"
#include "cgroup.h"
#include "cleanup.h"
#include "container_policy.h"
#include "fs.h"
#include "json.h"
#include "json_field.h"
#include "lifecycle.h"
#include "log.h"
#include "lsm.h"
#include "process.h"
#include "sealed_binary.h"
#include "seccomp.h"
#include "signals.h"
#include "spec.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Joined in this order: user first, so the others are joined with its
 * privileges; mount last, since it changes our root. */
static const struct
{
  const char *name;
  int flag;
} joined_namespaces[] = {
  { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
  { "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID }, { "cgroup", CLONE_NEWCGROUP },
  { "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};
#define NAMESPACE_COUNT (sizeof joined_namespaces / sizeof joined_namespaces[0])

struct exec_context
{
  const struct exec_options *options;
  struct container_state state;
  struct spec *spec; /* the container's config, its process replaced by ours */
  struct seccomp_program *seccomp;
  struct ward_conf *conf;
  struct container_policy policy;     /* the one create chose, applied again to our process */
  int namespace_fds[NAMESPACE_COUNT]; /* -1: the same as ward's, nothing to join */
  int console_fd;
  int report[2];        /* [0] ward's end, [1] the process's */
  bool born_in_unified; /* the joiner was cloned into the container's cgroup2 directory */
};

static char **
append_strings (char **array, size_t *count, char *const *more, size_t more_count)
{
  char **grown = realloc (array, (*count + more_count + 1) * sizeof *grown);
  if (grown == NULL)
    return NULL;
  for (size_t i = 0; i < more_count; i++)
    grown[(*count)++] = strdup (more[i]);
  grown[*count] = NULL;
  return grown;
}

static int
parse_user (const char *text, struct spec_user *user, struct ward_error **err)
{
  char *end = NULL;
  unsigned long uid = strtoul (text, &end, 10);
  if (end == text || (*end != '\0' && *end != ':'))
    return ward_fail (err, 0, "exec: --user: expected UID[:GID], got \"%s\"", text);
  user->uid = (uid_t)uid;
  if (*end == ':')
    {
      const char *gid_text = end + 1;
      unsigned long gid = strtoul (gid_text, &end, 10);
      if (end == gid_text || *end != '\0')
        return ward_fail (err, 0, "exec: --user: expected UID[:GID], got \"%s\"", text);
      user->gid = (gid_t)gid;
    }
  return 0;
}

/* The container's own process, with the command line's changes. */
static int
amend_process (const struct exec_options *o, struct spec_process *p, struct ward_error **err)
{
  if (o->args_count == 0)
    return ward_fail (err, 0, "exec: no command given (usage: ward exec [options] ID COMMAND [ARGS...])");
  string_array_free (p->args);
  p->args = NULL;
  p->args_count = 0;
  if ((p->args = append_strings (NULL, &p->args_count, o->args, o->args_count)) == NULL
      || (p->env = append_strings (p->env, &p->env_count, o->env, o->env_count)) == NULL)
    return ward_fail (err, ENOMEM, "exec");
  if (o->cwd && (free (p->cwd), p->cwd = strdup (o->cwd)) == NULL)
    return ward_fail (err, ENOMEM, "exec");
  if (o->user && parse_user (o->user, &p->user, err) < 0)
    return -1;
  p->terminal = o->tty;
  p->no_new_privileges = p->no_new_privileges || o->no_new_privs;
  if (o->caps_count > 0)
    {
      struct spec_capabilities *c = &p->capabilities;
      c->present = true;
      if ((c->bounding = append_strings (c->bounding, &c->bounding_count, o->caps, o->caps_count)) == NULL
          || (c->effective = append_strings (c->effective, &c->effective_count, o->caps, o->caps_count))
              == NULL
          || (c->permitted = append_strings (c->permitted, &c->permitted_count, o->caps, o->caps_count))
              == NULL
          || (c->ambient = append_strings (c->ambient, &c->ambient_count, o->caps, o->caps_count)) == NULL)
        return ward_fail (err, ENOMEM, "exec");
    }
  if (o->apparmor && (free (p->apparmor_profile), p->apparmor_profile = strdup (o->apparmor)) == NULL)
    return ward_fail (err, ENOMEM, "exec");
  if (o->process_label && (free (p->selinux_label), p->selinux_label = strdup (o->process_label)) == NULL)
    return ward_fail (err, ENOMEM, "exec");
  return 0;
}

/* An exec'd process is held to the policy its container was created
 * under: `--cap`, `--process` or `--user 0` cannot ask for more. */
static int
apply_recorded_policy (struct exec_context *x, struct ward_error **err)
{
  const struct exec_options *o = x->options;
  cleanup_free char *recorded = NULL, *policy_path = NULL, *cache_dir = NULL;
  size_t length = 0;
  if (asprintf (&policy_path, "%s/%s/%s", o->root, o->id, STATE_POLICY_FILE) < 0
      || asprintf (&cache_dir, "%s/%s", o->root, STATE_CACHE_DIR) < 0)
    return ward_fail (err, ENOMEM, "exec");
  if (fs_read_file (policy_path, &recorded, &length, err) < 0)
    return ward_error_prefix (err, "container \"%s\": its policy", o->id);
  if (ward_conf_load (&x->conf, err) < 0)
    return -1;
  if (container_policy_apply (x->conf, x->spec, x->state.bundle, recorded, &x->policy, err) < 0)
    return -1;
  return container_policy_compile_seccomp (&x->policy, cache_dir, NULL, 0, err);
}

static int
load_process (struct exec_context *x, struct ward_error **err)
{
  const struct exec_options *o = x->options;
  char path[4096];
  snprintf (path, sizeof path, "%s/%s/%s", o->root, o->id, STATE_CONFIG_FILE);
  if (spec_load (path, &x->spec, err) < 0)
    return ward_error_prefix (err, "container \"%s\"", o->id);
  if (o->process_file)
    {
      struct json_document *doc = NULL;
      struct spec_process *process = NULL;
      const char *slash = strrchr (o->process_file, '/');
      int ret = json_parse_file (o->process_file, slash ? slash + 1 : o->process_file, &doc, err);
      if (ret == 0)
        ret = spec_parse_process (doc, doc->root, "process", &process, err);
      json_document_free (doc);
      if (ret < 0)
        return -1;
      /* The JSON's io_priority/scheduler pointed into doc: exec does not
       * apply them. */
      process->io_priority = process->scheduler = NULL;
      spec_process_free (x->spec->process);
      x->spec->process = process;
    }
  else if (x->spec->process == NULL || amend_process (o, x->spec->process, err) < 0)
    return x->spec->process ? -1
                            : ward_fail (err, 0, "container \"%s\" has no process to base exec on", o->id);
  if (apply_recorded_policy (x, err) < 0)
    return -1;
  if (process_validate (x->spec->process, err) < 0 || capabilities_validate (x->spec->process, err) < 0
      || lsm_validate (x->spec, err) < 0)
    return -1;
  return seccomp_compile (x->spec->doc, x->spec->linux_config.seccomp, &x->seccomp, err);
}

static int
open_namespaces (struct exec_context *x, struct ward_error **err)
{
  for (size_t i = 0; i < NAMESPACE_COUNT; i++)
    {
      char theirs[64], ours[64];
      struct stat a, b;
      x->namespace_fds[i] = -1;
      snprintf (theirs, sizeof theirs, "/proc/%d/ns/%s", x->state.pid, joined_namespaces[i].name);
      snprintf (ours, sizeof ours, "/proc/self/ns/%s", joined_namespaces[i].name);
      if (stat (theirs, &a) < 0 || stat (ours, &b) < 0)
        continue; /* a namespace kind this kernel lacks */
      if (a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        continue;
      x->namespace_fds[i] = open (theirs, O_RDONLY | O_CLOEXEC);
      if (x->namespace_fds[i] < 0)
        return ward_fail (err, errno, "open %s", theirs);
    }
  return 0;
}

/* As the init confines itself (init.c): Landlock, the config's filter,
 * then the policy's on top. */
static int
confine (const struct exec_context *x, int *notify_fd, struct ward_error **err)
{
  struct landlock_result reached;
  int policy_notify_fd = -1;
  if (x->policy.landlock && landlock_apply (&x->policy.landlock_rules, &reached, err) < 0)
    return -1;
  if (x->seccomp && seccomp_program_load (x->seccomp, notify_fd, err) < 0)
    return -1;
  if (x->policy.seccomp && seccomp_program_load (x->policy.seccomp, &policy_notify_fd, err) < 0)
    return -1;
  /* The kernel gives one listener per filter chain: at most one fd came back. */
  if (policy_notify_fd >= 0)
    *notify_fd = policy_notify_fd;
  return 0;
}

/* The process itself: already in every namespace and cgroup. */
__attribute__ ((noreturn)) static void
become_process (struct exec_context *x)
{
  struct ward_error *err = NULL;
  const struct spec_process *p = x->spec->process;
  cleanup_free char *executable = NULL;
  int notify_fd = -1;

  if (p->terminal)
    {
      int master = terminal_setup_in_container (p, &err);
      if (master < 0 || terminal_send_master (x->console_fd, master, &err) < 0)
        goto fail;
    }
  if (lsm_apply_exec_labels (p, &err) < 0 || process_set_rlimits (p, &err) < 0)
    goto fail;
  if (!p->no_new_privileges && confine (x, &notify_fd, &err) < 0)
    goto fail;
  if (capabilities_before_user_switch (p, &err) < 0 || process_switch_user (p, true, &err) < 0
      || capabilities_after_user_switch (p, &err) < 0 || process_change_directory (p, &err) < 0
      || process_default_environment (x->spec->process, &err) < 0
      || process_find_executable (p, &executable, &err) < 0)
    goto fail;
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
      ward_fail (&err, errno, "set no_new_privs");
      goto fail;
    }
  if (p->no_new_privileges && confine (x, &notify_fd, &err) < 0)
    goto fail;
  if (notify_fd >= 0)
    {
      /* ward hands the fd to the agent, as for the container's init. */
      if (sync_send_fd (x->report[1], SYNC_SECCOMP, notify_fd, &err) < 0)
        goto fail;
      close (notify_fd);
    }
  int first_closed = 3 + x->options->preserve_fds;
  syscall (SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC);
  execve (executable, p->args, p->env);
  ward_fail (&err, errno, "exec %s", executable);
fail:
  sync_send (x->report[1], SYNC_ERROR, err ? err->message : "exec failed", NULL);
  _exit (127);
}

/* The joiner: in the container's cgroups and namespaces, then the process
 * as its child; its exit status becomes ours. */
__attribute__ ((noreturn)) static void
join_and_spawn (struct exec_context *x)
{
  struct ward_error *err = NULL;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* Into the container's cgroups, the cheap way (see cgroup.h): clone3
   * placed us in the cgroup2 one; the v1 ones we enter ourselves. */
  if (x->state.cgroup.count > 0
      && ((!x->born_in_unified && cgroup_enter_unified (&x->state.cgroup, getpid (), &err) < 0)
          || cgroup_enter_self_v1 (&x->state.cgroup, &err) < 0))
    goto fail;
  for (size_t i = 0; i < NAMESPACE_COUNT; i++)
    if (x->namespace_fds[i] >= 0 && setns (x->namespace_fds[i], joined_namespaces[i].flag) < 0)
      {
        ward_fail (&err, errno, "join the container's %s namespace", joined_namespaces[i].name);
        goto fail;
      }
  pid_t child = fork ();
  if (child < 0)
    {
      ward_fail (&err, errno, "fork");
      goto fail;
    }
  if (child == 0)
    become_process (x);
  /* Our view of the pid is ward's (we stayed in its pid namespace). */
  char pid_text[32];
  snprintf (pid_text, sizeof pid_text, "%d", child);
  sync_send (x->report[1], SYNC_READY, pid_text, NULL);
  close (x->report[1]);
  /* Detached, the process goes to the nearest subreaper (the engine's
   * shim) when we exit: only ward's foreground exec waits through us. */
  if (x->options->detach)
    _exit (0);
  int status;
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      _exit (1);
  if (WIFSIGNALED (status))
    _exit (128 + WTERMSIG (status));
  _exit (WEXITSTATUS (status));
fail:
  sync_send (x->report[1], SYNC_ERROR, err->message, NULL);
  _exit (1);
}

static int
write_pid_file (const char *path, pid_t pid, struct ward_error **err)
{
  char text[32];
  int n = snprintf (text, sizeof text, "%d", pid);
  return fs_write_file_atomic (AT_FDCWD, path, text, n, 0644, err);
}

static char *
state_json_for_agent (struct exec_context *x)
{
  return state_render_json (&x->state, STATUS_RUNNING, false);
}

/* Everything after the fork, on ward's side: learn the pid, pass a seccomp
 * listener fd on, see the exec succeed (every end closed, no word) or
 * fail. */
static int
follow_process (struct exec_context *x, pid_t *process_pid, struct ward_error **err)
{
  cleanup_free struct sync_message *message = malloc (sizeof *message);
  if (message == NULL)
    return ward_fail (err, ENOMEM, "exec");
  pid_t pid = 0;
  for (;;)
    {
      int fd = -1;
      struct ward_error *eof = NULL;
      if (sync_receive_fd (x->report[0], message, &fd, "the exec'd process", &eof) < 0)
        {
          ward_error_free (&eof);
          break;
        }
      cleanup_close int passed = fd;
      if (message->type == SYNC_ERROR)
        return ward_fail (err, 0, "%s", message->text);
      if (message->type == SYNC_READY)
        pid = (pid_t)strtol (message->text, NULL, 10);
      if (message->type == SYNC_SECCOMP && passed >= 0)
        {
          cleanup_free char *state = state_json_for_agent (x);
          if (seccomp_send_to_listener (x->seccomp, passed, pid, state, err) < 0)
            return -1;
        }
    }
  if (pid <= 0)
    return ward_fail (err, 0, "exec: the process could not be started");
  *process_pid = pid;
  return 0;
}

static int
run (struct exec_context *x, int *exit_status, struct ward_error **err)
{
  const struct exec_options *o = x->options;
  bool terminal = x->spec->process->terminal;
  int console[2] = { -1, -1 };
  if (terminal && o->console_socket)
    x->console_fd = terminal_connect_console_socket (o->console_socket, err);
  else if (terminal && o->detach)
    return ward_fail (err, 0, "exec: a terminal for a detached process needs --console-socket");
  else if (terminal && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) == 0)
    x->console_fd = console[1];
  if (terminal && x->console_fd < 0)
    return err && *err ? -1 : ward_fail (err, errno, "console");
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x->report) < 0)
    return ward_fail (err, errno, "socketpair");

  pid_t joiner = cgroup_clone (&x->state.cgroup, 0, &x->born_in_unified);
  if (joiner < 0)
    return ward_fail (err, errno, "fork");
  if (joiner == 0)
    {
      close (x->report[0]);
      join_and_spawn (x);
    }
  close (x->report[1]);
  if (x->console_fd >= 0)
    close (x->console_fd);
  cleanup_close int console_ours = console[0];
  pid_t pid = 0;
  cleanup_close int master = -1;
  int ret = follow_process (x, &pid, err);
  if (ret == 0 && o->pid_file)
    ret = write_pid_file (o->pid_file, pid, err);
  if (ret == 0 && console_ours >= 0 && (master = terminal_receive_master (console_ours, err)) < 0)
    ret = -1;
  if (master >= 0)
    terminal_inherit_window_size (master);
  if (ret < 0 || o->detach)
    {
      if (ret < 0)
        kill (joiner, SIGKILL);
      if (ret < 0 || !o->detach)
        waitpid (joiner, NULL, 0);
      *exit_status = 0;
      return ret;
    }
  signals_forward_to (pid);
  if (master >= 0 && terminal_relay (master, err) < 0)
    {
      log_warning ("%s", (*err)->message);
      ward_error_free (err);
    }
  int status;
  while (waitpid (joiner, &status, 0) < 0)
    if (errno != EINTR)
      return ward_fail (err, errno, "wait for the exec'd process");
  *exit_status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  return 0;
}

int
container_exec (const struct exec_options *options, int *exit_status, struct ward_error **err)
{
  /* The container sees this process (and its children) before execve:
   * its /proc/PID/exe must not lead to ward's binary (CVE-2019-5736). */
  if (!sealed_binary_in_use () && sealed_binary_reexec (err) < 0)
    return -1;
  struct exec_context x = { .options = options, .console_fd = -1, .report = { -1, -1 } };
  for (size_t i = 0; i < NAMESPACE_COUNT; i++)
    x.namespace_fds[i] = -1;
  enum container_status status;
  int ret = -1;
  if (container_read_status (options->root, options->id, &x.state, &status, err) < 0)
    return -1;
  if (status != STATUS_RUNNING && status != STATUS_CREATED)
    ward_fail (err, 0, "cannot exec in container \"%s\": it is %s", options->id, state_status_name (status));
  else if (load_process (&x, err) == 0 && open_namespaces (&x, err) == 0)
    ret = run (&x, exit_status, err);
  for (size_t i = 0; i < NAMESPACE_COUNT; i++)
    if (x.namespace_fds[i] >= 0)
      close (x.namespace_fds[i]);
  if (x.report[0] >= 0)
    close (x.report[0]);
  seccomp_program_free (x.seccomp);
  container_policy_clear (&x.policy);
  ward_conf_free (x.conf);
  spec_free (x.spec);
  state_clear (&x.state);
  return ret;
}
