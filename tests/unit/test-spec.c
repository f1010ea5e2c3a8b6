/* config.json → struct spec: every field lands where spec.h says, bad
 * documents are refused with messages that name the field and position,
 * and the default config (`ward spec`) parses back. */
#include "config.h"
#include "harness.h"
#include "spec.h"
#include "spec_default.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The one place that names the member (not "linux": GNU C predefines it). */
#define SPEC_LINUX(spec) (&(spec)->linux_config)

/* The documents below are written with single quotes to stay readable;
 * swapping them one for one keeps every line and column unchanged. */
static char *
from_single_quotes (const char *text)
{
  char *copy = strdup (text);
  for (char *p = copy; p && *p; p++)
    if (*p == '\'')
      *p = '"';
  return copy;
}

static struct spec *
parse (const char *single_quoted)
{
  char *text = from_single_quotes (single_quoted);
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

static void
check_error_at (const char *file, int line, const char *single_quoted, const char *expected)
{
  char *text = from_single_quotes (single_quoted);
  struct spec *spec = NULL;
  struct ward_error *err = NULL;
  int ret = spec_parse ("config.json", text, strlen (text), &spec, &err);
  if (ret != -1 || err == NULL)
    {
      harness_check (false, file, line, "spec_parse failed");
      printf ("    expected: \"%s\"\n", expected);
    }
  else
    harness_check_str (err->message, expected, file, line, "message", "expected");
  ward_error_free (&err);
  spec_free (spec);
  free (text);
}

#define CHECK_ERROR(text, expected) check_error_at (__FILE__, __LINE__, (text), (expected))

static const char full_config[]
    = "{\n"
      "  'ociVersion': '1.2.0',\n"
      "  'root': {'path': 'rootfs', 'readonly': true},\n"
      "  'hostname': 'box',\n"
      "  'domainname': 'example.org',\n"
      "  'process': {\n"
      "    'terminal': true,\n"
      "    'consoleSize': {'height': 25, 'width': 80},\n"
      "    'user': {'uid': 1000, 'gid': 100, 'umask': 18, 'additionalGids': [5, 4294967295]},\n"
      "    'args': ['python3', '-c', 'print(1)'],\n"
      "    'env': ['PATH=/usr/bin:/bin', 'HOME=/root'],\n"
      "    'cwd': '/work',\n"
      "    'capabilities': {\n"
      "      'bounding': ['CAP_KILL', 'CAP_CHOWN'],\n"
      "      'effective': ['CAP_KILL'],\n"
      "      'permitted': ['CAP_KILL', 'CAP_CHOWN', 'CAP_SETUID'],\n"
      "      'inheritable': [],\n"
      "      'ambient': ['CAP_NET_BIND_SERVICE']\n"
      "    },\n"
      "    'rlimits': [\n"
      "      {'type': 'RLIMIT_NOFILE', 'hard': 4096, 'soft': 1024},\n"
      "      {'type': 'RLIMIT_CORE', 'hard': 18446744073709551615, 'soft': 0}\n"
      "    ],\n"
      "    'noNewPrivileges': true,\n"
      "    'apparmorProfile': 'ward-default',\n"
      "    'selinuxLabel': 'system_u:system_r:container_t:s0',\n"
      "    'oomScoreAdj': -999,\n"
      "    'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 4},\n"
      "    'scheduler': {'policy': 'SCHED_OTHER'},\n"
      "    'somethingNew': {'ignored': true}\n"
      "  },\n"
      "  'mounts': [\n"
      "    {'destination': '/proc', 'type': 'proc', 'source': 'proc'},\n"
      "    {'destination': '/data', 'source': '/srv/data', 'options': ['rbind', 'ro', 'nosuid']},\n"
      "    {'destination': '/tmp', 'type': 'tmpfs', 'options': ['size=64m']}\n"
      "  ],\n"
      "  'hooks': {\n"
      "    'prestart': [{'path': '/bin/pre'}],\n"
      "    'createRuntime': [\n"
      "      {'path': '/usr/bin/ward-hook', 'args': ['ward-hook', 'egress'], 'env': ['A=1'], 'timeout': 5},\n"
      "      {'path': '/bin/second'}\n"
      "    ],\n"
      "    'createContainer': [{'path': '/bin/cc'}],\n"
      "    'startContainer': [{'path': '/bin/sc'}],\n"
      "    'poststart': [{'path': '/bin/ps', 'timeout': 30}],\n"
      "    'poststop': [{'path': '/bin/stop', 'args': ['stop', '--now']}],\n"
      "    'futureHook': [{'path': '/bin/ignored'}]\n"
      "  },\n"
      "  'annotations': {'org.ward.profile': 'agent', 'io.kubernetes.cri.sandbox-id': 'abc'},\n"
      "  'linux': {\n"
      "    'namespaces': [\n"
      "      {'type': 'pid'},\n"
      "      {'type': 'network', 'path': '/var/run/netns/agent'},\n"
      "      {'type': 'mount'},\n"
      "      {'type': 'ipc', 'path': ''},\n"
      "      {'type': 'uts'},\n"
      "      {'type': 'user'},\n"
      "      {'type': 'cgroup'},\n"
      "      {'type': 'time'}\n"
      "    ],\n"
      "    'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],\n"
      "    'gidMappings': [\n"
      "      {'containerID': 0, 'hostID': 200000, 'size': 1},\n"
      "      {'containerID': 1, 'hostID': 300000, 'size': 1000}\n"
      "    ],\n"
      "    'devices': [\n"
      "      {'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229, 'fileMode': 438, 'uid': 0, 'gid': "
      "0},\n"
      "      {'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0},\n"
      "      {'path': '/dev/fifo', 'type': 'p'}\n"
      "    ],\n"
      "    'cgroupsPath': '/ward/agent-1',\n"
      "    'sysctl': {'net.ipv4.ip_forward': '0', 'kernel.shm_rmid_forced': '1'},\n"
      "    'maskedPaths': ['/proc/kcore', '/sys/firmware'],\n"
      "    'readonlyPaths': ['/proc/sys'],\n"
      "    'rootfsPropagation': 'rslave',\n"
      "    'mountLabel': 'system_u:object_r:container_file_t:s0',\n"
      "    'timeOffsets': {'monotonic': {'secs': -86400, 'nanosecs': 5}, 'boottime': {'secs': 3600}},\n"
      "    'resources': {'memory': {'limit': 536870912}, 'pids': {'limit': 100}},\n"
      "    'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': []},\n"
      "    'personality': {'domain': 'LINUX'},\n"
      "    'intelRdt': {'closID': 'ignored'}\n"
      "  },\n"
      "  'windows': {'ignored': true},\n"
      "  'vm': null\n"
      "}\n";

TEST (top_level_fields)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  CHECK_STR_EQ (spec->oci_version, "1.2.0");
  CHECK_STR_EQ (spec->root_path, "rootfs");
  CHECK (spec->root_readonly);
  CHECK_STR_EQ (spec->hostname, "box");
  CHECK_STR_EQ (spec->domainname, "example.org");
  CHECK (spec->doc != NULL);
  CHECK_STR_EQ (spec->doc->name, "config.json");
  spec_free (spec);
}

