/* ward audit ID [--follow] [--json] [--since T]: one container's audit log
 * (<audit_dir>/<id>.jsonl, see audit.h), a readable line a record.  It
 * reads the log only, never the state directory, so it works as well
 * after the container is gone. */
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "json.h"
#include "json_writer.h"
#include "options.h"
#include "policy.h"
#include "state.h"
#include "usage.h"
#include "ward_conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum
{
  OPT_FOLLOW = 'f',
  OPT_JSON = 1000,
  OPT_SINCE,
};

static const struct option audit_options[] = {
  { "follow", no_argument, NULL, OPT_FOLLOW },
  { "json", no_argument, NULL, OPT_JSON },
  { "since", required_argument, NULL, OPT_SINCE },
  { NULL, 0, NULL, 0 },
};

/* How often --follow looks again when inotify says nothing (or is absent). */
#define FOLLOW_POLL_MS 250

struct audit_request
{
  bool follow, json, colour;
  bool has_since;
  int64_t since_ns; /* records before this are left out */
  const char *path; /* for messages */
  unsigned line;    /* of the log, 1-based, for malformed records */
};

static int
parse_since (const char *text, int64_t *ns, struct ward_error **err)
{
  uint64_t ago;
  if (usage_parse_time (text, ns) == 0)
    return 0;
  if (policy_parse_duration (text, &ago) < 0 || ago > INT64_MAX / 1000000000)
    return ward_fail (err, 0,
                      "audit: --since: expected an RFC 3339 time or a duration (e.g. 10m), got \"%s\"", text);
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  *ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - (int64_t)ago * 1000000000;
  return 0;
}

static int
audit_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct audit_request *r = ctx;
  switch (option)
    {
    case OPT_FOLLOW:
      r->follow = true;
      break;
    case OPT_JSON:
      r->json = true;
      break;
    case OPT_SINCE:
      r->has_since = true;
      return parse_since (value, &r->since_ns, err);
    }
  return 0;
}

static void
local_time (int64_t ns, char *buf, size_t size)
{
  time_t seconds = (time_t)(ns / 1000000000);
  struct tm tm;
  localtime_r (&seconds, &tm);
  char whole[32];
  strftime (whole, sizeof whole, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf (buf, size, "%s.%03d", whole, (int)(ns % 1000000000 / 1000000));
}

static void
write_value (struct json_writer *w, const struct json_value *v)
{
  switch (v->type)
    {
    case JSON_NULL:
      jw_null (w);
      break;
    case JSON_BOOL:
      jw_bool (w, v->u.boolean);
      break;
    case JSON_NUMBER:
      jw_number (w, v->u.number.text);
      break;
    case JSON_STRING:
      jw_string (w, v->u.string);
      break;
    case JSON_OBJECT:
      jw_begin_object (w);
      for (size_t i = 0; i < v->u.object.count; i++)
        {
          jw_key (w, v->u.object.keys[i]);
          write_value (w, v->u.object.values[i]);
        }
      jw_end_object (w);
      break;
    case JSON_ARRAY:
      jw_begin_array (w);
      for (size_t i = 0; i < v->u.array.count; i++)
        write_value (w, v->u.array.items[i]);
      jw_end_array (w);
      break;
    }
}

/* A string stays bare when it reads back unambiguously as key=value. */
static bool
plain_string (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (isspace ((unsigned char)*s) || *s == '"' || *s == '=' || iscntrl ((unsigned char)*s))
      return false;
  return true;
}

static void
print_field (const char *key, const struct json_value *v)
{
  if (v->type == JSON_STRING && plain_string (v->u.string))
    {
      printf (" %s=%s", key, v->u.string);
      return;
    }
  if (v->type == JSON_NUMBER)
    {
      printf (" %s=%s", key, v->u.number.text);
      return;
    }
  struct json_writer *w = jw_new (false);
  if (w == NULL)
    return;
  write_value (w, v);
  size_t length;
  const char *text = jw_text (w, &length);
  printf (" %s=%.*s", key, text ? (int)length : 1, text ? text : "?");
  jw_free (w);
}

static const char *
string_member (const struct json_value *o, const char *key)
{
  const struct json_value *v = json_object_get (o, key);
  return v && v->type == JSON_STRING ? v->u.string : NULL;
}

static void
print_readable (const struct audit_request *r, const struct json_value *record, bool has_time, int64_t ns)
{
  char when[48];
  if (has_time)
    local_time (ns, when, sizeof when);
  else
    snprintf (when, sizeof when, "%-23s", string_member (record, "time") ?: "-");
  const char *event = string_member (record, "event") ?: "-";
  const struct json_value *blocked = json_object_get (record, "blocked");
  const char *marker = "-", *colour = "";
  if (blocked && blocked->type == JSON_BOOL)
    {
      marker = blocked->u.boolean ? "BLOCKED" : "allowed";
      colour = blocked->u.boolean ? "\033[1;31m" : "\033[32m";
    }
  printf ("%s  %-20s %s%s%s", when, event, r->colour ? colour : "", marker,
          r->colour && *colour ? "\033[0m" : "");
  /* The marker is padded only when fields follow, so lines never end in blanks. */
  int pad = 7 - (int)strlen (marker);
  for (size_t i = 0; i < record->u.object.count; i++)
    {
      const char *key = record->u.object.keys[i];
      if (strcmp (key, "time") && strcmp (key, "id") && strcmp (key, "event") && strcmp (key, "blocked"))
        {
          printf ("%*s", pad, "");
          pad = 0;
          print_field (key, record->u.object.values[i]);
        }
    }
  putchar ('\n');
}

static void
print_malformed (struct audit_request *r, const char *line, size_t length, const char *why)
{
  if (r->json)
    {
      /* Standard output stays valid JSON lines; the bad one is named on stderr. */
      fprintf (stderr, "ward: audit: %s line %u: malformed record skipped: %s\n", r->path, r->line, why);
      return;
    }
  printf ("%s%s line %u: malformed record: %.*s%s\n", r->colour ? "\033[33m" : "", r->path, r->line,
          (int)(length > 300 ? 300 : length), line, r->colour ? "\033[0m" : "");
}

static void
handle_line (struct audit_request *r, const char *line, size_t length)
{
  r->line++;
  while (length && (line[length - 1] == '\r' || isspace ((unsigned char)line[length - 1])))
    length--;
  if (length == 0)
    return;
  struct json_document *doc = NULL;
  struct ward_error *err = NULL;
  if (json_parse ("record", line, length, &doc, &err) < 0)
    {
      print_malformed (r, line, length, err ? err->message : "not JSON");
      ward_error_free (&err);
      return;
    }
  if (doc->root->type != JSON_OBJECT)
    {
      print_malformed (r, line, length, "not a JSON object");
      json_document_free (doc);
      return;
    }
  const char *time_text = string_member (doc->root, "time");
  int64_t ns = 0;
  bool has_time = time_text && usage_parse_time (time_text, &ns) == 0;
  /* A record whose time cannot be read is shown: better too much than a
   * hidden attempt. */
  if (!r->has_since || !has_time || ns >= r->since_ns)
    {
      if (r->json)
        printf ("%.*s\n", (int)length, line);
      else
        print_readable (r, doc->root, has_time, ns);
    }
  json_document_free (doc);
}

/* Read what is there from fd, showing every complete line; what follows the
 * last newline waits in `pending` for the rest (or, at_end, is shown). */
static int
read_available (struct audit_request *r, int fd, char **pending, size_t *pending_length, bool at_end,
                struct ward_error **err)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ward_fail (err, errno, "audit: read %s", r->path);
      if (n == 0)
        break;
      char *bigger = realloc (*pending, *pending_length + (size_t)n + 1);
      if (bigger == NULL)
        return ward_fail (err, ENOMEM, "audit: read %s", r->path);
      *pending = bigger;
      memcpy (*pending + *pending_length, buf, (size_t)n);
      *pending_length += (size_t)n;
      size_t start = 0;
      for (char *nl; (nl = memchr (*pending + start, '\n', *pending_length - start)) != NULL;)
        {
          handle_line (r, *pending + start, (size_t)(nl - (*pending + start)));
          start = (size_t)(nl - *pending) + 1;
        }
      memmove (*pending, *pending + start, *pending_length - start);
      *pending_length -= start;
    }
  if (at_end && *pending_length)
    {
      handle_line (r, *pending, *pending_length);
      *pending_length = 0;
    }
  fflush (stdout);
  return 0;
}

