/* The default config.json that `ward spec` writes (runc's template, so
 * users' habits carry over). */
#ifndef WARD_SPEC_DEFAULT_H
#define WARD_SPEC_DEFAULT_H

#include <stdbool.h>

#include "error.h"

/* The runtime-spec version ward implements and writes. */
#define WARD_OCI_VERSION "1.2.0"

/* Render the default config.  rootless: a user namespace mapping the
 * caller's uid/gid to root, no network namespace, and the mounts that work
 * without privilege.  Returns a malloc'd NUL-terminated string. */
int spec_default_render (bool rootless, char **out, struct ward_error **err);

/* Write <bundle>/config.json; refuses to overwrite an existing file. */
int spec_default_write (const char *bundle, bool rootless, struct ward_error **err);

#endif