TEST (process_fields)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  const struct spec_process *p = spec->process;
  REQUIRE (p != NULL);
  CHECK (p->terminal);
  CHECK (p->has_console_size);
  CHECK_INT_EQ (p->console_height, 25);
  CHECK_INT_EQ (p->console_width, 80);
  CHECK_INT_EQ (p->args_count, 3);
  CHECK_STR_EQ (p->args[0], "python3");
  CHECK_STR_EQ (p->args[2], "print(1)");
  CHECK (p->args[3] == NULL);
  CHECK_INT_EQ (p->env_count, 2);
  CHECK_STR_EQ (p->env[1], "HOME=/root");
  CHECK (p->env[2] == NULL);
  CHECK_STR_EQ (p->cwd, "/work");
  CHECK (p->no_new_privileges);
  CHECK_STR_EQ (p->apparmor_profile, "ward-default");
  CHECK_STR_EQ (p->selinux_label, "system_u:system_r:container_t:s0");
  CHECK (p->has_oom_score_adj);
  CHECK_INT_EQ (p->oom_score_adj, -999);
  /* Kept as subtrees for the modules that apply them. */
  REQUIRE (p->io_priority != NULL && p->scheduler != NULL);
  CHECK_STR_EQ (json_object_get (p->io_priority, "class")->u.string, "IOPRIO_CLASS_BE");
  CHECK_STR_EQ (json_object_get (p->scheduler, "policy")->u.string, "SCHED_OTHER");
  spec_free (spec);
}

TEST (process_user)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL && spec->process != NULL);
  const struct spec_user *u = &spec->process->user;
  CHECK_INT_EQ (u->uid, 1000);
  CHECK_INT_EQ (u->gid, 100);
  CHECK (u->has_umask);
  CHECK_INT_EQ (u->umask, 022);
  CHECK_INT_EQ (u->additional_gids_count, 2);
  REQUIRE (u->additional_gids != NULL);
  CHECK_INT_EQ (u->additional_gids[0], 5);
  CHECK_INT_EQ (u->additional_gids[1], 4294967295u);
  spec_free (spec);
}

