/* Policy profiles: the shipped ones load, agent-strict is stricter than
 * agent-default field by field, every bad field is refused with a message
 * naming the field and its position, and units and names parse as
 * ward-policy(5) says. */
#include "config.h"
#include "harness.h"
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The tree's profiles: the test runs from the build directory, which is the
 * source tree's root unless the build says otherwise. */
#ifndef WARD_TEST_POLICY_DIR
#define WARD_TEST_POLICY_DIR "policy-profiles"
#endif

static const char *
tree_dir (void)
{
  const char *dir = getenv ("WARD_POLICY_DIR");
  return dir && dir[0] ? dir : WARD_TEST_POLICY_DIR;
}

static struct policy *
load (const char *name)
{
  struct policy *p = NULL;
  struct ward_error *err = NULL;
  if (policy_load (tree_dir (), name, &p, &err) < 0)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  return p;
}

static char *
read_text (const char *path)
{
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return NULL;
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&text, &size);
  int c;
  while ((c = fgetc (f)) != EOF)
    fputc (c, out);
  fclose (out);
  fclose (f);
  return text;
}

static int
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (f == NULL)
    return -1;
  fputs (text, f);
  return fclose (f);
}

/* A scratch policy directory with the seccomp profile the shipped ones name. */
static char scratch[64];

static const char *
scratch_dir (void)
{
  if (scratch[0])
    return scratch;
  char path[256], source[256];
  snprintf (scratch, sizeof scratch, "/tmp/ward-test-policy-XXXXXX");
  if (mkdtemp (scratch) == NULL)
    return NULL;
  snprintf (path, sizeof path, "%s/seccomp", scratch);
  mkdir (path, 0700);
  snprintf (source, sizeof source, "%s/seccomp/agent.json", tree_dir ());
  char *seccomp = read_text (source);
  snprintf (path, sizeof path, "%s/seccomp/agent.json", scratch);
  write_text (path, seccomp ? seccomp : "{}");
  free (seccomp);
  return scratch;
}

/* Writes the shipped `base` profile with `from` replaced by `to` into the
 * scratch directory, loads it and checks the message.  The position
 * expected is that of the "@" in `to` (removed before writing), and the
 * message's "%P" stands for "line L, column C" there. */
static void
check_variant_at (const char *file, int line, const char *base, const char *from, const char *to,
                  const char *expected)
{
  char path[512], position[64], message[1024];
  snprintf (path, sizeof path, "%s/%s.json", tree_dir (), base);
  char *text = read_text (path);
  char *at = text ? strstr (text, from) : NULL;
  if (at == NULL)
    {
      harness_check (false, file, line, "the base profile holds the text to replace");
      free (text);
      return;
    }
  const char *marker = strchr (to, '@');
  size_t prefix = (size_t)(at - text);
  char *variant = NULL;
  if (asprintf (&variant, "%.*s%.*s%s%s", (int)prefix, text, (int)(marker - to), to, marker + 1,
                at + strlen (from))
      < 0)
    abort ();
  /* 1-based line and column of the marker, counted as json_position does. */
  unsigned l = 1, c = 1;
  for (size_t i = 0; i < prefix + (size_t)(marker - to); i++)
    if (variant[i] == '\n')
      l++, c = 1;
    else
      c++;
  snprintf (position, sizeof position, "line %u, column %u", l, c);
  const char *p = strstr (expected, "%P");
  if (p)
    snprintf (message, sizeof message, "%.*s%s%s", (int)(p - expected), expected, position, p + 2);
  else
    snprintf (message, sizeof message, "%s", expected);

  snprintf (path, sizeof path, "%s/%s.json", scratch_dir (), base);
  write_text (path, variant);
  struct policy *policy = NULL;
  struct ward_error *err = NULL;
  if (policy_load (scratch_dir (), base, &policy, &err) == 0)
    {
      harness_check (false, file, line, "policy_load failed");
      printf ("    expected: \"%s\"\n", message);
      policy_free (policy);
    }
  else
    harness_check_str (err->message, message, file, line, "message", "expected");
  ward_error_free (&err);
  unlink (path);
  free (variant);
  free (text);
}

#define CHECK_VARIANT(from, to, expected)                                                                    \
  check_variant_at (__FILE__, __LINE__, "agent-default", (from), (to), (expected))
