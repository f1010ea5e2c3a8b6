/* struct resources → the files of one cgroup v1 controller directory.
 * Only what is set is written, each value in a single write(2) (cgroupfs
 * takes a value per write), and a refusal names the file and the value:
 * `memory.limit_in_bytes: write "12": Device or resource busy`. */
#include "config.h"
#include "cgroup_controllers.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VALUE_MAX 64     /* "maj:min rate", a device rule, "max", a number */
#define FILE_NAME_MAX 64 /* hugetlb.<size>.rsvd.limit_in_bytes */

#define MEMORY_LIMIT "memory.limit_in_bytes"
#define MEMORY_SWAP_LIMIT "memory.memsw.limit_in_bytes"

/* Writing */

/* One write of the whole value; -1 with errno set, no message, so that
 * callers may still decide the refusal is not final.  O_TRUNC is what a
 * shell's `>` does: cgroupfs ignores it, a plain file (tests) needs it. */
static int
try_write (int dir_fd, const char *file, const char *value)
{
  cleanup_close int fd = openat (dir_fd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  size_t length = strlen (value);
  ssize_t n;
  do
    n = write (fd, value, length);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if ((size_t)n != length)
    {
      errno = EIO; /* a partial value would be a different value */
      return -1;
    }
  return 0;
}

static int
write_failed (const char *file, const char *value, int errnum, struct ward_error **err)
{
  return ward_fail (err, errnum, "%s: write \"%s\"", file, value);
}

static int
write_value (int dir_fd, const char *file, const char *value, struct ward_error **err)
{
  if (try_write (dir_fd, file, value) < 0)
    return write_failed (file, value, errno, err);
  return 0;
}

/* For files only some kernels have (kmem limits went in 6.1, cfs burst
 * came in 5.14): there, skipping one only leaves a limit looser than the
 * config asked for, never a container that cannot start. */
static int
write_if_supported (int dir_fd, const char *file, const char *value, struct ward_error **err)
{
  if (try_write (dir_fd, file, value) == 0)
    return 0;
  if (errno != ENOENT && errno != EOPNOTSUPP)
    return write_failed (file, value, errno, err);
  log_debug ("%s: not supported by this kernel, \"%s\" not written", file, value);
  return 0;
}

static int
write_int64 (bool set, int dir_fd, const char *file, int64_t value, struct ward_error **err)
{
  char text[VALUE_MAX];
  if (!set)
    return 0;
  snprintf (text, sizeof text, "%" PRId64, value);
  return write_value (dir_fd, file, text, err);
}

static int
write_uint64 (bool set, int dir_fd, const char *file, uint64_t value, struct ward_error **err)
{
  char text[VALUE_MAX];
  if (!set)
    return 0;
  snprintf (text, sizeof text, "%" PRIu64, value);
  return write_value (dir_fd, file, text, err);
}

static int
write_bool (bool set, int dir_fd, const char *file, bool value, struct ward_error **err)
{
  return set ? write_value (dir_fd, file, value ? "1" : "0", err) : 0;
}

static bool
file_exists (int dir_fd, const char *file)
{
  struct stat st;
  return fstatat (dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Values the kernel checks against a partner's current value (cfs period
 * and burst against quota, also against the parent's bandwidth; rt period
 * against runtime), where which must go first depends on values held
 * elsewhere.  Each is written in order; one refused with EINVAL while a
 * later one is still to come is retried once after the rest, as runc
 * does. */
struct linked_write
{
  const char *file;
  bool set;
  bool optional; /* absent file: skipped */
  char value[VALUE_MAX];
  bool deferred;
};

static bool
set_after (const struct linked_write *writes, size_t count, size_t index)
{
  for (size_t i = index + 1; i < count; i++)
    if (writes[i].set)
      return true;
  return false;
}

static int
write_linked (int dir_fd, struct linked_write *writes, size_t count, struct ward_error **err)
{
  for (size_t i = 0; i < count; i++)
    {
      struct linked_write *w = &writes[i];
      if (!w->set || try_write (dir_fd, w->file, w->value) == 0)
        continue;
      if (w->optional && errno == ENOENT)
        log_debug ("%s: not supported by this kernel, \"%s\" not written", w->file, w->value);
      else if (errno == EINVAL && set_after (writes, count, i))
        w->deferred = true;
      else
        return write_failed (w->file, w->value, errno, err);
    }
  for (size_t i = 0; i < count; i++)
    if (writes[i].deferred && write_value (dir_fd, writes[i].file, writes[i].value, err) < 0)
      return -1;
  return 0;
}

/* Memory */

/* The kernel keeps memory.memsw.limit_in_bytes ≥ memory.limit_in_bytes
 * after every single write.  Swap raised to or past the current limit
 * must go first, or the new limit would exceed the old memsw; otherwise
 * the limit goes first, or the new memsw would fall under the old limit.
 * (New limit ≤ new swap is checked when parsing.) */
bool
cgroup_v1_memsw_first (uint64_t current_limit, int64_t new_swap)
{
  return new_swap == -1 || (uint64_t)new_swap >= current_limit;
}

static int
read_current_limit (int dir_fd, uint64_t *out, struct ward_error **err)
{
  cleanup_free char *text = NULL;
  char *end;
  if (fs_read_file_at (dir_fd, MEMORY_LIMIT, &text, NULL, err) < 0)
    return -1;
  text[strcspn (text, "\n")] = '\0';
  errno = 0;
  *out = strtoull (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0')
    return ward_fail (err, 0, "%s: read \"%s\": not a byte count", MEMORY_LIMIT, text);
  return 0;
}

static int
write_limit_and_swap (int dir_fd, int64_t limit, int64_t swap, struct ward_error **err)
{
  uint64_t current;
  if (read_current_limit (dir_fd, &current, err) < 0)
    return -1;
  bool swap_first = cgroup_v1_memsw_first (current, swap);
  if ((swap_first && write_int64 (true, dir_fd, MEMORY_SWAP_LIMIT, swap, err) < 0)
      || write_int64 (true, dir_fd, MEMORY_LIMIT, limit, err) < 0
      || (!swap_first && write_int64 (true, dir_fd, MEMORY_SWAP_LIMIT, swap, err) < 0))
    return -1;
  return 0;
}

static int
apply_memory_limits (int dir_fd, const struct resources_memory *m, struct ward_error **err)
{
  bool has_swap = m->has_swap;
  int64_t swap = m->swap;
  bool swap_accounted = file_exists (dir_fd, MEMORY_SWAP_LIMIT);
  /* Unlimited memory under the old memsw would not be unlimited (and the
   * kernel refuses a limit above memsw): lift swap with it, as runc does. */
  if (m->has_limit && m->limit == -1 && !has_swap && swap_accounted)
    {
      has_swap = true;
      swap = -1;
    }
  if (has_swap && !swap_accounted)
    {
      if (swap != -1)
        return ward_fail (err, 0,
                          "%s: cannot limit memory+swap to %" PRId64 ": this kernel does not account swap",
                          MEMORY_SWAP_LIMIT, swap);
      has_swap = false; /* unlimited is what there is */
    }
  if (m->has_limit && has_swap)
    return write_limit_and_swap (dir_fd, m->limit, swap, err);
  if (write_int64 (m->has_limit, dir_fd, MEMORY_LIMIT, m->limit, err) < 0
      || write_int64 (has_swap, dir_fd, MEMORY_SWAP_LIMIT, swap, err) < 0)
    return -1;
  return 0;
}

static int
write_kernel_memory (bool set, int dir_fd, const char *file, int64_t value, struct ward_error **err)
{
  char text[VALUE_MAX];
  if (!set)
    return 0;
  snprintf (text, sizeof text, "%" PRId64, value);
  return write_if_supported (dir_fd, file, text, err);
}

static int
apply_memory (int dir_fd, const struct resources *r, struct ward_error **err)
{
  const struct resources_memory *m = &r->memory;
  /* checkBeforeUpdate needs nothing here: v1 refuses a limit under the
   * usage by itself (EBUSY). */
  if (apply_memory_limits (dir_fd, m, err) < 0
      || write_int64 (m->has_reservation, dir_fd, "memory.soft_limit_in_bytes", m->reservation, err) < 0
      || write_kernel_memory (m->has_kernel, dir_fd, "memory.kmem.limit_in_bytes", m->kernel, err) < 0
      || write_kernel_memory (m->has_kernel_tcp, dir_fd, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp, err)
          < 0
      || write_uint64 (m->has_swappiness, dir_fd, "memory.swappiness", m->swappiness, err) < 0
      || write_bool (m->has_disable_oom_killer, dir_fd, "memory.oom_control", m->disable_oom_killer, err) < 0
      || write_bool (m->has_use_hierarchy, dir_fd, "memory.use_hierarchy", m->use_hierarchy, err) < 0)
    return -1;
  return 0;
}

/* CPU */

static void
linked_int64 (struct linked_write *w, const char *file, bool set, int64_t value)
{
  *w = (struct linked_write){ .file = file, .set = set };
  snprintf (w->value, sizeof w->value, "%" PRId64, value);
}

static void
linked_uint64 (struct linked_write *w, const char *file, bool set, uint64_t value)
{
  *w = (struct linked_write){ .file = file, .set = set };
  snprintf (w->value, sizeof w->value, "%" PRIu64, value);
}

static int
apply_cpu (int dir_fd, const struct resources *r, struct ward_error **err)
{
  const struct resources_cpu *c = &r->cpu;
  struct linked_write weight[2], bandwidth[3], realtime[2];
  /* An idle group refuses shares: shares go before idle=1, and after
   * idle=0 through the EINVAL retry.  cpu.idle came in 5.15; 0 is every
   * older kernel's behaviour, so only 0 may be skipped there. */
  linked_uint64 (&weight[0], "cpu.shares", c->has_shares, c->shares);
  linked_int64 (&weight[1], "cpu.idle", c->has_idle, c->idle);
  weight[1].optional = c->idle == 0;
  /* Period before quota (the pair is checked against the parent's
   * bandwidth), burst before quota (it must not exceed it). */
  linked_uint64 (&bandwidth[0], "cpu.cfs_period_us", c->has_period, c->period);
  linked_uint64 (&bandwidth[1], "cpu.cfs_burst_us", c->has_burst, c->burst);
  bandwidth[1].optional = true;
  linked_int64 (&bandwidth[2], "cpu.cfs_quota_us", c->has_quota, c->quota);
  linked_uint64 (&realtime[0], "cpu.rt_period_us", c->has_realtime_period, c->realtime_period);
  linked_int64 (&realtime[1], "cpu.rt_runtime_us", c->has_realtime_runtime, c->realtime_runtime);
  if (write_linked (dir_fd, weight, WARD_ARRAY_SIZE (weight), err) < 0
      || write_linked (dir_fd, bandwidth, WARD_ARRAY_SIZE (bandwidth), err) < 0
      || write_linked (dir_fd, realtime, WARD_ARRAY_SIZE (realtime), err) < 0)
    return -1;
  return 0;
}

/* cpuset */

static int
apply_cpuset (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if ((r->cpu.cpus && write_value (dir_fd, "cpuset.cpus", r->cpu.cpus, err) < 0)
      || (r->cpu.mems && write_value (dir_fd, "cpuset.mems", r->cpu.mems, err) < 0))
    return -1;
  return 0;
}

/* Whitespace only: what a new cpuset directory holds. */
static bool
is_blank (const char *text)
{
  return text[strspn (text, " \t\n")] == '\0';
}

static int
inherit_file (int parent_fd, int dir_fd, const char *file, struct ward_error **err)
{
  cleanup_free char *own = NULL;
  cleanup_free char *parents = NULL;
  if (fs_read_file_at (dir_fd, file, &own, NULL, err) < 0)
    return -1;
  if (!is_blank (own))
    return 0;
  if (fs_read_file_at (parent_fd, file, &parents, NULL, err) < 0)
    return ward_error_prefix (err, "parent cgroup");
  parents[strcspn (parents, "\n")] = '\0';
  if (is_blank (parents))
    return ward_fail (err, 0, "%s: the parent cgroup's is empty too: fill the ancestors first, top down",
                      file);
  return write_value (dir_fd, file, parents, err);
}

/* A v1 cpuset directory starts with empty cpus and mems, and no task may
 * join it until both are filled (ENOSPC): copy the parent's where ours are
 * empty.  Directories created in a row must be filled top down. */
int
cgroup_v1_cpuset_inherit (int parent_fd, int dir_fd, struct ward_error **err)
{
  if (inherit_file (parent_fd, dir_fd, "cpuset.cpus", err) < 0
      || inherit_file (parent_fd, dir_fd, "cpuset.mems", err) < 0)
    return -1;
  return 0;
}

/* pids */

static int
apply_pids (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (r->pids_limit <= 0)
    return write_value (dir_fd, "pids.max", "max", err);
  return write_int64 (true, dir_fd, "pids.max", r->pids_limit, err);
}

/* blkio */

static const char *const throttle_files[] = {
  [THROTTLE_READ_BPS] = "blkio.throttle.read_bps_device",
  [THROTTLE_WRITE_BPS] = "blkio.throttle.write_bps_device",
  [THROTTLE_READ_IOPS] = "blkio.throttle.read_iops_device",
  [THROTTLE_WRITE_IOPS] = "blkio.throttle.write_iops_device",
};

/* "maj:min value", the line every per-device blkio file reads. */
static int
write_device_value (int dir_fd, const char *file, int64_t major, int64_t minor, uint64_t value,
                    struct ward_error **err)
{
  char line[VALUE_MAX];
  snprintf (line, sizeof line, "%" PRId64 ":%" PRId64 " %" PRIu64, major, minor, value);
  return write_value (dir_fd, file, line, err);
}

static int
apply_weights (int dir_fd, const struct resources_block_io *b, struct ward_error **err)
{
  /* CFQ's files, or BFQ's where CFQ is gone (removed in Linux 5.0). */
  bool cfq = file_exists (dir_fd, "blkio.weight");
  const char *weight_file = cfq ? "blkio.weight" : "blkio.bfq.weight";
  const char *weight_device_file = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
  if (write_uint64 (b->has_weight, dir_fd, weight_file, b->weight, err) < 0
      || write_uint64 (b->has_leaf_weight, dir_fd, "blkio.leaf_weight", b->leaf_weight, err) < 0)
    return -1;
  for (size_t i = 0; i < b->weight_devices_count; i++)
    {
      const struct resources_weight_device *d = &b->weight_devices[i];
      if ((d->has_weight
           && write_device_value (dir_fd, weight_device_file, d->major, d->minor, d->weight, err) < 0)
          || (d->has_leaf_weight
              && write_device_value (dir_fd, "blkio.leaf_weight_device", d->major, d->minor, d->leaf_weight,
                                     err)
                  < 0))
        return -1;
    }
  return 0;
}

static int
apply_block_io (int dir_fd, const struct resources *r, struct ward_error **err)
{
  const struct resources_block_io *b = &r->block_io;
  if ((b->has_weight || b->weight_devices_count > 0 || b->has_leaf_weight)
      && apply_weights (dir_fd, b, err) < 0)
    return -1;
  for (size_t kind = 0; kind < WARD_ARRAY_SIZE (throttle_files); kind++)
    for (size_t i = 0; i < b->throttle_count[kind]; i++)
      {
        const struct resources_throttle_device *d = &b->throttle[kind][i];
        if (write_device_value (dir_fd, throttle_files[kind], d->major, d->minor, d->rate, err) < 0)
          return -1;
      }
  return 0;
}

/* devices */

static const char *
device_number (int64_t number, char buf[24])
{
  if (number < 0)
    return "*";
  snprintf (buf, 24, "%" PRId64, number);
  return buf;
}

static int
write_device_rule (int dir_fd, const char *file, char type, const struct resources_device_rule *rule,
                   struct ward_error **err)
{
  char major[24], minor[24], line[VALUE_MAX];
  snprintf (line, sizeof line, "%c %s:%s %s", type, device_number (rule->major, major),
            device_number (rule->minor, minor), rule->access[0] ? rule->access : "rwm");
  return write_value (dir_fd, file, line, err);
}

/* The kernel reads a rule of type 'a' as "every device, every access" and
 * ignores the rest of the line, so only that rule is written as "a"; a
 * narrower one becomes the same rule for char and for block devices. */
static int
apply_device_rule (int dir_fd, const struct resources_device_rule *rule, struct ward_error **err)
{
  const char *file = rule->allow ? "devices.allow" : "devices.deny";
  bool every_access = rule->access[0] == '\0' || strlen (rule->access) == 3;
  if (rule->type != 'a')
    return write_device_rule (dir_fd, file, rule->type, rule, err);
  if (rule->major < 0 && rule->minor < 0 && every_access)
    return write_value (dir_fd, file, "a", err);
  if (write_device_rule (dir_fd, file, 'c', rule, err) < 0
      || write_device_rule (dir_fd, file, 'b', rule, err) < 0)
    return -1;
  return 0;
}

/* In the order given: each rule overrides those before it. */
static int
apply_devices (int dir_fd, const struct resources *r, struct ward_error **err)
{
  for (size_t i = 0; i < r->devices_count; i++)
    if (apply_device_rule (dir_fd, &r->devices[i], err) < 0)
      return -1;
  return 0;
}

/* hugetlb */

/* The fault-time limit always; the reservation limit too where the kernel
 * has it (5.7+), which the spec prefers: it fails mmap, not a later fault. */
static int
apply_hugetlb (int dir_fd, const struct resources *r, struct ward_error **err)
{
  for (size_t i = 0; i < r->hugepages_count; i++)
    {
      const struct resources_hugepage *h = &r->hugepages[i];
      char file[FILE_NAME_MAX], reserved[FILE_NAME_MAX], value[VALUE_MAX];
      snprintf (file, sizeof file, "hugetlb.%s.limit_in_bytes", h->page_size);
      snprintf (reserved, sizeof reserved, "hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
      snprintf (value, sizeof value, "%" PRIu64, h->limit);
      if (write_value (dir_fd, file, value, err) < 0 || write_if_supported (dir_fd, reserved, value, err) < 0)
        return -1;
    }
  return 0;
}

/* net_cls, net_prio */

static int
apply_net_cls (int dir_fd, const struct resources *r, struct ward_error **err)
{
  return write_uint64 (true, dir_fd, "net_cls.classid", r->net_class_id, err);
}

/* One "<interface> <priority>" a write: the kernel takes a line at a time. */
static int
apply_net_prio (int dir_fd, const struct resources *r, struct ward_error **err)
{
  for (size_t i = 0; i < r->net_priorities_count; i++)
    {
      char line[VALUE_MAX];
      snprintf (line, sizeof line, "%s %" PRIu32, r->net_priorities[i].interface,
                r->net_priorities[i].priority);
      if (write_value (dir_fd, "net_prio.ifpriomap", line, err) < 0)
        return -1;
    }
  return 0;
}

/* The controller */

typedef int (*v1_writer) (int dir_fd, const struct resources *r, struct ward_error **err);

/* cpuacct and freezer hold no limits. */
static const v1_writer writers[CGROUP_CONTROLLER_COUNT] = {
  [CGROUP_MEMORY] = apply_memory,   [CGROUP_CPU] = apply_cpu,         [CGROUP_CPUSET] = apply_cpuset,
  [CGROUP_PIDS] = apply_pids,       [CGROUP_BLKIO] = apply_block_io,  [CGROUP_DEVICES] = apply_devices,
  [CGROUP_HUGETLB] = apply_hugetlb, [CGROUP_NET_CLS] = apply_net_cls, [CGROUP_NET_PRIO] = apply_net_prio,
};

/* linux.resources.unified speaks only to the v2 files of a controller: on a
 * host that has the controller on v1 the keys cannot be honoured, and the
 * spec requires an error rather than silence. */
static int
refuse_unified (enum cgroup_controller controller, const struct resources *r, struct ward_error **err)
{
  const char *key = cgroup_controller_unified_key (controller, r);
  if (key == NULL)
    return 0;
  return ward_fail (err, 0,
                    "unified: \"%s\" needs the %s controller on cgroup v2, and this host has it on v1", key,
                    cgroup_controller_v2_name (controller));
}

int
cgroup_v1_apply (enum cgroup_controller controller, int dir_fd, const struct resources *r,
                 struct ward_error **err)
{
  if ((unsigned)controller >= CGROUP_CONTROLLER_COUNT)
    return ward_fail (err, EINVAL, "cgroup v1: controller %d", (int)controller);
  if (!cgroup_controller_needed (controller, r))
    return 0;
  if (refuse_unified (controller, r, err) < 0)
    return -1;
  if (writers[controller] == NULL)
    return 0;
  return writers[controller](dir_fd, r, err);
}