TEST (process_capabilities_and_rlimits)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL && spec->process != NULL);
  const struct spec_capabilities *c = &spec->process->capabilities;
  CHECK (c->present);
  CHECK_INT_EQ (c->bounding_count, 2);
  CHECK_STR_EQ (c->bounding[1], "CAP_CHOWN");
  CHECK_INT_EQ (c->effective_count, 1);
  CHECK_STR_EQ (c->effective[0], "CAP_KILL");
  CHECK_INT_EQ (c->permitted_count, 3);
  CHECK_STR_EQ (c->permitted[2], "CAP_SETUID");
  CHECK_INT_EQ (c->inheritable_count, 0);
  CHECK (c->inheritable != NULL && c->inheritable[0] == NULL);
  CHECK_INT_EQ (c->ambient_count, 1);
  CHECK_STR_EQ (c->ambient[0], "CAP_NET_BIND_SERVICE");

  const struct spec_process *p = spec->process;
  CHECK_INT_EQ (p->rlimits_count, 2);
  REQUIRE (p->rlimits != NULL);
  CHECK_STR_EQ (p->rlimits[0].type, "RLIMIT_NOFILE");
  CHECK (p->rlimits[0].hard == 4096);
  CHECK (p->rlimits[0].soft == 1024);
  CHECK_STR_EQ (p->rlimits[1].type, "RLIMIT_CORE");
  CHECK (p->rlimits[1].hard == UINT64_MAX);
  CHECK (p->rlimits[1].soft == 0);
  spec_free (spec);
}

TEST (mounts)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  REQUIRE (spec->mounts_count == 3);
  const struct spec_mount *m = spec->mounts;
  CHECK_STR_EQ (m[0].destination, "/proc");
  CHECK_STR_EQ (m[0].type, "proc");
  CHECK_STR_EQ (m[0].source, "proc");
  CHECK (m[0].options == NULL);
  CHECK_INT_EQ (m[0].options_count, 0);
  CHECK_STR_EQ (m[1].destination, "/data");
  CHECK_STR_EQ (m[1].type, NULL);
  CHECK_STR_EQ (m[1].source, "/srv/data");
  CHECK_INT_EQ (m[1].options_count, 3);
  CHECK_STR_EQ (m[1].options[0], "rbind");
  CHECK_STR_EQ (m[1].options[2], "nosuid");
  CHECK (m[1].options[3] == NULL);
  CHECK_STR_EQ (m[2].type, "tmpfs");
  CHECK_STR_EQ (m[2].source, NULL);
  spec_free (spec);
}

TEST (hooks)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (spec->hooks_count[HOOK_PRESTART], 1);
  CHECK_INT_EQ (spec->hooks_count[HOOK_CREATE_RUNTIME], 2);
  CHECK_INT_EQ (spec->hooks_count[HOOK_CREATE_CONTAINER], 1);
  CHECK_INT_EQ (spec->hooks_count[HOOK_START_CONTAINER], 1);
  CHECK_INT_EQ (spec->hooks_count[HOOK_POSTSTART], 1);
  CHECK_INT_EQ (spec->hooks_count[HOOK_POSTSTOP], 1);

  REQUIRE (spec->hooks[HOOK_CREATE_RUNTIME] != NULL);
  const struct spec_hook *h = &spec->hooks[HOOK_CREATE_RUNTIME][0];
  CHECK_STR_EQ (h->path, "/usr/bin/ward-hook");
  CHECK_INT_EQ (h->args_count, 2);
  CHECK_STR_EQ (h->args[1], "egress");
  CHECK_INT_EQ (h->env_count, 1);
  CHECK_STR_EQ (h->env[0], "A=1");
  CHECK_INT_EQ (h->timeout, 5);
  h = &spec->hooks[HOOK_CREATE_RUNTIME][1];
  CHECK_STR_EQ (h->path, "/bin/second");
  CHECK (h->args == NULL);
  CHECK_INT_EQ (h->timeout, 0);

  CHECK_STR_EQ (spec->hooks[HOOK_PRESTART][0].path, "/bin/pre");
  CHECK_STR_EQ (spec->hooks[HOOK_CREATE_CONTAINER][0].path, "/bin/cc");
  CHECK_STR_EQ (spec->hooks[HOOK_START_CONTAINER][0].path, "/bin/sc");
  CHECK_INT_EQ (spec->hooks[HOOK_POSTSTART][0].timeout, 30);
  CHECK_STR_EQ (spec->hooks[HOOK_POSTSTOP][0].args[1], "--now");

  CHECK_STR_EQ (spec_hook_point_name (HOOK_CREATE_RUNTIME), "createRuntime");
  CHECK_STR_EQ (spec_hook_point_name (HOOK_POSTSTOP), "poststop");
  spec_free (spec);
}

