/* Budgets: the policy's defaults apply when a container asks for nothing,
 * annotations change them up to the maxima and no further, malformed
 * values are refused naming the annotation, the cost is charged at the
 * policy's rates (metered domains too), budget_check names the limit gone
 * over, usage.json reads back what was written, and ward.conf's
 * usage_record_interval (the supervisor's budget.usage records) parses. */
#include "config.h"
#include "harness.h"
#include "budget.h"
#include "cleanup.h"
#include "usage.h"
#include "ward_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef WARD_TEST_POLICY_DIR
#define WARD_TEST_POLICY_DIR "policy-profiles"
#endif

static struct policy *
load (const char *name)
{
  struct policy *p = NULL;
  struct ward_error *err = NULL;
  if (policy_load (WARD_TEST_POLICY_DIR, name, &p, &err) < 0)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  return p;
}

/* Resolve with annotations given as "key=value" strings; returns the
 * error message (malloc'd) or NULL on success. */
static char *
resolve (const struct policy *policy, struct budget *out, const char *const *pairs)
{
  char *keys[16] = { 0 }, *values[16] = { 0 };
  size_t n = 0;
  for (; pairs && pairs[n]; n++)
    {
      keys[n] = strdup (pairs[n]);
      char *eq = strchr (keys[n], '=');
      *eq = '\0';
      values[n] = eq + 1;
    }
  struct ward_error *err = NULL;
  char *message = NULL;
  if (budget_resolve (policy, keys, values, n, out, &err) < 0)
    {
      message = strdup (err->message);
      ward_error_free (&err);
    }
  for (size_t i = 0; i < n; i++)
    free (keys[i]);
  return message;
}

TEST (defaults_come_from_the_policy)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p);
  struct budget b;
  char *message = resolve (p, &b, NULL);
  CHECK_STR_EQ (message, NULL);
  CHECK_STR_EQ (b.policy, "agent-default");
  CHECK_INT_EQ (b.timeout, p->watchdog_timeout.default_value);
  CHECK_INT_EQ (b.cpu_seconds, p->watchdog_cpu_seconds.default_value);
  CHECK_INT_EQ (b.egress_bytes, p->watchdog_egress_bytes.default_value);
  CHECK_INT_EQ (b.connections, p->watchdog_connections.default_value);
  CHECK_INT_EQ (b.connect_rate, p->watchdog_connect_rate.default_value);
  CHECK_INT_EQ (b.units, p->watchdog_budget.units.default_value);
  CHECK_INT_EQ (b.rates.cpu_second, p->watchdog_budget.cpu_second);
  CHECK_INT_EQ (b.on_breach, p->watchdog_on_breach);
  CHECK_INT_EQ (b.grace, p->watchdog_grace);
  free (message);
  policy_free (p);
}

TEST (annotations_set_every_limit)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p);
  struct budget b;
  const char *const pairs[] = { "run.ward.timeout=90s",
                                "run.ward.cpu-seconds=30",
                                "run.ward.egress-bytes=64m",
                                "run.ward.connections=10",
                                "run.ward.connect-rate=6",
                                "run.ward.budget=100",
                                "run.ward.on-breach=freeze",
                                "run.ward.grace=2s",
                                "run.ward.policy=agent-default",
                                "org.example.unrelated=3h",
                                NULL };
  char *message = resolve (p, &b, pairs);
  CHECK_STR_EQ (message, NULL);
  CHECK_INT_EQ (b.timeout, 90);
  CHECK_INT_EQ (b.cpu_seconds, 30);
  CHECK_INT_EQ (b.egress_bytes, 64 << 20);
  CHECK_INT_EQ (b.connections, 10);
  CHECK_INT_EQ (b.connect_rate, 6);
  CHECK_INT_EQ (b.units, 100);
  CHECK_INT_EQ (b.on_breach, POLICY_BREACH_FREEZE);
  CHECK_INT_EQ (b.grace, 2);
  free (message);

  /* CPU time may be written as a duration too; the maximum itself is allowed. */
  const char *const at_maximum[] = { "run.ward.cpu-seconds=2h", "run.ward.timeout=2h", NULL };
  message = resolve (p, &b, at_maximum);
  CHECK_STR_EQ (message, NULL);
  CHECK_INT_EQ (b.cpu_seconds, 7200);
  CHECK_INT_EQ (b.timeout, 7200);
  free (message);
  policy_free (p);
}

