/* Policy profiles: parsing and checking.  Every field is required, so a
 * profile is a complete statement and a typo (an unknown key) is an error
 * rather than a silently missing restriction. */
#include "config.h"
#include "policy.h"
#include "policy_tables.h"
#include "cleanup.h"
#include "json.h"
#include "json_field.h"
#include "json_writer.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>

const struct policy_named_bit policy_namespace_names[] = {
  { "pid", POLICY_NS_PID },     { "ipc", POLICY_NS_IPC },       { "uts", POLICY_NS_UTS },
  { "mount", POLICY_NS_MOUNT }, { "cgroup", POLICY_NS_CGROUP }, { "network", POLICY_NS_NETWORK },
  { "user", POLICY_NS_USER },
};
const size_t policy_namespace_names_count = WARD_ARRAY_SIZE (policy_namespace_names);

const struct policy_named_bit policy_device_names[] = {
  { "null", POLICY_DEV_NULL },     { "zero", POLICY_DEV_ZERO },       { "full", POLICY_DEV_FULL },
  { "random", POLICY_DEV_RANDOM }, { "urandom", POLICY_DEV_URANDOM }, { "tty", POLICY_DEV_TTY },
  { "ptmx", POLICY_DEV_PTMX },     { "pts", POLICY_DEV_PTS },         { "console", POLICY_DEV_CONSOLE },
};
const size_t policy_device_names_count = WARD_ARRAY_SIZE (policy_device_names);

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "as", RLIMIT_AS },           { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },       { "fsize", RLIMIT_FSIZE },       { "locks", RLIMIT_LOCKS },
  { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },   { "nproc", RLIMIT_NPROC },       { "rss", RLIMIT_RSS },
  { "rtprio", RLIMIT_RTPRIO },   { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },
};

/* ---- units ---- */

/* Digits, then the rest in *end; -1 on no digits or overflow. */
static int
leading_number (const char *text, uint64_t *value, const char **end)
{
  uint64_t n = 0;
  const char *p = text;
  if (!isdigit ((unsigned char)*p))
    return -1;
  for (; isdigit ((unsigned char)*p); p++)
    {
      unsigned digit = (unsigned)(*p - '0');
      if (n > (UINT64_MAX - digit) / 10)
        return -1;
      n = n * 10 + digit;
    }
  *value = n;
  *end = p;
  return 0;
}

static int
scaled (uint64_t n, uint64_t unit, uint64_t *out)
{
  if (n > UINT64_MAX / unit)
    return -1;
  *out = n * unit;
  return 0;
}

int
policy_parse_duration (const char *text, uint64_t *seconds)
{
  uint64_t n, unit;
  const char *rest;
  if (text == NULL || leading_number (text, &n, &rest) < 0 || rest[0] == '\0' || rest[1] != '\0')
    return -1;
  switch (rest[0])
    {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return -1;
    }
  return scaled (n, unit, seconds);
}

int
policy_parse_size (const char *text, uint64_t *bytes)
{
  uint64_t n, unit;
  const char *rest;
  if (text == NULL || leading_number (text, &n, &rest) < 0)
    return -1;
  if (rest[0] != '\0' && rest[1] != '\0')
    return -1;
  switch (tolower ((unsigned char)rest[0]))
    {
    case '\0':
      unit = 1;
      break;
    case 'k':
      unit = 1ull << 10;
      break;
    case 'm':
      unit = 1ull << 20;
      break;
    case 'g':
      unit = 1ull << 30;
      break;
    case 't':
      unit = 1ull << 40;
      break;
    default:
      return -1;
    }
  return scaled (n, unit, bytes);
}

/* ---- field readers on top of json_field ---- */

struct reader
{
  const struct json_document *doc;
  struct ward_error **err;
};

/* Every object's keys must be ones this version knows: a misspelt key
 * would otherwise drop the restriction it meant to state. */
static int
check_keys (const struct reader *r, const struct json_value *object, const char *parent,
            const char *const *known)
{
  for (size_t i = 0; i < object->u.object.count; i++)
    {
      bool found = false;
      for (const char *const *k = known; *k && !found; k++)
        found = strcmp (*k, object->u.object.keys[i]) == 0;
      if (!found)
        {
          char path[FIELD_PATH_MAX];
          field_path (path, parent, object->u.object.keys[i]);
          return field_error (r->doc, object->u.object.values[i], path, r->err, "unknown field");
        }
    }
  return 0;
}

