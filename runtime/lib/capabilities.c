#include "config.h"
#include "capabilities.h"
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

/* A set as a bit mask over capability numbers (the kernel has < 64). */
typedef uint64_t cap_mask;

static int
name_to_value (const char *name, cap_value_t *out)
{
  return cap_from_name (name, out);
}

/* Names the running kernel does not know (newer than it) are left out, as
 * runc does: asking for them cannot grant anything here. */
static int
mask_of (char **names, size_t count, const char *set, cap_mask *out, struct ward_error **err)
{
  cap_mask mask = 0;
  int last = (int)cap_max_bits () - 1;
  for (size_t i = 0; i < count; i++)
    {
      cap_value_t value;
      if (name_to_value (names[i], &value) < 0)
        return ward_fail (err, 0, "config.json: process.capabilities.%s[%zu]: unknown capability \"%s\"", set,
                          i, names[i]);
      if (value > last)
        {
          log_debug ("capability %s is not known to this kernel: skipped", names[i]);
          continue;
        }
      mask |= (cap_mask)1 << value;
    }
  *out = mask;
  return 0;
}

struct masks
{
  cap_mask bounding, effective, permitted, inheritable, ambient;
};

static int
masks_of (const struct spec_capabilities *c, struct masks *m, struct ward_error **err)
{
  if (mask_of (c->bounding, c->bounding_count, "bounding", &m->bounding, err) < 0
      || mask_of (c->effective, c->effective_count, "effective", &m->effective, err) < 0
      || mask_of (c->permitted, c->permitted_count, "permitted", &m->permitted, err) < 0
      || mask_of (c->inheritable, c->inheritable_count, "inheritable", &m->inheritable, err) < 0
      || mask_of (c->ambient, c->ambient_count, "ambient", &m->ambient, err) < 0)
    return -1;
  return 0;
}

int
capabilities_validate (const struct spec_process *process, struct ward_error **err)
{
  struct masks m;
  if (!process->capabilities.present)
    return 0;
  return masks_of (&process->capabilities, &m, err);
}

int
capabilities_before_user_switch (const struct spec_process *process, struct ward_error **err)
{
  struct masks m;
  if (!process->capabilities.present)
    return 0;
  if (masks_of (&process->capabilities, &m, err) < 0)
    return -1;
  int last = (int)cap_max_bits () - 1;
  for (int cap = 0; cap <= last; cap++)
    if (!(m.bounding & ((cap_mask)1 << cap)) && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return ward_fail (err, errno, "drop capability %d from the bounding set", cap);
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return ward_fail (err, errno, "keep capabilities across the user switch");
  return 0;
}

static int
add_flags (cap_t caps, cap_flag_t flag, cap_mask mask)
{
  cap_value_t values[64];
  int n = 0;
  for (int cap = 0; cap < 64; cap++)
    if (mask & ((cap_mask)1 << cap))
      values[n++] = cap;
  return n ? cap_set_flag (caps, flag, n, values, CAP_SET) : 0;
}

int
capabilities_after_user_switch (const struct spec_process *process, struct ward_error **err)
{
  struct masks m;
  if (!process->capabilities.present)
    return 0;
  if (masks_of (&process->capabilities, &m, err) < 0)
    return -1;
  cap_t caps = cap_init ();
  if (caps == NULL)
    return ward_fail (err, errno, "capabilities");
  int ret = 0;
  if (add_flags (caps, CAP_EFFECTIVE, m.effective) < 0 || add_flags (caps, CAP_PERMITTED, m.permitted) < 0
      || add_flags (caps, CAP_INHERITABLE, m.inheritable) < 0)
    ret = ward_fail (err, errno, "capabilities");
  else if (cap_set_proc (caps) < 0)
    ret = ward_fail (err, errno, "set capabilities (effective ⊆ permitted ⊆ bounding is required)");
  cap_free (caps);
  if (ret < 0)
    return ret;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return ward_fail (err, errno, "clear ambient capabilities");
  /* The kernel keeps an ambient capability only if it is permitted and
   * inheritable too; configs written for runc often list ambient sets
   * without inheritable ones, and runc runs them: skip such entries. */
  cap_mask raisable = m.ambient & m.permitted & m.inheritable;
  if (raisable != m.ambient)
    log_debug ("ambient capabilities not in the permitted and inheritable sets are skipped");
  for (int cap = 0; cap < 64; cap++)
    if ((raisable & ((cap_mask)1 << cap)) && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return ward_fail (err, errno, "raise ambient capability %d", cap);
  prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0);
  return 0;
}
