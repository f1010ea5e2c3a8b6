#include "config.h"
#include "container.h"
#include "capabilities.h"
#include "cgroup.h"
#include "cleanup.h"
#include "container_audit.h"
#include "container_policy.h"
#include "devices.h"
#include "fs.h"
#include "hooks.h"
#include "json_field.h"
#include "init.h"
#include "log.h"
#include "lsm.h"
#include "namespaces.h"
#include "process.h"
#include "process_attributes.h"
#include "resources.h"
#include "sealed_binary.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"
#include "sync.h"
#include "syscall_auditor.h"
#include "sysctl.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Everything create makes, so a failure at any step can undo it. */
struct creation
{
  const struct create_options *options;
  struct spec *spec;
  char *bundle;
  char *rootfs;
  struct state_handle state;
  bool state_made;
  int start_fd;
  pid_t init_pid;
  struct ward_conf *conf;
  struct container_policy policy;
  struct spec_hook egress_hook; /* ward-hook, when the policy controls egress */
  bool egress_hook_planned;
  struct hook_running *egress_hook_running;
  pid_t auditor_starter; /* reaped before create succeeds (see syscall_auditor_start) */
  struct seccomp_program *seccomp;
  struct resources *resources;
  struct cgroup cgroup;
  bool cgroup_made;
  int console_fd; /* ours to close, when we connected it */
  int listen_fds; /* socket-activation fds passed on (before the preserved ones) */
};

static int
resolve_bundle (struct creation *c, struct ward_error **err)
{
  const char *bundle = c->options->bundle ? c->options->bundle : ".";
  c->bundle = realpath (bundle, NULL);
  if (c->bundle == NULL)
    return ward_fail (err, errno, "bundle %s", bundle);
  return 0;
}

static int
load_spec (struct creation *c, struct ward_error **err)
{
  cleanup_free char *config_path = NULL;
  if (asprintf (&config_path, "%s/config.json", c->bundle) < 0)
    return ward_fail (err, ENOMEM, "config.json");
  if (spec_load (config_path, &c->spec, err) < 0)
    return -1;
  if (c->spec->process == NULL)
    return ward_fail (err, 0, "config.json: process: required field is missing");
  if (c->spec->root_path == NULL)
    return ward_fail (err, 0, "config.json: root.path: required field is missing");
  return 0;
}

static int
resolve_rootfs (struct creation *c, struct ward_error **err)
{
  cleanup_free char *joined = NULL;
  const char *path = c->spec->root_path;
  if (path[0] != '/')
    {
      if (asprintf (&joined, "%s/%s", c->bundle, path) < 0)
        return ward_fail (err, ENOMEM, "rootfs");
      path = joined;
    }
  c->rootfs = realpath (path, NULL);
  if (c->rootfs == NULL)
    return ward_fail (err, errno, "rootfs %s", path);
  struct stat st;
  if (stat (c->rootfs, &st) < 0 || !S_ISDIR (st.st_mode))
    return ward_fail (err, ENOTDIR, "rootfs %s", c->rootfs);
  return 0;
}

static char **
string_list (const char *first, const char *second)
{
  char **list = calloc (3, sizeof (char *));
  if (list == NULL || (list[0] = strdup (first)) == NULL || (second && (list[1] = strdup (second)) == NULL))
    {
      string_array_free (list);
      return NULL;
    }
  return list;
}

/* A policy controls egress: ward-hook installs the container's firewall
 * and starts its supervisor, as a createRuntime hook that comes before any
 * of the config's.  Its environment names the ward.conf (and profiles)
 * ward read, so that the hook chooses the same policy.  It only needs the
 * container's network namespace, so it runs while the init builds the
 * rest (see spawn_init), and create waits for it before any hook of the
 * config or the container's own code can run. */
static void
egress_hook_clear (struct spec_hook *hook)
{
  free (hook->path);
  string_array_free (hook->args);
  string_array_free (hook->env);
}

