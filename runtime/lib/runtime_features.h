/* What this build of ward supports, for engines that ask before they
 * configure a container: the OCI runtime features document (`ward
 * features`, runtime-spec features.md) and the `ward --version` lines.
 * Implemented in features.c.  Not named features.h: runtime/lib is on the
 * -I path, and glibc's <features.h>, which every system header includes,
 * would find that file instead of its own. */
#ifndef WARD_RUNTIME_FEATURES_H
#define WARD_RUNTIME_FEATURES_H

#include <stdio.h>

#include "error.h"

/* The features document, pretty-printed (two-space indentation) and
 * newline-terminated.  *out is malloc'd. */
int features_render_json (char **out, struct ward_error **err);

/* `ward version X.Y.Z`, `spec: 1.2.0`, then one line of the features
 * compiled in, as crun prints them: `+SECCOMP +CAP -SELINUX ...`. */
void features_print_version (FILE *out);

#endif
