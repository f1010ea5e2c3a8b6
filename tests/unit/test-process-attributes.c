/* linux.personality, process.ioPriority and process.scheduler: values
 * outside what the kernel accepts are refused before anything is made, with
 * the field path and position, and good values take effect. */
#include "config.h"
#include "harness.h"
#include "process_attributes.h"
#include "spec.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* Documents are written with single quotes to stay readable; swapping them
 * one for one keeps every column.  The member under test fills the "%s"
 * of the template at the start of line 2, so its columns are its offsets
 * in the member text plus one. */
static struct spec *
parse_doc (const char *template, const char *member)
{
  char text[2048];
  const char *hole = strstr (template, "%s");
  snprintf (text, sizeof text, "%.*s%s%s", (int)(hole - template), template, member, hole + 2);
  for (char *p = text; *p; p++)
    if (*p == '\'')
      *p = '"';
  struct spec *spec = NULL;
  struct ward_error *err = NULL;
  if (spec_parse ("config.json", text, strlen (text), &spec, &err) < 0)
    {
      printf ("  unexpected parse error: %s\n", err->message);
      ward_error_free (&err);
    }
  return spec;
}

#define PROCESS_DOC "{'ociVersion': '1.2.0', 'process': {'args': ['true'],\n%s}}"
#define LINUX_DOC "{'ociVersion': '1.2.0', 'process': {'args': ['true']}, 'linux': {\n%s}}"

static void
check_validate_at (const char *file, int line, const char *template, const char *member, const char *expected)
{
  struct spec *spec = parse_doc (template, member);
  struct ward_error *err = NULL;
  if (!harness_check (spec != NULL, file, line, "spec parsed"))
    return;
  int ret = process_attributes_validate (spec, &err);
  if (expected == NULL)
    {
      if (!harness_check (ret == 0, file, line, "process_attributes_validate succeeded"))
        printf ("    for %s\n    unexpected error: %s\n", member, err ? err->message : "(none)");
    }
  else if (harness_check (ret == -1 && err != NULL, file, line, "process_attributes_validate failed"))
    harness_check_str (err->message, expected, file, line, "message", "expected");
  else
    printf ("    for %s\n", member);
  ward_error_free (&err);
  spec_free (spec);
}

#define CHECK_PROCESS(member, expected)                                                                      \
  check_validate_at (__FILE__, __LINE__, PROCESS_DOC, (member), (expected))
#define CHECK_LINUX(member, expected) check_validate_at (__FILE__, __LINE__, LINUX_DOC, (member), (expected))

TEST (nothing_set_is_valid)
{
  CHECK_PROCESS ("'cwd': '/'", NULL);
  CHECK_LINUX ("'mountLabel': ''", NULL);
  /* No process at all (create-only tools). */
  struct spec *spec = parse_doc ("{'ociVersion': '1.2.0'%s}", "");
  struct ward_error *err = NULL;
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (process_attributes_validate (spec, &err), 0);
  spec_free (spec);
}

TEST (personality_valid)
{
  CHECK_LINUX ("'personality': {'domain': 'LINUX'}", NULL);
  CHECK_LINUX ("'personality': {'domain': 'LINUX32', 'flags': []}", NULL);
  CHECK_LINUX ("'personality': {'domain': 'LINUX', 'flags': null}", NULL);
}

TEST (personality_errors)
{
  CHECK_LINUX (
      "'personality': {'domain': 'LINUX64'}",
      "config.json: linux.personality.domain: unknown domain \"LINUX64\" (expected LINUX or LINUX32) "
      "at line 2, column 27");
  CHECK_LINUX (
      "'personality': {'domain': 'linux'}",
      "config.json: linux.personality.domain: unknown domain \"linux\" (expected LINUX or LINUX32) at "
      "line 2, column 27");
  CHECK_LINUX ("'personality': {'flags': []}",
               "config.json: linux.personality.domain: required field is missing");
  CHECK_LINUX ("'personality': {'domain': 32}",
               "config.json: linux.personality.domain: expected a string at line 2, column 27");
  CHECK_LINUX (
      "'personality': {'domain': 'LINUX', 'flags': ['ADDR_NO_RANDOMIZE']}",
      "config.json: linux.personality.flags[0]: unknown flag \"ADDR_NO_RANDOMIZE\" (the runtime spec "
      "defines no personality flags) at line 2, column 46");
  CHECK_LINUX ("'personality': {'domain': 'LINUX', 'flags': [7]}",
               "config.json: linux.personality.flags[0]: expected a string at line 2, column 46");
  CHECK_LINUX ("'personality': {'domain': 'LINUX', 'flags': 'none'}",
               "config.json: linux.personality.flags: expected an array at line 2, column 45");
}

