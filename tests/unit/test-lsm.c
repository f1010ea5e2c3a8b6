/* AppArmor and SELinux labels: a label asked for on a host (or a build)
 * that cannot apply it is refused with a message naming the label and what
 * is missing, whatever the host this test runs on; and linux.mountLabel
 * reaches the mount data of the filesystems that take a context. */
#include "config.h"
#include "harness.h"
#include "lsm.h"
#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct spec *
parse (const char *text)
{
  struct spec *spec = NULL;
  struct ward_error *err = NULL;
  if (spec_parse ("config.json", text, strlen (text), &spec, &err) < 0)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  return spec;
}

/* A spec asking for the given labels; NULL leaves the field out. */
static struct spec *
spec_with_labels (const char *profile, const char *selinux_label, const char *mount_label)
{
  char process[512], linux_section[256];
  snprintf (process, sizeof process, "{\"args\": [\"true\"]%s%s%s%s%s%s}",
            profile ? ", \"apparmorProfile\": \"" : "", profile ? profile : "", profile ? "\"" : "",
            selinux_label ? ", \"selinuxLabel\": \"" : "", selinux_label ? selinux_label : "",
            selinux_label ? "\"" : "");
  snprintf (linux_section, sizeof linux_section, "{%s%s%s}", mount_label ? "\"mountLabel\": \"" : "",
            mount_label ? mount_label : "", mount_label ? "\"" : "");
  char text[1024];
  snprintf (text, sizeof text, "{\"ociVersion\": \"1.2.0\", \"process\": %s, \"linux\": %s}", process,
            linux_section);
  return parse (text);
}

/* Both LSMs alike: `enabled` on the host, `compiled_in` to ward. */
static struct lsm_host
host (bool enabled, bool compiled_in)
{
  return (struct lsm_host){ .apparmor_compiled_in = compiled_in,
                            .apparmor_enabled = enabled,
                            .selinux_compiled_in = compiled_in,
                            .selinux_enabled = enabled };
}

static void
check_validate_at (const char *file, int line, struct spec *spec, struct lsm_host h, const char *expected)
{
  struct ward_error *err = NULL;
  if (spec == NULL)
    {
      harness_check (false, file, line, "spec parsed");
      return;
    }
  int ret = lsm_validate_for_host (spec, &h, &err);
  if (expected == NULL)
    {
      harness_check (ret == 0, file, line, "lsm_validate_for_host succeeded");
      if (err)
        printf ("    unexpected error: %s\n", err->message);
    }
  else if (harness_check (ret == -1 && err != NULL, file, line, "lsm_validate_for_host failed"))
    harness_check_str (err->message, expected, file, line, "message", "expected");
  ward_error_free (&err);
  spec_free (spec);
}

#define CHECK_VALIDATE(spec, host, expected)                                                                 \
  check_validate_at (__FILE__, __LINE__, (spec), (host), (expected))

TEST (nothing_requested_passes_anywhere)
{
  for (int enabled = 0; enabled <= 1; enabled++)
    for (int compiled_in = 0; compiled_in <= 1; compiled_in++)
      {
        CHECK_VALIDATE (spec_with_labels (NULL, NULL, NULL), host (enabled, compiled_in), NULL);
        /* Empty strings are "unset", as generators write them. */
        CHECK_VALIDATE (spec_with_labels ("", "", ""), host (enabled, compiled_in), NULL);
      }
  /* No process (create-only tools) and no linux section at all. */
  struct lsm_host none = host (false, false);
  CHECK_VALIDATE (parse ("{\"ociVersion\": \"1.2.0\"}"), none, NULL);

  /* The real host, whatever it offers. */
  struct spec *spec = spec_with_labels ("", NULL, NULL);
  struct ward_error *err = NULL;
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (lsm_validate (spec, &err), 0);
  spec_free (spec);
}

