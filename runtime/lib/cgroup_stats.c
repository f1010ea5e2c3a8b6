#include "config.h"
#include "cgroup_stats.h"
#include "cleanup.h"
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *
read_in (const char *dir, const char *file)
{
  char path[4096];
  char *text = NULL;
  if (dir == NULL)
    return NULL;
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (fs_read_file (path, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

/* A single number; "max" (v2 for no limit) and absent files read as 0. */
static uint64_t
number_in (const char *dir, const char *file)
{
  cleanup_free char *text = read_in (dir, file);
  return text ? strtoull (text, NULL, 10) : 0;
}

/* "key value" lines (memory.stat, cpu.stat, memory.events...). */
static uint64_t
keyed_value (const char *text, const char *key)
{
  size_t length = strlen (key);
  for (const char *line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, key, length) == 0 && line[length] == ' ')
      return strtoull (line + length + 1, NULL, 10);
  return 0;
}

static bool
on_v2 (const struct cgroup *cg, enum cgroup_controller controller)
{
  for (size_t i = 0; i < cg->count; i++)
    if (cg->hierarchies[i].controllers & (1u << controller))
      return cg->hierarchies[i].unified;
  return false;
}

static void
write_cpu (const struct cgroup *cg, struct json_writer *w)
{
  const char *cpu = cgroup_dir_of (cg, CGROUP_CPU), *acct = cgroup_dir_of (cg, CGROUP_CPUACCT);
  cleanup_free char *stat = read_in (cpu, "cpu.stat");
  bool v2 = on_v2 (cg, CGROUP_CPU);
  long ticks = sysconf (_SC_CLK_TCK);
  uint64_t ns_per_tick = ticks > 0 ? 1000000000ULL / ticks : 10000000ULL;
  jw_key (w, "cpu");
  jw_begin_object (w);
  jw_key (w, "usage");
  jw_begin_object (w);
  if (v2)
    {
      jw_key (w, "total"), jw_uint (w, keyed_value (stat, "usage_usec") * 1000);
      jw_key (w, "kernel"), jw_uint (w, keyed_value (stat, "system_usec") * 1000);
      jw_key (w, "user"), jw_uint (w, keyed_value (stat, "user_usec") * 1000);
    }
  else
    {
      cleanup_free char *times = read_in (acct, "cpuacct.stat");
      cleanup_free char *percpu = read_in (acct, "cpuacct.usage_percpu");
      jw_key (w, "total"), jw_uint (w, number_in (acct, "cpuacct.usage"));
      jw_key (w, "percpu");
      jw_begin_array (w);
      for (char *p = percpu, *end; p && *p; p = end)
        {
          unsigned long long value = strtoull (p, &end, 10);
          if (end == p)
            break;
          jw_uint (w, value);
        }
      jw_end_array (w);
      jw_key (w, "kernel"), jw_uint (w, keyed_value (times, "system") * ns_per_tick);
      jw_key (w, "user"), jw_uint (w, keyed_value (times, "user") * ns_per_tick);
    }
  jw_end_object (w);
  jw_key (w, "throttling");
  jw_begin_object (w);
  jw_key (w, "periods"), jw_uint (w, keyed_value (stat, "nr_periods"));
  jw_key (w, "throttledPeriods"), jw_uint (w, keyed_value (stat, "nr_throttled"));
  jw_key (w, "throttledTime");
  jw_uint (w, v2 ? keyed_value (stat, "throttled_usec") * 1000 : keyed_value (stat, "throttled_time"));
  jw_end_object (w);
  jw_end_object (w);
}

static void
write_memory_entry (struct json_writer *w, const char *key, uint64_t usage, uint64_t max, uint64_t limit,
                    uint64_t failcnt)
{
  jw_key (w, key);
  jw_begin_object (w);
  jw_key (w, "usage"), jw_uint (w, usage);
  jw_key (w, "max"), jw_uint (w, max);
  jw_key (w, "failcnt"), jw_uint (w, failcnt);
  jw_key (w, "limit"), jw_uint (w, limit);
  jw_end_object (w);
}

static void
write_raw (struct json_writer *w, const char *text)
{
  jw_key (w, "raw");
  jw_begin_object (w);
  for (const char *line = text; line && *line;)
    {
      const char *space = strchr (line, ' ');
      const char *end = strchr (line, '\n');
      if (space == NULL || (end && space > end))
        break;
      char key[128];
      snprintf (key, sizeof key, "%.*s", (int)(space - line), line);
      jw_key (w, key);
      jw_uint (w, strtoull (space + 1, NULL, 10));
      line = end ? end + 1 : NULL;
    }
  jw_end_object (w);
}

static void
write_memory (const struct cgroup *cg, struct json_writer *w)
{
  const char *dir = cgroup_dir_of (cg, CGROUP_MEMORY);
  cleanup_free char *stat = read_in (dir, "memory.stat");
  jw_key (w, "memory");
  jw_begin_object (w);
  if (on_v2 (cg, CGROUP_MEMORY))
    {
      write_memory_entry (w, "usage", number_in (dir, "memory.current"), number_in (dir, "memory.peak"),
                          number_in (dir, "memory.max"), 0);
      write_memory_entry (w, "swap", number_in (dir, "memory.swap.current"), 0,
                          number_in (dir, "memory.swap.max"), 0);
    }
  else
    {
      write_memory_entry (w, "usage", number_in (dir, "memory.usage_in_bytes"),
                          number_in (dir, "memory.max_usage_in_bytes"),
                          number_in (dir, "memory.limit_in_bytes"), number_in (dir, "memory.failcnt"));
      write_memory_entry (w, "swap", number_in (dir, "memory.memsw.usage_in_bytes"),
                          number_in (dir, "memory.memsw.max_usage_in_bytes"),
                          number_in (dir, "memory.memsw.limit_in_bytes"),
                          number_in (dir, "memory.memsw.failcnt"));
    }
  write_raw (w, stat);
  jw_end_object (w);
}

static void
write_pids (const struct cgroup *cg, struct json_writer *w)
{
  const char *dir = cgroup_dir_of (cg, CGROUP_PIDS);
  jw_key (w, "pids");
  jw_begin_object (w);
  jw_key (w, "current"), jw_uint (w, number_in (dir, "pids.current"));
  jw_key (w, "limit"), jw_uint (w, number_in (dir, "pids.max"));
  jw_end_object (w);
}

/* v1 "maj:min Op value" lines, v2 "maj:min rbytes=.. wbytes=.. rios=.. wios=..". */
static void
write_blkio_entries (struct json_writer *w, const char *key, const char *text, bool v2, const char *read_key,
                     const char *write_key)
{
  jw_key (w, key);
  jw_begin_array (w);
  for (const char *line = text; line && *line;)
    {
      unsigned major, minor;
      char op[32];
      unsigned long long value;
      if (!v2 && sscanf (line, "%u:%u %31s %llu", &major, &minor, op, &value) == 4)
        {
          jw_begin_object (w);
          jw_key_int (w, "major", major), jw_key_int (w, "minor", minor), jw_key_string (w, "op", op);
          jw_key (w, "value"), jw_uint (w, value);
          jw_end_object (w);
        }
      else if (v2 && sscanf (line, "%u:%u", &major, &minor) == 2)
        {
          const char *keys[2] = { read_key, write_key };
          const char *ops[2] = { "Read", "Write" };
          for (int i = 0; i < 2; i++)
            {
              const char *at = strstr (line, keys[i]);
              const char *end = strchr (line, '\n');
              if (at == NULL || (end && at > end))
                continue;
              jw_begin_object (w);
              jw_key_int (w, "major", major), jw_key_int (w, "minor", minor), jw_key_string (w, "op", ops[i]);
              jw_key (w, "value"), jw_uint (w, strtoull (at + strlen (keys[i]), NULL, 10));
              jw_end_object (w);
            }
        }
      line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL;
    }
  jw_end_array (w);
}

static void
write_blkio (const struct cgroup *cg, struct json_writer *w)
{
  const char *dir = cgroup_dir_of (cg, CGROUP_BLKIO);
  bool v2 = on_v2 (cg, CGROUP_BLKIO);
  cleanup_free char *bytes = read_in (dir, v2 ? "io.stat" : "blkio.throttle.io_service_bytes_recursive");
  cleanup_free char *ios = v2 ? NULL : read_in (dir, "blkio.throttle.io_serviced_recursive");
  jw_key (w, "blkio");
  jw_begin_object (w);
  write_blkio_entries (w, "ioServiceBytesRecursive", bytes, v2, "rbytes=", "wbytes=");
  write_blkio_entries (w, "ioServicedRecursive", v2 ? bytes : ios, v2, "rios=", "wios=");
  jw_end_object (w);
}

static void
write_hugetlb (const struct cgroup *cg, struct json_writer *w)
{
  const char *dir = cgroup_dir_of (cg, CGROUP_HUGETLB);
  bool v2 = on_v2 (cg, CGROUP_HUGETLB);
  jw_key (w, "hugetlb");
  jw_begin_object (w);
  cleanup_closedir DIR *d = dir ? opendir (dir) : NULL;
  for (struct dirent *e; d && (e = readdir (d)) != NULL;)
    {
      const char *suffix = v2 ? ".current" : ".usage_in_bytes";
      size_t length = strlen (e->d_name), suffix_length = strlen (suffix);
      if (strncmp (e->d_name, "hugetlb.", 8) != 0 || length <= 8 + suffix_length
          || strcmp (e->d_name + length - suffix_length, suffix) != 0 || strstr (e->d_name, ".rsvd."))
        continue;
      char size[32], file[300];
      snprintf (size, sizeof size, "%.*s", (int)(length - 8 - suffix_length), e->d_name + 8);
      jw_key (w, size);
      jw_begin_object (w);
      jw_key (w, "usage"), jw_uint (w, number_in (dir, e->d_name));
      snprintf (file, sizeof file, "hugetlb.%s.%s", size, v2 ? "max" : "max_usage_in_bytes");
      jw_key (w, "max"), jw_uint (w, number_in (dir, file));
      cleanup_free char *events = NULL;
      snprintf (file, sizeof file, "hugetlb.%s.%s", size, v2 ? "events" : "failcnt");
      events = read_in (dir, file);
      jw_key (w, "failcnt"),
          jw_uint (w, v2 ? keyed_value (events, "max") : (events ? strtoull (events, NULL, 10) : 0));
      jw_end_object (w);
    }
  jw_end_object (w);
}

void
cgroup_stats_write (const struct cgroup *cg, struct json_writer *w)
{
  jw_begin_object (w);
  write_cpu (cg, w);
  write_memory (cg, w);
  write_pids (cg, w);
  write_blkio (cg, w);
  write_hugetlb (cg, w);
  jw_end_object (w);
}

uint64_t
cgroup_oom_kills (const struct cgroup *cg)
{
  const char *dir = cgroup_dir_of (cg, CGROUP_MEMORY);
  cleanup_free char *text = read_in (dir, on_v2 (cg, CGROUP_MEMORY) ? "memory.events" : "memory.oom_control");
  return keyed_value (text, "oom_kill");
}

int
cgroup_memory_notifier (const struct cgroup *cg)
{
  const char *dir = cgroup_dir_of (cg, CGROUP_MEMORY);
  char path[4096];
  if (dir == NULL)
    return -1;
  if (on_v2 (cg, CGROUP_MEMORY))
    {
      int fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      snprintf (path, sizeof path, "%s/memory.events", dir);
      if (fd >= 0 && inotify_add_watch (fd, path, IN_MODIFY) < 0)
        {
          close (fd);
          fd = -1;
        }
      return fd;
    }
  snprintf (path, sizeof path, "%s/memory.oom_control", dir);
  cleanup_close int oom_control = open (path, O_RDONLY | O_CLOEXEC);
  int event = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (oom_control < 0 || event < 0)
    {
      if (event >= 0)
        close (event);
      return -1;
    }
  char registration[64];
  int n = snprintf (registration, sizeof registration, "%d %d", event, oom_control);
  snprintf (path, sizeof path, "%s/cgroup.event_control", dir);
  if (fs_write_file (path, registration, n, NULL) < 0)
    {
      close (event);
      return -1;
    }
  return event;
}

bool
cgroup_memory_notified_oom (const struct cgroup *cg, int fd, uint64_t *ooms)
{
  char buffer[4096];
  bool signalled = false;
  while (fd >= 0 && read (fd, buffer, sizeof buffer) > 0)
    signalled = true;
  uint64_t now = cgroup_oom_kills (cg);
  bool counted = now > *ooms;
  if (counted)
    *ooms = now;
  if (on_v2 (cg, CGROUP_MEMORY))
    return counted;
  /* The eventfd fires as the OOM begins, maybe before the kill is counted. */
  const char *dir = cgroup_dir_of (cg, CGROUP_MEMORY);
  return counted || (signalled && dir && access (dir, F_OK) == 0);
}
