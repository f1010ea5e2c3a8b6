/* The cgroup controllers ward sets limits with, and the per-version writers
 * that turn struct resources into the files of one controller.  A host may
 * have a controller on v1 and another on the unified hierarchy (hybrid: this
 * very host has hugetlb on cgroup2 and the rest on v1), so limits are
 * written controller by controller, each in the version its hierarchy has. */
#ifndef WARD_CGROUP_CONTROLLERS_H
#define WARD_CGROUP_CONTROLLERS_H

#include <stdbool.h>

#include "error.h"
#include "resources.h"

enum cgroup_controller
{
  CGROUP_MEMORY,
  CGROUP_CPU,
  CGROUP_CPUACCT,
  CGROUP_CPUSET,
  CGROUP_PIDS,
  CGROUP_BLKIO, /* "io" on v2 */
  CGROUP_DEVICES,
  CGROUP_FREEZER,
  CGROUP_HUGETLB,
  CGROUP_NET_CLS,
  CGROUP_NET_PRIO,
  CGROUP_CONTROLLER_COUNT,
};

/* v1 hierarchy name ("blkio"); v2 controller name ("io"). */
const char *cgroup_controller_v1_name (enum cgroup_controller controller);
const char *cgroup_controller_v2_name (enum cgroup_controller controller);

/* Does `r` set anything this controller enforces? */
bool cgroup_controller_needed (enum cgroup_controller controller, const struct resources *r);

/* Write r's values for one controller into the container's directory of
 * it (dir_fd).  Only fields that are set are written.  A value the kernel
 * refuses fails with the file and value: "memory.limit_in_bytes: write
 * \"12\": Device or resource busy".  A field the hierarchy cannot express
 * (e.g. net_cls on v2) fails with a clear message. */
int cgroup_v1_apply (enum cgroup_controller controller, int dir_fd, const struct resources *r,
                     struct ward_error **err);
int cgroup_v2_apply (enum cgroup_controller controller, int dir_fd, const struct resources *r,
                     struct ward_error **err);

/* linux.resources.unified: raw v2 key/values, written to the unified
 * directory; each key must be a file there. */
int cgroup_v2_apply_unified (int dir_fd, const struct resources *r, struct ward_error **err);

/* v2 has no devices files: the rules become an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the directory, replacing the
 * programs attached before it.  Once attached the cgroup holds the
 * program, so no fd outlives the call. */
int cgroup_v2_attach_device_rules (int dir_fd, const struct resources *r, struct ward_error **err);

/* v1 helpers: a new cpuset is empty and no task may join it until it has
 * its parent's cpus and mems; memory.memsw must be raised before the
 * limit and lowered after it (the kernel insists memsw >= limit). */
int cgroup_v1_cpuset_inherit (int parent_fd, int dir_fd, struct ward_error **err);
bool cgroup_v1_memsw_first (uint64_t current_limit, int64_t new_swap);

/* The first linux.resources.unified key that belongs to `controller`, or
 * NULL. */
const char *cgroup_controller_unified_key (enum cgroup_controller controller, const struct resources *r);

/* Pure: the v2 value conversions the OCI spec documents. */
uint64_t cgroup_v2_cpu_weight_from_shares (uint64_t shares); /* 2..262144 → 1..10000 */
uint64_t cgroup_v2_io_weight_from_blkio (uint64_t weight);   /* 10..1000 → 1..10000 */

#endif
