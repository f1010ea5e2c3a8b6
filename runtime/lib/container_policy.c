#include "config.h"
#include "container_policy.h"
#include "cleanup.h"
#include "egress_policy.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
container_policy_directory (const struct ward_conf *conf)
{
  const char *env = getenv ("WARD_POLICY_DIR");
  if ((env == NULL || *env == '\0') && conf->policy_dir)
    return conf->policy_dir;
  return policy_directory ();
}

int
container_policy_choose (const struct ward_conf *conf, const struct spec *spec, const char **name,
                         struct ward_error **err)
{
  const char *asked = spec_annotation (spec, POLICY_ANNOTATION);
  if (asked == NULL)
    {
      *name = conf->default_policy;
      return 0;
    }
  if (strcmp (asked, WARD_UNCONFINED) != 0 && !policy_name_valid (asked))
    return ward_fail (err, 0, "annotation %s: invalid policy name \"%s\" (expected [a-z0-9-]+)",
                      POLICY_ANNOTATION, asked);
  if (!ward_conf_policy_allowed (conf, asked))
    return ward_fail (err, 0, "annotation %s: policy \"%s\" is not allowed by %s%s", POLICY_ANNOTATION, asked,
                      conf->path,
                      strcmp (asked, WARD_UNCONFINED) == 0 ? " (it does not set allow_unconfined = true)"
                                                           : " (allowed_policies)");
  *name = asked;
  return 0;
}

static int
label_one (struct merge_report *report, const char *field, const char *lsm_name, const char *wanted,
           bool host_has_it, char **label)
{
  if (wanted == NULL || *wanted == '\0' || *label != NULL)
    return 0;
  if (!host_has_it)
    return merge_report_add (report, MERGE_NOTED, field, NULL, NULL,
                             "%s is not enabled on this host: the policy's label \"%s\" is not applied",
                             lsm_name, wanted);
  if ((*label = strdup (wanted)) == NULL)
    return -1;
  return merge_report_add (report, MERGE_CHANGED, field, NULL, wanted, "set to the policy's label");
}

int
container_policy_labels (const struct policy *policy, struct spec_process *process,
                         const struct lsm_host *host, struct merge_report *report, struct ward_error **err)
{
  if (label_one (report, "process.apparmorProfile", "AppArmor", policy->apparmor_profile,
                 host->apparmor_compiled_in && host->apparmor_enabled, &process->apparmor_profile)
          < 0
      || label_one (report, "process.selinuxLabel", "SELinux", policy->selinux_label,
                    host->selinux_compiled_in && host->selinux_enabled, &process->selinux_label)
          < 0)
    return ward_fail (err, ENOMEM, "policy %s", policy->name);
  return 0;
}

static bool
mount_is_writable (const struct spec_mount *m)
{
  static const char *const kernel_views[] = { "proc", "sysfs", "cgroup", "cgroup2" };
  for (size_t i = 0; m->type && i < WARD_ARRAY_SIZE (kernel_views); i++)
    if (strcmp (m->type, kernel_views[i]) == 0)
      return false;
  for (size_t i = 0; i < m->options_count; i++)
    if (strcmp (m->options[i], "ro") == 0)
      return false;
  return true;
}

static int
add_path (char ***list, size_t *count, const char *path)
{
  for (size_t i = 0; i < *count; i++)
    if (strcmp ((*list)[i], path) == 0)
      return 0;
  char **grown = realloc (*list, (*count + 2) * sizeof (char *));
  if (grown == NULL)
    return -1;
  *list = grown;
  if ((grown[*count] = strdup (path)) == NULL)
    return -1;
  grown[++*count] = NULL;
  return 0;
}

/* TCP connect only to the ports the egress allowlist names, and 53 for DNS
 * over TCP: Landlock sees the port given to connect(), before nftables
 * redirects DNS to the supervisor.  An entry without a port leaves every
 * port open, and Landlock cannot say "these addresses" at all: the
 * firewall does that. */
