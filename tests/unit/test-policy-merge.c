/* The tighten-only merge: the issue's example (every capability, writable
 * root, docker.sock and the host network) is tightened where it can be and
 * refused where it cannot; a network namespace joined by path is accepted
 * under agent-default only when it is not the host's; rlimits, devices,
 * scratch mounts and resources follow the policy; and a config that is
 * already as strict as the policy comes back unchanged. */
#include "config.h"
#include "harness.h"
#include "policy.h"
#include "policy_merge.h"
#include "spec.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef WARD_TEST_POLICY_DIR
#define WARD_TEST_POLICY_DIR "policy-profiles"
#endif

static struct policy *
load (const char *name)
{
  const char *dir = getenv ("WARD_POLICY_DIR");
  struct policy *p = NULL;
  struct ward_error *err = NULL;
  if (policy_load (dir && dir[0] ? dir : WARD_TEST_POLICY_DIR, name, &p, &err) < 0)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  return p;
}

/* Written with single quotes to stay readable; swapped one for one. */
static struct spec *
parse (const char *single_quoted)
{
  char *text = strdup (single_quoted);
  for (char *c = text; *c; c++)
    if (*c == '\'')
      *c = '"';
  struct spec *spec = NULL;
  struct ward_error *err = NULL;
  if (spec_parse ("config.json", text, strlen (text), &spec, &err) < 0)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  free (text);
  return spec;
}

/* One merge, its report and its error, released together. */
struct run
{
  struct policy *policy;
  struct spec *spec;
  struct merge_report report;
  struct ward_error *err;
  int ret;
};

static bool
run_merge (struct run *r, const char *policy_name, const char *config)
{
  memset (r, 0, sizeof *r);
  r->policy = load (policy_name);
  r->spec = parse (config);
  if (r->policy == NULL || r->spec == NULL)
    return false;
  r->ret = policy_merge (r->policy, r->spec, NULL, &r->report, &r->err);
  return true;
}

static void
run_free (struct run *r)
{
  merge_report_clear (&r->report);
  ward_error_free (&r->err);
  spec_free (r->spec);
  policy_free (r->policy);
}

static const struct merge_entry *
find (const struct run *r, enum merge_kind kind, const char *field)
{
  for (size_t i = 0; i < r->report.count; i++)
    if (r->report.entries[i].kind == kind && strcmp (r->report.entries[i].field, field) == 0)
      return &r->report.entries[i];
  return NULL;
}

static size_t
count_kind (const struct run *r, enum merge_kind kind)
{
  size_t n = 0;
  for (size_t i = 0; i < r->report.count; i++)
    n += r->report.entries[i].kind == kind;
  return n;
}

static void
dump (const struct run *r)
{
  for (size_t i = 0; i < r->report.count; i++)
    printf ("    %s %s: %s\n", merge_kind_name (r->report.entries[i].kind), r->report.entries[i].field,
            r->report.entries[i].reason);
}

#define ALL_CAPS "['CAP_SYS_ADMIN', 'CAP_NET_RAW']"
#define ISSUE_PROCESS                                                                                        \
  "'process': {'args': ['sh'], 'cwd': '/', 'user': {'uid': 0, 'gid': 0},"                                    \
  " 'capabilities': {'bounding': " ALL_CAPS ", 'effective': " ALL_CAPS ", 'permitted': " ALL_CAPS            \
  ", 'inheritable': " ALL_CAPS ", 'ambient': " ALL_CAPS "}},"                                                \
  "'root': {'path': 'rootfs', 'readonly': false},"                                                           \
  "'mounts': [{'destination': '/var/run/docker.sock', 'type': 'bind', 'source': '/var/run/docker.sock',"     \
  " 'options': ['rbind']}],"

