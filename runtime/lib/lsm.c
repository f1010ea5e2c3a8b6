#include "config.h"
#include "lsm.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_APPARMOR
#include <sys/apparmor.h>
#endif
#ifdef HAVE_SELINUX
#include <selinux/selinux.h>
#endif

/* An empty string means "no label", as in runc: generators write "" for
 * fields they leave unset. */
static bool
requested (const char *label)
{
  return label != NULL && label[0] != '\0';
}

/* Without the library, sysfs still tells whether the kernel has the LSM, so
 * that the refusal can say which of the two is missing. */
#ifndef HAVE_APPARMOR
static bool
apparmor_enabled_in_sysfs (void)
{
  cleanup_fclose FILE *f = fopen ("/sys/module/apparmor/parameters/enabled", "re");
  return f != NULL && fgetc (f) == 'Y';
}
#endif

void
lsm_host_detect (struct lsm_host *host)
{
#ifdef HAVE_APPARMOR
  host->apparmor_compiled_in = true;
  /* 0 also when securityfs is not mounted: labels could not be set then
   * either, so that counts as not enabled. */
  host->apparmor_enabled = aa_is_enabled () == 1;
#else
  host->apparmor_compiled_in = false;
  host->apparmor_enabled = apparmor_enabled_in_sysfs ();
#endif
#ifdef HAVE_SELINUX
  host->selinux_compiled_in = true;
  host->selinux_enabled = is_selinux_enabled () == 1;
#else
  host->selinux_compiled_in = false;
  host->selinux_enabled = access ("/sys/fs/selinux/enforce", F_OK) == 0;
#endif
}

/* The decision for one requested label.  A host without the LSM is named
 * first: rebuilding ward would not help there. */
static int
check_label (const char *what, const char *label, const char *lsm_name, bool compiled_in, bool enabled,
             struct ward_error **err)
{
  if (!requested (label))
    return 0;
  if (!enabled)
    return ward_fail (err, 0, "%s \"%s\" requested but %s is not enabled on this host", what, label,
                      lsm_name);
  if (!compiled_in)
    return ward_fail (err, 0, "%s \"%s\" requested but ward was built without %s support", what, label,
                      lsm_name);
  return 0;
}

/* The label goes into the mount data as context="<label>"; a quote in it
 * would end the value early and let the rest be read as more options. */
static int
check_mount_label_quotable (const char *label, struct ward_error **err)
{
  if (strchr (label, '"') != NULL)
    return ward_fail (err, 0, "linux.mountLabel \"%s\": a label cannot contain a double quote", label);
  return 0;
}

int
lsm_validate_for_host (const struct spec *spec, const struct lsm_host *host, struct ward_error **err)
{
  const struct spec_process *process = spec->process;
  if (process)
    {
      if (check_label ("apparmor profile", process->apparmor_profile, "AppArmor", host->apparmor_compiled_in,
                       host->apparmor_enabled, err)
          < 0)
        return -1;
      if (check_label ("selinux label", process->selinux_label, "SELinux", host->selinux_compiled_in,
                       host->selinux_enabled, err)
          < 0)
        return -1;
    }
  const char *mount_label = spec->linux_config.mount_label;
  if (check_label ("linux.mountLabel", mount_label, "SELinux", host->selinux_compiled_in,
                   host->selinux_enabled, err)
      < 0)
    return -1;
  if (requested (mount_label) && check_mount_label_quotable (mount_label, err) < 0)
    return -1;
  return 0;
}

int
lsm_validate (const struct spec *spec, struct ward_error **err)
{
  struct lsm_host host;
  lsm_host_detect (&host);
  return lsm_validate_for_host (spec, &host, err);
}

static int
apparmor_change_onexec (const char *profile, struct ward_error **err)
{
#ifdef HAVE_APPARMOR
  if (aa_change_onexec (profile) < 0)
    return ward_fail (err, errno, "set apparmor profile \"%s\" for exec", profile);
  return 0;
#else
  return ward_fail (err, 0, "apparmor profile \"%s\" requested but ward was built without AppArmor support",
                    profile);
#endif
}

static int
selinux_set_exec_label (const char *label, struct ward_error **err)
{
#ifdef HAVE_SELINUX
  if (setexeccon (label) < 0)
    return ward_fail (err, errno, "set selinux label \"%s\" for exec", label);
  return 0;
#else
  return ward_fail (err, 0, "selinux label \"%s\" requested but ward was built without SELinux support",
                    label);
#endif
}

int
lsm_apply_exec_labels (const struct spec_process *process, struct ward_error **err)
{
  if (process == NULL)
    return 0;
  if (requested (process->apparmor_profile) && apparmor_change_onexec (process->apparmor_profile, err) < 0)
    return -1;
  if (requested (process->selinux_label) && selinux_set_exec_label (process->selinux_label, err) < 0)
    return -1;
  return 0;
}

/* Filesystems that get no context= option: bind mounts show an existing
 * filesystem, and these pseudo filesystems share their superblock with
 * mounts outside the container (or are labelled by policy alone), so
 * SELinux refuses a mount of them whose security options differ. */
static const char *const fs_without_context[] = {
  "bind",    "proc",    "sysfs",    "cgroup",  "cgroup2", "securityfs", "selinuxfs",
  "debugfs", "tracefs", "configfs", "fusectl", "pstore",  "efivarfs",   "binfmt_misc",
};

static bool
takes_context (const char *fs_type)
{
  if (fs_type == NULL)
    return false;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (fs_without_context); i++)
    if (strcmp (fs_type, fs_without_context[i]) == 0)
      return false;
  return true;
}

/* Whether the mount's own options already set an SELinux context: the
 * kernel refuses a second one (and context= beside fscontext= or
 * defcontext=), and the mount's own choice is the more specific.  Commas
 * inside quotes belong to a value (MLS ranges: s0:c1,c2). */
static bool
has_context_option (const char *data)
{
  static const char *const options[] = { "context=", "fscontext=", "defcontext=", "rootcontext=" };
  bool quoted = false;
  const char *start = data;
  for (const char *p = data;; p++)
    {
      if (*p == '"')
        quoted = !quoted;
      else if (*p == '\0' || (*p == ',' && !quoted))
        {
          for (size_t i = 0; i < WARD_ARRAY_SIZE (options); i++)
            if (strncmp (start, options[i], strlen (options[i])) == 0)
              return true;
          if (*p == '\0')
            return false;
          start = p + 1;
        }
    }
}

int
lsm_mount_data (const struct spec *spec, const char *fs_type, const char *data, char **out,
                struct ward_error **err)
{
  const char *label = spec->linux_config.mount_label;
  bool has_data = data != NULL && data[0] != '\0';
  char *result = NULL;
  if (!requested (label) || !takes_context (fs_type) || (has_data && has_context_option (data)))
    {
      if (data != NULL && (result = strdup (data)) == NULL)
        return ward_fail (err, ENOMEM, "mount data for %s", fs_type ? fs_type : "none");
      *out = result;
      return 0;
    }
  if (check_mount_label_quotable (label, err) < 0)
    return -1;
  int n = has_data ? asprintf (&result, "%s,context=\"%s\"", data, label)
                   : asprintf (&result, "context=\"%s\"", label);
  if (n < 0)
    return ward_fail (err, ENOMEM, "mount data for %s", fs_type);
  *out = result;
  return 0;
}
