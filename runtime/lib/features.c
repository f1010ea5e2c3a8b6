/* The OCI runtime features document and the --version lines.  Every list
 * is read from the code that acts on it (spec.c's hook points and
 * namespaces, libcap's capability names), so the document cannot claim
 * what ward does not do; the mount option and seccomp names still wait for
 * mounts.c and seccomp.c to export theirs (see the TODO below). */
#include "config.h"
#include "runtime_features.h"
#include "json_writer.h"
#include "spec.h"
#include "spec_default.h"

#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The oldest runtime-spec whose configs ward runs. */
#define FEATURES_OCI_VERSION_MIN "1.0.0"

typedef void name_visitor (const char *name, void *ctx);

/* ---------------------------------------------------------------------------
 * TODO(lead): provisional copies of mounts.c's and seccomp.c's name tables.
 * Once mounts.c exports mount_options_each_name() and seccomp.c exports
 * seccomp_each_name() (same signatures as below), delete this block and
 * include mounts.h and seccomp.h instead, so each list lives in one place. */

static const char *const provisional_mount_options[] = {
  /* mounts.c: bind and rbind */
  "bind", "rbind",
  /* mounts.c: option_flags */
  "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async", "dirsync", "remount",
  "mand", "nomand", "noatime", "atime", "nodiratime", "diratime", "relatime", "norelatime", "strictatime",
  "nostrictatime", "lazytime", "nolazytime", "silent", "loud",
  /* mounts.c: propagation_flags */
  "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
  /* Not ignored_options (tmpcopyup, rro, ...): accepted, but nothing is done. */
};

static void
mount_options_each_name (name_visitor *visit, void *ctx)
{
  for (size_t i = 0; i < sizeof provisional_mount_options / sizeof provisional_mount_options[0]; i++)
    visit (provisional_mount_options[i], ctx);
}

enum seccomp_names
{
  SECCOMP_NAMES_ACTIONS,
  SECCOMP_NAMES_OPERATORS,
  SECCOMP_NAMES_ARCHITECTURES,
  SECCOMP_NAMES_FLAGS,
  SECCOMP_NAMES_SUPPORTED_FLAGS, /* the flags this kernel accepts */
};

static const char *const provisional_seccomp_actions[] = {
  "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",  "SCMP_ACT_NOTIFY",      "SCMP_ACT_TRACE",        "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRAP",  "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS",
};

static const char *const provisional_seccomp_operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static const char *const provisional_seccomp_architectures[] = {
  "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static const struct
{
  const char *name;
  unsigned int value;
} provisional_seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

/* seccomp.c's kernel_has_filter_flag: a NULL program fails with EFAULT for
 * a flag the kernel knows and EINVAL for one it does not. */
static bool
provisional_kernel_has_filter_flag (unsigned int flag)
{
  unsigned int probe = flag;
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long ret = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, NULL);
  return !(ret < 0 && errno == EINVAL);
}

static void
visit_all (const char *const *names, size_t count, name_visitor *visit, void *ctx)
{
  for (size_t i = 0; i < count; i++)
    visit (names[i], ctx);
}

#define VISIT_ALL(table, visit, ctx) visit_all ((table), sizeof (table) / sizeof ((table)[0]), (visit), (ctx))

static void
seccomp_each_name (enum seccomp_names which, name_visitor *visit, void *ctx)
{
  switch (which)
    {
    case SECCOMP_NAMES_ACTIONS:
      VISIT_ALL (provisional_seccomp_actions, visit, ctx);
      break;
    case SECCOMP_NAMES_OPERATORS:
      VISIT_ALL (provisional_seccomp_operators, visit, ctx);
      break;
    case SECCOMP_NAMES_ARCHITECTURES:
      VISIT_ALL (provisional_seccomp_architectures, visit, ctx);
      break;
    case SECCOMP_NAMES_FLAGS:
    case SECCOMP_NAMES_SUPPORTED_FLAGS:
      for (size_t i = 0; i < sizeof provisional_seccomp_flags / sizeof provisional_seccomp_flags[0]; i++)
        if (which == SECCOMP_NAMES_FLAGS
            || provisional_kernel_has_filter_flag (provisional_seccomp_flags[i].value))
          visit (provisional_seccomp_flags[i].name, ctx);
      break;
    }
}

/* End of the provisional block. */
/* --------------------------------------------------------------------------- */

/* Annotations ward itself reads, with their defaults (values are strings). */
static const struct
{
  const char *key;
  const char *value;
} ward_annotations[] = {
  { "run.ward.policy", "" },
  { "run.ward.egress", "" },
  { "run.ward.timeout", "" },
  { "run.ward.cpu-seconds", "" },
  { "run.ward.egress-bytes", "" },
  { "run.ward.budget", "" },
  /* Engines look for runc's key to decide whether to offer checkpointing. */
  { "org.opencontainers.runc.checkpoint.enabled", "false" },
  { "io.github.ward.version", PACKAGE_VERSION },
};

#ifdef HAVE_APPARMOR
#define FEATURES_APPARMOR true
#else
#define FEATURES_APPARMOR false
#endif
#ifdef HAVE_SELINUX
#define FEATURES_SELINUX true
#else
#define FEATURES_SELINUX false
#endif

static void
write_name (const char *name, void *ctx)
{
  jw_string (ctx, name);
}

