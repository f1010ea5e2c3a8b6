/* Probes of the file system: the read-only root, writes outside the
 * scratch space, /proc and /sys, device nodes, the probe's own binary,
 * descriptors ward let through, the scratch size, and what survives the
 * container. */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* The places outside the scratch space (the policy's tmpfs) a file is
 * tried in; those missing from the rootfs are skipped.  /dev is left out:
 * it is the container's own small tmpfs, writable by design (Landlock gives
 * it write access because devices are opened read-write). */
static const char *const outside_scratch[] = { "/", "/etc", "/run", "/var" };
/* Where persist-write leaves its file: outside and inside the scratch. */
static const char *const persist_dirs[] = { "/", "/etc", "/run", "/tmp", "/home/agent", "/dev/shm" };
#define PERSIST_NAME ".ward-verify-persist"
#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

static void
join_path (char *buf, size_t size, const char *dir, const char *name)
{
  snprintf (buf, size, "%s%s%s", dir, strcmp (dir, "/") == 0 ? "" : "/", name);
}

static void
probe_write_outside_scratch (const char *name, const struct probe_args *args)
{
  (void)args;
  char written[256] = "", refusals[256] = "";
  for (size_t i = 0; i < COUNT (outside_scratch); i++)
    {
      char path[128];
      join_path (path, sizeof path, outside_scratch[i], ".ward-probe-write");
      int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0)
        {
          close (fd);
          unlink (path);
          snprintf (written + strlen (written), sizeof written - strlen (written), " %s", outside_scratch[i]);
        }
      else if (errno != ENOENT)
        snprintf (refusals + strlen (refusals), sizeof refusals - strlen (refusals), " %s:%s",
                  outside_scratch[i], strerrorname_np (errno));
    }
  if (written[0])
    probe_report (name, PROBE_ESCAPED, "created a file in%s", written);
  else
    probe_report (name, PROBE_CONTAINED, "refused in%s", refusals);
}

static void
probe_readonly_root (const char *name, const struct probe_args *args)
{
  (void)args;
  struct statvfs st;
  if (statvfs ("/", &st) < 0)
    probe_report (name, PROBE_ERROR, "statvfs /: %s", strerrorname_np (errno));
  else if (st.f_flag & ST_RDONLY)
    probe_report (name, PROBE_CONTAINED, "/ is mounted read-only");
  else
    probe_report (name, PROBE_ESCAPED, "/ is mounted read-write");
}

/* Opening for writing is the test: nothing is written. */
static void
open_for_writing (const char *name, const char *const *paths, size_t count)
{
  for (size_t i = 0; i < count; i++)
    {
      int fd = open (paths[i], O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          close (fd);
          probe_report (name, PROBE_ESCAPED, "%s opened for writing", paths[i]);
          return;
        }
      if (errno != ENOENT)
        {
          probe_report (name, probe_refused (errno) ? PROBE_CONTAINED : PROBE_ERROR, "%s: %s", paths[i],
                        strerrorname_np (errno));
          return;
        }
    }
  probe_report (name, PROBE_CONTAINED, "none of the files exists (%s, ...)", paths[0]);
}

static void
probe_write_proc_sys (const char *name, const struct probe_args *args)
{
  (void)args;
  /* core_pattern: a pipe there runs a program as root on the host. */
  static const char *const paths[] = { "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe" };
  open_for_writing (name, paths, COUNT (paths));
}

static void
probe_write_sys (const char *name, const struct probe_args *args)
{
  (void)args;
  static const char *const paths[]
      = { "/sys/kernel/uevent_helper", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state",
          "/sys/kernel/profiling" };
  open_for_writing (name, paths, COUNT (paths));
}

static void
probe_mknod (const char *name, const struct probe_args *args)
{
  (void)args;
  const char *path = "/tmp/.ward-probe-sda";
  if (mknod (path, S_IFBLK | 0600, makedev (8, 0)) < 0)
    {
      probe_report (name, probe_refused (errno) ? PROBE_CONTAINED : PROBE_ERROR, "mknod %s (8:0): %s", path,
                    strerrorname_np (errno));
      return;
    }
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  int saved = errno;
  unlink (path);
  if (fd >= 0)
    {
      close (fd);
      probe_report (name, PROBE_ESCAPED, "made and opened block device 8:0");
    }
  else
    probe_report (name, PROBE_CONTAINED, "made 8:0, but opening it failed: %s", strerrorname_np (saved));
}

static void
probe_dev_kmsg (const char *name, const struct probe_args *args)
{
  (void)args;
  int fd = open ("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0)
    {
      close (fd);
      probe_report (name, PROBE_ESCAPED, "/dev/kmsg opened for reading");
    }
  else
    probe_report (name, PROBE_CONTAINED, "/dev/kmsg: %s", strerrorname_np (errno));
}

static void
probe_proc_self_exe (const char *name, const struct probe_args *args)
{
  (void)args;
  /* The runc CVE-2019-5736 path: through it, the runtime's binary. */
  int fd = open ("/proc/self/exe", O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      close (fd);
      probe_report (name, PROBE_ESCAPED, "/proc/self/exe opened for writing");
    }
  else
    probe_report (name, PROBE_CONTAINED, "/proc/self/exe: %s", strerrorname_np (errno));
}

static void
probe_leaked_fd (const char *name, const struct probe_args *args)
{
  (void)args;
  DIR *dir = opendir ("/proc/self/fd");
  if (dir == NULL)
    {
      probe_report (name, PROBE_ERROR, "/proc/self/fd: %s", strerrorname_np (errno));
      return;
    }
  char leaked[400] = "";
  struct dirent *e;
  while ((e = readdir (dir)))
    {
      int fd = atoi (e->d_name);
      if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd (dir))
        continue;
      char link[PATH_MAX], target[160] = "?";
      snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
      ssize_t n = readlink (link, target, sizeof target - 1);
      if (n >= 0)
        target[n] = '\0';
      snprintf (leaked + strlen (leaked), sizeof leaked - strlen (leaked), " %d->%s", fd, target);
    }
  closedir (dir);
  if (leaked[0])
    probe_report (name, PROBE_ESCAPED, "open descriptors:%s", leaked);
  else
    probe_report (name, PROBE_CONTAINED, "only 0, 1 and 2 are open");
}

