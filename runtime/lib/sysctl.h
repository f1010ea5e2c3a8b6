/* linux.sysctl: only keys that belong to a namespace the container has of
 * its own may be set; anything else would change the host. */
#ifndef WARD_SYSCTL_H
#define WARD_SYSCTL_H

#include "error.h"
#include "spec.h"

/* Before anything is made: every key is namespaced and well formed. */
int sysctl_validate (const struct spec *spec, struct ward_error **err);

/* In the container, after /proc is mounted: write /proc/sys/<key>. */
int sysctl_apply (const struct spec *spec, struct ward_error **err);

#endif
