#include "config.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
format_message (int errnum, const char *fmt, va_list ap)
{
  char *text = NULL;
  if (vasprintf (&text, fmt, ap) < 0)
    return NULL;
  if (errnum == 0)
    return text;
  char *with_reason = NULL;
  if (asprintf (&with_reason, "%s: %s", text, strerror (errnum)) < 0)
    with_reason = NULL;
  free (text);
  return with_reason;
}

int
ward_vfail (struct ward_error **err, int errnum, const char *fmt, va_list ap)
{
  if (err == NULL)
    return -1;
  /* A second failure while one is pending keeps the first: it is the cause. */
  if (*err != NULL)
    return -1;
  struct ward_error *e = calloc (1, sizeof *e);
  if (e == NULL)
    abort ();
  e->errnum = errnum;
  e->message = format_message (errnum, fmt, ap);
  if (e->message == NULL)
    abort ();
  *err = e;
  return -1;
}

int
ward_fail (struct ward_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  ward_vfail (err, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int
ward_error_prefix (struct ward_error **err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  char *context = NULL;
  va_list ap;
  va_start (ap, fmt);
  int n = vasprintf (&context, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  char *joined = NULL;
  if (asprintf (&joined, "%s: %s", context, (*err)->message) < 0)
    abort ();
  free (context);
  free ((*err)->message);
  (*err)->message = joined;
  return -1;
}

void
ward_error_free (struct ward_error **err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->message);
  free (*err);
  *err = NULL;
}

void
ward_error_ignore (struct ward_error **err)
{
  ward_error_free (err);
}