/* A scratch space this big has no limit worth the name: it is not filled. */
#define FILL_CEILING (4ULL << 30)
#define FILL_PATH "/tmp/.ward-probe-fill"

static int
fill (void *ctx)
{
  (void)ctx;
  int fd = open (FILL_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return 100 + (errno & 0x7f);
  static char chunk[1 << 20];
  memset (chunk, 'w', sizeof chunk);
  for (unsigned long long total = 0; total < FILL_CEILING + (1ULL << 30);)
    {
      ssize_t n = write (fd, chunk, sizeof chunk);
      if (n < 0)
        return errno == ENOSPC || errno == EDQUOT ? 0 : 100 + (errno & 0x7f);
      total += (size_t)n;
    }
  return 1;
}

static void
probe_disk_fill (const char *name, const struct probe_args *args)
{
  (void)args;
  struct statvfs st;
  if (statvfs ("/tmp", &st) < 0)
    {
      probe_report (name, PROBE_ERROR, "statvfs /tmp: %s", strerrorname_np (errno));
      return;
    }
  unsigned long long size = (unsigned long long)st.f_blocks * st.f_frsize;
  if (size > FILL_CEILING)
    {
      probe_report (name, PROBE_ESCAPED, "/tmp holds %llu MiB: no scratch limit", size >> 20);
      return;
    }
  int status = probe_in_child (fill, NULL);
  struct stat written = { 0 };
  stat (FILL_PATH, &written);
  unlink (FILL_PATH);
  if (status < 0)
    probe_report (name, PROBE_ERROR, "fork: %s", strerrorname_np (errno));
  else if (WIFSIGNALED (status))
    probe_report (name, PROBE_CONTAINED, "killed by signal %d after %lld MiB (memory limit)",
                  WTERMSIG (status), (long long)written.st_size >> 20);
  else if (WEXITSTATUS (status) == 0)
    probe_report (name, PROBE_CONTAINED, "ENOSPC after %lld MiB", (long long)written.st_size >> 20);
  else if (WEXITSTATUS (status) == 1)
    probe_report (name, PROBE_ESCAPED, "wrote %lld MiB without ENOSPC", (long long)written.st_size >> 20);
  else if (probe_refused (WEXITSTATUS (status) - 100))
    probe_report (name, PROBE_CONTAINED, "/tmp: %s", strerrorname_np (WEXITSTATUS (status) - 100));
  else
    probe_report (name, PROBE_ERROR, "/tmp: %s", strerrorname_np (WEXITSTATUS (status) - 100));
}

/* Not a probe of its own: the first half of `persist`.  Its line says
 * where the file was written. */
static void
probe_persist_write (const char *name, const struct probe_args *args)
{
  char written[256] = "";
  for (size_t i = 0; i < COUNT (persist_dirs); i++)
    {
      char path[128];
      join_path (path, sizeof path, persist_dirs[i], PERSIST_NAME);
      int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        continue;
      if (write (fd, args->token, strlen (args->token)) == (ssize_t)strlen (args->token))
        snprintf (written + strlen (written), sizeof written - strlen (written), " %s", persist_dirs[i]);
      close (fd);
    }
  if (written[0])
    probe_report (name, PROBE_CONTAINED, "written in%s", written);
  else
    probe_report (name, PROBE_ERROR, "could write the file nowhere");
}

/* The second half, in a new container: any file that is still there with
 * the first container's token outlived it. */
static void
probe_persist (const char *name, const struct probe_args *args)
{
  char found[256] = "";
  for (size_t i = 0; i < COUNT (persist_dirs); i++)
    {
      char path[128], text[128];
      join_path (path, sizeof path, persist_dirs[i], PERSIST_NAME);
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      ssize_t n = read (fd, text, sizeof text - 1);
      close (fd);
      if (n >= 0 && (text[n] = '\0', strcmp (text, args->token) == 0))
        snprintf (found + strlen (found), sizeof found - strlen (found), " %s", persist_dirs[i]);
    }
  if (found[0])
    probe_report (name, PROBE_ESCAPED, "the first container's file survived in%s", found);
  else
    probe_report (name, PROBE_CONTAINED, "nothing of the first container is left");
}

const struct probe probe_fs_table[] = {
  { "readonly-root", probe_readonly_root, true },
  { "write-outside-scratch", probe_write_outside_scratch, true },
  { "write-proc-sys", probe_write_proc_sys, true },
  { "write-sys", probe_write_sys, true },
  { "mknod", probe_mknod, true },
  { "dev-kmsg", probe_dev_kmsg, true },
  { "proc-self-exe", probe_proc_self_exe, true },
  { "leaked-fd", probe_leaked_fd, true },
  { "disk-fill", probe_disk_fill, true },
  { "persist-write", probe_persist_write, false },
  { "persist", probe_persist, false },
  { NULL, NULL, false },
};
