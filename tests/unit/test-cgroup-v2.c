/* struct resources → cgroup v2 files.  A temporary directory with the
 * empty files a v2 cgroup would have stands in for the cgroup: each test
 * applies one controller and reads back what was written (one line per
 * write).  Files a test leaves out stand for files the kernel lacks. */
#include "config.h"
#include "harness.h"
#include "cgroup_controllers.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fake_root[] = "/tmp/ward-test-cgroup-v2-XXXXXX";

/* A fresh directory holding `files` (NULL-terminated), empty. */
static int
fake_cgroup (const char *const *files)
{
  static int serial;
  char path[256];
  if (fake_root[strlen (fake_root) - 1] == 'X' && mkdtemp (fake_root) == NULL)
    return -1;
  snprintf (path, sizeof path, "%s/%d", fake_root, serial++);
  if (mkdir (path, 0755) < 0)
    return -1;
  int dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = 0; dir_fd >= 0 && files[i]; i++)
    {
      int fd = openat (dir_fd, files[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        return -1;
      close (fd);
    }
  return dir_fd;
}

static void
set_content (int dir_fd, const char *file, const char *content)
{
  int fd = openat (dir_fd, file, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, content, strlen (content)) < 0)
        perror ("write");
      close (fd);
    }
}

/* The file's content; "<missing>" when there is none. */
static char *
content (int dir_fd, const char *file)
{
  char *text = NULL;
  if (fs_read_file_at (dir_fd, file, &text, NULL, NULL) < 0)
    return strdup ("<missing>");
  return text;
}

static void
check_content_at (const char *file, int line, int dir_fd, const char *name, const char *expected)
{
  cleanup_free char *actual = content (dir_fd, name);
  if (!harness_check_str (actual, expected, file, line, "content", "expected"))
    printf ("    in %s\n", name);
}

#define CHECK_CONTENT(dir_fd, name, expected) check_content_at (__FILE__, __LINE__, dir_fd, name, expected)

static int
apply (enum cgroup_controller controller, int dir_fd, const struct resources *r)
{
  struct ward_error *err = NULL;
  int ret = cgroup_v2_apply (controller, dir_fd, r, &err);
  if (ret < 0)
    printf ("  unexpected error: %s\n", err->message);
  ward_error_free (&err);
  return ret;
}

static void
check_error_at (const char *file, int line, enum cgroup_controller controller, int dir_fd,
                const struct resources *r, const char *expected)
{
  struct ward_error *err = NULL;
  int ret = cgroup_v2_apply (controller, dir_fd, r, &err);
  harness_check (ret == -1 && err != NULL, file, line, "cgroup_v2_apply fails");
  if (err)
    harness_check_str (err->message, expected, file, line, "message", "expected");
  ward_error_free (&err);
}

#define CHECK_APPLY_ERROR(controller, dir_fd, r, expected)                                                   \
  check_error_at (__FILE__, __LINE__, controller, dir_fd, r, expected)

static const char *const memory_files[]
    = { "memory.max", "memory.low", "memory.swap.max", "memory.oom.group", "memory.current", NULL };

static struct resources
memory (int64_t limit, int64_t swap)
{
  struct resources r = { .has_memory = true };
  r.memory.has_limit = limit != 0;
  r.memory.limit = limit;
  r.memory.has_swap = swap != 0;
  r.memory.swap = swap;
  return r;
}

TEST (memory_limit_and_swap)
{
  cleanup_close int fd = fake_cgroup (memory_files);
  REQUIRE (fd >= 0);
  struct resources r = memory (1048576, 3145728);
  r.memory.has_reservation = true;
  r.memory.reservation = 524288;
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.max", "1048576\n");
  /* OCI swap is memory+swap; v2 wants swap alone. */
  CHECK_CONTENT (fd, "memory.swap.max", "2097152\n");
  CHECK_CONTENT (fd, "memory.low", "524288\n");
  CHECK_CONTENT (fd, "memory.oom.group", "1\n");
}

TEST (memory_unlimited)
{
  cleanup_close int fd = fake_cgroup (memory_files);
  REQUIRE (fd >= 0);
  /* Memory unlimited, swap unsaid: both unlimited, as on v1. */
  struct resources r = memory (-1, 0);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.max", "max\n");
  CHECK_CONTENT (fd, "memory.swap.max", "max\n");
  CHECK_CONTENT (fd, "memory.oom.group", "");

  r = memory (1048576, -1);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.swap.max", "max\n");

  /* swap == limit: no swap at all. */
  r = memory (1048576, 1048576);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.swap.max", "0\n");
}