TEST (apparmor_decision_table)
{
  CHECK_VALIDATE (spec_with_labels ("x", NULL, NULL), host (true, true), NULL);
  CHECK_VALIDATE (spec_with_labels ("x", NULL, NULL), host (false, true),
                  "apparmor profile \"x\" requested but AppArmor is not enabled on this host");
  CHECK_VALIDATE (spec_with_labels ("x", NULL, NULL), host (true, false),
                  "apparmor profile \"x\" requested but ward was built without AppArmor support");
  /* Neither: the host is named, since rebuilding ward would not help. */
  CHECK_VALIDATE (spec_with_labels ("x", NULL, NULL), host (false, false),
                  "apparmor profile \"x\" requested but AppArmor is not enabled on this host");
}

TEST (selinux_label_decision_table)
{
  const char *label = "system_u:system_r:container_t:s0:c1,c2";
  CHECK_VALIDATE (spec_with_labels (NULL, label, NULL), host (true, true), NULL);
  CHECK_VALIDATE (spec_with_labels (NULL, label, NULL), host (false, true),
                  "selinux label \"system_u:system_r:container_t:s0:c1,c2\" requested but SELinux is not "
                  "enabled on this host");
  CHECK_VALIDATE (spec_with_labels (NULL, label, NULL), host (true, false),
                  "selinux label \"system_u:system_r:container_t:s0:c1,c2\" requested but ward was built "
                  "without SELinux support");
  CHECK_VALIDATE (spec_with_labels (NULL, label, NULL), host (false, false),
                  "selinux label \"system_u:system_r:container_t:s0:c1,c2\" requested but SELinux is not "
                  "enabled on this host");
}

TEST (mount_label_decision_table)
{
  const char *label = "system_u:object_r:container_file_t:s0";
  CHECK_VALIDATE (spec_with_labels (NULL, NULL, label), host (true, true), NULL);
  CHECK_VALIDATE (spec_with_labels (NULL, NULL, label), host (false, true),
                  "linux.mountLabel \"system_u:object_r:container_file_t:s0\" requested but SELinux is not "
                  "enabled on this host");
  CHECK_VALIDATE (spec_with_labels (NULL, NULL, label), host (true, false),
                  "linux.mountLabel \"system_u:object_r:container_file_t:s0\" requested but ward was built "
                  "without SELinux support");
  CHECK_VALIDATE (spec_with_labels (NULL, NULL, label), host (false, false),
                  "linux.mountLabel \"system_u:object_r:container_file_t:s0\" requested but SELinux is not "
                  "enabled on this host");
}

TEST (each_lsm_is_judged_on_its_own)
{
  /* AppArmor present, SELinux absent: only the SELinux request fails. */
  struct lsm_host apparmor_only = { .apparmor_compiled_in = true,
                                    .apparmor_enabled = true,
                                    .selinux_compiled_in = true,
                                    .selinux_enabled = false };
  CHECK_VALIDATE (spec_with_labels ("x", NULL, NULL), apparmor_only, NULL);
  CHECK_VALIDATE (spec_with_labels ("x", "a:b:c:s0", NULL), apparmor_only,
                  "selinux label \"a:b:c:s0\" requested but SELinux is not enabled on this host");
  CHECK_VALIDATE (spec_with_labels ("x", NULL, "a:b:c:s0"), apparmor_only,
                  "linux.mountLabel \"a:b:c:s0\" requested but SELinux is not enabled on this host");

  struct lsm_host selinux_only = { .apparmor_compiled_in = false,
                                   .apparmor_enabled = true,
                                   .selinux_compiled_in = true,
                                   .selinux_enabled = true };
  CHECK_VALIDATE (spec_with_labels (NULL, "a:b:c:s0", "a:b:c:s0"), selinux_only, NULL);
  CHECK_VALIDATE (spec_with_labels ("x", "a:b:c:s0", NULL), selinux_only,
                  "apparmor profile \"x\" requested but ward was built without AppArmor support");
}

