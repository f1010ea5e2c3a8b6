/* /dev inside the container: the default devices every container gets,
 * linux.devices, and the conventional links (/dev/fd, /dev/ptmx, ...). */
#ifndef WARD_DEVICES_H
#define WARD_DEVICES_H

#include <stdbool.h>

#include "error.h"
#include "resources.h"
#include "spec.h"

/* Create the devices under the rootfs (before pivot_root).  In a user
 * namespace mknod is not permitted, so host devices are bind-mounted. */
int devices_create (const struct spec *spec, int rootfs_fd, bool in_user_namespace, struct ward_error **err);

/* When linux.resources has device rules: allow what every container
 * needs (the default devices, /dev/pts, /dev/ptmx, mknod) and the devices
 * of linux.devices, after the config's own rules, as runc does — a "deny
 * all" must not take /dev/null away. */
int devices_add_cgroup_rules (const struct spec *spec, struct resources *r, struct ward_error **err);

#endif