static int
read_object (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
             const char *const *known, const struct json_value **out)
{
  char path[FIELD_PATH_MAX];
  if (field_object (r->doc, object, parent, key, true, out, r->err) < 0)
    return -1;
  return check_keys (r, *out, field_path (path, parent, key), known);
}

static int
read_bool (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
           bool *out)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = json_object_get (object, key);
  if (v == NULL || v->type == JSON_NULL)
    return field_missing (r->doc, object, field_path (path, parent, key), r->err);
  return field_bool (r->doc, object, parent, key, out, r->err);
}

static int
read_string (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
             char **out)
{
  return field_string (r->doc, object, parent, key, true, out, r->err);
}

/* A string field whose value is converted by `parse`; `what` names the form
 * and `example` shows it. */
static int
read_unit (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
           int (*parse) (const char *, uint64_t *), const char *what, const char *example, uint64_t *out)
{
  char path[FIELD_PATH_MAX];
  cleanup_free char *text = NULL;
  if (read_string (r, object, parent, key, &text) < 0)
    return -1;
  if (parse (text, out) < 0)
    return field_error (r->doc, json_object_get (object, key), field_path (path, parent, key), r->err,
                        "invalid %s \"%s\" (expected e.g. %s)", what, text, example);
  return 0;
}

static int
read_duration (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
               uint64_t *out)
{
  return read_unit (r, object, parent, key, policy_parse_duration, "duration", "90s, 30m, 2h", out);
}

static int
read_size (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
           uint64_t *out)
{
  return read_unit (r, object, parent, key, policy_parse_size, "size", "65536, 64m, 1g", out);
}

static int
read_positive_int64 (const struct reader *r, const struct json_value *object, const char *parent,
                     const char *key, int64_t *out)
{
  char path[FIELD_PATH_MAX];
  if (field_int64 (r->doc, object, parent, key, true, out, NULL, r->err) < 0)
    return -1;
  if (*out <= 0)
    return field_error (r->doc, json_object_get (object, key), field_path (path, parent, key), r->err,
                        "must be greater than 0");
  return 0;
}

/* Checks one item of a string list; path and value give the position. */
typedef int item_check (const struct reader *r, const struct json_value *item, const char *path,
                        const char *text, void *ctx);

static int
read_list (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
           item_check *check, void *ctx, char ***out, size_t *count)
{
  char path[FIELD_PATH_MAX], item_path[FIELD_PATH_MAX];
  const struct json_value *array = NULL;
  if (field_array (r->doc, object, parent, key, true, &array, r->err) < 0)
    return -1;
  field_path (path, parent, key);
  size_t n = array->u.array.count;
  char **items = calloc (n + 1, sizeof *items);
  if (items == NULL)
    return ward_fail (r->err, ENOMEM, "%s", path);
  for (size_t i = 0; i < n; i++)
    {
      const struct json_value *item = array->u.array.items[i];
      field_index_path (item_path, path, i);
      if (value_string (r->doc, item, item_path, &items[i], r->err) < 0
          || (check && check (r, item, item_path, items[i], ctx) < 0))
        {
          string_array_free (items);
          return -1;
        }
    }
  if (out)
    {
      string_array_free (*out);
      *out = items;
    }
  else
    string_array_free (items);
  if (count)
    *count = n;
  return 0;
}

static int
check_absolute (const struct reader *r, const struct json_value *item, const char *path, const char *text,
                void *ctx)
{
  (void)ctx;
  if (text[0] != '/')
    return field_error (r->doc, item, path, r->err, "\"%s\" is not an absolute path", text);
  return 0;
}

static int
check_capability (const struct reader *r, const struct json_value *item, const char *path, const char *text,
                  void *ctx)
{
  uint64_t *mask = ctx;
  cap_value_t value;
  /* OCI spells them CAP_X; libcap would also take "chown" or a number. */
  if (strncmp (text, "CAP_", 4) != 0 || cap_from_name (text, &value) < 0 || value < 0 || value >= 64)
    return field_error (r->doc, item, path, r->err, "unknown capability \"%s\"", text);
  *mask |= 1ull << value;
  return 0;
}

struct bit_table
{
  const struct policy_named_bit *table;
  size_t count;
  const char *what;
  unsigned bits;
};

static int
check_named_bit (const struct reader *r, const struct json_value *item, const char *path, const char *text,
                 void *ctx)
{
  struct bit_table *t = ctx;
  for (size_t i = 0; i < t->count; i++)
    if (strcmp (t->table[i].name, text) == 0)
      {
        t->bits |= t->table[i].bit;
        return 0;
      }
  return field_error (r->doc, item, path, r->err, "unknown %s \"%s\"", t->what, text);
}

