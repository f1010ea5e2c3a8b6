#include "config.h"
#include "process_attributes.h"
#include "cleanup.h"
#include "json_field.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel ABI of ioprio_set(2) and sched_setattr(2), spelled out here:
 * glibc 2.36 wraps neither, and the uapi headers that define them have
 * changed shape between kernel versions (and clash with newer glibc). */
#define WARD_IOPRIO_WHO_PROCESS 1
#define WARD_IOPRIO_CLASS_SHIFT 13
#define WARD_IOPRIO_PRIO_VALUE(class, level) (((class) << WARD_IOPRIO_CLASS_SHIFT) | (level))

struct ward_sched_attr /* SCHED_ATTR_SIZE_VER0 */
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

/* The kernel refuses a SCHED_DEADLINE runtime below 2^DL_SCALE ns, and
 * deadlines or periods with the top bit set. */
#define DEADLINE_MIN_RUNTIME 1024
#define DEADLINE_MAX ((uint64_t)1 << 63)

static const struct
{
  const char *name;
  unsigned long persona;
} domains[] = {
  { "LINUX", PER_LINUX },
  { "LINUX32", PER_LINUX32 },
};

static const struct
{
  const char *name;
  int class;
} io_classes[] = {
  { "IOPRIO_CLASS_RT", 1 },
  { "IOPRIO_CLASS_BE", 2 },
  { "IOPRIO_CLASS_IDLE", 3 },
};

enum sched_policy_use
{
  POLICY_FAIR,     /* nice applies */
  POLICY_REALTIME, /* a priority in 1..99 is required */
  POLICY_IDLE,     /* neither nice nor priority */
  POLICY_DEADLINE, /* runtime, deadline, period */
  POLICY_UNSUPPORTED,
};

static const struct
{
  const char *name;
  uint32_t policy;
  enum sched_policy_use use;
} policies[] = {
  { "SCHED_OTHER", 0, POLICY_FAIR },        { "SCHED_FIFO", 1, POLICY_REALTIME },
  { "SCHED_RR", 2, POLICY_REALTIME },       { "SCHED_BATCH", 3, POLICY_FAIR },
  { "SCHED_ISO", 4, POLICY_UNSUPPORTED },   { "SCHED_IDLE", 5, POLICY_IDLE },
  { "SCHED_DEADLINE", 6, POLICY_DEADLINE },
};

#define RT_PRIORITY_MIN 1
#define RT_PRIORITY_MAX 99

static const struct
{
  const char *name;
  uint64_t flag;
  bool deadline_only;
  /* Why the flag is refused, or NULL. */
  const char *unsupported;
} sched_flags[] = {
  { "SCHED_FLAG_RESET_ON_FORK", 0x01, false, NULL },
  { "SCHED_FLAG_RECLAIM", 0x02, true, NULL },
  { "SCHED_FLAG_DL_OVERRUN", 0x04, true, NULL },
  { "SCHED_FLAG_KEEP_POLICY", 0x08, false, NULL },
  { "SCHED_FLAG_KEEP_PARAMS", 0x10, false, NULL },
  /* The spec has no field for the clamp value, and a clamp of 0 would
   * throttle the container instead of leaving it alone. */
  { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20, false, "the runtime spec has no field for the clamp value" },
  { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40, false, "the runtime spec has no field for the clamp value" },
};

/* Everything parsed, so that validate and apply read the document the same
 * way; the names point into the static tables above. */
struct process_attributes
{
  const char *domain; /* NULL: no linux.personality */
  unsigned long persona;
  const char *io_class; /* NULL: no process.ioPriority */
  int io_priority;
  const char *policy; /* NULL: no process.scheduler */
  struct ward_sched_attr sched;
};

/* Where an error about `key` points: at its value, else at the object. */
static const struct json_value *
position_of (const struct json_value *object, const char *key)
{
  const struct json_value *v = json_object_get (object, key);
  return v ? v : object;
}

