/* Resource usage read from a container's cgroup, in the shape of runc's
 * `events --stats` (what containerd's and Docker's stats expect). */
#ifndef WARD_CGROUP_STATS_H
#define WARD_CGROUP_STATS_H

#include <stdint.h>

#include "cgroup.h"
#include "json_writer.h"

/* Write the "data" object: cpu, memory, pids, blkio, hugetlb. */
void cgroup_stats_write (const struct cgroup *cg, struct json_writer *w);

/* How many times the OOM killer has killed in the cgroup (v1
 * memory.oom_control, v2 memory.events "oom_kill"). */
uint64_t cgroup_oom_kills (const struct cgroup *cg);

#endif
