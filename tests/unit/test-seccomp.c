/* linux.seccomp → BPF: every action, operator, architecture and flag
 * compiles; bad profiles are refused with messages naming the field and
 * its position; unknown syscall names are skipped only when that cannot
 * let a call through; and the compiled program, loaded in a child, does
 * what the profile says.  The listener handoff is checked on a real
 * socket. */
#include "config.h"
#include "harness.h"
#include "seccomp.h"
#include "spec.h"
#include "spec_default.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Profiles are written with single quotes to stay readable, and an '@'
 * marks where the value an error must point at begins. */
#define MARK '@'

struct parsed
{
  struct spec *spec;
  unsigned mark_line, mark_column; /* 0 when there is no mark */
};

static void
where (const char *text, size_t offset, unsigned *line, unsigned *column)
{
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset; i++)
    {
      if (text[i] == '\n')
        {
          (*line)++;
          *column = 1;
        }
      else
        (*column)++;
    }
}

/* {'ociVersion': ..., 'linux': {'seccomp': <profile>}} parsed as config.json. */
static struct parsed
parse_profile (const char *profile)
{
  struct parsed out = { 0 };
  static const char head[] = "{'ociVersion': '1.2.0', 'linux': {'seccomp': ";
  size_t length = strlen (head) + strlen (profile) + 3;
  char *text = malloc (length);
  snprintf (text, length, "%s%s}}", head, profile);
  char *mark = strchr (text, MARK);
  if (mark)
    {
      where (text, mark - text, &out.mark_line, &out.mark_column);
      memmove (mark, mark + 1, strlen (mark));
    }
  for (char *p = text; *p; p++)
    if (*p == '\'')
      *p = '"';
  struct ward_error *err = NULL;
  if (spec_parse ("config.json", text, strlen (text), &out.spec, &err) < 0)
    {
      printf ("  unexpected spec error: %s\n", err->message);
      ward_error_free (&err);
    }
  free (text);
  return out;
}

static struct seccomp_program *
compile_at (const char *file, int line, const char *profile)
{
  struct parsed p = parse_profile (profile);
  struct seccomp_program *program = NULL;
  struct ward_error *err = NULL;
  if (p.spec == NULL)
    {
      harness_check (false, file, line, "profile parses");
      return NULL;
    }
  if (seccomp_compile (p.spec->doc, p.spec->linux_config.seccomp, &program, &err) < 0)
    {
      printf ("  unexpected error: %s\n", err->message);
      harness_check (false, file, line, "seccomp_compile succeeds");
      ward_error_free (&err);
    }
  else
    harness_check (program != NULL, file, line, "program != NULL");
  spec_free (p.spec);
  return program;
}

/* Expect `message`, followed by the position of the '@' when there is one. */
static void
check_error_at (const char *file, int line, const char *profile, const char *message)
{
  struct parsed p = parse_profile (profile);
  struct seccomp_program *program = NULL;
  struct ward_error *err = NULL;
  char expected[1024];
  if (p.mark_line)
    snprintf (expected, sizeof expected, "%s at line %u, column %u", message, p.mark_line, p.mark_column);
  else
    snprintf (expected, sizeof expected, "%s", message);
  if (p.spec == NULL)
    harness_check (false, file, line, "profile parses");
  else if (seccomp_compile (p.spec->doc, p.spec->linux_config.seccomp, &program, &err) != -1 || err == NULL)
    {
      harness_check (false, file, line, "seccomp_compile fails");
      printf ("    expected: \"%s\"\n", expected);
    }
  else
    {
      harness_check_str (err->message, expected, file, line, "message", "expected");
      harness_check (program == NULL, file, line, "program == NULL");
    }
  ward_error_free (&err);
  seccomp_program_free (program);
  spec_free (p.spec);
}

#define COMPILE(profile) compile_at (__FILE__, __LINE__, (profile))
#define CHECK_ERROR(profile, message) check_error_at (__FILE__, __LINE__, (profile), (message))
#define CHECK_COMPILES(profile) seccomp_program_free (COMPILE (profile))

/* ---- profiles that compile ---------------------------------------------- */

