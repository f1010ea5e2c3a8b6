#include "config.h"
#include "namespaces.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const int clone_flag_of[NS_KIND_COUNT] = {
  [NS_PID] = CLONE_NEWPID,       [NS_NETWORK] = CLONE_NEWNET, [NS_MOUNT] = CLONE_NEWNS,
  [NS_IPC] = CLONE_NEWIPC,       [NS_UTS] = CLONE_NEWUTS,     [NS_USER] = CLONE_NEWUSER,
  [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = CLONE_NEWTIME,
};

bool
namespaces_creates (const struct spec *spec, enum spec_namespace_kind kind)
{
  return spec->linux_config.namespaces[kind].requested && spec->linux_config.namespaces[kind].path == NULL;
}

int
namespaces_validate (const struct spec *spec, struct ward_error **err)
{
  const struct spec_linux *l = &spec->linux_config;
  bool has_maps = l->uid_mappings_count > 0 || l->gid_mappings_count > 0;
  if (has_maps && !namespaces_creates (spec, NS_USER))
    return ward_fail (err, 0, "config.json: linux.uidMappings: set, but no new user namespace is requested");
  if (namespaces_creates (spec, NS_USER) && (l->uid_mappings_count == 0 || l->gid_mappings_count == 0))
    return ward_fail (err, 0,
                      "config.json: linux.uidMappings and linux.gidMappings are required with a new user "
                      "namespace");
  if ((l->time_monotonic.present || l->time_boottime.present) && !namespaces_creates (spec, NS_TIME))
    return ward_fail (err, 0, "config.json: linux.timeOffsets: set, but no new time namespace is requested");
  if (!spec->linux_config.namespaces[NS_MOUNT].requested)
    return ward_fail (err, 0, "config.json: linux.namespaces: a mount namespace is required");
  return 0;
}

int
namespaces_clone_flags (const struct spec *spec)
{
  int flags = 0;
  for (int kind = 0; kind < NS_KIND_COUNT; kind++)
    if (kind != NS_CGROUP && kind != NS_TIME && namespaces_creates (spec, kind))
      flags |= clone_flag_of[kind];
  return flags;
}

static int
join (enum spec_namespace_kind kind, const char *path, struct ward_error **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "open %s namespace %s", spec_namespace_name (kind), path);
  if (setns (fd, clone_flag_of[kind]) < 0)
    return ward_fail (err, errno, "join %s namespace %s", spec_namespace_name (kind), path);
  return 0;
}

int
namespaces_enter_pid_for_children (const struct spec *spec, int *restore_fd, struct ward_error **err)
{
  *restore_fd = -1;
  const char *path = spec->linux_config.namespaces[NS_PID].path;
  if (path == NULL)
    return 0;
  *restore_fd = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (*restore_fd < 0)
    return ward_fail (err, errno, "open /proc/self/ns/pid");
  if (join (NS_PID, path, err) < 0)
    {
      close (*restore_fd);
      *restore_fd = -1;
      return -1;
    }
  return 0;
}

int
namespaces_leave_pid_for_children (int restore_fd, struct ward_error **err)
{
  if (restore_fd < 0)
    return 0;
  int ret = setns (restore_fd, CLONE_NEWPID);
  int saved = errno;
  close (restore_fd);
  if (ret < 0)
    return ward_fail (err, saved, "return to ward's pid namespace");
  return 0;
}

static int
write_mapping (pid_t pid, const char *file, const struct spec_id_mapping *maps, size_t count,
               struct ward_error **err)
{
  char path[64];
  char text[4096];
  size_t used = 0;
  for (size_t i = 0; i < count; i++)
    {
      int n = snprintf (text + used, sizeof text - used, "%u %u %u\n", maps[i].container_id, maps[i].host_id,
                        maps[i].size);
      if (n < 0 || (size_t)n >= sizeof text - used)
        return ward_fail (err, E2BIG, "write %s", file);
      used += n;
    }
  snprintf (path, sizeof path, "/proc/%d/%s", pid, file);
  if (fs_write_file (path, text, used, err) < 0)
    return ward_error_prefix (err, "config.json: linux.%s",
                              strcmp (file, "uid_map") == 0 ? "uidMappings" : "gidMappings");
  return 0;
}

