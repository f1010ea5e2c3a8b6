/* Execution attributes of the container's process that are neither
 * identity nor limits: linux.personality, process.ioPriority and
 * process.scheduler. */
#ifndef WARD_PROCESS_ATTRIBUTES_H
#define WARD_PROCESS_ATTRIBUTES_H

#include "error.h"
#include "spec.h"

/* Before anything is made: values known and in range. */
int process_attributes_validate (const struct spec *spec, struct ward_error **err);

/* In the init, before dropping privileges. */
int process_attributes_apply (const struct spec *spec, struct ward_error **err);

#endif
