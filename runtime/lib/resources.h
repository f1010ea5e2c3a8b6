/* linux.resources (OCI LinuxResources) as typed values: what config.json
 * asks for at create, and what `ward update` changes later.  Every field
 * carries `has_…`: only what is set is ever written to a cgroup. */
#ifndef WARD_RESOURCES_H
#define WARD_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

struct resources_device_rule
{
  bool allow;
  char type;      /* 'a', 'c', 'b' ('a' when absent: all) */
  int64_t major;  /* -1: any */
  int64_t minor;  /* -1: any */
  char access[4]; /* subset of "rwm", "" means "rwm" */
};

struct resources_memory
{
  bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness,
      has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
  int64_t limit, reservation, swap, kernel, kernel_tcp; /* bytes; -1: unlimited */
  uint64_t swappiness;
  bool disable_oom_killer, use_hierarchy, check_before_update;
};

struct resources_cpu
{
  bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime, has_realtime_period, has_idle;
  uint64_t shares, period, burst, realtime_period;
  int64_t quota, realtime_runtime, idle;
  char *cpus, *mems; /* NULL when unset */
};

struct resources_weight_device
{
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
};

struct resources_throttle_device
{
  int64_t major, minor;
  uint64_t rate;
};

struct resources_block_io
{
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
  struct resources_weight_device *weight_devices;
  size_t weight_devices_count;
  /* read bps, write bps, read iops, write iops */
  struct resources_throttle_device *throttle[4];
  size_t throttle_count[4];
};

enum resources_throttle_kind
{
  THROTTLE_READ_BPS,
  THROTTLE_WRITE_BPS,
  THROTTLE_READ_IOPS,
  THROTTLE_WRITE_IOPS,
};

struct resources_hugepage
{
  char *page_size; /* "2MB", "1GB" */
  uint64_t limit;
};

struct resources_net_priority
{
  char *interface;
  uint32_t priority;
};

struct resources_unified_entry
{
  char *key;
  char *value;
};

struct resources
{
  struct resources_device_rule *devices;
  size_t devices_count;
  bool has_devices;
  bool has_memory, has_cpu, has_pids, has_block_io, has_network;
  struct resources_memory memory;
  struct resources_cpu cpu;
  bool has_pids_limit;
  int64_t pids_limit; /* -1 or 0: unlimited */
  struct resources_block_io block_io;
  struct resources_hugepage *hugepages;
  size_t hugepages_count;
  bool has_net_class_id;
  uint32_t net_class_id;
  struct resources_net_priority *net_priorities;
  size_t net_priorities_count;
  struct resources_unified_entry *unified;
  size_t unified_count;
};

/* Parse a LinuxResources object; `path` prefixes field names in errors
 * ("linux.resources" for config.json, "" for `update`'s stdin). */
int resources_parse (const struct json_document *doc, const struct json_value *object, const char *path,
                     struct resources **out, struct ward_error **err);
void resources_free (struct resources *resources);

#endif