static int
field_int_in_range (const struct json_document *doc, const struct json_value *object, const char *parent,
                    const char *key, bool required, int64_t min, int64_t max, int64_t *out,
                    struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  bool present = false;
  if (field_int64 (doc, object, parent, key, required, out, &present, err) < 0)
    return -1;
  if (present && (*out < min || *out > max))
    return field_error (doc, json_object_get (object, key), field_path (path, parent, key), err,
                        "%" PRId64 " is out of range %" PRId64 "..%" PRId64, *out, min, max);
  return 0;
}

static int
parse_personality (const struct json_document *doc, const struct json_value *object,
                   struct process_attributes *out, struct ward_error **err)
{
  static const char parent[] = "linux.personality";
  char path[FIELD_PATH_MAX];
  cleanup_free char *domain = NULL;
  const struct json_value *flags = NULL;
  if (field_string (doc, object, parent, "domain", true, &domain, err) < 0)
    return -1;
  size_t k = 0;
  while (k < WARD_ARRAY_SIZE (domains) && strcmp (domain, domains[k].name) != 0)
    k++;
  if (k == WARD_ARRAY_SIZE (domains))
    return field_error (doc, json_object_get (object, "domain"), field_path (path, parent, "domain"), err,
                        "unknown domain \"%s\" (expected LINUX or LINUX32)", domain);
  if (field_array (doc, object, parent, "flags", false, &flags, err) < 0)
    return -1;
  /* The runtime spec defines no flag values yet; an unknown one could
   * change how the container's binaries behave, so none is guessed at. */
  if (flags && flags->u.array.count > 0)
    {
      const struct json_value *flag = flags->u.array.items[0];
      field_index_path (path, "linux.personality.flags", 0);
      if (flag->type != JSON_STRING)
        return field_type_error (doc, flag, path, "a string", err);
      return field_error (doc, flag, path, err,
                          "unknown flag \"%s\" (the runtime spec defines no personality flags)",
                          flag->u.string);
    }
  out->domain = domains[k].name;
  out->persona = domains[k].persona;
  return 0;
}

static int
parse_io_priority (const struct json_document *doc, const struct json_value *object,
                   struct process_attributes *out, struct ward_error **err)
{
  static const char parent[] = "process.ioPriority";
  char path[FIELD_PATH_MAX];
  cleanup_free char *class = NULL;
  int64_t level = 0;
  if (field_string (doc, object, parent, "class", true, &class, err) < 0)
    return -1;
  const char *class_name = NULL;
  int class_value = 0;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (io_classes); i++)
    if (strcmp (class, io_classes[i].name) == 0)
      {
        class_name = io_classes[i].name;
        class_value = io_classes[i].class;
      }
  if (class_name == NULL)
    return field_error (doc, json_object_get (object, "class"), field_path (path, parent, "class"), err,
                        "unknown class \"%s\"", class);
  if (field_int_in_range (doc, object, parent, "priority", true, 0, 7, &level, err) < 0)
    return -1;
  out->io_class = class_name;
  out->io_priority = WARD_IOPRIO_PRIO_VALUE (class_value, (int)level);
  return 0;
}

static int
parse_sched_flags (const struct json_document *doc, const struct json_value *object, bool deadline,
                   uint64_t *out, struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *flags = NULL;
  if (field_array (doc, object, "process.scheduler", "flags", false, &flags, err) < 0)
    return -1;
  for (size_t i = 0; flags && i < flags->u.array.count; i++)
    {
      const struct json_value *item = flags->u.array.items[i];
      field_index_path (path, "process.scheduler.flags", i);
      if (item->type != JSON_STRING)
        return field_type_error (doc, item, path, "a string", err);
      size_t k = 0;
      while (k < WARD_ARRAY_SIZE (sched_flags) && strcmp (item->u.string, sched_flags[k].name) != 0)
        k++;
      if (k == WARD_ARRAY_SIZE (sched_flags))
        return field_error (doc, item, path, err, "unknown flag \"%s\"", item->u.string);
      if (sched_flags[k].unsupported)
        return field_error (doc, item, path, err, "%s is not supported: %s", sched_flags[k].name,
                            sched_flags[k].unsupported);
      if (sched_flags[k].deadline_only && !deadline)
        return field_error (doc, item, path, err, "%s only applies to SCHED_DEADLINE", sched_flags[k].name);
      *out |= sched_flags[k].flag;
    }
  return 0;
}