static int
read_bits (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
           const struct policy_named_bit *table, size_t count, const char *what, unsigned *out)
{
  struct bit_table t = { table, count, what, 0 };
  if (read_list (r, object, parent, key, check_named_bit, &t, NULL, NULL) < 0)
    return -1;
  *out = t.bits;
  return 0;
}

/* One of `choices` (NULL-terminated); its index in *out. */
static int
read_choice (const struct reader *r, const struct json_value *object, const char *parent, const char *key,
             const char *const *choices, int *out)
{
  char path[FIELD_PATH_MAX];
  cleanup_free char *text = NULL;
  if (read_string (r, object, parent, key, &text) < 0)
    return -1;
  for (int i = 0; choices[i]; i++)
    if (strcmp (choices[i], text) == 0)
      {
        *out = i;
        return 0;
      }
  return field_error (r->doc, json_object_get (object, key), field_path (path, parent, key), r->err,
                      "unknown value \"%s\"", text);
}

/* ---- sections ---- */

const char *const policy_network_choices[] = { "new", "new-or-joined", NULL };
const char *const policy_breach_choices[] = { "kill", "freeze", NULL };

static int
read_capabilities (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "maximum", NULL };
  const struct json_value *o;
  return read_object (r, root, "", "capabilities", keys, &o) < 0
          || read_list (r, o, "capabilities", "maximum", check_capability, &p->capabilities_mask,
                        &p->capabilities_maximum, &p->capabilities_count)
              < 0
      ? -1
      : 0;
}

static int
read_user (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "forceNonRoot", "uid", "gid", NULL };
  const struct json_value *o;
  if (read_object (r, root, "", "user", keys, &o) < 0
      || read_bool (r, o, "user", "forceNonRoot", &p->user_force_non_root) < 0
      || field_uint32 (r->doc, o, "user", "uid", true, &p->user_uid, NULL, r->err) < 0
      || field_uint32 (r->doc, o, "user", "gid", true, &p->user_gid, NULL, r->err) < 0)
    return -1;
  /* The uid stands in for root, so root cannot be it. */
  if (p->user_force_non_root && p->user_uid == 0)
    return field_error (r->doc, json_object_get (o, "uid"), "user.uid", r->err,
                        "must not be 0 when user.forceNonRoot is true");
  return 0;
}

static int
read_tmpfs (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "destination", "size", "mode", NULL };
  char path[FIELD_PATH_MAX];
  const struct json_value *array = NULL;
  if (field_array (r->doc, root, "", "tmpfs", true, &array, r->err) < 0)
    return -1;
  p->tmpfs = calloc (array->u.array.count ? array->u.array.count : 1, sizeof *p->tmpfs);
  if (p->tmpfs == NULL)
    return ward_fail (r->err, ENOMEM, "tmpfs");
  for (size_t i = 0; i < array->u.array.count; i++)
    {
      const struct json_value *o = array->u.array.items[i];
      struct policy_tmpfs *t = &p->tmpfs[i];
      cleanup_free char *mode = NULL;
      char *end = NULL;
      char destination_path[FIELD_PATH_MAX];
      field_index_path (path, "tmpfs", i);
      p->tmpfs_count = i + 1; /* so that policy_free releases what was read */
      if (o->type != JSON_OBJECT)
        return field_type_error (r->doc, o, path, "an object", r->err);
      if (check_keys (r, o, path, keys) < 0 || read_string (r, o, path, "destination", &t->destination) < 0
          || check_absolute (r, json_object_get (o, "destination"),
                             field_path (destination_path, path, "destination"), t->destination, NULL)
              < 0
          || read_size (r, o, path, "size", &t->size) < 0 || read_string (r, o, path, "mode", &mode) < 0)
        return -1;
      errno = 0;
      unsigned long m = strtoul (mode, &end, 8);
      if (mode[0] == '\0' || *end != '\0' || errno != 0 || m > 07777)
        {
          char mode_path[FIELD_PATH_MAX];
          return field_error (r->doc, json_object_get (o, "mode"), field_path (mode_path, path, "mode"),
                              r->err, "invalid octal mode \"%s\"", mode);
        }
      t->mode = (uint32_t)m;
      /* A size of 0 would mean "half of RAM" to the kernel, not "nothing". */
      if (t->size == 0)
        {
          char size_path[FIELD_PATH_MAX];
          return field_error (r->doc, json_object_get (o, "size"), field_path (size_path, path, "size"),
                              r->err, "must be greater than 0");
        }
    }
  return 0;
}

