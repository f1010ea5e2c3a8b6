/* linux.maskedPaths and linux.readonlyPaths, applied after pivot_root so
 * every path is the container's own. */
#ifndef WARD_MASKED_PATHS_H
#define WARD_MASKED_PATHS_H

#include "error.h"
#include "spec.h"

/* Files are covered with /dev/null, directories with an empty read-only
 * tmpfs; paths that do not exist are skipped. */
int masked_paths_apply (const struct spec *spec, struct ward_error **err);

/* Each path is bound onto itself and made read-only. */
int readonly_paths_apply (const struct spec *spec, struct ward_error **err);

#endif