TEST (absent_seccomp_is_no_program)
{
  struct parsed p = parse_profile ("null");
  REQUIRE (p.spec != NULL);
  struct seccomp_program *program = (struct seccomp_program *)1;
  struct ward_error *err = NULL;
  CHECK_INT_EQ (seccomp_compile (p.spec->doc, p.spec->linux_config.seccomp, &program, &err), 0);
  CHECK (program == NULL);
  CHECK (err == NULL);
  CHECK (!seccomp_uses_notify (NULL));
  spec_free (p.spec);
}

TEST (every_action)
{
  static const char *const actions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE",        "SCMP_ACT_LOG",
  };
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
    {
      char profile[256];
      snprintf (profile, sizeof profile,
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': '%s'}]}",
                actions[i]);
      struct seccomp_program *program = COMPILE (profile);
      if (!CHECK (program != NULL))
        printf ("    action %s\n", actions[i]);
      else
        CHECK (!seccomp_uses_notify (program));
      seccomp_program_free (program);
    }
  CHECK_COMPILES (
      "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW'}]}");
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_KILL_PROCESS', 'defaultErrnoRet': null}");
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38}");
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_TRACE', 'defaultErrnoRet': 1}");
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_LOG'}");
}

TEST (errno_ret_on_rules)
{
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                  "{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38},"
                  "{'names': ['rmdir'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 0},"
                  "{'names': ['chmod'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 4094},"
                  "{'names': ['fchmod'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 65535}]}");
}

TEST (notify_and_listener)
{
  struct seccomp_program *program
      = COMPILE ("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock',"
                 " 'listenerMetadata': 'MKNOD=/dev/null',"
                 " 'syscalls': [{'names': ['mknod', 'mknodat'], 'action': 'SCMP_ACT_NOTIFY'}]}");
  REQUIRE (program != NULL);
  CHECK (seccomp_uses_notify (program));
  CHECK_STR_EQ (seccomp_listener_path (program), "/run/agent.sock");
  CHECK_STR_EQ (seccomp_listener_metadata (program), "MKNOD=/dev/null");
  seccomp_program_free (program);

  /* A listener without notify rules is simply not used. */
  program = COMPILE ("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock'}");
  REQUIRE (program != NULL);
  CHECK (!seccomp_uses_notify (program));
  CHECK_STR_EQ (seccomp_listener_metadata (program), NULL);
  seccomp_program_free (program);
}

TEST (every_operator)
{
  static const char *const ops[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    {
      char profile[512];
      snprintf (profile, sizeof profile,
                "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['personality'], 'action': "
                "'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 8, 'valueTwo': 8, 'op': '%s'}]}]}",
                ops[i]);
      struct seccomp_program *program = COMPILE (profile);
      if (!CHECK (program != NULL))
        printf ("    operator %s\n", ops[i]);
      seccomp_program_free (program);
    }
  /* All six arguments at once, full 64-bit values, and valueTwo left out. */
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mmap'], 'action': "
                  "'SCMP_ACT_ERRNO', 'args': ["
                  "{'index': 0, 'value': 18446744073709551615, 'op': 'SCMP_CMP_NE'},"
                  "{'index': 1, 'value': 1, 'op': 'SCMP_CMP_GE'},"
                  "{'index': 2, 'value': 4, 'valueTwo': 4, 'op': 'SCMP_CMP_MASKED_EQ'},"
                  "{'index': 3, 'value': 2, 'op': 'SCMP_CMP_EQ'},"
                  "{'index': 4, 'value': 0, 'op': 'SCMP_CMP_LE'},"
                  "{'index': 5, 'value': 4096, 'op': 'SCMP_CMP_LT'}]}]}");
  /* Same index twice: runc's "one rule per entry", not libseccomp's EINVAL. */
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['personality'], 'action': "
                  "'SCMP_ACT_ERRNO', 'args': ["
                  "{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
                  "{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'}]}]}");
}

