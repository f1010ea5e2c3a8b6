#include "config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_file = -1;
static enum log_format log_format_in_use = LOG_FORMAT_TEXT;
static bool debug_enabled;

int
log_parse_format (const char *name, enum log_format *out)
{
  if (strcmp (name, "text") == 0)
    *out = LOG_FORMAT_TEXT;
  else if (strcmp (name, "json") == 0)
    *out = LOG_FORMAT_JSON;
  else
    return -1;
  return 0;
}

int
log_init (const char *path, enum log_format format, bool debug)
{
  log_format_in_use = format;
  debug_enabled = debug;
  if (path == NULL || path[0] == '\0')
    return 0;
  log_file = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log_file < 0)
    {
      fprintf (stderr, "ward: open log file %s: %s\n", path, strerror (errno));
      return -1;
    }
  return 0;
}

int
log_fd (void)
{
  return log_file;
}

bool
log_debug_enabled (void)
{
  return debug_enabled;
}

static void
timestamp (char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* JSON string escaping for the message. */
static void
append_escaped (FILE *out, const char *s)
{
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      switch (*p)
        {
        case '"':
          fputs ("\\\"", out);
          break;
        case '\\':
          fputs ("\\\\", out);
          break;
        case '\n':
          fputs ("\\n", out);
          break;
        case '\t':
          fputs ("\\t", out);
          break;
        default:
          if (*p < 0x20)
            fprintf (out, "\\u%04x", *p);
          else
            fputc (*p, out);
        }
    }
}

/* One entry is written with a single write() so concurrent writers (several
 * ward commands on one log file) never interleave inside a line. */
static void
write_entry (int fd, enum log_format format, const char *level, const char *message)
{
  char when[64];
  char *line = NULL;
  size_t length = 0;
  FILE *out = open_memstream (&line, &length);
  if (out == NULL)
    return;
  timestamp (when, sizeof when);
  if (format == LOG_FORMAT_JSON)
    {
      fprintf (out, "{\"level\":\"%s\",\"msg\":\"", level);
      append_escaped (out, message);
      fprintf (out, "\",\"time\":\"%s\"}\n", when);
    }
  else if (fd == STDERR_FILENO)
    fprintf (out, "ward: %s%s%s\n", strcmp (level, "error") == 0 ? "" : level,
             strcmp (level, "error") == 0 ? "" : ": ", message);
  else
    {
      fprintf (out, "time=\"%s\" level=%s msg=\"", when, level);
      append_escaped (out, message);
      fputs ("\"\n", out);
    }
  fclose (out);
  ssize_t ignored = write (fd, line, length);
  (void)ignored;
  free (line);
}

static void
emit (const char *level, const char *fmt, va_list ap)
{
  char *message = NULL;
  if (vasprintf (&message, fmt, ap) < 0)
    return;
  if (log_file >= 0)
    write_entry (log_file, log_format_in_use, level, message);
  /* stderr gets plain text unless the caller asked for JSON and gave no
   * file, in which case stderr is the log. */
  if (log_file < 0)
    write_entry (STDERR_FILENO, log_format_in_use, level, message);
  else if (strcmp (level, "debug") != 0)
    write_entry (STDERR_FILENO, LOG_FORMAT_TEXT, level, message);
  free (message);
}

void
log_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  emit ("error", fmt, ap);
  va_end (ap);
}

void
log_warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  emit ("warning", fmt, ap);
  va_end (ap);
}

void
log_debug (const char *fmt, ...)
{
  if (!debug_enabled)
    return;
  va_list ap;
  va_start (ap, fmt);
  emit ("debug", fmt, ap);
  va_end (ap);
}
