/* struct resources → the files of one cgroup v2 controller.  The OCI
 * spec speaks cgroup v1 (shares, blkio weights, memory+swap); the
 * conversions here are the ones runc and crun document, so a config
 * means the same under ward as under them. */
#include "config.h"
#include "cgroup_controllers.h"
#include "cgroup_devices_bpf.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VALUE_MAX 96

/* O_TRUNC as `echo >` has it: cgroupfs ignores it, and a plain file (as
 * in the unit tests) then holds exactly what was written. */
static int
open_file (int dir_fd, const char *name, struct ward_error **err)
{
  int fd = openat (dir_fd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return ward_fail (err, errno, "open %s", name);
  return fd;
}

/* One write(2) per line: cgroupfs takes each write as one request (one
 * device of io.max, say).  The newline is what `echo` sends; every cgroup
 * file accepts it. */
static int
write_line (int fd, const char *name, const char *value, struct ward_error **err)
{
  cleanup_free char *line = NULL;
  int length = asprintf (&line, "%s\n", value);
  if (length < 0)
    return ward_fail (err, ENOMEM, "%s", name);
  ssize_t n;
  do
    n = write (fd, line, length);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ward_fail (err, errno, "%s: write \"%s\"", name, value);
  if (n != length)
    return ward_fail (err, EIO, "%s: short write \"%s\"", name, value);
  return 0;
}

static int
write_value (int dir_fd, const char *name, const char *value, struct ward_error **err)
{
  cleanup_close int fd = open_file (dir_fd, name, err);
  if (fd < 0)
    return -1;
  return write_line (fd, name, value, err);
}

/* For files a kernel may lack (older ones, or a feature configured out):
 * *present says whether the file was there. */
static int
write_value_if_present (int dir_fd, const char *name, const char *value, bool *present,
                        struct ward_error **err)
{
  cleanup_close int fd = openat (dir_fd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  *present = fd >= 0 || errno != ENOENT;
  if (fd < 0)
    return *present ? ward_fail (err, errno, "open %s", name) : 0;
  return write_line (fd, name, value, err);
}

static int
write_u64 (int dir_fd, const char *name, uint64_t value, struct ward_error **err)
{
  char text[VALUE_MAX];
  snprintf (text, sizeof text, "%" PRIu64, value);
  return write_value (dir_fd, name, text, err);
}

/* -1 is the OCI spelling of "unlimited", "max" the kernel's. */
static const char *
limit_text (int64_t value, char text[VALUE_MAX])
{
  if (value == -1)
    return "max";
  snprintf (text, VALUE_MAX, "%" PRId64, value);
  return text;
}

static int
check_limit (const char *field, int64_t value, struct ward_error **err)
{
  if (value < -1)
    return ward_fail (err, EINVAL, "%s: %" PRId64 " is neither a limit nor -1 (unlimited)", field, value);
  return 0;
}

/* Hand a locally inspected error on to the caller. */
static int
forward_error (struct ward_error **err, struct ward_error **local)
{
  if (err != NULL && *err == NULL)
    *err = steal_pointer (local);
  else
    ward_error_free (local);
  return -1;
}

/* A number read from a cgroup file, or false when unreadable or "max". */
static bool
read_number (int dir_fd, const char *name, int64_t *out)
{
  cleanup_free char *text = NULL;
  if (fs_read_file_at (dir_fd, name, &text, NULL, NULL) < 0)
    return false;
  char *end = NULL;
  errno = 0;
  long long value = strtoll (text, &end, 10);
  if (errno != 0 || end == text || value < 0)
    return false;
  *out = value;
  return true;
}

/* memory */

/* runc's CheckMemoryUsage: with checkBeforeUpdate a limit below what the
 * container already uses is refused rather than left to the OOM killer.
 * Best effort: an unreadable usage lets the limit through. */
static int
check_memory_usage (int dir_fd, const struct resources_memory *m, struct ward_error **err)
{
  int64_t usage;
  if (!m->has_check_before_update || !m->check_before_update || !m->has_limit || m->limit <= 0
      || !read_number (dir_fd, "memory.current", &usage))
    return 0;
  if (usage >= m->limit)
    return ward_fail (err, 0, "memory.limit %" PRId64 " is below the current usage %" PRId64, m->limit,
                      usage);
  return 0;
}

/* The OCI swap limit is memory+swap (v1's memsw); v2's memory.swap.max
 * is swap alone, so it is swap - limit (runc's
 * ConvertMemorySwapToCgroupV2Value).  0 means unset for both, as in
 * runc.  Sets *write false when nothing is to be written. */
static int
swap_max (int dir_fd, const struct resources_memory *m, bool *write, int64_t *out, struct ward_error **err)
{
  int64_t limit = m->has_limit ? m->limit : 0;
  int64_t swap = m->has_swap ? m->swap : 0;
  *write = true;
  /* Memory unlimited and swap unsaid: both unlimited, as on v1. */
  if ((limit == -1 && swap == 0) || swap == -1)
    {
      *out = -1;
      return 0;
    }
  if (swap == 0)
    {
      *write = false;
      return 0;
    }
  /* `update` may change swap alone: the limit in force is the base. */
  if (!m->has_limit && !read_number (dir_fd, "memory.max", &limit))
    limit = 0;
  if (limit <= 0)
    return ward_fail (
        err, EINVAL, "memory.swap %" PRId64 " needs a memory.limit: the OCI swap limit is memory+swap", swap);
  if (swap < limit)
    return ward_fail (err, EINVAL,
                      "memory.swap %" PRId64 " is below memory.limit %" PRId64
                      ": the OCI swap limit is memory+swap",
                      swap, limit);
  *out = swap - limit;
  return 0;
}

static void
log_memory_fields_ignored (const struct resources_memory *m)
{
  /* What runc does with these on v2: nothing.  kmem is charged to
   * memory.max there; swappiness and use_hierarchy have no v2 file. */
  if (m->has_kernel)
    log_debug ("memory.kernel: ignored on cgroup v2 (kernel memory counts toward memory.max)");
  if (m->has_kernel_tcp)
    log_debug ("memory.kernelTCP: ignored on cgroup v2 (socket memory counts toward memory.max)");
  if (m->has_swappiness)
    log_debug ("memory.swappiness: ignored on cgroup v2 (no per-cgroup swappiness)");
  if (m->has_use_hierarchy)
    log_debug ("memory.useHierarchy: ignored on cgroup v2 (always hierarchical)");
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    log_warning ("memory.disableOOMKiller: not available on cgroup v2, ignored as runc does; "
                 "the OOM killer stays enabled");
}

static int
apply_memory (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (!r->has_memory)
    return 0;
  const struct resources_memory *m = &r->memory;
  if ((m->has_limit && check_limit ("memory.limit", m->limit, err) < 0)
      || (m->has_reservation && check_limit ("memory.reservation", m->reservation, err) < 0)
      || (m->has_swap && check_limit ("memory.swap", m->swap, err) < 0))
    return -1;
  log_memory_fields_ignored (m);
  if (check_memory_usage (dir_fd, m, err) < 0)
    return -1;

  char text[VALUE_MAX];
  bool write_swap, present;
  int64_t swap = 0;
  if (swap_max (dir_fd, m, &write_swap, &swap, err) < 0)
    return -1;
  if (write_swap
      && write_value_if_present (dir_fd, "memory.swap.max", limit_text (swap, text), &present, err) < 0)
    return -1;
  /* No swap accounting here (no swap, or swapaccount=0): "unlimited" and
   * "no swap" hold anyway, as runc reasons; a real limit cannot. */
  if (write_swap && !present && swap > 0)
    return ward_fail (err, ENOENT, "memory.swap: this host has no memory.swap.max (no swap accounting)");

  /* 0 means unset, as in runc: memory.max 0 would kill the container at
   * once. */
  if (m->has_limit && m->limit != 0
      && write_value (dir_fd, "memory.max", limit_text (m->limit, text), err) < 0)
    return -1;
  if (m->has_reservation && m->reservation != 0
      && write_value (dir_fd, "memory.low", limit_text (m->reservation, text), err) < 0)
    return -1;
  /* A container is one workload: when the OOM killer must act, kill all
   * of it rather than leave it half alive (as Kubernetes asks of v2).
   * linux.resources.unified, written after, can still say otherwise. */
  if (m->has_limit && m->limit > 0
      && write_value_if_present (dir_fd, "memory.oom.group", "1", &present, err) < 0)
    return -1;
  return 0;
}

/* cpu */

/* The quota in force, so that changing the period alone keeps it. */
static void
current_quota (int dir_fd, char text[VALUE_MAX])
{
  cleanup_free char *current = NULL;
  strcpy (text, "max");
  if (fs_read_file_at (dir_fd, "cpu.max", &current, NULL, NULL) < 0)
    return;
  size_t length = strcspn (current, " \n");
  if (length > 0 && length < VALUE_MAX)
    snprintf (text, VALUE_MAX, "%.*s", (int)length, current);
}

static int
apply_cpu_max (int dir_fd, const struct resources_cpu *c, struct ward_error **err)
{
  char quota[VALUE_MAX], line[2 * VALUE_MAX];
  if (!c->has_quota)
    current_quota (dir_fd, quota);
  else if (c->quota > 0)
    snprintf (quota, sizeof quota, "%" PRId64, c->quota);
  else
    strcpy (quota, "max");
  /* "QUOTA" alone keeps the period in force. */
  if (c->has_period && c->period != 0)
    snprintf (line, sizeof line, "%s %" PRIu64, quota, c->period);
  else
    snprintf (line, sizeof line, "%s", quota);
  return write_value (dir_fd, "cpu.max", line, err);
}

static int
apply_cpu (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (!r->has_cpu)
    return 0;
  const struct resources_cpu *c = &r->cpu;
  /* v2 has no RT bandwidth per cgroup; a real request must not be
   * silently dropped.  0 asks for nothing. */
  if (c->has_realtime_runtime && c->realtime_runtime != 0)
    return ward_fail (err, 0, "cpu.realtimeRuntime: not supported on cgroup v2");
  if (c->has_realtime_period && c->realtime_period != 0)
    return ward_fail (err, 0, "cpu.realtimePeriod: not supported on cgroup v2");

  if (c->has_idle)
    {
      char text[VALUE_MAX];
      snprintf (text, sizeof text, "%" PRId64, c->idle);
      if (write_value (dir_fd, "cpu.idle", text, err) < 0)
        return -1;
    }
  /* 0 shares means unset (runc). */
  if (c->has_shares && c->shares != 0
      && write_u64 (dir_fd, "cpu.weight", cgroup_v2_cpu_weight_from_shares (c->shares), err) < 0)
    return -1;

  bool set_max = c->has_quota || c->has_period;
  bool burst_after_max = false;
  if (c->has_burst)
    {
      struct ward_error *burst_err = NULL;
      if (write_u64 (dir_fd, "cpu.max.burst", c->burst, &burst_err) < 0)
        {
          /* A burst larger than the old quota allows is refused (EINVAL)
           * until the new quota is in: then try again after it (runc). */
          if (burst_err->errnum != EINVAL || !set_max)
            return forward_error (err, &burst_err);
          ward_error_free (&burst_err);
          burst_after_max = true;
        }
    }
  if (set_max && apply_cpu_max (dir_fd, c, err) < 0)
    return -1;
  if (burst_after_max && write_u64 (dir_fd, "cpu.max.burst", c->burst, err) < 0)
    return -1;
  return 0;
}

static int
apply_cpuset (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (!r->has_cpu)
    return 0;
  /* An empty list means unset (runc); written it would leave the cgroup
   * without CPUs. */
  if (r->cpu.cpus && r->cpu.cpus[0] && write_value (dir_fd, "cpuset.cpus", r->cpu.cpus, err) < 0)
    return -1;
  if (r->cpu.mems && r->cpu.mems[0] && write_value (dir_fd, "cpuset.mems", r->cpu.mems, err) < 0)
    return -1;
  return 0;
}

static int
apply_pids (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (!r->has_pids || !r->has_pids_limit)
    return 0;
  char text[VALUE_MAX];
  /* 0 meant unlimited before runtime-spec 1.1 and still does (runc). */
  return write_value (dir_fd, "pids.max", r->pids_limit <= 0 ? "max" : limit_text (r->pids_limit, text), err);
}

/* io */

/* BFQ's io.bfq.weight takes blkio's own 10..1000 scale; io.weight
 * (iocost) has 1..10000.  Each that the kernel has is written. */
static const struct
{
  const char *file;
  bool convert;
} io_weight_files[] = {
  { "io.bfq.weight", false },
  { "io.weight", true },
};

static int
write_io_weights (int fd, const char *file, bool convert, const struct resources_block_io *b,
                  struct ward_error **err)
{
  char text[VALUE_MAX];
  if (b->has_weight && b->weight != 0)
    {
      snprintf (text, sizeof text, "%" PRIu64,
                convert ? cgroup_v2_io_weight_from_blkio (b->weight) : b->weight);
      if (write_line (fd, file, text, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < b->weight_devices_count; i++)
    {
      const struct resources_weight_device *d = &b->weight_devices[i];
      if (!d->has_weight)
        continue;
      uint64_t weight = convert ? cgroup_v2_io_weight_from_blkio (d->weight) : d->weight;
      snprintf (text, sizeof text, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, weight);
      if (write_line (fd, file, text, err) < 0)
        return -1;
    }
  return 0;
}

static int
apply_io_weight (int dir_fd, const struct resources_block_io *b, struct ward_error **err)
{
  bool wanted = b->has_weight && b->weight != 0;
  for (size_t i = 0; i < b->weight_devices_count; i++)
    wanted |= b->weight_devices[i].has_weight;
  if (!wanted)
    return 0;
  bool written = false;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (io_weight_files); i++)
    {
      const char *file = io_weight_files[i].file;
      cleanup_close int fd = openat (dir_fd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        return ward_fail (err, errno, "open %s", file);
      if (write_io_weights (fd, file, io_weight_files[i].convert, b, err) < 0)
        return -1;
      written = true;
    }
  if (!written)
    return ward_fail (err, ENOENT, "blockIO.weight: this kernel has neither io.weight nor io.bfq.weight");
  return 0;
}

/* io.max keys, by enum resources_throttle_kind. */
static const char *const throttle_keys[] = {
  [THROTTLE_READ_BPS] = "rbps",
  [THROTTLE_WRITE_BPS] = "wbps",
  [THROTTLE_READ_IOPS] = "riops",
  [THROTTLE_WRITE_IOPS] = "wiops",
};

struct io_max_line
{
  int64_t major, minor;
  bool set[WARD_ARRAY_SIZE (throttle_keys)];
  uint64_t rate[WARD_ARRAY_SIZE (throttle_keys)];
};

/* io.max wants one line per device with all its limits; OCI lists them
 * by kind.  Devices keep the order they first appear in. */
static int
collect_io_max (const struct resources_block_io *b, struct io_max_line **out, size_t *count,
                struct ward_error **err)
{
  size_t total = 0;
  for (size_t k = 0; k < WARD_ARRAY_SIZE (throttle_keys); k++)
    total += b->throttle_count[k];
  struct io_max_line *lines = calloc (total ? total : 1, sizeof *lines);
  if (lines == NULL)
    return ward_fail (err, ENOMEM, "io.max");
  size_t n = 0;
  for (size_t k = 0; k < WARD_ARRAY_SIZE (throttle_keys); k++)
    for (size_t i = 0; i < b->throttle_count[k]; i++)
      {
        const struct resources_throttle_device *d = &b->throttle[k][i];
        if (d->major < 0 || d->minor < 0 || d->major > UINT32_MAX || d->minor > UINT32_MAX)
          {
            free (lines);
            return ward_fail (err, EINVAL,
                              "blockIO throttle: device %" PRId64 ":%" PRId64 " is not a device number",
                              d->major, d->minor);
          }
        size_t j = 0;
        while (j < n && (lines[j].major != d->major || lines[j].minor != d->minor))
          j++;
        if (j == n)
          {
            lines[n].major = d->major;
            lines[n].minor = d->minor;
            n++;
          }
        lines[j].set[k] = true;
        lines[j].rate[k] = d->rate;
      }
  *out = lines;
  *count = n;
  return 0;
}

static void
format_io_max (const struct io_max_line *line, char *text, size_t size)
{
  int used = snprintf (text, size, "%" PRId64 ":%" PRId64, line->major, line->minor);
  for (size_t k = 0; k < WARD_ARRAY_SIZE (throttle_keys); k++)
    {
      if (!line->set[k])
        continue;
      /* v1 took 0 as "no limit"; v2 refuses 0 (ERANGE) and says "max". */
      if (line->rate[k] == 0)
        used += snprintf (text + used, size - used, " %s=max", throttle_keys[k]);
      else
        used += snprintf (text + used, size - used, " %s=%" PRIu64, throttle_keys[k], line->rate[k]);
    }
}

static int
apply_io_max (int dir_fd, const struct resources_block_io *b, struct ward_error **err)
{
  cleanup_free struct io_max_line *lines = NULL;
  size_t count = 0;
  if (collect_io_max (b, &lines, &count, err) < 0)
    return -1;
  if (count == 0)
    return 0;
  cleanup_close int fd = open_file (dir_fd, "io.max", err);
  if (fd < 0)
    return -1;
  for (size_t i = 0; i < count; i++)
    {
      char text[4 * VALUE_MAX];
      format_io_max (&lines[i], text, sizeof text);
      if (write_line (fd, "io.max", text, err) < 0)
        return -1;
    }
  return 0;
}

static int
apply_io (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (!r->has_block_io)
    return 0;
  const struct resources_block_io *b = &r->block_io;
  bool leaf = b->has_leaf_weight;
  for (size_t i = 0; i < b->weight_devices_count; i++)
    leaf |= b->weight_devices[i].has_leaf_weight;
  if (leaf)
    log_debug ("blockIO.leafWeight: ignored on cgroup v2 (CFQ only)");
  if (apply_io_weight (dir_fd, b, err) < 0)
    return -1;
  return apply_io_max (dir_fd, b, err);
}

/* hugetlb */

/* The page size becomes part of a file name: letters and digits only. */
static bool
valid_page_size (const char *size)
{
  if (size == NULL || size[0] == '\0')
    return false;
  for (const char *p = size; *p; p++)
    if (!isalnum ((unsigned char)*p))
      return false;
  return true;
}

static int
apply_hugetlb (int dir_fd, const struct resources *r, struct ward_error **err)
{
  bool reservations = true;
  for (size_t i = 0; i < r->hugepages_count; i++)
    {
      const struct resources_hugepage *h = &r->hugepages[i];
      if (!valid_page_size (h->page_size))
        return ward_fail (err, EINVAL, "hugepageLimits[%zu]: invalid pageSize \"%s\"", i,
                          h->page_size ? h->page_size : "");
      char name[VALUE_MAX];
      snprintf (name, sizeof name, "hugetlb.%s.max", h->page_size);
      if (write_u64 (dir_fd, name, h->limit, err) < 0)
        return -1;
      /* Also cap reservations (5.7+), or pages reserved by mmap but not
       * yet faulted escape the limit (runc does the same). */
      if (!reservations)
        continue;
      char text[VALUE_MAX];
      snprintf (name, sizeof name, "hugetlb.%s.rsvd.max", h->page_size);
      snprintf (text, sizeof text, "%" PRIu64, h->limit);
      if (write_value_if_present (dir_fd, name, text, &reservations, err) < 0)
        return -1;
    }
  return 0;
}

/* net_cls, net_prio: v1 only (v2 tags sockets by cgroup path instead). */

static int
apply_net_cls (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (r->has_network && r->has_net_class_id)
    return ward_fail (err, 0, "network.classID: net_cls is not available on cgroup v2");
  return 0;
}

static int
apply_net_prio (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (r->has_network && r->net_priorities_count > 0)
    return ward_fail (err, 0, "network.priorities: net_prio is not available on cgroup v2");
  return 0;
}

/* devices: no files on v2, an eBPF program instead. */

static int
apply_devices (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (!r->has_devices)
    return 0;
  return cgroup_v2_attach_device_rules (dir_fd, r, err);
}

int
cgroup_v2_attach_device_rules (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (r == NULL)
    return ward_fail (err, EINVAL, "cgroup v2: no device rules given");
  cleanup_free struct bpf_insn *insns = NULL;
  size_t count = 0;
  if (cgroup_devices_bpf_build (r->devices, r->devices_count, &insns, &count, err) < 0)
    return ward_error_prefix (err, "linux.resources");
  cleanup_close int prog_fd = cgroup_devices_bpf_load (insns, count, err);
  if (prog_fd < 0)
    return -1;
  /* Once attached the cgroup holds the program: our fd can go. */
  return cgroup_devices_bpf_attach (dir_fd, prog_fd, err);
}

typedef int (*v2_writer) (int dir_fd, const struct resources *r, struct ward_error **err);

/* freezer and cpuacct take nothing from linux.resources. */
static const v2_writer v2_writers[CGROUP_CONTROLLER_COUNT] = {
  [CGROUP_MEMORY] = apply_memory,   [CGROUP_CPU] = apply_cpu,         [CGROUP_CPUSET] = apply_cpuset,
  [CGROUP_PIDS] = apply_pids,       [CGROUP_BLKIO] = apply_io,        [CGROUP_DEVICES] = apply_devices,
  [CGROUP_HUGETLB] = apply_hugetlb, [CGROUP_NET_CLS] = apply_net_cls, [CGROUP_NET_PRIO] = apply_net_prio,
};

int
cgroup_v2_apply (enum cgroup_controller controller, int dir_fd, const struct resources *r,
                 struct ward_error **err)
{
  if ((unsigned)controller >= CGROUP_CONTROLLER_COUNT)
    return ward_fail (err, EINVAL, "cgroup v2: unknown controller %d", (int)controller);
  if (r == NULL || v2_writers[controller] == NULL)
    return 0;
  return v2_writers[controller](dir_fd, r, err);
}

/* unified */

/* Files that act on processes or on ward's own state rather than set a
 * limit: a config (or a CRI annotation feeding it) must not move host
 * processes in, kill, or freeze behind ward's back. */
static const char *const unified_refused[] = {
  "cgroup.procs",
  "cgroup.threads",
  "cgroup.kill",
  "cgroup.freeze",
};

static int
check_unified_key (const char *key, struct ward_error **err)
{
  if (key == NULL || key[0] == '\0' || strchr (key, '/') || strcmp (key, ".") == 0 || strcmp (key, "..") == 0)
    return ward_fail (err, EINVAL, "unified key \"%s\": not a file name of the cgroup", key ? key : "");
  for (size_t i = 0; i < WARD_ARRAY_SIZE (unified_refused); i++)
    if (strcmp (key, unified_refused[i]) == 0)
      return ward_fail (err, EPERM, "unified key \"%s\": not a resource limit, refused", key);
  return 0;
}

static int
open_unified (int dir_fd, const char *key, struct ward_error **err)
{
  /* No O_CREAT: the key must be a file the kernel provides. */
  int fd = openat (dir_fd, key, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return ward_fail (err, errno, "unified key \"%s\": open", key);
  const char *dot = strchr (key, '.');
  return ward_fail (err, ENOENT,
                    "unified key \"%s\": no such file in the cgroup (is the %.*s controller enabled?)", key,
                    dot ? (int)(dot - key) : (int)strlen (key), key);
}

/* Multi-line values (io.max for several devices) go a line a write, as
 * the kernel parses them (runc's WriteFileByLine). */
static int
write_unified (int fd, const char *key, const char *value, struct ward_error **err)
{
  char label[256];
  snprintf (label, sizeof label, "unified key \"%s\"", key);
  cleanup_free char *copy = strdup (value ? value : "");
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "%s", label);
  char *line = copy;
  do
    {
      char *newline = strchr (line, '\n');
      if (newline)
        *newline = '\0';
      if ((newline == NULL || line[0] != '\0') && write_line (fd, label, line, err) < 0)
        return -1;
      line = newline ? newline + 1 : NULL;
    }
  while (line && line[0] != '\0');
  return 0;
}

int
cgroup_v2_apply_unified (int dir_fd, const struct resources *r, struct ward_error **err)
{
  if (r == NULL)
    return 0;
  /* All keys first: a bad one must not leave the others half applied. */
  for (size_t i = 0; i < r->unified_count; i++)
    if (check_unified_key (r->unified[i].key, err) < 0)
      return -1;
  for (size_t i = 0; i < r->unified_count; i++)
    {
      const struct resources_unified_entry *e = &r->unified[i];
      cleanup_close int fd = open_unified (dir_fd, e->key, err);
      if (fd < 0 || write_unified (fd, e->key, e->value, err) < 0)
        return -1;
    }
  return 0;
}