TEST (architectures)
{
  CHECK_COMPILES (
      "{'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', "
      "'SCMP_ARCH_X32'], 'syscalls': [{'names': ['read', 'socketcall'], 'action': 'SCMP_ACT_ALLOW'}]}");
  /* Foreign architectures are accepted too (the native one is always in). */
  CHECK_COMPILES (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', "
      "'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32'],"
      " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'}]}");
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': []}");
}

TEST (flags)
{
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', "
                  "'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']}");
  /* It only qualifies a listener: without notify rules it is dropped. */
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}");
}

TEST (unknown_names_that_are_safe_to_skip)
{
  /* Denied by default anyway: an allow rule for it adds nothing. */
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
                  "{'names': ['read', 'ward_no_such_call', 'write'], 'action': 'SCMP_ACT_ALLOW'}]}");
  /* Killed by default: an errno rule would only have been milder. */
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_KILL_PROCESS', 'syscalls': ["
                  "{'names': ['ward_no_such_call'], 'action': 'SCMP_ACT_ERRNO'}]}");
  /* Same strictness: an errno rule under an errno default. */
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
                  "{'names': ['ward_no_such_call'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38}]}");
  /* A rule equal to the default is a no-op, known name or not. */
  CHECK_COMPILES ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                  "{'names': ['read', 'ward_no_such_call'], 'action': 'SCMP_ACT_ALLOW'}]}");
}

/* ---- profiles that are refused ------------------------------------------ */

TEST (error_actions)
{
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': @'SCMP_ACT_FOO'}]}",
      "config.json: linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\"");
  CHECK_ERROR ("{'defaultAction': @'ALLOW'}",
               "config.json: linux.seccomp.defaultAction: unknown action \"ALLOW\"");
  CHECK_ERROR ("{'syscalls': []}", "config.json: linux.seccomp.defaultAction: required field is missing");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir']}]}",
               "config.json: linux.seccomp.syscalls[0].action: required field is missing");
  CHECK_ERROR ("{'defaultAction': @7}", "config.json: linux.seccomp.defaultAction: expected a string");
  CHECK_ERROR ("{'defaultAction': @'SCMP_ACT_NOTIFY', 'listenerPath': '/run/a.sock'}",
               "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
}

TEST (error_errno_ret)
{
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [\n"
      "  {'names': ['read'], 'action': 'SCMP_ACT_ALLOW', 'errnoRet': @1}]}",
      "config.json: linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an "
      "errno, not SCMP_ACT_ALLOW");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_KILL', 'defaultErrnoRet': @1}",
      "config.json: linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, "
      "not SCMP_ACT_KILL");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', "
      "'errnoRet': @4095}]}",
      "config.json: linux.seccomp.syscalls[0].errnoRet: 4095 is out of range for SCMP_ACT_ERRNO (at most "
      "4094)");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_TRACE', 'defaultErrnoRet': @65536}",
      "config.json: linux.seccomp.defaultErrnoRet: 65536 is out of range for SCMP_ACT_TRACE (at most "
      "65535)");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': @-1}",
               "config.json: linux.seccomp.defaultErrnoRet: expected a non-negative integer, got -1");
}

TEST (error_args)
{
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [\n"
               "  {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'},\n"
               "  {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'},\n"
               "  {'names': ['socket'], 'action': 'SCMP_ACT_ERRNO',\n"
               "   'args': [{'index': 0, 'value': 2, 'op': @'SCMP_CMP_FOO'}]}]}",
               "config.json: linux.seccomp.syscalls[2].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['socket'], 'action': 'SCMP_ACT_ERRNO',"
      " 'args': [{'index': 0, 'value': 2, 'op': 'SCMP_CMP_EQ'}, {'index': @6, 'value': 2, 'op': "
      "'SCMP_CMP_EQ'}]}]}",
      "config.json: linux.seccomp.syscalls[0].args[1].index: 6 is out of range (0 to 5)");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['socket'], 'action': 'SCMP_ACT_ERRNO',"
      " 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]}]}",
      "config.json: linux.seccomp.syscalls[0].args[0].value: required field is missing");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['socket'], 'action': 'SCMP_ACT_ERRNO',"
      " 'args': [{'index': 0, 'value': 2}]}]}",
      "config.json: linux.seccomp.syscalls[0].args[0].op: required field is missing");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['socket'], 'action': 'SCMP_ACT_ERRNO',"
      " 'args': [@'index 0']}]}",
      "config.json: linux.seccomp.syscalls[0].args[0]: expected an object");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['socket'], 'action': 'SCMP_ACT_ERRNO',"
      " 'args': [{'index': 0, 'value': @2.5, 'op': 'SCMP_CMP_EQ'}]}]}",
      "config.json: linux.seccomp.syscalls[0].args[0].value: expected a non-negative integer, got 2.5");
}

