/* struct resources → cgroup v1 files, against a directory of plain files
 * standing in for a controller's (never the real cgroupfs): only what is
 * set is written, in the kernel's formats, files some kernels lack are
 * skipped, and refusals name the file and the value.  Where the order of
 * writes to one file matters the file is a FIFO the test holds open, so
 * every write is kept in order.  Also the controller tables and the v2
 * conversions. */
#include "config.h"
#include "harness.h"
#include "cgroup_controllers.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNTOUCHED "untouched"
#define UNLIMITED "9223372036854771712\n" /* what v1 shows for no limit */

/* A scratch controller directory. */
struct scratch
{
  char path[64];
  int fd;
};

static bool
scratch_open (struct scratch *s)
{
  snprintf (s->path, sizeof s->path, "/tmp/ward-test-cgroup-v1-XXXXXX");
  if (mkdtemp (s->path) == NULL)
    return false;
  s->fd = open (s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return s->fd >= 0;
}

static void
scratch_close (struct scratch *s)
{
  struct ward_error *err = NULL;
  close (s->fd);
  if (fs_remove_tree_at (AT_FDCWD, s->path, &err) < 0)
    ward_error_free (&err);
}

/* Create `name` holding `content`, as a controller directory holds it. */
static void
put (const struct scratch *s, const char *name, const char *content)
{
  int fd = openat (s->fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write (fd, content, strlen (content)) < 0)
    printf ("  cannot create %s: %s\n", name, strerror (errno));
  if (fd >= 0)
    close (fd);
}

/* Files of a list, each starting out untouched. */
static void
put_all (const struct scratch *s, const char *const *names)
{
  for (; *names; names++)
    put (s, *names, UNTOUCHED);
}

/* The content of `name` (static buffer; "(absent)" when missing). */
static const char *
content (const struct scratch *s, const char *name)
{
  static char buf[4096];
  int fd = openat (s->fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return "(absent)";
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

/* A FIFO in place of `name`, held open for reading and writing so that
 * writes neither block nor get lost; returns the fd to read them from. */
static int
recorder (const struct scratch *s, const char *name)
{
  if (mkfifoat (s->fd, name, 0644) < 0)
    return -1;
  return openat (s->fd, name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

/* Everything written to a recorder so far, concatenated. */
static const char *
recorded (int fd)
{
  static char buf[4096];
  ssize_t n = read (fd, buf, sizeof buf - 1);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

static struct resources *
resources_from (const char *text)
{
  struct json_document *doc = NULL;
  struct resources *r = NULL;
  struct ward_error *err = NULL;
  if (json_parse ("config.json", text, strlen (text), &doc, &err) == 0)
    resources_parse (doc, doc->root, "linux.resources", &r, &err);
  if (err)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  json_document_free (doc);
  return r;
}

/* Apply `text` to `controller` in s; prints and frees any error. */
static int
apply (enum cgroup_controller controller, const struct scratch *s, const char *text)
{
  struct resources *r = resources_from (text);
  struct ward_error *err = NULL;
  if (r == NULL)
    return -2;
  int ret = cgroup_v1_apply (controller, s->fd, r, &err);
  if (ret < 0)
    printf ("  apply: %s\n", err ? err->message : "(no message)");
  ward_error_free (&err);
  resources_free (r);
  return ret;
}

static void
check_apply_error_at (const char *file, int line, enum cgroup_controller controller, const struct scratch *s,
                      const char *text, const char *expected)
{
  struct resources *r = resources_from (text);
  struct ward_error *err = NULL;
  if (r == NULL)
    {
      harness_check (false, file, line, "resources parse");
      return;
    }
  int ret = cgroup_v1_apply (controller, s->fd, r, &err);
  if (ret != -1 || err == NULL)
    harness_check (false, file, line, "cgroup_v1_apply failed");
  else
    harness_check_str (err->message, expected, file, line, "message", "expected");
  ward_error_free (&err);
  resources_free (r);
}

#define CHECK_APPLY_ERROR(controller, s, text, expected)                                                     \
  check_apply_error_at (__FILE__, __LINE__, (controller), (s), (text), (expected))

/* Memory */

static const char *const memory_files[] = {
  "memory.soft_limit_in_bytes", "memory.kmem.tcp.limit_in_bytes", "memory.swappiness",
  "memory.oom_control",         "memory.use_hierarchy",           NULL,
};

TEST (memory_every_field)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put_all (&s, memory_files);
  put (&s, "memory.limit_in_bytes", UNLIMITED);
  put (&s, "memory.memsw.limit_in_bytes", UNLIMITED);
  /* No memory.kmem.limit_in_bytes: Linux 6.1 removed it. */
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s,
                       "{\"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": 1073741824,"
                       " \"kernel\": 104857600, \"kernelTCP\": 1048576, \"swappiness\": 10,"
                       " \"disableOOMKiller\": true, \"useHierarchy\": true, \"checkBeforeUpdate\": true}}"),
                0);
  CHECK_STR_EQ (content (&s, "memory.limit_in_bytes"), "536870912");
  CHECK_STR_EQ (content (&s, "memory.memsw.limit_in_bytes"), "1073741824");
  CHECK_STR_EQ (content (&s, "memory.soft_limit_in_bytes"), "268435456");
  CHECK_STR_EQ (content (&s, "memory.kmem.limit_in_bytes"), "(absent)");
  CHECK_STR_EQ (content (&s, "memory.kmem.tcp.limit_in_bytes"), "1048576");
  CHECK_STR_EQ (content (&s, "memory.swappiness"), "10");
  CHECK_STR_EQ (content (&s, "memory.oom_control"), "1");
  CHECK_STR_EQ (content (&s, "memory.use_hierarchy"), "1");
  scratch_close (&s);
}

TEST (memory_kmem_where_present)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "memory.kmem.limit_in_bytes", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s, "{\"memory\": {\"kernel\": -1}}"), 0);
  CHECK_STR_EQ (content (&s, "memory.kmem.limit_in_bytes"), "-1");
  scratch_close (&s);
}