TEST (issue_example_tightens_and_refuses_the_socket)
{
  struct run r;
  REQUIRE (run_merge (&r, "agent-default",
                      "{'ociVersion': '1.2.0'," ISSUE_PROCESS
                      " 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'},"
                      " {'type': 'mount'}, {'type': 'cgroup'}]}}"));
  CHECK_INT_EQ (r.ret, -1);
  REQUIRE (r.err != NULL);
  CHECK_STR_EQ (r.err->message,
                "policy agent-default: mounts[0]: binding /var/run/docker.sock into "
                "/var/run/docker.sock is not allowed (forbidden bind source: /var/run/docker.sock)");
  const struct spec_capabilities *c = &r.spec->process->capabilities;
  CHECK_INT_EQ (c->bounding_count + c->effective_count + c->permitted_count + c->inheritable_count
                    + c->ambient_count,
                0);
  CHECK (c->bounding[0] == NULL);
  const struct merge_entry *e = find (&r, MERGE_CHANGED, "process.capabilities.bounding");
  REQUIRE (e != NULL);
  CHECK_STR_EQ (e->reason, "CAP_SYS_ADMIN, CAP_NET_RAW removed (policy maximum: none)");
  CHECK (find (&r, MERGE_CHANGED, "process.capabilities.ambient") != NULL);
  CHECK (r.spec->root_readonly);
  CHECK (find (&r, MERGE_CHANGED, "root.readonly") != NULL);
  CHECK (r.spec->process->no_new_privileges);
  CHECK (find (&r, MERGE_CHANGED, "process.noNewPrivileges") != NULL);
  CHECK (find (&r, MERGE_REFUSED, "mounts[0]") != NULL);
  /* The host network (no network namespace listed) is refused, not
   * silently swapped for an empty one. */
  e = find (&r, MERGE_REFUSED, "linux.namespaces");
  REQUIRE (e != NULL);
  CHECK_STR_EQ (e->reason,
                "sharing the host network namespace is not allowed (the config names no network namespace)");
  CHECK_INT_EQ (count_kind (&r, MERGE_REFUSED), 2);
  run_free (&r);
}

/* Inside some sandboxes even root may not look at init's namespaces; the
 * merge then judges by ward's own namespace, and refuses a path it cannot
 * examine at all (it fails closed). */
static bool
host_netns_visible (void)
{
  struct stat st;
  if (stat ("/proc/1/ns/net", &st) == 0)
    return true;
  printf ("  /proc/1/ns/net cannot be examined here: checking that the merge fails closed\n");
  return false;
}

TEST (joining_the_host_network_is_refused)
{
  bool visible = host_netns_visible ();
  struct run r;
  REQUIRE (
      run_merge (&r, "agent-default",
                 "{'ociVersion': '1.2.0', 'process': {'args': ['sh'], 'cwd': '/'},"
                 " 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'},"
                 " {'type': 'mount'}, {'type': 'cgroup'}, {'type': 'network', 'path': '/proc/1/ns/net'}]}}"));
  CHECK_INT_EQ (r.ret, -1);
  REQUIRE (r.err != NULL);
  if (visible)
    CHECK_STR_EQ (
        r.err->message,
        "policy agent-default: linux.namespaces: joining the host network namespace is not allowed");
  else
    CHECK_STR_EQ (r.err->message,
                  "policy agent-default: linux.namespaces: cannot tell whether network "
                  "namespace /proc/1/ns/net is the host's: stat /proc/1/ns/net: Permission denied");
  CHECK_INT_EQ (count_kind (&r, MERGE_REFUSED), 1);
  run_free (&r);

  /* The same path through a link is still the host's. */
  REQUIRE (run_merge (&r, "agent-default",
                      "{'ociVersion': '1.2.0', 'linux': {'namespaces': [{'type': 'network', 'path': "
                      "'/proc/self/ns/net'}]}}"));
  CHECK_INT_EQ (r.ret, -1);
  run_free (&r);
}

/* A child in a network namespace of its own; 0 when unshare is not possible. */
static pid_t
spawn_netns_holder (void)
{
  int ready[2];
  if (pipe (ready) < 0)
    return 0;
  pid_t pid = fork ();
  if (pid == 0)
    {
      char ok = unshare (CLONE_NEWNET) == 0 ? 'y' : 'n';
      if (write (ready[1], &ok, 1) != 1)
        _exit (1);
      pause ();
      _exit (0);
    }
  close (ready[1]);
  char ok = 'n';
  if (pid < 0 || read (ready[0], &ok, 1) != 1 || ok != 'y')
    {
      if (pid > 0)
        {
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
        }
      pid = 0;
    }
  close (ready[0]);
  return pid;
}

