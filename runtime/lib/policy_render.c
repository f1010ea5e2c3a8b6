/* A policy as JSON (`ward policy show`): rendered from the parsed struct,
 * so it shows the values ward will use, and is itself a valid profile. */
#include "config.h"
#include "policy.h"
#include "policy_tables.h"
#include "cleanup.h"
#include "json_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
write_strings (struct json_writer *w, const char *key, char **items, size_t count)
{
  jw_key (w, key);
  jw_begin_array (w);
  for (size_t i = 0; i < count; i++)
    jw_string (w, items[i]);
  jw_end_array (w);
}

static void
write_bits (struct json_writer *w, const char *key, const struct policy_named_bit *table, size_t count,
            unsigned bits)
{
  jw_key (w, key);
  jw_begin_array (w);
  for (size_t i = 0; i < count; i++)
    if (bits & table[i].bit)
      jw_string (w, table[i].name);
  jw_end_array (w);
}

static void
write_duration (struct json_writer *w, const char *key, uint64_t seconds)
{
  char text[32];
  snprintf (text, sizeof text, "%" PRIu64 "s", seconds);
  jw_key_string (w, key, text);
}

static void
write_size (struct json_writer *w, const char *key, uint64_t bytes)
{
  char text[32];
  snprintf (text, sizeof text, "%" PRIu64, bytes);
  jw_key_string (w, key, text);
}

static void
write_limit (struct json_writer *w, const char *key, const struct policy_limit *l,
             enum policy_limit_kind kind)
{
  jw_key (w, key);
  jw_begin_object (w);
  if (kind == LIMIT_DURATION)
    {
      write_duration (w, "default", l->default_value);
      write_duration (w, "maximum", l->maximum);
    }
  else if (kind == LIMIT_SIZE)
    {
      write_size (w, "default", l->default_value);
      write_size (w, "maximum", l->maximum);
    }
  else
    {
      jw_key (w, "default");
      jw_uint (w, l->default_value);
      jw_key (w, "maximum");
      jw_uint (w, l->maximum);
    }
  jw_end_object (w);
}

static void
write_resources (struct json_writer *w, const char *key, const struct policy_resources *r)
{
  jw_key (w, key);
  jw_begin_object (w);
  jw_key_int (w, "pids", r->pids);
  write_size (w, "memory", r->memory);
  jw_key_int (w, "cpuQuota", r->cpu_quota);
  jw_key_int (w, "cpuPeriod", (long long)r->cpu_period);
  jw_end_object (w);
}

