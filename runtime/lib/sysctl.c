#include "config.h"
#include "sysctl.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* IPC sysctls that live in the ipc namespace (see ipc_namespaces(7)). */
static const char *const ipc_keys[] = {
  "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

static bool
has_own (const struct spec *spec, enum spec_namespace_kind kind)
{
  return spec->linux_config.namespaces[kind].requested;
}

static const char *
namespace_needed (const char *key)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (ipc_keys); i++)
    if (strcmp (key, ipc_keys[i]) == 0)
      return "ipc";
  if (strncmp (key, "fs.mqueue.", 10) == 0)
    return "ipc";
  if (strncmp (key, "net.", 4) == 0)
    return "network";
  if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    return "uts";
  return NULL;
}

int
sysctl_validate (const struct spec *spec, struct ward_error **err)
{
  for (size_t i = 0; i < spec->linux_config.sysctl_count; i++)
    {
      const char *key = spec->linux_config.sysctl[i].key;
      if (key[0] == '\0' || strchr (key, '/') || strstr (key, "..") || key[0] == '.')
        return ward_fail (err, 0, "config.json: linux.sysctl: invalid key \"%s\"", key);
      const char *kind = namespace_needed (key);
      if (kind == NULL)
        return ward_fail (err, 0,
                          "config.json: linux.sysctl: \"%s\" is not namespaced; setting it would change the "
                          "host",
                          key);
      enum spec_namespace_kind ns = strcmp (kind, "ipc") == 0 ? NS_IPC
          : strcmp (kind, "network") == 0                     ? NS_NETWORK
                                                              : NS_UTS;
      if (!has_own (spec, ns))
        return ward_fail (err, 0, "config.json: linux.sysctl: \"%s\" needs the container's own %s namespace",
                          key, kind);
    }
  return 0;
}

int
sysctl_apply (const struct spec *spec, struct ward_error **err)
{
  for (size_t i = 0; i < spec->linux_config.sysctl_count; i++)
    {
      const struct spec_sysctl *s = &spec->linux_config.sysctl[i];
      char path[512];
      int n = snprintf (path, sizeof path, "/proc/sys/%s", s->key);
      if (n < 0 || (size_t)n >= sizeof path)
        return ward_fail (err, ENAMETOOLONG, "sysctl %s", s->key);
      for (char *p = path + strlen ("/proc/sys/"); *p; p++)
        if (*p == '.')
          *p = '/';
      if (fs_write_file (path, s->value, strlen (s->value), err) < 0)
        return ward_error_prefix (err, "config.json: linux.sysctl: %s", s->key);
    }
  return 0;
}
