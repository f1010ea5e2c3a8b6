#include "config.h"
#include "audit.h"
#include "cleanup.h"
#include "ward_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct audit_log
{
  int fd;
  char *id;
  char *path; /* for messages */
};

/* mkdir -p, each level made 0750: the log says what a container tried,
 * which is not every local user's business. */
static int
make_directory (const char *dir, struct ward_error **err)
{
  cleanup_free char *copy = strdup (dir);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "audit log");
  for (char *p = copy + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (copy, 0750) < 0 && errno != EEXIST)
          return ward_fail (err, errno, "audit log: mkdir %s", copy);
        *p = '/';
      }
  if (mkdir (copy, 0750) < 0 && errno != EEXIST)
    return ward_fail (err, errno, "audit log: mkdir %s", copy);
  return 0;
}

int
audit_open (const char *dir, const char *id, struct audit_log **out, struct ward_error **err)
{
  if (dir == NULL || *dir == '\0')
    dir = WARD_AUDIT_DIR_DEFAULT;
  /* The id becomes a file name: never a path. */
  if (id == NULL || *id == '\0' || *id == '.' || strchr (id, '/'))
    return ward_fail (err, EINVAL, "audit log: invalid container id \"%s\"", id ? id : "");
  if (make_directory (dir, err) < 0)
    return -1;
  struct audit_log *log = calloc (1, sizeof *log);
  if (log == NULL)
    return ward_fail (err, ENOMEM, "audit log");
  log->fd = -1;
  if (asprintf (&log->path, "%s/%s.jsonl", dir, id) < 0 || (log->id = strdup (id)) == NULL)
    {
      log->path = NULL;
      audit_close (log);
      return ward_fail (err, ENOMEM, "audit log");
    }
  log->fd = open (log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (log->fd < 0)
    {
      int saved = errno;
      ward_fail (err, saved, "audit log: open %s", log->path);
      audit_close (log);
      return -1;
    }
  *out = log;
  return 0;
}

void
audit_close (struct audit_log *log)
{
  if (log == NULL)
    return;
  if (log->fd >= 0)
    close (log->fd);
  free (log->id);
  free (log->path);
  free (log);
}

void
audit_time_rfc3339_ns (char *buf, size_t size)
{
  struct timespec now;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &tm);
  char seconds[32];
  strftime (seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, size, "%s.%09ldZ", seconds, now.tv_nsec);
}

struct json_writer *
audit_record_begin (struct audit_log *log, const char *event, bool blocked)
{
  struct json_writer *w = jw_new (false);
  if (w == NULL)
    return NULL;
  char now[64];
  audit_time_rfc3339_ns (now, sizeof now);
  jw_begin_object (w);
  jw_key_string (w, "time", now);
  jw_key_string (w, "id", log->id);
  jw_key_string (w, "event", event);
  jw_key_bool (w, "blocked", blocked);
  return w;
}

int
audit_record_write (struct audit_log *log, struct json_writer *w, struct ward_error **err)
{
  jw_end_object (w);
  size_t length = 0;
  const char *text = jw_text (w, &length);
  if (text == NULL)
    {
      jw_free (w);
      return ward_fail (err, ENOMEM, "audit log %s", log->path);
    }
  cleanup_free char *line = malloc (length + 1);
  if (line == NULL)
    {
      jw_free (w);
      return ward_fail (err, ENOMEM, "audit log %s", log->path);
    }
  memcpy (line, text, length);
  line[length] = '\n';
  jw_free (w);
  /* One write a record: with O_APPEND the line lands whole at the end. */
  ssize_t n;
  do
    n = write (log->fd, line, length + 1);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ward_fail (err, errno, "audit log: write %s", log->path);
  if ((size_t)n != length + 1)
    return ward_fail (err, EIO, "audit log: short write to %s", log->path);
  return 0;
}