TEST (memory_only_what_is_set)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put_all (&s, memory_files);
  put (&s, "memory.limit_in_bytes", UNTOUCHED);
  put (&s, "memory.memsw.limit_in_bytes", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 1048576, \"disableOOMKiller\": false}}"),
                0);
  CHECK_STR_EQ (content (&s, "memory.limit_in_bytes"), "1048576");
  CHECK_STR_EQ (content (&s, "memory.oom_control"), "0");
  CHECK_STR_EQ (content (&s, "memory.memsw.limit_in_bytes"), UNTOUCHED);
  CHECK_STR_EQ (content (&s, "memory.soft_limit_in_bytes"), UNTOUCHED);
  CHECK_STR_EQ (content (&s, "memory.swappiness"), UNTOUCHED);
  CHECK_STR_EQ (content (&s, "memory.use_hierarchy"), UNTOUCHED);
  scratch_close (&s);
}

/* Unlimited memory under the old memsw would not be unlimited. */
TEST (memory_unlimited_lifts_swap)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "memory.limit_in_bytes", "1048576\n");
  put (&s, "memory.memsw.limit_in_bytes", "2097152\n");
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": -1}}"), 0);
  CHECK_STR_EQ (content (&s, "memory.limit_in_bytes"), "-1");
  CHECK_STR_EQ (content (&s, "memory.memsw.limit_in_bytes"), "-1");
  scratch_close (&s);
}

TEST (memory_swap_without_accounting)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "memory.limit_in_bytes", UNLIMITED);
  CHECK_APPLY_ERROR (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 1048576, \"swap\": 2097152}}",
                     "memory.memsw.limit_in_bytes: cannot limit memory+swap to 2097152: this kernel does not "
                     "account swap");
  /* Unlimited swap is what such a kernel has anyway. */
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 1048576, \"swap\": -1}}"), 0);
  CHECK_STR_EQ (content (&s, "memory.limit_in_bytes"), "1048576");
  CHECK_STR_EQ (content (&s, "memory.memsw.limit_in_bytes"), "(absent)");
  scratch_close (&s);
}