static int
plan_egress_hook (struct creation *c, struct ward_error **err)
{
  if (c->policy.policy == NULL)
    return 0;
  struct spec_hook *hook = &c->egress_hook;
  cleanup_free char *conf_env = NULL, *policy_env = NULL;
  const char *policy_dir = getenv ("WARD_POLICY_DIR");
  if (asprintf (&conf_env, "WARD_CONF=%s", c->conf->path) < 0
      || (policy_dir && *policy_dir && asprintf (&policy_env, "WARD_POLICY_DIR=%s", policy_dir) < 0))
    return ward_fail (err, ENOMEM, "ward-hook");
  /* The root tells its watchdog where usage.json goes; absolute, as the
   * hook does not run where we do. */
  cleanup_free char *cwd = c->options->root[0] == '/' ? NULL : getcwd (NULL, 0);
  cleanup_free char *root = NULL;
  if (asprintf (&root, "%s%s%s", cwd ? cwd : "", cwd ? "/" : "", c->options->root) < 0)
    return ward_fail (err, ENOMEM, "ward-hook");
  hook->path = strdup (c->conf->hook_path ? c->conf->hook_path : WARD_HOOK_PATH_DEFAULT);
  hook->args = calloc (6, sizeof (char *));
  if (hook->args
      && ((hook->args[0] = strdup ("ward-hook")) == NULL || (hook->args[1] = strdup ("--bundle")) == NULL
          || (hook->args[2] = strdup (c->bundle)) == NULL || (hook->args[3] = strdup ("--root")) == NULL
          || (hook->args[4] = steal_pointer (&root)) == NULL))
    {
      string_array_free (hook->args);
      hook->args = NULL;
    }
  hook->args_count = 5;
  hook->env = string_list (conf_env, policy_env);
  hook->env_count = policy_env ? 2 : 1;
  /* It answers in milliseconds; a hung one must not hang create. */
  hook->timeout = 30;
  if (hook->path == NULL || hook->args == NULL || hook->env == NULL)
    return ward_fail (err, ENOMEM, "ward-hook");
  c->egress_hook_planned = true;
  return 0;
}

/* The policy before anything else looks at the config: every later step
 * sees the tightened one. */
static int
apply_policy (struct creation *c, struct ward_error **err)
{
  if (ward_conf_load (&c->conf, err) < 0)
    return -1;
  if (container_policy_apply (c->conf, c->spec, c->bundle, NULL, &c->policy, err) < 0)
    {
      container_audit_refused (c->conf, c->spec, c->options->id, c->bundle, &c->policy, *err);
      return -1;
    }
  return plan_egress_hook (c, err);
}

/* Everything that can be refused from config.json alone is refused here,
 * before any process or directory exists. */
static int
validate (struct creation *c, struct ward_error **err)
{
  if ((c->listen_fds = process_add_listen_fds (c->spec->process, err)) < 0)
    return -1;
  if (namespaces_validate (c->spec, err) < 0 || sysctl_validate (c->spec, err) < 0
      || process_validate (c->spec->process, err) < 0 || capabilities_validate (c->spec->process, err) < 0
      || process_attributes_validate (c->spec, err) < 0 || lsm_validate (c->spec, err) < 0)
    return -1;
  /* Compiled here, not in the init: a bad filter is refused before
   * anything exists, and the init inherits the program ready to load. */
  if (seccomp_compile (c->spec->doc, c->spec->linux_config.seccomp, &c->seccomp, err) < 0)
    return -1;
  if (c->spec->linux_config.resources)
    {
      const struct json_value *section = c->spec->linux_config.resources;
      if (resources_parse (c->spec->doc, section, "linux.resources", &c->resources, err) < 0
          || devices_add_cgroup_rules (c->spec, c->resources, err) < 0)
        return -1;
    }
  if (container_policy_limit_resources (&c->policy, &c->resources, err) < 0
      || container_audit_plan_seccomp (&c->policy, c->seccomp, c->options->root, err) < 0)
    return -1;
  if (c->spec->process->terminal && c->options->console_socket == NULL && c->options->console_fd < 0)
    return ward_fail (err, 0, "config.json: process.terminal: a terminal needs --console-socket");
  return 0;
}

/* The socket `ward start` connects to.  Bound by ward (not the init) so it
 * works whatever user namespace the init ends up in; bound through
 * /proc/self/fd so long state paths fit in sun_path. */
/* Made, with its limits, before the init exists: if the kernel refuses a
 * limit, no process has run. */
static int
make_cgroup (struct creation *c, struct ward_error **err)
{
  if (cgroup_resolve (c->spec->linux_config.cgroups_path, c->options->id, &c->cgroup, err) < 0)
    return -1;
  if (cgroup_create (&c->cgroup, c->resources, err) < 0)
    return -1;
  c->cgroup_made = true;
  return 0;
}

