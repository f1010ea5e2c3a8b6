/* linux.resources → struct resources: every field lands where
 * resources.h says, zeros that mean "not set" are read so, and bad values
 * are refused with messages that name the field and its position. */
#include "config.h"
#include "harness.h"
#include "resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Documents are written with single quotes to stay readable; swapping
 * them one for one keeps every line and column unchanged. */
static char *
from_single_quotes (const char *text)
{
  char *copy = strdup (text);
  for (char *p = copy; p && *p; p++)
    if (*p == '\'')
      *p = '"';
  return copy;
}

/* Parse `text` as a LinuxResources object under `path`; fills *err on
 * failure. */
static struct resources *
parse_at (const char *single_quoted, const char *path, struct ward_error **err)
{
  char *text = from_single_quotes (single_quoted);
  struct json_document *doc = NULL;
  struct resources *r = NULL;
  if (json_parse ("config.json", text, strlen (text), &doc, err) == 0)
    resources_parse (doc, doc->root, path, &r, err);
  json_document_free (doc);
  free (text);
  return r;
}

static struct resources *
parse (const char *single_quoted)
{
  struct ward_error *err = NULL;
  struct resources *r = parse_at (single_quoted, "linux.resources", &err);
  if (err)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  return r;
}

static void
check_error_at (const char *file, int line, const char *single_quoted, const char *path, const char *expected)
{
  struct ward_error *err = NULL;
  struct resources *r = parse_at (single_quoted, path, &err);
  if (r != NULL || err == NULL)
    {
      harness_check (false, file, line, "resources_parse failed");
      printf ("    expected: \"%s\"\n", expected);
    }
  else
    harness_check_str (err->message, expected, file, line, "message", "expected");
  ward_error_free (&err);
  resources_free (r);
}

#define CHECK_ERROR(text, expected) check_error_at (__FILE__, __LINE__, (text), "linux.resources", (expected))
#define CHECK_UPDATE_ERROR(text, expected) check_error_at (__FILE__, __LINE__, (text), "", (expected))

static const char full[]
    = "{\n"
      "  'devices': [\n"
      "    {'allow': false, 'access': 'rwm'},\n"
      "    {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw'},\n"
      "    {'allow': true, 'type': 'b', 'major': 8, 'access': 'm'}\n"
      "  ],\n"
      "  'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': 1073741824, 'kernel': -1,\n"
      "             'kernelTCP': 1048576, 'swappiness': 60, 'disableOOMKiller': true, 'useHierarchy': "
      "false,\n"
      "             'checkBeforeUpdate': true},\n"
      "  'cpu': {'shares': 1024, 'quota': 200000, 'burst': 50000, 'period': 100000, 'realtimeRuntime': "
      "950000,\n"
      "          'realtimePeriod': 1000000, 'cpus': '0-3,7', 'mems': '0', 'idle': 1},\n"
      "  'pids': {'limit': 32771},\n"
      "  'blockIO': {\n"
      "    'weight': 500, 'leafWeight': 300,\n"
      "    'weightDevice': [{'major': 8, 'minor': 0, 'weight': 600, 'leafWeight': 200},\n"
      "                     {'major': 8, 'minor': 16, 'weight': 0}],\n"
      "    'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 600}],\n"
      "    'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': 700}, {'major': 8, 'minor': 16, "
      "'rate': 0}],\n"
      "    'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 100}],\n"
      "    'throttleWriteIOPSDevice': [{'major': 253, 'minor': 1, 'rate': 300}]\n"
      "  },\n"
      "  'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200}, {'pageSize': '1GB', 'limit': 0}],\n"
      "  'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500},\n"
      "                                                  {'name': 'lo', 'priority': 4294967295}]},\n"
      "  'rdma': {'mlx5_1': {'hcaHandles': 3}},\n"
      "  'unified': {'memory.high': '1073741824', 'io.max': '259:0 rbps=2097152'}\n"
      "}\n";

TEST (devices)
{
  struct resources *r = parse (full);
  REQUIRE (r != NULL);
  CHECK (r->has_devices);
  REQUIRE (r->devices_count == 3);
  const struct resources_device_rule *d = r->devices;
  CHECK (!d[0].allow);
  CHECK_INT_EQ (d[0].type, 'a');
  CHECK_INT_EQ (d[0].major, -1);
  CHECK_INT_EQ (d[0].minor, -1);
  CHECK_STR_EQ (d[0].access, "rwm");
  CHECK (d[1].allow);
  CHECK_INT_EQ (d[1].type, 'c');
  CHECK_INT_EQ (d[1].major, 10);
  CHECK_INT_EQ (d[1].minor, 229);
  CHECK_STR_EQ (d[1].access, "rw");
  CHECK_INT_EQ (d[2].type, 'b');
  CHECK_INT_EQ (d[2].major, 8);
  CHECK_INT_EQ (d[2].minor, -1);
  CHECK_STR_EQ (d[2].access, "m");
  resources_free (r);
}