/* memsw ≥ limit must hold after each write: swap goes first when raised
 * to or past the current limit, last when it falls below it. */
TEST (memory_swap_order)
{
  /* Raising 100/200 to 300/400: swap first (limit 300 > memsw 200). */
  CHECK (cgroup_v1_memsw_first (100, 400));
  /* Lowering 300/400 to 100/200: limit first (memsw 200 < limit 300). */
  CHECK (!cgroup_v1_memsw_first (300, 200));
  /* Swap equal to the current limit may go first. */
  CHECK (cgroup_v1_memsw_first (300, 300));
  /* Unlimited swap can always go first. */
  CHECK (cgroup_v1_memsw_first (300, -1));
  /* A fresh cgroup shows no limit: the limit goes first. */
  CHECK (!cgroup_v1_memsw_first (9223372036854771712ULL, 2097152));
}

TEST (memory_both_written_whatever_the_order)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "memory.limit_in_bytes", "100\n");
  put (&s, "memory.memsw.limit_in_bytes", "200\n");
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 300, \"swap\": 400}}"), 0);
  CHECK_STR_EQ (content (&s, "memory.limit_in_bytes"), "300");
  CHECK_STR_EQ (content (&s, "memory.memsw.limit_in_bytes"), "400");
  put (&s, "memory.limit_in_bytes", "300\n");
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 100, \"swap\": 200}}"), 0);
  CHECK_STR_EQ (content (&s, "memory.limit_in_bytes"), "100");
  CHECK_STR_EQ (content (&s, "memory.memsw.limit_in_bytes"), "200");
  scratch_close (&s);
}

TEST (memory_refusal_names_file_and_value)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  /* A directory where the file should be: open(2) refuses it. */
  REQUIRE (mkdirat (s.fd, "memory.limit_in_bytes", 0755) == 0);
  CHECK_APPLY_ERROR (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 12}}",
                     "memory.limit_in_bytes: write \"12\": Is a directory");
  scratch_close (&s);
}

/* The order of limit and memsw depends on the current limit. */
TEST (memory_current_limit_unreadable)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "memory.limit_in_bytes", "lots\n");
  put (&s, "memory.memsw.limit_in_bytes", UNLIMITED);
  CHECK_APPLY_ERROR (CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 100, \"swap\": 200}}",
                     "memory.limit_in_bytes: read \"lots\": not a byte count");
  CHECK_STR_EQ (content (&s, "memory.memsw.limit_in_bytes"), UNLIMITED);
  scratch_close (&s);
}

/* CPU */

static const char *const cpu_files[] = {
  "cpu.shares",       "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us",
  "cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.idle",         NULL,
};

TEST (cpu_every_field)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put_all (&s, cpu_files);
  CHECK_INT_EQ (apply (CGROUP_CPU, &s,
                       "{\"cpu\": {\"shares\": 512, \"quota\": 200000, \"burst\": 50000, \"period\": 100000,"
                       " \"realtimeRuntime\": 950000, \"realtimePeriod\": 1000000, \"idle\": 1}}"),
                0);
  CHECK_STR_EQ (content (&s, "cpu.shares"), "512");
  CHECK_STR_EQ (content (&s, "cpu.cfs_period_us"), "100000");
  CHECK_STR_EQ (content (&s, "cpu.cfs_quota_us"), "200000");
  CHECK_STR_EQ (content (&s, "cpu.cfs_burst_us"), "50000");
  CHECK_STR_EQ (content (&s, "cpu.rt_period_us"), "1000000");
  CHECK_STR_EQ (content (&s, "cpu.rt_runtime_us"), "950000");
  CHECK_STR_EQ (content (&s, "cpu.idle"), "1");
  scratch_close (&s);
}

TEST (cpu_only_what_is_set)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put_all (&s, cpu_files);
  CHECK_INT_EQ (apply (CGROUP_CPU, &s, "{\"cpu\": {\"quota\": -1, \"shares\": 0}}"), 0);
  CHECK_STR_EQ (content (&s, "cpu.cfs_quota_us"), "-1");
  for (const char *const *f = cpu_files; *f; f++)
    if (strcmp (*f, "cpu.cfs_quota_us") != 0)
      CHECK_STR_EQ (content (&s, *f), UNTOUCHED);
  scratch_close (&s);
}