TEST (joined_network_not_the_hosts)
{
  pid_t holder = spawn_netns_holder ();
  if (holder == 0)
    {
      printf ("  skipped: cannot create a network namespace\n");
      return;
    }
  char config[512];
  snprintf (config, sizeof config,
            "{'ociVersion': '1.2.0', 'process': {'args': ['sh'], 'cwd': '/'},"
            " 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'},"
            " {'type': 'mount'}, {'type': 'cgroup'}, {'type': 'network', 'path': '/proc/%d/ns/net'}]}}",
            (int)holder);
  struct run r;
  if (run_merge (&r, "agent-default", config) && r.spec)
    {
      CHECK (find (&r, MERGE_REFUSED, "linux.namespaces") == NULL);
      CHECK (find (&r, MERGE_CHANGED, "linux.namespaces") == NULL);
      CHECK_INT_EQ (r.ret, 0);
      CHECK (r.spec->linux_config.namespaces[NS_NETWORK].path != NULL);
    }
  run_free (&r);

  if (run_merge (&r, "agent-strict", config))
    {
      CHECK_INT_EQ (r.ret, -1);
      const struct merge_entry *e = find (&r, MERGE_REFUSED, "linux.namespaces");
      CHECK (e != NULL && strstr (e->reason, "the policy requires a new one") != NULL);
    }
  run_free (&r);
  kill (holder, SIGKILL);
  waitpid (holder, NULL, 0);
}

TEST (required_namespace_added_and_joined_one_refused)
{
  struct run r;
  REQUIRE (
      run_merge (&r, "agent-default",
                 "{'ociVersion': '1.2.0', 'linux': {'namespaces': [{'type': 'mount'}, {'type': 'network'},"
                 " {'type': 'pid', 'path': '/proc/1/ns/pid'}]}}"));
  CHECK_INT_EQ (r.ret, -1);
  CHECK (r.spec->linux_config.namespaces[NS_IPC].requested);
  CHECK (r.spec->linux_config.namespaces[NS_CGROUP].requested);
  const struct merge_entry *e = find (&r, MERGE_REFUSED, "linux.namespaces");
  REQUIRE (e != NULL);
  CHECK_STR_EQ (e->reason,
                "joining the pid namespace /proc/1/ns/pid is not allowed (the policy requires a new one)");
  run_free (&r);
}

TEST (rlimits_lowered_and_added)
{
  struct run r;
  REQUIRE (run_merge (&r, "agent-default",
                      "{'ociVersion': '1.2.0', 'process': {'args': ['sh'], 'cwd': '/', 'rlimits': ["
                      "{'type': 'RLIMIT_NOFILE', 'soft': 4096, 'hard': 1048576},"
                      "{'type': 'RLIMIT_NPROC', 'soft': 100, 'hard': 100}]}, 'linux': {'namespaces': "
                      "[{'type': 'network'}]}}"));
  CHECK_INT_EQ (r.ret, 0);
  const struct spec_process *p = r.spec->process;
  REQUIRE (p->rlimits_count == 3);
  CHECK_STR_EQ (p->rlimits[0].type, "RLIMIT_NOFILE");
  CHECK_INT_EQ (p->rlimits[0].soft, 1024);
  CHECK_INT_EQ (p->rlimits[0].hard, 1024);
  CHECK_INT_EQ (p->rlimits[1].soft, 100); /* already lower: kept */
  CHECK_INT_EQ (p->rlimits[1].hard, 100);
  CHECK_STR_EQ (p->rlimits[2].type, "RLIMIT_CORE");
  CHECK_INT_EQ (p->rlimits[2].hard, 0);
  const struct merge_entry *e = find (&r, MERGE_CHANGED, "process.rlimits.RLIMIT_NOFILE");
  REQUIRE (e != NULL);
  CHECK_STR_EQ (e->reason,
                "lowered from soft 4096, hard 1048576 to soft 1024, hard 1024 (policy maximum: 1024)");
  CHECK (find (&r, MERGE_CHANGED, "process.rlimits.RLIMIT_NPROC") == NULL);
  CHECK (find (&r, MERGE_CHANGED, "process.rlimits.RLIMIT_CORE") != NULL);
  run_free (&r);
}