TEST (annotations)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (spec->annotations_count, 2);
  CHECK_STR_EQ (spec_annotation (spec, "org.ward.profile"), "agent");
  CHECK_STR_EQ (spec_annotation (spec, "io.kubernetes.cri.sandbox-id"), "abc");
  CHECK_STR_EQ (spec_annotation (spec, "absent"), NULL);
  spec_free (spec);
}

TEST (linux_namespaces)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  const struct spec_namespace *ns = SPEC_LINUX (spec)->namespaces;
  for (int k = 0; k < NS_KIND_COUNT; k++)
    if (!CHECK (ns[k].requested))
      printf ("    for %s\n", spec_namespace_name (k));
  CHECK_STR_EQ (ns[NS_NETWORK].path, "/var/run/netns/agent");
  CHECK_STR_EQ (ns[NS_PID].path, NULL);
  /* An empty path means "create one", as runc reads it. */
  CHECK_STR_EQ (ns[NS_IPC].path, NULL);
  CHECK_STR_EQ (spec_namespace_name (NS_NETWORK), "network");
  CHECK_STR_EQ (spec_namespace_name (NS_TIME), "time");
  spec_free (spec);

  spec = parse ("{'ociVersion': '1.2.0', 'linux': {'namespaces': [{'type': 'mount'}]}}");
  REQUIRE (spec != NULL);
  CHECK (SPEC_LINUX (spec)->namespaces[NS_MOUNT].requested);
  CHECK (!SPEC_LINUX (spec)->namespaces[NS_PID].requested);
  CHECK (!SPEC_LINUX (spec)->namespaces[NS_USER].requested);
  spec_free (spec);
}

TEST (linux_id_mappings)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  const struct spec_linux *l = SPEC_LINUX (spec);
  CHECK_INT_EQ (l->uid_mappings_count, 1);
  REQUIRE (l->uid_mappings != NULL);
  CHECK_INT_EQ (l->uid_mappings[0].container_id, 0);
  CHECK_INT_EQ (l->uid_mappings[0].host_id, 100000);
  CHECK_INT_EQ (l->uid_mappings[0].size, 65536);
  CHECK_INT_EQ (l->gid_mappings_count, 2);
  REQUIRE (l->gid_mappings != NULL);
  CHECK_INT_EQ (l->gid_mappings[1].container_id, 1);
  CHECK_INT_EQ (l->gid_mappings[1].host_id, 300000);
  CHECK_INT_EQ (l->gid_mappings[1].size, 1000);
  spec_free (spec);
}

TEST (linux_devices)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  const struct spec_linux *l = SPEC_LINUX (spec);
  REQUIRE (l->devices_count == 3);
  const struct spec_device *d = l->devices;
  CHECK_STR_EQ (d[0].path, "/dev/fuse");
  CHECK_INT_EQ (d[0].type, 'c');
  CHECK_INT_EQ (d[0].major, 10);
  CHECK_INT_EQ (d[0].minor, 229);
  CHECK (d[0].has_mode);
  CHECK_INT_EQ (d[0].file_mode, 0666);
  CHECK (d[0].has_uid && d[0].has_gid);
  CHECK_INT_EQ (d[0].uid, 0);
  CHECK_INT_EQ (d[1].type, 'b');
  CHECK_INT_EQ (d[1].major, 8);
  CHECK (!d[1].has_mode && !d[1].has_uid && !d[1].has_gid);
  CHECK_INT_EQ (d[2].type, 'p');
  CHECK_STR_EQ (d[2].path, "/dev/fifo");
  spec_free (spec);
}

TEST (linux_other_fields)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  const struct spec_linux *l = SPEC_LINUX (spec);
  CHECK_STR_EQ (l->cgroups_path, "/ward/agent-1");
  REQUIRE (l->sysctl_count == 2);
  CHECK_STR_EQ (l->sysctl[0].key, "net.ipv4.ip_forward");
  CHECK_STR_EQ (l->sysctl[0].value, "0");
  CHECK_STR_EQ (l->sysctl[1].key, "kernel.shm_rmid_forced");
  CHECK_STR_EQ (l->sysctl[1].value, "1");
  CHECK_INT_EQ (l->masked_paths_count, 2);
  CHECK_STR_EQ (l->masked_paths[1], "/sys/firmware");
  CHECK_INT_EQ (l->readonly_paths_count, 1);
  CHECK_STR_EQ (l->readonly_paths[0], "/proc/sys");
  CHECK_STR_EQ (l->rootfs_propagation, "rslave");
  CHECK_STR_EQ (l->mount_label, "system_u:object_r:container_file_t:s0");

  CHECK (l->time_monotonic.present);
  CHECK_INT_EQ (l->time_monotonic.secs, -86400);
  CHECK_INT_EQ (l->time_monotonic.nanosecs, 5);
  CHECK (l->time_boottime.present);
  CHECK_INT_EQ (l->time_boottime.secs, 3600);
  CHECK_INT_EQ (l->time_boottime.nanosecs, 0);
  spec_free (spec);
}