static int
read_seccomp (const struct reader *r, const struct json_value *root, const char *dir, struct policy *p)
{
  const struct json_value *v = json_object_get (root, "seccomp");
  struct stat st;
  if (read_string (r, root, "", "seccomp", &p->seccomp) < 0)
    return -1;
  /* Relative and inside the directory, so a profile cannot point at an
   * arbitrary file on the host. */
  if (p->seccomp[0] == '/' || p->seccomp[0] == '\0' || strstr (p->seccomp, "..") != NULL)
    return field_error (r->doc, v, "seccomp", r->err,
                        "\"%s\" must be a path relative to the policy directory, without \"..\"", p->seccomp);
  if (asprintf (&p->seccomp_path, "%s/%s", dir, p->seccomp) < 0)
    {
      p->seccomp_path = NULL;
      return ward_fail (r->err, ENOMEM, "seccomp");
    }
  if (stat (p->seccomp_path, &st) < 0)
    return field_error (r->doc, v, "seccomp", r->err, "%s: %s", p->seccomp_path, strerror (errno));
  if (!S_ISREG (st.st_mode))
    return field_error (r->doc, v, "seccomp", r->err, "%s is not a regular file", p->seccomp_path);
  return 0;
}

static int
read_namespaces (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "required", "network", NULL };
  const struct json_value *o;
  int network;
  if (read_object (r, root, "", "namespaces", keys, &o) < 0
      || read_bits (r, o, "namespaces", "required", policy_namespace_names,
                    WARD_ARRAY_SIZE (policy_namespace_names), "namespace", &p->namespaces_required)
          < 0
      || read_choice (r, o, "namespaces", "network", policy_network_choices, &network) < 0)
    return -1;
  p->network = network == 0 ? POLICY_NETWORK_NEW : POLICY_NETWORK_NEW_OR_JOINED;
  return 0;
}

static int
read_devices (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "allowed", NULL };
  const struct json_value *o;
  return read_object (r, root, "", "devices", keys, &o) < 0
          || read_bits (r, o, "devices", "allowed", policy_device_names,
                        WARD_ARRAY_SIZE (policy_device_names), "device", &p->devices_allowed)
              < 0
      ? -1
      : 0;
}

static int
read_rlimits (const struct reader *r, const struct json_value *root, struct policy *p)
{
  const struct json_value *o;
  char path[FIELD_PATH_MAX];
  if (field_object (r->doc, root, "", "rlimits", true, &o, r->err) < 0)
    return -1;
  p->rlimits = calloc (o->u.object.count ? o->u.object.count : 1, sizeof *p->rlimits);
  if (p->rlimits == NULL)
    return ward_fail (r->err, ENOMEM, "rlimits");
  for (size_t i = 0; i < o->u.object.count; i++)
    {
      const char *key = o->u.object.keys[i];
      size_t k = 0;
      while (k < WARD_ARRAY_SIZE (rlimit_names) && strcmp (rlimit_names[k].name, key) != 0)
        k++;
      field_path (path, "rlimits", key);
      if (k == WARD_ARRAY_SIZE (rlimit_names))
        return field_error (r->doc, o->u.object.values[i], path, r->err, "unknown rlimit \"%s\"", key);
      struct policy_rlimit *l = &p->rlimits[p->rlimits_count];
      if (value_uint64 (r->doc, o->u.object.values[i], path, &l->value, r->err) < 0)
        return -1;
      l->name = rlimit_names[k].name;
      l->resource = rlimit_names[k].resource;
      p->rlimits_count++;
    }
  return 0;
}

static int
read_resource_set (const struct reader *r, const struct json_value *o, const char *key,
                   struct policy_resources *out)
{
  static const char *const keys[] = { "pids", "memory", "cpuQuota", "cpuPeriod", NULL };
  char path[FIELD_PATH_MAX];
  const struct json_value *set;
  int64_t period;
  field_path (path, "resources", key);
  if (read_object (r, o, "resources", key, keys, &set) < 0
      || read_positive_int64 (r, set, path, "pids", &out->pids) < 0
      || read_size (r, set, path, "memory", &out->memory) < 0
      || read_positive_int64 (r, set, path, "cpuQuota", &out->cpu_quota) < 0
      || read_positive_int64 (r, set, path, "cpuPeriod", &period) < 0)
    return -1;
  out->cpu_period = (uint64_t)period;
  return 0;
}

/* A default above its own maximum would be refused by the merge anyway;
 * saying so here points at the profile instead of the container. */