TEST (memory_swap_errors)
{
  cleanup_close int fd = fake_cgroup (memory_files);
  REQUIRE (fd >= 0);
  struct resources r = memory (2097152, 1048576);
  CHECK_APPLY_ERROR (CGROUP_MEMORY, fd, &r,
                     "memory.swap 1048576 is below memory.limit 2097152: the OCI swap limit is memory+swap: "
                     "Invalid argument");
  r = memory (0, 1048576);
  CHECK_APPLY_ERROR (
      CGROUP_MEMORY, fd, &r,
      "memory.swap 1048576 needs a memory.limit: the OCI swap limit is memory+swap: Invalid argument");
  CHECK_CONTENT (fd, "memory.max", "");

  /* `update` of swap alone: the limit in force is the base. */
  set_content (fd, "memory.max", "1000000\n");
  r = memory (0, 1500000);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.swap.max", "500000\n");

  r = memory (-2, 0);
  CHECK_APPLY_ERROR (CGROUP_MEMORY, fd, &r,
                     "memory.limit: -2 is neither a limit nor -1 (unlimited): Invalid argument");
}

TEST (memory_without_swap_accounting)
{
  static const char *const files[] = { "memory.max", NULL };
  cleanup_close int fd = fake_cgroup (files);
  REQUIRE (fd >= 0);
  struct resources r = memory (-1, -1);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.max", "max\n");
  r = memory (1048576, 1048576);
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.max", "1048576\n");
  r = memory (1048576, 2097152);
  CHECK_APPLY_ERROR (
      CGROUP_MEMORY, fd, &r,
      "memory.swap: this host has no memory.swap.max (no swap accounting): No such file or directory");
}

TEST (memory_check_before_update_and_ignored_fields)
{
  cleanup_close int fd = fake_cgroup (memory_files);
  REQUIRE (fd >= 0);
  set_content (fd, "memory.current", "5000\n");
  struct resources r = memory (4096, 0);
  r.memory.has_check_before_update = r.memory.check_before_update = true;
  CHECK_APPLY_ERROR (CGROUP_MEMORY, fd, &r, "memory.limit 4096 is below the current usage 5000");
  CHECK_CONTENT (fd, "memory.max", "");
  r.memory.limit = 8192;
  /* v1-only fields: no v2 file, ignored (runc). */
  r.memory.has_kernel = r.memory.has_kernel_tcp = r.memory.has_swappiness = true;
  r.memory.kernel = r.memory.kernel_tcp = 1 << 20;
  r.memory.swappiness = 10;
  CHECK_INT_EQ (apply (CGROUP_MEMORY, fd, &r), 0);
  CHECK_CONTENT (fd, "memory.max", "8192\n");
}

static const char *const cpu_files[] = { "cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", NULL };

TEST (cpu_weight_from_shares)
{
  static const struct
  {
    uint64_t shares;
    const char *weight;
  } cases[] = { { 1024, "39\n" }, { 2, "1\n" }, { 262144, "10000\n" } };
  cleanup_close int fd = fake_cgroup (cpu_files);
  REQUIRE (fd >= 0);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (cases); i++)
    {
      struct resources r = { .has_cpu = true, .cpu = { .has_shares = true, .shares = cases[i].shares } };
      CHECK_INT_EQ (apply (CGROUP_CPU, fd, &r), 0);
      CHECK_CONTENT (fd, "cpu.weight", cases[i].weight);
    }
  CHECK_CONTENT (fd, "cpu.max", "");
}