TEST (linux_subtrees_kept)
{
  struct spec *spec = parse (full_config);
  REQUIRE (spec != NULL);
  const struct spec_linux *l = SPEC_LINUX (spec);
  REQUIRE (l->resources != NULL && l->seccomp != NULL && l->personality != NULL);
  const struct json_value *memory = json_object_get (l->resources, "memory");
  CHECK_INT_EQ (json_object_get (memory, "limit")->u.number.integer, 536870912);
  CHECK_STR_EQ (json_object_get (l->seccomp, "defaultAction")->u.string, "SCMP_ACT_ERRNO");
  CHECK_STR_EQ (json_object_get (l->personality, "domain")->u.string, "LINUX");
  /* Positions survive, so later modules can point at their errors. */
  unsigned line, column;
  json_position (spec->doc, l->seccomp->offset, &line, &column);
  CHECK_INT_EQ (line, 79);
  CHECK_INT_EQ (column, 16);
  spec_free (spec);
}

TEST (minimal_config)
{
  struct spec *spec = parse ("{'ociVersion': '1.0.0'}");
  REQUIRE (spec != NULL);
  CHECK_STR_EQ (spec->oci_version, "1.0.0");
  CHECK (spec->process == NULL);
  CHECK_STR_EQ (spec->root_path, NULL);
  CHECK (!spec->root_readonly);
  CHECK_INT_EQ (spec->mounts_count, 0);
  CHECK (SPEC_LINUX (spec)->resources == NULL);
  CHECK (SPEC_LINUX (spec)->seccomp == NULL);
  CHECK (!SPEC_LINUX (spec)->time_monotonic.present);
  spec_free (spec);

  /* An absent env is an empty list, never NULL, so exec code can pass it on. */
  spec = parse ("{'ociVersion': '1.2.0', 'process': {'args': ['true']}}");
  REQUIRE (spec != NULL && spec->process != NULL);
  CHECK (spec->process->env != NULL && spec->process->env[0] == NULL);
  CHECK_INT_EQ (spec->process->env_count, 0);
  CHECK (!spec->process->has_oom_score_adj);
  CHECK (!spec->process->user.has_umask);
  CHECK (!spec->process->capabilities.present);
  spec_free (spec);
}

TEST (null_means_absent)
{
  struct spec *spec = parse ("{'ociVersion': '1.2.0', 'hostname': null, 'mounts': null,"
                             " 'process': {'args': ['x'], 'cwd': null, 'oomScoreAdj': null}}");
  REQUIRE (spec != NULL);
  CHECK_STR_EQ (spec->hostname, NULL);
  CHECK_INT_EQ (spec->mounts_count, 0);
  CHECK_STR_EQ (spec->process->cwd, NULL);
  CHECK (!spec->process->has_oom_score_adj);
  spec_free (spec);
}

TEST (bare_process_object)
{
  /* `exec --process FILE` hands over a process object on its own. */
  struct json_document *doc = NULL;
  struct ward_error *err = NULL;
  const char *text = "{\"args\": [\"ls\"], \"cwd\": \"/\", \"user\": {\"uid\": 7}}";
  REQUIRE (json_parse ("process.json", text, strlen (text), &doc, &err) == 0);
  struct spec_process *p = NULL;
  CHECK_INT_EQ (spec_parse_process (doc, doc->root, "process", &p, &err), 0);
  if (CHECK (p != NULL))
    {
      CHECK_STR_EQ (p->args[0], "ls");
      CHECK_INT_EQ (p->user.uid, 7);
    }
  spec_process_free (p);
  json_document_free (doc);
  ward_error_free (&err);

  text = "{\"args\": []}";
  REQUIRE (json_parse ("process.json", text, strlen (text), &doc, &err) == 0);
  p = NULL;
  CHECK_INT_EQ (spec_parse_process (doc, doc->root, "process", &p, &err), -1);
  CHECK (p == NULL);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message, "process.json: process.args: must not be empty at line 1, column 10");
  json_document_free (doc);
  ward_error_free (&err);
}

