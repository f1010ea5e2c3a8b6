/* ward's one error idiom.
 *
 * Every fallible function returns int: 0 (or a non-negative value) on
 * success, -1 on failure, and takes `struct ward_error **err` last.  On
 * failure it fills *err with the errno it saw and a message saying what it
 * was doing and to what ("open config.json: No such file or directory").
 * Callers that add context wrap the message on the way up with
 * ward_error_prefix(); the CLI prints the final message once. */
#ifndef WARD_ERROR_H
#define WARD_ERROR_H

#include <stdarg.h>

struct ward_error
{
  int errnum;    /* errno that caused the failure, 0 when not a system error */
  char *message; /* complete, human-readable; owned by the error */
};

typedef struct ward_error *ward_err;

/* Fill *err with a formatted message and the errno (appended as
 * ": strerror" when errnum != 0).  Always returns -1 so callers can write
 * `return ward_fail (err, errno, "open %s", path);`. */
int ward_fail (struct ward_error **err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int ward_vfail (struct ward_error **err, int errnum, const char *fmt, va_list ap);

/* Prepend "context: " to an existing error.  Returns -1. */
int ward_error_prefix (struct ward_error **err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void ward_error_free (struct ward_error **err);

/* Release an error when the failure is tolerated (best-effort steps). */
void ward_error_ignore (struct ward_error **err);

#endif
