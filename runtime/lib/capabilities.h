/* process.capabilities: the five capability sets, applied so that what the
 * process holds after execve is what config.json grants. */
#ifndef WARD_CAPABILITIES_H
#define WARD_CAPABILITIES_H

#include "error.h"
#include "spec.h"

/* Before anything is made: every name is a capability libcap knows. */
int capabilities_validate (const struct spec_process *process, struct ward_error **err);

/* Still root, before the user switch: shrink the bounding set (needs
 * CAP_SETPCAP) and keep the permitted set across setuid. */
int capabilities_before_user_switch (const struct spec_process *process, struct ward_error **err);

/* After the user switch: effective, permitted, inheritable, then ambient
 * (which must be a subset of permitted and inheritable). */
int capabilities_after_user_switch (const struct spec_process *process, struct ward_error **err);

#endif