TEST (error_names)
{
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': @[], 'action': 'SCMP_ACT_ERRNO'}]}",
      "config.json: linux.seccomp.syscalls[0].names: expected at least one syscall name");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'action': 'SCMP_ACT_ERRNO'}]}",
               "config.json: linux.seccomp.syscalls[0].names: required field is missing");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir', @3], 'action': "
               "'SCMP_ACT_ERRNO'}]}",
               "config.json: linux.seccomp.syscalls[0].names[1]: expected a string");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [@''], 'action': 'SCMP_ACT_ERRNO'}]}",
      "config.json: linux.seccomp.syscalls[0].names[0]: expected a syscall name, got an empty string");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': @{'names': ['mkdir']}}",
               "config.json: linux.seccomp.syscalls: expected an array");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [@'mkdir']}",
               "config.json: linux.seccomp.syscalls[0]: expected an object");
}

TEST (error_unknown_name_stricter_than_default)
{
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [\n"
      "  {'names': ['mkdir', @'ward_no_such_call'], 'action': 'SCMP_ACT_ERRNO'}]}",
      "config.json: linux.seccomp.syscalls[0].names[1]: unknown syscall \"ward_no_such_call\": skipping "
      "its SCMP_ACT_ERRNO rule would leave it to the less strict default action SCMP_ACT_ALLOW");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [\n"
      "  {'names': [@'ward_no_such_call'], 'action': 'SCMP_ACT_KILL_PROCESS'}]}",
      "config.json: linux.seccomp.syscalls[0].names[0]: unknown syscall \"ward_no_such_call\": skipping "
      "its SCMP_ACT_KILL_PROCESS rule would leave it to the less strict default action SCMP_ACT_ERRNO");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_LOG', 'syscalls': [\n"
      "  {'names': [@'ward_no_such_call'], 'action': 'SCMP_ACT_TRAP'}]}",
      "config.json: linux.seccomp.syscalls[0].names[0]: unknown syscall \"ward_no_such_call\": skipping "
      "its SCMP_ACT_TRAP rule would leave it to the less strict default action SCMP_ACT_LOG");
}

TEST (error_architectures_and_flags)
{
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86', @'SCMP_ARCH_VAX']}",
               "config.json: linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
  /* libseccomp keeps one byte order per filter. */
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': [@'SCMP_ARCH_S390X']}",
      "config.json: linux.seccomp.architectures[0]: SCMP_ARCH_S390X cannot share a filter with the native "
      "architecture (different byte order)");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': [@'x86_64']}",
               "config.json: linux.seccomp.architectures[0]: unknown architecture \"x86_64\"");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': [@'SECCOMP_FILTER_FLAG_NEW_LISTENER']}",
               "config.json: linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': @'SECCOMP_FILTER_FLAG_LOG'}",
               "config.json: linux.seccomp.flags: expected an array");
}

TEST (error_listener)
{
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerMetadata': @'x'}",
               "config.json: linux.seccomp.listenerMetadata: is set without listenerPath");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': @''}",
               "config.json: linux.seccomp.listenerPath: must not be empty");
  CHECK_ERROR ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mknod'], 'action': "
               "'SCMP_ACT_NOTIFY'}]}",
               "config.json: linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
  CHECK_ERROR (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/a.sock', 'syscalls': [\n"
      "  {'names': ['mknod', @'sendmsg'], 'action': 'SCMP_ACT_NOTIFY'}]}",
      "config.json: linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot apply to \"sendmsg\": the "
      "init needs it to pass the listener fd on");
}

