/* A container's cgroup: where it lives in each mounted hierarchy, how the
 * init is placed there, and what ward does to it later (update, freeze,
 * list, signal, remove).
 *
 * Layouts: v2 (one unified hierarchy), v1 (one hierarchy per controller
 * group), hybrid (v1 controllers plus a cgroup2 mount at
 * /sys/fs/cgroup/unified).  A relative or empty linux.cgroupsPath nests
 * beneath ward's own cgroup in each hierarchy, so ward run under a
 * supervisor never escapes its supervisor's limits. */
#ifndef WARD_CGROUP_H
#define WARD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup_controllers.h"
#include "error.h"
#include "json.h"
#include "json_writer.h"
#include "resources.h"

enum cgroup_layout
{
  CGROUP_LAYOUT_V1,
  CGROUP_LAYOUT_HYBRID,
  CGROUP_LAYOUT_V2,
};

#define CGROUP_MAX_HIERARCHIES 16

struct cgroup_hierarchy
{
  char *path;           /* the container's directory in it */
  bool unified;         /* cgroup2 */
  unsigned controllers; /* bit (1 << enum cgroup_controller) per controller it carries */
  char *created_from;   /* the deepest directory that existed before ward made the rest, or NULL */
  char *own;            /* ward's own directory, for a path nested beneath it; else NULL (not saved) */
};

struct cgroup
{
  enum cgroup_layout layout;
  size_t count;
  struct cgroup_hierarchy hierarchies[CGROUP_MAX_HIERARCHIES];
};

int cgroup_detect_layout (enum cgroup_layout *out, struct ward_error **err);

/* A hierarchy mounted at /sys/fs/cgroup/<name>. */
struct cgroup_mount
{
  const char *mount_point;
  const char *name;
  bool unified;
  const char *key; /* its /proc/self/cgroup key: the controllers, "" for cgroup2 */
};
typedef int cgroup_mount_visitor (const struct cgroup_mount *mount, void *ctx, struct ward_error **err);
/* Visit every mounted hierarchy (stops at the first visitor failure). */
int cgroup_each_mount (cgroup_mount_visitor *visit, void *ctx, struct ward_error **err);
const char *cgroup_layout_name (enum cgroup_layout layout);

/* Where the container's cgroup is, from linux.cgroupsPath (may be NULL)
 * and the container id.  Nothing is created. */
int cgroup_resolve (const char *cgroups_path, const char *id, struct cgroup *out, struct ward_error **err);

/* Where the running process `pid` is in each mounted hierarchy (not
 * saved: nothing of it was made by us).  For a supervisor that is given a
 * pid, not a config: ward-hook's, under ward or another runtime. */
int cgroup_of_process (pid_t pid, struct cgroup *out, struct ward_error **err);

/* Make the directories (cpusets filled from their parents) and write the
 * limits.  On failure, what was made is removed again. */
int cgroup_create (struct cgroup *cg, const struct resources *r, struct ward_error **err);
/* Migrating a process (cgroup.procs) waits for an RCU grace period, about
 * 10 ms here; a single-threaded process moving itself through a v1
 * hierarchy's `tasks` file does not, nor does a child created straight
 * into a cgroup2 directory (clone3 CLONE_INTO_CGROUP).  The container's
 * init is placed these two ways. */

/* The calling process (single-threaded) moves itself into every v1
 * hierarchy's directory. */
int cgroup_enter_self_v1 (const struct cgroup *cg, struct ward_error **err);
/* Move `pid` into every v1 hierarchy's directory (when it cannot itself),
 * or into the unified one (when clone3 could not place it there). */
int cgroup_enter_v1 (const struct cgroup *cg, pid_t pid, struct ward_error **err);
int cgroup_enter_unified (const struct cgroup *cg, pid_t pid, struct ward_error **err);
/* Like fork(2), with the child in new namespaces (CLONE_NEW* flags) and,
 * where the host has cgroup2, created straight into cg's cgroup2
 * directory (*in_unified); otherwise the caller moves it there. */
pid_t cgroup_clone (const struct cgroup *cg, int namespace_flags, bool *in_unified);
/* Write limits again (`update`). */
int cgroup_apply (const struct cgroup *cg, const struct resources *r, struct ward_error **err);
/* Remove the directories ward made (they must be empty of processes). */
int cgroup_destroy (const struct cgroup *cg, struct ward_error **err);

int cgroup_freeze (const struct cgroup *cg, bool frozen, struct ward_error **err);
bool cgroup_is_frozen (const struct cgroup *cg);

/* Every process of the container (host pids), from cgroup.procs. */
int cgroup_pids (const struct cgroup *cg, pid_t **out, size_t *count, struct ward_error **err);
/* Signal every process, thawing first if frozen so that a signal (above
 * all SIGKILL) is acted on. */
int cgroup_signal_all (const struct cgroup *cg, int signum, struct ward_error **err);

/* For state.json. */
void cgroup_write_json (const struct cgroup *cg, struct json_writer *w);
int cgroup_read_json (const struct json_document *doc, const struct json_value *value, struct cgroup *out,
                      struct ward_error **err);

/* The directory of the hierarchy carrying `controller`, or NULL. */
const char *cgroup_dir_of (const struct cgroup *cg, enum cgroup_controller controller);

void cgroup_clear (struct cgroup *cg);

/* This process's path in the hierarchy whose /proc/self/cgroup key is
 * `key` (its controllers joined by commas; "" for the unified one), or
 * NULL.  malloc'd. */
char *cgroup_self_path (const char *key);

#endif
