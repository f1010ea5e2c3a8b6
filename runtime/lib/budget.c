#include "config.h"
#include "budget.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum value_kind
{
  VALUE_DURATION,
  VALUE_SIZE,
  VALUE_COUNT,
  VALUE_CPU, /* a count of seconds, or a duration */
};

/* The annotations that set a limit: the table says where the value goes
 * and which of the policy's limits bounds it. */
struct limit_annotation
{
  const char *name; /* without run.ward. */
  enum value_kind kind;
  size_t budget_offset;
  size_t policy_offset;
};

static const struct limit_annotation limit_annotations[] = {
  { "timeout", VALUE_DURATION, offsetof (struct budget, timeout),
    offsetof (struct policy, watchdog_timeout) },
  { "cpu-seconds", VALUE_CPU, offsetof (struct budget, cpu_seconds),
    offsetof (struct policy, watchdog_cpu_seconds) },
  { "egress-bytes", VALUE_SIZE, offsetof (struct budget, egress_bytes),
    offsetof (struct policy, watchdog_egress_bytes) },
  { "connections", VALUE_COUNT, offsetof (struct budget, connections),
    offsetof (struct policy, watchdog_connections) },
  { "connect-rate", VALUE_COUNT, offsetof (struct budget, connect_rate),
    offsetof (struct policy, watchdog_connect_rate) },
  { "budget", VALUE_COUNT, offsetof (struct budget, units), offsetof (struct policy, watchdog_budget.units) },
};