#define CHECK_STRICT_VARIANT(from, to, expected)                                                             \
  check_variant_at (__FILE__, __LINE__, "agent-strict", (from), (to), (expected))

TEST (shipped_profiles_load)
{
  static const char *const names[] = { "agent-default", "agent-strict", "agent-dev" };
  for (size_t i = 0; i < 3; i++)
    {
      struct policy *p = load (names[i]);
      REQUIRE (p != NULL);
      CHECK_STR_EQ (p->name, names[i]);
      CHECK (p->description[0] != '\0');
      CHECK (p->no_new_privileges);
      CHECK_STR_EQ (p->seccomp, "seccomp/agent.json");
      CHECK (p->namespaces_required & POLICY_NS_PID);
      CHECK (p->namespaces_required & POLICY_NS_MOUNT);
      CHECK (p->devices_allowed & POLICY_DEV_NULL);
      CHECK (p->tmpfs_count >= 1);
      CHECK (p->landlock_enabled);
      CHECK (p->egress_block_metadata);
      CHECK (p->egress_block_private_ranges);
      policy_free (p);
    }
}

TEST (agent_default_values)
{
  struct policy *p = load ("agent-default");
  REQUIRE (p != NULL);
  CHECK_INT_EQ (p->capabilities_count, 0);
  CHECK (p->readonly_rootfs);
  CHECK_INT_EQ (p->network, POLICY_NETWORK_NEW_OR_JOINED);
  CHECK_STR_EQ (p->tmpfs[0].destination, "/tmp");
  CHECK_INT_EQ (p->tmpfs[0].size, 256ll << 20);
  CHECK_INT_EQ (p->tmpfs[0].mode, 01777);
  CHECK_INT_EQ (p->watchdog_timeout.default_value, 1800);
  CHECK_INT_EQ (p->watchdog_timeout.maximum, 7200);
  CHECK_INT_EQ (p->watchdog_grace, 10);
  CHECK_INT_EQ (p->watchdog_on_breach, POLICY_BREACH_KILL);
  bool core_zero = false;
  for (size_t i = 0; i < p->rlimits_count; i++)
    if (strcmp (p->rlimits[i].name, "core") == 0)
      core_zero = p->rlimits[i].value == 0;
  CHECK (core_zero);
  bool docker_forbidden = false;
  for (size_t i = 0; i < p->forbidden_bind_sources_count; i++)
    docker_forbidden |= strcmp (p->forbidden_bind_sources[i], "/var/run/docker.sock") == 0;
  CHECK (docker_forbidden);
  policy_free (p);
}

TEST (agent_dev_is_looser)
{
  struct policy *p = load ("agent-dev");
  REQUIRE (p != NULL);
  CHECK (!p->readonly_rootfs);
  CHECK_INT_EQ (p->capabilities_count, 7);
  CHECK (p->capabilities_mask & (1ull << 0));     /* CAP_CHOWN */
  CHECK (!(p->capabilities_mask & (1ull << 21))); /* never CAP_SYS_ADMIN */
  policy_free (p);
}

static uint64_t
rlimit_of (const struct policy *p, const char *name)
{
  for (size_t i = 0; i < p->rlimits_count; i++)
    if (strcmp (p->rlimits[i].name, name) == 0)
      return p->rlimits[i].value;
  return UINT64_MAX;
}

