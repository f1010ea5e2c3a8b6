/* config.json's mounts, made inside the container's rootfs before
 * pivot_root.  Every target is resolved inside the rootfs (symlinks cannot
 * lead out of it) and mounted through its fd. */
#ifndef WARD_MOUNTS_H
#define WARD_MOUNTS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

struct mount_options
{
  unsigned long flags;       /* MS_* set at mount time */
  unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC), 0 = none */
  bool bind;                 /* bind or rbind */
  bool recursive_bind;       /* rbind */
  bool recursive_readonly;   /* rro */
  char *data;                /* what the filesystem parses: "size=64m,mode=755" */
};

/* Split an options list into flags, propagation and filesystem data. */
int mount_options_parse (char *const *options, size_t count, struct mount_options *out,
                         struct ward_error **err);
void mount_options_clear (struct mount_options *options);

/* Every option name mount_options_parse() acts on, for `ward features`:
 * not the filesystem data it passes through, nor the options it accepts
 * and ignores. */
void mount_options_each_name (void (*visit) (const char *name, void *ctx), void *ctx);

/* Apply every mount of the spec under the rootfs open at rootfs_fd.
 * Relative bind sources are relative to the bundle. */
int mounts_apply (const struct spec *spec, int rootfs_fd, const char *bundle, struct ward_error **err);

/* Remount `target` (an existing mount) with `flags` added to MS_BIND |
 * MS_REMOUNT, keeping the flags a user namespace locks (nosuid, nodev...). */
int mounts_remount_bind (const char *target, unsigned long flags, struct ward_error **err);

/* Is `destination` a bind mount from the host in the spec? */
bool mounts_spec_binds (const struct spec *spec, const char *destination);

#endif