/* cfs burst came in 5.14, cpu.idle in 5.15. */
TEST (cpu_older_kernel_files)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "cpu.cfs_quota_us", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_CPU, &s, "{\"cpu\": {\"quota\": 100000, \"burst\": 1000, \"idle\": 0}}"), 0);
  CHECK_STR_EQ (content (&s, "cpu.cfs_quota_us"), "100000");
  CHECK_STR_EQ (content (&s, "cpu.cfs_burst_us"), "(absent)");
  /* An idle group is not something an older kernel does anyway. */
  CHECK_APPLY_ERROR (CGROUP_CPU, &s, "{\"cpu\": {\"idle\": 1}}",
                     "cpu.idle: write \"1\": No such file or directory");
  scratch_close (&s);
}

/* cpuset */

TEST (cpuset_values)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "cpuset.cpus", UNTOUCHED);
  put (&s, "cpuset.mems", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_CPUSET, &s, "{\"cpu\": {\"cpus\": \"0-3,7\"}}"), 0);
  CHECK_STR_EQ (content (&s, "cpuset.cpus"), "0-3,7");
  CHECK_STR_EQ (content (&s, "cpuset.mems"), UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_CPUSET, &s, "{\"cpu\": {\"mems\": \"0\"}}"), 0);
  CHECK_STR_EQ (content (&s, "cpuset.mems"), "0");
  /* cpu limits alone do not touch cpuset. */
  CHECK_INT_EQ (apply (CGROUP_CPUSET, &s, "{\"cpu\": {\"shares\": 100}}"), 0);
  CHECK_STR_EQ (content (&s, "cpuset.cpus"), "0-3,7");
  scratch_close (&s);
}

TEST (cpuset_inherit)
{
  struct scratch parent, child;
  struct ward_error *err = NULL;
  REQUIRE (scratch_open (&parent));
  REQUIRE (scratch_open (&child));
  put (&parent, "cpuset.cpus", "0-3\n");
  put (&parent, "cpuset.mems", "0\n");
  put (&child, "cpuset.cpus", "\n");
  put (&child, "cpuset.mems", "1\n");
  CHECK_INT_EQ (cgroup_v1_cpuset_inherit (parent.fd, child.fd, &err), 0);
  CHECK (err == NULL);
  CHECK_STR_EQ (content (&child, "cpuset.cpus"), "0-3");
  /* Already filled: left alone. */
  CHECK_STR_EQ (content (&child, "cpuset.mems"), "1\n");

  put (&parent, "cpuset.mems", "\n");
  put (&child, "cpuset.mems", "");
  CHECK_INT_EQ (cgroup_v1_cpuset_inherit (parent.fd, child.fd, &err), -1);
  REQUIRE (err != NULL);
  CHECK_STR_EQ (err->message,
                "cpuset.mems: the parent cgroup's is empty too: fill the ancestors first, top down");
  ward_error_free (&err);
  scratch_close (&child);
  scratch_close (&parent);
}

/* pids */

TEST (pids_limit)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "pids.max", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_PIDS, &s, "{\"pids\": {\"limit\": 100}}"), 0);
  CHECK_STR_EQ (content (&s, "pids.max"), "100");
  CHECK_INT_EQ (apply (CGROUP_PIDS, &s, "{\"pids\": {\"limit\": -1}}"), 0);
  CHECK_STR_EQ (content (&s, "pids.max"), "max");
  put (&s, "pids.max", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_PIDS, &s, "{\"pids\": {\"limit\": 0}}"), 0);
  CHECK_STR_EQ (content (&s, "pids.max"), "max");
  REQUIRE (unlinkat (s.fd, "pids.max", 0) == 0);
  CHECK_APPLY_ERROR (CGROUP_PIDS, &s, "{\"pids\": {\"limit\": 0}}",
                     "pids.max: write \"max\": No such file or directory");
  scratch_close (&s);
}

/* blkio */