TEST (devices_outside_the_allowed_list_refused)
{
  struct run r;
  REQUIRE (run_merge (&r, "agent-default",
                      "{'ociVersion': '1.2.0', 'linux': {'devices': ["
                      "{'path': '/dev/null', 'type': 'c', 'major': 1, 'minor': 3},"
                      "{'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0},"
                      "{'path': '/dev/zero', 'type': 'c', 'major': 8, 'minor': 0},"
                      "{'path': '/dev/pts/0', 'type': 'c', 'major': 136, 'minor': 0}],"
                      " 'namespaces': [{'type': 'network'}]}}"));
  CHECK_INT_EQ (r.ret, -1);
  REQUIRE (r.err != NULL);
  CHECK_STR_EQ (
      r.err->message,
      "policy agent-default: linux.devices[1]: device /dev/sda b 8:0 is not allowed (privileged device)");
  CHECK (find (&r, MERGE_REFUSED, "linux.devices[0]") == NULL);
  CHECK (find (&r, MERGE_REFUSED, "linux.devices[2]") != NULL); /* /dev/sda's numbers under another name */
  CHECK (find (&r, MERGE_REFUSED, "linux.devices[3]") == NULL);
  CHECK_INT_EQ (count_kind (&r, MERGE_REFUSED), 2);
  run_free (&r);
}

TEST (forbidden_source_rule)
{
  CHECK (policy_merge_path_forbidden ("/", "/"));
  CHECK (!policy_merge_path_forbidden ("/home/agent", "/"));
  CHECK (policy_merge_path_forbidden ("/run/containerd", "/run/containerd"));
  CHECK (policy_merge_path_forbidden ("/run/containerd/s/x.sock", "/run/containerd"));
  CHECK (!policy_merge_path_forbidden ("/run/containerdx", "/run/containerd"));
  CHECK (policy_merge_path_forbidden ("/var", "/var/lib/docker")); /* above: exposes it */
  CHECK (policy_merge_path_forbidden ("/", "/etc"));
  CHECK (!policy_merge_path_forbidden ("/var/lib/dock", "/var/lib/docker"));
  CHECK (!policy_merge_path_forbidden ("/srv/data", "/etc"));
}

TEST (scratch_tmpfs_replaces_a_bind_and_user_forced)
{
  struct run r;
  REQUIRE (run_merge (
      &r, "agent-strict",
      "{'ociVersion': '1.2.0', 'process': {'args': ['sh'], 'cwd': '/', 'user': {'uid': 0, 'gid': 0}},"
      " 'mounts': [{'destination': '/tmp', 'type': 'bind', 'source': '/srv/scratch', 'options': "
      "['rbind']}], 'linux': {'namespaces': [{'type': 'network'}]}}"));
  REQUIRE (r.spec->mounts_count == 2);
  CHECK_STR_EQ (r.spec->mounts[0].type, "tmpfs");
  CHECK_STR_EQ (r.spec->mounts[0].destination, "/tmp");
  /* The scratch belongs to the forced user, who could not write it otherwise. */
  REQUIRE (r.spec->mounts[0].options_count == 6);
  CHECK_STR_EQ (r.spec->mounts[0].options[3], "size=67108864");
  CHECK_STR_EQ (r.spec->mounts[0].options[4], "uid=65534");
  CHECK_STR_EQ (r.spec->mounts[0].options[5], "gid=65534");
  CHECK_STR_EQ (r.spec->mounts[1].destination, "/home/agent");
  CHECK (find (&r, MERGE_CHANGED, "mounts[0]") != NULL);
  CHECK_INT_EQ (r.spec->process->user.uid, 65534);
  CHECK_INT_EQ (r.spec->process->user.gid, 65534);
  CHECK (find (&r, MERGE_CHANGED, "process.user") != NULL);
  /* Absent capabilities would keep every one: they become none. */
  CHECK (r.spec->process->capabilities.present);
  CHECK_INT_EQ (r.spec->process->capabilities.bounding_count, 0);
  CHECK_INT_EQ (r.ret, 0);
  run_free (&r);
}

TEST (resources_decision)
{
  struct run r;
  REQUIRE (run_merge (&r, "agent-default",
                      "{'ociVersion': '1.2.0', 'linux': {'resources': {'memory': {'limit': 17179869184},"
                      " 'cpu': {'quota': 2000, 'period': 1000}}, 'namespaces': [{'type': 'network'}]}}"));
  CHECK_INT_EQ (r.ret, 0);
  const struct policy_resources_decision *d = &r.report.resources;
  CHECK (d->has_memory_limit && d->has_pids_limit && d->has_cpu);
  CHECK_INT_EQ (d->memory_limit, 8LL << 30);
  CHECK_INT_EQ (d->pids_limit, 256); /* absent: the default */
  CHECK_INT_EQ (d->cpu_quota, 2000); /* two CPUs: within four */
  CHECK_INT_EQ (d->cpu_period, 1000);
  CHECK (find (&r, MERGE_CHANGED, "linux.resources.memory.limit") != NULL);
  CHECK (find (&r, MERGE_CHANGED, "linux.resources.pids.limit") != NULL);
  CHECK (find (&r, MERGE_CHANGED, "linux.resources.cpu.quota") == NULL);
  run_free (&r);
}

