#include "config.h"
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "json_field.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

const char *
cgroup_layout_name (enum cgroup_layout layout)
{
  switch (layout)
    {
    case CGROUP_LAYOUT_V1:
      return "v1";
    case CGROUP_LAYOUT_HYBRID:
      return "hybrid";
    case CGROUP_LAYOUT_V2:
      return "v2";
    }
  return "unknown";
}

static bool
is_cgroup2 (const char *path)
{
  struct statfs sf;
  return statfs (path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

int
cgroup_detect_layout (enum cgroup_layout *out, struct ward_error **err)
{
  struct statfs sf;
  if (statfs (CGROUP_ROOT, &sf) < 0)
    return ward_fail (err, errno, "statfs %s", CGROUP_ROOT);
  if (sf.f_type == CGROUP2_SUPER_MAGIC)
    *out = CGROUP_LAYOUT_V2;
  else if (is_cgroup2 (CGROUP_ROOT "/unified"))
    *out = CGROUP_LAYOUT_HYBRID;
  else
    *out = CGROUP_LAYOUT_V1;
  return 0;
}

static unsigned
controllers_of_v1_options (const char *options)
{
  unsigned bits = 0;
  cleanup_free char *copy = strdup (options);
  char *save = NULL;
  for (char *tok = copy ? strtok_r (copy, ",", &save) : NULL; tok; tok = strtok_r (NULL, ",", &save))
    for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++)
      if (strcmp (tok, cgroup_controller_v1_name (c)) == 0)
        bits |= 1u << c;
  return bits;
}

static unsigned
controllers_of_v2_dir (const char *dir)
{
  char path[4096];
  cleanup_free char *text = NULL;
  snprintf (path, sizeof path, "%s/cgroup.controllers", dir);
  if (fs_read_file (path, &text, NULL, NULL) < 0)
    return 0;
  unsigned bits = 0;
  char *save = NULL;
  for (char *tok = strtok_r (text, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save))
    for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++)
      {
        const char *name = cgroup_controller_v2_name (c);
        if (name && strcmp (tok, name) == 0)
          bits |= 1u << c;
      }
  /* cpuacct's statistics live in cpu.stat on v2. */
  if (bits & (1u << CGROUP_CPU))
    bits |= 1u << CGROUP_CPUACCT;
  return bits;
}

/* Our own path in the hierarchy whose /proc/self/cgroup line names
 * `controllers` ("" for the unified one). */
static char *
own_path (const char *proc_self_cgroup, const char *controllers)
{
  const char *line = proc_self_cgroup;
  while (line && *line)
    {
      const char *end = strchr (line, '\n');
      size_t length = end ? (size_t)(end - line) : strlen (line);
      const char *first = memchr (line, ':', length);
      const char *second = first ? memchr (first + 1, ':', length - (first + 1 - line)) : NULL;
      if (second && (size_t)(second - first - 1) == strlen (controllers)
          && strncmp (first + 1, controllers, second - first - 1) == 0)
        return strndup (second + 1, length - (second + 1 - line));
      line = end ? end + 1 : NULL;
    }
  return NULL;
}

static int
join_path (char **out, const char *mount, const char *own, const char *cgroups_path, const char *id)
{
  int n;
  if (cgroups_path && cgroups_path[0] == '/')
    n = asprintf (out, "%s%s", mount, cgroups_path);
  else
    n = asprintf (out, "%s%s/%s", mount, strcmp (own, "/") == 0 ? "" : own,
                  cgroups_path && cgroups_path[0] ? cgroups_path : id);
  return n < 0 ? -1 : 0;
}

static int
add_hierarchy (struct cgroup *cg, const char *mount, const char *self_cgroup, const char *line_key,
               bool unified, unsigned controllers, const char *cgroups_path, const char *id,
               struct ward_error **err)
{
  if (cg->count == CGROUP_MAX_HIERARCHIES)
    return 0;
  cleanup_free char *own = own_path (self_cgroup, line_key);
  if (own == NULL)
    return 0; /* mounted, but not one we are a member of */
  struct cgroup_hierarchy *h = &cg->hierarchies[cg->count];
  if (join_path (&h->path, mount, own, cgroups_path, id) < 0)
    return ward_fail (err, ENOMEM, "cgroup path");
  if (!(cgroups_path && cgroups_path[0] == '/')
      && asprintf (&h->own, "%s%s", mount, strcmp (own, "/") == 0 ? "" : own) < 0)
    return ward_fail (err, ENOMEM, "cgroup path");
  h->unified = unified;
  h->controllers = controllers;
  cg->count++;
  return 0;
}