static void
check_refused (const struct policy *p, const char *pair, const char *expected)
{
  struct budget b;
  const char *const pairs[] = { pair, NULL };
  char *message = resolve (p, &b, pairs);
  CHECK_STR_EQ (message, expected);
  free (message);
}

TEST (above_the_maximum_is_refused_naming_annotation_and_policy)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p);
  check_refused (p, "run.ward.timeout=3h",
                 "policy agent-default: annotation run.ward.timeout: 3h is above the maximum 2h");
  check_refused (p, "run.ward.egress-bytes=5g",
                 "policy agent-default: annotation run.ward.egress-bytes: 5g is above the maximum 4g");
  check_refused (p, "run.ward.cpu-seconds=7201",
                 "policy agent-default: annotation run.ward.cpu-seconds: 7201 is above the maximum 7200");
  check_refused (p, "run.ward.budget=20001",
                 "policy agent-default: annotation run.ward.budget: 20001 is above the maximum 20000");
  check_refused (p, "run.ward.grace=1m",
                 "policy agent-default: annotation run.ward.grace: 1m is above the maximum 10s");
  policy_free (p);

  struct policy *strict = load ("agent-strict");
  REQUIRE (strict);
  check_refused (strict, "run.ward.connections=1",
                 "policy agent-strict: annotation run.ward.connections: 1 is above the maximum 0");
  policy_free (strict);
}

TEST (malformed_values_are_refused)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p);
  check_refused (p, "run.ward.timeout=10",
                 "policy agent-default: annotation run.ward.timeout: invalid duration \"10\" (expected e.g. "
                 "90s, 30m, 2h)");
  check_refused (p, "run.ward.egress-bytes=lots",
                 "policy agent-default: annotation run.ward.egress-bytes: invalid size \"lots\" (expected "
                 "e.g. 65536, 64m, 1g)");
  check_refused (p, "run.ward.connections=-1",
                 "policy agent-default: annotation run.ward.connections: invalid count \"-1\" (expected a "
                 "non-negative integer)");
  check_refused (p, "run.ward.budget=",
                 "policy agent-default: annotation run.ward.budget: invalid count \"\" (expected a "
                 "non-negative integer)");
  check_refused (p, "run.ward.on-breach=pause",
                 "policy agent-default: annotation run.ward.on-breach: invalid action \"pause\" (expected "
                 "kill or freeze)");
  check_refused (
      p, "run.ward.connections=99999999999999999999999",
      "policy agent-default: annotation run.ward.connections: invalid count \"99999999999999999999999\" "
      "(expected a non-negative integer)");
  policy_free (p);
}

TEST (without_a_policy_limits_are_unlimited_unless_asked)
{
  struct budget b;
  const char *const pairs[] = { "run.ward.timeout=12h", NULL };
  char *message = resolve (NULL, &b, pairs);
  CHECK_STR_EQ (message, NULL);
  CHECK_INT_EQ (b.timeout, 12 * 3600);
  CHECK (b.cpu_seconds == BUDGET_UNLIMITED);
  CHECK (b.units == BUDGET_UNLIMITED);
  CHECK_STR_EQ (b.policy, "");
  free (message);
  const char *const bad[] = { "run.ward.timeout=soon", NULL };
  message = resolve (NULL, &b, bad);
  CHECK_STR_EQ (message,
                "annotation run.ward.timeout: invalid duration \"soon\" (expected e.g. 90s, 30m, 2h)");
  free (message);
}