static const char blkio_config[]
    = "{\"blockIO\": {\"weight\": 500, \"leafWeight\": 300,"
      " \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 600, \"leafWeight\": 200}],"
      " \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 600}],"
      " \"throttleWriteBpsDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 700}],"
      " \"throttleReadIOPSDevice\": [{\"major\": 253, \"minor\": 1, \"rate\": 100}],"
      " \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 300}]}}";

TEST (blkio_cfq)
{
  static const char *const files[] = {
    "blkio.weight",
    "blkio.leaf_weight",
    "blkio.weight_device",
    "blkio.leaf_weight_device",
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
    NULL,
  };
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put_all (&s, files);
  CHECK_INT_EQ (apply (CGROUP_BLKIO, &s, blkio_config), 0);
  CHECK_STR_EQ (content (&s, "blkio.weight"), "500");
  CHECK_STR_EQ (content (&s, "blkio.leaf_weight"), "300");
  CHECK_STR_EQ (content (&s, "blkio.weight_device"), "8:0 600");
  CHECK_STR_EQ (content (&s, "blkio.leaf_weight_device"), "8:0 200");
  CHECK_STR_EQ (content (&s, "blkio.throttle.read_bps_device"), "8:0 600");
  CHECK_STR_EQ (content (&s, "blkio.throttle.write_bps_device"), "8:16 700");
  CHECK_STR_EQ (content (&s, "blkio.throttle.read_iops_device"), "253:1 100");
  CHECK_STR_EQ (content (&s, "blkio.throttle.write_iops_device"), "8:0 300");
  scratch_close (&s);
}

/* Without CFQ (gone since 5.0) weights go to BFQ's files. */
TEST (blkio_bfq)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "blkio.bfq.weight", UNTOUCHED);
  put (&s, "blkio.bfq.weight_device", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_BLKIO, &s,
                       "{\"blockIO\": {\"weight\": 100, \"weightDevice\": [{\"major\": 8, \"minor\": 0,"
                       " \"weight\": 200}]}}"),
                0);
  CHECK_STR_EQ (content (&s, "blkio.bfq.weight"), "100");
  CHECK_STR_EQ (content (&s, "blkio.bfq.weight_device"), "8:0 200");
  /* BFQ has no leaf weights. */
  CHECK_APPLY_ERROR (CGROUP_BLKIO, &s, "{\"blockIO\": {\"leafWeight\": 100}}",
                     "blkio.leaf_weight: write \"100\": No such file or directory");
  scratch_close (&s);
}

TEST (blkio_each_device_a_write)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  int fd = recorder (&s, "blkio.throttle.read_bps_device");
  REQUIRE (fd >= 0);
  CHECK_INT_EQ (apply (CGROUP_BLKIO, &s,
                       "{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1},"
                       " {\"major\": 8, \"minor\": 16, \"rate\": 2}]}}"),
                0);
  CHECK_STR_EQ (recorded (fd),
                "8:0 1"
                "8:16 2");
  close (fd);
  scratch_close (&s);
}

/* devices */

TEST (devices_in_order)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  int allow = recorder (&s, "devices.allow");
  int deny = recorder (&s, "devices.deny");
  REQUIRE (allow >= 0 && deny >= 0);
  CHECK_INT_EQ (
      apply (CGROUP_DEVICES, &s,
             "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
             " {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": \"rw\"},"
             " {\"allow\": true, \"type\": \"b\", \"major\": 8, \"access\": \"r\"},"
             " {\"allow\": false, \"type\": \"c\", \"minor\": 5},"
             " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"m\"}]}"),
      0);
  /* Writes of one file run together in the FIFO; each is one rule. */
  CHECK_STR_EQ (recorded (deny),
                "a"
                "c *:5 rwm");
  CHECK_STR_EQ (recorded (allow),
                "c 10:229 rw"
                "b 8:* r"
                "c 1:3 m");
  close (allow);
  close (deny);
  scratch_close (&s);
}