int
cgroup_each_mount (cgroup_mount_visitor *visit, void *ctx, struct ward_error **err)
{
  cleanup_fclose FILE *mounts = fopen ("/proc/self/mountinfo", "re");
  if (mounts == NULL)
    return ward_fail (err, errno, "open /proc/self/mountinfo");
  char *line = NULL;
  size_t size = 0;
  int ret = 0;
  while (ret == 0 && getline (&line, &size, mounts) > 0)
    {
      /* "id parent major:minor root mountpoint options ... - fstype source superoptions" */
      char mount_point[4096], fs_type[64], options[1024];
      char *dash = strstr (line, " - ");
      if (dash == NULL || sscanf (line, "%*s %*s %*s %*s %4095s", mount_point) != 1
          || sscanf (dash + 3, "%63s %*s %1023s", fs_type, options) != 2)
        continue;
      if (strncmp (mount_point, CGROUP_ROOT "/", sizeof CGROUP_ROOT) != 0
          || strchr (mount_point + sizeof CGROUP_ROOT, '/'))
        continue;
      bool unified = strcmp (fs_type, "cgroup2") == 0;
      if (!unified && strcmp (fs_type, "cgroup") != 0)
        continue;
      /* The /proc/self/cgroup key of a v1 hierarchy is its controllers
       * (and name=...) joined by commas, as in its mount options. */
      char key[1024] = "";
      char *save = NULL;
      for (char *tok = unified ? NULL : strtok_r (options, ",", &save); tok;
           tok = strtok_r (NULL, ",", &save))
        {
          if (strcmp (tok, "rw") == 0 || strcmp (tok, "ro") == 0 || strncmp (tok, "release_agent", 13) == 0
              || strcmp (tok, "clone_children") == 0 || strcmp (tok, "noprefix") == 0
              || strcmp (tok, "xattr") == 0 || strcmp (tok, "cpuset_v2_mode") == 0)
            continue;
          if (key[0])
            strncat (key, ",", sizeof key - strlen (key) - 1);
          strncat (key, tok, sizeof key - strlen (key) - 1);
        }
      struct cgroup_mount m = {
        .mount_point = mount_point,
        .name = mount_point + sizeof CGROUP_ROOT,
        .unified = unified,
        .key = key,
      };
      ret = visit (&m, ctx, err);
    }
  free (line);
  return ret;
}

struct resolving
{
  struct cgroup *out;
  const char *self_cgroup, *cgroups_path, *id;
};

static int
add_mounted_hierarchy (const struct cgroup_mount *m, void *ctx, struct ward_error **err)
{
  struct resolving *r = ctx;
  unsigned controllers
      = m->unified ? controllers_of_v2_dir (m->mount_point) : controllers_of_v1_options (m->key);
  return add_hierarchy (r->out, m->mount_point, r->self_cgroup, m->key, m->unified, controllers,
                        r->cgroups_path, r->id, err);
}

int
cgroup_resolve (const char *cgroups_path, const char *id, struct cgroup *out, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  if (cgroups_path && strchr (cgroups_path, ':'))
    return ward_fail (err, 0,
                      "config.json: linux.cgroupsPath: \"%s\" is a systemd slice path; the systemd cgroup "
                      "driver is not supported",
                      cgroups_path);
  if (cgroups_path && strstr (cgroups_path, ".."))
    return ward_fail (err, 0, "config.json: linux.cgroupsPath: \"%s\" must not contain \"..\"", cgroups_path);
  if (cgroup_detect_layout (&out->layout, err) < 0)
    return -1;
  cleanup_free char *self_cgroup = NULL;
  if (fs_read_file ("/proc/self/cgroup", &self_cgroup, NULL, err) < 0)
    return -1;
  if (out->layout == CGROUP_LAYOUT_V2)
    {
      int ret = add_hierarchy (out, CGROUP_ROOT, self_cgroup, "", true, 0, cgroups_path, id, err);
      if (ret == 0 && out->count == 1)
        {
          cleanup_free char *own = own_path (self_cgroup, "");
          char dir[4096];
          snprintf (dir, sizeof dir, "%s%s", CGROUP_ROOT, own ? own : "");
          out->hierarchies[0].controllers = controllers_of_v2_dir (dir);
        }
      return ret;
    }

  struct resolving r = { .out = out, .self_cgroup = self_cgroup, .cgroups_path = cgroups_path, .id = id };
  int ret = cgroup_each_mount (add_mounted_hierarchy, &r, err);
  if (ret == 0 && out->count == 0)
    return ward_fail (err, 0, "no cgroup hierarchy is mounted under %s", CGROUP_ROOT);
  return ret;
}