TEST (cost_is_charged_at_the_rates)
{
  struct budget_rates rates = { .cpu_second = 2, .wall_minute = 3, .egress_mebibyte = 5, .connection = 7 };
  struct budget_usage u
      = { .cpu_usec = 1500000, .wall_ms = 90000, .egress_bytes = 3 << 19, .connections = 2 };
  /* 1.5 s × 2 + 1.5 min × 3 + 1.5 MiB × 5 + 2 × 7 = 3 + 4.5 + 7.5 + 14 */
  CHECK_INT_EQ (budget_cost_millis (&rates, &u), 29000);
  struct budget_usage none = { 0 };
  CHECK_INT_EQ (budget_cost_millis (&rates, &none), 0);
  struct budget_usage huge = { .egress_bytes = UINT64_MAX, .connections = UINT64_MAX };
  CHECK (budget_cost_millis (&rates, &huge) == UINT64_MAX);
}

TEST (metered_connections_cost_their_domains_rate_on_top)
{
  struct budget_rates rates = { .connection = 1, .metered_count = 2 };
  snprintf (rates.metered[0].domain, sizeof rates.metered[0].domain, "api.example.com");
  rates.metered[0].per_connection = 10;
  snprintf (rates.metered[1].domain, sizeof rates.metered[1].domain, "*.models.example");
  rates.metered[1].per_connection = 3;
  /* 5 connections, 2 of them to api.example.com and 1 to a model host:
   * 5 × 1 + 2 × 10 + 1 × 3. */
  struct budget_usage u = { .connections = 5, .metered_connections = { 2, 1 } };
  CHECK_INT_EQ (budget_cost_millis (&rates, &u), 28000);
  /* A counter past the policy's domains costs nothing. */
  u.metered_connections[2] = 100;
  CHECK_INT_EQ (budget_cost_millis (&rates, &u), 28000);

  CHECK_INT_EQ (budget_metered_index (&rates, "api.example.com"), 0);
  CHECK_INT_EQ (budget_metered_index (&rates, "API.Example.com."), 0);
  CHECK_INT_EQ (budget_metered_index (&rates, "www.api.example.com"), -1);
  CHECK_INT_EQ (budget_metered_index (&rates, "eu.models.example"), 1);
  CHECK_INT_EQ (budget_metered_index (&rates, "models.example"), -1);
  CHECK_INT_EQ (budget_metered_index (&rates, "badmodels.example"), -1);
  CHECK_INT_EQ (budget_metered_index (&rates, NULL), -1);

  /* Over the cap through metered connections alone: a breach of the budget. */
  struct budget b;
  REQUIRE (resolve (NULL, &b, NULL) == NULL);
  b.rates = rates;
  b.units = 25;
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_COST);
  u.metered_connections[0] = 1; /* 5 + 10 + 3 */
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_WITHIN);

  char *json = NULL;
  struct ward_error *err = NULL;
  REQUIRE (budget_to_json (&b, &json, &err) == 0);
  CHECK (strstr (json,
                 "\"metered_domains\":[{\"domain\":\"api.example.com\",\"per_connection\":10},"
                 "{\"domain\":\"*.models.example\",\"per_connection\":3}]")
         != NULL);
  free (json);
}

TEST (metered_domains_come_from_the_policy)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p);
  p->watchdog_budget.metered_count = 1;
  snprintf (p->watchdog_budget.metered[0].domain, sizeof p->watchdog_budget.metered[0].domain,
            "api.example.com");
  p->watchdog_budget.metered[0].per_connection = 7;
  struct budget b;
  char *message = resolve (p, &b, NULL);
  CHECK_STR_EQ (message, NULL);
  CHECK_INT_EQ (b.rates.metered_count, 1);
  CHECK_STR_EQ (b.rates.metered[0].domain, "api.example.com");
  CHECK_INT_EQ (b.rates.metered[0].per_connection, 7);
  free (message);
  policy_free (p);
}

