/* The tighten-only merge: one function a field, each comparing what
 * config.json asks for with the policy's ceiling and keeping the stricter.
 * Every decision becomes a merge_entry so that `ward policy explain` can
 * show the operator exactly what `ward create` will enforce. */
#include "config.h"
#include "policy_merge.h"
#include "cleanup.h"
#include "json_field.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* The host's own network namespace: the one init lives in. */
#define HOST_NETNS_PATH "/proc/1/ns/net"
#define RUNTIME_NETNS_PATH "/proc/self/ns/net"

struct merge
{
  const struct policy *policy;
  struct spec *spec;
  const char *bundle;
  struct merge_report *report;
  bool out_of_memory;
};

const char *
merge_kind_name (enum merge_kind kind)
{
  switch (kind)
    {
    case MERGE_CHANGED:
      return "changed";
    case MERGE_REFUSED:
      return "refused";
    case MERGE_NOTED:
      return "noted";
    }
  return "?";
}

/* Allocation failures are remembered and reported once, at the end, so
 * that each rule reads as its decision rather than as error plumbing. */
static char *
dup_or_null (struct merge *m, const char *s)
{
  if (s == NULL)
    return NULL;
  char *copy = strdup (s);
  if (copy == NULL)
    m->out_of_memory = true;
  return copy;
}

static void
record_v (struct merge *m, enum merge_kind kind, const char *field, const char *before, const char *after,
          const char *fmt, va_list ap)
{
  struct merge_report *r = m->report;
  struct merge_entry *grown = realloc (r->entries, (r->count + 1) * sizeof *grown);
  if (grown == NULL)
    {
      m->out_of_memory = true;
      return;
    }
  r->entries = grown;
  struct merge_entry *e = &r->entries[r->count++];
  if (vasprintf (&e->reason, fmt, ap) < 0)
    {
      e->reason = NULL;
      m->out_of_memory = true;
    }
  e->kind = kind;
  e->field = dup_or_null (m, field);
  e->before = dup_or_null (m, before);
  e->after = dup_or_null (m, after);
}

static void
record (struct merge *m, enum merge_kind kind, const char *field, const char *before, const char *after,
        const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  record_v (m, kind, field, before, after, fmt, ap);
  va_end (ap);
}

int
merge_report_add (struct merge_report *report, enum merge_kind kind, const char *field, const char *before,
                  const char *after, const char *fmt, ...)
{
  struct merge m = { .report = report };
  va_list ap;
  va_start (ap, fmt);
  record_v (&m, kind, field, before, after, fmt, ap);
  va_end (ap);
  if (m.out_of_memory)
    {
      errno = ENOMEM;
      return -1;
    }
  return 0;
}

void
merge_report_clear (struct merge_report *report)
{
  for (size_t i = 0; i < report->count; i++)
    {
      free (report->entries[i].field);
      free (report->entries[i].before);
      free (report->entries[i].after);
      free (report->entries[i].reason);
    }
  free (report->entries);
  memset (report, 0, sizeof *report);
}

/* "a, b, c", or "none" for an empty list; NULL on allocation failure. */
static char *
join (char *const *items, size_t count)
{
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&text, &size);
  if (out == NULL)
    return NULL;
  if (count == 0)
    fputs ("none", out);
  for (size_t i = 0; i < count; i++)
    fprintf (out, "%s%s", i ? ", " : "", items[i]);
  if (fclose (out) != 0)
    {
      free (text);
      return NULL;
    }
  return text;
}

/* ---- capabilities ---------------------------------------------------- */

static bool
capability_allowed (const struct policy *p, const char *name)
{
  for (size_t i = 0; i < p->capabilities_count; i++)
    if (strcasecmp (p->capabilities_maximum[i], name) == 0)
      return true;
  return false;
}

