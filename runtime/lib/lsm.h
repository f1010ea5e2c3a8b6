/* AppArmor and SELinux: process labels (process.apparmorProfile,
 * process.selinuxLabel) and the mount label (linux.mountLabel).  A label
 * asked for on a host without that LSM is refused, never silently skipped:
 * the container would run unconfined while its owner believes otherwise. */
#ifndef WARD_LSM_H
#define WARD_LSM_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Before anything is made: every requested label can be applied here. */
int lsm_validate (const struct spec *spec, struct ward_error **err);

/* What one host offers: whether ward was built with each LSM's library and
 * whether the kernel has it enabled.  lsm_validate() asks the running
 * host; tests pass every combination. */
struct lsm_host
{
  bool apparmor_compiled_in, apparmor_enabled;
  bool selinux_compiled_in, selinux_enabled;
};

/* The running host's answers. */
void lsm_host_detect (struct lsm_host *host);

int lsm_validate_for_host (const struct spec *spec, const struct lsm_host *host, struct ward_error **err);

/* In the init, before execve: labels the next exec (aa_change_onexec,
 * setexeccon). */
int lsm_apply_exec_labels (const struct spec_process *process, struct ward_error **err);

/* Mount data with the SELinux context option added for linux.mountLabel
 * (returns a malloc'd copy of `data` unchanged when no label applies). */
int lsm_mount_data (const struct spec *spec, const char *fs_type, const char *data, char **out,
                    struct ward_error **err);

#endif