TEST (cpu_max)
{
  cleanup_close int fd = fake_cgroup (cpu_files);
  REQUIRE (fd >= 0);
  struct resources r = { .has_cpu = true };
  r.cpu.has_quota = r.cpu.has_period = true;
  r.cpu.quota = 50000;
  r.cpu.period = 100000;
  CHECK_INT_EQ (apply (CGROUP_CPU, fd, &r), 0);
  CHECK_CONTENT (fd, "cpu.max", "50000 100000\n");
  r.cpu.quota = -1;
  CHECK_INT_EQ (apply (CGROUP_CPU, fd, &r), 0);
  CHECK_CONTENT (fd, "cpu.max", "max 100000\n");

  /* The period alone keeps the quota in force. */
  set_content (fd, "cpu.max", "20000 100000\n");
  r.cpu.has_quota = false;
  r.cpu.period = 50000;
  CHECK_INT_EQ (apply (CGROUP_CPU, fd, &r), 0);
  CHECK_CONTENT (fd, "cpu.max", "20000 50000\n");
  /* The quota alone keeps the period. */
  r.cpu.has_quota = true;
  r.cpu.has_period = false;
  r.cpu.quota = 30000;
  CHECK_INT_EQ (apply (CGROUP_CPU, fd, &r), 0);
  CHECK_CONTENT (fd, "cpu.max", "30000\n");

  r = (struct resources){ .has_cpu = true };
  r.cpu.has_burst = r.cpu.has_idle = true;
  r.cpu.burst = 10000;
  r.cpu.idle = 1;
  CHECK_INT_EQ (apply (CGROUP_CPU, fd, &r), 0);
  CHECK_CONTENT (fd, "cpu.max.burst", "10000\n");
  CHECK_CONTENT (fd, "cpu.idle", "1\n");
}

TEST (cpu_realtime_refused)
{
  cleanup_close int fd = fake_cgroup (cpu_files);
  REQUIRE (fd >= 0);
  struct resources r = { .has_cpu = true };
  r.cpu.has_realtime_runtime = true;
  r.cpu.realtime_runtime = 950000;
  CHECK_APPLY_ERROR (CGROUP_CPU, fd, &r, "cpu.realtimeRuntime: not supported on cgroup v2");
  r.cpu.realtime_runtime = 0;
  r.cpu.has_realtime_period = true;
  r.cpu.realtime_period = 1000000;
  CHECK_APPLY_ERROR (CGROUP_CPU, fd, &r, "cpu.realtimePeriod: not supported on cgroup v2");
  /* 0 asks for nothing v2 cannot give. */
  r.cpu.realtime_period = 0;
  CHECK_INT_EQ (apply (CGROUP_CPU, fd, &r), 0);
}

TEST (cpuset_and_pids)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems", "pids.max", NULL };
  cleanup_close int fd = fake_cgroup (files);
  REQUIRE (fd >= 0);
  struct resources r = { .has_cpu = true, .cpu = { .cpus = "0-1", .mems = "" } };
  CHECK_INT_EQ (apply (CGROUP_CPUSET, fd, &r), 0);
  CHECK_CONTENT (fd, "cpuset.cpus", "0-1\n");
  CHECK_CONTENT (fd, "cpuset.mems", "");

  static const struct
  {
    int64_t limit;
    const char *expected;
  } pids[] = { { 0, "max\n" }, { -1, "max\n" }, { 100, "100\n" } };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (pids); i++)
    {
      struct resources p = { .has_pids = true, .has_pids_limit = true, .pids_limit = pids[i].limit };
      CHECK_INT_EQ (apply (CGROUP_PIDS, fd, &p), 0);
      CHECK_CONTENT (fd, "pids.max", pids[i].expected);
    }
}

TEST (io_weight)
{
  static const char *const iocost[] = { "io.weight", "io.max", NULL };
  static const char *const both[] = { "io.weight", "io.bfq.weight", NULL };
  struct resources_weight_device devices[] = {
    { .major = 8, .minor = 0, .has_weight = true, .weight = 100 },
    { .major = 8, .minor = 16, .has_leaf_weight = true, .leaf_weight = 50 },
  };
  struct resources r = { .has_block_io = true };
  r.block_io.has_weight = true;
  r.block_io.weight = 500;
  r.block_io.weight_devices = devices;
  r.block_io.weight_devices_count = 2;

  cleanup_close int fd = fake_cgroup (iocost);
  REQUIRE (fd >= 0);
  CHECK_INT_EQ (apply (CGROUP_BLKIO, fd, &r), 0);
  /* 10..1000 → 1..10000 */
  CHECK_CONTENT (fd, "io.weight", "4950\n8:0 910\n");
  CHECK_CONTENT (fd, "io.max", "");

  /* BFQ takes blkio's own scale. */
  cleanup_close int bfq_fd = fake_cgroup (both);
  REQUIRE (bfq_fd >= 0);
  CHECK_INT_EQ (apply (CGROUP_BLKIO, bfq_fd, &r), 0);
  CHECK_CONTENT (bfq_fd, "io.bfq.weight", "500\n8:0 100\n");
  CHECK_CONTENT (bfq_fd, "io.weight", "4950\n8:0 910\n");

  static const char *const none[] = { "io.max", NULL };
  cleanup_close int none_fd = fake_cgroup (none);
  REQUIRE (none_fd >= 0);
  CHECK_APPLY_ERROR (
      CGROUP_BLKIO, none_fd, &r,
      "blockIO.weight: this kernel has neither io.weight nor io.bfq.weight: No such file or directory");
}