TEST (memory)
{
  struct resources *r = parse (full);
  REQUIRE (r != NULL);
  const struct resources_memory *m = &r->memory;
  CHECK (r->has_memory);
  CHECK (m->has_limit && m->limit == 536870912);
  CHECK (m->has_reservation && m->reservation == 268435456);
  CHECK (m->has_swap && m->swap == 1073741824);
  CHECK (m->has_kernel && m->kernel == -1);
  CHECK (m->has_kernel_tcp && m->kernel_tcp == 1048576);
  CHECK (m->has_swappiness && m->swappiness == 60);
  CHECK (m->has_disable_oom_killer && m->disable_oom_killer);
  CHECK (m->has_use_hierarchy && !m->use_hierarchy);
  CHECK (m->has_check_before_update && m->check_before_update);
  resources_free (r);
}

TEST (cpu)
{
  struct resources *r = parse (full);
  REQUIRE (r != NULL);
  const struct resources_cpu *c = &r->cpu;
  CHECK (r->has_cpu);
  CHECK (c->has_shares && c->shares == 1024);
  CHECK (c->has_quota && c->quota == 200000);
  CHECK (c->has_burst && c->burst == 50000);
  CHECK (c->has_period && c->period == 100000);
  CHECK (c->has_realtime_runtime && c->realtime_runtime == 950000);
  CHECK (c->has_realtime_period && c->realtime_period == 1000000);
  CHECK (c->has_idle && c->idle == 1);
  CHECK_STR_EQ (c->cpus, "0-3,7");
  CHECK_STR_EQ (c->mems, "0");
  resources_free (r);
}

TEST (pids_and_network)
{
  struct resources *r = parse (full);
  REQUIRE (r != NULL);
  CHECK (r->has_pids && r->has_pids_limit);
  CHECK_INT_EQ (r->pids_limit, 32771);
  CHECK (r->has_network && r->has_net_class_id);
  CHECK_INT_EQ (r->net_class_id, 1048577);
  REQUIRE (r->net_priorities_count == 2);
  CHECK_STR_EQ (r->net_priorities[0].interface, "eth0");
  CHECK_INT_EQ (r->net_priorities[0].priority, 500);
  CHECK_STR_EQ (r->net_priorities[1].interface, "lo");
  CHECK_INT_EQ (r->net_priorities[1].priority, 4294967295U);
  resources_free (r);
}

TEST (block_io)
{
  struct resources *r = parse (full);
  REQUIRE (r != NULL);
  const struct resources_block_io *b = &r->block_io;
  CHECK (r->has_block_io);
  CHECK (b->has_weight && b->weight == 500);
  CHECK (b->has_leaf_weight && b->leaf_weight == 300);
  REQUIRE (b->weight_devices_count == 2);
  CHECK_INT_EQ (b->weight_devices[0].major, 8);
  CHECK_INT_EQ (b->weight_devices[0].minor, 0);
  CHECK (b->weight_devices[0].has_weight && b->weight_devices[0].weight == 600);
  CHECK (b->weight_devices[0].has_leaf_weight && b->weight_devices[0].leaf_weight == 200);
  /* 0 counts as given (an entry needs a weight) but sets nothing. */
  CHECK (!b->weight_devices[1].has_weight);
  CHECK (!b->weight_devices[1].has_leaf_weight);
  REQUIRE (b->throttle_count[THROTTLE_READ_BPS] == 1);
  CHECK_INT_EQ (b->throttle[THROTTLE_READ_BPS][0].rate, 600);
  REQUIRE (b->throttle_count[THROTTLE_WRITE_BPS] == 2);
  CHECK_INT_EQ (b->throttle[THROTTLE_WRITE_BPS][1].minor, 16);
  CHECK_INT_EQ (b->throttle[THROTTLE_WRITE_BPS][1].rate, 0);
  REQUIRE (b->throttle_count[THROTTLE_READ_IOPS] == 1);
  CHECK_INT_EQ (b->throttle[THROTTLE_READ_IOPS][0].rate, 100);
  REQUIRE (b->throttle_count[THROTTLE_WRITE_IOPS] == 1);
  CHECK_INT_EQ (b->throttle[THROTTLE_WRITE_IOPS][0].major, 253);
  CHECK_INT_EQ (b->throttle[THROTTLE_WRITE_IOPS][0].minor, 1);
  CHECK_INT_EQ (b->throttle[THROTTLE_WRITE_IOPS][0].rate, 300);
  resources_free (r);
}