TEST (agent_strict_is_stricter_than_default)
{
  struct policy *s = load ("agent-strict"), *d = load ("agent-default");
  REQUIRE (s != NULL && d != NULL);
  CHECK (s->capabilities_count <= d->capabilities_count);
  CHECK ((s->capabilities_mask & ~d->capabilities_mask) == 0);
  CHECK (s->readonly_rootfs);
  CHECK (s->user_force_non_root && !d->user_force_non_root);
  CHECK (s->user_uid != 0);
  CHECK_INT_EQ (s->network, POLICY_NETWORK_NEW);
  CHECK (s->namespaces_required & POLICY_NS_NETWORK);
  CHECK ((d->namespaces_required & ~s->namespaces_required) == 0);
  CHECK (!s->egress_enabled && !s->egress_annotations_may_extend);
  CHECK_INT_EQ (s->egress_allow_count, 0);
  CHECK ((s->devices_allowed & ~d->devices_allowed) == 0);
  CHECK (s->resources_maximum.pids < d->resources_maximum.pids);
  CHECK (s->resources_maximum.memory < d->resources_maximum.memory);
  CHECK (s->resources_maximum.cpu_quota < d->resources_maximum.cpu_quota);
  CHECK (s->resources_default.pids < d->resources_default.pids);
  CHECK (s->resources_default.memory < d->resources_default.memory);
  CHECK (s->watchdog_timeout.maximum < d->watchdog_timeout.maximum);
  CHECK (s->watchdog_cpu_seconds.maximum < d->watchdog_cpu_seconds.maximum);
  CHECK (s->watchdog_egress_bytes.maximum < d->watchdog_egress_bytes.maximum);
  CHECK (s->watchdog_connections.maximum < d->watchdog_connections.maximum);
  CHECK (s->watchdog_budget.units.maximum < d->watchdog_budget.units.maximum);
  CHECK (rlimit_of (s, "nofile") < rlimit_of (d, "nofile"));
  CHECK (rlimit_of (s, "nproc") < rlimit_of (d, "nproc"));
  CHECK_INT_EQ (rlimit_of (s, "core"), 0);
  CHECK (s->tmpfs[0].size <= d->tmpfs[0].size);
  CHECK (s->forbidden_bind_sources_count >= d->forbidden_bind_sources_count);
  policy_free (s);
  policy_free (d);
}

TEST (list_finds_the_profiles)
{
  char **names = NULL;
  size_t count = 0;
  struct ward_error *err = NULL;
  REQUIRE (policy_list (tree_dir (), &names, &count, &err) == 0);
  REQUIRE (count == 3);
  CHECK_STR_EQ (names[0], "agent-default");
  CHECK_STR_EQ (names[1], "agent-dev");
  CHECK_STR_EQ (names[2], "agent-strict");
  policy_names_free (names, count);
  CHECK (policy_list ("/nonexistent-ward-policy", &names, &count, &err) == -1);
  CHECK_STR_EQ (err->message, "open policy directory /nonexistent-ward-policy: No such file or directory");
  ward_error_free (&err);
}

TEST (rendered_profile_loads_back_the_same)
{
  static const char *const names[] = { "agent-default", "agent-strict", "agent-dev" };
  for (size_t i = 0; i < 3; i++)
    {
      struct policy *p = load (names[i]), *again = NULL;
      struct ward_error *err = NULL;
      char *json = NULL, *json_again = NULL, display[64];
      REQUIRE (p != NULL);
      REQUIRE (policy_to_json (p, &json, &err) == 0);
      snprintf (display, sizeof display, "%s.json", names[i]);
      if (policy_parse (tree_dir (), display, json, strlen (json), &again, &err) < 0)
        {
          printf ("  %s\n", err->message);
          ward_error_free (&err);
        }
      REQUIRE (again != NULL);
      REQUIRE (policy_to_json (again, &json_again, &err) == 0);
      CHECK_STR_EQ (json_again, json);
      free (json);
      free (json_again);
      policy_free (p);
      policy_free (again);
    }
}

