/* The latest usage snapshot of a running container: `<root>/<id>/usage.json`,
 * replaced atomically by the container's supervisor each time it polls,
 * read by `ward top`.  Its shape is the contract between the two:
 *
 *   {"time": "2025-01-02T03:04:05.123456789Z",   when it was measured
 *    "wall_seconds": 12.345, "cpu_seconds": 1.250,
 *    "egress_bytes": 1024, "connections": 3,
 *    "cost": 14.870,                              in the budget's units
 *    "breach": null | "timeout" | ...,            the limit gone over, once it is
 *    "limits": {...}}                             budget_write_json's object
 *
 * Fractions have three decimals (the snapshot is read by people and by
 * ward top, never added up again). */
#ifndef WARD_USAGE_H
#define WARD_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "budget.h"
#include "cgroup.h"
#include "error.h"

#define USAGE_FILE "usage.json"

struct usage_snapshot
{
  char time[64]; /* RFC 3339; "" = now, when written */
  struct budget_usage used;
  uint64_t cost_millis;
  enum budget_limit breach; /* BUDGET_WITHIN until one is gone over */
  struct budget limits;
};

/* The snapshot as usage.json's text (malloc'd, NUL-terminated). */
int usage_render (const struct usage_snapshot *snapshot, char **out, size_t *length, struct ward_error **err);

/* Parse usage.json's text; `name` prefixes messages.  Missing limits read
 * as unlimited, so that a snapshot from an older writer still shows. */
int usage_parse (const char *name, const char *text, size_t length, struct usage_snapshot *out,
                 struct ward_error **err);

/* Replace (atomically: readers see the old file or the new one, never
 * half of one) or read usage.json in a container's state directory.  A
 * missing file fails with errnum ENOENT. */
int usage_write_at (int state_dir_fd, const struct usage_snapshot *snapshot, struct ward_error **err);
int usage_read_at (int state_dir_fd, struct usage_snapshot *out, struct ward_error **err);

/* An RFC 3339 time ("2025-01-02T03:04:05.123456789Z", or with "+02:00"),
 * as the audit log and usage.json write it: nanoseconds since the epoch. */
int usage_parse_time (const char *text, int64_t *ns);

/* CPU time used by every process of the cgroup (v2 cpu.stat usage_usec,
 * v1 cpuacct.usage), for when no supervisor has written a snapshot. */
int usage_cgroup_cpu_usec (const struct cgroup *cg, uint64_t *usec, struct ward_error **err);

#endif