TEST (hugepages_and_unified)
{
  struct resources *r = parse (full);
  REQUIRE (r != NULL);
  REQUIRE (r->hugepages_count == 2);
  CHECK_STR_EQ (r->hugepages[0].page_size, "2MB");
  CHECK_INT_EQ (r->hugepages[0].limit, 209715200);
  CHECK_STR_EQ (r->hugepages[1].page_size, "1GB");
  CHECK_INT_EQ (r->hugepages[1].limit, 0);
  REQUIRE (r->unified_count == 2);
  CHECK_STR_EQ (r->unified[0].key, "memory.high");
  CHECK_STR_EQ (r->unified[0].value, "1073741824");
  CHECK_STR_EQ (r->unified[1].key, "io.max");
  CHECK_STR_EQ (r->unified[1].value, "259:0 rbps=2097152");
  resources_free (r);
}

TEST (empty_object_sets_nothing)
{
  struct resources *r = parse ("{}");
  REQUIRE (r != NULL);
  CHECK (!r->has_devices && !r->has_memory && !r->has_cpu && !r->has_pids && !r->has_block_io);
  CHECK (!r->has_network && !r->has_pids_limit && !r->has_net_class_id);
  CHECK (r->devices_count == 0 && r->hugepages_count == 0 && r->unified_count == 0);
  CHECK (r->cpu.cpus == NULL && r->cpu.mems == NULL);
  resources_free (r);

  r = parse ("{'memory': {}, 'cpu': null, 'devices': [], 'unified': {}}");
  REQUIRE (r != NULL);
  CHECK (r->has_memory && !r->memory.has_limit && !r->memory.has_swappiness);
  CHECK (!r->has_cpu);
  CHECK (r->has_devices && r->devices_count == 0);
  resources_free (r);
}

/* The values runc reads as "not set" and the kernel would refuse or
 * choke on. */
TEST (zero_means_not_set)
{
  struct resources *r
      = parse ("{'memory': {'limit': 0, 'reservation': 0, 'swap': 0, 'kernel': 0, 'kernelTCP': 0},"
               " 'cpu': {'shares': 0, 'quota': 0, 'period': 0, 'realtimePeriod': 0,"
               " 'realtimeRuntime': 0, 'idle': 0, 'cpus': '', 'mems': ''},"
               " 'blockIO': {'weight': 0, 'leafWeight': 0}}");
  REQUIRE (r != NULL);
  const struct resources_memory *m = &r->memory;
  CHECK (!m->has_limit && !m->has_reservation && !m->has_swap && !m->has_kernel && !m->has_kernel_tcp);
  const struct resources_cpu *c = &r->cpu;
  CHECK (!c->has_shares && !c->has_quota && !c->has_period && !c->has_realtime_period);
  CHECK (c->cpus == NULL && c->mems == NULL);
  /* Meaningful zeros stay. */
  CHECK (c->has_realtime_runtime && c->realtime_runtime == 0);
  CHECK (c->has_idle && c->idle == 0);
  CHECK (!r->block_io.has_weight && !r->block_io.has_leaf_weight);
  resources_free (r);
}

TEST (unlimited_values)
{
  struct resources *r
      = parse ("{'memory': {'limit': -1, 'swap': -1}, 'cpu': {'quota': -1, 'realtimeRuntime': -1},"
               " 'pids': {'limit': -1}}");
  REQUIRE (r != NULL);
  CHECK (r->memory.has_limit && r->memory.limit == -1);
  CHECK (r->memory.has_swap && r->memory.swap == -1);
  CHECK (r->cpu.has_quota && r->cpu.quota == -1);
  CHECK (r->cpu.has_realtime_runtime && r->cpu.realtime_runtime == -1);
  CHECK (r->has_pids_limit && r->pids_limit == -1);
  resources_free (r);
  r = parse ("{'pids': {'limit': 0}}");
  REQUIRE (r != NULL);
  CHECK (r->has_pids_limit && r->pids_limit == 0);
  resources_free (r);
}

