/* Signal names and numbers, as `kill` accepts them: "TERM", "SIGTERM",
 * "15", and real-time signals as "RTMIN+3". */
#ifndef WARD_SIGNALS_H
#define WARD_SIGNALS_H

#include <sys/types.h>

#include "error.h"

/* Parse a signal; an unknown one fails with "unknown signal \"X\"". */
int signal_parse (const char *text, int *out, struct ward_error **err);

/* "SIGTERM" for 15; NULL when the number has no name. */
const char *signal_name (int signum);

/* Forward the signals a person or an engine sends to a foreground ward
 * (INT, TERM, HUP, QUIT, USR1, USR2, WINCH) to `pid` instead: they are
 * meant for the container's process. */
void signals_forward_to (pid_t pid);

#endif