static int
check_not_above (const struct reader *r, const struct json_value *at, const char *path, uint64_t value,
                 uint64_t maximum)
{
  if (value > maximum)
    return field_error (r->doc, at, path, r->err, "default %" PRIu64 " is above the maximum %" PRIu64, value,
                        maximum);
  return 0;
}

static int
read_resources (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "default", "maximum", NULL };
  const struct json_value *o;
  if (read_object (r, root, "", "resources", keys, &o) < 0
      || read_resource_set (r, o, "default", &p->resources_default) < 0
      || read_resource_set (r, o, "maximum", &p->resources_maximum) < 0)
    return -1;
  const struct json_value *d = json_object_get (o, "default");
  const struct policy_resources *def = &p->resources_default, *max = &p->resources_maximum;
  /* CPU is compared as a share of a CPU, since the periods may differ. */
  unsigned __int128 def_share = (unsigned __int128)def->cpu_quota * max->cpu_period;
  unsigned __int128 max_share = (unsigned __int128)max->cpu_quota * def->cpu_period;
  if (check_not_above (r, json_object_get (d, "pids"), "resources.default.pids", (uint64_t)def->pids,
                       (uint64_t)max->pids)
          < 0
      || check_not_above (r, json_object_get (d, "memory"), "resources.default.memory", def->memory,
                          max->memory)
          < 0)
    return -1;
  if (def_share > max_share)
    return field_error (r->doc, json_object_get (d, "cpuQuota"), "resources.default.cpuQuota", r->err,
                        "default CPU share is above the maximum");
  return 0;
}

static int
read_lsm (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "apparmorProfile", "selinuxLabel", NULL };
  const struct json_value *o;
  return read_object (r, root, "", "lsm", keys, &o) < 0
          || read_string (r, o, "lsm", "apparmorProfile", &p->apparmor_profile) < 0
          || read_string (r, o, "lsm", "selinuxLabel", &p->selinux_label) < 0
      ? -1
      : 0;
}

static int
read_landlock (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "enabled", "writablePaths", "connectPortsFromEgress", NULL };
  const struct json_value *o;
  return read_object (r, root, "", "landlock", keys, &o) < 0
          || read_bool (r, o, "landlock", "enabled", &p->landlock_enabled) < 0
          || read_list (r, o, "landlock", "writablePaths", check_absolute, NULL, &p->landlock_writable_paths,
                        &p->landlock_writable_paths_count)
              < 0
          || read_bool (r, o, "landlock", "connectPortsFromEgress", &p->landlock_connect_ports_from_egress)
              < 0
      ? -1
      : 0;
}

/* Probe names, as ward-probe spells them. */
static int
check_probe_name (const struct reader *r, const struct json_value *item, const char *path, const char *text,
                  void *ctx)
{
  (void)ctx;
  if (!policy_name_valid (text))
    return field_error (r->doc, item, path, r->err, "\"%s\" is not a probe name", text);
  return 0;
}

static int
read_verify (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "accept", NULL };
  const struct json_value *o;
  return read_object (r, root, "", "verify", keys, &o) < 0
          || read_list (r, o, "verify", "accept", check_probe_name, NULL, &p->verify_accept,
                        &p->verify_accept_count)
              < 0
      ? -1
      : 0;
}

static int
read_egress (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[]
      = { "enabled", "allow", "annotationsMayExtend", "blockPrivateRanges", "blockMetadata", NULL };
  const struct json_value *o;
  return read_object (r, root, "", "egress", keys, &o) < 0
          || read_bool (r, o, "egress", "enabled", &p->egress_enabled) < 0
          || read_list (r, o, "egress", "allow", NULL, NULL, &p->egress_allow, &p->egress_allow_count) < 0
          || read_bool (r, o, "egress", "annotationsMayExtend", &p->egress_annotations_may_extend) < 0
          || read_bool (r, o, "egress", "blockPrivateRanges", &p->egress_block_private_ranges) < 0
          || read_bool (r, o, "egress", "blockMetadata", &p->egress_block_metadata) < 0
      ? -1
      : 0;
}