/* Older Docker sent -1 (or its unsigned wrap) for "kernel default". */
TEST (swappiness_default)
{
  struct resources *r = parse ("{'memory': {'swappiness': -1}}");
  REQUIRE (r != NULL);
  CHECK (!r->memory.has_swappiness);
  resources_free (r);
  r = parse ("{'memory': {'swappiness': 18446744073709551615}}");
  REQUIRE (r != NULL);
  CHECK (!r->memory.has_swappiness);
  resources_free (r);
  r = parse ("{'memory': {'swappiness': 0}}");
  REQUIRE (r != NULL);
  CHECK (r->memory.has_swappiness && r->memory.swappiness == 0);
  resources_free (r);
}

TEST (update_document_paths)
{
  struct ward_error *err = NULL;
  struct resources *r = parse_at ("{'pids': {'limit': 10}}", "", &err);
  REQUIRE (r != NULL);
  CHECK (r->pids_limit == 10);
  resources_free (r);
  CHECK_UPDATE_ERROR ("{'memory': {'limit': '12'}}",
                      "config.json: memory.limit: expected an integer at line 1, "
                      "column 22");
  CHECK_UPDATE_ERROR ("[]", "config.json: resources: expected an object at line 1, column 1");
}

TEST (type_errors)
{
  CHECK_ERROR ("[]", "config.json: linux.resources: expected an object at line 1, column 1");
  CHECK_ERROR ("{'memory': {'limit': '12'}}",
               "config.json: linux.resources.memory.limit: expected an integer at line 1, column 22");
  CHECK_ERROR (
      "{'memory': {'limit': 1.5}}",
      "config.json: linux.resources.memory.limit: expected an integer, got 1.5 at line 1, column 22");
  CHECK_ERROR ("{'memory': []}",
               "config.json: linux.resources.memory: expected an object at line 1, column 12");
  CHECK_ERROR (
      "{'memory': {'disableOOMKiller': 1}}",
      "config.json: linux.resources.memory.disableOOMKiller: expected a boolean at line 1, column 33");
  CHECK_ERROR ("{'devices': {}}",
               "config.json: linux.resources.devices: expected an array at line 1, column 13");
  CHECK_ERROR ("{'devices': [1]}",
               "config.json: linux.resources.devices[0]: expected an object at line 1, column 14");
  CHECK_ERROR ("{'devices': [{'allow': 'yes'}]}",
               "config.json: linux.resources.devices[0].allow: expected a boolean at line 1, column 24");
  CHECK_ERROR ("{'cpu': {'cpus': 3}}",
               "config.json: linux.resources.cpu.cpus: expected a string at line 1, column 18");
  CHECK_ERROR ("{'cpu': {'shares': -2}}",
               "config.json: linux.resources.cpu.shares: expected a non-negative "
               "integer, got -2 at line 1, column 20");
  CHECK_ERROR ("{'network': {'classID': 4294967296}}",
               "config.json: linux.resources.network.classID: 4294967296 is "
               "out of range for a 32-bit unsigned integer at line 1, column 25");
  CHECK_ERROR ("{'unified': {'memory.max': 5}}",
               "config.json: linux.resources.unified.memory.max: expected a string at line 1, column 28");
}

TEST (device_errors)
{
  CHECK_ERROR ("{'devices': [{'type': 'c'}]}",
               "config.json: linux.resources.devices[0].allow: required field is missing");
  CHECK_ERROR (
      "{'devices': [{'allow': true, 'type': 'p'}]}",
      "config.json: linux.resources.devices[0].type: expected \"a\", \"c\" or \"b\", got \"p\" at line 1, "
      "column 38");
  CHECK_ERROR (
      "{'devices': [{'allow': true, 'type': 'cb'}]}",
      "config.json: linux.resources.devices[0].type: expected \"a\", \"c\" or \"b\", got \"cb\" at line 1, "
      "column 38");
  CHECK_ERROR (
      "{'devices': [{'allow': true, 'access': 'rwx'}]}",
      "config.json: linux.resources.devices[0].access: \"rwx\" is not a combination of r, w and m at line 1, "
      "column 40");
  CHECK_ERROR (
      "{'devices': [{'allow': true, 'access': 'rr'}]}",
      "config.json: linux.resources.devices[0].access: \"rr\" is not a combination of r, w and m at line 1, "
      "column 40");
  CHECK_ERROR (
      "{'devices': [{'allow': true, 'major': -2}]}",
      "config.json: linux.resources.devices[0].major: -2 is neither -1 (any) nor a device number at line 1, "
      "column 39");
  CHECK_ERROR (
      "{'devices': [{'allow': true}, {'allow': true, 'minor': 4294967296}]}",
      "config.json: linux.resources.devices[1].minor: 4294967296 is neither -1 (any) nor a device number at "
      "line 1, column 56");
}