TEST (error_args_not_an_array)
{
  CHECK_ERROR ("{\n"
               "  'ociVersion': '1.2.0',\n"
               "  'process': {\n"
               "   'args': 'sh'\n"
               "  }\n"
               "}\n",
               "config.json: process.args: expected an array of strings at line 4, column 12");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'process': {'args': ['sh', 1]}}",
               "config.json: process.args: expected an array of strings at line 1, column 45");
}

TEST (error_required_fields)
{
  CHECK_ERROR ("{'process': {'args': ['sh']}}", "config.json: ociVersion: required field is missing");
  CHECK_ERROR ("{'ociVersion': null}", "config.json: ociVersion: required field is missing");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'process': {'cwd': '/'}}",
               "config.json: process.args: required field is missing");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'root': {'readonly': true}}",
               "config.json: root.path: required field is missing");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'mounts': [{'type': 'proc'}]}",
               "config.json: mounts[0].destination: required field is missing");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'hooks': {'poststop': [{'args': []}]}}",
               "config.json: hooks.poststop[0].path: required field is missing");
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'rlimits': [{'type': 'RLIMIT_AS', 'soft': 1}]}}",
      "config.json: process.rlimits[0].hard: required field is missing");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'linux': {'uidMappings': [{'containerID': 0, 'hostID': 1}]}}",
               "config.json: linux.uidMappings[0].size: required field is missing");
}

TEST (error_wrong_types)
{
  CHECK_ERROR ("[]", "config.json: (document): expected an object at line 1, column 1");
  CHECK_ERROR ("{'ociVersion': 1}", "config.json: ociVersion: expected a string at line 1, column 16");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'root': 'rootfs'}",
               "config.json: root: expected an object at line 1, column 33");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'terminal': 'yes'}}",
               "config.json: process.terminal: expected a boolean at line 1, column 64");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'mounts': {}}",
               "config.json: mounts: expected an array at line 1, column 35");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'mounts': ['/proc']}",
               "config.json: mounts[0]: expected an object at line 1, column 36");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'annotations': {'a': 1}}",
               "config.json: annotations.a: expected a string at line 1, column 46");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'linux': {'sysctl': {'kernel.x': true}}}",
               "config.json: linux.sysctl.kernel.x: expected a string at line 1, column 58");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'linux': {'resources': []}}",
               "config.json: linux.resources: expected an object at line 1, column 48");
}

TEST (error_numbers_out_of_range)
{
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'user': {'uid': -1}}}",
               "config.json: process.user.uid: expected a non-negative integer, got -1 at line 1, column 68");
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'user': {'gid': 4294967296}}}",
      "config.json: process.user.gid: 4294967296 is out of range for a 32-bit unsigned integer at line 1, "
      "column 68");
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'user': {'additionalGids': [1, 4294967296]}}}",
      "config.json: process.user.additionalGids[1]: gid out of range at line 1, column 83");
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'consoleSize': {'height': 1.5, 'width': 80}}}",
      "config.json: process.consoleSize.height: expected a non-negative integer, got 1.5 at line 1, column "
      "78");
}

TEST (error_oom_score_adj_range)
{
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'oomScoreAdj': 1001}}",
               "config.json: process.oomScoreAdj: 1001 is outside -1000..1000 at line 1, column 67");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'oomScoreAdj': -1001}}",
               "config.json: process.oomScoreAdj: -1001 is outside -1000..1000 at line 1, column 67");
  struct spec *spec = parse ("{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'oomScoreAdj': 1000}}");
  if (CHECK (spec != NULL))
    CHECK_INT_EQ (spec->process->oom_score_adj, 1000);
  spec_free (spec);
  spec = parse ("{'ociVersion': '1.2.0', 'process': {'args': ['x'], 'oomScoreAdj': -1000}}");
  if (CHECK (spec != NULL))
    CHECK_INT_EQ (spec->process->oom_score_adj, -1000);
  spec_free (spec);
}

TEST (error_empty_args)
{
  CHECK_ERROR ("{\n"
               "  'ociVersion': '1.2.0',\n"
               "  'process': {\n"
               "    'args': []\n"
               "  }\n"
               "}\n",
               "config.json: process.args: must not be empty at line 4, column 13");
}

TEST (error_namespaces)
{
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'net'}]}}",
               "config.json: linux.namespaces[1].type: unknown namespace type \"net\" at line 1, column 76");
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'pid', 'path': '/x'}]}}",
      "config.json: linux.namespaces[1]: namespace \"pid\" is listed twice at line 1, column 67");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'linux': {'namespaces': [{'path': '/proc/1/ns/pid'}]}}",
               "config.json: linux.namespaces[0].type: required field is missing");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'linux': {'namespaces': ['pid']}}",
               "config.json: linux.namespaces[0]: expected an object at line 1, column 50");
}