static int
read_limit (const struct reader *r, const struct json_value *o, const char *parent, const char *key,
            enum policy_limit_kind kind, struct policy_limit *out)
{
  static const char *const keys[] = { "default", "maximum", NULL };
  char path[FIELD_PATH_MAX], default_path[FIELD_PATH_MAX];
  const struct json_value *l;
  field_path (path, parent, key);
  if (read_object (r, o, parent, key, keys, &l) < 0)
    return -1;
  int ret;
  switch (kind)
    {
    case LIMIT_DURATION:
      ret = read_duration (r, l, path, "default", &out->default_value) < 0
              || read_duration (r, l, path, "maximum", &out->maximum) < 0
          ? -1
          : 0;
      break;
    case LIMIT_SIZE:
      ret = read_size (r, l, path, "default", &out->default_value) < 0
              || read_size (r, l, path, "maximum", &out->maximum) < 0
          ? -1
          : 0;
      break;
    default:
      ret = field_uint64 (r->doc, l, path, "default", true, &out->default_value, NULL, r->err) < 0
              || field_uint64 (r->doc, l, path, "maximum", true, &out->maximum, NULL, r->err) < 0
          ? -1
          : 0;
      break;
    }
  if (ret < 0)
    return -1;
  return check_not_above (r, json_object_get (l, "default"), field_path (default_path, path, "default"),
                          out->default_value, out->maximum);
}

/* A name as the egress allowlist writes one: labels of letters, digits
 * and hyphens, optionally after "*.". */
static bool
metered_domain_valid (const char *text)
{
  const char *name = strncmp (text, "*.", 2) == 0 ? text + 2 : text;
  size_t length = strlen (name), label = 0;
  if (length == 0 || length > 253 || name[0] == '.' || name[length - 1] == '.')
    return false;
  for (const char *c = name; *c; c++)
    {
      if (*c == '.')
        {
          if (label == 0)
            return false;
          label = 0;
          continue;
        }
      if (!islower ((unsigned char)*c) && !isdigit ((unsigned char)*c) && *c != '-')
        return false;
      if (++label > 63)
        return false;
    }
  return true;
}

static int
read_metered_domain (const struct reader *r, const struct json_value *o, const char *path,
                     struct policy_metered_domain *out)
{
  static const char *const keys[] = { "domain", "perConnection", NULL };
  char domain_path[FIELD_PATH_MAX];
  cleanup_free char *domain = NULL;
  if (o->type != JSON_OBJECT)
    return field_type_error (r->doc, o, path, "an object", r->err);
  if (check_keys (r, o, path, keys) < 0 || read_string (r, o, path, "domain", &domain) < 0
      || field_uint64 (r->doc, o, path, "perConnection", true, &out->per_connection, NULL, r->err) < 0)
    return -1;
  if (!metered_domain_valid (domain))
    return field_error (r->doc, json_object_get (o, "domain"), field_path (domain_path, path, "domain"),
                        r->err,
                        "invalid domain \"%s\" (expected e.g. api.example.com or *.example.com, "
                        "lowercase)",
                        domain);
  snprintf (out->domain, sizeof out->domain, "%s", domain);
  return 0;
}

static int
read_metered_domains (const struct reader *r, const struct json_value *rates, struct policy_budget *b)
{
  const char *parent = "watchdog.budget.rates";
  char path[FIELD_PATH_MAX], item_path[FIELD_PATH_MAX];
  const struct json_value *array = NULL;
  if (field_array (r->doc, rates, parent, "meteredDomains", true, &array, r->err) < 0)
    return -1;
  field_path (path, parent, "meteredDomains");
  if (array->u.array.count > POLICY_METERED_DOMAINS_MAX)
    return field_error (r->doc, array, path, r->err, "more than %d domains", POLICY_METERED_DOMAINS_MAX);
  for (size_t i = 0; i < array->u.array.count; i++)
    if (read_metered_domain (r, array->u.array.items[i], field_index_path (item_path, path, i),
                             &b->metered[i])
        < 0)
      return -1;
  b->metered_count = array->u.array.count;
  return 0;
}

static int
read_budget (const struct reader *r, const struct json_value *o, struct policy_budget *b)
{
  static const char *const keys[] = { "units", "rates", NULL };
  static const char *const rate_keys[]
      = { "cpuSecond", "wallMinute", "egressMebibyte", "connection", "meteredDomains", NULL };
  const struct json_value *budget, *rates;
  const char *path = "watchdog.budget.rates";
  return read_object (r, o, "watchdog", "budget", keys, &budget) < 0
          || read_limit (r, budget, "watchdog.budget", "units", LIMIT_COUNT, &b->units) < 0
          || read_object (r, budget, "watchdog.budget", "rates", rate_keys, &rates) < 0
          || field_uint64 (r->doc, rates, path, "cpuSecond", true, &b->cpu_second, NULL, r->err) < 0
          || field_uint64 (r->doc, rates, path, "wallMinute", true, &b->wall_minute, NULL, r->err) < 0
          || field_uint64 (r->doc, rates, path, "egressMebibyte", true, &b->egress_mebibyte, NULL, r->err) < 0
          || field_uint64 (r->doc, rates, path, "connection", true, &b->connection, NULL, r->err) < 0
          || read_metered_domains (r, rates, b) < 0
      ? -1
      : 0;
}