/* The kernel reads any 'a' rule as every device and every access. */
TEST (devices_narrow_all_rule)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  int allow = recorder (&s, "devices.allow");
  REQUIRE (allow >= 0);
  CHECK_INT_EQ (
      apply (CGROUP_DEVICES, &s, "{\"devices\": [{\"allow\": true, \"major\": 136, \"access\": \"rw\"}]}"),
      0);
  CHECK_STR_EQ (recorded (allow),
                "c 136:* rw"
                "b 136:* rw");
  CHECK_INT_EQ (apply (CGROUP_DEVICES, &s, "{\"devices\": [{\"allow\": true, \"type\": \"a\"}]}"), 0);
  CHECK_STR_EQ (recorded (allow), "a");
  close (allow);
  scratch_close (&s);
}

/* hugetlb, net_cls, net_prio */

TEST (hugetlb_limits)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "hugetlb.2MB.limit_in_bytes", UNTOUCHED);
  put (&s, "hugetlb.2MB.rsvd.limit_in_bytes", UNTOUCHED);
  put (&s, "hugetlb.1GB.limit_in_bytes", UNTOUCHED);
  CHECK_INT_EQ (apply (CGROUP_HUGETLB, &s,
                       "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200},"
                       " {\"pageSize\": \"1GB\", \"limit\": 0}]}"),
                0);
  CHECK_STR_EQ (content (&s, "hugetlb.2MB.limit_in_bytes"), "209715200");
  CHECK_STR_EQ (content (&s, "hugetlb.2MB.rsvd.limit_in_bytes"), "209715200");
  CHECK_STR_EQ (content (&s, "hugetlb.1GB.limit_in_bytes"), "0");
  CHECK_STR_EQ (content (&s, "hugetlb.1GB.rsvd.limit_in_bytes"), "(absent)");
  CHECK_APPLY_ERROR (CGROUP_HUGETLB, &s, "{\"hugepageLimits\": [{\"pageSize\": \"64KB\", \"limit\": 1}]}",
                     "hugetlb.64KB.limit_in_bytes: write \"1\": No such file or directory");
  scratch_close (&s);
}

TEST (network_class_and_priorities)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "net_cls.classid", UNTOUCHED);
  int map = recorder (&s, "net_prio.ifpriomap");
  REQUIRE (map >= 0);
  static const char config[] = "{\"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\","
                               " \"priority\": 500}, {\"name\": \"lo\", \"priority\": 7}]}}";
  CHECK_INT_EQ (apply (CGROUP_NET_CLS, &s, config), 0);
  CHECK_STR_EQ (content (&s, "net_cls.classid"), "1048577");
  CHECK_STR_EQ (recorded (map), "");
  CHECK_INT_EQ (apply (CGROUP_NET_PRIO, &s, config), 0);
  CHECK_STR_EQ (recorded (map),
                "eth0 500"
                "lo 7");
  close (map);
  scratch_close (&s);
}

/* Nothing set, nothing written: not even an open of a file that is not
 * there. */
TEST (nothing_set_nothing_written)
{
  static const char *const configs[] = {
    "{}",
    "{\"memory\": {\"checkBeforeUpdate\": true}, \"cpu\": {}, \"blockIO\": {}, \"network\": {}, \"devices\": "
    "[]}",
  };
  struct scratch s;
  REQUIRE (scratch_open (&s));
  for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
    for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++)
      if (!CHECK (apply (c, &s, configs[i]) == 0))
        printf ("    controller %s, config %zu\n", cgroup_controller_v1_name (c), i);
  scratch_close (&s);
}

