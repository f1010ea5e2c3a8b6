/* ward-probe [--target NAME,HOST,PORT]... [--exfil NAME] [--token T] PROBE...
 * Runs the named probes (`all`: every probe that can share a container)
 * in order and prints one JSON line each; see probe.h. */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void
print_json_string (const char *s)
{
  putchar ('"');
  for (; *s; s++)
    {
      unsigned char c = (unsigned char)*s;
      if (c == '"' || c == '\\')
        printf ("\\%c", c);
      else if (c < 0x20)
        printf ("\\u%04x", c);
      else
        putchar (c);
    }
  putchar ('"');
}

void
probe_report (const char *name, enum probe_outcome outcome, const char *fmt, ...)
{
  static const char *const outcomes[] = { "contained", "escaped", "error" };
  char detail[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (detail, sizeof detail, fmt, ap);
  va_end (ap);
  fputs ("{\"probe\": ", stdout);
  print_json_string (name);
  printf (", \"outcome\": \"%s\", \"detail\": ", outcomes[outcome]);
  print_json_string (detail);
  fputs ("}\n", stdout);
  /* Each line is out before the next probe, which may get the process killed. */
  fflush (stdout);
}

bool
probe_refused (int errnum)
{
  return errnum == EPERM || errnum == EACCES || errnum == EROFS || errnum == ENOSYS;
}

void
probe_report_call (const char *name, long ret, int errnum)
{
  if (ret >= 0)
    probe_report (name, PROBE_ESCAPED, "the call succeeded");
  else if (probe_refused (errnum))
    probe_report (name, PROBE_CONTAINED, "%s", strerrorname_np (errnum));
  else
    probe_report (name, PROBE_ESCAPED, "the call got past the permission checks (%s)",
                  strerrorname_np (errnum));
}

int
probe_in_child (int (*fn) (void *), void *ctx)
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      /* A child a filter kills must not dump core into the container or to
       * a core_pattern helper on the host. */
      struct rlimit none = { 0, 0 };
      setrlimit (RLIMIT_CORE, &none);
      prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
      _exit (fn (ctx));
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

bool
probe_status_field (const char *key, char *buf, size_t size)
{
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return false;
  char line[256];
  size_t len = strlen (key);
  bool found = false;
  while (!found && fgets (line, sizeof line, f))
    if (strncmp (line, key, len) == 0 && line[len] == ':')
      {
        const char *v = line + len + 1;
        v += strspn (v, " \t");
        snprintf (buf, size, "%.*s", (int)strcspn (v, "\n"), v);
        found = true;
      }
  fclose (f);
  return found;
}

static const struct probe *const tables[]
    = { probe_fs_table, probe_syscall_table, probe_limit_table, probe_net_table };

static const struct probe *
find (const char *name)
{
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (const struct probe *p = tables[t]; p->name; p++)
      if (strcmp (p->name, name) == 0)
        return p;
  return NULL;
}

static void
run_all (const struct probe_args *args)
{
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (const struct probe *p = tables[t]; p->name; p++)
      if (p->in_all)
        p->run (p->name, args);
}

static void
list (void)
{
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (const struct probe *p = tables[t]; p->name; p++)
      printf ("%s%s\n", p->name, p->in_all ? "" : " (not in all)");
}

static int
add_target (struct probe_args *args, char *spec)
{
  char *host = strchr (spec, ',');
  char *port = host ? strrchr (host + 1, ',') : NULL;
  if (host == NULL || port == NULL || args->targets_count == PROBE_MAX_TARGETS)
    return -1;
  *host++ = '\0';
  *port++ = '\0';
  args->targets[args->targets_count++] = (struct probe_target){ spec, host, port };
  return 0;
}

int
main (int argc, char **argv)
{
  struct probe_args args = { .exfil_name = "ward-verify-exfil.example.com", .token = "ward-probe" };
  int i = 1;
  for (; i < argc && strncmp (argv[i], "--", 2) == 0; i++)
    {
      const char *value = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (argv[i], "--list") == 0)
        {
          list ();
          return 0;
        }
      if (value == NULL)
        break;
      if (strcmp (argv[i], "--target") == 0 && add_target (&args, argv[i + 1]) == 0)
        i++;
      else if (strcmp (argv[i], "--exfil") == 0)
        args.exfil_name = argv[++i];
      else if (strcmp (argv[i], "--token") == 0)
        args.token = argv[++i];
      else
        break;
    }
  if (i >= argc || strncmp (argv[i], "--", 2) == 0)
    {
      fputs ("usage: ward-probe [--target NAME,HOST,PORT]... [--exfil NAME] [--token T] PROBE... | all | "
             "--list\n",
             stderr);
      return 2;
    }
  /* The fork bomb's children and the memory bomb's are killed, and a
   * write to a closed pipe must not end the probe. */
  signal (SIGPIPE, SIG_IGN);
  for (; i < argc; i++)
    {
      if (strcmp (argv[i], "all") == 0)
        {
          run_all (&args);
          continue;
        }
      const struct probe *p = find (argv[i]);
      if (p == NULL)
        probe_report (argv[i], PROBE_ERROR, "no such probe");
      else
        p->run (p->name, &args);
    }
  return 0;
}
