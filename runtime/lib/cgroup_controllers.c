/* The controllers' names on each hierarchy, which of them a struct
 * resources needs, and the documented v1 → v2 value conversions. */
#include "config.h"
#include "cgroup_controllers.h"
#include "cleanup.h"

#include <string.h>

struct controller_names
{
  const char *v1;
  const char *v2; /* NULL: no v2 controller (its job moved elsewhere or went away) */
};

static const struct controller_names names[CGROUP_CONTROLLER_COUNT] = {
  [CGROUP_MEMORY] = { "memory", "memory" },
  [CGROUP_CPU] = { "cpu", "cpu" },
  /* v2's cpu controller does the accounting too (cpu.stat). */
  [CGROUP_CPUACCT] = { "cpuacct", "cpu" },
  [CGROUP_CPUSET] = { "cpuset", "cpuset" },
  [CGROUP_PIDS] = { "pids", "pids" },
  [CGROUP_BLKIO] = { "blkio", "io" },
  /* v2 filters devices with an eBPF program and freezes with the core
   * file cgroup.freeze: neither has a controller to enable. */
  [CGROUP_DEVICES] = { "devices", NULL },
  [CGROUP_FREEZER] = { "freezer", NULL },
  [CGROUP_HUGETLB] = { "hugetlb", "hugetlb" },
  /* v2 has neither: traffic is matched by cgroup path instead
   * (netfilter's cgroup match, eBPF). */
  [CGROUP_NET_CLS] = { "net_cls", NULL },
  [CGROUP_NET_PRIO] = { "net_prio", NULL },
};

const char *
cgroup_controller_v1_name (enum cgroup_controller controller)
{
  if ((unsigned)controller >= CGROUP_CONTROLLER_COUNT)
    return NULL;
  return names[controller].v1;
}

const char *
cgroup_controller_v2_name (enum cgroup_controller controller)
{
  if ((unsigned)controller >= CGROUP_CONTROLLER_COUNT)
    return NULL;
  return names[controller].v2;
}

/* The first linux.resources.unified key ("memory.high") that belongs to
 * this controller, or NULL.  cpuacct has none: its v2 name is cpu's, which
 * owns the keys. */
const char *
cgroup_controller_unified_key (enum cgroup_controller controller, const struct resources *r)
{
  const char *name = cgroup_controller_v2_name (controller);
  if (r == NULL || name == NULL || controller == CGROUP_CPUACCT)
    return NULL;
  size_t length = strlen (name);
  for (size_t i = 0; i < r->unified_count; i++)
    if (strncmp (r->unified[i].key, name, length) == 0 && r->unified[i].key[length] == '.')
      return r->unified[i].key;
  return NULL;
}

static bool
memory_needed (const struct resources *r)
{
  const struct resources_memory *m = &r->memory;
  return m->has_limit || m->has_reservation || m->has_swap || m->has_kernel || m->has_kernel_tcp
      || m->has_swappiness || m->has_disable_oom_killer || m->has_use_hierarchy;
}

static bool
cpu_needed (const struct resources *r)
{
  const struct resources_cpu *c = &r->cpu;
  return c->has_shares || c->has_quota || c->has_burst || c->has_period || c->has_realtime_runtime
      || c->has_realtime_period || c->has_idle;
}

static bool
block_io_needed (const struct resources *r)
{
  const struct resources_block_io *b = &r->block_io;
  bool throttled = false;
  for (size_t kind = 0; kind < WARD_ARRAY_SIZE (b->throttle_count); kind++)
    throttled = throttled || b->throttle_count[kind] > 0;
  return b->has_weight || b->has_leaf_weight || b->weight_devices_count > 0 || throttled;
}

static bool
limits_needed (enum cgroup_controller controller, const struct resources *r)
{
  switch (controller)
    {
    case CGROUP_MEMORY:
      return memory_needed (r);
    case CGROUP_CPU:
      return cpu_needed (r);
    case CGROUP_CPUSET:
      return r->cpu.cpus != NULL || r->cpu.mems != NULL;
    case CGROUP_PIDS:
      return r->has_pids_limit;
    case CGROUP_BLKIO:
      return block_io_needed (r);
    case CGROUP_DEVICES:
      return r->devices_count > 0;
    case CGROUP_HUGETLB:
      return r->hugepages_count > 0;
    case CGROUP_NET_CLS:
      return r->has_net_class_id;
    case CGROUP_NET_PRIO:
      return r->net_priorities_count > 0;
    default: /* cpuacct and freezer limit nothing */
      return false;
    }
}

bool
cgroup_controller_needed (enum cgroup_controller controller, const struct resources *r)
{
  if (r == NULL || (unsigned)controller >= CGROUP_CONTROLLER_COUNT)
    return false;
  return limits_needed (controller, r) || cgroup_controller_unified_key (controller, r) != NULL;
}

/* Linear maps between the ranges, as crun documents them and runc (up to
 * 1.3.1) wrote them; values outside the v1 range are clamped to it, as the
 * v1 kernel clamps cpu.shares.  (runc 1.3.2+ and crun 1.23+ switched
 * cpu.weight to a log-quadratic curve that maps the default 1024 to 100.) */
#define CPU_SHARES_MIN 2
#define CPU_SHARES_MAX 262144 /* the kernel's MAX_SHARES, 1 << 18 */
#define BLKIO_WEIGHT_MIN 10
#define BLKIO_WEIGHT_MAX 1000
#define V2_WEIGHT_RANGE 9999 /* 1..10000 */

static uint64_t
clamp (uint64_t value, uint64_t min, uint64_t max)
{
  return value < min ? min : value > max ? max : value;
}

uint64_t
cgroup_v2_cpu_weight_from_shares (uint64_t shares)
{
  shares = clamp (shares, CPU_SHARES_MIN, CPU_SHARES_MAX);
  return 1 + (shares - CPU_SHARES_MIN) * V2_WEIGHT_RANGE / (CPU_SHARES_MAX - CPU_SHARES_MIN);
}

uint64_t
cgroup_v2_io_weight_from_blkio (uint64_t weight)
{
  weight = clamp (weight, BLKIO_WEIGHT_MIN, BLKIO_WEIGHT_MAX);
  return 1 + (weight - BLKIO_WEIGHT_MIN) * V2_WEIGHT_RANGE / (BLKIO_WEIGHT_MAX - BLKIO_WEIGHT_MIN);
}