TEST (io_priority_valid)
{
  CHECK_PROCESS ("'ioPriority': {'class': 'IOPRIO_CLASS_RT', 'priority': 0}", NULL);
  CHECK_PROCESS ("'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 7}", NULL);
  CHECK_PROCESS ("'ioPriority': {'class': 'IOPRIO_CLASS_IDLE', 'priority': 0}", NULL);
}

TEST (io_priority_errors)
{
  CHECK_PROCESS ("'ioPriority': {'class': 'X', 'priority': 4}",
                 "config.json: process.ioPriority.class: unknown class \"X\" at line 2, column 25");
  CHECK_PROCESS (
      "'ioPriority': {'class': 'IOPRIO_CLASS_NONE', 'priority': 0}",
      "config.json: process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\" at line 2, column 25");
  CHECK_PROCESS ("'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 8}",
                 "config.json: process.ioPriority.priority: 8 is out of range 0..7 at line 2, column 56");
  CHECK_PROCESS ("'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': -1}",
                 "config.json: process.ioPriority.priority: -1 is out of range 0..7 at line 2, column 56");
  CHECK_PROCESS (
      "'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 1.5}",
      "config.json: process.ioPriority.priority: expected an integer, got 1.5 at line 2, column 56");
  CHECK_PROCESS ("'ioPriority': {'priority': 4}",
                 "config.json: process.ioPriority.class: required field is missing");
  CHECK_PROCESS ("'ioPriority': {'class': 'IOPRIO_CLASS_BE'}",
                 "config.json: process.ioPriority.priority: required field is missing");
  CHECK_PROCESS ("'ioPriority': {'class': 2, 'priority': 4}",
                 "config.json: process.ioPriority.class: expected a string at line 2, column 25");
}

TEST (scheduler_valid)
{
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_OTHER'}", NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_OTHER', 'nice': -20}", NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_BATCH', 'nice': 19, 'flags': ['SCHED_FLAG_RESET_ON_FORK']}",
                 NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_IDLE'}", NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_FIFO', 'priority': 1}", NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_RR', 'priority': 99, 'nice': 0}", NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 1024, 'deadline': 1024}", NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 10000000, 'deadline': 30000000, "
                 "'period': 100000000, 'flags': ['SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN']}",
                 NULL);
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_OTHER', 'flags': ['SCHED_FLAG_KEEP_POLICY', "
                 "'SCHED_FLAG_KEEP_PARAMS']}",
                 NULL);
}

TEST (scheduler_policy_errors)
{
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_NORMAL'}",
      "config.json: process.scheduler.policy: unknown policy \"SCHED_NORMAL\" at line 2, column 25");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_ISO'}",
      "config.json: process.scheduler.policy: SCHED_ISO is not supported: mainline Linux has no such "
      "policy at line 2, column 25");
  CHECK_PROCESS ("'scheduler': {'nice': 1}",
                 "config.json: process.scheduler.policy: required field is missing");
  CHECK_PROCESS ("'scheduler': {'policy': 3}",
                 "config.json: process.scheduler.policy: expected a string at line 2, column 25");
}

