#include "config.h"
#include "mounts.h"
#include "cleanup.h"
#include "cgroup.h"
#include "fs.h"
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct option_flag
{
  const char *name;
  bool clear; /* the option removes the flag ("rw", "suid") */
  unsigned long flag;
};

static const struct option_flag option_flags[] = {
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "nosuid", false, MS_NOSUID },
  { "suid", true, MS_NOSUID },
  { "nodev", false, MS_NODEV },
  { "dev", true, MS_NODEV },
  { "noexec", false, MS_NOEXEC },
  { "exec", true, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "remount", false, MS_REMOUNT },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "noatime", false, MS_NOATIME },
  { "atime", true, MS_NOATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "diratime", true, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "lazytime", false, MS_LAZYTIME },
  { "nolazytime", true, MS_LAZYTIME },
  { "silent", false, MS_SILENT },
  { "loud", true, MS_SILENT },
};

static const struct option_flag propagation_flags[] = {
  { "private", false, MS_PRIVATE },       { "rprivate", false, MS_PRIVATE | MS_REC },
  { "shared", false, MS_SHARED },         { "rshared", false, MS_SHARED | MS_REC },
  { "slave", false, MS_SLAVE },           { "rslave", false, MS_SLAVE | MS_REC },
  { "unbindable", false, MS_UNBINDABLE }, { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

/* Options other runtimes understand that ward does not act on; accepted so
 * that configs written for them still run. */
static const char *const ignored_options[] = { "tmpcopyup", "notmpcopyup", "copy-symlink", "rrw" };

static int
append_data (char **data, const char *option)
{
  char *joined = NULL;
  if (*data == NULL)
    joined = strdup (option);
  else if (asprintf (&joined, "%s,%s", *data, option) < 0)
    joined = NULL;
  if (joined == NULL)
    return -1;
  free (*data);
  *data = joined;
  return 0;
}

int
mount_options_parse (char *const *options, size_t count, struct mount_options *out, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  for (size_t i = 0; i < count; i++)
    {
      const char *option = options[i];
      bool known = false;
      if (strcmp (option, "rro") == 0)
        {
          out->recursive_readonly = true;
          continue;
        }
      if (strcmp (option, "bind") == 0 || strcmp (option, "rbind") == 0)
        {
          out->bind = true;
          out->recursive_bind = out->recursive_bind || option[0] == 'r';
          continue;
        }
      for (size_t k = 0; k < WARD_ARRAY_SIZE (option_flags) && !known; k++)
        if (strcmp (option, option_flags[k].name) == 0)
          {
            known = true;
            if (option_flags[k].clear)
              out->flags &= ~option_flags[k].flag;
            else
              out->flags |= option_flags[k].flag;
          }
      for (size_t k = 0; k < WARD_ARRAY_SIZE (propagation_flags) && !known; k++)
        if (strcmp (option, propagation_flags[k].name) == 0)
          {
            known = true;
            out->propagation = propagation_flags[k].flag;
          }
      for (size_t k = 0; k < WARD_ARRAY_SIZE (ignored_options) && !known; k++)
        known = strcmp (option, ignored_options[k]) == 0;
      if (strcmp (option, "idmap") == 0 || strcmp (option, "ridmap") == 0)
        return ward_fail (err, 0, "mount option \"%s\" is not supported", option);
      if (!known && append_data (&out->data, option) < 0)
        {
          mount_options_clear (out);
          return ward_fail (err, ENOMEM, "mount options");
        }
    }
  return 0;
}

void
mount_options_each_name (void (*visit) (const char *name, void *ctx), void *ctx)
{
  visit ("bind", ctx);
  visit ("rbind", ctx);
  visit ("rro", ctx);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (option_flags); i++)
    visit (option_flags[i].name, ctx);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (propagation_flags); i++)
    visit (propagation_flags[i].name, ctx);
}

void
mount_options_clear (struct mount_options *options)
{
  free (options->data);
  options->data = NULL;
}

bool
mounts_spec_binds (const struct spec *spec, const char *destination)
{
  for (size_t i = 0; i < spec->mounts_count; i++)
    {
      const struct spec_mount *m = &spec->mounts[i];
      if (strcmp (m->destination, destination) != 0)
        continue;
      if (m->type && strcmp (m->type, "bind") == 0)
        return true;
      for (size_t k = 0; k < m->options_count; k++)
        if (strcmp (m->options[k], "bind") == 0 || strcmp (m->options[k], "rbind") == 0)
          return true;
    }
  return false;
}

/* The per-mount flags `target` has now, as MS_* flags. */
static unsigned long
locked_flags_of (const char *target)
{
  struct statvfs sv;
  if (statvfs (target, &sv) < 0)
    return 0;
  unsigned long flags = 0;
  static const struct
  {
    unsigned long st, ms;
  } map[] = {
    { ST_NOSUID, MS_NOSUID },   { ST_NODEV, MS_NODEV },           { ST_NOEXEC, MS_NOEXEC },
    { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
    { ST_RDONLY, MS_RDONLY },
  };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (map); i++)
    if (sv.f_flag & map[i].st)
      flags |= map[i].ms;
  return flags;
}

