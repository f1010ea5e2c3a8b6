/* The OCI runtime features document and the --version lines.  Every list
 * is read from the code that acts on it (spec.c's hook points and
 * namespaces, mounts.c's options, seccomp.c's names, libcap's capability
 * names), so the document cannot claim what ward does not do. */
#include "config.h"
#include "runtime_features.h"
#include "json_writer.h"
#include "mounts.h"
#include "seccomp.h"
#include "spec.h"
#include "spec_default.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

/* The oldest runtime-spec whose configs ward runs. */
#define FEATURES_OCI_VERSION_MIN "1.0.0"

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