#define MASKED                                                                                               \
  "['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/kallsyms', '/proc/kmsg',"   \
  " '/proc/sysrq-trigger', '/proc/latency_stats', '/proc/scsi', '/proc/acpi', '/sys/firmware',"              \
  " '/sys/kernel/debug', '/sys/kernel/security', '/sys/devices/virtual/powercap', '/sys/fs/bpf']"
#define READONLY "['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/asound', '/sys/fs/cgroup']"

TEST (already_strict_config_unchanged)
{
  struct run r;
  REQUIRE (run_merge (
      &r, "agent-default",
      "{'ociVersion': '1.2.0',"
      " 'process': {'args': ['sh'], 'cwd': '/', 'user': {'uid': 1000, 'gid': 1000}, 'noNewPrivileges': true,"
      "  'capabilities': {'bounding': [], 'effective': [], 'permitted': [], 'inheritable': [], 'ambient': "
      "[]},"
      "  'rlimits': [{'type': 'RLIMIT_CORE', 'soft': 0, 'hard': 0}, {'type': 'RLIMIT_NOFILE', 'soft': 1024, "
      "'hard': 1024}, {'type': 'RLIMIT_NPROC', 'soft': 512, 'hard': 512}]},"
      " 'root': {'path': 'rootfs', 'readonly': true},"
      " 'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
      "  {'destination': '/tmp', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'size=64m']},"
      "  {'destination': '/home/agent', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['size=1g']},"
      "  {'destination': '/data', 'type': 'bind', 'source': '/srv/agent-data', 'options': ['rbind', 'ro']}],"
      " 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'},"
      "  {'type': 'cgroup'}, {'type': 'network'}],"
      "  'devices': [{'path': '/dev/null', 'type': 'c', 'major': 1, 'minor': 3}],"
      "  'maskedPaths': " MASKED ", 'readonlyPaths': " READONLY ","
      "  'resources': {'memory': {'limit': 1073741824}, 'pids': {'limit': 100}, 'cpu': {'quota': 50000, "
      "'period': 100000}}}}"));
  CHECK_INT_EQ (r.ret, 0);
  CHECK_INT_EQ (count_kind (&r, MERGE_CHANGED), 0);
  CHECK_INT_EQ (count_kind (&r, MERGE_REFUSED), 0);
  /* Only the note that the policy's seccomp filter is stacked. */
  CHECK_INT_EQ (r.report.count, 1);
  CHECK (find (&r, MERGE_NOTED, "linux.seccomp") != NULL);
  if (r.report.count != 1)
    dump (&r);
  CHECK_INT_EQ (r.spec->mounts_count, 4);
  CHECK_INT_EQ (r.spec->linux_config.masked_paths_count, 15);
  CHECK_INT_EQ (r.report.resources.memory_limit, 1073741824);
  CHECK_INT_EQ (r.report.resources.pids_limit, 100);
  run_free (&r);
}

TEST (masked_paths_added_without_duplicates)
{
  struct run r;
  REQUIRE (run_merge (&r, "agent-default",
                      "{'ociVersion': '1.2.0', 'linux': {'maskedPaths': ['/proc/kcore', '/proc/extra']}}"));
  CHECK_INT_EQ (r.spec->linux_config.masked_paths_count, 16);
  CHECK (r.spec->linux_config.masked_paths[16] == NULL);
  CHECK_INT_EQ (r.spec->linux_config.readonly_paths_count, 6);
  run_free (&r);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (issue_example_tightens_and_refuses_the_socket),
  TEST_ENTRY (joining_the_host_network_is_refused),
  TEST_ENTRY (joined_network_not_the_hosts),
  TEST_ENTRY (required_namespace_added_and_joined_one_refused),
  TEST_ENTRY (rlimits_lowered_and_added),
  TEST_ENTRY (devices_outside_the_allowed_list_refused),
  TEST_ENTRY (forbidden_source_rule),
  TEST_ENTRY (scratch_tmpfs_replaces_a_bind_and_user_forced),
  TEST_ENTRY (resources_decision),
  TEST_ENTRY (already_strict_config_unchanged),
  TEST_ENTRY (masked_paths_added_without_duplicates),
};

HARNESS_MAIN (tests)
