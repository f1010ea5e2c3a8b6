#include "config.h"
#include "rootfs.h"
#include "cleanup.h"
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
propagation_flags (const char *name, unsigned long *out, struct ward_error **err)
{
  static const struct
  {
    const char *name;
    unsigned long flags;
  } table[] = {
    { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
    { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
    { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
    { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
  };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (table); i++)
    if (strcmp (name, table[i].name) == 0)
      {
        *out = table[i].flags;
        return 0;
      }
  return ward_fail (err, 0, "config.json: linux.rootfsPropagation: unknown propagation \"%s\"", name);
}

/* pivot_root(2) refuses a new root whose parent mount is shared, which it
 * is when linux.rootfsPropagation asks for "shared": make just that parent
 * mount private in our namespace. */
static int
make_parent_mount_private (const char *rootfs, struct ward_error **err)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (f == NULL)
    return ward_fail (err, errno, "open /proc/self/mountinfo");
  char *line = NULL, best[4096] = "/";
  size_t size = 0, best_length = 1;
  cleanup_free char *parent = strdup (rootfs);
  if (parent == NULL)
    return ward_fail (err, ENOMEM, "rootfs");
  char *slash = strrchr (parent, '/');
  if (slash && slash != parent)
    *slash = '\0';
  size_t parent_length = strlen (parent);
  while (getline (&line, &size, f) > 0)
    {
      char mount_point[4096];
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mount_point) != 1)
        continue;
      size_t n = strlen (mount_point);
      bool contains
          = strncmp (parent, mount_point, n) == 0 && (parent[n] == '/' || parent[n] == '\0' || n == 1);
      if (contains && n >= best_length && n <= parent_length)
        {
          snprintf (best, sizeof best, "%s", mount_point);
          best_length = n;
        }
    }
  free (line);
  if (mount (NULL, best, NULL, MS_PRIVATE, NULL) < 0)
    return ward_fail (err, errno, "make %s private", best);
  return 0;
}

int
rootfs_prepare (const struct spec *spec, const char *rootfs, struct ward_error **err)
{
  /* Nothing mounted from here on may propagate back to the host. */
  unsigned long flags = MS_SLAVE | MS_REC;
  if (spec->linux_config.rootfs_propagation
      && propagation_flags (spec->linux_config.rootfs_propagation, &flags, err) < 0)
    return -1;
  /* An unbindable tree cannot be bound onto the rootfs: cut propagation
   * now, and make "/" unbindable once inside (rootfs_finalize). */
  if (flags & MS_UNBINDABLE)
    flags = MS_SLAVE | MS_REC;
  if (mount (NULL, "/", NULL, flags | MS_REC, NULL) < 0)
    return ward_fail (err, errno, "set propagation of / to %s",
                      spec->linux_config.rootfs_propagation ? spec->linux_config.rootfs_propagation
                                                            : "rslave");
  if ((flags & MS_SHARED) && make_parent_mount_private (rootfs, err) < 0)
    return -1;
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ward_fail (err, errno, "bind rootfs %s", rootfs);
  int fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "open rootfs %s", rootfs);
  return fd;
}

int
rootfs_enter (const char *rootfs, bool no_pivot, struct ward_error **err)
{
  if (chdir (rootfs) < 0)
    return ward_fail (err, errno, "chdir %s", rootfs);
  if (no_pivot)
    {
      if (mount (rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return ward_fail (err, errno, "move rootfs %s to /", rootfs);
      if (chroot (".") < 0)
        return ward_fail (err, errno, "chroot %s", rootfs);
    }
  else
    {
      /* pivot_root(".", ".") stacks the old root on top of the new one;
       * unmounting "." then removes it without needing a directory for it. */
      if (syscall (SYS_pivot_root, ".", ".") < 0)
        return ward_fail (err, errno, "pivot_root %s", rootfs);
      /* The old root may be shared with the host: keep our unmount to
       * ourselves. */
      if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return ward_fail (err, errno, "make the old root a slave");
      if (umount2 (".", MNT_DETACH) < 0)
        return ward_fail (err, errno, "unmount the old root");
    }
  if (chdir ("/") < 0)
    return ward_fail (err, errno, "chdir /");
  return 0;
}

int
rootfs_finalize (const struct spec *spec, struct ward_error **err)
{
  if (spec->root_readonly && mounts_remount_bind ("/", MS_RDONLY, err) < 0)
    return ward_error_prefix (err, "config.json: root.readonly");
  if (spec->linux_config.rootfs_propagation)
    {
      unsigned long flags;
      if (propagation_flags (spec->linux_config.rootfs_propagation, &flags, err) < 0)
        return -1;
      if (mount (NULL, "/", NULL, flags, NULL) < 0)
        return ward_fail (err, errno, "set propagation of the container's / to %s",
                          spec->linux_config.rootfs_propagation);
    }
  return 0;
}