/* Where a running process is: its /proc/PID/cgroup line per mounted
 * hierarchy, read from our cgroup namespace (the host's, for ward-hook). */
struct membership
{
  struct cgroup *out;
  const char *proc_cgroup;
};

static int
add_member_hierarchy (const struct cgroup_mount *m, void *ctx, struct ward_error **err)
{
  struct membership *r = ctx;
  cleanup_free char *own = own_path (r->proc_cgroup, m->key);
  if (own == NULL || r->out->count == CGROUP_MAX_HIERARCHIES)
    return 0;
  struct cgroup_hierarchy *h = &r->out->hierarchies[r->out->count];
  if (asprintf (&h->path, "%s%s", m->mount_point, strcmp (own, "/") == 0 ? "" : own) < 0)
    return ward_fail (err, ENOMEM, "cgroup path");
  h->unified = m->unified;
  h->controllers = m->unified ? controllers_of_v2_dir (h->path) : controllers_of_v1_options (m->key);
  r->out->count++;
  return 0;
}

int
cgroup_of_process (pid_t pid, struct cgroup *out, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cgroup", (int)pid);
  cleanup_free char *text = NULL;
  if (cgroup_detect_layout (&out->layout, err) < 0 || fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  struct membership r = { .out = out, .proc_cgroup = text };
  if (out->layout == CGROUP_LAYOUT_V2)
    {
      struct cgroup_mount m = { .mount_point = CGROUP_ROOT, .name = "", .unified = true, .key = "" };
      return add_member_hierarchy (&m, &r, err);
    }
  int ret = cgroup_each_mount (add_member_hierarchy, &r, err);
  if (ret < 0)
    cgroup_clear (out);
  return ret;
}

static int
open_dir (const char *path, struct ward_error **err)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "open cgroup %s", path);
  return fd;
}

static int
inherit_cpuset (const char *dir, struct ward_error **err)
{
  char parent[4096];
  snprintf (parent, sizeof parent, "%s/..", dir);
  cleanup_close int parent_fd = open_dir (parent, err);
  cleanup_close int dir_fd = parent_fd < 0 ? -1 : open_dir (dir, err);
  if (dir_fd < 0)
    return -1;
  return cgroup_v1_cpuset_inherit (parent_fd, dir_fd, err);
}

/* Let children of `parent` use the unified controllers `wanted`. */
static int
delegate_controllers (const char *parent, unsigned wanted, struct ward_error **err)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/cgroup.subtree_control", parent);
  for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++)
    {
      const char *name = cgroup_controller_v2_name (c);
      if (!(wanted & (1u << c)) || name == NULL || c == CGROUP_CPUACCT)
        continue;
      char text[64];
      int n = snprintf (text, sizeof text, "+%s", name);
      if (fs_write_file (path, text, n, err) < 0)
        return ward_error_prefix (err, "enable the %s controller for %s", name, parent);
    }
  return 0;
}

static unsigned
needed_controllers (const struct resources *r)
{
  unsigned bits = 0;
  for (int c = 0; r && c < CGROUP_CONTROLLER_COUNT; c++)
    if (cgroup_controller_needed (c, r))
      bits |= 1u << c;
  return bits;
}

/* mkdir -p, remembering where ward started making directories so delete
 * removes exactly those. */
/* With real-time group scheduling a cgroup's real-time budget comes out
 * of its parent's: the directories between ward's own cgroup and the
 * container's get at least the container's budget, or it could not have
 * one. */
