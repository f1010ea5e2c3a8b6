/* linux.resources → struct resources.  Values are checked here, where an
 * error can still point into the document, so that the cgroup writers only
 * meet values of a form the kernel takes, and no string from the document
 * can name a file outside the container's cgroup directory.
 *
 * Zero means "not set" for the limits runc reads as Go zero values
 * (memory limit, reservation, swap, kernel, kernelTCP; cpu shares, quota,
 * period, realtimePeriod; blockIO weights and leafWeights, also per
 * device): engines generate configs with that meaning, and for each of
 * these the kernel either refuses 0 or would leave the container unable
 * to run. */
#include "config.h"
#include "resources.h"
#include "cleanup.h"
#include "json_field.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE_NUMBER_MAX 4294967295LL /* the kernel reads majors and minors as u32 */
#define INTERFACE_NAME_MAX 15          /* IFNAMSIZ - 1 */

/* The member `key` of `object`, or NULL when it is absent or null. */
static const struct json_value *
member (const struct json_value *object, const char *key)
{
  const struct json_value *v = json_object_get (object, key);
  return v && v->type != JSON_NULL ? v : NULL;
}

/* "<doc>: <parent>.<key>: <message> at line L, column C". */
static int member_error (const struct json_document *doc, const struct json_value *object, const char *parent,
                         const char *key, struct ward_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

static int
member_error (const struct json_document *doc, const struct json_value *object, const char *parent,
              const char *key, struct ward_error **err, const char *fmt, ...)
{
  char path[FIELD_PATH_MAX];
  char message[256];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (message, sizeof message, fmt, ap);
  va_end (ap);
  return field_error (doc, member (object, key), field_path (path, parent, key), err, "%s", message);
}

/* An int64 member within min..max; `reason` completes "<value> …" when it
 * is not.  *has is set only when the member is there. */
static int
read_int64 (const struct json_document *doc, const struct json_value *object, const char *parent,
            const char *key, bool required, int64_t min, int64_t max, const char *reason, int64_t *out,
            bool *has, struct ward_error **err)
{
  int64_t value = 0;
  bool present = false;
  if (field_int64 (doc, object, parent, key, required, &value, &present, err) < 0)
    return -1;
  if (!present)
    return 0;
  if (value < min || value > max)
    return member_error (doc, object, parent, key, err, "%lld %s", (long long)value, reason);
  *out = value;
  if (has)
    *has = true;
  return 0;
}

static int
read_uint64 (const struct json_document *doc, const struct json_value *object, const char *parent,
             const char *key, bool required, uint64_t min, uint64_t max, const char *reason, uint64_t *out,
             bool *has, struct ward_error **err)
{
  uint64_t value = 0;
  bool present = false;
  if (field_uint64 (doc, object, parent, key, required, &value, &present, err) < 0)
    return -1;
  if (!present)
    return 0;
  if (value < min || value > max)
    return member_error (doc, object, parent, key, err, "%llu %s", (unsigned long long)value, reason);
  *out = value;
  if (has)
    *has = true;
  return 0;
}

/* A byte count, or -1 for unlimited; 0 is "not set" (see the top). */
static int
read_byte_limit (const struct json_document *doc, const struct json_value *object, const char *parent,
                 const char *key, int64_t *out, bool *has, struct ward_error **err)
{
  if (read_int64 (doc, object, parent, key, false, -1, INT64_MAX,
                  "is neither -1 (unlimited) nor a byte count", out, has, err)
      < 0)
    return -1;
  if (*has && *out == 0)
    *has = false;
  return 0;
}

/* blkio weights: 10..1000 as CFQ takes them, or 0 ("not set"). */
static int
read_weight (const struct json_document *doc, const struct json_value *object, const char *parent,
             const char *key, uint16_t *out, bool *has, struct ward_error **err)
{
  uint64_t value = 0;
  bool present = false;
  if (read_uint64 (doc, object, parent, key, false, 0, 1000, "is outside 10..1000", &value, &present, err)
      < 0)
    return -1;
  if (!present)
    return 0;
  if (value != 0 && value < 10)
    return member_error (doc, object, parent, key, err, "%llu is outside 10..1000",
                         (unsigned long long)value);
  *out = (uint16_t)value;
  *has = true;
  return 0;
}

static int
read_bool (const struct json_document *doc, const struct json_value *object, const char *parent,
           const char *key, bool *out, bool *has, struct ward_error **err)
{
  if (member (object, key) == NULL)
    return 0;
  if (field_bool (doc, object, parent, key, out, err) < 0)
    return -1;
  *has = true;
  return 0;
}

/* An optional object member; *out is NULL when absent. */
static int
read_object (const struct json_document *doc, const struct json_value *object, const char *parent,
             const char *key, const struct json_value **out, char path[FIELD_PATH_MAX],
             struct ward_error **err)
{
  *out = NULL;
  field_path (path, parent, key);
  return field_object (doc, object, parent, key, false, out, err);
}

/* Item `index` of an array of objects, with its path. */
static int
array_item (const struct json_document *doc, const struct json_value *array, const char *array_path,
            size_t index, const struct json_value **item, char path[FIELD_PATH_MAX], struct ward_error **err)
{
  *item = array->u.array.items[index];
  field_index_path (path, array_path, index);
  if ((*item)->type != JSON_OBJECT)
    return field_type_error (doc, *item, path, "an object", err);
  return 0;
}

/* An optional array member and a zeroed buffer of `size` per item. */
static int
read_array (const struct json_document *doc, const struct json_value *object, const char *parent,
            const char *key, size_t size, const struct json_value **array, void **items,
            char path[FIELD_PATH_MAX], struct ward_error **err)
{
  *array = NULL;
  *items = NULL;
  field_path (path, parent, key);
  if (field_array (doc, object, parent, key, false, array, err) < 0)
    return -1;
  if (*array == NULL || (*array)->u.array.count == 0)
    return 0;
  *items = calloc ((*array)->u.array.count, size);
  if (*items == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  return 0;
}

/* Devices */

static int
parse_device_type (const struct json_document *doc, const struct json_value *item, const char *path,
                   char *type, struct ward_error **err)
{
  cleanup_free char *text = NULL;
  if (field_string (doc, item, path, "type", false, &text, err) < 0)
    return -1;
  *type = 'a'; /* unset means all devices */
  if (text == NULL)
    return 0;
  if (strlen (text) != 1 || strchr ("acb", text[0]) == NULL)
    return member_error (doc, item, path, "type", err, "expected \"a\", \"c\" or \"b\", got \"%s\"", text);
  *type = text[0];
  return 0;
}

/* Each of r, w and m at most once, so the rule reads as the kernel reads it. */
static bool
is_device_access (const char *access)
{
  for (const char *p = access; *p; p++)
    if (strchr ("rwm", *p) == NULL || strchr (p + 1, *p) != NULL)
      return false;
  return true;
}

static int
parse_device_access (const struct json_document *doc, const struct json_value *item, const char *path,
                     char access[4], struct ward_error **err)
{
  cleanup_free char *text = NULL;
  if (field_string (doc, item, path, "access", false, &text, err) < 0)
    return -1;
  if (text == NULL)
    return 0;
  if (!is_device_access (text))
    return member_error (doc, item, path, "access", err, "\"%s\" is not a combination of r, w and m", text);
  strcpy (access, text); /* at most "rwm" once checked */
  return 0;
}

static int
parse_device_rule (const struct json_document *doc, const struct json_value *item, const char *path,
                   struct resources_device_rule *rule, struct ward_error **err)
{
  static const char any_reason[] = "is neither -1 (any) nor a device number";
  char allow_path[FIELD_PATH_MAX];
  bool has_allow = false;
  rule->major = rule->minor = -1;
  if (read_bool (doc, item, path, "allow", &rule->allow, &has_allow, err) < 0)
    return -1;
  if (!has_allow)
    return field_missing (doc, item, field_path (allow_path, path, "allow"), err);
  if (parse_device_type (doc, item, path, &rule->type, err) < 0
      || read_int64 (doc, item, path, "major", false, -1, DEVICE_NUMBER_MAX, any_reason, &rule->major, NULL,
                     err)
          < 0
      || read_int64 (doc, item, path, "minor", false, -1, DEVICE_NUMBER_MAX, any_reason, &rule->minor, NULL,
                     err)
          < 0)
    return -1;
  return parse_device_access (doc, item, path, rule->access, err);
}

static int
parse_devices (const struct json_document *doc, const struct json_value *object, const char *parent,
               struct resources *r, struct ward_error **err)
{
  const struct json_value *array;
  char path[FIELD_PATH_MAX];
  if (read_array (doc, object, parent, "devices", sizeof *r->devices, &array, (void **)&r->devices, path, err)
      < 0)
    return -1;
  if (array == NULL)
    return 0;
  r->has_devices = true;
  for (size_t i = 0; i < array->u.array.count; i++)
    {
      const struct json_value *item;
      char item_path[FIELD_PATH_MAX];
      if (array_item (doc, array, path, i, &item, item_path, err) < 0
          || parse_device_rule (doc, item, item_path, &r->devices[i], err) < 0)
        return -1;
      r->devices_count++;
    }
  return 0;
}

/* Memory */

struct memory_limit_field
{
  const char *key;
  size_t value; /* offsetof an int64_t in struct resources_memory */
  size_t has;   /* offsetof its bool */
};

static const struct memory_limit_field memory_limits[] = {
  { "limit", offsetof (struct resources_memory, limit), offsetof (struct resources_memory, has_limit) },
  { "reservation", offsetof (struct resources_memory, reservation),
    offsetof (struct resources_memory, has_reservation) },
  { "swap", offsetof (struct resources_memory, swap), offsetof (struct resources_memory, has_swap) },
  { "kernel", offsetof (struct resources_memory, kernel), offsetof (struct resources_memory, has_kernel) },
  { "kernelTCP", offsetof (struct resources_memory, kernel_tcp),
    offsetof (struct resources_memory, has_kernel_tcp) },
};

/* 0..100.  -1, as older Docker sent it (also seen as 2^64-1 once converted
 * to unsigned), asks for the default: leave the value alone, as runc does. */
static int
parse_swappiness (const struct json_document *doc, const struct json_value *object, const char *parent,
                  struct resources_memory *m, struct ward_error **err)
{
  const struct json_value *v = member (object, "swappiness");
  if (v && v->type == JSON_NUMBER
      && ((v->u.number.is_integer && v->u.number.integer == -1)
          || (v->u.number.is_unsigned_overflow && v->u.number.uinteger == UINT64_MAX)))
    return 0;
  return read_uint64 (doc, object, parent, "swappiness", false, 0, 100, "is outside 0..100", &m->swappiness,
                      &m->has_swappiness, err);
}

/* swap is the memory+swap limit (v2 writers subtract the limit), so it
 * cannot be lower than the limit. */
static int
check_swap (const struct json_document *doc, const struct json_value *object, const char *parent,
            const struct resources_memory *m, struct ward_error **err)
{
  if (!m->has_limit || !m->has_swap || m->limit == -1 || m->swap == -1 || m->swap >= m->limit)
    return 0;
  return member_error (doc, object, parent, "swap", err,
                       "%lld is less than the memory limit %lld (swap is the memory+swap limit)",
                       (long long)m->swap, (long long)m->limit);
}

static int
parse_memory (const struct json_document *doc, const struct json_value *resources, const char *parent,
              struct resources *r, struct ward_error **err)
{
  const struct json_value *object;
  char path[FIELD_PATH_MAX];
  struct resources_memory *m = &r->memory;
  if (read_object (doc, resources, parent, "memory", &object, path, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  r->has_memory = true;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (memory_limits); i++)
    {
      const struct memory_limit_field *f = &memory_limits[i];
      if (read_byte_limit (doc, object, path, f->key, (int64_t *)((char *)m + f->value),
                           (bool *)((char *)m + f->has), err)
          < 0)
        return -1;
    }
  if (parse_swappiness (doc, object, path, m, err) < 0
      || read_bool (doc, object, path, "disableOOMKiller", &m->disable_oom_killer, &m->has_disable_oom_killer,
                    err)
          < 0
      || read_bool (doc, object, path, "useHierarchy", &m->use_hierarchy, &m->has_use_hierarchy, err) < 0
      || read_bool (doc, object, path, "checkBeforeUpdate", &m->check_before_update,
                    &m->has_check_before_update, err)
          < 0)
    return -1;
  return check_swap (doc, object, path, m, err);
}

/* CPU */

/* A cpuset list as the kernel reads it: "0-3,7"; "" is "not set". */
static bool
is_cpu_list (const char *list)
{
  for (const char *p = list; *p; p++)
    if (!isdigit ((unsigned char)*p) && *p != ',' && *p != '-')
      return false;
  return true;
}

static int
read_cpu_list (const struct json_document *doc, const struct json_value *object, const char *parent,
               const char *key, char **out, struct ward_error **err)
{
  if (field_string (doc, object, parent, key, false, out, err) < 0)
    return -1;
  if (*out == NULL)
    return 0;
  if (!is_cpu_list (*out))
    return member_error (doc, object, parent, key, err, "\"%s\" is not a list like \"0-3,7\"", *out);
  if ((*out)[0] == '\0')
    {
      free (*out);
      *out = NULL;
    }
  return 0;
}

/* The kernel refuses a burst above the quota it goes with. */
static int
check_burst (const struct json_document *doc, const struct json_value *object, const char *parent,
             const struct resources_cpu *c, struct ward_error **err)
{
  if (!c->has_burst || !c->has_quota || c->quota <= 0 || c->burst <= (uint64_t)c->quota)
    return 0;
  return member_error (doc, object, parent, "burst", err, "%llu is greater than the quota %lld",
                       (unsigned long long)c->burst, (long long)c->quota);
}

static int
parse_cpu_numbers (const struct json_document *doc, const struct json_value *object, const char *path,
                   struct resources_cpu *c, struct ward_error **err)
{
  if (field_uint64 (doc, object, path, "shares", false, &c->shares, &c->has_shares, err) < 0
      || read_int64 (doc, object, path, "quota", false, -1, INT64_MAX,
                     "is neither -1 (unlimited) nor a count of microseconds", &c->quota, &c->has_quota, err)
          < 0
      || field_uint64 (doc, object, path, "burst", false, &c->burst, &c->has_burst, err) < 0
      || field_uint64 (doc, object, path, "period", false, &c->period, &c->has_period, err) < 0
      || read_int64 (doc, object, path, "realtimeRuntime", false, -1, INT64_MAX,
                     "is neither -1 (unlimited) nor a count of microseconds", &c->realtime_runtime,
                     &c->has_realtime_runtime, err)
          < 0
      || field_uint64 (doc, object, path, "realtimePeriod", false, &c->realtime_period,
                       &c->has_realtime_period, err)
          < 0
      || read_int64 (doc, object, path, "idle", false, 0, 1, "is outside 0..1", &c->idle, &c->has_idle, err)
          < 0)
    return -1;
  c->has_shares = c->has_shares && c->shares != 0;
  c->has_quota = c->has_quota && c->quota != 0;
  c->has_period = c->has_period && c->period != 0;
  c->has_realtime_period = c->has_realtime_period && c->realtime_period != 0;
  return check_burst (doc, object, path, c, err);
}

static int
parse_cpu (const struct json_document *doc, const struct json_value *resources, const char *parent,
           struct resources *r, struct ward_error **err)
{
  const struct json_value *object;
  char path[FIELD_PATH_MAX];
  if (read_object (doc, resources, parent, "cpu", &object, path, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  r->has_cpu = true;
  if (parse_cpu_numbers (doc, object, path, &r->cpu, err) < 0
      || read_cpu_list (doc, object, path, "cpus", &r->cpu.cpus, err) < 0
      || read_cpu_list (doc, object, path, "mems", &r->cpu.mems, err) < 0)
    return -1;
  return 0;
}

/* PIDs */

static int
parse_pids (const struct json_document *doc, const struct json_value *resources, const char *parent,
            struct resources *r, struct ward_error **err)
{
  const struct json_value *object;
  char path[FIELD_PATH_MAX];
  if (read_object (doc, resources, parent, "pids", &object, path, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  r->has_pids = true;
  return read_int64 (doc, object, path, "limit", true, -1, INT64_MAX,
                     "is neither a count of tasks nor -1 or 0 (unlimited)", &r->pids_limit,
                     &r->has_pids_limit, err);
}

/* Block IO */

static const char *const throttle_keys[] = {
  [THROTTLE_READ_BPS] = "throttleReadBpsDevice",
  [THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
  [THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
  [THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

/* Per-device entries name one device: no wildcard. */
static int
read_device_numbers (const struct json_document *doc, const struct json_value *item, const char *path,
                     int64_t *major, int64_t *minor, struct ward_error **err)
{
  static const char reason[] = "is not a device number";
  if (read_int64 (doc, item, path, "major", true, 0, DEVICE_NUMBER_MAX, reason, major, NULL, err) < 0
      || read_int64 (doc, item, path, "minor", true, 0, DEVICE_NUMBER_MAX, reason, minor, NULL, err) < 0)
    return -1;
  return 0;
}

static int
parse_weight_device (const struct json_document *doc, const struct json_value *item, const char *path,
                     struct resources_weight_device *d, struct ward_error **err)
{
  if (read_device_numbers (doc, item, path, &d->major, &d->minor, err) < 0
      || read_weight (doc, item, path, "weight", &d->weight, &d->has_weight, err) < 0
      || read_weight (doc, item, path, "leafWeight", &d->leaf_weight, &d->has_leaf_weight, err) < 0)
    return -1;
  if (!d->has_weight && !d->has_leaf_weight)
    return field_error (doc, item, path, err, "needs a weight or a leafWeight");
  d->has_weight = d->has_weight && d->weight != 0;
  d->has_leaf_weight = d->has_leaf_weight && d->leaf_weight != 0;
  return 0;
}

static int
parse_weight_devices (const struct json_document *doc, const struct json_value *object, const char *parent,
                      struct resources_block_io *b, struct ward_error **err)
{
  const struct json_value *array;
  char path[FIELD_PATH_MAX];
  if (read_array (doc, object, parent, "weightDevice", sizeof *b->weight_devices, &array,
                  (void **)&b->weight_devices, path, err)
      < 0)
    return -1;
  for (size_t i = 0; array && i < array->u.array.count; i++)
    {
      const struct json_value *item;
      char item_path[FIELD_PATH_MAX];
      if (array_item (doc, array, path, i, &item, item_path, err) < 0
          || parse_weight_device (doc, item, item_path, &b->weight_devices[i], err) < 0)
        return -1;
      b->weight_devices_count++;
    }
  return 0;
}

static int
parse_throttle (const struct json_document *doc, const struct json_value *object, const char *parent,
                enum resources_throttle_kind kind, struct resources_block_io *b, struct ward_error **err)
{
  const struct json_value *array;
  char path[FIELD_PATH_MAX];
  if (read_array (doc, object, parent, throttle_keys[kind], sizeof *b->throttle[kind], &array,
                  (void **)&b->throttle[kind], path, err)
      < 0)
    return -1;
  for (size_t i = 0; array && i < array->u.array.count; i++)
    {
      const struct json_value *item;
      char item_path[FIELD_PATH_MAX];
      struct resources_throttle_device *d = &b->throttle[kind][i];
      if (array_item (doc, array, path, i, &item, item_path, err) < 0
          || read_device_numbers (doc, item, item_path, &d->major, &d->minor, err) < 0
          || field_uint64 (doc, item, item_path, "rate", true, &d->rate, NULL, err) < 0)
        return -1;
      b->throttle_count[kind]++;
    }
  return 0;
}

static int
parse_block_io (const struct json_document *doc, const struct json_value *resources, const char *parent,
                struct resources *r, struct ward_error **err)
{
  const struct json_value *object;
  char path[FIELD_PATH_MAX];
  struct resources_block_io *b = &r->block_io;
  if (read_object (doc, resources, parent, "blockIO", &object, path, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  r->has_block_io = true;
  if (read_weight (doc, object, path, "weight", &b->weight, &b->has_weight, err) < 0
      || read_weight (doc, object, path, "leafWeight", &b->leaf_weight, &b->has_leaf_weight, err) < 0
      || parse_weight_devices (doc, object, path, b, err) < 0)
    return -1;
  b->has_weight = b->has_weight && b->weight != 0;
  b->has_leaf_weight = b->has_leaf_weight && b->leaf_weight != 0;
  for (int kind = 0; kind < (int)WARD_ARRAY_SIZE (throttle_keys); kind++)
    if (parse_throttle (doc, object, path, kind, b, err) < 0)
      return -1;
  return 0;
}

/* Huge pages */

/* "<digits><K|M|G|T|P>B", the form of the kernel's hugetlb.<size>.* file
 * names; the size becomes part of a file name, so nothing else may pass. */
static bool
is_page_size (const char *size)
{
  const char *p = size;
  if (*p < '1' || *p > '9')
    return false;
  while (isdigit ((unsigned char)*p))
    p++;
  return p[0] != '\0' && strchr ("KMGTP", p[0]) != NULL && strcmp (p + 1, "B") == 0;
}

static int
parse_hugepage (const struct json_document *doc, const struct json_value *item, const char *path,
                struct resources_hugepage *h, struct ward_error **err)
{
  if (field_string (doc, item, path, "pageSize", true, &h->page_size, err) < 0
      || field_uint64 (doc, item, path, "limit", true, &h->limit, NULL, err) < 0)
    return -1;
  if (!is_page_size (h->page_size))
    return member_error (doc, item, path, "pageSize", err,
                         "\"%s\" is not a page size like \"2MB\" or \"1GB\"", h->page_size);
  return 0;
}

static int
parse_hugepages (const struct json_document *doc, const struct json_value *resources, const char *parent,
                 struct resources *r, struct ward_error **err)
{
  const struct json_value *array;
  char path[FIELD_PATH_MAX];
  if (read_array (doc, resources, parent, "hugepageLimits", sizeof *r->hugepages, &array,
                  (void **)&r->hugepages, path, err)
      < 0)
    return -1;
  for (size_t i = 0; array && i < array->u.array.count; i++)
    {
      const struct json_value *item;
      char item_path[FIELD_PATH_MAX];
      /* Counted first: a page_size read before a failure is still freed. */
      r->hugepages_count++;
      if (array_item (doc, array, path, i, &item, item_path, err) < 0
          || parse_hugepage (doc, item, item_path, &r->hugepages[i], err) < 0)
        return -1;
    }
  return 0;
}

/* Network */

/* net_prio.ifpriomap reads "<name> <priority>": a name with a space in it
 * would smuggle in another field. */
static bool
is_interface_name (const char *name)
{
  size_t length = strlen (name);
  if (length == 0 || length > INTERFACE_NAME_MAX)
    return false;
  for (const char *p = name; *p; p++)
    if (isspace ((unsigned char)*p) || *p == '/' || !isprint ((unsigned char)*p))
      return false;
  return true;
}

static int
parse_priority (const struct json_document *doc, const struct json_value *item, const char *path,
                struct resources_net_priority *p, struct ward_error **err)
{
  if (field_string (doc, item, path, "name", true, &p->interface, err) < 0
      || field_uint32 (doc, item, path, "priority", true, &p->priority, NULL, err) < 0)
    return -1;
  if (!is_interface_name (p->interface))
    return member_error (doc, item, path, "name", err, "\"%s\" is not an interface name", p->interface);
  return 0;
}

static int
parse_network (const struct json_document *doc, const struct json_value *resources, const char *parent,
               struct resources *r, struct ward_error **err)
{
  const struct json_value *object, *array;
  char path[FIELD_PATH_MAX], priorities_path[FIELD_PATH_MAX];
  if (read_object (doc, resources, parent, "network", &object, path, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  r->has_network = true;
  if (field_uint32 (doc, object, path, "classID", false, &r->net_class_id, &r->has_net_class_id, err) < 0
      || read_array (doc, object, path, "priorities", sizeof *r->net_priorities, &array,
                     (void **)&r->net_priorities, priorities_path, err)
          < 0)
    return -1;
  for (size_t i = 0; array && i < array->u.array.count; i++)
    {
      const struct json_value *item;
      char item_path[FIELD_PATH_MAX];
      r->net_priorities_count++;
      if (array_item (doc, array, priorities_path, i, &item, item_path, err) < 0
          || parse_priority (doc, item, item_path, &r->net_priorities[i], err) < 0)
        return -1;
    }
  return 0;
}

/* Unified */

/* Each key is opened as a file in the container's cgroup directory. */
static bool
is_cgroup_file_name (const char *name)
{
  return name[0] != '\0' && name[0] != '.' && strchr (name, '/') == NULL;
}

static int
parse_unified (const struct json_document *doc, const struct json_value *resources, const char *parent,
               struct resources *r, struct ward_error **err)
{
  const struct json_value *object;
  char path[FIELD_PATH_MAX];
  if (read_object (doc, resources, parent, "unified", &object, path, err) < 0)
    return -1;
  if (object == NULL || object->u.object.count == 0)
    return 0;
  r->unified = calloc (object->u.object.count, sizeof *r->unified);
  if (r->unified == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  for (size_t i = 0; i < object->u.object.count; i++)
    {
      char key_path[FIELD_PATH_MAX];
      const char *key = object->u.object.keys[i];
      struct resources_unified_entry *e = &r->unified[r->unified_count++];
      if (!is_cgroup_file_name (key))
        return field_error (doc, object, path, err, "\"%s\" is not a cgroup file name", key);
      e->key = strdup (key);
      if (e->key == NULL)
        return ward_fail (err, ENOMEM, "%s", path);
      if (value_string (doc, object->u.object.values[i], field_path (key_path, path, key), &e->value, err)
          < 0)
        return -1;
    }
  return 0;
}

/* The whole object */

typedef int (*section_parser) (const struct json_document *doc, const struct json_value *resources,
                               const char *parent, struct resources *r, struct ward_error **err);

static const section_parser sections[] = {
  parse_devices,  parse_memory,    parse_cpu,     parse_pids,
  parse_block_io, parse_hugepages, parse_network, parse_unified,
};

int
resources_parse (const struct json_document *doc, const struct json_value *object, const char *path,
                 struct resources **out, struct ward_error **err)
{
  if (path == NULL)
    path = "";
  if (object->type != JSON_OBJECT)
    return field_type_error (doc, object, path[0] ? path : "resources", "an object", err);
  struct resources *r = calloc (1, sizeof *r);
  if (r == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (sections); i++)
    if (sections[i](doc, object, path, r, err) < 0)
      {
        resources_free (r);
        return -1;
      }
  *out = r;
  return 0;
}

void
resources_free (struct resources *r)
{
  if (r == NULL)
    return;
  free (r->devices);
  free (r->cpu.cpus);
  free (r->cpu.mems);
  free (r->block_io.weight_devices);
  for (size_t kind = 0; kind < WARD_ARRAY_SIZE (r->block_io.throttle); kind++)
    free (r->block_io.throttle[kind]);
  for (size_t i = 0; i < r->hugepages_count; i++)
    free (r->hugepages[i].page_size);
  free (r->hugepages);
  for (size_t i = 0; i < r->net_priorities_count; i++)
    free (r->net_priorities[i].interface);
  free (r->net_priorities);
  for (size_t i = 0; i < r->unified_count; i++)
    {
      free (r->unified[i].key);
      free (r->unified[i].value);
    }
  free (r->unified);
  free (r);
}
