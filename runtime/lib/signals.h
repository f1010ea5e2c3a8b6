/* Signal names and numbers, as `kill` accepts them: "TERM", "SIGTERM",
 * "15", and real-time signals as "RTMIN+3". */
#ifndef WARD_SIGNALS_H
#define WARD_SIGNALS_H

#include "error.h"

/* Parse a signal; an unknown one fails with "unknown signal \"X\"". */
int signal_parse (const char *text, int *out, struct ward_error **err);

/* "SIGTERM" for 15; NULL when the number has no name. */
const char *signal_name (int signum);

#endif