static int
pass_realtime_budget (const struct cgroup_hierarchy *h, const struct resources *r, struct ward_error **err)
{
  if (r == NULL || !r->cpu.has_realtime_runtime || r->cpu.realtime_runtime <= 0 || h->own == NULL
      || h->unified || !(h->controllers & (1u << CGROUP_CPU)))
    return 0;
  cleanup_free char *walk = strdup (h->path);
  if (walk == NULL)
    return ward_fail (err, ENOMEM, "cgroup");
  for (char *p = walk + strlen (h->own) + 1; (p = strchr (p, '/')) != NULL; p++)
    {
      char path[4096], text[32];
      cleanup_free char *current = NULL;
      *p = '\0';
      snprintf (path, sizeof path, "%s/cpu.rt_runtime_us", walk);
      *p = '/';
      if (fs_read_file (path, &current, NULL, NULL) < 0)
        return 0; /* no real-time group scheduling here */
      if (strtoll (current, NULL, 10) >= r->cpu.realtime_runtime)
        continue;
      int n = snprintf (text, sizeof text, "%lld", (long long)r->cpu.realtime_runtime);
      if (fs_write_file (path, text, n, err) < 0)
        return -1;
    }
  return 0;
}

static int
make_hierarchy_dir_once (struct cgroup_hierarchy *h, unsigned wanted, struct ward_error **err)
{
  cleanup_free char *existing = strdup (h->path);
  if (existing == NULL)
    return ward_fail (err, ENOMEM, "cgroup");
  while (access (existing, F_OK) < 0)
    *strrchr (existing, '/') = '\0';
  if (strcmp (existing, h->path) == 0)
    return 0;
  free (h->created_from);
  h->created_from = strdup (existing);
  cleanup_free char *walk = strdup (h->path);
  if (h->created_from == NULL || walk == NULL)
    return ward_fail (err, ENOMEM, "cgroup");
  for (char *p = walk + strlen (existing) + 1;;)
    {
      char *slash = strchr (p, '/');
      if (slash)
        *slash = '\0';
      if (h->unified && delegate_controllers (existing, wanted & h->controllers, err) < 0)
        return -1;
      if (mkdir (walk, 0755) < 0 && errno != EEXIST)
        return ward_fail (err, errno, "mkdir cgroup %s", walk);
      if ((h->controllers & (1u << CGROUP_CPUSET)) && !h->unified && inherit_cpuset (walk, err) < 0)
        return -1;
      free (existing);
      existing = strdup (walk);
      if (slash == NULL || existing == NULL)
        break;
      *slash = '/';
      p = slash + 1;
    }
  return 0;
}

/* Another ward deleting its container may remove a parent directory we
 * share (it was empty an instant ago) between our look and our mkdir:
 * look again. */
static int
make_hierarchy_dir (struct cgroup_hierarchy *h, unsigned wanted, struct ward_error **err)
{
  for (int attempt = 0;; attempt++)
    {
      struct ward_error *attempt_err = NULL;
      if (make_hierarchy_dir_once (h, wanted, &attempt_err) == 0)
        return 0;
      if (attempt == 5 || attempt_err->errnum != ENOENT)
        {
          if (err && *err == NULL)
            *err = attempt_err;
          else
            ward_error_free (&attempt_err);
          return -1;
        }
      ward_error_free (&attempt_err);
    }
}

static const struct cgroup_hierarchy *
hierarchy_of (const struct cgroup *cg, enum cgroup_controller controller)
{
  for (size_t i = 0; i < cg->count; i++)
    if (cg->hierarchies[i].controllers & (1u << controller))
      return &cg->hierarchies[i];
  return NULL;
}

const char *
cgroup_dir_of (const struct cgroup *cg, enum cgroup_controller controller)
{
  const struct cgroup_hierarchy *h = hierarchy_of (cg, controller);
  return h ? h->path : NULL;
}

static const struct cgroup_hierarchy *
unified_hierarchy (const struct cgroup *cg)
{
  for (size_t i = 0; i < cg->count; i++)
    if (cg->hierarchies[i].unified)
      return &cg->hierarchies[i];
  return NULL;
}

