#include "config.h"
#include "fs.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *
fs_proc_fd_path (int fd, char buf[PROC_FD_PATH_MAX])
{
  snprintf (buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

static int
read_all (int fd, const char *name, char **out, size_t *length, struct ward_error **err)
{
  size_t capacity = 4096, used = 0;
  cleanup_free char *buffer = malloc (capacity);
  if (buffer == NULL)
    return ward_fail (err, ENOMEM, "read %s", name);
  for (;;)
    {
      if (used + 1 >= capacity)
        {
          char *bigger = realloc (buffer, capacity * 2);
          if (bigger == NULL)
            return ward_fail (err, ENOMEM, "read %s", name);
          buffer = bigger;
          capacity *= 2;
        }
      ssize_t n = read (fd, buffer + used, capacity - used - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ward_fail (err, errno, "read %s", name);
      if (n == 0)
        break;
      used += n;
    }
  buffer[used] = '\0';
  if (length)
    *length = used;
  *out = steal_pointer (&buffer);
  return 0;
}

int
fs_read_file (const char *path, char **out, size_t *length, struct ward_error **err)
{
  return fs_read_file_at (AT_FDCWD, path, out, length, err);
}

int
fs_read_file_at (int dirfd, const char *name, char **out, size_t *length, struct ward_error **err)
{
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "open %s", name);
  return read_all (fd, name, out, length, err);
}

int
fs_write_all (int fd, const void *data, size_t length)
{
  const char *p = data;
  while (length > 0)
    {
      ssize_t n = write (fd, p, length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      length -= n;
    }
  return 0;
}

static int
write_all (int fd, const char *name, const char *data, size_t length, struct ward_error **err)
{
  if (fs_write_all (fd, data, length) < 0)
    return ward_fail (err, errno, "write %s", name);
  return 0;
}

int
fs_write_file (const char *path, const char *data, size_t length, struct ward_error **err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "open %s", path);
  return write_all (fd, path, data, length, err);
}

int
fs_write_file_atomic (int dirfd, const char *name, const char *data, size_t length, mode_t mode,
                      struct ward_error **err)
{
  char temporary[4096];
  const char *slash = strrchr (name, '/');
  if (slash)
    snprintf (temporary, sizeof temporary, "%.*s/.%s.%d.tmp", (int)(slash - name), name, slash + 1,
              getpid ());
  else
    snprintf (temporary, sizeof temporary, ".%s.%d.tmp", name, getpid ());
  cleanup_close int fd = openat (dirfd, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return ward_fail (err, errno, "create %s", temporary);
  if (write_all (fd, name, data, length, err) < 0 || fchmod (fd, mode) < 0)
    {
      if (err && *err == NULL)
        ward_fail (err, errno, "chmod %s", temporary);
      unlinkat (dirfd, temporary, 0);
      return -1;
    }
  if (renameat (dirfd, temporary, dirfd, name) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, temporary, 0);
      return ward_fail (err, saved, "rename %s to %s", temporary, name);
    }
  return 0;
}

int
fs_mkdir_all (const char *path, mode_t mode, struct ward_error **err)
{
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "mkdir %s", path);
  for (char *p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return ward_fail (err, errno, "mkdir %s", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return ward_fail (err, errno, "mkdir %s", copy);
  return 0;
}

int
fs_remove_tree_at (int parent_fd, const char *name, struct ward_error **err)
{
  if (unlinkat (parent_fd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return ward_fail (err, errno, "remove %s", name);
  int fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : ward_fail (err, errno, "open %s", name);
  cleanup_closedir DIR *dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return ward_fail (err, errno, "opendir %s", name);
    }
  struct dirent *entry;
  while ((entry = readdir (dir)) != NULL)
    {
      if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
        continue;
      if (fs_remove_tree_at (dirfd (dir), entry->d_name, err) < 0)
        return ward_error_prefix (err, "remove %s", name);
    }
  if (unlinkat (parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ward_fail (err, errno, "rmdir %s", name);
  return 0;
}

static int
openat2_resolving (int root_fd, const char *path, int flags, uint64_t resolve)
{
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .resolve = resolve,
  };
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  long fd;
  do
    fd = syscall (SYS_openat2, root_fd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return (int)fd;
}

static int
openat2_in_root (int root_fd, const char *path, int flags)
{
  return openat2_resolving (root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int
fs_open_in_root_no_symlinks (int root_fd, const char *path, int flags)
{
  return openat2_resolving (root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
}

int
fs_open_in_root (int root_fd, const char *path, int flags, struct ward_error **err)
{
  int fd = openat2_in_root (root_fd, path, flags);
  if (fd < 0)
    return ward_fail (err, errno, "open %s in the container's rootfs", path);
  return fd;
}

int
fs_create_in_root (int root_fd, const char *path, bool directory, mode_t mode, struct ward_error **err)
{
  int fd = openat2_in_root (root_fd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT)
    {
      if (fd < 0)
        return ward_fail (err, errno, "open %s in the container's rootfs", path);
      return fd;
    }

  /* Walk down from the deepest existing ancestor, creating each missing
   * component relative to an fd we already trust; never by full path. */
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  size_t length = strlen (copy);
  while (length > 1 && copy[length - 1] == '/')
    copy[--length] = '\0';

  cleanup_close int parent_fd = -1;
  char *rest = NULL;
  for (char *slash = strrchr (copy, '/'); slash; slash = strrchr (copy, '/'))
    {
      *slash = '\0';
      if (rest)
        rest[-1] = '/';
      rest = slash + 1;
      parent_fd = openat2_in_root (root_fd, copy[0] ? copy : "/", O_PATH | O_DIRECTORY);
      if (parent_fd >= 0)
        break;
      if (errno != ENOENT)
        return ward_fail (err, errno, "open %s in the container's rootfs", copy[0] ? copy : "/");
    }
  if (parent_fd < 0 || rest == NULL)
    return ward_fail (err, ENOENT, "open %s in the container's rootfs", path);

  for (char *component = rest; component && *component;)
    {
      char *next = strchr (component, '/');
      if (next)
        *next++ = '\0';
      bool last = next == NULL || *next == '\0';
      if (*component == '\0' || strcmp (component, ".") == 0)
        {
          component = next;
          continue;
        }
      if (strcmp (component, "..") == 0)
        return ward_fail (err, EINVAL,
                          "create %s in the container's rootfs: \"..\" after a missing directory", path);
      int made;
      if (last && !directory)
        {
          made = openat (parent_fd, component, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
          if (made >= 0)
            close (made);
        }
      else
        made = mkdirat (parent_fd, component, last ? mode : 0755);
      if (made < 0 && errno != EEXIST)
        return ward_fail (err, errno, "create %s in the container's rootfs", path);
      int child = openat2_in_root (parent_fd, component, O_PATH | (last ? 0 : O_DIRECTORY));
      if (child < 0)
        return ward_fail (err, errno, "open %s in the container's rootfs", path);
      close (parent_fd);
      parent_fd = child;
      component = next;
    }
  return steal_fd (&parent_fd);
}