TEST (ward_conf_usage_record_interval)
{
  struct ward_conf *conf = NULL;
  struct ward_error *err = NULL;
  REQUIRE (ward_conf_parse ("ward.conf", "", &conf, &err) == 0);
  CHECK_INT_EQ (conf->usage_record_interval, 60);
  ward_conf_free (conf);
  REQUIRE (ward_conf_parse ("ward.conf", "usage_record_interval = 5\n", &conf, &err) == 0);
  CHECK_INT_EQ (conf->usage_record_interval, 5);
  ward_conf_free (conf);
  REQUIRE (ward_conf_parse ("ward.conf", "usage_record_interval = 2m\n", &conf, &err) == 0);
  CHECK_INT_EQ (conf->usage_record_interval, 120);
  ward_conf_free (conf);
  REQUIRE (ward_conf_parse ("ward.conf", "usage_record_interval = 0\n", &conf, &err) == 0);
  CHECK_INT_EQ (conf->usage_record_interval, 0);
  ward_conf_free (conf);
  CHECK (ward_conf_parse ("ward.conf", "\nusage_record_interval = often\n", &conf, &err) < 0);
  CHECK_STR_EQ (err ? err->message : NULL,
                "ward.conf:2: usage_record_interval: expected seconds or a duration (60, 5m), got \"often\"");
  ward_error_free (&err);
}

TEST (check_names_the_limit_gone_over)
{
  struct budget b;
  const char *const pairs[] = { "run.ward.timeout=2s", NULL };
  char *message = resolve (NULL, &b, pairs);
  REQUIRE (message == NULL);
  b.cpu_seconds = 1;
  b.egress_bytes = 1000;
  b.connections = 3;
  b.units = 10;
  b.rates = (struct budget_rates){ .connection = 4 };
  struct budget_usage u = { .wall_ms = 1999, .cpu_usec = 999999, .egress_bytes = 1000, .connections = 2 };
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_WITHIN);
  u.wall_ms = 2000;
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_TIMEOUT);
  u.wall_ms = 0;
  u.cpu_usec = 1000000;
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_CPU_SECONDS);
  u.cpu_usec = 0;
  u.egress_bytes = 1001;
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_EGRESS_BYTES);
  u.egress_bytes = 0;
  u.connections = 4;
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_CONNECTIONS);
  b.connections = BUDGET_UNLIMITED;
  u.connections = 3; /* 12 units > 10 */
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_COST);
  CHECK_STR_EQ (budget_limit_name (BUDGET_COST), "budget");
  CHECK_STR_EQ (budget_limit_name (BUDGET_CPU_SECONDS), "cpu-seconds");
  /* Rate limits reject connections; they never breach. */
  b.connect_rate = 0;
  u.connections = 1;
  CHECK_INT_EQ (budget_check (&b, &u), BUDGET_WITHIN);
}

TEST (renders_as_json)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p);
  struct budget b;
  const char *const pairs[] = { "run.ward.timeout=90s", NULL };
  char *message = resolve (p, &b, pairs);
  CHECK_STR_EQ (message, NULL);
  b.units = BUDGET_UNLIMITED;
  char *json = NULL;
  struct ward_error *err = NULL;
  REQUIRE (budget_to_json (&b, &json, &err) == 0);
  CHECK (strstr (json, "\"policy\":\"agent-default\",\"timeout\":90,") != NULL);
  CHECK (strstr (json, "\"budget\":null") != NULL);
  CHECK (strstr (json, "\"on_breach\":\"kill\",\"grace\":10}") != NULL);
  free (json);
  free (message);
  policy_free (p);
}

TEST (formats_durations_and_sizes_as_profiles_do)
{
  char buf[32];
  budget_format_duration (7200, buf, sizeof buf);
  CHECK_STR_EQ (buf, "2h");
  budget_format_duration (90, buf, sizeof buf);
  CHECK_STR_EQ (buf, "90s");
  budget_format_duration (0, buf, sizeof buf);
  CHECK_STR_EQ (buf, "0s");
  budget_format_size (4ull << 30, buf, sizeof buf);
  CHECK_STR_EQ (buf, "4g");
  budget_format_size (1000, buf, sizeof buf);
  CHECK_STR_EQ (buf, "1000");
}