static void
merge_capability_set (struct merge *m, const char *set_name, char ***set, size_t *count)
{
  char field[64];
  snprintf (field, sizeof field, "process.capabilities.%s", set_name);
  cleanup_free char *removed_list = NULL;
  cleanup_free char *before = join (*set, *count);
  cleanup_free char *maximum = join (m->policy->capabilities_maximum, m->policy->capabilities_count);
  char **removed = calloc (*count + 1, sizeof *removed);
  if (before == NULL || maximum == NULL || removed == NULL)
    {
      free (removed);
      m->out_of_memory = true;
      return;
    }
  size_t kept = 0, removed_count = 0;
  for (size_t i = 0; i < *count; i++)
    {
      if (capability_allowed (m->policy, (*set)[i]))
        (*set)[kept++] = (*set)[i];
      else
        removed[removed_count++] = (*set)[i];
    }
  if (removed_count > 0)
    {
      if (*set)
        (*set)[kept] = NULL;
      *count = kept;
      removed_list = join (removed, removed_count);
      cleanup_free char *after = join (*set, kept);
      if (removed_list == NULL || after == NULL)
        m->out_of_memory = true;
      else
        record (m, MERGE_CHANGED, field, before, after, "%s removed (policy maximum: %s)", removed_list,
                maximum);
      for (size_t i = 0; i < removed_count; i++)
        free (removed[i]);
    }
  free (removed);
}

/* An absent "capabilities" object leaves the process with everything root
 * has; under a policy it becomes empty sets and the rule below adds nothing
 * back, since the policy's maximum is a ceiling, not a grant. */
static void
merge_capabilities (struct merge *m, struct spec_process *p)
{
  struct spec_capabilities *c = &p->capabilities;
  if (!c->present)
    {
      c->present = true;
      record (m, MERGE_CHANGED, "process.capabilities", "absent (every capability)", "none",
              "absent, which keeps every capability; set to none (the policy grants nothing, it caps)");
      return;
    }
  merge_capability_set (m, "bounding", &c->bounding, &c->bounding_count);
  merge_capability_set (m, "effective", &c->effective, &c->effective_count);
  merge_capability_set (m, "permitted", &c->permitted, &c->permitted_count);
  merge_capability_set (m, "inheritable", &c->inheritable, &c->inheritable_count);
  merge_capability_set (m, "ambient", &c->ambient, &c->ambient_count);
}

/* ---- process: noNewPrivileges, user, rlimits -------------------------- */

static void
merge_no_new_privileges (struct merge *m, struct spec_process *p)
{
  if (!m->policy->no_new_privileges || p->no_new_privileges)
    return;
  p->no_new_privileges = true;
  record (m, MERGE_CHANGED, "process.noNewPrivileges", "false", "true", "forced to true");
}

static void
merge_user (struct merge *m, struct spec_process *p)
{
  if (!m->policy->user_force_non_root || p->user.uid != 0)
    return;
  char before[64], after[64];
  snprintf (before, sizeof before, "%u:%u", (unsigned)p->user.uid, (unsigned)p->user.gid);
  snprintf (after, sizeof after, "%u:%u", m->policy->user_uid, m->policy->user_gid);
  p->user.uid = m->policy->user_uid;
  p->user.gid = m->policy->user_gid;
  record (m, MERGE_CHANGED, "process.user", before, after, "uid 0 replaced by %s (policy forces non-root)",
          after);
}

/* "nofile" → "RLIMIT_NOFILE", as config.json names it. */
static void
rlimit_oci_name (const char *policy_name, char *out, size_t size)
{
  size_t n = snprintf (out, size, "RLIMIT_");
  for (const char *c = policy_name; *c && n + 1 < size; c++)
    out[n++] = (char)toupper ((unsigned char)*c);
  out[n] = '\0';
}

