#include "config.h"
#include "usage.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "json_writer.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
usage_parse_time (const char *text, int64_t *ns)
{
  struct tm tm = { 0 };
  const char *p = strptime (text, "%Y-%m-%dT%H:%M:%S", &tm);
  if (p == NULL)
    return -1;
  int64_t fraction = 0, scale = 1000000000;
  if (*p == '.')
    for (p++; isdigit ((unsigned char)*p); p++)
      if (scale > 1)
        {
          scale /= 10;
          fraction += (*p - '0') * scale;
        }
  int64_t offset = 0;
  if (*p == 'Z' || *p == 'z')
    p++;
  else if (*p == '+' || *p == '-')
    {
      int hours, minutes, used = 0;
      if (sscanf (p + 1, "%2d:%2d%n", &hours, &minutes, &used) != 2 || used != 5)
        return -1;
      offset = (hours * 3600 + minutes * 60) * (*p == '-' ? -1 : 1);
      p += 6;
    }
  else
    return -1;
  if (*p != '\0')
    return -1;
  time_t seconds = timegm (&tm);
  *ns = ((int64_t)seconds - offset) * 1000000000 + fraction;
  return 0;
}

static void
now_rfc3339 (char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  char seconds[32];
  strftime (seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, size, "%s.%09ldZ", seconds, ts.tv_nsec);
}

/* `value / scale` with three decimals, exactly (no floating point). */
static void
write_fraction (struct json_writer *w, const char *key, uint64_t value, uint64_t scale)
{
  char text[48];
  uint64_t thousandths = scale >= 1000 ? value / (scale / 1000) : value * (1000 / scale);
  snprintf (text, sizeof text, "%" PRIu64 ".%03" PRIu64, thousandths / 1000, thousandths % 1000);
  jw_key (w, key);
  jw_number (w, text);
}

int
usage_render (const struct usage_snapshot *s, char **out, size_t *length, struct ward_error **err)
{
  char time[64];
  if (s->time[0])
    snprintf (time, sizeof time, "%s", s->time);
  else
    now_rfc3339 (time, sizeof time);
  struct json_writer *w = jw_new (false);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "render %s", USAGE_FILE);
  jw_begin_object (w);
  jw_key_string (w, "time", time);
  write_fraction (w, "wall_seconds", s->used.wall_ms, 1000);
  write_fraction (w, "cpu_seconds", s->used.cpu_usec, 1000000);
  jw_key (w, "egress_bytes");
  jw_uint (w, s->used.egress_bytes);
  jw_key (w, "connections");
  jw_uint (w, s->used.connections);
  write_fraction (w, "cost", s->cost_millis, 1000);
  jw_key (w, "breach");
  if (s->breach == BUDGET_WITHIN)
    jw_null (w);
  else
    jw_string (w, budget_limit_name (s->breach));
  jw_key (w, "limits");
  budget_write_json (&s->limits, w);
  jw_end_object (w);
  size_t n;
  const char *text = jw_text (w, &n);
  char *copy = text ? malloc (n + 2) : NULL;
  if (copy)
    {
      memcpy (copy, text, n);
      copy[n++] = '\n';
      copy[n] = '\0';
    }
  jw_free (w);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "render %s", USAGE_FILE);
  *out = copy;
  if (length)
    *length = n;
  return 0;
}

static int
bad_field (const struct json_document *doc, const struct json_value *v, const char *key,
           struct ward_error **err)
{
  unsigned line, column;
  json_position (doc, v->offset, &line, &column);
  return ward_fail (err, 0, "%s: %s: expected a non-negative number at line %u, column %u", doc->name, key,
                    line, column);
}

/* A non-negative number scaled to integer units (seconds → ms), or
 * BUDGET_UNLIMITED for null or absent. */
static int
read_scaled (const struct json_document *doc, const struct json_value *object, const char *key, double scale,
             uint64_t *out, struct ward_error **err)
{
  const struct json_value *v = json_object_get (object, key);
  if (v == NULL || v->type == JSON_NULL)
    {
      *out = BUDGET_UNLIMITED;
      return 0;
    }
  if (v->type != JSON_NUMBER)
    return bad_field (doc, v, key, err);
  if (v->u.number.is_unsigned_overflow)
    *out = v->u.number.uinteger;
  else if (v->u.number.is_integer && v->u.number.integer >= 0 && scale == 1)
    *out = (uint64_t)v->u.number.integer;
  else
    {
      double x = v->u.number.real * scale;
      if (!(x >= 0) || x >= 18446744073709551615.0)
        return bad_field (doc, v, key, err);
      *out = (uint64_t)(x + 0.5);
    }
  return 0;
}

static int
read_limits (const struct json_document *doc, const struct json_value *limits, struct budget *b,
             struct ward_error **err)
{
  const struct json_value *rates = json_object_get (limits, "rates");
  const struct json_value *policy = json_object_get (limits, "policy");
  const struct json_value *breach = json_object_get (limits, "on_breach");
  uint64_t grace;
  if (read_scaled (doc, limits, "timeout", 1, &b->timeout, err) < 0
      || read_scaled (doc, limits, "cpu_seconds", 1, &b->cpu_seconds, err) < 0
      || read_scaled (doc, limits, "egress_bytes", 1, &b->egress_bytes, err) < 0
      || read_scaled (doc, limits, "connections", 1, &b->connections, err) < 0
      || read_scaled (doc, limits, "connect_rate", 1, &b->connect_rate, err) < 0
      || read_scaled (doc, limits, "budget", 1, &b->units, err) < 0
      || read_scaled (doc, limits, "grace", 1, &grace, err) < 0)
    return -1;
  b->grace = grace == BUDGET_UNLIMITED ? 0 : grace;
  if (rates && rates->type == JSON_OBJECT
      && (read_scaled (doc, rates, "cpu_second", 1, &b->rates.cpu_second, err) < 0
          || read_scaled (doc, rates, "wall_minute", 1, &b->rates.wall_minute, err) < 0
          || read_scaled (doc, rates, "egress_mebibyte", 1, &b->rates.egress_mebibyte, err) < 0
          || read_scaled (doc, rates, "connection", 1, &b->rates.connection, err) < 0))
    return -1;
  if (policy && policy->type == JSON_STRING)
    snprintf (b->policy, sizeof b->policy, "%s", policy->u.string);
  b->on_breach = breach && breach->type == JSON_STRING && strcmp (breach->u.string, "freeze") == 0
      ? POLICY_BREACH_FREEZE
      : POLICY_BREACH_KILL;
  return 0;
}