TEST (mount_label_with_quote_is_refused)
{
  /* The label lands inside context="..."; a quote would end it early. */
  CHECK_VALIDATE (spec_with_labels (NULL, NULL, "a:b:c:s0\\\",size=1"), host (true, true),
                  "linux.mountLabel \"a:b:c:s0\",size=1\": a label cannot contain a double quote");
}

TEST (apply_with_nothing_requested_is_a_no_op)
{
  struct ward_error *err = NULL;
  CHECK_INT_EQ (lsm_apply_exec_labels (NULL, &err), 0);
  struct spec *spec = spec_with_labels ("", "", NULL);
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (lsm_apply_exec_labels (spec->process, &err), 0);
  CHECK (err == NULL);
  spec_free (spec);
}

/* Whatever the host: an unknown profile or an invalid context cannot be
 * set, and the error names it.  Nothing is executed afterwards, so a label
 * that did stick would change nothing. */
TEST (apply_failure_names_the_label)
{
  struct ward_error *err = NULL;
  struct spec *spec = spec_with_labels ("ward-unit-test-no-such-profile", NULL, NULL);
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (lsm_apply_exec_labels (spec->process, &err), -1);
  REQUIRE (err != NULL);
#ifdef HAVE_APPARMOR
  const char *expected = "set apparmor profile \"ward-unit-test-no-such-profile\" for exec: ";
  CHECK (strncmp (err->message, expected, strlen (expected)) == 0);
#else
  CHECK_STR_EQ (err->message,
                "apparmor profile \"ward-unit-test-no-such-profile\" requested but ward was "
                "built without AppArmor support");
#endif
  ward_error_free (&err);
  spec_free (spec);

  spec = spec_with_labels (NULL, "ward_unit_test_not_a_context", NULL);
  REQUIRE (spec != NULL);
  CHECK_INT_EQ (lsm_apply_exec_labels (spec->process, &err), -1);
  REQUIRE (err != NULL);
#ifdef HAVE_SELINUX
  expected = "set selinux label \"ward_unit_test_not_a_context\" for exec: ";
  CHECK (strncmp (err->message, expected, strlen (expected)) == 0);
#else
  CHECK_STR_EQ (err->message,
                "selinux label \"ward_unit_test_not_a_context\" requested but ward was built "
                "without SELinux support");
#endif
  ward_error_free (&err);
  spec_free (spec);
}

static void
check_mount_data_at (const char *file, int line, const char *mount_label, const char *fs_type,
                     const char *data, const char *expected)
{
  struct spec *spec = spec_with_labels (NULL, NULL, mount_label);
  struct ward_error *err = NULL;
  char *out = NULL;
  if (spec == NULL)
    {
      harness_check (false, file, line, "spec parsed");
      return;
    }
  int ret = lsm_mount_data (spec, fs_type, data, &out, &err);
  if (harness_check (ret == 0, file, line, "lsm_mount_data succeeded"))
    {
      harness_check_str (out, expected, file, line, "data", "expected");
      /* Always a copy the caller frees, never the input itself. */
      harness_check (out == NULL || out != data, file, line, "a copy");
    }
  else
    printf ("    unexpected error: %s\n", err ? err->message : "(none)");
  free (out);
  ward_error_free (&err);
  spec_free (spec);
}

#define CHECK_MOUNT_DATA(label, type, data, expected)                                                        \
  check_mount_data_at (__FILE__, __LINE__, (label), (type), (data), (expected))

TEST (mount_data_without_label_is_a_copy)
{
  CHECK_MOUNT_DATA (NULL, "tmpfs", "mode=755,size=65536k", "mode=755,size=65536k");
  CHECK_MOUNT_DATA ("", "tmpfs", "mode=755", "mode=755");
  CHECK_MOUNT_DATA (NULL, "tmpfs", NULL, NULL);
  CHECK_MOUNT_DATA (NULL, "proc", "", "");
}