static void
merge_rlimit (struct merge *m, struct spec_process *p, const struct policy_rlimit *limit)
{
  char type[32], field[64], before[64], after[64];
  rlimit_oci_name (limit->name, type, sizeof type);
  snprintf (field, sizeof field, "process.rlimits.%s", type);
  snprintf (after, sizeof after, "%llu", (unsigned long long)limit->value);
  for (size_t i = 0; i < p->rlimits_count; i++)
    {
      struct spec_rlimit *r = &p->rlimits[i];
      if (strcmp (r->type, type) != 0)
        continue;
      if (r->soft <= limit->value && r->hard <= limit->value)
        return;
      snprintf (before, sizeof before, "soft %llu, hard %llu", (unsigned long long)r->soft,
                (unsigned long long)r->hard);
      if (r->soft > limit->value)
        r->soft = limit->value;
      if (r->hard > limit->value)
        r->hard = limit->value;
      snprintf (after, sizeof after, "soft %llu, hard %llu", (unsigned long long)r->soft,
                (unsigned long long)r->hard);
      record (m, MERGE_CHANGED, field, before, after, "lowered from %s to %s (policy maximum: %llu)", before,
              after, (unsigned long long)limit->value);
      return;
    }
  /* The config sets none, so the process inherits ward's: only lowered,
   * never raised to the policy's value (that would loosen, and fails
   * without CAP_SYS_RESOURCE). */
  struct rlimit inherited = { RLIM_INFINITY, RLIM_INFINITY };
  getrlimit (limit->resource, &inherited);
  if (inherited.rlim_max != RLIM_INFINITY && inherited.rlim_max <= limit->value)
    return;
  uint64_t soft = inherited.rlim_cur != RLIM_INFINITY && inherited.rlim_cur < limit->value
      ? inherited.rlim_cur
      : limit->value;
  struct spec_rlimit *grown = realloc (p->rlimits, (p->rlimits_count + 1) * sizeof *grown);
  char *type_copy = strdup (type);
  if (grown == NULL || type_copy == NULL)
    {
      if (grown)
        p->rlimits = grown;
      free (type_copy);
      m->out_of_memory = true;
      return;
    }
  p->rlimits = grown;
  p->rlimits[p->rlimits_count++]
      = (struct spec_rlimit){ .type = type_copy, .hard = limit->value, .soft = soft };
  snprintf (after, sizeof after, "soft %llu, hard %llu", (unsigned long long)soft,
            (unsigned long long)limit->value);
  record (m, MERGE_CHANGED, field, NULL, after, "added: %s (policy maximum %llu)", after,
          (unsigned long long)limit->value);
}

static void
merge_process (struct merge *m)
{
  struct spec_process *p = m->spec->process;
  if (p == NULL)
    return;
  merge_capabilities (m, p);
  merge_no_new_privileges (m, p);
  merge_user (m, p);
  for (size_t i = 0; i < m->policy->rlimits_count; i++)
    merge_rlimit (m, p, &m->policy->rlimits[i]);
}

/* ---- root ------------------------------------------------------------- */

static void
merge_root (struct merge *m)
{
  if (!m->policy->readonly_rootfs || m->spec->root_readonly)
    return;
  m->spec->root_readonly = true;
  record (m, MERGE_CHANGED, "root.readonly", "false", "true", "forced to true");
}

/* ---- mounts ----------------------------------------------------------- */

bool
policy_merge_path_forbidden (const char *source, const char *forbidden)
{
  if (strcmp (forbidden, "/") == 0)
    return strcmp (source, "/") == 0;
  size_t fl = strlen (forbidden), sl = strlen (source);
  while (fl > 1 && forbidden[fl - 1] == '/')
    fl--;
  while (sl > 1 && source[sl - 1] == '/')
    sl--;
  /* The same path, or source under forbidden. */
  if (sl >= fl && strncmp (source, forbidden, fl) == 0 && (sl == fl || source[fl] == '/'))
    return true;
  /* source above forbidden: binding it would expose forbidden too. */
  if (strcmp (source, "/") == 0)
    return true;
  return fl > sl && strncmp (forbidden, source, sl) == 0 && forbidden[sl] == '/';
}

static bool
mount_is_bind (const struct spec_mount *mount)
{
  if (mount->type && strcmp (mount->type, "bind") == 0)
    return true;
  for (size_t i = 0; i < mount->options_count; i++)
    if (strcmp (mount->options[i], "bind") == 0 || strcmp (mount->options[i], "rbind") == 0)
      return true;
  return false;
}

/* Is `path` the pattern itself or beneath it?  A "*" component of the
 * pattern stands for exactly one component of the path. */
static bool
path_within_pattern (const char *path, const char *pattern)
{
  while (*pattern)
    {
      while (*pattern == '/')
        pattern++;
      while (*path == '/')
        path++;
      if (*pattern == '\0')
        break;
      size_t want = strcspn (pattern, "/"), have = strcspn (path, "/");
      if (have == 0
          || (!(want == 1 && pattern[0] == '*') && (want != have || strncmp (pattern, path, have) != 0)))
        return false;
      pattern += want;
      path += have;
    }
  return *path == '\0' || *path == '/';
}

/* An engine's per-container file (its hosts, resolv.conf, a volume) may
 * live beneath a forbidden state root.  Judged on the resolved path only,
 * so a link planted there cannot point the exception elsewhere, and never
 * for a socket: the engine's API is exactly what must stay out. */