int
cgroup_apply (const struct cgroup *cg, const struct resources *r, struct ward_error **err)
{
  if (r == NULL)
    return 0;
  for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++)
    {
      if (!cgroup_controller_needed (c, r))
        continue;
      const struct cgroup_hierarchy *h = hierarchy_of (cg, c);
      const struct cgroup_hierarchy *unified = unified_hierarchy (cg);
      if (h == NULL && c == CGROUP_DEVICES && unified && cg->layout == CGROUP_LAYOUT_V2)
        {
          cleanup_close int fd = open_dir (unified->path, err);
          if (fd < 0 || cgroup_v2_attach_device_rules (fd, r, err) < 0)
            return -1;
          continue;
        }
      if (h == NULL)
        return ward_fail (err, 0,
                          "linux.resources: the %s controller is not available on this host (%s cgroups)",
                          cgroup_controller_v1_name (c), cgroup_layout_name (cg->layout));
      cleanup_close int fd = open_dir (h->path, err);
      if (fd < 0)
        return -1;
      if ((h->unified ? cgroup_v2_apply (c, fd, r, err) : cgroup_v1_apply (c, fd, r, err)) < 0)
        return ward_error_prefix (err, "cgroup %s", h->path);
    }
  if (r->unified_count > 0)
    {
      const struct cgroup_hierarchy *unified = unified_hierarchy (cg);
      if (unified == NULL)
        return ward_fail (err, 0,
                          "linux.resources.unified: this host has no cgroup v2 hierarchy (%s cgroups)",
                          cgroup_layout_name (cg->layout));
      cleanup_close int fd = open_dir (unified->path, err);
      if (fd < 0 || cgroup_v2_apply_unified (fd, r, err) < 0)
        return -1;
    }
  return 0;
}

int
cgroup_create (struct cgroup *cg, const struct resources *r, struct ward_error **err)
{
  unsigned wanted = needed_controllers (r);
  for (size_t i = 0; i < cg->count; i++)
    if (make_hierarchy_dir (&cg->hierarchies[i], wanted, err) < 0
        || pass_realtime_budget (&cg->hierarchies[i], r, err) < 0)
      goto fail;
  if (cgroup_apply (cg, r, err) < 0)
    goto fail;
  return 0;
fail:
  {
    struct ward_error *ignored = NULL;
    cgroup_destroy (cg, &ignored);
    ward_error_free (&ignored);
  }
  return -1;
}

enum hierarchies
{
  EVERY_HIERARCHY,
  V1_HIERARCHIES,
  UNIFIED_HIERARCHY,
};

static int
write_membership (const struct cgroup *cg, enum hierarchies which, const char *file, const char *text,
                  struct ward_error **err)
{
  for (size_t i = 0; i < cg->count; i++)
    {
      char path[4096];
      bool unified = cg->hierarchies[i].unified;
      if ((which == V1_HIERARCHIES && unified) || (which == UNIFIED_HIERARCHY && !unified))
        continue;
      snprintf (path, sizeof path, "%s/%s", cg->hierarchies[i].path, file);
      if (fs_write_file (path, text, strlen (text), err) < 0)
        return ward_error_prefix (err, "join cgroup");
    }
  return 0;
}

int
cgroup_enter_v1 (const struct cgroup *cg, pid_t pid, struct ward_error **err)
{
  char text[32];
  snprintf (text, sizeof text, "%d", pid);
  return write_membership (cg, V1_HIERARCHIES, "cgroup.procs", text, err);
}

int
cgroup_enter_unified (const struct cgroup *cg, pid_t pid, struct ward_error **err)
{
  char text[32];
  snprintf (text, sizeof text, "%d", pid);
  return write_membership (cg, UNIFIED_HIERARCHY, "cgroup.procs", text, err);
}

int
cgroup_enter_self_v1 (const struct cgroup *cg, struct ward_error **err)
{
  /* "0" in `tasks` is the calling thread, which the kernel moves without
   * the global lock a whole-process move takes. */
  return write_membership (cg, V1_HIERARCHIES, "tasks", "0", err);
}