TEST (mount_data_gets_the_context)
{
  const char *label = "system_u:object_r:container_file_t:s0:c1,c2";
  CHECK_MOUNT_DATA (label, "tmpfs", "mode=755,size=65536k",
                    "mode=755,size=65536k,context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
  CHECK_MOUNT_DATA (
      label, "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5",
      "newinstance,ptmxmode=0666,mode=0620,gid=5,context=\"system_u:object_r:container_file_t:s0:"
      "c1,c2\"");
  CHECK_MOUNT_DATA (label, "mqueue", NULL, "context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
  CHECK_MOUNT_DATA (label, "tmpfs", "", "context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
  CHECK_MOUNT_DATA (label, "ext4", "noatime",
                    "noatime,context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
}

TEST (mount_data_context_skipped_where_refused)
{
  const char *label = "system_u:object_r:container_file_t:s0";
  const char *types[] = { "proc", "sysfs", "cgroup", "cgroup2", "bind", "securityfs" };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    {
      CHECK_MOUNT_DATA (label, types[i], NULL, NULL);
      CHECK_MOUNT_DATA (label, types[i], "nsdelegate", "nsdelegate");
    }
  /* No type: a bind mount or a remount, which take no new context. */
  CHECK_MOUNT_DATA (label, NULL, "ro", "ro");
}

TEST (mount_data_own_context_wins)
{
  const char *label = "system_u:object_r:container_file_t:s0";
  CHECK_MOUNT_DATA (label, "tmpfs", "size=1m,context=\"u:r:t:s0:c1,c2\"",
                    "size=1m,context=\"u:r:t:s0:c1,c2\"");
  CHECK_MOUNT_DATA (label, "tmpfs", "defcontext=u:r:t:s0", "defcontext=u:r:t:s0");
  CHECK_MOUNT_DATA (label, "tmpfs", "fscontext=u:r:t:s0,size=1m", "fscontext=u:r:t:s0,size=1m");
  CHECK_MOUNT_DATA (label, "tmpfs", "rootcontext=u:r:t:s0", "rootcontext=u:r:t:s0");
  /* "context=" inside a quoted value is not an option of its own. */
  CHECK_MOUNT_DATA (label, "tmpfs", "x=\"a,context=b\"",
                    "x=\"a,context=b\",context=\"system_u:object_r:container_file_t:s0\"");
}

TEST (mount_data_refuses_quote_in_label)
{
  struct spec *spec = spec_with_labels (NULL, NULL, "a\\\"b");
  REQUIRE (spec != NULL);
  struct ward_error *err = NULL;
  char *out = NULL;
  CHECK_INT_EQ (lsm_mount_data (spec, "tmpfs", "size=1m", &out, &err), -1);
  REQUIRE (err != NULL);
  CHECK_STR_EQ (err->message, "linux.mountLabel \"a\"b\": a label cannot contain a double quote");
  CHECK (out == NULL);
  ward_error_free (&err);
  spec_free (spec);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (nothing_requested_passes_anywhere),
  TEST_ENTRY (apparmor_decision_table),
  TEST_ENTRY (selinux_label_decision_table),
  TEST_ENTRY (mount_label_decision_table),
  TEST_ENTRY (each_lsm_is_judged_on_its_own),
  TEST_ENTRY (mount_label_with_quote_is_refused),
  TEST_ENTRY (apply_with_nothing_requested_is_a_no_op),
  TEST_ENTRY (apply_failure_names_the_label),
  TEST_ENTRY (mount_data_without_label_is_a_copy),
  TEST_ENTRY (mount_data_gets_the_context),
  TEST_ENTRY (mount_data_context_skipped_where_refused),
  TEST_ENTRY (mount_data_own_context_wins),
  TEST_ENTRY (mount_data_refuses_quote_in_label),
};

HARNESS_MAIN (tests)
