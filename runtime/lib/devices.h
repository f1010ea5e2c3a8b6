/* /dev inside the container: the default devices every container gets,
 * linux.devices, and the conventional links (/dev/fd, /dev/ptmx, ...). */
#ifndef WARD_DEVICES_H
#define WARD_DEVICES_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Create the devices under the rootfs (before pivot_root).  In a user
 * namespace mknod is not permitted, so host devices are bind-mounted. */
int devices_create (const struct spec *spec, int rootfs_fd, bool in_user_namespace, struct ward_error **err);

#endif
