#include "config.h"
#include "devices.h"
#include "cleanup.h"
#include "fs.h"
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* What the OCI spec requires in every container's /dev. */
static const struct spec_device default_devices[] = {
  { .path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .has_mode = true, .file_mode = 0666 },
  { .path = "/dev/zero", .type = 'c', .major = 1, .minor = 5, .has_mode = true, .file_mode = 0666 },
  { .path = "/dev/full", .type = 'c', .major = 1, .minor = 7, .has_mode = true, .file_mode = 0666 },
  { .path = "/dev/random", .type = 'c', .major = 1, .minor = 8, .has_mode = true, .file_mode = 0666 },
  { .path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9, .has_mode = true, .file_mode = 0666 },
  { .path = "/dev/tty", .type = 'c', .major = 5, .minor = 0, .has_mode = true, .file_mode = 0666 },
};

static const struct
{
  const char *target;
  const char *path;
} default_links[] = {
  { "/proc/self/fd", "/dev/fd" },       { "/proc/self/fd/0", "/dev/stdin" },
  { "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
  { "pts/ptmx", "/dev/ptmx" },
};

static mode_t
type_bits (char type)
{
  switch (type)
    {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default:
      return S_IFCHR;
    }
}

static int
bind_host_device (const struct spec_device *d, int rootfs_fd, struct ward_error **err)
{
  cleanup_close int target_fd = fs_create_in_root (rootfs_fd, d->path, false, 0600, err);
  if (target_fd < 0)
    return -1;
  char target[PROC_FD_PATH_MAX];
  if (mount (d->path, fs_proc_fd_path (target_fd, target), NULL, MS_BIND, NULL) < 0)
    return ward_fail (err, errno, "bind device %s", d->path);
  return 0;
}

static int
make_device (const struct spec_device *d, int rootfs_fd, bool in_user_namespace, struct ward_error **err)
{
  if (in_user_namespace)
    return bind_host_device (d, rootfs_fd, err);
  cleanup_free char *parent = strdup (d->path);
  if (parent == NULL)
    return ward_fail (err, ENOMEM, "%s", d->path);
  char *slash = strrchr (parent, '/');
  const char *name = slash + 1;
  *slash = '\0';
  cleanup_close int dir_fd = fs_create_in_root (rootfs_fd, parent[0] ? parent : "/", true, 0755, err);
  if (dir_fd < 0)
    return -1;
  mode_t mode = (d->has_mode ? d->file_mode : 0666) | type_bits (d->type);
  /* A file already there (from the image) is replaced by the device. */
  if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
    return ward_fail (err, errno, "remove %s", d->path);
  if (mknodat (dir_fd, name, mode, makedev (d->major, d->minor)) < 0)
    return ward_fail (err, errno, "mknod %s", d->path);
  if (fchownat (dir_fd, name, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, AT_SYMLINK_NOFOLLOW) < 0)
    return ward_fail (err, errno, "chown %s", d->path);
  return 0;
}

static bool
listed (const struct spec *spec, const char *path)
{
  for (size_t i = 0; i < spec->linux_config.devices_count; i++)
    if (strcmp (spec->linux_config.devices[i].path, path) == 0)
      return true;
  return false;
}

int
devices_create (const struct spec *spec, int rootfs_fd, bool in_user_namespace, struct ward_error **err)
{
  /* A /dev bound from the host already has its devices: leave it alone. */
  if (mounts_spec_binds (spec, "/dev"))
    return 0;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (default_devices); i++)
    if (!listed (spec, default_devices[i].path)
        && make_device (&default_devices[i], rootfs_fd, in_user_namespace, err) < 0)
      return -1;
  for (size_t i = 0; i < spec->linux_config.devices_count; i++)
    if (make_device (&spec->linux_config.devices[i], rootfs_fd, in_user_namespace, err) < 0)
      return ward_error_prefix (err, "config.json: linux.devices[%zu]", i);

  cleanup_close int dev_fd = fs_create_in_root (rootfs_fd, "/dev", true, 0755, err);
  if (dev_fd < 0)
    return -1;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (default_links); i++)
    {
      const char *name = default_links[i].path + strlen ("/dev/");
      /* /dev/ptmx must point into devpts even if the image ships a node. */
      if (strcmp (name, "ptmx") == 0)
        unlinkat (dev_fd, name, 0);
      if (symlinkat (default_links[i].target, dev_fd, name) < 0 && errno != EEXIST)
        return ward_fail (err, errno, "symlink %s", default_links[i].path);
    }
  static const char *const dirs[] = { "pts", "shm" };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (dirs); i++)
    if (mkdirat (dev_fd, dirs[i], 0755) < 0 && errno != EEXIST)
      return ward_fail (err, errno, "mkdir /dev/%s", dirs[i]);
  return 0;
}

static const struct resources_device_rule always_allowed[] = {
  { .allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m" },
  { .allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m" },
  { .allow = true, .type = 'c', .major = 5, .minor = 1, .access = "rwm" },    /* /dev/console */
  { .allow = true, .type = 'c', .major = 5, .minor = 2, .access = "rwm" },    /* /dev/ptmx */
  { .allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rwm" }, /* /dev/pts/N */
};

int
devices_add_cgroup_rules (const struct spec *spec, struct resources *r, struct ward_error **err)
{
  if (!r->has_devices)
    return 0;
  size_t extra = WARD_ARRAY_SIZE (always_allowed) + WARD_ARRAY_SIZE (default_devices)
      + spec->linux_config.devices_count;
  struct resources_device_rule *rules = realloc (r->devices, (r->devices_count + extra) * sizeof *rules);
  if (rules == NULL)
    return ward_fail (err, ENOMEM, "device rules");
  r->devices = rules;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (always_allowed); i++)
    rules[r->devices_count++] = always_allowed[i];
  const struct spec_device *lists[2] = { default_devices, spec->linux_config.devices };
  size_t counts[2] = { WARD_ARRAY_SIZE (default_devices), spec->linux_config.devices_count };
  for (int l = 0; l < 2; l++)
    for (size_t i = 0; i < counts[l]; i++)
      {
        const struct spec_device *d = &lists[l][i];
        if (d->type == 'p')
          continue;
        struct resources_device_rule *rule = &rules[r->devices_count++];
        *rule = (struct resources_device_rule){ .allow = true,
                                                .type = d->type == 'u' ? 'c' : d->type,
                                                .major = d->major,
                                                .minor = d->minor,
                                                .access = "rwm" };
      }
  return 0;
}