TEST (io_max)
{
  static const char *const files[] = { "io.max", NULL };
  struct resources_throttle_device read_bps[] = { { 8, 0, 1048576 } };
  struct resources_throttle_device write_bps[] = { { 8, 0, 2097152 } };
  struct resources_throttle_device read_iops[] = { { 8, 16, 100 } };
  struct resources_throttle_device write_iops[] = { { 8, 0, 0 } };
  struct resources r = { .has_block_io = true };
  r.block_io.throttle[THROTTLE_READ_BPS] = read_bps;
  r.block_io.throttle_count[THROTTLE_READ_BPS] = 1;
  r.block_io.throttle[THROTTLE_WRITE_BPS] = write_bps;
  r.block_io.throttle_count[THROTTLE_WRITE_BPS] = 1;
  r.block_io.throttle[THROTTLE_READ_IOPS] = read_iops;
  r.block_io.throttle_count[THROTTLE_READ_IOPS] = 1;
  r.block_io.throttle[THROTTLE_WRITE_IOPS] = write_iops;
  r.block_io.throttle_count[THROTTLE_WRITE_IOPS] = 1;
  cleanup_close int fd = fake_cgroup (files);
  REQUIRE (fd >= 0);
  CHECK_INT_EQ (apply (CGROUP_BLKIO, fd, &r), 0);
  /* One line a device; v1's 0 ("no limit") is v2's "max". */
  CHECK_CONTENT (fd, "io.max", "8:0 rbps=1048576 wbps=2097152 wiops=max\n8:16 riops=100\n");

  read_bps[0].major = -1;
  CHECK_APPLY_ERROR (CGROUP_BLKIO, fd, &r,
                     "blockIO throttle: device -1:0 is not a device number: Invalid argument");
}

TEST (hugetlb)
{
  static const char *const files[] = { "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max", NULL };
  struct resources_hugepage pages[] = { { "2MB", 1073741824 }, { "1GB", 0 } };
  struct resources r = { .hugepages = pages, .hugepages_count = 2 };
  cleanup_close int fd = fake_cgroup (files);
  REQUIRE (fd >= 0);
  CHECK_INT_EQ (apply (CGROUP_HUGETLB, fd, &r), 0);
  CHECK_CONTENT (fd, "hugetlb.2MB.max", "1073741824\n");
  CHECK_CONTENT (fd, "hugetlb.2MB.rsvd.max", "1073741824\n");
  CHECK_CONTENT (fd, "hugetlb.1GB.max", "0\n");
  CHECK_CONTENT (fd, "hugetlb.1GB.rsvd.max", "<missing>");

  struct resources_hugepage bad[] = { { "../2MB", 1 } };
  r.hugepages = bad;
  r.hugepages_count = 1;
  CHECK_APPLY_ERROR (CGROUP_HUGETLB, fd, &r,
                     "hugepageLimits[0]: invalid pageSize \"../2MB\": Invalid argument");
  struct resources_hugepage absent[] = { { "64KB", 1 } };
  r.hugepages = absent;
  CHECK_APPLY_ERROR (CGROUP_HUGETLB, fd, &r, "open hugetlb.64KB.max: No such file or directory");
}