pid_t
cgroup_clone (const struct cgroup *cg, int namespace_flags, bool *in_unified)
{
  const struct cgroup_hierarchy *unified = unified_hierarchy (cg);
  cleanup_close int unified_fd = unified ? open (unified->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  *in_unified = false;
  if (unified_fd >= 0)
    {
      struct clone_args args = {
        .flags = (uint64_t)namespace_flags | CLONE_INTO_CGROUP,
        .exit_signal = SIGCHLD,
        .cgroup = (uint64_t)unified_fd,
      };
      long pid = syscall (SYS_clone3, &args, sizeof args);
      if (pid >= 0)
        {
          *in_unified = true;
          return (pid_t)pid;
        }
      /* Kernels before 5.7 and the like: the caller moves the child. */
    }
  return (pid_t)syscall (SYS_clone, SIGCHLD | namespace_flags, NULL, NULL, NULL, 0);
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

/* rmdir, waiting briefly while the kernel finishes tearing down processes
 * that were just killed (the directory is busy until then). */
static int
remove_dir (const char *path, struct ward_error **err)
{
  for (int attempt = 0;; attempt++)
    {
      if (rmdir (path) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY || attempt == 200)
        return ward_fail (err, errno, "remove cgroup %s", path);
      sleep_ms (5);
    }
}

int
cgroup_destroy (const struct cgroup *cg, struct ward_error **err)
{
  int ret = 0;
  for (size_t i = 0; i < cg->count; i++)
    {
      const struct cgroup_hierarchy *h = &cg->hierarchies[i];
      if (h->created_from == NULL)
        continue;
      if (remove_dir (h->path, err) < 0)
        {
          ret = -1;
          continue;
        }
      /* Parents ward made too, unless other containers live in them. */
      cleanup_free char *parent = strdup (h->path);
      for (char *slash = strrchr (parent, '/'); slash && strlen (parent) > strlen (h->created_from);
           slash = strrchr (parent, '/'))
        {
          *slash = '\0';
          if (strlen (parent) <= strlen (h->created_from) || rmdir (parent) < 0)
            break;
        }
    }
  return ret;
}

static int
read_text (const char *dir, const char *file, char **out)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  return fs_read_file (path, out, NULL, NULL);
}

bool
cgroup_is_frozen (const struct cgroup *cg)
{
  cleanup_free char *text = NULL;
  const struct cgroup_hierarchy *h = hierarchy_of (cg, CGROUP_FREEZER);
  if (h && !h->unified)
    return read_text (h->path, "freezer.state", &text) == 0 && strncmp (text, "FROZEN", 6) == 0;
  h = unified_hierarchy (cg);
  return h && read_text (h->path, "cgroup.freeze", &text) == 0 && text[0] == '1';
}

int
cgroup_freeze (const struct cgroup *cg, bool frozen, struct ward_error **err)
{
  const struct cgroup_hierarchy *h = hierarchy_of (cg, CGROUP_FREEZER);
  char path[4096];
  const char *value;
  if (h && !h->unified)
    {
      snprintf (path, sizeof path, "%s/freezer.state", h->path);
      value = frozen ? "FROZEN" : "THAWED";
    }
  else if ((h = unified_hierarchy (cg)) != NULL)
    {
      snprintf (path, sizeof path, "%s/cgroup.freeze", h->path);
      value = frozen ? "1" : "0";
    }
  else
    return ward_fail (err, 0, "no freezer: this host has neither the v1 freezer nor cgroup v2");
  if (fs_write_file (path, value, strlen (value), err) < 0)
    return -1;
  /* Freezing is asynchronous: wait until every task has stopped. */
  for (int attempt = 0; frozen && attempt < 1000; attempt++)
    {
      if (cgroup_is_frozen (cg))
        {
          cleanup_free char *text = NULL;
          if (h->unified)
            {
              if (read_text (h->path, "cgroup.events", &text) == 0 && strstr (text, "frozen 1"))
                return 0;
            }
          else if (read_text (h->path, "freezer.state", &text) == 0 && strncmp (text, "FROZEN", 6) == 0)
            return 0;
        }
      sleep_ms (1);
    }
  return frozen ? ward_fail (err, ETIMEDOUT, "freeze cgroup %s", h->path) : 0;
}

int
cgroup_pids (const struct cgroup *cg, pid_t **out, size_t *count, struct ward_error **err)
{
  *out = NULL;
  *count = 0;
  if (cg->count == 0)
    return 0;
  cleanup_free char *text = NULL;
  char path[4096];
  snprintf (path, sizeof path, "%s/cgroup.procs", cg->hierarchies[0].path);
  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  size_t capacity = 16;
  pid_t *pids = malloc (capacity * sizeof *pids);
  if (pids == NULL)
    return ward_fail (err, ENOMEM, "cgroup pids");
  char *save = NULL;
  for (char *tok = strtok_r (text, "\n", &save); tok; tok = strtok_r (NULL, "\n", &save))
    {
      if (*count == capacity)
        {
          pid_t *bigger = realloc (pids, (capacity *= 2) * sizeof *pids);
          if (bigger == NULL)
            {
              free (pids);
              return ward_fail (err, ENOMEM, "cgroup pids");
            }
          pids = bigger;
        }
      pids[(*count)++] = (pid_t)strtol (tok, NULL, 10);
    }
  *out = pids;
  return 0;
}

int
cgroup_signal_all (const struct cgroup *cg, int signum, struct ward_error **err)
{
  const struct cgroup_hierarchy *unified = unified_hierarchy (cg);
  char path[4096];
  if (signum == SIGKILL && unified && cg->layout == CGROUP_LAYOUT_V2)
    {
      snprintf (path, sizeof path, "%s/cgroup.kill", unified->path);
      if (fs_write_file (path, "1", 1, NULL) == 0)
        return 0;
    }
  cleanup_free pid_t *pids = NULL;
  size_t count = 0;
  if (cgroup_pids (cg, &pids, &count, err) < 0)
    return -1;
  for (size_t i = 0; i < count; i++)
    if (kill (pids[i], signum) < 0 && errno != ESRCH)
      return ward_fail (err, errno, "kill %d", pids[i]);
  /* A frozen task acts on SIGKILL only once thawed (v1). */
  if (signum == SIGKILL && cgroup_is_frozen (cg))
    return cgroup_freeze (cg, false, err);
  return 0;
}

void
cgroup_write_json (const struct cgroup *cg, struct json_writer *w)
{
  jw_begin_object (w);
  jw_key_string (w, "layout", cgroup_layout_name (cg->layout));
  jw_key (w, "hierarchies");
  jw_begin_array (w);
  for (size_t i = 0; i < cg->count; i++)
    {
      const struct cgroup_hierarchy *h = &cg->hierarchies[i];
      jw_begin_object (w);
      jw_key_string (w, "path", h->path);
      jw_key_bool (w, "unified", h->unified);
      jw_key_int (w, "controllers", h->controllers);
      if (h->created_from)
        jw_key_string (w, "createdFrom", h->created_from);
      jw_end_object (w);
    }
  jw_end_array (w);
  jw_end_object (w);
}

int
cgroup_read_json (const struct json_document *doc, const struct json_value *value, struct cgroup *out,
                  struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  cleanup_free char *layout = NULL;
  const struct json_value *list = NULL;
  if (field_string (doc, value, "cgroup", "layout", true, &layout, err) < 0
      || field_array (doc, value, "cgroup", "hierarchies", true, &list, err) < 0)
    return -1;
  out->layout = strcmp (layout, "v2") == 0 ? CGROUP_LAYOUT_V2
      : strcmp (layout, "hybrid") == 0     ? CGROUP_LAYOUT_HYBRID
                                           : CGROUP_LAYOUT_V1;
  for (size_t i = 0; i < list->u.array.count && i < CGROUP_MAX_HIERARCHIES; i++)
    {
      const struct json_value *item = list->u.array.items[i];
      struct cgroup_hierarchy *h = &out->hierarchies[out->count++];
      uint32_t controllers = 0;
      if (field_string (doc, item, "cgroup.hierarchies", "path", true, &h->path, err) < 0
          || field_bool (doc, item, "cgroup.hierarchies", "unified", &h->unified, err) < 0
          || field_uint32 (doc, item, "cgroup.hierarchies", "controllers", false, &controllers, NULL, err) < 0
          || field_string (doc, item, "cgroup.hierarchies", "createdFrom", false, &h->created_from, err) < 0)
        return -1;
      h->controllers = controllers;
    }
  return 0;
}

void
cgroup_clear (struct cgroup *cg)
{
  for (size_t i = 0; i < cg->count; i++)
    {
      free (cg->hierarchies[i].path);
      free (cg->hierarchies[i].created_from);
      free (cg->hierarchies[i].own);
    }
  memset (cg, 0, sizeof *cg);
}

char *
cgroup_self_path (const char *key)
{
  cleanup_free char *self_cgroup = NULL;
  if (fs_read_file ("/proc/self/cgroup", &self_cgroup, NULL, NULL) < 0)
    return NULL;
  return own_path (self_cgroup, key);
}
