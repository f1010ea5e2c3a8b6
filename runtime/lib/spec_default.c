/* The default config.json: runc's template, field for field and in runc's
 * order, so that people and scripts used to editing `runc spec` output
 * find everything where they expect it.  Only the version, the hostname
 * ("ward") and one more masked path differ.  The mounts are a table with
 * the rootless differences marked on each row. */
#include "config.h"
#include "spec_default.h"
#include "json_writer.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Which variant a mount row belongs to. */
enum mount_variant
{
  BOTH,
  PRIVILEGED_ONLY,
  ROOTLESS_ONLY,
};

struct default_mount
{
  enum mount_variant variant;
  const char *destination;
  const char *type;
  const char *source;
  const char *options[8]; /* NULL-terminated */
};

static const struct default_mount default_mounts[] = {
  { BOTH, "/proc", "proc", "proc", { NULL } },
  { BOTH, "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
  { PRIVILEGED_ONLY,
    "/dev/pts",
    "devpts",
    "devpts",
    { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
  /* gid 5 (tty) is not mapped into a rootless user namespace, and devpts
   * refuses a gid it cannot see. */
  { ROOTLESS_ONLY,
    "/dev/pts",
    "devpts",
    "devpts",
    { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL } },
  { BOTH, "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
  { BOTH, "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
  { PRIVILEGED_ONLY, "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
  /* Without a network namespace of its own a rootless container may not
   * mount a fresh sysfs; it borrows the host's read-only instead. */
  { ROOTLESS_ONLY, "/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro", NULL } },
  { BOTH, "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

static const char *const default_capabilities[]
    = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

static const char *const default_env[]
    = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };

static const char *const masked_paths[] = {
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  /* RAPL energy counters leak what other tenants compute (CVE-2020-8694);
   * Docker masks them by default too. */
  "/sys/devices/virtual/powercap",
  "/proc/scsi",
  NULL,
};

static const char *const readonly_paths[]
    = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };

static void
write_string_array (struct json_writer *w, const char *key, const char *const *items)
{
  jw_key (w, key);
  jw_begin_array (w);
  for (; *items; items++)
    jw_string (w, *items);
  jw_end_array (w);
}

static void
write_process (struct json_writer *w)
{
  static const char *const args[] = { "sh", NULL };
  static const char *const cap_sets[] = { "bounding", "effective", "permitted", "ambient" };

  jw_key (w, "process");
  jw_begin_object (w);
  jw_key_bool (w, "terminal", true);
  jw_key (w, "user");
  jw_begin_object (w);
  jw_key_int (w, "uid", 0);
  jw_key_int (w, "gid", 0);
  jw_end_object (w);
  write_string_array (w, "args", args);
  write_string_array (w, "env", default_env);
  jw_key_string (w, "cwd", "/");
  jw_key (w, "capabilities");
  jw_begin_object (w);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (cap_sets); i++)
    write_string_array (w, cap_sets[i], default_capabilities);
  jw_end_object (w);
  jw_key (w, "rlimits");
  jw_begin_array (w);
  jw_begin_object (w);
  jw_key_string (w, "type", "RLIMIT_NOFILE");
  jw_key_int (w, "hard", 1024);
  jw_key_int (w, "soft", 1024);
  jw_end_object (w);
  jw_end_array (w);
  jw_key_bool (w, "noNewPrivileges", true);
  jw_end_object (w);
}

static void
write_mounts (struct json_writer *w, bool rootless)
{
  enum mount_variant skip = rootless ? PRIVILEGED_ONLY : ROOTLESS_ONLY;
  jw_key (w, "mounts");
  jw_begin_array (w);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (default_mounts); i++)
    {
      const struct default_mount *m = &default_mounts[i];
      if (m->variant == skip)
        continue;
      jw_begin_object (w);
      jw_key_string (w, "destination", m->destination);
      jw_key_string (w, "type", m->type);
      jw_key_string (w, "source", m->source);
      if (m->options[0])
        write_string_array (w, "options", m->options);
      jw_end_object (w);
    }
  jw_end_array (w);
}

/* One mapping of `host_id` to root, as `runc spec --rootless` writes: the
 * caller owns exactly one id and may map nothing else without helpers. */
static void
write_id_mapping (struct json_writer *w, const char *key, unsigned long long host_id)
{
  jw_key (w, key);
  jw_begin_array (w);
  jw_begin_object (w);
  jw_key_int (w, "containerID", 0);
  jw_key (w, "hostID");
  jw_uint (w, host_id);
  jw_key_int (w, "size", 1);
  jw_end_object (w);
  jw_end_array (w);
}

static void
write_namespaces (struct json_writer *w, bool rootless)
{
  /* A rootless caller cannot configure a network namespace's interfaces,
   * so it shares the host's network, as runc's rootless template does. */
  static const char *const privileged[] = { "pid", "network", "ipc", "uts", "mount", NULL };
  static const char *const unprivileged[] = { "pid", "ipc", "uts", "mount", "user", NULL };
  jw_key (w, "namespaces");
  jw_begin_array (w);
  for (const char *const *type = rootless ? unprivileged : privileged; *type; type++)
    {
      jw_begin_object (w);
      jw_key_string (w, "type", *type);
      jw_end_object (w);
    }
  jw_end_array (w);
}

static void
write_linux (struct json_writer *w, bool rootless)
{
  jw_key (w, "linux");
  jw_begin_object (w);
  if (rootless)
    {
      write_id_mapping (w, "uidMappings", geteuid ());
      write_id_mapping (w, "gidMappings", getegid ());
    }
  else
    {
      /* Rootless containers get no cgroup of their own to apply limits
       * in, so only the privileged template denies device access. */
      jw_key (w, "resources");
      jw_begin_object (w);
      jw_key (w, "devices");
      jw_begin_array (w);
      jw_begin_object (w);
      jw_key_bool (w, "allow", false);
      jw_key_string (w, "access", "rwm");
      jw_end_object (w);
      jw_end_array (w);
      jw_end_object (w);
    }
  write_namespaces (w, rootless);
  write_string_array (w, "maskedPaths", masked_paths);
  write_string_array (w, "readonlyPaths", readonly_paths);
  jw_end_object (w);
}

int
spec_default_render (bool rootless, char **out, struct ward_error **err)
{
  struct json_writer *w = jw_new (true);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "render default config.json");

  jw_begin_object (w);
  jw_key_string (w, "ociVersion", WARD_OCI_VERSION);
  write_process (w);
  jw_key (w, "root");
  jw_begin_object (w);
  jw_key_string (w, "path", "rootfs");
  jw_key_bool (w, "readonly", true);
  jw_end_object (w);
  jw_key_string (w, "hostname", "ward");
  write_mounts (w, rootless);
  write_linux (w, rootless);
  jw_end_object (w);

  size_t length = 0;
  const char *text = jw_text (w, &length);
  char *copy = text ? strndup (text, length) : NULL;
  jw_free (w);
  if (copy == NULL)
    return ward_fail (err, text ? ENOMEM : 0, "render default config.json");
  *out = copy;
  return 0;
}

int
spec_default_write (const char *bundle, bool rootless, struct ward_error **err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *path = NULL;
  if (spec_default_render (rootless, &text, err) < 0)
    return -1;
  if (asprintf (&path, "%s/config.json", bundle) < 0)
    {
      path = NULL;
      return ward_fail (err, ENOMEM, "write %s/config.json", bundle);
    }

  /* O_EXCL rather than a stat() first: a config written between the check
   * and the open must not be overwritten either.  0666 and the caller's
   * umask decide the mode, as runc does. */
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST)
    return ward_fail (err, 0, "config.json already exists in %s; remove it first", bundle);
  if (fd < 0)
    return ward_fail (err, errno, "open %s", path);
  /* A half-written file would make the next attempt fail with "already
   * exists", so a failed write removes what it created. */
  int written = steal_fd (&fd);
  int failure = fs_write_all (written, text, strlen (text)) < 0 ? errno : 0;
  if (close (written) < 0 && failure == 0)
    failure = errno;
  if (failure != 0)
    {
      unlink (path);
      return ward_fail (err, failure, "write %s", path);
    }
  return 0;
}