TEST (error_not_an_object)
{
  struct parsed p = parse_profile ("{'defaultAction': @'SCMP_ACT_ALLOW'}");
  REQUIRE (p.spec != NULL);
  struct seccomp_program *program = NULL;
  struct ward_error *err = NULL;
  const struct json_value *not_object = json_object_get (p.spec->linux_config.seccomp, "defaultAction");
  char expected[256];
  snprintf (expected, sizeof expected, "config.json: linux.seccomp: expected an object at line %u, column %u",
            p.mark_line, p.mark_column);
  CHECK_INT_EQ (seccomp_compile (p.spec->doc, not_object, &program, &err), -1);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message, expected);
  ward_error_free (&err);
  spec_free (p.spec);
}

/* ---- the compiled program at work --------------------------------------- */

/* Load `program` in a child with no_new_privs, run `probe` there and
 * return its exit status (or 128 + the signal that ended it). */
static int
in_filtered_child (const struct seccomp_program *program, int (*probe) (int notify_fd))
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid == 0)
    {
      struct ward_error *err = NULL;
      int notify_fd = -1;
      /* Killed children must not leave core files behind. */
      setrlimit (RLIMIT_CORE, &(struct rlimit){ 0, 0 });
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_program_load (program, &notify_fd, &err) < 0)
        {
          printf ("  load failed: %s\n", err ? err->message : strerror (errno));
          _exit (100);
        }
      _exit (probe (notify_fd));
    }
  int status = 0;
  if (pid < 0 || waitpid (pid, &status, 0) != pid)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* errno of a syscall expected to fail, 0 if it succeeded. */
static int
errno_of (long ret)
{
  return ret < 0 ? errno : 0;
}

static int
probe_errnos (int notify_fd)
{
  (void)notify_fd;
  /* mkdirat → ENOSYS (38); dup(1000) or dup(1001) → ENOTSUP via the
   * same-index OR rule, dup(1002) the ordinary EBADF; dup3 only when both
   * of its compared arguments match (AND); O_CLOEXEC masked in flags. */
  if (errno_of (syscall (SYS_mkdirat, AT_FDCWD, "/nonexistent/x", 0700)) != ENOSYS)
    return 1;
  if (errno_of (syscall (SYS_dup, 1000)) != ENOTSUP || errno_of (syscall (SYS_dup, 1001)) != ENOTSUP)
    return 2;
  if (errno_of (syscall (SYS_dup, 1002)) != EBADF)
    return 3;
  if (errno_of (syscall (SYS_dup3, 1000, 7, 0)) != EXDEV
      || errno_of (syscall (SYS_dup3, 1000, 8, 0)) != EBADF)
    return 4;
  if (errno_of (syscall (SYS_dup3, 1003, 9, O_CLOEXEC)) != ENOMSG
      || errno_of (syscall (SYS_dup3, 1003, 9, 0)) != EBADF)
    return 5;
  return 0;
}

TEST (loaded_filter_returns_errnos)
{
  struct seccomp_program *program = COMPILE (
      "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
      "{'names': ['mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38},"
      "{'names': ['dup'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 95, 'args': ["
      "  {'index': 0, 'value': 1000, 'op': 'SCMP_CMP_EQ'}, {'index': 0, 'value': 1001, 'op': "
      "'SCMP_CMP_EQ'}]},"
      "{'names': ['dup3'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18, 'args': ["
      "  {'index': 0, 'value': 1000, 'op': 'SCMP_CMP_EQ'}, {'index': 1, 'value': 7, 'op': 'SCMP_CMP_EQ'}]},"
      "{'names': ['dup3'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 42, 'args': ["
      "  {'index': 2, 'value': 524288, 'valueTwo': 524288, 'op': 'SCMP_CMP_MASKED_EQ'}]}]}");
  REQUIRE (program != NULL);
  CHECK_INT_EQ (in_filtered_child (program, probe_errnos), 0);
  seccomp_program_free (program);
}

static int
probe_getppid (int notify_fd)
{
  (void)notify_fd;
  syscall (SYS_getppid);
  return 0;
}