static bool
engine_file_allowed (const struct policy *p, const char *resolved)
{
  if (resolved == NULL)
    return false;
  struct stat st;
  if (stat (resolved, &st) < 0 || S_ISSOCK (st.st_mode))
    return false;
  for (size_t i = 0; i < p->engine_bind_sources_count; i++)
    if (path_within_pattern (resolved, p->engine_bind_sources[i]))
      return true;
  return false;
}

/* The forbidden entry a source falls foul of, compared both as written and
 * resolved, on either side (/var/run is a link to /run on most hosts). */
static const char *
forbidden_match (const struct policy *p, const char *source, const char *resolved)
{
  if (engine_file_allowed (p, resolved))
    return NULL;
  for (size_t i = 0; i < p->forbidden_bind_sources_count; i++)
    {
      const char *forbidden = p->forbidden_bind_sources[i];
      cleanup_free char *forbidden_resolved = realpath (forbidden, NULL);
      const char *sources[] = { resolved ? resolved : source, source };
      const char *entries[] = { forbidden, forbidden_resolved ? forbidden_resolved : forbidden };
      for (size_t s = 0; s < 2; s++)
        for (size_t f = 0; f < 2; f++)
          if (sources[s][0] == '/' && policy_merge_path_forbidden (sources[s], entries[f]))
            return forbidden;
    }
  return NULL;
}

static void
merge_bind_sources (struct merge *m)
{
  for (size_t i = 0; i < m->spec->mounts_count; i++)
    {
      const struct spec_mount *mount = &m->spec->mounts[i];
      if (!mount_is_bind (mount) || mount->source == NULL)
        continue;
      /* Relative sources are the bundle's, as mounts_apply reads them. */
      cleanup_free char *joined = NULL;
      const char *source = mount->source;
      if (source[0] != '/' && m->bundle)
        {
          if (asprintf (&joined, "%s/%s", m->bundle, source) < 0)
            {
              m->out_of_memory = true;
              continue;
            }
          source = joined;
        }
      cleanup_free char *resolved = realpath (source, NULL);
      const char *forbidden = forbidden_match (m->policy, source, resolved);
      if (forbidden == NULL)
        continue;
      char field[64];
      snprintf (field, sizeof field, "mounts[%zu]", i);
      record (m, MERGE_REFUSED, field, mount->source, NULL,
              "binding %s into %s is not allowed (forbidden bind source: %s)", mount->source,
              mount->destination, forbidden);
    }
}

static int
tmpfs_options (const struct policy_tmpfs *t, const struct spec_user *owner, char ***out, size_t *count)
{
  char **options = calloc (7, sizeof *options);
  if (options == NULL)
    return -1;
  *out = options;
  *count = 4;
  if ((options[0] = strdup ("nosuid")) == NULL || (options[1] = strdup ("nodev")) == NULL
      || asprintf (&options[2], "mode=%04o", t->mode) < 0
      || asprintf (&options[3], "size=%llu", (unsigned long long)t->size) < 0)
    return -1;
  /* Scratch belongs to whoever the process runs as (a forced non-root
   * user could not write a 0700 directory of root's). */
  if (owner && (owner->uid != 0 || owner->gid != 0))
    {
      *count = 6;
      if (asprintf (&options[4], "uid=%u", (unsigned)owner->uid) < 0
          || asprintf (&options[5], "gid=%u", (unsigned)owner->gid) < 0)
        return -1;
    }
  return 0;
}

/* An existing tmpfs no larger than the policy's is already as strict. */
static bool
tmpfs_within (const struct spec_mount *mount, const struct policy_tmpfs *t)
{
  if (mount->type == NULL || strcmp (mount->type, "tmpfs") != 0)
    return false;
  for (size_t i = 0; i < mount->options_count; i++)
    {
      uint64_t size;
      if (strncmp (mount->options[i], "size=", 5) == 0)
        return policy_parse_size (mount->options[i] + 5, &size) == 0 && size > 0 && size <= t->size;
    }
  return false; /* unsized: half of RAM */
}

static void
replace_with_tmpfs (struct merge *m, struct spec_mount *mount, const struct policy_tmpfs *t)
{
  struct spec_mount fresh = { 0 };
  if ((fresh.destination = strdup (t->destination)) == NULL || (fresh.type = strdup ("tmpfs")) == NULL
      || (fresh.source = strdup ("tmpfs")) == NULL
      || tmpfs_options (t, m->spec->process ? &m->spec->process->user : NULL, &fresh.options,
                        &fresh.options_count)
          < 0)
    {
      free (fresh.destination);
      free (fresh.type);
      free (fresh.source);
      string_array_free (fresh.options);
      m->out_of_memory = true;
      return;
    }
  free (mount->destination);
  free (mount->type);
  free (mount->source);
  string_array_free (mount->options);
  *mount = fresh;
}