TEST (network_and_others)
{
  static const char *const files[] = { NULL };
  cleanup_close int fd = fake_cgroup (files);
  REQUIRE (fd >= 0);
  struct resources_net_priority priorities[] = { { "eth0", 5 } };
  struct resources r = { .has_network = true, .has_net_class_id = true, .net_class_id = 0x100001 };
  CHECK_APPLY_ERROR (CGROUP_NET_CLS, fd, &r, "network.classID: net_cls is not available on cgroup v2");
  r = (struct resources){ .has_network = true, .net_priorities = priorities, .net_priorities_count = 1 };
  CHECK_APPLY_ERROR (CGROUP_NET_PRIO, fd, &r, "network.priorities: net_prio is not available on cgroup v2");
  CHECK_INT_EQ (apply (CGROUP_NET_CLS, fd, &r), 0);
  /* Nothing of linux.resources goes to these. */
  CHECK_INT_EQ (apply (CGROUP_FREEZER, fd, &r), 0);
  CHECK_INT_EQ (apply (CGROUP_CPUACCT, fd, &r), 0);
  /* Fields unset: nothing written, so no file is even needed. */
  struct resources empty = { .has_memory = true, .has_cpu = true, .has_pids = true, .has_block_io = true };
  for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++)
    CHECK_INT_EQ (apply (c, fd, &empty), 0);
}

static int
apply_unified (int dir_fd, struct resources_unified_entry *entries, size_t count, struct ward_error **err)
{
  struct resources r = { .unified = entries, .unified_count = count };
  return cgroup_v2_apply_unified (dir_fd, &r, err);
}

TEST (unified_writes)
{
  static const char *const files[] = { "memory.high", "io.max", NULL };
  struct resources_unified_entry entries[] = {
    { "memory.high", "1000000" },
    { "io.max", "8:0 rbps=1\n8:16 wbps=2\n" },
  };
  cleanup_close int fd = fake_cgroup (files);
  REQUIRE (fd >= 0);
  struct ward_error *err = NULL;
  CHECK_INT_EQ (apply_unified (fd, entries, 2, &err), 0);
  CHECK (err == NULL);
  ward_error_free (&err);
  CHECK_CONTENT (fd, "memory.high", "1000000\n");
  /* A line a write, as the kernel parses them. */
  CHECK_CONTENT (fd, "io.max", "8:0 rbps=1\n8:16 wbps=2\n");
}

static void
check_unified_error_at (const char *file, int line, const char *key, const char *expected)
{
  static const char *const files[] = { "memory.high", NULL };
  int fd = fake_cgroup (files);
  struct resources_unified_entry entries[] = { { "memory.high", "5" }, { (char *)key, "1" } };
  struct ward_error *err = NULL;
  int ret = apply_unified (fd, entries, 2, &err);
  harness_check (ret == -1 && err != NULL, file, line, "cgroup_v2_apply_unified fails");
  if (err)
    harness_check_str (err->message, expected, file, line, "message", "expected");
  ward_error_free (&err);
  cleanup_free char *high = content (fd, "memory.high");
  /* Keys are checked before anything is written. */
  if (strchr (key, '/') || strncmp (key, "cgroup.", 7) == 0 || strcmp (key, "..") == 0)
    harness_check_str (high, "", file, line, "memory.high", "\"\"");
  close (fd);
}

#define CHECK_UNIFIED_ERROR(key, expected) check_unified_error_at (__FILE__, __LINE__, key, expected)

TEST (unified_refusals)
{
  CHECK_UNIFIED_ERROR ("memory.nope",
                       "unified key \"memory.nope\": no such file in the cgroup "
                       "(is the memory controller enabled?): No such file or directory");
  CHECK_UNIFIED_ERROR ("../x", "unified key \"../x\": not a file name of the cgroup: Invalid argument");
  CHECK_UNIFIED_ERROR ("..", "unified key \"..\": not a file name of the cgroup: Invalid argument");
  CHECK_UNIFIED_ERROR ("", "unified key \"\": not a file name of the cgroup: Invalid argument");
  CHECK_UNIFIED_ERROR ("cgroup.procs",
                       "unified key \"cgroup.procs\": not a resource limit, refused: "
                       "Operation not permitted");
  CHECK_UNIFIED_ERROR ("cgroup.kill",
                       "unified key \"cgroup.kill\": not a resource limit, refused: "
                       "Operation not permitted");
}

/* Our own directory in the unified hierarchy (mount point + the "0::"
 * path of /proc/self/cgroup); NULL when there is none. */