TEST (scheduler_nice_and_priority_errors)
{
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_OTHER', 'nice': 20}",
                 "config.json: process.scheduler.nice: 20 is out of range -20..19 at line 2, column 48");
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_BATCH', 'nice': -21}",
                 "config.json: process.scheduler.nice: -21 is out of range -20..19 at line 2, column 48");
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_FIFO', 'priority': 10, 'nice': 5}",
                 "config.json: process.scheduler.nice: SCHED_FIFO takes no nice value (only SCHED_OTHER and "
                 "SCHED_BATCH do) at line 2, column 63");
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_IDLE', 'nice': 5}",
                 "config.json: process.scheduler.nice: SCHED_IDLE takes no nice value (only SCHED_OTHER and "
                 "SCHED_BATCH do) at line 2, column 47");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_BATCH', 'priority': 5}",
      "config.json: process.scheduler.priority: SCHED_BATCH takes no priority (only SCHED_FIFO and "
      "SCHED_RR do) at line 2, column 52");
  /* The kernel refuses a real-time policy without a priority; the object
   * is where the missing field belongs. */
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_FIFO'}",
      "config.json: process.scheduler.priority: SCHED_FIFO needs a priority in 1..99 at line 2, column "
      "14");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_RR', 'priority': 100}",
      "config.json: process.scheduler.priority: SCHED_RR needs a priority in 1..99 at line 2, column 49");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_RR', 'priority': 4294967297}",
      "config.json: process.scheduler.priority: 4294967297 is out of range -2147483648..2147483647 at "
      "line 2, column 49");
}

TEST (scheduler_flag_errors)
{
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_OTHER', 'flags': ['SCHED_FLAG_RESET_ON_FORK', 'RESET']}",
                 "config.json: process.scheduler.flags[1]: unknown flag \"RESET\" at line 2, column 78");
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_OTHER', 'flags': ['SCHED_FLAG_UTIL_CLAMP_MAX']}",
                 "config.json: process.scheduler.flags[0]: SCHED_FLAG_UTIL_CLAMP_MAX is not supported: the "
                 "runtime spec has no field for the clamp value at line 2, column 50");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_BATCH', 'flags': ['SCHED_FLAG_RECLAIM']}",
      "config.json: process.scheduler.flags[0]: SCHED_FLAG_RECLAIM only applies to SCHED_DEADLINE at "
      "line 2, column 50");
  CHECK_PROCESS ("'scheduler': {'policy': 'SCHED_OTHER', 'flags': [1]}",
                 "config.json: process.scheduler.flags[0]: expected a string at line 2, column 50");
}

TEST (scheduler_deadline_errors)
{
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_OTHER', 'runtime': 1000}",
      "config.json: process.scheduler.runtime: only SCHED_DEADLINE takes runtime, deadline and period "
      "at line 2, column 51");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_FIFO', 'priority': 1, 'period': 5}",
      "config.json: process.scheduler.period: only SCHED_DEADLINE takes runtime, deadline and period at "
      "line 2, column 64");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 2000}",
      "config.json: process.scheduler.deadline: SCHED_DEADLINE needs a deadline greater than 0 at line "
      "2, column 14");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 1000, 'deadline': 2000}",
      "config.json: process.scheduler.runtime: SCHED_DEADLINE needs a runtime of at least 1024 ns at "
      "line 2, column 54");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 3000, 'deadline': 2000}",
      "config.json: process.scheduler.runtime: 3000 is longer than the deadline 2000 at line 2, column "
      "54");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 2000, 'deadline': 3000, 'period': 2500}",
      "config.json: process.scheduler.period: 2500 is shorter than the deadline 3000 at line 2, column "
      "88");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 2000, 'deadline': 9223372036854775808}",
      "config.json: process.scheduler.deadline: 9223372036854775808 is out of range (at most 2^63 - 1 "
      "ns) at line 2, column 72");
  CHECK_PROCESS (
      "'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': -1, 'deadline': 3000}",
      "config.json: process.scheduler.runtime: expected a non-negative integer, got -1 at line 2, column "
      "54");
}

