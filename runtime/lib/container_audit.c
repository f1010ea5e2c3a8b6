#include "config.h"
#include "container_audit.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "signals.h"
#include "syscall_auditor.h"
#include "usage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ns (void)
{
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* A quantity with three decimals, as usage.json writes them. */
static void
key_fixed3 (struct json_writer *w, const char *key, uint64_t thousandths)
{
  char text[32];
  snprintf (text, sizeof text, "%" PRIu64 ".%03u", thousandths / 1000, (unsigned)(thousandths % 1000));
  jw_key (w, key);
  jw_number (w, text);
}

static void
key_string_or_null (struct json_writer *w, const char *key, const char *value)
{
  jw_key (w, key);
  if (value)
    jw_string (w, value);
  else
    jw_null (w);
}

/* Write, or say why not: the lifecycle after create goes on regardless. */
static void
write_or_warn (struct audit_log *log, struct json_writer *w, const char *event)
{
  struct ward_error *err = NULL;
  if (w == NULL)
    ward_fail (&err, ENOMEM, "audit log");
  else if (audit_record_write (log, w, &err) == 0)
    return;
  log_warning ("%s record not written: %s", event, err->message);
  ward_error_free (&err);
}

static struct audit_log *
open_or_warn (const char *audit_dir, const char *id)
{
  struct audit_log *log = NULL;
  struct ward_error *err = NULL;
  if (audit_open (audit_dir, id, &log, &err) < 0)
    {
      log_warning ("%s", err->message);
      ward_error_free (&err);
      return NULL;
    }
  return log;
}

/* ---- create ---------------------------------------------------------- */

int
container_audit_plan_seccomp (struct container_policy *policy, const struct seccomp_program *config_filter,
                              const char *root, struct ward_error **err)
{
  cleanup_free char *cache_dir = NULL;
  if (asprintf (&cache_dir, "%s/%s", root, STATE_CACHE_DIR) < 0)
    return ward_fail (err, ENOMEM, "policy %s", policy->name);
  /* One listener a filter chain: a config with its own keeps the plain filter. */
  bool audited = !seccomp_uses_notify (config_filter);
  return container_policy_compile_seccomp (policy, cache_dir, audited ? syscall_auditor_syscalls : NULL,
                                           audited ? syscall_auditor_syscalls_count : 0, err);
}

/* Whether denied calls reach the log, and if not why not. */
static const char *
syscall_audit_state (const struct container_policy *policy, const struct seccomp_program *config_filter)
{
  if (seccomp_notifies_ward (policy->seccomp))
    return "on";
  if (policy->seccomp == NULL)
    return "off: the policy has no seccomp profile";
  if (seccomp_uses_notify (config_filter))
    return "off: config.json's filter has a listener of its own (one a filter chain)";
  return "off: the profile's default action is not EPERM";
}

static void
write_report (struct json_writer *w, const struct merge_report *report)
{
  jw_key (w, "changes");
  jw_begin_array (w);
  for (size_t i = 0; i < report->count; i++)
    {
      const struct merge_entry *e = &report->entries[i];
      jw_begin_object (w);
      jw_key_string (w, "kind", merge_kind_name (e->kind));
      jw_key_string (w, "field", e->field);
      if (e->before)
        jw_key_string (w, "before", e->before);
      if (e->after)
        jw_key_string (w, "after", e->after);
      jw_key_string (w, "reason", e->reason ? e->reason : "");
      jw_end_object (w);
    }
  jw_end_array (w);
}

int
container_audit_created (const struct ward_conf *conf, const char *id, const char *bundle,
                         const struct container_policy *policy, const struct seccomp_program *config_filter,
                         pid_t init_pid, struct ward_error **err)
{
  if (policy->policy == NULL)
    return 0;
  struct audit_log *log = NULL;
  if (audit_open (conf->audit_dir, id, &log, err) < 0)
    return -1;
  struct json_writer *w = audit_record_begin (log, "container.create", false);
  int ret;
  if (w == NULL)
    ret = ward_fail (err, ENOMEM, "audit log");
  else
    {
      jw_key_string (w, "policy", policy->name);
      jw_key_string (w, "bundle", bundle);
      jw_key_int (w, "pid", init_pid);
      jw_key_string (w, "syscall_audit", syscall_audit_state (policy, config_filter));
      write_report (w, &policy->report);
      ret = audit_record_write (log, w, err);
    }
  audit_close (log);
  return ret;
}

static const char *
requested_policy (const struct spec *spec)
{
  for (size_t i = 0; spec && i < spec->annotations_count; i++)
    if (strcmp (spec->annotations[i].key, POLICY_ANNOTATION) == 0)
      return spec->annotations[i].value;
  return NULL;
}

void
container_audit_refused (const struct ward_conf *conf, const struct spec *spec, const char *id,
                         const char *bundle, const struct container_policy *policy,
                         const struct ward_error *refusal)
{
  /* No conf: ward.conf itself could not be read, and with it the log's place. */
  if (conf == NULL || (policy->name && strcmp (policy->name, WARD_UNCONFINED) == 0))
    return;
  struct audit_log *log = open_or_warn (conf->audit_dir, id);
  if (log == NULL)
    return;
  struct json_writer *w = audit_record_begin (log, "container.refused", true);
  if (w)
    {
      key_string_or_null (w, "policy", policy->name ? policy->name : requested_policy (spec));
      jw_key_string (w, "bundle", bundle ? bundle : "");
      jw_key_string (w, "message", refusal && refusal->message ? refusal->message : "");
      write_report (w, &policy->report);
    }
  write_or_warn (log, w, "container.refused");
  audit_close (log);
}

/* ---- start, exit, delete --------------------------------------------- */

struct audit_log *
container_audit_open (int state_dir_fd, const char *id)
{
  cleanup_free char *policy = NULL;
  size_t length = 0;
  struct ward_error *err = NULL;
  if (fs_read_file_at (state_dir_fd, STATE_POLICY_FILE, &policy, &length, &err) < 0)
    {
      /* Made by an older ward, or a create that failed early: no policy known. */
      ward_error_free (&err);
      return NULL;
    }
  if (strcmp (policy, WARD_UNCONFINED) == 0)
    return NULL;
  struct ward_conf *conf = NULL;
  if (ward_conf_load (&conf, &err) < 0)
    {
      log_warning ("audit log: %s", err->message);
      ward_error_free (&err);
      return NULL;
    }
  struct audit_log *log = open_or_warn (conf->audit_dir, id);
  ward_conf_free (conf);
  return log;
}

void
container_audit_started (int state_dir_fd, const char *id, pid_t pid)
{
  struct audit_log *log = container_audit_open (state_dir_fd, id);
  if (log == NULL)
    return;
  char text[32];
  int n = snprintf (text, sizeof text, "%" PRId64, now_ns ());
  struct ward_error *err = NULL;
  if (fs_write_file_atomic (state_dir_fd, CONTAINER_AUDIT_STARTED_FILE, text, n, 0600, &err) < 0)
    {
      log_warning ("%s", err->message);
      ward_error_free (&err);
    }
  struct json_writer *w = audit_record_begin (log, "container.start", false);
  if (w)
    jw_key_int (w, "pid", pid);
  write_or_warn (log, w, "container.start");
  audit_close (log);
}

/* What ward saw of the exit: the status and signal when it waited for the
 * process, or that delete killed it. */
struct exit_seen
{
  bool has_status;
  int code;       /* exit code, when not signalled */
  int signal;     /* 0: not signalled */
  const char *by; /* "run", "delete" */
};

static void
write_usage (struct json_writer *w, int state_dir_fd, const struct container_state *state)
{
  uint64_t usec = 0;
  struct ward_error *err = NULL;
  jw_key (w, "cpu_seconds");
  if (state->cgroup.count > 0 && usage_cgroup_cpu_usec (&state->cgroup, &usec, &err) == 0)
    {
      char text[32];
      snprintf (text, sizeof text, "%" PRIu64 ".%03u", usec / 1000000, (unsigned)(usec % 1000000 / 1000));
      jw_number (w, text);
    }
  else
    jw_null (w);
  ward_error_free (&err);
  /* Egress and cost only the supervisor measures; its last snapshot is
   * at most one poll old. */
  struct usage_snapshot snapshot;
  if (usage_read_at (state_dir_fd, &snapshot, &err) == 0)
    {
      jw_key_int (w, "egress_bytes", (long long)snapshot.used.egress_bytes);
      jw_key_int (w, "connections", (long long)snapshot.used.connections);
      key_fixed3 (w, "cost", snapshot.cost_millis);
      if (snapshot.breach != BUDGET_WITHIN)
        jw_key_string (w, "breach", budget_limit_name (snapshot.breach));
    }
  ward_error_free (&err);
}

static void
write_exit (struct audit_log *log, int state_dir_fd, const struct container_state *state,
            const struct exit_seen *seen)
{
  cleanup_free char *started = NULL;
  size_t length = 0;
  struct ward_error *err = NULL;
  if (fs_read_file_at (state_dir_fd, CONTAINER_AUDIT_STARTED_FILE, &started, &length, &err) < 0)
    {
      /* Never started: no process ran, so none exited. */
      ward_error_free (&err);
      return;
    }
  int64_t since = strtoll (started, NULL, 10), now = now_ns ();
  struct json_writer *w = audit_record_begin (log, "container.exit", false);
  if (w)
    {
      jw_key (w, "status");
      if (seen->has_status && seen->signal == 0)
        jw_int (w, seen->code);
      else
        jw_null (w);
      key_string_or_null (w, "signal", seen->signal ? signal_name (seen->signal) : NULL);
      key_fixed3 (w, "duration_seconds", now > since ? (uint64_t)(now - since) / 1000000 : 0);
      write_usage (w, state_dir_fd, state);
      jw_key_string (w, "observed_by", seen->by);
    }
  write_or_warn (log, w, "container.exit");
  /* Once: a delete after run, or one tried again, does not repeat it. */
  if (fs_write_file_atomic (state_dir_fd, CONTAINER_AUDIT_EXITED_FILE, "", 0, 0600, &err) < 0)
    ward_error_free (&err);
}

void
container_audit_exited (const char *root, const char *id, int wait_status)
{
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/%s", root, id) < 0)
    return;
  cleanup_close int dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return;
  struct audit_log *log = container_audit_open (dir_fd, id);
  if (log == NULL)
    return;
  struct container_state state;
  struct ward_error *err = NULL;
  if (state_read_at (dir_fd, id, &state, &err) == 0)
    {
      struct exit_seen seen = {
        .has_status = true,
        .code = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 0,
        .signal = WIFSIGNALED (wait_status) ? WTERMSIG (wait_status) : 0,
        .by = "run",
      };
      write_exit (log, dir_fd, &state, &seen);
      state_clear (&state);
    }
  if (err)
    log_warning ("container.exit record: %s", err->message);
  ward_error_free (&err);
  audit_close (log);
}

void
container_audit_exit_at_delete (struct audit_log *log, int state_dir_fd, const struct container_state *state,
                                enum container_status status)
{
  if (log == NULL || faccessat (state_dir_fd, CONTAINER_AUDIT_EXITED_FILE, F_OK, 0) == 0)
    return;
  /* A stopped init was reaped by whoever was its parent: ward never sees
   * its status.  A running one, delete --force kills. */
  struct exit_seen seen = { .by = "delete" };
  if (status == STATUS_RUNNING || status == STATUS_PAUSED)
    seen.signal = SIGKILL;
  write_exit (log, state_dir_fd, state, &seen);
}

void
container_audit_deleted (struct audit_log *log, bool force, enum container_status status)
{
  if (log == NULL)
    return;
  struct json_writer *w = audit_record_begin (log, "container.delete", false);
  if (w)
    {
      jw_key_bool (w, "force", force);
      jw_key_string (w, "status", state_status_name (status));
    }
  write_or_warn (log, w, "container.delete");
}
