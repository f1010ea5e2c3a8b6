/* Resource usage read from a container's cgroup, in the shape of runc's
 * `events --stats` (what containerd's and Docker's stats expect). */
#ifndef WARD_CGROUP_STATS_H
#define WARD_CGROUP_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "json_writer.h"

/* Write the "data" object: cpu, memory, pids, blkio, hugetlb. */
void cgroup_stats_write (const struct cgroup *cg, struct json_writer *w);

/* How many times the OOM killer has killed in the cgroup (v1
 * memory.oom_control, v2 memory.events "oom_kill"). */
uint64_t cgroup_oom_kills (const struct cgroup *cg);

/* An fd that becomes readable (POLLIN) when something happens to the
 * container's memory cgroup, an OOM kill above all: a v1 eventfd
 * registered on memory.oom_control, or an inotify watch of v2
 * memory.events.  Notified at once, so an OOM is counted before whoever
 * ran the container removes its cgroup.  -1 when there is no memory
 * cgroup. */
int cgroup_memory_notifier (const struct cgroup *cg);

/* Has an OOM kill happened since the last call (fd: the notifier, or -1)?  `ooms` is the kill
 * count seen so far, updated.  (v1 also signals the cgroup's removal: an
 * event with the cgroup gone is not an OOM.) */
bool cgroup_memory_notified_oom (const struct cgroup *cg, int fd, uint64_t *ooms);

#endif