int
mounts_remount_bind (const char *target, unsigned long flags, struct ward_error **err)
{
  /* A bind remount sets the mount's flags to exactly what it is given, so
   * repeat the ones it already has (nosuid, nodev, ... some of them locked
   * by the kernel when the mount came from a more privileged namespace). */
  unsigned long keep = locked_flags_of (target) & ~MS_RDONLY;
  if (mount (NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | keep, NULL) < 0)
    return ward_fail (err, errno, "remount %s", target);
  return 0;
}

static bool
source_is_directory (const char *source)
{
  struct stat st;
  return stat (source, &st) < 0 || S_ISDIR (st.st_mode);
}

struct cgroup_mounting
{
  int dir_fd;
  const char *destination;
  bool own_namespace;
  unsigned long flags;
};

static int
mount_one_hierarchy (const struct cgroup_mount *m, void *ctx, struct ward_error **err)
{
  const struct cgroup_mounting *c = ctx;
  if (mkdirat (c->dir_fd, m->name, 0755) < 0 && errno != EEXIST)
    return ward_fail (err, errno, "mkdir %s/%s", c->destination, m->name);
  char sub[PROC_FD_PATH_MAX + 4096];
  snprintf (sub, sizeof sub, "/proc/self/fd/%d/%s", c->dir_fd, m->name);
  if (c->own_namespace)
    {
      if (mount ("cgroup", sub, m->unified ? "cgroup2" : "cgroup", c->flags, m->unified ? NULL : m->key) < 0)
        return ward_fail (err, errno, "mount cgroup %s on %s/%s", m->name, c->destination, m->name);
      return 0;
    }
  /* Without a cgroup namespace a fresh mount would show the whole host
   * hierarchy: show the container's own cgroup only. */
  cleanup_free char *own = cgroup_self_path (m->key);
  char source[8192];
  snprintf (source, sizeof source, "%s%s", m->mount_point, own ? own : "/");
  if (mount (source, sub, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ward_fail (err, errno, "bind cgroup %s on %s/%s", source, c->destination, m->name);
  return mounts_remount_bind (sub, c->flags, err);
}

/* On v1 and hybrid hosts a "cgroup" mount is a tmpfs holding one mount per
 * hierarchy; in a new cgroup namespace each shows the container's own
 * cgroup as its root.  On a pure v2 host it is a single cgroup2 mount. */
static int
mount_cgroup (int rootfs_fd, int target_fd, const char *destination, bool own_namespace,
              const struct mount_options *o, struct ward_error **err)
{
  char target[PROC_FD_PATH_MAX];
  fs_proc_fd_path (target_fd, target);
  bool unified_only = access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  unsigned long flags = (o->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC) & ~MS_RDONLY;
  if (unified_only)
    {
      if (mount ("cgroup2", target, "cgroup2", o->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return ward_fail (err, errno, "mount cgroup2 on %s", destination);
      return 0;
    }
  if (mount ("tmpfs", target, "tmpfs", flags, "mode=755") < 0)
    return ward_fail (err, errno, "mount tmpfs on %s", destination);
  /* target_fd names the directory under the new tmpfs: reopen. */
  cleanup_close int dir_fd = fs_open_in_root (rootfs_fd, destination, O_RDONLY | O_DIRECTORY, err);
  if (dir_fd < 0)
    return -1;
  struct cgroup_mounting c = {
    .dir_fd = dir_fd,
    .destination = destination,
    .own_namespace = own_namespace,
    .flags = o->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC,
  };
  int ret = cgroup_each_mount (mount_one_hierarchy, &c, err);
  if (ret == 0 && (o->flags & MS_RDONLY))
    {
      char top[PROC_FD_PATH_MAX];
      ret = mounts_remount_bind (fs_proc_fd_path (dir_fd, top), flags | MS_RDONLY, err);
    }
  return ret;
}

/* "rro": read-only all the way down, submounts of an rbind included,
 * which a remount (one mount at a time) cannot do. */
static int
make_recursively_readonly (int rootfs_fd, const char *destination, struct ward_error **err)
{
  cleanup_close int fd = fs_open_in_root (rootfs_fd, destination, O_PATH, err);
  if (fd < 0)
    return -1;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  if (syscall (SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    return ward_fail (err, errno, "make %s read-only recursively", destination);
  return 0;
}

/* proc and sysfs are how the kernel is seen and configured from inside;
 * mounting them anywhere but a real directory of the rootfs would let an
 * image redirect writes meant for /proc (CVE-2019-16884). */
static bool
is_kernel_view (const char *type)
{
  return strcmp (type, "proc") == 0 || strcmp (type, "sysfs") == 0;
}

static int
check_kernel_view_target (int rootfs_fd, const char *destination, struct ward_error **err)
{
  cleanup_close int fd = fs_open_in_root_no_symlinks (rootfs_fd, destination, O_PATH | O_DIRECTORY);
  if (fd < 0 && errno == ELOOP)
    return ward_fail (err, 0, "mount on %s: the destination must be a directory of the rootfs, not a symlink",
                      destination);
  return 0;
}

static int
check_kernel_view_mounted (int rootfs_fd, const char *destination, const char *type, struct ward_error **err)
{
  cleanup_close int fd = fs_open_in_root (rootfs_fd, destination, O_PATH | O_DIRECTORY, err);
  struct statfs sf;
  if (fd < 0)
    return -1;
  if (fstatfs (fd, &sf) < 0)
    return ward_fail (err, errno, "statfs %s", destination);
  unsigned long expected = strcmp (type, "proc") == 0 ? PROC_SUPER_MAGIC : SYSFS_MAGIC;
  if ((unsigned long)sf.f_type != expected)
    return ward_fail (err, 0, "mount %s on %s: what is mounted there is not %s", type, destination, type);
  return 0;
}

static int
apply_one (const struct spec *spec, const struct spec_mount *m, int rootfs_fd, const char *bundle,
           struct ward_error **err)
{
  struct mount_options o;
  const char *type = m->type;
  if (mount_options_parse (m->options, m->options_count, &o, err) < 0)
    return -1;
  bool bind = o.bind || (type && strcmp (type, "bind") == 0);
  int ret = -1;
  cleanup_free char *source = NULL;
  cleanup_close int target_fd = -1;
  if (m->source && bind && m->source[0] != '/')
    {
      if (asprintf (&source, "%s/%s", bundle, m->source) < 0)
        source = NULL;
    }
  else
    source = strdup (m->source ? m->source : (type ? type : "none"));
  if (source == NULL)
    {
      ward_fail (err, ENOMEM, "mount %s", m->destination);
      goto out;
    }
  if (bind && access (source, F_OK) < 0)
    {
      ward_fail (err, errno, "mount %s on %s: source", source, m->destination);
      goto out;
    }

  target_fd = fs_create_in_root (rootfs_fd, m->destination, !bind || source_is_directory (source), 0755, err);
  if (target_fd < 0)
    goto out;
  char target[PROC_FD_PATH_MAX];
  fs_proc_fd_path (target_fd, target);

  if (type && is_kernel_view (type) && check_kernel_view_target (rootfs_fd, m->destination, err) < 0)
    goto out;
  if (type && strcmp (type, "cgroup") == 0)
    ret = mount_cgroup (rootfs_fd, target_fd, m->destination,
                        spec->linux_config.namespaces[NS_CGROUP].requested, &o, err);
  else if (bind)
    {
      unsigned long flags = MS_BIND | (o.recursive_bind ? MS_REC : 0);
      if (mount (source, target, NULL, flags, NULL) < 0)
        {
          ward_fail (err, errno, "bind mount %s on %s", source, m->destination);
          goto out;
        }
      /* The fd still names the directory underneath; reopen to reach the
       * new mount before changing its flags. */
      ret = 0;
      unsigned long extra = o.flags & ~MS_REMOUNT;
      if (extra)
        {
          cleanup_close int mounted_fd = fs_open_in_root (rootfs_fd, m->destination, O_PATH, err);
          char mounted[PROC_FD_PATH_MAX];
          ret = mounted_fd < 0 ? -1 : mounts_remount_bind (fs_proc_fd_path (mounted_fd, mounted), extra, err);
          if (ret < 0)
            ward_error_prefix (err, "mount %s", m->destination);
        }
      if (ret == 0 && o.recursive_readonly)
        ret = make_recursively_readonly (rootfs_fd, m->destination, err);
    }
  else
    {
      cleanup_free char *data = NULL;
      if (lsm_mount_data (spec, type, o.data, &data, err) < 0)
        goto out;
      ret = mount (source, target, type, o.flags, data);
      if (ret < 0)
        ward_fail (err, errno, "mount %s (%s) on %s", source, type ? type : "none", m->destination);
    }

  if (ret == 0 && type && is_kernel_view (type))
    ret = check_kernel_view_mounted (rootfs_fd, m->destination, type, err);
  if (ret == 0 && o.propagation)
    {
      cleanup_close int mounted_fd = fs_open_in_root (rootfs_fd, m->destination, O_PATH, err);
      char mounted[PROC_FD_PATH_MAX];
      if (mounted_fd < 0)
        ret = -1;
      else if (mount (NULL, fs_proc_fd_path (mounted_fd, mounted), NULL, o.propagation, NULL) < 0)
        ret = ward_fail (err, errno, "set propagation of %s", m->destination);
    }
out:
  mount_options_clear (&o);
  return ret;
}

int
mounts_apply (const struct spec *spec, int rootfs_fd, const char *bundle, struct ward_error **err)
{
  for (size_t i = 0; i < spec->mounts_count; i++)
    if (apply_one (spec, &spec->mounts[i], rootfs_fd, bundle, err) < 0)
      return -1;
  return 0;
}