/* runtime, deadline and period: only SCHED_DEADLINE takes them, and it
 * needs them to satisfy the kernel's runtime <= deadline <= period. */
static int
parse_deadline (const struct json_document *doc, const struct json_value *object, bool deadline_policy,
                struct ward_sched_attr *attr, struct ward_error **err)
{
  static const char parent[] = "process.scheduler";
  static const char *const keys[] = { "runtime", "deadline", "period" };
  uint64_t *values[] = { &attr->sched_runtime, &attr->sched_deadline, &attr->sched_period };
  char path[FIELD_PATH_MAX];
  for (size_t i = 0; i < WARD_ARRAY_SIZE (keys); i++)
    {
      if (field_uint64 (doc, object, parent, keys[i], false, values[i], NULL, err) < 0)
        return -1;
      if (*values[i] != 0 && !deadline_policy)
        return field_error (doc, json_object_get (object, keys[i]), field_path (path, parent, keys[i]), err,
                            "only SCHED_DEADLINE takes runtime, deadline and period");
      if (*values[i] >= DEADLINE_MAX)
        return field_error (doc, json_object_get (object, keys[i]), field_path (path, parent, keys[i]), err,
                            "%" PRIu64 " is out of range (at most 2^63 - 1 ns)", *values[i]);
    }
  if (!deadline_policy)
    return 0;
  if (attr->sched_deadline == 0)
    return field_error (doc, position_of (object, "deadline"), field_path (path, parent, "deadline"), err,
                        "SCHED_DEADLINE needs a deadline greater than 0");
  if (attr->sched_runtime < DEADLINE_MIN_RUNTIME)
    return field_error (doc, position_of (object, "runtime"), field_path (path, parent, "runtime"), err,
                        "SCHED_DEADLINE needs a runtime of at least %d ns", DEADLINE_MIN_RUNTIME);
  if (attr->sched_runtime > attr->sched_deadline)
    return field_error (doc, json_object_get (object, "runtime"), field_path (path, parent, "runtime"), err,
                        "%" PRIu64 " is longer than the deadline %" PRIu64, attr->sched_runtime,
                        attr->sched_deadline);
  if (attr->sched_period != 0 && attr->sched_period < attr->sched_deadline)
    return field_error (doc, json_object_get (object, "period"), field_path (path, parent, "period"), err,
                        "%" PRIu64 " is shorter than the deadline %" PRIu64, attr->sched_period,
                        attr->sched_deadline);
  return 0;
}

/* nice and priority, each meaningful for some policies only: a value the
 * kernel would ignore is refused rather than silently dropped. */
static int
parse_nice_and_priority (const struct json_document *doc, const struct json_value *object, const char *policy,
                         enum sched_policy_use use, struct ward_sched_attr *attr, struct ward_error **err)
{
  static const char parent[] = "process.scheduler";
  char path[FIELD_PATH_MAX];
  int64_t nice = 0, priority = 0;
  if (field_int_in_range (doc, object, parent, "nice", false, -20, 19, &nice, err) < 0
      || field_int_in_range (doc, object, parent, "priority", false, INT32_MIN, INT32_MAX, &priority, err)
          < 0)
    return -1;
  if (nice != 0 && use != POLICY_FAIR)
    return field_error (doc, json_object_get (object, "nice"), field_path (path, parent, "nice"), err,
                        "%s takes no nice value (only SCHED_OTHER and SCHED_BATCH do)", policy);
  field_path (path, parent, "priority");
  if (use == POLICY_REALTIME && (priority < RT_PRIORITY_MIN || priority > RT_PRIORITY_MAX))
    return field_error (doc, position_of (object, "priority"), path, err, "%s needs a priority in %d..%d",
                        policy, RT_PRIORITY_MIN, RT_PRIORITY_MAX);
  if (use != POLICY_REALTIME && priority != 0)
    return field_error (doc, json_object_get (object, "priority"), path, err,
                        "%s takes no priority (only SCHED_FIFO and SCHED_RR do)", policy);
  attr->sched_nice = (int32_t)nice;
  attr->sched_priority = (uint32_t)priority;
  return 0;
}

