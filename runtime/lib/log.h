/* Where ward's messages go.  Engines pass --log FILE --log-format json and
 * show the last {"level":"error",...} line of that file to their user, so
 * every error ends up there as exactly one line; a person at a terminal
 * sees the same message on stderr. */
#ifndef WARD_LOG_H
#define WARD_LOG_H

#include <stdbool.h>

enum log_format
{
  LOG_FORMAT_TEXT,
  LOG_FORMAT_JSON,
};

/* path may be NULL (stderr only).  Failure to open the log is reported on
 * stderr and logging continues there. */
int log_init (const char *path, enum log_format format, bool debug);
int log_parse_format (const char *name, enum log_format *out);

void log_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void log_warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void log_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
bool log_debug_enabled (void);

/* The log file's fd (or -1), so a forked child can keep writing to it. */
int log_fd (void);

#endif