TEST (error_devices)
{
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'linux': {'devices': [{'path': '/dev/x', 'type': 'x', 'major': 1, 'minor': "
      "2}]}}",
      "config.json: linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p) at line 1, "
      "column 74");
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'linux': {'devices': [{'path': '/dev/x', 'type': 'cc', 'major': 1}]}}",
      "config.json: linux.devices[0].type: unknown device type \"cc\" (expected c, b, u or p) at line 1, "
      "column 74");
  CHECK_ERROR (
      "{'ociVersion': '1.2.0', 'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1}]}}",
      "config.json: linux.devices[0]: major and minor are required for device type c at line 1, column 47");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'linux': {'devices': [{'path': 'dev/x', 'type': 'p'}]}}",
               "config.json: linux.devices[0].path: must be an absolute path at line 1, column 56");
}

TEST (error_hook_timeout)
{
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '/bin/h', 'timeout': 0}]}}",
               "config.json: hooks.prestart[0].timeout: must be greater than zero at line 1, column 78");
  CHECK_ERROR ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '/bin/h', 'timeout': -3}]}}",
               "config.json: hooks.prestart[0].timeout: must be greater than zero at line 1, column 78");
}

TEST (error_invalid_json_passes_through)
{
  CHECK_ERROR (
      "{'ociVersion': '1.2.0',}",
      "config.json: invalid JSON: parse error: invalid object key (must be a string) at line 1, column 25");
}

TEST (default_spec_parses_back)
{
  char *text = NULL;
  struct ward_error *err = NULL;
  REQUIRE (spec_default_render (false, &text, &err) == 0);
  REQUIRE (text != NULL);
  struct spec *spec = NULL;
  CHECK_INT_EQ (spec_parse ("config.json", text, strlen (text), &spec, &err), 0);
  if (err)
    printf ("  %s\n", err->message);
  free (text);
  REQUIRE (spec != NULL);

  CHECK_STR_EQ (spec->oci_version, WARD_OCI_VERSION);
  REQUIRE (spec->process != NULL);
  CHECK_INT_EQ (spec->process->args_count, 1);
  CHECK_STR_EQ (spec->process->args[0], "sh");
  CHECK (spec->process->args[1] == NULL);
  CHECK (spec->process->terminal);
  CHECK (spec->process->no_new_privileges);
  CHECK_STR_EQ (spec->process->cwd, "/");
  CHECK_INT_EQ (spec->process->user.uid, 0);
  CHECK_INT_EQ (spec->process->capabilities.bounding_count, 3);
  CHECK_INT_EQ (spec->process->rlimits_count, 1);
  CHECK_STR_EQ (spec->root_path, "rootfs");
  CHECK (spec->root_readonly);
  CHECK (spec->hostname != NULL);
  CHECK_INT_EQ (spec->mounts_count, 7);
  CHECK_STR_EQ (spec->mounts[0].destination, "/proc");
  CHECK_STR_EQ (spec->mounts[5].destination, "/sys");
  CHECK_STR_EQ (spec->mounts[5].type, "sysfs");

  const struct spec_linux *l = SPEC_LINUX (spec);
  CHECK (l->namespaces[NS_PID].requested);
  CHECK (l->namespaces[NS_NETWORK].requested);
  CHECK (l->namespaces[NS_IPC].requested);
  CHECK (l->namespaces[NS_UTS].requested);
  CHECK (l->namespaces[NS_MOUNT].requested);
  CHECK (!l->namespaces[NS_USER].requested);
  CHECK_INT_EQ (l->uid_mappings_count, 0);
  CHECK (l->resources != NULL);
  CHECK (l->masked_paths_count >= 10);
  CHECK_INT_EQ (l->readonly_paths_count, 5);
  spec_free (spec);
}