TEST (usage_file_round_trips)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p);
  struct usage_snapshot s
      = { .time = "2025-01-02T03:04:05.123456789Z",
          .used = { .wall_ms = 12345, .cpu_usec = 1250000, .egress_bytes = 4096, .connections = 3 },
          .cost_millis = 14870,
          .breach = BUDGET_EGRESS_BYTES };
  char *message = resolve (p, &s.limits, NULL);
  CHECK_STR_EQ (message, NULL);
  s.limits.connect_rate = BUDGET_UNLIMITED;

  char dir[] = "/tmp/ward-test-usage-XXXXXX";
  REQUIRE (mkdtemp (dir) != NULL);
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct ward_error *err = NULL;
  REQUIRE (usage_write_at (fd, &s, &err) == 0);
  struct usage_snapshot back;
  memset (&back, 0xff, sizeof back);
  REQUIRE (usage_read_at (fd, &back, &err) == 0);
  CHECK_STR_EQ (back.time, s.time);
  CHECK_INT_EQ (back.used.wall_ms, 12345);
  CHECK_INT_EQ (back.used.cpu_usec, 1250000);
  CHECK_INT_EQ (back.used.egress_bytes, 4096);
  CHECK_INT_EQ (back.used.connections, 3);
  CHECK_INT_EQ (back.cost_millis, 14870);
  CHECK_INT_EQ (back.breach, BUDGET_EGRESS_BYTES);
  CHECK_STR_EQ (back.limits.policy, "agent-default");
  CHECK_INT_EQ (back.limits.timeout, s.limits.timeout);
  CHECK_INT_EQ (back.limits.cpu_seconds, s.limits.cpu_seconds);
  CHECK_INT_EQ (back.limits.egress_bytes, s.limits.egress_bytes);
  CHECK_INT_EQ (back.limits.connections, s.limits.connections);
  CHECK (back.limits.connect_rate == BUDGET_UNLIMITED);
  CHECK_INT_EQ (back.limits.units, s.limits.units);
  CHECK_INT_EQ (back.limits.rates.wall_minute, s.limits.rates.wall_minute);
  CHECK_INT_EQ (back.limits.on_breach, s.limits.on_breach);
  CHECK_INT_EQ (back.limits.grace, s.limits.grace);

  char *text = NULL;
  REQUIRE (usage_render (&s, &text, NULL, &err) == 0);
  CHECK (strstr (text, "\"wall_seconds\":12.345,\"cpu_seconds\":1.250,") != NULL);
  CHECK (strstr (text, "\"cost\":14.870,\"breach\":\"egress-bytes\"") != NULL);
  free (text);

  /* A missing file says so with ENOENT; a malformed one is an error. */
  unlinkat (fd, USAGE_FILE, 0);
  CHECK (usage_read_at (fd, &back, &err) < 0 && err && err->errnum == ENOENT);
  ward_error_free (&err);
  const char bad[] = "{\"wall_seconds\": \"long\"}";
  CHECK (usage_parse (USAGE_FILE, bad, sizeof bad - 1, &back, &err) < 0 && err);
  if (err)
    CHECK (strstr (err->message, "usage.json: wall_seconds: expected a non-negative number at line 1")
           != NULL);
  ward_error_free (&err);
  /* An older or smaller snapshot: absent fields are zero used, unlimited limits. */
  const char small[] = "{\"wall_seconds\": 2}";
  REQUIRE (usage_parse (USAGE_FILE, small, sizeof small - 1, &back, &err) == 0);
  CHECK_INT_EQ (back.used.wall_ms, 2000);
  CHECK_INT_EQ (back.used.cpu_usec, 0);
  CHECK (back.limits.timeout == BUDGET_UNLIMITED);
  rmdir (dir);
  free (message);
  policy_free (p);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (defaults_come_from_the_policy),
  TEST_ENTRY (annotations_set_every_limit),
  TEST_ENTRY (above_the_maximum_is_refused_naming_annotation_and_policy),
  TEST_ENTRY (malformed_values_are_refused),
  TEST_ENTRY (without_a_policy_limits_are_unlimited_unless_asked),
  TEST_ENTRY (cost_is_charged_at_the_rates),
  TEST_ENTRY (metered_connections_cost_their_domains_rate_on_top),
  TEST_ENTRY (metered_domains_come_from_the_policy),
  TEST_ENTRY (ward_conf_usage_record_interval),
  TEST_ENTRY (check_names_the_limit_gone_over),
  TEST_ENTRY (renders_as_json),
  TEST_ENTRY (formats_durations_and_sizes_as_profiles_do),
  TEST_ENTRY (usage_file_round_trips),
};

HARNESS_MAIN (tests)