static void
merge_scratch_tmpfs (struct merge *m, const struct policy_tmpfs *t)
{
  struct spec *s = m->spec;
  char after[96];
  snprintf (after, sizeof after, "tmpfs size=%llu mode=%04o", (unsigned long long)t->size, t->mode);
  for (size_t i = 0; i < s->mounts_count; i++)
    {
      struct spec_mount *mount = &s->mounts[i];
      if (strcmp (mount->destination, t->destination) != 0)
        continue;
      if (tmpfs_within (mount, t))
        return;
      char field[64], before[600];
      snprintf (field, sizeof field, "mounts[%zu]", i);
      snprintf (before, sizeof before, "%s %s", mount->type ? mount->type : "bind",
                mount->source ? mount->source : "");
      replace_with_tmpfs (m, mount, t);
      record (m, MERGE_CHANGED, field, before, after, "%s: %s replaced by the policy's scratch %s",
              t->destination, before, after);
      return;
    }
  struct spec_mount *grown = realloc (s->mounts, (s->mounts_count + 1) * sizeof *grown);
  if (grown == NULL)
    {
      m->out_of_memory = true;
      return;
    }
  s->mounts = grown;
  struct spec_mount *mount = &s->mounts[s->mounts_count];
  memset (mount, 0, sizeof *mount);
  replace_with_tmpfs (m, mount, t);
  if (mount->destination == NULL)
    return;
  s->mounts_count++;
  record (m, MERGE_CHANGED, "mounts", NULL, after, "%s: scratch %s added", t->destination, after);
}

/* ---- maskedPaths, readonlyPaths --------------------------------------- */

static void
merge_path_list (struct merge *m, const char *field, char ***list, size_t *count, char *const *wanted,
                 size_t wanted_count)
{
  for (size_t w = 0; w < wanted_count; w++)
    {
      bool present = false;
      for (size_t i = 0; i < *count && !present; i++)
        present = strcmp ((*list)[i], wanted[w]) == 0;
      if (present)
        continue;
      char **grown = realloc (*list, (*count + 2) * sizeof *grown);
      if (grown == NULL)
        {
          m->out_of_memory = true;
          return;
        }
      *list = grown;
      if ((grown[*count] = strdup (wanted[w])) == NULL)
        {
          grown[*count] = NULL;
          m->out_of_memory = true;
          return;
        }
      grown[++*count] = NULL;
      record (m, MERGE_CHANGED, field, NULL, wanted[w], "%s added", wanted[w]);
    }
}

/* ---- namespaces ------------------------------------------------------- */

static const struct
{
  unsigned policy_bit;
  enum spec_namespace_kind kind;
} namespace_kinds[] = {
  { POLICY_NS_PID, NS_PID },     { POLICY_NS_IPC, NS_IPC },       { POLICY_NS_UTS, NS_UTS },
  { POLICY_NS_MOUNT, NS_MOUNT }, { POLICY_NS_CGROUP, NS_CGROUP }, { POLICY_NS_USER, NS_USER },
};

static void
merge_required_namespace (struct merge *m, unsigned bit, enum spec_namespace_kind kind)
{
  struct spec_namespace *ns = &m->spec->linux_config.namespaces[kind];
  const char *name = spec_namespace_name (kind);
  if (!(m->policy->namespaces_required & bit))
    return;
  if (ns->requested && ns->path)
    {
      record (m, MERGE_REFUSED, "linux.namespaces", ns->path, NULL,
              "joining the %s namespace %s is not allowed (the policy requires a new one)", name, ns->path);
      return;
    }
  if (ns->requested)
    return;
  /* A new user namespace without mappings would leave every id unmapped. */
  if (kind == NS_USER && m->spec->linux_config.uid_mappings_count == 0)
    {
      record (m, MERGE_REFUSED, "linux.namespaces", NULL, NULL,
              "a new user namespace is required but the config has no uidMappings");
      return;
    }
  ns->requested = true;
  record (m, MERGE_CHANGED, "linux.namespaces", NULL, name, "new %s namespace added", name);
}