static void
write_policy (struct json_writer *w, const struct policy *p)
{
  char mode[16];
  jw_begin_object (w);
  jw_key_string (w, "name", p->name);
  jw_key_string (w, "description", p->description);
  jw_key (w, "capabilities");
  jw_begin_object (w);
  write_strings (w, "maximum", p->capabilities_maximum, p->capabilities_count);
  jw_end_object (w);
  jw_key_bool (w, "noNewPrivileges", p->no_new_privileges);
  jw_key_bool (w, "readonlyRootfs", p->readonly_rootfs);
  jw_key (w, "user");
  jw_begin_object (w);
  jw_key_bool (w, "forceNonRoot", p->user_force_non_root);
  jw_key_int (w, "uid", p->user_uid);
  jw_key_int (w, "gid", p->user_gid);
  jw_end_object (w);
  jw_key (w, "tmpfs");
  jw_begin_array (w);
  for (size_t i = 0; i < p->tmpfs_count; i++)
    {
      jw_begin_object (w);
      jw_key_string (w, "destination", p->tmpfs[i].destination);
      write_size (w, "size", p->tmpfs[i].size);
      snprintf (mode, sizeof mode, "%04o", p->tmpfs[i].mode);
      jw_key_string (w, "mode", mode);
      jw_end_object (w);
    }
  jw_end_array (w);
  write_strings (w, "maskedPaths", p->masked_paths, p->masked_paths_count);
  write_strings (w, "readonlyPaths", p->readonly_paths, p->readonly_paths_count);
  jw_key_string (w, "seccomp", p->seccomp);
  jw_key (w, "namespaces");
  jw_begin_object (w);
  write_bits (w, "required", policy_namespace_names, policy_namespace_names_count, p->namespaces_required);
  jw_key_string (w, "network", policy_network_choices[p->network == POLICY_NETWORK_NEW ? 0 : 1]);
  jw_end_object (w);
  jw_key (w, "devices");
  jw_begin_object (w);
  write_bits (w, "allowed", policy_device_names, policy_device_names_count, p->devices_allowed);
  jw_end_object (w);
  write_strings (w, "forbiddenBindSources", p->forbidden_bind_sources, p->forbidden_bind_sources_count);
  write_strings (w, "engineBindSources", p->engine_bind_sources, p->engine_bind_sources_count);
  jw_key (w, "rlimits");
  jw_begin_object (w);
  for (size_t i = 0; i < p->rlimits_count; i++)
    {
      jw_key (w, p->rlimits[i].name);
      jw_uint (w, p->rlimits[i].value);
    }
  jw_end_object (w);
  jw_key (w, "resources");
  jw_begin_object (w);
  write_resources (w, "default", &p->resources_default);
  write_resources (w, "maximum", &p->resources_maximum);
  jw_end_object (w);
  jw_key (w, "lsm");
  jw_begin_object (w);
  jw_key_string (w, "apparmorProfile", p->apparmor_profile);
  jw_key_string (w, "selinuxLabel", p->selinux_label);
  jw_end_object (w);
  jw_key (w, "landlock");
  jw_begin_object (w);
  jw_key_bool (w, "enabled", p->landlock_enabled);
  write_strings (w, "writablePaths", p->landlock_writable_paths, p->landlock_writable_paths_count);
  jw_key_bool (w, "connectPortsFromEgress", p->landlock_connect_ports_from_egress);
  jw_end_object (w);
  jw_key (w, "egress");
  jw_begin_object (w);
  jw_key_bool (w, "enabled", p->egress_enabled);
  write_strings (w, "allow", p->egress_allow, p->egress_allow_count);
  jw_key_bool (w, "annotationsMayExtend", p->egress_annotations_may_extend);
  jw_key_bool (w, "blockPrivateRanges", p->egress_block_private_ranges);
  jw_key_bool (w, "blockMetadata", p->egress_block_metadata);
  jw_end_object (w);
  jw_key (w, "watchdog");
  jw_begin_object (w);
  write_limit (w, "timeout", &p->watchdog_timeout, LIMIT_DURATION);
  write_limit (w, "cpuSeconds", &p->watchdog_cpu_seconds, LIMIT_COUNT);
  write_limit (w, "egressBytes", &p->watchdog_egress_bytes, LIMIT_SIZE);
  write_limit (w, "connections", &p->watchdog_connections, LIMIT_COUNT);
  write_limit (w, "connectRate", &p->watchdog_connect_rate, LIMIT_COUNT);
  jw_key (w, "budget");
  jw_begin_object (w);
  write_limit (w, "units", &p->watchdog_budget.units, LIMIT_COUNT);
  jw_key (w, "rates");
  jw_begin_object (w);
  jw_key (w, "cpuSecond");
  jw_uint (w, p->watchdog_budget.cpu_second);
  jw_key (w, "wallMinute");
  jw_uint (w, p->watchdog_budget.wall_minute);
  jw_key (w, "egressMebibyte");
  jw_uint (w, p->watchdog_budget.egress_mebibyte);
  jw_key (w, "connection");
  jw_uint (w, p->watchdog_budget.connection);
  jw_key (w, "meteredDomains");
  jw_begin_array (w);
  for (size_t i = 0; i < p->watchdog_budget.metered_count; i++)
    {
      jw_begin_object (w);
      jw_key_string (w, "domain", p->watchdog_budget.metered[i].domain);
      jw_key (w, "perConnection");
      jw_uint (w, p->watchdog_budget.metered[i].per_connection);
      jw_end_object (w);
    }
  jw_end_array (w);
  jw_end_object (w);
  jw_end_object (w);
  jw_key_string (w, "onBreach", policy_breach_choices[p->watchdog_on_breach == POLICY_BREACH_KILL ? 0 : 1]);
  write_duration (w, "grace", p->watchdog_grace);
  jw_end_object (w);
  jw_key (w, "verify");
  jw_begin_object (w);
  write_strings (w, "accept", p->verify_accept, p->verify_accept_count);
  jw_end_object (w);
  jw_end_object (w);
}

int
policy_to_json (const struct policy *policy, char **out, struct ward_error **err)
{
  struct json_writer *w = jw_new (true);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "render policy %s", policy->name);
  write_policy (w, policy);
  size_t length;
  const char *text = jw_text (w, &length);
  char *copy = text ? strndup (text, length) : NULL;
  jw_free (w);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "render policy %s", policy->name);
  *out = copy;
  return 0;
}