static volatile sig_atomic_t follow_stopped;

static void
stop_following (int signum)
{
  (void)signum;
  follow_stopped = 1;
}

static int
follow (struct audit_request *r, int fd, char **pending, size_t *pending_length, struct ward_error **err)
{
  struct sigaction sa = { .sa_handler = stop_following };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  cleanup_close int watch = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (watch >= 0 && inotify_add_watch (watch, r->path, IN_MODIFY) < 0)
    {
      close (watch);
      watch = -1;
    }
  while (!follow_stopped)
    {
      struct pollfd p = { .fd = watch, .events = POLLIN };
      int ready = poll (&p, 1, FOLLOW_POLL_MS);
      if (ready > 0)
        {
          char events[4096];
          while (read (watch, events, sizeof events) > 0)
            ;
        }
      /* A log cut short (truncated by hand) is read again from its start. */
      struct stat st;
      off_t offset = lseek (fd, 0, SEEK_CUR);
      if (fstat (fd, &st) == 0 && offset > st.st_size)
        {
          lseek (fd, 0, SEEK_SET);
          *pending_length = 0;
        }
      if (read_available (r, fd, pending, pending_length, false, err) < 0)
        return -1;
    }
  return 0;
}

int
cmd_audit (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  (void)global;
  struct audit_request r = { 0 };
  int first = options_parse ("audit", argc, argv, "f", audit_options, audit_option, &r, err);
  if (first < 0
      || options_expect_operands ("audit", argc, argv, first, 1, "audit [--follow] [--json] [--since T] ID",
                                  err)
          < 0)
    return -1;
  const char *id = argv[first];
  if (state_validate_id (id, err) < 0)
    return ward_error_prefix (err, "audit");
  struct ward_conf *conf = NULL;
  if (ward_conf_load (&conf, err) < 0)
    return -1;
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/%s.jsonl", conf->audit_dir, id) < 0)
    path = NULL;
  ward_conf_free (conf);
  if (path == NULL)
    return ward_fail (err, ENOMEM, "audit");
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return ward_fail (err, 0, "audit: no audit log for container \"%s\" (%s does not exist)", id, path);
  if (fd < 0)
    return ward_fail (err, errno, "audit: open %s", path);
  r.path = path;
  const char *term = getenv ("TERM");
  r.colour = isatty (STDOUT_FILENO) && getenv ("NO_COLOR") == NULL && !(term && strcmp (term, "dumb") == 0);

  cleanup_free char *pending = NULL;
  size_t pending_length = 0;
  if (read_available (&r, fd, &pending, &pending_length, !r.follow, err) < 0)
    return -1;
  if (r.follow && follow (&r, fd, &pending, &pending_length, err) < 0)
    return -1;
  return 0;
}