/* 1: the host's, 0: another, -1: cannot tell (errno set, *failed names
 * the path).  Fails closed: a namespace that cannot be compared with the
 * host's is treated as if it were. */
static int
is_host_network_namespace (const char *path, const char **failed)
{
  /* The runtime's own namespace counts as the host's: it is where the
   * engine and everything beside the container live. */
  static const char *const hosts[] = { RUNTIME_NETNS_PATH, HOST_NETNS_PATH };
  struct stat joined, host;
  if (stat (path, &joined) < 0)
    return *failed = path, -1;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (hosts); i++)
    {
      if (stat (hosts[i], &host) < 0)
        {
          /* In some sandboxes even root may not look at init's namespaces:
           * then ward's own, checked above, is the host as far as it can
           * tell, and only a namespace it can see is judged. */
          if (i > 0 && (errno == EACCES || errno == EPERM))
            continue;
          return *failed = hosts[i], -1;
        }
      if (joined.st_ino == host.st_ino && joined.st_dev == host.st_dev)
        return 1;
    }
  return 0;
}

/* The host's network namespace is never allowed: neither shared (the
 * config names no network namespace) nor joined by path.  A joined one is
 * accepted only when the policy says "new-or-joined" and it is not the
 * host's (nor ward's own). */
static void
merge_network_namespace (struct merge *m)
{
  struct spec_namespace *ns = &m->spec->linux_config.namespaces[NS_NETWORK];
  if (!ns->requested)
    {
      record (m, MERGE_REFUSED, "linux.namespaces", "host network namespace", NULL,
              "sharing the host network namespace is not allowed (the config names no network namespace)");
      return;
    }
  if (ns->path == NULL)
    return;
  const char *failed = NULL;
  int host = is_host_network_namespace (ns->path, &failed);
  if (host < 0)
    record (m, MERGE_REFUSED, "linux.namespaces", ns->path, NULL,
            "cannot tell whether network namespace %s is the host's: stat %s: %s", ns->path, failed,
            strerror (errno));
  else if (host)
    record (m, MERGE_REFUSED, "linux.namespaces", ns->path, NULL,
            "joining the host network namespace is not allowed");
  else if (m->policy->network != POLICY_NETWORK_NEW_OR_JOINED
           || (m->policy->namespaces_required & POLICY_NS_NETWORK))
    record (m, MERGE_REFUSED, "linux.namespaces", ns->path, NULL,
            "joining network namespace %s is not allowed (the policy requires a new one)", ns->path);
}

static void
merge_namespaces (struct merge *m)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (namespace_kinds); i++)
    merge_required_namespace (m, namespace_kinds[i].policy_bit, namespace_kinds[i].kind);
  merge_network_namespace (m);
}

/* ---- devices ---------------------------------------------------------- */

/* The nodes a policy may allow, by path and number, so that a config cannot
 * pass off /dev/sda's numbers under the name /dev/null. */
static const struct
{
  unsigned bit;
  const char *path; /* a prefix when under_directory */
  bool under_directory;
  int64_t major_low, major_high, minor; /* minor -1: any */
} allowed_devices[] = {
  { POLICY_DEV_NULL, "/dev/null", false, 1, 1, 3 },
  { POLICY_DEV_ZERO, "/dev/zero", false, 1, 1, 5 },
  { POLICY_DEV_FULL, "/dev/full", false, 1, 1, 7 },
  { POLICY_DEV_RANDOM, "/dev/random", false, 1, 1, 8 },
  { POLICY_DEV_URANDOM, "/dev/urandom", false, 1, 1, 9 },
  { POLICY_DEV_TTY, "/dev/tty", false, 5, 5, 0 },
  { POLICY_DEV_CONSOLE, "/dev/console", false, 5, 5, 1 },
  { POLICY_DEV_PTMX, "/dev/ptmx", false, 5, 5, 2 },
  { POLICY_DEV_PTS, "/dev/pts/", true, 136, 143, -1 },
};

static bool
device_allowed (unsigned allowed, const struct spec_device *d)
{
  if (d->type != 'c' && d->type != 'u')
    return false;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (allowed_devices); i++)
    {
      const char *path = allowed_devices[i].path;
      bool path_matches = allowed_devices[i].under_directory
          ? strncmp (d->path, path, strlen (path)) == 0 && strchr (d->path + strlen (path), '/') == NULL
          : strcmp (d->path, path) == 0;
      if (path_matches && (allowed & allowed_devices[i].bit) && d->major >= allowed_devices[i].major_low
          && d->major <= allowed_devices[i].major_high
          && (allowed_devices[i].minor < 0 || d->minor == allowed_devices[i].minor))
        return true;
    }
  return false;
}