/* linux.resources.unified speaks to v2 files only. */
TEST (unified_refused_on_v1)
{
  struct scratch s;
  REQUIRE (scratch_open (&s));
  put (&s, "memory.limit_in_bytes", UNTOUCHED);
  CHECK_APPLY_ERROR (
      CGROUP_MEMORY, &s, "{\"memory\": {\"limit\": 100}, \"unified\": {\"memory.high\": \"50\"}}",
      "unified: \"memory.high\" needs the memory controller on cgroup v2, and this host has it on v1");
  CHECK_STR_EQ (content (&s, "memory.limit_in_bytes"), UNTOUCHED);
  CHECK_APPLY_ERROR (CGROUP_BLKIO, &s, "{\"unified\": {\"io.max\": \"8:0 rbps=1\"}}",
                     "unified: \"io.max\" needs the io controller on cgroup v2, and this host has it on v1");
  /* Keys of other controllers are theirs to refuse (or, on v2, to write). */
  CHECK_INT_EQ (apply (CGROUP_PIDS, &s, "{\"unified\": {\"memory.high\": \"50\", \"cgroup.freeze\": \"0\"}}"),
                0);
  CHECK_INT_EQ (apply (CGROUP_CPUACCT, &s, "{\"unified\": {\"cpu.weight\": \"50\"}}"), 0);
  /* "memoryx.y" is not the memory controller's. */
  CHECK_INT_EQ (apply (CGROUP_MEMORY, &s, "{\"unified\": {\"memoryx.high\": \"50\"}}"), 0);
  scratch_close (&s);
}

/* The controller table */

TEST (controller_names)
{
  static const struct
  {
    enum cgroup_controller controller;
    const char *v1, *v2;
  } expected[] = {
    { CGROUP_MEMORY, "memory", "memory" },    { CGROUP_CPU, "cpu", "cpu" },
    { CGROUP_CPUACCT, "cpuacct", "cpu" },     { CGROUP_CPUSET, "cpuset", "cpuset" },
    { CGROUP_PIDS, "pids", "pids" },          { CGROUP_BLKIO, "blkio", "io" },
    { CGROUP_DEVICES, "devices", NULL },      { CGROUP_FREEZER, "freezer", NULL },
    { CGROUP_HUGETLB, "hugetlb", "hugetlb" }, { CGROUP_NET_CLS, "net_cls", NULL },
    { CGROUP_NET_PRIO, "net_prio", NULL },
  };
  CHECK_INT_EQ (sizeof expected / sizeof expected[0], CGROUP_CONTROLLER_COUNT);
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    {
      CHECK_STR_EQ (cgroup_controller_v1_name (expected[i].controller), expected[i].v1);
      CHECK_STR_EQ (cgroup_controller_v2_name (expected[i].controller), expected[i].v2);
    }
  CHECK (cgroup_controller_v1_name (CGROUP_CONTROLLER_COUNT) == NULL);
  CHECK (cgroup_controller_v2_name ((enum cgroup_controller) - 1) == NULL);
}

static bool
needs (enum cgroup_controller controller, const char *text)
{
  struct resources *r = resources_from (text);
  bool needed = r && cgroup_controller_needed (controller, r);
  resources_free (r);
  return needed;
}

TEST (controller_needed)
{
  CHECK (needs (CGROUP_MEMORY, "{\"memory\": {\"swappiness\": 0}}"));
  CHECK (!needs (CGROUP_MEMORY, "{\"memory\": {\"checkBeforeUpdate\": true}}"));
  CHECK (!needs (CGROUP_MEMORY, "{\"memory\": {\"limit\": 0}}"));
  CHECK (needs (CGROUP_MEMORY, "{\"unified\": {\"memory.max\": \"1\"}}"));
  CHECK (needs (CGROUP_CPU, "{\"cpu\": {\"idle\": 0}}"));
  CHECK (needs (CGROUP_CPU, "{\"unified\": {\"cpu.weight\": \"1\"}}"));
  CHECK (!needs (CGROUP_CPU, "{\"cpu\": {\"cpus\": \"0\"}}"));
  CHECK (needs (CGROUP_CPUSET, "{\"cpu\": {\"cpus\": \"0\"}}"));
  CHECK (needs (CGROUP_CPUSET, "{\"cpu\": {\"mems\": \"0\"}}"));
  CHECK (!needs (CGROUP_CPUSET, "{\"cpu\": {\"shares\": 2}}"));
  CHECK (!needs (CGROUP_CPUACCT, "{\"cpu\": {\"shares\": 2}, \"unified\": {\"cpu.weight\": \"1\"}}"));
  CHECK (needs (CGROUP_PIDS, "{\"pids\": {\"limit\": 0}}"));
  CHECK (needs (CGROUP_BLKIO,
                "{\"blockIO\": {\"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0,"
                " \"rate\": 1}]}}"));
  CHECK (needs (CGROUP_BLKIO, "{\"unified\": {\"io.weight\": \"1\"}}"));
  CHECK (!needs (CGROUP_BLKIO, "{\"blockIO\": {\"weight\": 0}}"));
  CHECK (needs (CGROUP_DEVICES, "{\"devices\": [{\"allow\": false}]}"));
  CHECK (!needs (CGROUP_DEVICES, "{\"devices\": []}"));
  CHECK (!needs (CGROUP_FREEZER, "{\"unified\": {\"cgroup.freeze\": \"1\"}}"));
  CHECK (needs (CGROUP_HUGETLB, "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}]}"));
  CHECK (needs (CGROUP_NET_CLS, "{\"network\": {\"classID\": 0}}"));
  CHECK (!needs (CGROUP_NET_PRIO, "{\"network\": {\"classID\": 0}}"));
  CHECK (needs (CGROUP_NET_PRIO, "{\"network\": {\"priorities\": [{\"name\": \"lo\", \"priority\": 1}]}}"));
  CHECK (!cgroup_controller_needed (CGROUP_MEMORY, NULL));
}