static int
parse_count (const char *text, uint64_t *out)
{
  if (text[0] < '0' || text[0] > '9')
    return -1;
  errno = 0;
  char *end;
  unsigned long long n = strtoull (text, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = n;
  return 0;
}

static int
parse_value (enum value_kind kind, const char *text, uint64_t *out)
{
  switch (kind)
    {
    case VALUE_DURATION:
      return policy_parse_duration (text, out);
    case VALUE_SIZE:
      return policy_parse_size (text, out);
    case VALUE_CPU:
      return parse_count (text, out) == 0 ? 0 : policy_parse_duration (text, out);
    default:
      return parse_count (text, out);
    }
}

static void
format_malformed (enum value_kind kind, const char *value, char *buf, size_t size)
{
  switch (kind)
    {
    case VALUE_DURATION:
      snprintf (buf, size, "duration \"%.64s\" (expected e.g. 90s, 30m, 2h)", value);
      break;
    case VALUE_SIZE:
      snprintf (buf, size, "size \"%.64s\" (expected e.g. 65536, 64m, 1g)", value);
      break;
    case VALUE_CPU:
      snprintf (buf, size, "CPU time \"%.64s\" (expected whole seconds or a duration, e.g. 600 or 10m)",
                value);
      break;
    default:
      snprintf (buf, size, "count \"%.64s\" (expected a non-negative integer)", value);
      break;
    }
}

static void
format_value (enum value_kind kind, uint64_t value, char *buf, size_t size)
{
  if (kind == VALUE_DURATION)
    budget_format_duration (value, buf, size);
  else if (kind == VALUE_SIZE)
    budget_format_size (value, buf, size);
  else
    snprintf (buf, size, "%llu", (unsigned long long)value);
}

/* Every message names the policy first, so that a refusal reads the same
 * as the policy's other refusals at create. */
static int __attribute__ ((format (printf, 4, 5)))
refuse (struct ward_error **err, const struct policy *policy, const char *key, const char *fmt, ...)
{
  char detail[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (detail, sizeof detail, fmt, ap);
  va_end (ap);
  if (policy)
    return ward_fail (err, 0, "policy %s: annotation %s: %s", policy->name, key, detail);
  return ward_fail (err, 0, "annotation %s: %s", key, detail);
}

static int
apply_limit (const struct limit_annotation *a, const struct policy *policy, const char *key,
             const char *value, struct budget *out, struct ward_error **err)
{
  uint64_t n;
  if (parse_value (a->kind, value, &n) < 0)
    {
      char what[256];
      format_malformed (a->kind, value, what, sizeof what);
      return refuse (err, policy, key, "invalid %s", what);
    }
  if (policy)
    {
      const struct policy_limit *limit = (const void *)((const char *)policy + a->policy_offset);
      if (n > limit->maximum)
        {
          char maximum[32];
          format_value (a->kind, limit->maximum, maximum, sizeof maximum);
          return refuse (err, policy, key, "%s is above the maximum %s", value, maximum);
        }
    }
  *(uint64_t *)((char *)out + a->budget_offset) = n;
  return 0;
}

static void
apply_defaults (const struct policy *policy, struct budget *out)
{
  memset (out, 0, sizeof *out);
  out->on_breach = POLICY_BREACH_KILL;
  out->grace = 10;
  for (size_t i = 0; i < sizeof limit_annotations / sizeof limit_annotations[0]; i++)
    {
      uint64_t *field = (uint64_t *)((char *)out + limit_annotations[i].budget_offset);
      *field = BUDGET_UNLIMITED;
      if (policy)
        *field = ((const struct policy_limit *)(const void *)((const char *)policy
                                                              + limit_annotations[i].policy_offset))
                     ->default_value;
    }
  if (policy == NULL)
    return;
  snprintf (out->policy, sizeof out->policy, "%s", policy->name);
  out->rates = (struct budget_rates){ .cpu_second = policy->watchdog_budget.cpu_second,
                                      .wall_minute = policy->watchdog_budget.wall_minute,
                                      .egress_mebibyte = policy->watchdog_budget.egress_mebibyte,
                                      .connection = policy->watchdog_budget.connection,
                                      .metered_count = policy->watchdog_budget.metered_count };
  memcpy (out->rates.metered, policy->watchdog_budget.metered, sizeof out->rates.metered);
  out->on_breach = policy->watchdog_on_breach;
  out->grace = policy->watchdog_grace;
}

static int
apply_annotation (const struct policy *policy, const char *key, const char *value, struct budget *out,
                  struct ward_error **err)
{
  const char *name = key + strlen (BUDGET_ANNOTATION_PREFIX);
  for (size_t i = 0; i < sizeof limit_annotations / sizeof limit_annotations[0]; i++)
    if (strcmp (name, limit_annotations[i].name) == 0)
      return apply_limit (&limit_annotations[i], policy, key, value, out, err);
  if (strcmp (name, "on-breach") == 0)
    {
      if (strcmp (value, "kill") == 0)
        out->on_breach = POLICY_BREACH_KILL;
      else if (strcmp (value, "freeze") == 0)
        out->on_breach = POLICY_BREACH_FREEZE;
      else
        return refuse (err, policy, key, "invalid action \"%s\" (expected kill or freeze)", value);
      return 0;
    }
  if (strcmp (name, "grace") == 0)
    {
      uint64_t grace;
      if (policy_parse_duration (value, &grace) < 0)
        return refuse (err, policy, key, "invalid duration \"%s\" (expected e.g. 5s, 1m)", value);
      /* The policy's grace is its ceiling too: a longer grace is more time
       * over budget. */
      if (policy && grace > policy->watchdog_grace)
        {
          char maximum[32];
          budget_format_duration (policy->watchdog_grace, maximum, sizeof maximum);
          return refuse (err, policy, key, "%s is above the maximum %s", value, maximum);
        }
      out->grace = grace;
    }
  /* Other run.ward.* annotations (policy, egress) belong to other parts. */
  return 0;
}

int
budget_resolve (const struct policy *policy, char *const *keys, char *const *values, size_t count,
                struct budget *out, struct ward_error **err)
{
  struct budget b;
  apply_defaults (policy, &b);
  for (size_t i = 0; i < count; i++)
    if (keys[i] && values[i]
        && strncmp (keys[i], BUDGET_ANNOTATION_PREFIX, strlen (BUDGET_ANNOTATION_PREFIX)) == 0
        && apply_annotation (policy, keys[i], values[i], &b, err) < 0)
      return -1;
  *out = b;
  return 0;
}

static uint64_t
saturate (unsigned __int128 v)
{
  return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

uint64_t
budget_cost_millis (const struct budget_rates *rates, const struct budget_usage *usage)
{
  /* In thousandths, with 128 bits, so that neither a fraction of a CPU
   * second nor a large rate is lost to rounding or overflow. */
  unsigned __int128 total = 0;
  total += (unsigned __int128)usage->cpu_usec * rates->cpu_second / 1000;
  total += (unsigned __int128)usage->wall_ms * rates->wall_minute / 60;
  total += (unsigned __int128)usage->egress_bytes * rates->egress_mebibyte * 1000 / (1u << 20);
  total += (unsigned __int128)usage->connections * rates->connection * 1000;
  for (size_t i = 0; i < rates->metered_count && i < BUDGET_METERED_MAX; i++)
    total += (unsigned __int128)usage->metered_connections[i] * rates->metered[i].per_connection * 1000;
  return saturate (total);
}

static bool
domain_matches (const char *domain, const char *name)
{
  size_t length = strlen (name);
  if (length > 0 && name[length - 1] == '.')
    length--;
  if (strncmp (domain, "*.", 2) != 0)
    return strlen (domain) == length && strncasecmp (name, domain, length) == 0;
  const char *suffix = domain + 2;
  size_t suffix_length = strlen (suffix);
  /* At least one label before ".suffix": not example.com, nor badexample.com. */
  if (length < suffix_length + 2)
    return false;
  const char *tail = name + length - suffix_length;
  return tail[-1] == '.' && tail[-2] != '.' && strncasecmp (tail, suffix, suffix_length) == 0;
}

int
budget_metered_index (const struct budget_rates *rates, const char *name)
{
  for (size_t i = 0; name && i < rates->metered_count && i < BUDGET_METERED_MAX; i++)
    if (domain_matches (rates->metered[i].domain, name))
      return (int)i;
  return -1;
}

/* Has a usage in fine units reached `limit` in coarse ones (limit × scale)? */
static bool
reached (uint64_t used, uint64_t limit, uint64_t scale)
{
  return limit != BUDGET_UNLIMITED && (unsigned __int128)used >= (unsigned __int128)limit * scale;
}

enum budget_limit
budget_check (const struct budget *budget, const struct budget_usage *usage)
{
  if (reached (usage->wall_ms, budget->timeout, 1000))
    return BUDGET_TIMEOUT;
  if (reached (usage->cpu_usec, budget->cpu_seconds, 1000000))
    return BUDGET_CPU_SECONDS;
  if (budget->egress_bytes != BUDGET_UNLIMITED && usage->egress_bytes > budget->egress_bytes)
    return BUDGET_EGRESS_BYTES;
  if (budget->connections != BUDGET_UNLIMITED && usage->connections > budget->connections)
    return BUDGET_CONNECTIONS;
  if (budget->units != BUDGET_UNLIMITED
      && budget_cost_millis (&budget->rates, usage) > (unsigned __int128)budget->units * 1000)
    return BUDGET_COST;
  return BUDGET_WITHIN;
}

const char *
budget_limit_name (enum budget_limit limit)
{
  static const char *const names[] = {
    [BUDGET_WITHIN] = "",
    [BUDGET_TIMEOUT] = "timeout",
    [BUDGET_CPU_SECONDS] = "cpu-seconds",
    [BUDGET_EGRESS_BYTES] = "egress-bytes",
    [BUDGET_CONNECTIONS] = "connections",
    [BUDGET_COST] = "budget",
  };
  return (unsigned)limit < sizeof names / sizeof names[0] ? names[limit] : "";
}

const char *
budget_breach_name (enum policy_breach breach)
{
  return breach == POLICY_BREACH_FREEZE ? "freeze" : "kill";
}

static void
write_limit (struct json_writer *w, const char *key, uint64_t value)
{
  jw_key (w, key);
  if (value == BUDGET_UNLIMITED)
    jw_null (w);
  else
    jw_uint (w, value);
}

void
budget_write_json (const struct budget *b, struct json_writer *w)
{
  jw_begin_object (w);
  jw_key (w, "policy");
  if (b->policy[0])
    jw_string (w, b->policy);
  else
    jw_null (w);
  write_limit (w, "timeout", b->timeout);
  write_limit (w, "cpu_seconds", b->cpu_seconds);
  write_limit (w, "egress_bytes", b->egress_bytes);
  write_limit (w, "connections", b->connections);
  write_limit (w, "connect_rate", b->connect_rate);
  write_limit (w, "budget", b->units);
  jw_key (w, "rates");
  jw_begin_object (w);
  write_limit (w, "cpu_second", b->rates.cpu_second);
  write_limit (w, "wall_minute", b->rates.wall_minute);
  write_limit (w, "egress_mebibyte", b->rates.egress_mebibyte);
  write_limit (w, "connection", b->rates.connection);
  jw_key (w, "metered_domains");
  jw_begin_array (w);
  for (size_t i = 0; i < b->rates.metered_count && i < BUDGET_METERED_MAX; i++)
    {
      jw_begin_object (w);
      jw_key_string (w, "domain", b->rates.metered[i].domain);
      jw_key (w, "per_connection");
      jw_uint (w, b->rates.metered[i].per_connection);
      jw_end_object (w);
    }
  jw_end_array (w);
  jw_end_object (w);
  jw_key_string (w, "on_breach", budget_breach_name (b->on_breach));
  jw_key (w, "grace");
  jw_uint (w, b->grace);
  jw_end_object (w);
}

int
budget_to_json (const struct budget *budget, char **out, struct ward_error **err)
{
  struct json_writer *w = jw_new (false);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "render budget");
  budget_write_json (budget, w);
  size_t length;
  const char *text = jw_text (w, &length);
  char *copy = text ? strndup (text, length) : NULL;
  jw_free (w);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "render budget");
  *out = copy;
  return 0;
}

void
budget_format_duration (uint64_t seconds, char *buf, size_t size)
{
  static const struct
  {
    uint64_t unit;
    char suffix;
  } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (seconds != 0 && seconds % units[i].unit == 0)
      {
        snprintf (buf, size, "%llu%c", (unsigned long long)(seconds / units[i].unit), units[i].suffix);
        return;
      }
  snprintf (buf, size, "%llus", (unsigned long long)seconds);
}

void
budget_format_size (uint64_t bytes, char *buf, size_t size)
{
  static const char suffixes[] = "tgmk";
  for (int i = 0; i < 4; i++)
    {
      uint64_t unit = 1ull << (10 * (4 - i));
      if (bytes != 0 && bytes % unit == 0)
        {
          snprintf (buf, size, "%llu%c", (unsigned long long)(bytes / unit), suffixes[i]);
          return;
        }
    }
  snprintf (buf, size, "%llu", (unsigned long long)bytes);
}