TEST (durations_parse)
{
  uint64_t v = 0;
  CHECK (policy_parse_duration ("90s", &v) == 0 && v == 90);
  CHECK (policy_parse_duration ("30m", &v) == 0 && v == 1800);
  CHECK (policy_parse_duration ("2h", &v) == 0 && v == 7200);
  CHECK (policy_parse_duration ("1d", &v) == 0 && v == 86400);
  CHECK (policy_parse_duration ("0s", &v) == 0 && v == 0);
  static const char *const bad[] = {
    "", "90", "s", "-5s", "1.5h", "5 s", "5sec", "10x", "99999999999999999999s", "300000000000000000d"
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (!CHECK (policy_parse_duration (bad[i], &v) == -1))
      printf ("    accepted \"%s\"\n", bad[i]);
}

TEST (sizes_parse)
{
  uint64_t v = 0;
  CHECK (policy_parse_size ("64m", &v) == 0 && v == 67108864);
  CHECK (policy_parse_size ("1g", &v) == 0 && v == 1073741824);
  CHECK (policy_parse_size ("1G", &v) == 0 && v == 1073741824);
  CHECK (policy_parse_size ("64k", &v) == 0 && v == 65536);
  CHECK (policy_parse_size ("65536", &v) == 0 && v == 65536);
  CHECK (policy_parse_size ("2t", &v) == 0 && v == 2ull << 40);
  static const char *const bad[]
      = { "", "m", "-1m", "1.5g", "1gb", "1 g", "12q", "99999999999999999999", "17179869184g" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (!CHECK (policy_parse_size (bad[i], &v) == -1))
      printf ("    accepted \"%s\"\n", bad[i]);
}

TEST (names_are_checked)
{
  CHECK (policy_name_valid ("agent-default"));
  CHECK (policy_name_valid ("team2-ci"));
  CHECK (!policy_name_valid (""));
  CHECK (!policy_name_valid ("../etc/passwd"));
  CHECK (!policy_name_valid (".."));
  CHECK (!policy_name_valid ("a/b"));
  CHECK (!policy_name_valid ("Agent"));
  CHECK (!policy_name_valid ("agent.json"));
  struct policy *p = NULL;
  struct ward_error *err = NULL;
  CHECK (policy_load (tree_dir (), "../policy-profiles/agent-default", &p, &err) == -1);
  CHECK_STR_EQ (err->message,
                "policy: invalid profile name \"../policy-profiles/agent-default\" (expected [a-z0-9-]+)");
  ward_error_free (&err);
  CHECK (policy_load (tree_dir (), "..", &p, &err) == -1);
  ward_error_free (&err);
  CHECK (policy_load (tree_dir (), "no-such-profile", &p, &err) == -1);
  CHECK (err && strstr (err->message, "policy: no profile \"no-such-profile\" in ") == err->message);
  ward_error_free (&err);
}

TEST (policy_directory_follows_the_environment)
{
  char *saved = getenv ("WARD_POLICY_DIR") ? strdup (getenv ("WARD_POLICY_DIR")) : NULL;
  setenv ("WARD_POLICY_DIR", "/somewhere/else", 1);
  CHECK_STR_EQ (policy_directory (), "/somewhere/else");
  unsetenv ("WARD_POLICY_DIR");
  CHECK_STR_EQ (policy_directory (), WARD_POLICY_DIR_DEFAULT);
  setenv ("WARD_POLICY_DIR", "", 1);
  CHECK_STR_EQ (policy_directory (), WARD_POLICY_DIR_DEFAULT);
  if (saved)
    setenv ("WARD_POLICY_DIR", saved, 1);
  else
    unsetenv ("WARD_POLICY_DIR");
  free (saved);
}

TEST (bad_fields_are_refused_with_positions)
{
  CHECK_VARIANT ("\"maximum\": []", "\"maximum\": [\"CAP_CHOWN\", \"CAP_KILL\", @\"CAP_FLY\"]",
                 "agent-default.json: capabilities.maximum[2]: unknown capability \"CAP_FLY\" at %P");
  CHECK_VARIANT ("\"maximum\": []", "\"maximum\": [@\"chown\"]",
                 "agent-default.json: capabilities.maximum[0]: unknown capability \"chown\" at %P");
  CHECK_VARIANT (
      "\"grace\": \"10s\"", "\"grace\": @\"10x\"",
      "agent-default.json: watchdog.grace: invalid duration \"10x\" (expected e.g. 90s, 30m, 2h) at %P");
  CHECK_VARIANT (
      "\"maximum\": \"2h\"", "\"maximum\": @\"2 hours\"",
      "agent-default.json: watchdog.timeout.maximum: invalid duration \"2 hours\" (expected e.g. 90s, "
      "30m, 2h) at %P");
  CHECK_VARIANT (
      "\"size\": \"256m\"", "\"size\": @\"256mb\"",
      "agent-default.json: tmpfs[0].size: invalid size \"256mb\" (expected e.g. 65536, 64m, 1g) at %P");
  CHECK_VARIANT ("\"size\": \"256m\"", "\"size\": @\"0\"",
                 "agent-default.json: tmpfs[0].size: must be greater than 0 at %P");
  CHECK_VARIANT ("\"mode\": \"1777\"", "\"mode\": @\"1789\"",
                 "agent-default.json: tmpfs[0].mode: invalid octal mode \"1789\" at %P");
  CHECK_VARIANT ("\"destination\": \"/tmp\"", "\"destination\": @\"tmp\"",
                 "agent-default.json: tmpfs[0].destination: \"tmp\" is not an absolute path at %P");
  CHECK_VARIANT ("\"/proc/kcore\"", "@\"proc/kcore\"",
                 "agent-default.json: maskedPaths[0]: \"proc/kcore\" is not an absolute path at %P");
  CHECK_VARIANT (
      "\"/var/run/docker.sock\"", "@\"docker.sock\"",
      "agent-default.json: forbiddenBindSources[7]: \"docker.sock\" is not an absolute path at %P");
  CHECK_VARIANT ("\"seccomp/agent.json\"", "@\"/etc/seccomp.json\"",
                 "agent-default.json: seccomp: \"/etc/seccomp.json\" must be a path relative to the policy "
                 "directory, without \"..\" at %P");
  CHECK_VARIANT ("\"seccomp/agent.json\"", "@\"../seccomp.json\"",
                 "agent-default.json: seccomp: \"../seccomp.json\" must be a path relative to the policy "
                 "directory, without \"..\" at %P");
  char expected[512];
  snprintf (expected, sizeof expected,
            "agent-default.json: seccomp: %s/seccomp/none.json: No such file or directory at %%P",
            scratch_dir ());
  CHECK_VARIANT ("\"seccomp/agent.json\"", "@\"seccomp/none.json\"", expected);
  CHECK_VARIANT ("\"noNewPrivileges\": true", "\"noNewPrivileges\": true, \"noNewPrivilege\": @true",
                 "agent-default.json: noNewPrivilege: unknown field at %P");
  CHECK_VARIANT ("\"noNewPrivileges\": true", "\"noNewPrivileges\": @\"yes\"",
                 "agent-default.json: noNewPrivileges: expected a boolean at %P");
  CHECK_VARIANT ("\"readonlyRootfs\": true,", "@",
                 "agent-default.json: readonlyRootfs: required field is missing");
  CHECK_VARIANT ("\"network\": \"new-or-joined\"", "\"network\": @\"host\"",
                 "agent-default.json: namespaces.network: unknown value \"host\" at %P");
  CHECK_VARIANT ("\"required\": [", "\"required\": [@\"time\", ",
                 "agent-default.json: namespaces.required[0]: unknown namespace \"time\" at %P");
  CHECK_VARIANT ("\"allowed\": [", "\"allowed\": [@\"kmem\", ",
                 "agent-default.json: devices.allowed[0]: unknown device \"kmem\" at %P");
  CHECK_VARIANT ("\"core\": 0", "\"cores\": @0",
                 "agent-default.json: rlimits.cores: unknown rlimit \"cores\" at %P");
  CHECK_VARIANT ("\"core\": 0", "\"core\": @-1",
                 "agent-default.json: rlimits.core: expected a non-negative integer, got -1 at %P");
  CHECK_VARIANT ("\"pids\": 256", "\"pids\": @5000",
                 "agent-default.json: resources.default.pids: default 5000 is above the maximum 1024 at %P");
  CHECK_VARIANT ("\"pids\": 256", "\"pids\": @0",
                 "agent-default.json: resources.default.pids: must be greater than 0 at %P");
  CHECK_VARIANT ("\"onBreach\": \"kill\"", "\"onBreach\": @\"ignore\"",
                 "agent-default.json: watchdog.onBreach: unknown value \"ignore\" at %P");
  CHECK_VARIANT ("\"name\": \"agent-default\"", "\"name\": @\"agent-other\"",
                 "agent-default.json: name: \"agent-other\" does not match the file name at %P");
  CHECK_VARIANT (
      "\"name\": \"agent-default\"", "\"name\": @\"Agent_Default\"",
      "agent-default.json: name: invalid profile name \"Agent_Default\" (expected [a-z0-9-]+) at %P");
  CHECK_VARIANT ("\"writablePaths\": [", "\"writablePaths\": [@\"scratch\", ",
                 "agent-default.json: landlock.writablePaths[0]: \"scratch\" is not an absolute path at %P");
  CHECK_VARIANT ("\"meteredDomains\": []",
                 "\"meteredDomains\": [{\"domain\": @\"API.example.com\", \"perConnection\": 5}]",
                 "agent-default.json: watchdog.budget.rates.meteredDomains[0].domain: invalid domain "
                 "\"API.example.com\" (expected e.g. api.example.com or *.example.com, lowercase) at %P");
  CHECK_VARIANT ("\"meteredDomains\": []",
                 "\"meteredDomains\": [{\"domain\": \"*.example.com\", \"cost\": @5}]",
                 "agent-default.json: watchdog.budget.rates.meteredDomains[0].cost: unknown field at %P");
  CHECK_VARIANT ("\"meteredDomains\": []", "\"meteredDomains\": [@{\"domain\": \"a.example.com\"}]",
                 "agent-default.json: watchdog.budget.rates.meteredDomains[0].perConnection: required field "
                 "is missing");
  CHECK_VARIANT ("\"connection\": 1,\n        \"meteredDomains\": []", "\"connection\": 1@",
                 "agent-default.json: watchdog.budget.rates.meteredDomains: required field is missing");
  CHECK_STRICT_VARIANT ("\"uid\": 65534", "\"uid\": @0",
                        "agent-strict.json: user.uid: must not be 0 when user.forceNonRoot is true at %P");
}

TEST (metered_domains_parse_and_render)
{
  char path[512];
  snprintf (path, sizeof path, "%s/agent-default.json", tree_dir ());
  char *text = read_text (path);
  REQUIRE (text);
  const char *from = "\"meteredDomains\": []";
  char *at = strstr (text, from);
  REQUIRE (at);
  char *variant = NULL;
  if (asprintf (&variant,
                "%.*s\"meteredDomains\": [{\"domain\": \"api.example.com\", \"perConnection\": 5}, "
                "{\"domain\": \"*.models.example\", \"perConnection\": 0}]%s",
                (int)(at - text), text, at + strlen (from))
      < 0)
    abort ();
  struct policy *p = NULL, *again = NULL;
  struct ward_error *err = NULL;
  REQUIRE (policy_parse (tree_dir (), "agent-default.json", variant, strlen (variant), &p, &err) == 0);
  CHECK_INT_EQ (p->watchdog_budget.metered_count, 2);
  CHECK_STR_EQ (p->watchdog_budget.metered[0].domain, "api.example.com");
  CHECK_INT_EQ (p->watchdog_budget.metered[0].per_connection, 5);
  CHECK_STR_EQ (p->watchdog_budget.metered[1].domain, "*.models.example");
  char *json = NULL;
  REQUIRE (policy_to_json (p, &json, &err) == 0);
  CHECK (strstr (json, "\"domain\": \"api.example.com\"") != NULL);
  REQUIRE (policy_parse (tree_dir (), "agent-default.json", json, strlen (json), &again, &err) == 0);
  CHECK_INT_EQ (again->watchdog_budget.metered_count, 2);
  CHECK_STR_EQ (again->watchdog_budget.metered[1].domain, "*.models.example");
  policy_free (again);
  policy_free (p);
  free (json);
  free (variant);
  free (text);
}

static void
remove_scratch (void)
{
  char path[256];
  if (!scratch[0])
    return;
  snprintf (path, sizeof path, "%s/seccomp/agent.json", scratch);
  unlink (path);
  snprintf (path, sizeof path, "%s/seccomp", scratch);
  rmdir (path);
  rmdir (scratch);
}

TEST (cleanup)
{
  remove_scratch ();
}

static const struct harness_test tests[] = {
  TEST_ENTRY (shipped_profiles_load),
  TEST_ENTRY (agent_default_values),
  TEST_ENTRY (agent_dev_is_looser),
  TEST_ENTRY (agent_strict_is_stricter_than_default),
  TEST_ENTRY (list_finds_the_profiles),
  TEST_ENTRY (rendered_profile_loads_back_the_same),
  TEST_ENTRY (durations_parse),
  TEST_ENTRY (sizes_parse),
  TEST_ENTRY (names_are_checked),
  TEST_ENTRY (policy_directory_follows_the_environment),
  TEST_ENTRY (bad_fields_are_refused_with_positions),
  TEST_ENTRY (metered_domains_parse_and_render),
  TEST_ENTRY (cleanup),
};

HARNESS_MAIN (tests)