TEST (loaded_filter_kills)
{
  struct seccomp_program *program = COMPILE ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
                                             "['getppid'], 'action': 'SCMP_ACT_KILL_PROCESS'}]}");
  REQUIRE (program != NULL);
  CHECK_INT_EQ (in_filtered_child (program, probe_getppid), 128 + SIGSYS);
  seccomp_program_free (program);

  program = COMPILE ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['getppid'], 'action': "
                     "'SCMP_ACT_TRAP'}]}");
  REQUIRE (program != NULL);
  CHECK_INT_EQ (in_filtered_child (program, probe_getppid), 128 + SIGSYS);
  seccomp_program_free (program);
}

static int
probe_notify_fd (int notify_fd)
{
  /* The listener fd came back, and is one (the ioctl answers). */
  if (notify_fd < 0)
    return 1;
  uint64_t id = 0;
  if (ioctl (notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno != ENOENT)
    return 2;
  return 0;
}

static int
probe_no_notify_fd (int notify_fd)
{
  return notify_fd == -1 ? 0 : 1;
}

TEST (loaded_filter_with_listener)
{
  struct seccomp_program *program
      = COMPILE ("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/a.sock',"
                 " 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],"
                 " 'syscalls': [{'names': ['mknodat'], 'action': 'SCMP_ACT_NOTIFY'}]}");
  REQUIRE (program != NULL);
  CHECK_INT_EQ (in_filtered_child (program, probe_notify_fd), 0);
  seccomp_program_free (program);

  program = COMPILE ("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', "
                     "'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', "
                     "'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}");
  REQUIRE (program != NULL);
  CHECK_INT_EQ (in_filtered_child (program, probe_no_notify_fd), 0);
  seccomp_program_free (program);
}

/* ---- the listener handoff ----------------------------------------------- */

static int
listen_at (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf (addr.sun_path, sizeof addr.sun_path, "%s", path);
  int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || bind (sock, (struct sockaddr *)&addr, sizeof addr) < 0 || listen (sock, 1) < 0)
    return -1;
  return sock;
}

/* Accept one connection and read all of it, with the fd it carried. */
static char *
receive_all (int listener, int *fd)
{
  int conn = accept (listener, NULL, NULL);
  if (conn < 0)
    return NULL;
  static char buffer[8192];
  union
  {
    char control[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = buffer, .iov_len = sizeof buffer - 1 };
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.control, .msg_controllen = sizeof u };
  ssize_t n = recvmsg (conn, &msg, MSG_CMSG_CLOEXEC);
  size_t total = n > 0 ? (size_t)n : 0;
  struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR (&msg) : NULL;
  *fd = -1;
  if (cmsg && cmsg->cmsg_type == SCM_RIGHTS)
    memcpy (fd, CMSG_DATA (cmsg), sizeof *fd);
  while (n > 0 && total < sizeof buffer - 1
         && (n = read (conn, buffer + total, sizeof buffer - 1 - total)) > 0)
    total += n;
  buffer[total] = '\0';
  close (conn);
  return buffer;
}

/* Hand a pipe's read end to a listener at `socket_path` (bound as `bound_as`)
 * and check the exact message and that the fd arrived. */