TEST (v2_conversions)
{
  CHECK_INT_EQ (cgroup_v2_cpu_weight_from_shares (2), 1);
  CHECK_INT_EQ (cgroup_v2_cpu_weight_from_shares (1024), 39);
  CHECK_INT_EQ (cgroup_v2_cpu_weight_from_shares (262144), 10000);
  /* Outside 2..262144: clamped, as the v1 kernel clamps cpu.shares. */
  CHECK_INT_EQ (cgroup_v2_cpu_weight_from_shares (0), 1);
  CHECK_INT_EQ (cgroup_v2_cpu_weight_from_shares (1), 1);
  CHECK_INT_EQ (cgroup_v2_cpu_weight_from_shares (1000000), 10000);
  CHECK_INT_EQ (cgroup_v2_cpu_weight_from_shares (UINT64_MAX), 10000);
  CHECK_INT_EQ (cgroup_v2_io_weight_from_blkio (10), 1);
  CHECK_INT_EQ (cgroup_v2_io_weight_from_blkio (500), 4950);
  CHECK_INT_EQ (cgroup_v2_io_weight_from_blkio (1000), 10000);
  CHECK_INT_EQ (cgroup_v2_io_weight_from_blkio (0), 1);
  CHECK_INT_EQ (cgroup_v2_io_weight_from_blkio (65535), 10000);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (memory_every_field),
  TEST_ENTRY (memory_kmem_where_present),
  TEST_ENTRY (memory_only_what_is_set),
  TEST_ENTRY (memory_unlimited_lifts_swap),
  TEST_ENTRY (memory_swap_without_accounting),
  TEST_ENTRY (memory_swap_order),
  TEST_ENTRY (memory_both_written_whatever_the_order),
  TEST_ENTRY (memory_refusal_names_file_and_value),
  TEST_ENTRY (memory_current_limit_unreadable),
  TEST_ENTRY (cpu_every_field),
  TEST_ENTRY (cpu_only_what_is_set),
  TEST_ENTRY (cpu_older_kernel_files),
  TEST_ENTRY (cpuset_values),
  TEST_ENTRY (cpuset_inherit),
  TEST_ENTRY (pids_limit),
  TEST_ENTRY (blkio_cfq),
  TEST_ENTRY (blkio_bfq),
  TEST_ENTRY (blkio_each_device_a_write),
  TEST_ENTRY (devices_in_order),
  TEST_ENTRY (devices_narrow_all_rule),
  TEST_ENTRY (hugetlb_limits),
  TEST_ENTRY (network_class_and_priorities),
  TEST_ENTRY (nothing_set_nothing_written),
  TEST_ENTRY (unified_refused_on_v1),
  TEST_ENTRY (controller_names),
  TEST_ENTRY (controller_needed),
  TEST_ENTRY (v2_conversions),
};

HARNESS_MAIN (tests)
