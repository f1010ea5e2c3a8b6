#include "config.h"
#include "masked_paths.h"
#include "mounts.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

int
masked_paths_apply (const struct spec *spec, struct ward_error **err)
{
  for (size_t i = 0; i < spec->linux_config.masked_paths_count; i++)
    {
      const char *path = spec->linux_config.masked_paths[i];
      struct stat st;
      if (lstat (path, &st) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ward_fail (err, errno, "mask %s", path);
        }
      int ret;
      if (S_ISDIR (st.st_mode))
        ret = mount ("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
      else
        ret = mount ("/dev/null", path, NULL, MS_BIND, NULL);
      if (ret < 0)
        return ward_fail (err, errno, "mask %s", path);
    }
  return 0;
}

int
readonly_paths_apply (const struct spec *spec, struct ward_error **err)
{
  for (size_t i = 0; i < spec->linux_config.readonly_paths_count; i++)
    {
      const char *path = spec->linux_config.readonly_paths[i];
      if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ward_fail (err, errno, "bind %s read-only", path);
        }
      if (mounts_remount_bind (path, MS_RDONLY, err) < 0)
        return ward_error_prefix (err, "make %s read-only", path);
    }
  return 0;
}