TEST (default_rootless_spec_parses_back)
{
  char *text = NULL;
  struct ward_error *err = NULL;
  REQUIRE (spec_default_render (true, &text, &err) == 0);
  struct spec *spec = NULL;
  CHECK_INT_EQ (spec_parse ("config.json", text, strlen (text), &spec, &err), 0);
  if (err)
    printf ("  %s\n", err->message);
  free (text);
  REQUIRE (spec != NULL);

  CHECK_STR_EQ (spec->process->args[0], "sh");
  const struct spec_linux *l = SPEC_LINUX (spec);
  CHECK (l->namespaces[NS_USER].requested);
  CHECK (!l->namespaces[NS_NETWORK].requested);
  CHECK (l->namespaces[NS_MOUNT].requested);
  REQUIRE (l->uid_mappings_count == 1 && l->gid_mappings_count == 1);
  CHECK_INT_EQ (l->uid_mappings[0].container_id, 0);
  CHECK_INT_EQ (l->uid_mappings[0].host_id, geteuid ());
  CHECK_INT_EQ (l->uid_mappings[0].size, 1);
  CHECK_INT_EQ (l->gid_mappings[0].host_id, getegid ());
  CHECK (l->resources == NULL);
  REQUIRE (spec->mounts_count == 7);
  /* /sys: a read-only bind of the host's, not a new sysfs. */
  CHECK_STR_EQ (spec->mounts[5].destination, "/sys");
  CHECK_STR_EQ (spec->mounts[5].source, "/sys");
  CHECK_STR_EQ (spec->mounts[5].options[0], "rbind");
  /* devpts without gid=5, which is unmapped. */
  CHECK_STR_EQ (spec->mounts[2].destination, "/dev/pts");
  for (size_t i = 0; i < spec->mounts[2].options_count; i++)
    CHECK (strcmp (spec->mounts[2].options[i], "gid=5") != 0);
  spec_free (spec);
}

static char *
read_text (const char *path)
{
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return NULL;
  char *text = calloc (1, 65536);
  if (text)
    text[fread (text, 1, 65535, f)] = '\0';
  fclose (f);
  return text;
}

TEST (default_spec_write)
{
  char dir[] = "/tmp/ward-test-spec.XXXXXX";
  REQUIRE (mkdtemp (dir) != NULL);
  char path[sizeof dir + 32];
  snprintf (path, sizeof path, "%s/config.json", dir);
  struct ward_error *err = NULL;

  mode_t saved_umask = umask (027);
  CHECK_INT_EQ (spec_default_write (dir, false, &err), 0);
  umask (saved_umask);
  ward_error_free (&err);

  struct stat st;
  if (CHECK (stat (path, &st) == 0))
    CHECK_INT_EQ (st.st_mode & 07777, 0640);
  char *written = read_text (path);
  char *rendered = NULL;
  CHECK_INT_EQ (spec_default_render (false, &rendered, &err), 0);
  CHECK_STR_EQ (written, rendered);
  free (written);
  free (rendered);

  /* Never overwrites: the user's edits matter more than a template. */
  char expected[sizeof dir + 100];
  snprintf (expected, sizeof expected, "config.json already exists in %s; remove it first", dir);
  CHECK_INT_EQ (spec_default_write (dir, true, &err), -1);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message, expected);
  ward_error_free (&err);

  unlink (path);
  CHECK_INT_EQ (spec_default_write (dir, true, &err), 0);
  ward_error_free (&err);
  written = read_text (path);
  CHECK (written != NULL && strstr (written, "\"uidMappings\"") != NULL);
  free (written);
  unlink (path);
  rmdir (dir);

  snprintf (expected, sizeof expected, "open %s/config.json: No such file or directory", dir);
  CHECK_INT_EQ (spec_default_write (dir, false, &err), -1);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message, expected);
  ward_error_free (&err);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (top_level_fields),
  TEST_ENTRY (process_fields),
  TEST_ENTRY (process_user),
  TEST_ENTRY (process_capabilities_and_rlimits),
  TEST_ENTRY (mounts),
  TEST_ENTRY (hooks),
  TEST_ENTRY (annotations),
  TEST_ENTRY (linux_namespaces),
  TEST_ENTRY (linux_id_mappings),
  TEST_ENTRY (linux_devices),
  TEST_ENTRY (linux_other_fields),
  TEST_ENTRY (linux_subtrees_kept),
  TEST_ENTRY (minimal_config),
  TEST_ENTRY (null_means_absent),
  TEST_ENTRY (bare_process_object),
  TEST_ENTRY (error_args_not_an_array),
  TEST_ENTRY (error_required_fields),
  TEST_ENTRY (error_wrong_types),
  TEST_ENTRY (error_numbers_out_of_range),
  TEST_ENTRY (error_oom_score_adj_range),
  TEST_ENTRY (error_empty_args),
  TEST_ENTRY (error_namespaces),
  TEST_ENTRY (error_devices),
  TEST_ENTRY (error_hook_timeout),
  TEST_ENTRY (error_invalid_json_passes_through),
  TEST_ENTRY (default_spec_parses_back),
  TEST_ENTRY (default_rootless_spec_parses_back),
  TEST_ENTRY (default_spec_write),
};

HARNESS_MAIN (tests)
