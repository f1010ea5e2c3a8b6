/* verify's bundle: see verify_bundle.h. */
#define _GNU_SOURCE
#include "config.h"
#include "verify_bundle.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "json_writer.h"

/* The rootfs's directories: mount points, and the policies' scratch. */
static const char *const rootfs_dirs[]
    = { "proc", "sys", "dev", "etc", "tmp", "run", "home", "home/agent", "var" };

static int
copy_file (const char *from, const char *to, mode_t mode, struct ward_error **err)
{
  cleanup_free char *data = NULL;
  size_t length;
  if (fs_read_file (from, &data, &length, err) < 0)
    return -1;
  cleanup_close int fd = open (to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0 || fs_write_all (fd, data, length) < 0)
    return ward_fail (err, errno, "write %s", to);
  return 0;
}

int
verify_bundle_make (const char *probe, struct verify_bundle *out, struct ward_error **err)
{
  *out = (struct verify_bundle){ 0 };
  const char *tmp = getenv ("TMPDIR");
  if (asprintf (&out->dir, "%s/ward-verify.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
    return ward_fail (err, ENOMEM, "temporary directory name");
  if (mkdtemp (out->dir) == NULL)
    {
      int saved = errno;
      free (out->dir);
      out->dir = NULL;
      return ward_fail (err, saved, "make a temporary directory in %s", tmp && *tmp ? tmp : "/tmp");
    }
  if (asprintf (&out->bundle, "%s/bundle", out->dir) < 0 || asprintf (&out->root, "%s/state", out->dir) < 0)
    return ward_fail (err, ENOMEM, "bundle path");
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/rootfs", out->bundle);
  if (fs_mkdir_all (path, 0755, err) < 0)
    return -1;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (rootfs_dirs); i++)
    {
      snprintf (path, sizeof path, "%s/rootfs/%s", out->bundle, rootfs_dirs[i]);
      if (mkdir (path, strcmp (rootfs_dirs[i], "tmp") == 0 ? 01777 : 0755) < 0)
        return ward_fail (err, errno, "mkdir %s", path);
    }
  snprintf (path, sizeof path, "%s/rootfs/ward-probe", out->bundle);
  if (copy_file (probe, path, 0755, err) < 0)
    return ward_error_prefix (err, "copy the probe %s", probe);
  /* The names the probe looks up go where the host's would, as an engine
   * copies the host's resolv.conf (ward's DNS proxy answers them anyway). */
  snprintf (path, sizeof path, "%s/rootfs/etc/resolv.conf", out->bundle);
  struct ward_error *ignored = NULL;
  if (copy_file ("/etc/resolv.conf", path, 0644, &ignored) < 0)
    ward_error_free (&ignored);
  return 0;
}

/* Every capability libcap names on this kernel. */
static void
write_every_capability (struct json_writer *w)
{
  jw_begin_array (w);
  for (cap_value_t cap = 0; cap < (cap_value_t)cap_max_bits (); cap++)
    {
      char *name = cap_to_name (cap);
      if (name && strncmp (name, "cap_", 4) == 0)
        {
          for (char *p = name; *p; p++)
            *p = (char)toupper ((unsigned char)*p);
          jw_string (w, name);
        }
      cap_free (name);
    }
  jw_end_array (w);
}

static void
write_mount (struct json_writer *w, const char *destination, const char *type, const char *const *options)
{
  jw_begin_object (w);
  jw_key_string (w, "destination", destination);
  jw_key_string (w, "type", type);
  jw_key_string (w, "source", type);
  jw_key (w, "options");
  jw_begin_array (w);
  for (; *options; options++)
    jw_string (w, *options);
  jw_end_array (w);
  jw_end_object (w);
}

static void
write_mounts (struct json_writer *w)
{
  static const char *const none[] = { NULL };
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL };
  static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  jw_key (w, "mounts");
  jw_begin_array (w);
  write_mount (w, "/proc", "proc", none);
  write_mount (w, "/dev", "tmpfs", dev);
  write_mount (w, "/dev/pts", "devpts", pts);
  write_mount (w, "/dev/shm", "tmpfs", shm);
  write_mount (w, "/sys", "sysfs", sys);
  write_mount (w, "/sys/fs/cgroup", "cgroup", sys);
  jw_end_array (w);
}