static int
plan_connect_ports (struct container_policy *cp, const struct spec *spec, struct ward_error **err)
{
  const struct policy *p = cp->policy;
  if (!p->egress_enabled || !p->landlock_connect_ports_from_egress)
    return 0;
  struct egress_allowlist list = { 0 };
  if (egress_allowlist_from_policy (p, spec, &list, err) < 0)
    return -1;
  uint16_t *ports = NULL;
  size_t count = 0;
  bool every_port = false;
  int ret = egress_allowlist_tcp_ports (&list, &ports, &count, &every_port, err);
  egress_allowlist_clear (&list);
  if (ret < 0)
    return -1;
  if (every_port)
    {
      free (ports);
      return 0;
    }
  bool has_dns = false;
  for (size_t i = 0; i < count; i++)
    has_dns |= ports[i] == 53;
  if (!has_dns)
    {
      uint16_t *grown = realloc (ports, (count + 1) * sizeof *ports);
      if (grown == NULL)
        {
          free (ports);
          return ward_fail (err, ENOMEM, "policy %s", p->name);
        }
      ports = grown;
      ports[count++] = 53;
    }
  cp->landlock_connect_ports = ports;
  cp->landlock_rules.connect_ports = ports;
  cp->landlock_rules.connect_count = count;
  cp->landlock_rules.restrict_connect = true;
  return 0;
}

/* Writes only where the mounts already allow them: the policy's scratch,
 * every mount the merged config leaves writable (its tmpfs, /dev, volumes)
 * and the root itself when the policy lets it be writable.  Reading and
 * executing stay open everywhere: the mounts and masks decide those. */
static int
plan_landlock (struct container_policy *cp, const struct spec *spec)
{
  const struct policy *p = cp->policy;
  size_t count = 0;
  for (size_t i = 0; i < p->landlock_writable_paths_count; i++)
    if (add_path (&cp->landlock_writable, &count, p->landlock_writable_paths[i]) < 0)
      return -1;
  for (size_t i = 0; i < spec->mounts_count; i++)
    if (mount_is_writable (&spec->mounts[i])
        && add_path (&cp->landlock_writable, &count, spec->mounts[i].destination) < 0)
      return -1;
  if (!spec->root_readonly && add_path (&cp->landlock_writable, &count, "/") < 0)
    return -1;
  static const char *const everything[] = { "/" };
  cp->landlock_rules = (struct landlock_policy){
    .writable_paths = (const char *const *)cp->landlock_writable,
    .writable_count = count,
    .readable_paths = everything,
    .readable_count = 1,
    /* With no egress at all, no TCP connect either. */
    .restrict_connect = !p->egress_enabled,
    .scope_abstract_unix = true,
    .scope_signals = true,
  };
  cp->landlock = true;
  int abi = landlock_abi ();
  if (abi == 0)
    return merge_report_add (&cp->report, MERGE_NOTED, "landlock", NULL, NULL,
                             "this kernel has no Landlock: the second layer is not applied");
  return merge_report_add (&cp->report, MERGE_NOTED, "landlock", NULL, NULL,
                           "ABI %d: writes limited to %zu places%s%s", abi, count,
                           abi >= 4 && cp->landlock_rules.restrict_connect ? ", no TCP connect"
                               : abi >= 4                                  ? ""
                                                                           : " (no TCP rules before ABI 4)",
                           abi >= 6 ? ", signals and abstract sockets scoped" : "");
}

int
container_policy_apply (const struct ward_conf *conf, struct spec *spec, const char *bundle,
                        const char *recorded, struct container_policy *out, struct ward_error **err)
{
  *out = (struct container_policy){ 0 };
  const char *name = recorded;
  if (name == NULL && container_policy_choose (conf, spec, &name, err) < 0)
    return -1;
  if ((out->name = strdup (name)) == NULL)
    return ward_fail (err, ENOMEM, "policy");
  if (strcmp (name, WARD_UNCONFINED) == 0)
    return 0;

  if (policy_load (container_policy_directory (conf), name, &out->policy, err) < 0)
    return ward_error_prefix (err, "policy %s", name);
  if (policy_merge (out->policy, spec, bundle, &out->report, err) < 0)
    return -1;
  struct lsm_host host;
  lsm_host_detect (&host);
  if (container_policy_labels (out->policy, spec->process, &host, &out->report, err) < 0)
    return -1;
  if (out->policy->landlock_enabled && plan_landlock (out, spec) < 0)
    return ward_fail (err, ENOMEM, "policy %s", name);
  if (out->policy->landlock_enabled && plan_connect_ports (out, spec, err) < 0)
    return -1;
  return 0;
}