static int
read_watchdog (const struct reader *r, const struct json_value *root, struct policy *p)
{
  static const char *const keys[] = { "timeout", "cpuSeconds", "egressBytes", "connections", "connectRate",
                                      "budget",  "onBreach",   "grace",       NULL };
  const struct json_value *o;
  int breach;
  if (read_object (r, root, "", "watchdog", keys, &o) < 0
      || read_limit (r, o, "watchdog", "timeout", LIMIT_DURATION, &p->watchdog_timeout) < 0
      || read_limit (r, o, "watchdog", "cpuSeconds", LIMIT_COUNT, &p->watchdog_cpu_seconds) < 0
      || read_limit (r, o, "watchdog", "egressBytes", LIMIT_SIZE, &p->watchdog_egress_bytes) < 0
      || read_limit (r, o, "watchdog", "connections", LIMIT_COUNT, &p->watchdog_connections) < 0
      || read_limit (r, o, "watchdog", "connectRate", LIMIT_COUNT, &p->watchdog_connect_rate) < 0
      || read_budget (r, o, &p->watchdog_budget) < 0
      || read_choice (r, o, "watchdog", "onBreach", policy_breach_choices, &breach) < 0
      || read_duration (r, o, "watchdog", "grace", &p->watchdog_grace) < 0)
    return -1;
  p->watchdog_on_breach = breach == 0 ? POLICY_BREACH_KILL : POLICY_BREACH_FREEZE;
  return 0;
}

static const char *const top_keys[] = { "name",
                                        "description",
                                        "capabilities",
                                        "noNewPrivileges",
                                        "readonlyRootfs",
                                        "user",
                                        "tmpfs",
                                        "maskedPaths",
                                        "readonlyPaths",
                                        "seccomp",
                                        "namespaces",
                                        "devices",
                                        "forbiddenBindSources",
                                        "engineBindSources",
                                        "rlimits",
                                        "resources",
                                        "lsm",
                                        "landlock",
                                        "egress",
                                        "watchdog",
                                        "verify",
                                        NULL };

static int
read_name (const struct reader *r, const struct json_value *root, const char *display_name, struct policy *p)
{
  const char *base = strrchr (display_name, '/');
  base = base ? base + 1 : display_name;
  size_t stem = strlen (base);
  if (stem > 5 && strcmp (base + stem - 5, ".json") == 0)
    stem -= 5;
  if (read_string (r, root, "", "name", &p->name) < 0)
    return -1;
  if (!policy_name_valid (p->name))
    return field_error (r->doc, json_object_get (root, "name"), "name", r->err,
                        "invalid profile name \"%s\" (expected [a-z0-9-]+)", p->name);
  /* `ward policy show X` must show the profile called X. */
  if (strlen (p->name) != stem || strncmp (p->name, base, stem) != 0)
    return field_error (r->doc, json_object_get (root, "name"), "name", r->err,
                        "\"%s\" does not match the file name", p->name);
  return 0;
}

static int
read_policy (const struct reader *r, const struct json_value *root, const char *dir, const char *display_name,
             struct policy *p)
{
  if (root->type != JSON_OBJECT)
    return field_type_error (r->doc, root, "(root)", "an object", r->err);
  return check_keys (r, root, "", top_keys) < 0 || read_name (r, root, display_name, p) < 0
          || read_string (r, root, "", "description", &p->description) < 0
          || read_capabilities (r, root, p) < 0
          || read_bool (r, root, "", "noNewPrivileges", &p->no_new_privileges) < 0
          || read_bool (r, root, "", "readonlyRootfs", &p->readonly_rootfs) < 0 || read_user (r, root, p) < 0
          || read_tmpfs (r, root, p) < 0
          || read_list (r, root, "", "maskedPaths", check_absolute, NULL, &p->masked_paths,
                        &p->masked_paths_count)
              < 0
          || read_list (r, root, "", "readonlyPaths", check_absolute, NULL, &p->readonly_paths,
                        &p->readonly_paths_count)
              < 0
          || read_seccomp (r, root, dir, p) < 0 || read_namespaces (r, root, p) < 0
          || read_devices (r, root, p) < 0
          || read_list (r, root, "", "forbiddenBindSources", check_absolute, NULL, &p->forbidden_bind_sources,
                        &p->forbidden_bind_sources_count)
              < 0
          || read_list (r, root, "", "engineBindSources", check_absolute, NULL, &p->engine_bind_sources,
                        &p->engine_bind_sources_count)
              < 0
          || read_rlimits (r, root, p) < 0 || read_resources (r, root, p) < 0 || read_lsm (r, root, p) < 0
          || read_landlock (r, root, p) < 0 || read_egress (r, root, p) < 0 || read_watchdog (r, root, p) < 0
          || read_verify (r, root, p) < 0
      ? -1
      : 0;
}