static void
check_handoff (const char *socket_path, const char *bound_as, const char *metadata)
{
  char profile[1024], expected[1024], metadata_member[128] = "", metadata_field[128] = "";
  if (metadata)
    {
      snprintf (metadata_member, sizeof metadata_member, " 'listenerMetadata': '%s',", metadata);
      snprintf (metadata_field, sizeof metadata_field, "\"metadata\":\"%s\",", metadata);
    }
  snprintf (profile, sizeof profile,
            "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s',%s"
            " 'syscalls': [{'names': ['mknod'], 'action': 'SCMP_ACT_NOTIFY'}]}",
            socket_path, metadata_member);
  struct seccomp_program *program = COMPILE (profile);
  int listener = listen_at (bound_as);
  int pipe_fds[2];
  REQUIRE (program != NULL && listener >= 0 && pipe (pipe_fds) == 0);
  struct ward_error *err = NULL;
  const char *state = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":4242,"
                      "\"bundle\":\"/b\"}";
  CHECK_INT_EQ (seccomp_send_to_listener (program, pipe_fds[0], 4242, state, &err), 0);
  if (err)
    printf ("  %s\n", err->message);
  ward_error_free (&err);
  int fd = -1;
  const char *got = receive_all (listener, &fd);
  snprintf (expected, sizeof expected,
            "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":4242,%s\"state\":%s}", WARD_OCI_VERSION,
            metadata_field, state);
  CHECK_STR_EQ (got, expected);
  /* The fd is the pipe's read end: what goes in one end comes out of it. */
  CHECK (fd >= 0 && write (pipe_fds[1], "x", 1) == 1);
  char byte = 0;
  CHECK (fd >= 0 && read (fd, &byte, 1) == 1 && byte == 'x');
  close (fd);
  close (pipe_fds[0]);
  close (pipe_fds[1]);
  close (listener);
  unlink (bound_as);
  seccomp_program_free (program);
}

TEST (send_to_listener)
{
  char dir[] = "/tmp/ward-test-seccomp-XXXXXX";
  REQUIRE (mkdtemp (dir) != NULL);
  char path[128];
  snprintf (path, sizeof path, "%s/agent.sock", dir);
  check_handoff (path, path, "MKNOD=/dev/null");
  check_handoff (path, path, NULL);

  /* Longer than sun_path: ward reaches it through the directory's fd; the
   * listener binds it by a name relative to that directory. */
  char deep[256], long_path[512];
  snprintf (deep, sizeof deep, "%s/%0120d", dir, 0);
  snprintf (long_path, sizeof long_path, "%s/agent.sock", deep);
  REQUIRE (mkdir (deep, 0700) == 0);
  char cwd[4096];
  REQUIRE (getcwd (cwd, sizeof cwd) != NULL && chdir (deep) == 0);
  check_handoff (long_path, "agent.sock", NULL);
  CHECK (chdir (cwd) == 0);
  rmdir (deep);
  rmdir (dir);
}

TEST (send_to_listener_errors)
{
  struct seccomp_program *program
      = COMPILE ("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/nonexistent/agent.sock',"
                 " 'syscalls': [{'names': ['mknod'], 'action': 'SCMP_ACT_NOTIFY'}]}");
  REQUIRE (program != NULL);
  struct ward_error *err = NULL;
  CHECK_INT_EQ (seccomp_send_to_listener (program, 0, 1, "{\"id\":\"c1\"}", &err), -1);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message,
                  "seccomp listener: connect to /nonexistent/agent.sock: No such file or directory");
  ward_error_free (&err);

  CHECK_INT_EQ (seccomp_send_to_listener (program, 0, 1, "[]", &err), -1);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message,
                  "seccomp listener /nonexistent/agent.sock: container state: expected an object");
  ward_error_free (&err);
  seccomp_program_free (program);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (absent_seccomp_is_no_program),
  TEST_ENTRY (every_action),
  TEST_ENTRY (errno_ret_on_rules),
  TEST_ENTRY (notify_and_listener),
  TEST_ENTRY (every_operator),
  TEST_ENTRY (architectures),
  TEST_ENTRY (flags),
  TEST_ENTRY (unknown_names_that_are_safe_to_skip),
  TEST_ENTRY (error_actions),
  TEST_ENTRY (error_errno_ret),
  TEST_ENTRY (error_args),
  TEST_ENTRY (error_names),
  TEST_ENTRY (error_unknown_name_stricter_than_default),
  TEST_ENTRY (error_architectures_and_flags),
  TEST_ENTRY (error_listener),
  TEST_ENTRY (error_not_an_object),
  TEST_ENTRY (loaded_filter_returns_errnos),
  TEST_ENTRY (loaded_filter_kills),
  TEST_ENTRY (loaded_filter_with_listener),
  TEST_ENTRY (send_to_listener),
  TEST_ENTRY (send_to_listener_errors),
};

HARNESS_MAIN (tests)