static void
merge_devices (struct merge *m)
{
  const struct spec_linux *l = &m->spec->linux_config;
  for (size_t i = 0; i < l->devices_count; i++)
    {
      const struct spec_device *d = &l->devices[i];
      if (device_allowed (m->policy->devices_allowed, d))
        continue;
      char field[64], before[128];
      snprintf (field, sizeof field, "linux.devices[%zu]", i);
      snprintf (before, sizeof before, "%s %c %lld:%lld", d->path, d->type, (long long)d->major,
                (long long)d->minor);
      record (m, MERGE_REFUSED, field, before, NULL, "device %s is not allowed (privileged device)", before);
    }
}

/* ---- resources -------------------------------------------------------- */

/* The config's integer at resources.<object>.<key>; false when absent or
 * not an integer. */
static bool
resource_integer (const struct json_value *resources, const char *object, const char *key, int64_t *out)
{
  const struct json_value *o = resources ? json_object_get (resources, object) : NULL;
  const struct json_value *v = o && o->type == JSON_OBJECT ? json_object_get (o, key) : NULL;
  if (v == NULL || v->type != JSON_NUMBER || !v->u.number.is_integer)
    return false;
  *out = v->u.number.integer;
  return true;
}

static void
merge_memory (struct merge *m, const struct json_value *res)
{
  struct policy_resources_decision *d = &m->report->resources;
  uint64_t max = m->policy->resources_maximum.memory, def = m->policy->resources_default.memory;
  int64_t limit;
  char before[32];
  d->has_memory_limit = true;
  if (!resource_integer (res, "memory", "limit", &limit) || limit <= 0)
    {
      d->memory_limit = (int64_t)def;
      record (m, MERGE_CHANGED, "linux.resources.memory.limit", NULL, NULL,
              "unlimited; set to the policy default %llu", (unsigned long long)def);
      return;
    }
  d->memory_limit = limit;
  if ((uint64_t)limit <= max)
    return;
  d->memory_limit = (int64_t)max;
  snprintf (before, sizeof before, "%lld", (long long)limit);
  record (m, MERGE_CHANGED, "linux.resources.memory.limit", before, NULL,
          "lowered from %lld to %llu (policy maximum)", (long long)limit, (unsigned long long)max);
}

static void
merge_pids (struct merge *m, const struct json_value *res)
{
  struct policy_resources_decision *d = &m->report->resources;
  int64_t max = m->policy->resources_maximum.pids, def = m->policy->resources_default.pids;
  int64_t limit;
  char before[32];
  d->has_pids_limit = true;
  if (!resource_integer (res, "pids", "limit", &limit) || limit <= 0)
    {
      d->pids_limit = def;
      record (m, MERGE_CHANGED, "linux.resources.pids.limit", NULL, NULL,
              "unlimited; set to the policy default %lld", (long long)def);
      return;
    }
  d->pids_limit = limit;
  if (limit <= max)
    return;
  d->pids_limit = max;
  snprintf (before, sizeof before, "%lld", (long long)limit);
  record (m, MERGE_CHANGED, "linux.resources.pids.limit", before, NULL,
          "lowered from %lld to %lld (policy maximum)", (long long)limit, (long long)max);
}

/* CPU is compared as quota/period: 200000/100000 and 2000/1000 are the same two CPUs. */
static void
merge_cpu (struct merge *m, const struct json_value *res)
{
  struct policy_resources_decision *d = &m->report->resources;
  const struct policy_resources *max = &m->policy->resources_maximum, *def = &m->policy->resources_default;
  int64_t quota, period;
  char before[64];
  d->has_cpu = true;
  if (!resource_integer (res, "cpu", "period", &period) || period <= 0)
    period = 100000; /* the kernel's default period */
  if (!resource_integer (res, "cpu", "quota", &quota) || quota <= 0)
    {
      d->cpu_quota = def->cpu_quota;
      d->cpu_period = def->cpu_period;
      record (m, MERGE_CHANGED, "linux.resources.cpu.quota", NULL, NULL,
              "unlimited; set to the policy default %lld/%llu", (long long)def->cpu_quota,
              (unsigned long long)def->cpu_period);
      return;
    }
  d->cpu_quota = quota;
  d->cpu_period = (uint64_t)period;
  if ((__int128)quota * max->cpu_period <= (__int128)max->cpu_quota * period)
    return;
  d->cpu_quota = max->cpu_quota;
  d->cpu_period = max->cpu_period;
  snprintf (before, sizeof before, "%lld/%lld", (long long)quota, (long long)period);
  record (m, MERGE_CHANGED, "linux.resources.cpu.quota", before, NULL,
          "lowered from %s to %lld/%llu (policy maximum)", before, (long long)max->cpu_quota,
          (unsigned long long)max->cpu_period);
}