static char *
own_unified_dir (void)
{
  cleanup_fclose FILE *mounts = fopen ("/proc/self/mounts", "re");
  cleanup_fclose FILE *self = fopen ("/proc/self/cgroup", "re");
  char line[4096], mount_point[4096] = "", type[64], own[4096] = "";
  bool found = false;
  while (!found && mounts && fgets (line, sizeof line, mounts))
    found = sscanf (line, "%*s %4095s %63s", mount_point, type) == 2 && strcmp (type, "cgroup2") == 0;
  while (self && fgets (line, sizeof line, self))
    if (strncmp (line, "0::", 3) == 0)
      {
        snprintf (own, sizeof own, "%s", line + 3);
        own[strcspn (own, "\n")] = '\0';
      }
  char *dir = NULL;
  if (!found || own[0] == '\0' || asprintf (&dir, "%s%s", mount_point, strcmp (own, "/") == 0 ? "" : own) < 0)
    return NULL;
  return dir;
}

/* The writes as cgroupfs takes them (trailing newline, O_TRUNC), on core
 * files every cgroup has, in a cgroup made beneath our own. */
TEST (unified_on_real_cgroup)
{
  cleanup_free char *own = own_unified_dir ();
  char dir[4096];
  snprintf (dir, sizeof dir, "%s/ward-test-cgroup-v2-%d", own ? own : "", (int)getpid ());
  if (own == NULL || mkdir (dir, 0755) < 0)
    {
      printf ("  SKIP: no cgroup v2 directory to make here: %s\n",
              own ? strerror (errno) : "no cgroup2 mount");
      return;
    }
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      struct resources_unified_entry entries[] = {
        { "cgroup.max.descendants", "5" },
        { "cgroup.max.depth", "max" },
      };
      struct ward_error *err = NULL;
      CHECK_INT_EQ (apply_unified (fd, entries, 2, &err), 0);
      if (err)
        printf ("  %s\n", err->message);
      ward_error_free (&err);
      CHECK_CONTENT (fd, "cgroup.max.descendants", "5\n");
      CHECK_CONTENT (fd, "cgroup.max.depth", "max\n");

      struct resources_unified_entry bad_value[] = { { "cgroup.max.depth", "lots" } };
      CHECK_INT_EQ (apply_unified (fd, bad_value, 1, &err), -1);
      if (CHECK (err != NULL))
        CHECK_STR_EQ (err->message, "unified key \"cgroup.max.depth\": write \"lots\": Invalid argument");
      ward_error_free (&err);

      /* No controller enabled beneath our cgroup here: pids.max is
       * missing and said so. */
      if (faccessat (fd, "pids.max", F_OK, 0) < 0)
        {
          struct resources_unified_entry absent[] = { { "pids.max", "10" } };
          CHECK_INT_EQ (apply_unified (fd, absent, 1, &err), -1);
          if (CHECK (err != NULL))
            CHECK_STR_EQ (err->message,
                          "unified key \"pids.max\": no such file in the cgroup "
                          "(is the pids controller enabled?): No such file or directory");
          ward_error_free (&err);
        }
      close (fd);
    }
  CHECK (rmdir (dir) == 0);
}

/* Runs last: removes the directories the tests made. */
TEST (cleanup)
{
  struct ward_error *err = NULL;
  if (fake_root[strlen (fake_root) - 1] != 'X')
    CHECK (fs_remove_tree_at (AT_FDCWD, fake_root, &err) == 0);
  ward_error_free (&err);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (memory_limit_and_swap),
  TEST_ENTRY (memory_unlimited),
  TEST_ENTRY (memory_swap_errors),
  TEST_ENTRY (memory_without_swap_accounting),
  TEST_ENTRY (memory_check_before_update_and_ignored_fields),
  TEST_ENTRY (cpu_weight_from_shares),
  TEST_ENTRY (cpu_max),
  TEST_ENTRY (cpu_realtime_refused),
  TEST_ENTRY (cpuset_and_pids),
  TEST_ENTRY (io_weight),
  TEST_ENTRY (io_max),
  TEST_ENTRY (hugetlb),
  TEST_ENTRY (network_and_others),
  TEST_ENTRY (unified_writes),
  TEST_ENTRY (unified_refusals),
  TEST_ENTRY (unified_on_real_cgroup),
  TEST_ENTRY (cleanup),
};

HARNESS_MAIN (tests)