static int
listen_for_start (struct creation *c, struct ward_error **err)
{
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ward_fail (err, errno, "socket");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", c->state.dir_fd, STATE_START_SOCKET);
  if (bind (fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen (fd, 1) < 0)
    {
      int saved = errno;
      close (fd);
      return ward_fail (err, saved, "bind start socket");
    }
  c->start_fd = fd;
  return 0;
}

/* The container's state as ward records and shows it; the annotation
 * arrays borrow the spec's strings and are freed by state_borrowed_free. */
static int
describe (struct creation *c, const char *created, struct container_state *st, struct ward_error **err)
{
  struct passwd *pw = getpwuid (geteuid ());
  *st = (struct container_state){
    .id = (char *)c->options->id,
    .pid = c->init_pid,
    .bundle = c->bundle,
    .rootfs = c->rootfs,
    .created = (char *)created,
    .owner = pw ? pw->pw_name : "",
    .annotations_count = c->spec->annotations_count,
    .cgroup = c->cgroup,
  };
  st->annotation_keys = calloc (st->annotations_count + 1, sizeof (char *));
  st->annotation_values = calloc (st->annotations_count + 1, sizeof (char *));
  if (st->annotation_keys == NULL || st->annotation_values == NULL)
    return ward_fail (err, ENOMEM, "state");
  for (size_t i = 0; i < st->annotations_count; i++)
    {
      st->annotation_keys[i] = c->spec->annotations[i].key;
      st->annotation_values[i] = c->spec->annotations[i].value;
    }
  return 0;
}

static void
state_borrowed_free (struct container_state *st)
{
  free (st->annotation_keys);
  free (st->annotation_values);
}

/* The state an agent or hook is shown while the container is created. */
static char *
creating_state_json (struct creation *c)
{
  struct container_state st;
  char *json = NULL;
  if (describe (c, "", &st, NULL) == 0)
    json = state_render_json (&st, STATUS_CREATING, false);
  state_borrowed_free (&st);
  return json;
}

/* prestart, then createRuntime, in ward's namespaces; the reply carries
 * the state for the init's createContainer hooks. */
static int
run_runtime_hooks (struct creation *c, int sync_fd, struct ward_error **err)
{
  cleanup_free char *state = creating_state_json (c);
  if (state == NULL)
    return ward_fail (err, ENOMEM, "state");
  if (hooks_run (c->spec, HOOK_PRESTART, state, err) < 0
      || hooks_run (c->spec, HOOK_CREATE_RUNTIME, state, err) < 0)
    return -1;
  return sync_send (sync_fd, SYNC_GO, state, err);
}

static int
hand_over_seccomp_fd (struct creation *c, int notify_fd, struct ward_error **err)
{
  cleanup_free char *state = creating_state_json (c);
  if (state == NULL)
    return ward_fail (err, ENOMEM, "state");
  return seccomp_send_to_listener (c->seccomp, notify_fd, c->init_pid, state, err);
}

/* Started as soon as the policy is known, with the bundle on its command
 * line: the hook reads ward.conf, config.json and the profile while ward
 * makes the state, the cgroup and the init; send_egress_state then gives
 * it the init's pid, and it works on the network namespace. */
static int
start_egress_hook (struct creation *c, struct ward_error **err)
{
  if (!c->egress_hook_planned)
    return 0;
  /* ward's own hook code, unless ward.conf names a hook binary to run. */
  int (*builtin) (int, char **) = c->conf->hook_path ? NULL : c->options->builtin_egress_hook;
  return hooks_start_builtin (HOOK_CREATE_RUNTIME, &c->egress_hook, builtin, NULL, &c->egress_hook_running,
                              err);
}

static int
send_egress_state (struct creation *c, struct ward_error **err)
{
  if (c->egress_hook_running == NULL)
    return 0;
  cleanup_free char *state = creating_state_json (c);
  if (state == NULL)
    return ward_fail (err, ENOMEM, "state");
  return hooks_send_state (c->egress_hook_running, state, err);
}

static int
finish_egress_hook (struct creation *c, struct ward_error **err)
{
  struct hook_running *running = steal_pointer (&c->egress_hook_running);
  return running ? hooks_finish (running, err) : 0;
}

/* Answer the init's requests until it is ready (or fails). */
static int
serve_init (struct creation *c, int sync_fd, struct ward_error **err)
{
  cleanup_free struct sync_message *message_buffer = malloc (sizeof *message_buffer);
  if (message_buffer == NULL)
    return ward_fail (err, ENOMEM, "container init");
  for (;;)
    {
      struct sync_message *message = message_buffer;
      int passed_fd = -1;
      if (sync_receive_fd (sync_fd, message, &passed_fd, "container init", err) < 0)
        return -1;
      cleanup_close int fd = passed_fd;
      switch (message->type)
        {
        case SYNC_READY:
          return finish_egress_hook (c, err);
        case SYNC_ERROR:
          return ward_fail (err, 0, "%s", message->text);
        case SYNC_HOOKS:
          if (finish_egress_hook (c, err) < 0 || run_runtime_hooks (c, sync_fd, err) < 0)
            return -1;
          break;
        case SYNC_SECCOMP:
          if (fd < 0)
            return ward_fail (err, 0, "container init sent no seccomp fd");
          /* ward's own auditor is started while the init goes on: the init
           * makes none of the calls it watches, and a container call made
           * before the auditor reads the fd just waits for it.  An agent at
           * listenerPath gets its fd before, as the runtime spec has it. */
          if (seccomp_notifies_ward (c->policy.seccomp))
            {
              if (sync_send (sync_fd, SYNC_GO, NULL, err) < 0
                  || syscall_auditor_start (c->conf->audit_dir, c->options->id, fd, &c->auditor_starter, err)
                      < 0)
                return -1;
            }
          else if (hand_over_seccomp_fd (c, fd, err) < 0 || sync_send (sync_fd, SYNC_GO, NULL, err) < 0)
            return -1;
          break;
        default:
          return ward_fail (err, 0, "unexpected message %u from container init", message->type);
        }
    }
}

static int
spawn_init (struct creation *c, struct ward_error **err)
{
  int pair[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return ward_fail (err, errno, "socketpair");
  cleanup_close int parent_end = pair[0];
  int child_end = pair[1];

  int restore_pid_ns = -1;
  if (namespaces_enter_pid_for_children (c->spec, &restore_pid_ns, err) < 0)
    {
      close (child_end);
      return -1;
    }
  bool in_unified = false;
  /* Like fork(2), but the child starts in its new namespaces. */
  pid_t pid = cgroup_clone (&c->cgroup, namespaces_clone_flags (c->spec), &in_unified);
  if (pid == 0)
    {
      close (parent_end);
      struct init_context ctx = {
        .spec = c->spec,
        .bundle = c->bundle,
        .rootfs = c->rootfs,
        .sync_fd = child_end,
        .start_fd = c->start_fd,
        .console_fd = c->console_fd >= 0 ? c->console_fd : c->options->console_fd,
        .state_lock_fd = c->state.lock_fd,
        .preserve_fds = c->options->preserve_fds + c->listen_fds,
        .seccomp = c->seccomp,
        .policy_seccomp = c->policy.seccomp,
        .landlock = c->policy.landlock ? &c->policy.landlock_rules : NULL,
        .cgroup = namespaces_creates (c->spec, NS_USER) ? NULL : &c->cgroup,
        .no_pivot = c->options->no_pivot,
        .no_new_keyring = c->options->no_new_keyring,
      };
      init_main (&ctx);
    }
  int clone_errno = errno;
  close (child_end);
  if (namespaces_leave_pid_for_children (restore_pid_ns, err) < 0)
    {
      if (pid > 0)
        c->init_pid = pid;
      return -1;
    }
  if (pid < 0)
    return ward_fail (err, clone_errno, "clone the container's init");
  c->init_pid = pid;

  /* The init waits for GO until its ids are mapped and it is in the
   * cgroups it cannot join itself (from a new user namespace it has no
   * say over the host's cgroupfs). */
  if (namespaces_write_id_mappings (pid, c->spec, err) < 0)
    return -1;
  if (namespaces_creates (c->spec, NS_USER) && cgroup_enter_v1 (&c->cgroup, pid, err) < 0)
    return -1;
  if (!in_unified && cgroup_enter_unified (&c->cgroup, pid, err) < 0)
    return -1;
  if (sync_send (parent_end, SYNC_GO, NULL, err) < 0 || send_egress_state (c, err) < 0)
    return -1;
  return serve_init (c, parent_end, err);
}

/* The syscall auditor's starter has long exited by the time the init is
 * ready; reaped here, it told whether the auditor was forked. */
static int
auditor_started (struct creation *c, struct ward_error **err)
{
  pid_t starter = c->auditor_starter;
  c->auditor_starter = 0;
  return starter > 0 ? syscall_auditor_started (starter, err) : 0;
}

static int
record_state (struct creation *c, struct ward_error **err)
{
  char created[64];
  struct container_state st;
  state_now_rfc3339 (created, sizeof created);
  int ret = describe (c, created, &st, err);
  if (ret == 0)
    ret = state_process_start_time (c->init_pid, &st.pid_start_time, err);
  /* config.json is kept with the state: delete and exec need it after the
   * bundle may have changed or gone. */
  if (ret == 0)
    ret = fs_write_file_atomic (c->state.dir_fd, STATE_CONFIG_FILE, c->spec->doc->text, c->spec->doc->length,
                                0600, err);
  if (ret == 0)
    ret = fs_write_file_atomic (c->state.dir_fd, STATE_POLICY_FILE, c->policy.name, strlen (c->policy.name),
                                0600, err);
  if (ret == 0)
    ret = state_write (&c->state, &st, err);
  state_borrowed_free (&st);
  return ret;
}

/* The pid file holds the bare decimal pid, no newline (containerd reads
 * it without trimming), and appears atomically. */
static int
write_pid_file (const char *path, pid_t pid, struct ward_error **err)
{
  char text[32];
  int n = snprintf (text, sizeof text, "%d", pid);
  if (fs_write_file_atomic (AT_FDCWD, path, text, n, 0644, err) < 0)
    return ward_error_prefix (err, "pid file");
  return 0;
}

static void
undo (struct creation *c)
{
  hooks_abandon (steal_pointer (&c->egress_hook_running));
  if (c->auditor_starter > 0)
    waitpid (c->auditor_starter, NULL, 0);
  if (c->init_pid > 0)
    {
      kill (c->init_pid, SIGKILL);
      waitpid (c->init_pid, NULL, 0);
    }
  struct ward_error *ignored = NULL;
  if (c->cgroup_made)
    cgroup_destroy (&c->cgroup, &ignored);
  ward_error_free (&ignored);
  if (c->state_made)
    state_destroy (&c->state, &ignored);
  ward_error_free (&ignored);
}

int
container_create (const struct create_options *options, struct create_result *result, struct ward_error **err)
{
  struct creation c
      = { .options = options, .start_fd = -1, .console_fd = -1, .state = { .dir_fd = -1, .lock_fd = -1 } };
  int ret = -1;

  if (state_validate_id (options->id, err) < 0 || resolve_bundle (&c, err) < 0 || load_spec (&c, err) < 0
      || apply_policy (&c, err) < 0 || start_egress_hook (&c, err) < 0 || resolve_rootfs (&c, err) < 0
      || validate (&c, err) < 0)
    goto out;
  /* In a pid namespace that already has processes, they can see our init
   * before it execs: run from a sealed copy (re-executes; nothing exists
   * yet that would need undoing). */
  if (c.spec->linux_config.namespaces[NS_PID].path && !sealed_binary_in_use ()
      && sealed_binary_reexec (err) < 0)
    goto out;
  if (state_create (options->root, options->id, &c.state, err) < 0)
    goto out;
  c.state_made = true;
  if (make_cgroup (&c, err) < 0)
    goto out;
  if (options->console_socket && c.spec->process->terminal
      && (c.console_fd = terminal_connect_console_socket (options->console_socket, err)) < 0)
    goto out;
  if (listen_for_start (&c, err) < 0 || spawn_init (&c, err) < 0 || auditor_started (&c, err) < 0
      || record_state (&c, err) < 0)
    goto out;
  if (options->pid_file && write_pid_file (options->pid_file, c.init_pid, err) < 0)
    goto out;
  if (container_audit_created (c.conf, options->id, c.bundle, &c.policy, c.seccomp, c.init_pid, err) < 0)
    goto out;
  result->init_pid = c.init_pid;
  result->terminal = c.spec->process->terminal;
  ret = 0;
out:
  if (ret < 0)
    undo (&c);
  if (c.start_fd >= 0)
    close (c.start_fd);
  if (c.console_fd >= 0)
    close (c.console_fd);
  state_close (&c.state);
  seccomp_program_free (c.seccomp);
  container_policy_clear (&c.policy);
  egress_hook_clear (&c.egress_hook);
  ward_conf_free (c.conf);
  resources_free (c.resources);
  cgroup_clear (&c.cgroup);
  spec_free (c.spec);
  free (c.bundle);
  free (c.rootfs);
  return ret;
}