int
container_policy_compile_seccomp (struct container_policy *cp, const char *cache_dir,
                                  const char *const *audited, size_t audited_count, struct ward_error **err)
{
  if (cp->policy == NULL || cp->policy->seccomp_path == NULL)
    return 0;
  seccomp_program_free (steal_pointer (&cp->seccomp));
  if (seccomp_compile_file_audited (cp->policy->seccomp_path, cache_dir, audited, audited_count, &cp->seccomp,
                                    err)
      < 0)
    return ward_error_prefix (err, "policy %s", cp->name);
  return 0;
}

int
container_policy_limit_resources (const struct container_policy *cp, struct resources **resources,
                                  struct ward_error **err)
{
  const struct policy_resources_decision *d = &cp->report.resources;
  if (cp->policy == NULL || !(d->has_memory_limit || d->has_pids_limit || d->has_cpu))
    return 0;
  if (*resources == NULL && (*resources = calloc (1, sizeof **resources)) == NULL)
    return ward_fail (err, ENOMEM, "policy %s", cp->name);
  struct resources *r = *resources;
  if (d->has_memory_limit)
    {
      r->has_memory = r->memory.has_limit = true;
      r->memory.limit = d->memory_limit;
      /* Swap beyond the limit would be memory beyond the policy's. */
      if (r->memory.has_swap && (r->memory.swap < 0 || r->memory.swap > d->memory_limit))
        r->memory.swap = d->memory_limit;
    }
  if (d->has_pids_limit)
    {
      r->has_pids = r->has_pids_limit = true;
      r->pids_limit = d->pids_limit;
    }
  if (d->has_cpu)
    {
      r->has_cpu = r->cpu.has_quota = r->cpu.has_period = true;
      r->cpu.quota = d->cpu_quota;
      r->cpu.period = d->cpu_period;
    }
  return 0;
}

void
container_policy_cap_update (const struct policy *policy, struct resources *r)
{
  const struct policy_resources *max = &policy->resources_maximum;
  if (r->has_memory && r->memory.has_limit
      && (r->memory.limit < 0 || (uint64_t)r->memory.limit > max->memory))
    {
      log_warning ("policy %s: memory limit lowered to its maximum %llu", policy->name,
                   (unsigned long long)max->memory);
      r->memory.limit = (int64_t)max->memory;
    }
  if (r->has_memory && r->memory.has_swap && (r->memory.swap < 0 || (uint64_t)r->memory.swap > max->memory))
    r->memory.swap = (int64_t)max->memory;
  if (r->has_pids_limit && (r->pids_limit <= 0 || r->pids_limit > max->pids))
    {
      log_warning ("policy %s: pids limit lowered to its maximum %lld", policy->name, (long long)max->pids);
      r->pids_limit = max->pids;
    }
  if (r->has_cpu && r->cpu.has_quota)
    {
      uint64_t period = r->cpu.has_period && r->cpu.period > 0 ? r->cpu.period : max->cpu_period;
      if (r->cpu.quota <= 0 || (__int128)r->cpu.quota * max->cpu_period > (__int128)max->cpu_quota * period)
        {
          log_warning ("policy %s: CPU quota lowered to its maximum %lld/%llu", policy->name,
                       (long long)max->cpu_quota, (unsigned long long)max->cpu_period);
          r->cpu.quota = max->cpu_quota;
          r->cpu.period = max->cpu_period;
          r->cpu.has_period = true;
        }
    }
}

void
container_policy_clear (struct container_policy *cp)
{
  free (cp->name);
  policy_free (cp->policy);
  merge_report_clear (&cp->report);
  seccomp_program_free (cp->seccomp);
  for (size_t i = 0; cp->landlock_writable && cp->landlock_writable[i]; i++)
    free (cp->landlock_writable[i]);
  free (cp->landlock_writable);
  free (cp->landlock_connect_ports);
  *cp = (struct container_policy){ 0 };
}