int
namespaces_write_id_mappings (pid_t pid, const struct spec *spec, struct ward_error **err)
{
  if (!namespaces_creates (spec, NS_USER))
    return 0;
  const struct spec_linux *l = &spec->linux_config;
  if (write_mapping (pid, "uid_map", l->uid_mappings, l->uid_mappings_count, err) < 0
      || write_mapping (pid, "gid_map", l->gid_mappings, l->gid_mappings_count, err) < 0)
    return -1;
  return 0;
}

int
namespaces_join_paths (const struct spec *spec, struct ward_error **err)
{
  static const enum spec_namespace_kind order[]
      = { NS_USER, NS_IPC, NS_UTS, NS_NETWORK, NS_CGROUP, NS_TIME, NS_MOUNT };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (order); i++)
    {
      const char *path = spec->linux_config.namespaces[order[i]].path;
      if (path && join (order[i], path, err) < 0)
        return -1;
    }
  return 0;
}

static int
write_time_offsets (const struct spec *spec, struct ward_error **err)
{
  char text[256];
  size_t used = 0;
  const struct spec_time_offset *mono = &spec->linux_config.time_monotonic,
                                *boot = &spec->linux_config.time_boottime;
  if (mono->present)
    used += snprintf (text + used, sizeof text - used, "monotonic %lld %u\n", (long long)mono->secs,
                      mono->nanosecs);
  if (boot->present)
    used += snprintf (text + used, sizeof text - used, "boottime %lld %u\n", (long long)boot->secs,
                      boot->nanosecs);
  if (used == 0)
    return 0;
  /* The kernel takes one clock per write. */
  char *line = text;
  while (*line)
    {
      char *end = strchr (line, '\n');
      if (fs_write_file ("/proc/self/timens_offsets", line, end - line + 1, err) < 0)
        return ward_error_prefix (err, "config.json: linux.timeOffsets");
      line = end + 1;
    }
  return 0;
}

int
namespaces_enter_time (const struct spec *spec, struct ward_error **err)
{
  if (!namespaces_creates (spec, NS_TIME))
    return 0;
  /* unshare places only our future children in the new namespace; the
   * offsets must be written before anyone enters it, then we enter it
   * ourselves through time_for_children. */
  if (unshare (CLONE_NEWTIME) < 0)
    return ward_fail (err, errno, "create time namespace");
  if (write_time_offsets (spec, err) < 0)
    return -1;
  return join (NS_TIME, "/proc/self/ns/time_for_children", err);
}

int
namespaces_enter_cgroup (const struct spec *spec, struct ward_error **err)
{
  if (namespaces_creates (spec, NS_CGROUP) && unshare (CLONE_NEWCGROUP) < 0)
    return ward_fail (err, errno, "create cgroup namespace");
  return 0;
}

int
namespaces_bring_up_loopback (const struct spec *spec, struct ward_error **err)
{
  if (!namespaces_creates (spec, NS_NETWORK))
    return 0;
  return namespaces_loopback_up (err);
}

int
namespaces_loopback_up (struct ward_error **err)
{
  cleanup_close int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return ward_fail (err, errno, "bring up lo: socket");
  struct ifreq request = { 0 };
  snprintf (request.ifr_name, sizeof request.ifr_name, "lo");
  if (ioctl (sock, SIOCGIFFLAGS, &request) < 0)
    return ward_fail (err, errno, "bring up lo");
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (sock, SIOCSIFFLAGS, &request) < 0)
    return ward_fail (err, errno, "bring up lo");
  return 0;
}