static void
write_process (struct json_writer *w, char *const *args)
{
  jw_key (w, "process");
  jw_begin_object (w);
  jw_key_bool (w, "terminal", false);
  jw_key (w, "user");
  jw_begin_object (w);
  jw_key_int (w, "uid", 0);
  jw_key_int (w, "gid", 0);
  jw_end_object (w);
  jw_key (w, "args");
  jw_begin_array (w);
  for (; *args; args++)
    jw_string (w, *args);
  jw_end_array (w);
  jw_key (w, "env");
  jw_begin_array (w);
  jw_string (w, "PATH=/");
  jw_end_array (w);
  jw_key_string (w, "cwd", "/");
  jw_key (w, "capabilities");
  jw_begin_object (w);
  static const char *const sets[] = { "bounding", "effective", "permitted" };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (sets); i++)
    {
      jw_key (w, sets[i]);
      write_every_capability (w);
    }
  jw_end_object (w);
  jw_key_bool (w, "noNewPrivileges", false);
  jw_end_object (w);
}

static void
write_linux (struct json_writer *w, const char *netns)
{
  static const char *const kinds[] = { "pid", "ipc", "uts", "mount", "cgroup", "network" };
  jw_key (w, "linux");
  jw_begin_object (w);
  jw_key (w, "namespaces");
  jw_begin_array (w);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (kinds); i++)
    {
      jw_begin_object (w);
      jw_key_string (w, "type", kinds[i]);
      if (strcmp (kinds[i], "network") == 0 && netns)
        jw_key_string (w, "path", netns);
      jw_end_object (w);
    }
  jw_end_array (w);
  jw_end_object (w);
}

int
verify_bundle_write_config (const struct verify_bundle *b, const struct verify_container *c,
                            struct ward_error **err)
{
  struct json_writer *w = jw_new (true);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "config.json");
  jw_begin_object (w);
  jw_key_string (w, "ociVersion", "1.0.2");
  write_process (w, c->args);
  jw_key (w, "root");
  jw_begin_object (w);
  jw_key_string (w, "path", "rootfs");
  jw_key_bool (w, "readonly", false);
  jw_end_object (w);
  jw_key_string (w, "hostname", "ward-verify");
  write_mounts (w);
  jw_key (w, "annotations");
  jw_begin_object (w);
  for (const char *const *a = c->annotations; *a; a++)
    {
      const char *eq = strchr (*a, '=');
      cleanup_free char *key = strndup (*a, eq ? (size_t)(eq - *a) : strlen (*a));
      jw_key_string (w, key, eq ? eq + 1 : "");
    }
  jw_end_object (w);
  write_linux (w, c->netns);
  jw_end_object (w);
  size_t length;
  const char *text = jw_text (w, &length);
  int ret = text ? 0 : ward_fail (err, ENOMEM, "config.json");
  cleanup_close int dir = text ? open (b->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (text && dir < 0)
    ret = ward_fail (err, errno, "open %s", b->bundle);
  else if (text)
    ret = fs_write_file_atomic (dir, "config.json", text, length, 0644, err);
  jw_free (w);
  return ret;
}

void
verify_bundle_remove (struct verify_bundle *b)
{
  if (b->dir)
    {
      struct ward_error *ignored = NULL;
      if (fs_remove_tree_at (AT_FDCWD, b->dir, &ignored) < 0)
        ward_error_free (&ignored);
    }
  free (b->dir);
  free (b->bundle);
  free (b->root);
  *b = (struct verify_bundle){ 0 };
}
