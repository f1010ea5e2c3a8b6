/* Signal names as `kill` and runc accept them.  The names are a table so
 * that parsing and printing read the same list; real-time signals have no
 * fixed numbers (glibc reserves the first few for itself), so they are
 * computed from SIGRTMIN/SIGRTMAX at run time. */
#include "config.h"
#include "signals.h"
#include "cleanup.h"

#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct signal_entry
{
  const char *name; /* with the SIG prefix, as signal_name() returns it */
  int number;
};

/* Canonical names first: signal_name() returns the first match, so the
 * aliases (IOT = ABRT, POLL = IO) only ever serve parsing. */
static const struct signal_entry signal_table[] = {
  { "SIGHUP", SIGHUP },   { "SIGINT", SIGINT },       { "SIGQUIT", SIGQUIT }, { "SIGILL", SIGILL },
  { "SIGTRAP", SIGTRAP }, { "SIGABRT", SIGABRT },     { "SIGBUS", SIGBUS },   { "SIGFPE", SIGFPE },
  { "SIGKILL", SIGKILL }, { "SIGUSR1", SIGUSR1 },     { "SIGSEGV", SIGSEGV }, { "SIGUSR2", SIGUSR2 },
  { "SIGPIPE", SIGPIPE }, { "SIGALRM", SIGALRM },     { "SIGTERM", SIGTERM }, { "SIGSTKFLT", SIGSTKFLT },
  { "SIGCHLD", SIGCHLD }, { "SIGCONT", SIGCONT },     { "SIGSTOP", SIGSTOP }, { "SIGTSTP", SIGTSTP },
  { "SIGTTIN", SIGTTIN }, { "SIGTTOU", SIGTTOU },     { "SIGURG", SIGURG },   { "SIGXCPU", SIGXCPU },
  { "SIGXFSZ", SIGXFSZ }, { "SIGVTALRM", SIGVTALRM }, { "SIGPROF", SIGPROF }, { "SIGWINCH", SIGWINCH },
  { "SIGIO", SIGIO },     { "SIGPWR", SIGPWR },       { "SIGSYS", SIGSYS },   { "SIGIOT", SIGIOT },
  { "SIGPOLL", SIGPOLL },
};

/* A decimal number made of digits only: no sign, no spaces, no hex, so
 * that "+9" or " 9" are rejected as kill(1) would. */
static bool
parse_decimal (const char *text, long *out)
{
  if (text[0] == '\0')
    return false;
  long value = 0;
  for (const char *p = text; *p; p++)
    {
      if (!isdigit ((unsigned char)*p))
        return false;
      if (value > (INT_MAX - (*p - '0')) / 10)
        return false;
      value = value * 10 + (*p - '0');
    }
  *out = value;
  return true;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (name already without "SIG"). */
static bool
parse_realtime (const char *name, int *out)
{
  long offset = 0;
  int signum;
  if (strncasecmp (name, "RTMIN", 5) == 0)
    {
      const char *rest = name + 5;
      if (*rest != '\0' && (*rest != '+' || !parse_decimal (rest + 1, &offset)))
        return false;
      if (offset > SIGRTMAX - SIGRTMIN)
        return false;
      signum = SIGRTMIN + (int)offset;
    }
  else if (strncasecmp (name, "RTMAX", 5) == 0)
    {
      const char *rest = name + 5;
      if (*rest != '\0' && (*rest != '-' || !parse_decimal (rest + 1, &offset)))
        return false;
      if (offset > SIGRTMAX - SIGRTMIN)
        return false;
      signum = SIGRTMAX - (int)offset;
    }
  else
    return false;
  *out = signum;
  return true;
}

int
signal_parse (const char *text, int *out, struct ward_error **err)
{
  long number;
  if (parse_decimal (text, &number))
    {
      if (number < 1 || number > SIGRTMAX)
        return ward_fail (err, 0, "unknown signal \"%s\"", text);
      *out = (int)number;
      return 0;
    }

  const char *name = strncasecmp (text, "SIG", 3) == 0 ? text + 3 : text;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (signal_table); i++)
    if (strcasecmp (name, signal_table[i].name + 3) == 0)
      {
        *out = signal_table[i].number;
        return 0;
      }
  if (parse_realtime (name, out))
    return 0;
  return ward_fail (err, 0, "unknown signal \"%s\"", text);
}

const char *
signal_name (int signum)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (signal_table); i++)
    if (signal_table[i].number == signum)
      return signal_table[i].name;
  return NULL;
}

static volatile pid_t forward_target;

static void
forward_signal (int signum)
{
  if (forward_target > 0)
    kill (forward_target, signum);
}

void
signals_forward_to (pid_t pid)
{
  static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
  sigemptyset (&sa.sa_mask);
  forward_target = pid;
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaction (forwarded[i], &sa, NULL);
}