static enum budget_limit
limit_named (const char *name)
{
  for (enum budget_limit l = BUDGET_TIMEOUT; l <= BUDGET_COST; l++)
    if (strcmp (budget_limit_name (l), name) == 0)
      return l;
  return BUDGET_WITHIN;
}

int
usage_parse (const char *name, const char *text, size_t length, struct usage_snapshot *out,
             struct ward_error **err)
{
  struct json_document *doc = NULL;
  if (json_parse (name, text, length, &doc, err) < 0)
    return -1;
  struct usage_snapshot s = { .breach = BUDGET_WITHIN };
  /* What no snapshot says is unlimited; a budget with no policy has no rates. */
  budget_resolve (NULL, NULL, NULL, 0, &s.limits, NULL);
  const struct json_value *root = doc->root, *v;
  int ret = -1;
  uint64_t wall, cpu, cost;
  if (root->type != JSON_OBJECT)
    {
      ward_fail (err, 0, "%s: expected an object", name);
      goto out;
    }
  if (read_scaled (doc, root, "wall_seconds", 1000, &wall, err) < 0
      || read_scaled (doc, root, "cpu_seconds", 1000000, &cpu, err) < 0
      || read_scaled (doc, root, "egress_bytes", 1, &s.used.egress_bytes, err) < 0
      || read_scaled (doc, root, "connections", 1, &s.used.connections, err) < 0
      || read_scaled (doc, root, "cost", 1000, &cost, err) < 0)
    goto out;
  /* Absent counters are zero, not unlimited: nothing measured yet. */
  s.used.wall_ms = wall == BUDGET_UNLIMITED ? 0 : wall;
  s.used.cpu_usec = cpu == BUDGET_UNLIMITED ? 0 : cpu;
  s.used.egress_bytes = s.used.egress_bytes == BUDGET_UNLIMITED ? 0 : s.used.egress_bytes;
  s.used.connections = s.used.connections == BUDGET_UNLIMITED ? 0 : s.used.connections;
  s.cost_millis = cost == BUDGET_UNLIMITED ? 0 : cost;
  if ((v = json_object_get (root, "time")) && v->type == JSON_STRING)
    snprintf (s.time, sizeof s.time, "%s", v->u.string);
  if ((v = json_object_get (root, "breach")) && v->type == JSON_STRING)
    s.breach = limit_named (v->u.string);
  if ((v = json_object_get (root, "limits")) && v->type == JSON_OBJECT
      && read_limits (doc, v, &s.limits, err) < 0)
    goto out;
  *out = s;
  ret = 0;
out:
  json_document_free (doc);
  return ret;
}

int
usage_write_at (int state_dir_fd, const struct usage_snapshot *snapshot, struct ward_error **err)
{
  cleanup_free char *text = NULL;
  size_t length;
  if (usage_render (snapshot, &text, &length, err) < 0)
    return -1;
  return fs_write_file_atomic (state_dir_fd, USAGE_FILE, text, length, 0644, err);
}

int
usage_read_at (int state_dir_fd, struct usage_snapshot *out, struct ward_error **err)
{
  cleanup_free char *text = NULL;
  size_t length;
  if (fs_read_file_at (state_dir_fd, USAGE_FILE, &text, &length, err) < 0)
    return -1;
  return usage_parse (USAGE_FILE, text, length, out, err);
}

static int
read_number_file (const char *dir, const char *file, const char *key, uint64_t *out, struct ward_error **err)
{
  char path[4096];
  cleanup_free char *text = NULL;
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  const char *p = text;
  if (key)
    {
      size_t n = strlen (key);
      for (p = text; p && !(strncmp (p, key, n) == 0 && p[n] == ' ');
           p = strchr (p, '\n'), p = p ? p + 1 : NULL)
        ;
      if (p == NULL)
        return ward_fail (err, 0, "%s: no %s", path, key);
      p += n + 1;
    }
  *out = strtoull (p, NULL, 10);
  return 0;
}

int
usage_cgroup_cpu_usec (const struct cgroup *cg, uint64_t *usec, struct ward_error **err)
{
  /* v1's cpuacct first: on a hybrid host the unified hierarchy holds no
   * controller.  cgroup2's cpu.stat is there whether or not the cpu
   * controller is enabled. */
  for (size_t i = 0; i < cg->count; i++)
    if (!cg->hierarchies[i].unified && (cg->hierarchies[i].controllers & (1u << CGROUP_CPUACCT)))
      {
        uint64_t ns;
        if (read_number_file (cg->hierarchies[i].path, "cpuacct.usage", NULL, &ns, err) < 0)
          return -1;
        *usec = ns / 1000;
        return 0;
      }
  for (size_t i = 0; i < cg->count; i++)
    if (cg->hierarchies[i].unified)
      return read_number_file (cg->hierarchies[i].path, "cpu.stat", "usage_usec", usec, err);
  return ward_fail (err, ENOENT, "no CPU accounting in the container's cgroup");
}