static void
write_hooks (struct json_writer *w)
{
  jw_key (w, "hooks");
  jw_begin_array (w);
  for (int point = 0; point < HOOK_POINT_COUNT; point++)
    jw_string (w, spec_hook_point_name (point));
  jw_end_array (w);
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static void
write_namespaces (struct json_writer *w)
{
  /* Sorted, as runc and crun print them. */
  const char *names[NS_KIND_COUNT];
  for (int kind = 0; kind < NS_KIND_COUNT; kind++)
    names[kind] = spec_namespace_name (kind);
  qsort (names, NS_KIND_COUNT, sizeof names[0], compare_names);
  jw_key (w, "namespaces");
  jw_begin_array (w);
  for (int i = 0; i < NS_KIND_COUNT; i++)
    jw_string (w, names[i]);
  jw_end_array (w);
}

/* Every capability libcap can name on this kernel, as config.json spells
 * them.  Numbers libcap has no name for are left out: a config could not
 * name them either. */
static int
write_capabilities (struct json_writer *w, struct ward_error **err)
{
  jw_key (w, "capabilities");
  jw_begin_array (w);
  for (cap_value_t cap = 0; cap < (cap_value_t)cap_max_bits (); cap++)
    {
      char *name = cap_to_name (cap);
      if (name == NULL)
        return ward_fail (err, errno, "name capability %d", cap);
      if (strncmp (name, "cap_", 4) == 0)
        {
          for (char *p = name; *p; p++)
            *p = (char)toupper ((unsigned char)*p);
          jw_string (w, name);
        }
      cap_free (name);
    }
  jw_end_array (w);
  return 0;
}

static void
write_seccomp_names (struct json_writer *w, const char *key, enum seccomp_names which)
{
  jw_key (w, key);
  jw_begin_array (w);
  seccomp_each_name (which, write_name, w);
  jw_end_array (w);
}

static void
write_seccomp (struct json_writer *w)
{
  jw_key (w, "seccomp");
  jw_begin_object (w);
  jw_key_bool (w, "enabled", true);
  write_seccomp_names (w, "actions", SECCOMP_NAMES_ACTIONS);
  write_seccomp_names (w, "operators", SECCOMP_NAMES_OPERATORS);
  write_seccomp_names (w, "archs", SECCOMP_NAMES_ARCHITECTURES);
  write_seccomp_names (w, "knownFlags", SECCOMP_NAMES_FLAGS);
  write_seccomp_names (w, "supportedFlags", SECCOMP_NAMES_SUPPORTED_FLAGS);
  jw_end_object (w);
}

static void
write_enabled (struct json_writer *w, const char *key, bool enabled)
{
  jw_key (w, key);
  jw_begin_object (w);
  jw_key_bool (w, "enabled", enabled);
  jw_end_object (w);
}

static int
write_linux (struct json_writer *w, struct ward_error **err)
{
  jw_key (w, "linux");
  jw_begin_object (w);
  write_namespaces (w);
  if (write_capabilities (w, err) < 0)
    return -1;

  jw_key (w, "cgroup");
  jw_begin_object (w);
  jw_key_bool (w, "v1", true);
  jw_key_bool (w, "v2", true);
  jw_key_bool (w, "systemd", false);
  jw_key_bool (w, "systemdUser", false);
  jw_key_bool (w, "rdma", false);
  jw_end_object (w);

  write_seccomp (w);
  write_enabled (w, "apparmor", FEATURES_APPARMOR);
  write_enabled (w, "selinux", FEATURES_SELINUX);
  write_enabled (w, "intelRdt", false);

  jw_key (w, "mountExtensions");
  jw_begin_object (w);
  write_enabled (w, "idmap", false);
  jw_end_object (w);

  jw_end_object (w);
  return 0;
}

static void
write_annotations (struct json_writer *w)
{
  jw_key (w, "annotations");
  jw_begin_object (w);
  for (size_t i = 0; i < sizeof ward_annotations / sizeof ward_annotations[0]; i++)
    jw_key_string (w, ward_annotations[i].key, ward_annotations[i].value);
  jw_end_object (w);
}

static int
write_document (struct json_writer *w, struct ward_error **err)
{
  jw_begin_object (w);
  jw_key_string (w, "ociVersionMin", FEATURES_OCI_VERSION_MIN);
  jw_key_string (w, "ociVersionMax", WARD_OCI_VERSION);
  write_hooks (w);
  jw_key (w, "mountOptions");
  jw_begin_array (w);
  mount_options_each_name (write_name, w);
  jw_end_array (w);
  if (write_linux (w, err) < 0)
    return -1;
  write_annotations (w);
  jw_end_object (w);
  return 0;
}

int
features_render_json (char **out, struct ward_error **err)
{
  struct json_writer *w = jw_new (true);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "features");
  if (write_document (w, err) < 0)
    {
      jw_free (w);
      return -1;
    }
  size_t length = 0;
  const char *text = jw_text (w, &length);
  char *copy = text ? malloc (length + 2) : NULL;
  if (copy == NULL)
    {
      jw_free (w);
      return ward_fail (err, ENOMEM, "features");
    }
  memcpy (copy, text, length);
  /* yajl ends a pretty document with a newline; do not count on it. */
  if (length == 0 || copy[length - 1] != '\n')
    copy[length++] = '\n';
  copy[length] = '\0';
  jw_free (w);
  *out = copy;
  return 0;
}

void
features_print_version (FILE *out)
{
  fprintf (out, "ward version %s\n", PACKAGE_VERSION);
  fprintf (out, "spec: %s\n", WARD_OCI_VERSION);
  fprintf (out, "+SECCOMP +CAP %cSELINUX %cAPPARMOR +YAJL +CGROUPS\n", FEATURES_SELINUX ? '+' : '-',
           FEATURES_APPARMOR ? '+' : '-');
}
