/* Unix sockets as ward uses them: connecting to an engine's or an agent's
 * socket by path (however deep), and passing an fd along with a message
 * (SCM_RIGHTS). */
#ifndef WARD_UNIX_SOCKET_H
#define WARD_UNIX_SOCKET_H

#include <stddef.h>

#include "error.h"

/* Connect a SOCK_STREAM socket (CLOEXEC) to `path`.  sun_path holds 108
 * bytes and engines keep sockets in deep state directories, so a longer
 * path is reached through an fd of its directory (/proc/self/fd/N/name).
 * Errors read "connect to <path>: ...". */
int unix_connect (const char *path, struct ward_error **err);

/* Send `length` bytes with `fd` attached to the first of them; on a stream
 * the rest may take more writes.  EPIPE is an error, not a signal. */
int unix_send_with_fd (int sock, const void *data, size_t length, int fd, struct ward_error **err);

#endif