static int
parse_document (const char *dir, const char *display_name, struct json_document *doc, struct policy **out,
                struct ward_error **err)
{
  struct reader r = { doc, err };
  struct policy *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ward_fail (err, ENOMEM, "%s", display_name);
  if (read_policy (&r, doc->root, dir, display_name, p) < 0)
    {
      policy_free (p);
      return -1;
    }
  *out = p;
  return 0;
}

int
policy_parse (const char *dir, const char *display_name, const char *text, size_t length, struct policy **out,
              struct ward_error **err)
{
  struct json_document *doc = NULL;
  if (json_parse (display_name, text, length, &doc, err) < 0)
    return -1;
  int ret = parse_document (dir, display_name, doc, out, err);
  json_document_free (doc);
  return ret;
}

int
policy_load (const char *dir, const char *name, struct policy **out, struct ward_error **err)
{
  cleanup_free char *path = NULL, *display = NULL;
  struct json_document *doc = NULL;
  if (!policy_name_valid (name))
    return ward_fail (err, 0, "policy: invalid profile name \"%s\" (expected [a-z0-9-]+)", name);
  if (asprintf (&path, "%s/%s.json", dir, name) < 0 || asprintf (&display, "%s.json", name) < 0)
    return ward_fail (err, ENOMEM, "policy %s", name);
  if (json_parse_file (path, display, &doc, err) < 0)
    {
      if ((*err)->errnum != ENOENT)
        return -1;
      ward_error_free (err);
      return ward_fail (err, 0, "policy: no profile \"%s\" in %s", name, dir);
    }
  int ret = parse_document (dir, display, doc, out, err);
  json_document_free (doc);
  return ret;
}

void
policy_free (struct policy *p)
{
  if (p == NULL)
    return;
  free (p->name);
  free (p->description);
  string_array_free (p->capabilities_maximum);
  for (size_t i = 0; i < p->tmpfs_count; i++)
    free (p->tmpfs[i].destination);
  free (p->tmpfs);
  string_array_free (p->masked_paths);
  string_array_free (p->readonly_paths);
  string_array_free (p->forbidden_bind_sources);
  string_array_free (p->engine_bind_sources);
  string_array_free (p->verify_accept);
  free (p->seccomp);
  free (p->seccomp_path);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  string_array_free (p->landlock_writable_paths);
  string_array_free (p->egress_allow);
  free (p);
}

const char *
policy_directory (void)
{
  const char *dir = getenv ("WARD_POLICY_DIR");
  return dir && dir[0] ? dir : WARD_POLICY_DIR_DEFAULT;
}

bool
policy_name_valid (const char *name)
{
  if (name == NULL || name[0] == '\0')
    return false;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
      return false;
  return true;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

void
policy_names_free (char **names, size_t count)
{
  for (size_t i = 0; i < count; i++)
    free (names[i]);
  free (names);
}

int
policy_list (const char *dir, char ***names, size_t *count, struct ward_error **err)
{
  cleanup_closedir DIR *d = opendir (dir);
  char **list = NULL;
  size_t n = 0;
  struct dirent *e;
  if (d == NULL)
    return ward_fail (err, errno, "open policy directory %s", dir);
  while ((errno = 0, e = readdir (d)) != NULL)
    {
      size_t len = strlen (e->d_name);
      if (len <= 5 || strcmp (e->d_name + len - 5, ".json") != 0)
        continue;
      char *stem = strndup (e->d_name, len - 5);
      char **grown = stem ? realloc (list, (n + 1) * sizeof *list) : NULL;
      if (grown == NULL)
        {
          free (stem);
          policy_names_free (list, n);
          return ward_fail (err, ENOMEM, "read policy directory %s", dir);
        }
      list = grown;
      if (!policy_name_valid (stem))
        {
          free (stem);
          continue;
        }
      list[n++] = stem;
    }
  if (errno != 0)
    {
      int saved = errno;
      policy_names_free (list, n);
      return ward_fail (err, saved, "read policy directory %s", dir);
    }
  if (n > 0)
    qsort (list, n, sizeof *list, compare_names);
  *names = list;
  *count = n;
  return 0;
}
