#include "config.h"
#include "process.h"
#include "cleanup.h"
#include "fs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

static int
rlimit_resource (const char *name)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (rlimit_names); i++)
    if (strcmp (name, rlimit_names[i].name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

int
process_validate (const struct spec_process *p, struct ward_error **err)
{
  for (size_t i = 0; i < p->rlimits_count; i++)
    {
      if (rlimit_resource (p->rlimits[i].type) < 0)
        return ward_fail (err, 0, "config.json: process.rlimits[%zu].type: unknown rlimit \"%s\"", i,
                          p->rlimits[i].type);
      if (p->rlimits[i].soft > p->rlimits[i].hard)
        return ward_fail (err, 0, "config.json: process.rlimits[%zu]: soft limit is above the hard limit", i);
    }
  if (p->cwd && p->cwd[0] != '/')
    return ward_fail (err, 0, "config.json: process.cwd: must be an absolute path, got \"%s\"", p->cwd);
  return 0;
}

int
process_set_names (const struct spec *spec, struct ward_error **err)
{
  if (spec->hostname && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return ward_fail (err, errno, "set hostname \"%s\"", spec->hostname);
  if (spec->domainname && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return ward_fail (err, errno, "set domainname \"%s\"", spec->domainname);
  return 0;
}

int
process_set_oom_score_adj (const struct spec_process *p, struct ward_error **err)
{
  if (!p->has_oom_score_adj)
    return 0;
  char text[16];
  int n = snprintf (text, sizeof text, "%d", p->oom_score_adj);
  if (fs_write_file ("/proc/self/oom_score_adj", text, n, err) < 0)
    return ward_error_prefix (err, "config.json: process.oomScoreAdj");
  return 0;
}

int
process_set_rlimits (const struct spec_process *p, struct ward_error **err)
{
  for (size_t i = 0; i < p->rlimits_count; i++)
    {
      struct rlimit limit = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
      if (setrlimit (rlimit_resource (p->rlimits[i].type), &limit) < 0)
        return ward_fail (err, errno, "config.json: process.rlimits: set %s", p->rlimits[i].type);
    }
  return 0;
}

int
process_switch_user (const struct spec_process *p, bool can_setgroups, struct ward_error **err)
{
  const struct spec_user *u = &p->user;
  if (can_setgroups && setgroups (u->additional_gids_count, u->additional_gids) < 0)
    return ward_fail (err, errno, "setgroups");
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return ward_fail (err, errno, "setgid %u", u->gid);
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    return ward_fail (err, errno, "setuid %u", u->uid);
  if (u->has_umask)
    umask (u->umask);
  else
    umask (0022);
  return 0;
}

int
process_change_directory (const struct spec_process *p, struct ward_error **err)
{
  const char *cwd = p->cwd ? p->cwd : "/";
  if (chdir (cwd) < 0)
    return ward_fail (err, errno, "chdir to process.cwd %s", cwd);
  return 0;
}

static const char *
env_value (char *const *env, const char *name)
{
  size_t length = strlen (name);
  for (char *const *e = env; e && *e; e++)
    if (strncmp (*e, name, length) == 0 && (*e)[length] == '=')
      return *e + length + 1;
  return NULL;
}

static bool
is_executable_file (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && faccessat (AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

/* Engines read exec failures the way runc words them (Go's lower-case
 * error texts): Docker's CLI maps "no such file or directory" to exit 127
 * and "permission denied" to 126. */
static int
exec_failure (struct ward_error **err, int errnum, const char *name, bool in_stat)
{
  char reason[128];
  snprintf (reason, sizeof reason, "%s", strerror (errnum));
  reason[0] = (char)tolower ((unsigned char)reason[0]);
  if (in_stat)
    return ward_fail (err, 0, "exec: \"%s\": stat %s: %s", name, name, reason);
  return ward_fail (err, 0, "exec: \"%s\": %s", name, reason);
}

int
process_find_executable (const struct spec_process *p, char **out, struct ward_error **err)
{
  const char *name = p->args[0];
  if (strchr (name, '/'))
    {
      struct stat st;
      if (stat (name, &st) < 0)
        return exec_failure (err, errno, name, true);
      if (S_ISDIR (st.st_mode))
        return exec_failure (err, EISDIR, name, false);
      if (faccessat (AT_FDCWD, name, X_OK, AT_EACCESS) < 0)
        return exec_failure (err, errno, name, false);
      *out = strdup (name);
      return *out ? 0 : ward_fail (err, ENOMEM, "exec");
    }
  const char *path = env_value (p->env, "PATH");
  cleanup_free char *dirs = strdup (path ? path : DEFAULT_PATH);
  if (dirs == NULL)
    return ward_fail (err, ENOMEM, "exec");
  char *save = NULL;
  for (char *dir = strtok_r (dirs, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      char *candidate = NULL;
      if (asprintf (&candidate, "%s/%s", *dir ? dir : ".", name) < 0)
        return ward_fail (err, ENOMEM, "exec");
      if (is_executable_file (candidate))
        {
          *out = candidate;
          return 0;
        }
      free (candidate);
    }
  return ward_fail (err, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

static int
add_env (struct spec_process *p, const char *entry)
{
  char **grown = realloc (p->env, (p->env_count + 2) * sizeof *grown);
  if (grown == NULL)
    return -1;
  p->env = grown;
  p->env[p->env_count] = strdup (entry);
  if (p->env[p->env_count] == NULL)
    return -1;
  p->env[++p->env_count] = NULL;
  return 0;
}

/* The home directory of uid in the container's /etc/passwd, or NULL. */
static char *
home_of (uid_t uid)
{
  cleanup_fclose FILE *passwd = fopen ("/etc/passwd", "re");
  char *line = NULL, *home = NULL;
  size_t size = 0;
  while (passwd && home == NULL && getline (&line, &size, passwd) > 0)
    {
      /* name:password:uid:gid:gecos:home:shell */
      char *fields[7] = { NULL };
      char *rest = line;
      int n = 0;
      for (char *f; n < 7 && (f = strsep (&rest, ":")) != NULL;)
        fields[n++] = f;
      if (n >= 6 && fields[2][0] && strtoul (fields[2], NULL, 10) == uid)
        home = strdup (fields[5]);
    }
  free (line);
  return home;
}

int
process_default_environment (struct spec_process *p, struct ward_error **err)
{
  if (env_value (p->env, "HOME") == NULL)
    {
      cleanup_free char *home = home_of (p->user.uid);
      cleanup_free char *entry = NULL;
      if (asprintf (&entry, "HOME=%s", home && home[0] ? home : "/") < 0 || add_env (p, entry) < 0)
        return ward_fail (err, ENOMEM, "environment");
    }
  if (env_value (p->env, "PATH") == NULL && add_env (p, "PATH=" DEFAULT_PATH) < 0)
    return ward_fail (err, ENOMEM, "environment");
  return 0;
}

int
process_add_listen_fds (struct spec_process *p, struct ward_error **err)
{
  const char *fds = getenv ("LISTEN_FDS"), *pid = getenv ("LISTEN_PID");
  if (fds == NULL || pid == NULL || strtol (pid, NULL, 10) != getpid ())
    return 0;
  long count = strtol (fds, NULL, 10);
  if (count <= 0 || count > 1024)
    return 0;
  char entry[32];
  snprintf (entry, sizeof entry, "LISTEN_FDS=%ld", count);
  if (add_env (p, entry) < 0 || add_env (p, "LISTEN_PID=1") < 0)
    return ward_fail (err, ENOMEM, "environment");
  return (int)count;
}