TEST (memory_errors)
{
  CHECK_ERROR ("{'memory': {'limit': -2}}",
               "config.json: linux.resources.memory.limit: -2 is neither -1 (unlimited) "
               "nor a byte count at line 1, column 22");
  CHECK_ERROR ("{'memory': {'kernelTCP': -5}}",
               "config.json: linux.resources.memory.kernelTCP: -5 is neither -1 "
               "(unlimited) nor a byte count at line 1, column 26");
  CHECK_ERROR ("{'memory': {'swappiness': 101}}",
               "config.json: linux.resources.memory.swappiness: 101 is outside 0..100 at line 1, column 27");
  CHECK_ERROR ("{'memory': {'swappiness': -2}}",
               "config.json: linux.resources.memory.swappiness: expected a "
               "non-negative integer, got -2 at line 1, column 27");
  CHECK_ERROR ("{'memory': {'limit': 200, 'swap': 100}}",
               "config.json: linux.resources.memory.swap: 100 is less than the memory limit 200 (swap is the "
               "memory+swap limit) at line 1, column 35");
}

TEST (memory_swap_accepted)
{
  struct resources *r = parse ("{'memory': {'limit': 200, 'swap': 200}}");
  CHECK (r != NULL);
  resources_free (r);
  r = parse ("{'memory': {'limit': -1, 'swap': 100}}");
  CHECK (r != NULL);
  resources_free (r);
  r = parse ("{'memory': {'limit': 200, 'swap': -1}}");
  CHECK (r != NULL);
  resources_free (r);
}

TEST (cpu_errors)
{
  CHECK_ERROR ("{'cpu': {'quota': -2}}",
               "config.json: linux.resources.cpu.quota: -2 is neither -1 (unlimited) nor "
               "a count of microseconds at line 1, column 19");
  CHECK_ERROR ("{'cpu': {'realtimeRuntime': -3}}",
               "config.json: linux.resources.cpu.realtimeRuntime: -3 is neither "
               "-1 (unlimited) nor a count of microseconds at line 1, column 29");
  CHECK_ERROR ("{'cpu': {'idle': 2}}",
               "config.json: linux.resources.cpu.idle: 2 is outside 0..1 at line 1, column 18");
  CHECK_ERROR (
      "{'cpu': {'quota': 1000, 'burst': 2000}}",
      "config.json: linux.resources.cpu.burst: 2000 is greater than the quota 1000 at line 1, column 34");
  CHECK_ERROR (
      "{'cpu': {'cpus': '0-3\\n'}}",
      "config.json: linux.resources.cpu.cpus: \"0-3\n\" is not a list like \"0-3,7\" at line 1, column 18");
  CHECK_ERROR (
      "{'cpu': {'mems': 'all'}}",
      "config.json: linux.resources.cpu.mems: \"all\" is not a list like \"0-3,7\" at line 1, column 18");
}

TEST (burst_with_unlimited_quota)
{
  struct resources *r = parse ("{'cpu': {'quota': -1, 'burst': 2000}}");
  CHECK (r != NULL);
  resources_free (r);
}

TEST (pids_errors)
{
  CHECK_ERROR ("{'pids': {}}", "config.json: linux.resources.pids.limit: required field is missing");
  CHECK_ERROR ("{'pids': {'limit': -2}}",
               "config.json: linux.resources.pids.limit: -2 is neither a count of tasks "
               "nor -1 or 0 (unlimited) at line 1, column 20");
}

TEST (block_io_errors)
{
  CHECK_ERROR ("{'blockIO': {'weight': 5}}",
               "config.json: linux.resources.blockIO.weight: 5 is outside 10..1000 at line 1, column 24");
  CHECK_ERROR (
      "{'blockIO': {'leafWeight': 1001}}",
      "config.json: linux.resources.blockIO.leafWeight: 1001 is outside 10..1000 at line 1, column 28");
  CHECK_ERROR (
      "{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}]}}",
      "config.json: linux.resources.blockIO.weightDevice[0]: needs a weight or a leafWeight at line 1, "
      "column 31");
  CHECK_ERROR ("{'blockIO': {'weightDevice': [{'major': 8, 'weight': 100}]}}",
               "config.json: linux.resources.blockIO.weightDevice[0].minor: required field is missing");
  CHECK_ERROR (
      "{'blockIO': {'weightDevice': [{'major': -1, 'minor': 0, 'weight': 100}]}}",
      "config.json: linux.resources.blockIO.weightDevice[0].major: -1 is not a device number at line 1, "
      "column 41");
  CHECK_ERROR (
      "{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0, 'weight': 9}]}}",
      "config.json: linux.resources.blockIO.weightDevice[0].weight: 9 is outside 10..1000 at line 1, column "
      "66");
  CHECK_ERROR (
      "{'blockIO': {'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0}]}}",
      "config.json: linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: required field is missing");
  CHECK_ERROR (
      "{'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': -1}]}}",
      "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: expected a non-negative integer, "
      "got -1 at line 1, column 73");
}

