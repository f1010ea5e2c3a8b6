/* CVE-2019-5736: a container process that can see one of ward's processes
 * (a joined pid namespace, `exec`) can open its /proc/PID/exe and, once
 * ward has exited, write ward's binary on the host through that fd.  ward
 * then runs from a sealed in-memory copy of itself, which nobody can
 * write. */
#ifndef WARD_SEALED_BINARY_H
#define WARD_SEALED_BINARY_H

#include <stdbool.h>

#include "error.h"

/* Is this process running from a sealed copy already? */
bool sealed_binary_in_use (void);

/* Re-execute this process, same arguments and environment, from a sealed
 * memfd copy of its binary.  Returns only on failure. */
int sealed_binary_reexec (struct ward_error **err);

#endif