static int
ioprio_get_self (void)
{
  return (int)syscall (SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
}

static bool
apply (const char *template, const char *member)
{
  struct spec *spec = parse_doc (template, member);
  struct ward_error *err = NULL;
  if (spec == NULL)
    return false;
  int ret = process_attributes_apply (spec, &err);
  if (ret < 0)
    printf ("  apply %s: %s\n", member, err->message);
  ward_error_free (&err);
  spec_free (spec);
  return ret == 0;
}

TEST (apply_io_priority)
{
  int before = ioprio_get_self ();
  REQUIRE (apply (PROCESS_DOC, "'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 4}"));
  CHECK_INT_EQ (ioprio_get_self (), (2 << 13) | 4);
  /* Lowering one's own I/O priority needs no privilege: undo it. */
  if (before >= 0)
    syscall (SYS_ioprio_set, 1, 0, before);
}

TEST (apply_personality_linux)
{
  int before = personality (0xffffffff);
  REQUIRE (apply (LINUX_DOC, "'personality': {'domain': 'LINUX'}"));
  CHECK_INT_EQ (personality (0xffffffff), PER_LINUX);
  personality ((unsigned long)before);
}

/* In a child: these stay with the process, and only the child exits. */
static void
check_in_child_at (const char *file, int line, void (*body) (void))
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid == 0)
    {
      body ();
      fflush (stdout);
      _exit (harness_failed_checks == 0 ? 0 : 1);
    }
  int status = 0;
  harness_check (pid > 0 && waitpid (pid, &status, 0) == pid, file, line, "child ran");
  harness_check (WIFEXITED (status) && WEXITSTATUS (status) == 0, file, line, "checks in the child passed");
}

static void
linux32_in_child (void)
{
  struct utsname uts;
  REQUIRE (apply (LINUX_DOC, "'personality': {'domain': 'LINUX32'}"));
  CHECK_INT_EQ (personality (0xffffffff), PER_LINUX32);
#if defined(__x86_64__)
  /* What `uname -m` in a 32-bit personality sees. */
  REQUIRE (uname (&uts) == 0);
  CHECK_STR_EQ (uts.machine, "i686");
#else
  (void)uts;
#endif
}

static void
batch_in_child (void)
{
  REQUIRE (apply (PROCESS_DOC, "'scheduler': {'policy': 'SCHED_BATCH', 'nice': 7}"));
  CHECK_INT_EQ (sched_getscheduler (0), SCHED_BATCH);
  CHECK_INT_EQ (getpriority (PRIO_PROCESS, 0), 7);
}

static void
reset_on_fork_in_child (void)
{
  REQUIRE (
      apply (PROCESS_DOC, "'scheduler': {'policy': 'SCHED_IDLE', 'flags': ['SCHED_FLAG_RESET_ON_FORK']}"));
  CHECK_INT_EQ (sched_getscheduler (0), SCHED_IDLE | SCHED_RESET_ON_FORK);
}

TEST (apply_personality_linux32)
{
  check_in_child_at (__FILE__, __LINE__, linux32_in_child);
}

TEST (apply_scheduler)
{
  check_in_child_at (__FILE__, __LINE__, batch_in_child);
  check_in_child_at (__FILE__, __LINE__, reset_on_fork_in_child);
}

TEST (apply_with_nothing_set_is_a_no_op)
{
  int before = ioprio_get_self ();
  REQUIRE (apply (PROCESS_DOC, "'cwd': '/'"));
  CHECK_INT_EQ (ioprio_get_self (), before);
}

/* apply re-reads the document, so it refuses what validate refuses. */
TEST (apply_refuses_invalid)
{
  struct spec *spec = parse_doc (PROCESS_DOC, "'ioPriority': {'class': 'X', 'priority': 4}");
  struct ward_error *err = NULL;
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (process_attributes_apply (spec, &err), -1);
  REQUIRE (err != NULL);
  CHECK_STR_EQ (err->message,
                "config.json: process.ioPriority.class: unknown class \"X\" at line 2, column 25");
  ward_error_free (&err);
  spec_free (spec);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (nothing_set_is_valid),
  TEST_ENTRY (personality_valid),
  TEST_ENTRY (personality_errors),
  TEST_ENTRY (io_priority_valid),
  TEST_ENTRY (io_priority_errors),
  TEST_ENTRY (scheduler_valid),
  TEST_ENTRY (scheduler_policy_errors),
  TEST_ENTRY (scheduler_nice_and_priority_errors),
  TEST_ENTRY (scheduler_flag_errors),
  TEST_ENTRY (scheduler_deadline_errors),
  TEST_ENTRY (apply_io_priority),
  TEST_ENTRY (apply_personality_linux),
  TEST_ENTRY (apply_personality_linux32),
  TEST_ENTRY (apply_scheduler),
  TEST_ENTRY (apply_with_nothing_set_is_a_no_op),
  TEST_ENTRY (apply_refuses_invalid),
};

HARNESS_MAIN (tests)