TEST (hugepage_errors)
{
  CHECK_ERROR ("{'hugepageLimits': [{'limit': 1}]}",
               "config.json: linux.resources.hugepageLimits[0].pageSize: required field is missing");
  CHECK_ERROR ("{'hugepageLimits': [{'pageSize': '2MB'}]}",
               "config.json: linux.resources.hugepageLimits[0].limit: required field is missing");
  /* The size becomes part of a file name. */
  CHECK_ERROR (
      "{'hugepageLimits': [{'pageSize': '../../memory/x', 'limit': 1}]}",
      "config.json: linux.resources.hugepageLimits[0].pageSize: \"../../memory/x\" is not a page size like "
      "\"2MB\" or \"1GB\" at line 1, column 34");
  CHECK_ERROR (
      "{'hugepageLimits': [{'pageSize': '2M', 'limit': 1}]}",
      "config.json: linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a page size like \"2MB\" or "
      "\"1GB\" at line 1, column 34");
  CHECK_ERROR (
      "{'hugepageLimits': [{'pageSize': '02MB', 'limit': 1}]}",
      "config.json: linux.resources.hugepageLimits[0].pageSize: \"02MB\" is not a page size like \"2MB\" or "
      "\"1GB\" at line 1, column 34");
}

TEST (network_errors)
{
  CHECK_ERROR (
      "{'network': {'priorities': [{'name': 'eth0 7', 'priority': 1}]}}",
      "config.json: linux.resources.network.priorities[0].name: \"eth0 7\" is not an interface name at line "
      "1, column 38");
  CHECK_ERROR (
      "{'network': {'priorities': [{'name': 'averyveryverylong', 'priority': 1}]}}",
      "config.json: linux.resources.network.priorities[0].name: \"averyveryverylong\" is not an interface "
      "name at line 1, column 38");
  CHECK_ERROR ("{'network': {'priorities': [{'name': 'eth0'}]}}",
               "config.json: linux.resources.network.priorities[0].priority: required field is missing");
}

TEST (unified_errors)
{
  /* Each key is opened in the container's cgroup directory. */
  CHECK_ERROR ("{'unified': {'../cgroup.procs': '1'}}",
               "config.json: linux.resources.unified: \"../cgroup.procs\" "
               "is not a cgroup file name at line 1, column 13");
  CHECK_ERROR ("{'unified': {'': '1'}}",
               "config.json: linux.resources.unified: \"\" is not a cgroup file name at line 1, column 13");
  CHECK_ERROR ("{'unified': {'..': '1'}}",
               "config.json: linux.resources.unified: \"..\" is not a cgroup file name at line 1, column 13");
}

static const struct harness_test tests[] = {
  TEST_ENTRY (devices),
  TEST_ENTRY (memory),
  TEST_ENTRY (cpu),
  TEST_ENTRY (pids_and_network),
  TEST_ENTRY (block_io),
  TEST_ENTRY (hugepages_and_unified),
  TEST_ENTRY (empty_object_sets_nothing),
  TEST_ENTRY (zero_means_not_set),
  TEST_ENTRY (unlimited_values),
  TEST_ENTRY (swappiness_default),
  TEST_ENTRY (update_document_paths),
  TEST_ENTRY (type_errors),
  TEST_ENTRY (device_errors),
  TEST_ENTRY (memory_errors),
  TEST_ENTRY (memory_swap_accepted),
  TEST_ENTRY (cpu_errors),
  TEST_ENTRY (burst_with_unlimited_quota),
  TEST_ENTRY (pids_errors),
  TEST_ENTRY (block_io_errors),
  TEST_ENTRY (hugepage_errors),
  TEST_ENTRY (network_errors),
  TEST_ENTRY (unified_errors),
};

HARNESS_MAIN (tests)
