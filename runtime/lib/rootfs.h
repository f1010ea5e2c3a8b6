/* The container's root: made a mount point of its own, swapped in with
 * pivot_root(2) (or MS_MOVE + chroot with --no-pivot), and finally made
 * read-only when config.json asks. */
#ifndef WARD_ROOTFS_H
#define WARD_ROOTFS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Cut mount propagation back to the host (rslave by default, or
 * linux.rootfsPropagation) and bind the rootfs onto itself.  Returns an
 * O_PATH fd of the rootfs mount. */
int rootfs_prepare (const struct spec *spec, const char *rootfs, struct ward_error **err);

/* Make `rootfs` the root of the mount namespace and leave the host's root
 * behind (unmounted with pivot_root; hidden under chroot with no_pivot). */
int rootfs_enter (const char *rootfs, bool no_pivot, struct ward_error **err);

/* After everything is mounted inside: root.readonly, and the requested
 * propagation on "/" itself. */
int rootfs_finalize (const struct spec *spec, struct ward_error **err);

#endif