static void
merge_resources (struct merge *m)
{
  const struct json_value *res = m->spec->linux_config.resources;
  if (res && res->type != JSON_OBJECT)
    res = NULL;
  merge_memory (m, res);
  merge_pids (m, res);
  merge_cpu (m, res);
}

/* ---- seccomp ---------------------------------------------------------- */

/* A filter that lets every call through: what "seccomp=unconfined" asks
 * for when it is spelt out rather than left out. */
static bool
seccomp_action_permits (const struct json_value *action)
{
  return action && action->type == JSON_STRING
      && (strcmp (action->u.string, "SCMP_ACT_ALLOW") == 0 || strcmp (action->u.string, "SCMP_ACT_LOG") == 0);
}

static bool
seccomp_is_unconfined (const struct json_value *seccomp)
{
  if (!seccomp_action_permits (json_object_get (seccomp, "defaultAction")))
    return false;
  const struct json_value *rules = json_object_get (seccomp, "syscalls");
  for (size_t r = 0; rules && rules->type == JSON_ARRAY && r < rules->u.array.count; r++)
    if (!seccomp_action_permits (json_object_get (rules->u.array.items[r], "action")))
      return false;
  return true;
}

/* Both filters are installed and the kernel applies the stricter action of
 * the two, so the config's filter cannot loosen the policy's nor the other
 * way round: nothing in the spec changes.  A config that asks for no
 * filtering at all is refused rather than silently given the policy's. */
static void
merge_seccomp (struct merge *m)
{
  const struct json_value *config = m->spec->linux_config.seccomp;
  if (m->policy->seccomp == NULL)
    return;
  if (config && seccomp_is_unconfined (config))
    {
      record (m, MERGE_REFUSED, "linux.seccomp", "unconfined", NULL,
              "an unconfined filter (every call allowed) is not allowed");
      return;
    }
  record (m, MERGE_NOTED, "linux.seccomp", NULL, m->policy->seccomp,
          config ? "the policy's filter %s is stacked on the config's (the kernel applies "
                   "the stricter action)"
                 : "the policy's filter %s is installed (the config asks for none)",
          m->policy->seccomp);
}

/* ---- the merge -------------------------------------------------------- */

int
policy_merge (const struct policy *policy, struct spec *spec, const char *bundle, struct merge_report *report,
              struct ward_error **err)
{
  struct merge m = { .policy = policy, .spec = spec, .bundle = bundle, .report = report };
  struct spec_linux *l = &spec->linux_config;

  /* Refusals about what the config wrote come first, before the merge adds
   * mounts of its own and shifts the indices. */
  merge_bind_sources (&m);
  merge_devices (&m);
  merge_namespaces (&m);
  merge_process (&m);
  merge_root (&m);
  for (size_t i = 0; i < policy->tmpfs_count; i++)
    merge_scratch_tmpfs (&m, &policy->tmpfs[i]);
  merge_path_list (&m, "linux.maskedPaths", &l->masked_paths, &l->masked_paths_count, policy->masked_paths,
                   policy->masked_paths_count);
  merge_path_list (&m, "linux.readonlyPaths", &l->readonly_paths, &l->readonly_paths_count,
                   policy->readonly_paths, policy->readonly_paths_count);
  merge_resources (&m);
  merge_seccomp (&m);

  if (m.out_of_memory)
    return ward_fail (err, ENOMEM, "policy %s", policy->name);
  for (size_t i = 0; i < report->count; i++)
    if (report->entries[i].kind == MERGE_REFUSED)
      return ward_fail (err, 0, "policy %s: %s: %s", policy->name, report->entries[i].field,
                        report->entries[i].reason);
  return 0;
}