static int
parse_scheduler (const struct json_document *doc, const struct json_value *object,
                 struct process_attributes *out, struct ward_error **err)
{
  static const char parent[] = "process.scheduler";
  char path[FIELD_PATH_MAX];
  cleanup_free char *policy = NULL;
  if (field_string (doc, object, parent, "policy", true, &policy, err) < 0)
    return -1;
  size_t k = 0;
  while (k < WARD_ARRAY_SIZE (policies) && strcmp (policy, policies[k].name) != 0)
    k++;
  field_path (path, parent, "policy");
  if (k == WARD_ARRAY_SIZE (policies))
    return field_error (doc, json_object_get (object, "policy"), path, err, "unknown policy \"%s\"", policy);
  if (policies[k].use == POLICY_UNSUPPORTED)
    return field_error (doc, json_object_get (object, "policy"), path, err,
                        "%s is not supported: mainline Linux has no such policy", policies[k].name);

  struct ward_sched_attr *attr = &out->sched;
  memset (attr, 0, sizeof *attr);
  attr->size = sizeof *attr;
  attr->sched_policy = policies[k].policy;
  bool deadline = policies[k].use == POLICY_DEADLINE;
  if (parse_nice_and_priority (doc, object, policies[k].name, policies[k].use, attr, err) < 0
      || parse_sched_flags (doc, object, deadline, &attr->sched_flags, err) < 0
      || parse_deadline (doc, object, deadline, attr, err) < 0)
    return -1;
  out->policy = policies[k].name;
  return 0;
}

static int
parse_all (const struct spec *spec, struct process_attributes *out, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  const struct json_value *personality_object = spec->linux_config.personality;
  if (personality_object && parse_personality (spec->doc, personality_object, out, err) < 0)
    return -1;
  if (spec->process == NULL)
    return 0;
  if (spec->process->io_priority && parse_io_priority (spec->doc, spec->process->io_priority, out, err) < 0)
    return -1;
  if (spec->process->scheduler && parse_scheduler (spec->doc, spec->process->scheduler, out, err) < 0)
    return -1;
  return 0;
}

int
process_attributes_validate (const struct spec *spec, struct ward_error **err)
{
  struct process_attributes attributes;
  return parse_all (spec, &attributes, err);
}

int
process_attributes_apply (const struct spec *spec, struct ward_error **err)
{
  struct process_attributes a;
  if (parse_all (spec, &a, err) < 0)
    return -1;
  if (a.domain && personality (a.persona) < 0)
    return ward_fail (err, errno, "set personality %s", a.domain);
  if (a.io_class && syscall (SYS_ioprio_set, WARD_IOPRIO_WHO_PROCESS, 0, a.io_priority) < 0)
    return ward_fail (err, errno, "set io priority %s %d", a.io_class,
                      a.io_priority & ((1 << WARD_IOPRIO_CLASS_SHIFT) - 1));
  /* Last: a SCHED_DEADLINE process may no longer fork, and a real-time one
   * should not compete with the setup above. */
  if (a.policy && syscall (SYS_sched_setattr, 0, &a.sched, 0) < 0)
    return ward_fail (err, errno, "set scheduler %s", a.policy);
  return 0;
}
