/* Signal names and numbers as `ward kill` accepts them. */
#include "config.h"
#include "harness.h"
#include "signals.h"

#include <signal.h>
#include <stdio.h>

/* The parsed number, or -1 when parsing failed (the error is freed). */
static int
parse (const char *text)
{
  struct ward_error *err = NULL;
  int signum = -1;
  if (signal_parse (text, &signum, &err) < 0)
    {
      ward_error_free (&err);
      return -1;
    }
  return signum;
}

/* Expect `text` to be refused with exactly `unknown signal "<text>"`. */
static void
check_unknown (const char *text)
{
  struct ward_error *err = NULL;
  int signum = -12345;
  char expected[256];
  snprintf (expected, sizeof expected, "unknown signal \"%s\"", text);
  CHECK_INT_EQ (signal_parse (text, &signum, &err), -1);
  CHECK_INT_EQ (signum, -12345);
  if (CHECK (err != NULL))
    {
      CHECK_STR_EQ (err->message, expected);
      CHECK_INT_EQ (err->errnum, 0);
    }
  ward_error_free (&err);
}

TEST (bare_names)
{
  CHECK_INT_EQ (parse ("HUP"), SIGHUP);
  CHECK_INT_EQ (parse ("INT"), SIGINT);
  CHECK_INT_EQ (parse ("KILL"), SIGKILL);
  CHECK_INT_EQ (parse ("TERM"), SIGTERM);
  CHECK_INT_EQ (parse ("USR1"), SIGUSR1);
  CHECK_INT_EQ (parse ("USR2"), SIGUSR2);
  CHECK_INT_EQ (parse ("STKFLT"), SIGSTKFLT);
  CHECK_INT_EQ (parse ("WINCH"), SIGWINCH);
  CHECK_INT_EQ (parse ("PWR"), SIGPWR);
  CHECK_INT_EQ (parse ("SYS"), SIGSYS);
}

TEST (every_standard_name)
{
  static const struct
  {
    const char *name;
    int number;
  } expected[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT }, { "ILL", SIGILL },
    { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "BUS", SIGBUS },   { "FPE", SIGFPE },
    { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT },
    { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
    { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },   { "XCPU", SIGXCPU },
    { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
    { "IO", SIGIO },     { "PWR", SIGPWR },       { "SYS", SIGSYS },
  };
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    if (!CHECK_INT_EQ (parse (expected[i].name), expected[i].number))
      printf ("    for %s\n", expected[i].name);
}

TEST (sig_prefix)
{
  CHECK_INT_EQ (parse ("SIGTERM"), SIGTERM);
  CHECK_INT_EQ (parse ("SIGKILL"), SIGKILL);
  CHECK_INT_EQ (parse ("SIGCHLD"), SIGCHLD);
}

TEST (lowercase)
{
  CHECK_INT_EQ (parse ("term"), SIGTERM);
  CHECK_INT_EQ (parse ("sigterm"), SIGTERM);
  CHECK_INT_EQ (parse ("SigHup"), SIGHUP);
  CHECK_INT_EQ (parse ("rtmin+1"), SIGRTMIN + 1);
}

TEST (aliases)
{
  CHECK_INT_EQ (parse ("IOT"), SIGABRT);
  CHECK_INT_EQ (parse ("SIGIOT"), SIGABRT);
  CHECK_INT_EQ (parse ("POLL"), SIGIO);
  CHECK_INT_EQ (parse ("SIGPOLL"), SIGIO);
}

TEST (numbers)
{
  CHECK_INT_EQ (parse ("1"), 1);
  CHECK_INT_EQ (parse ("9"), SIGKILL);
  CHECK_INT_EQ (parse ("15"), SIGTERM);
  char text[16];
  snprintf (text, sizeof text, "%d", SIGRTMAX);
  CHECK_INT_EQ (parse (text), SIGRTMAX);
}

TEST (realtime)
{
  CHECK_INT_EQ (parse ("RTMIN"), SIGRTMIN);
  CHECK_INT_EQ (parse ("SIGRTMIN"), SIGRTMIN);
  CHECK_INT_EQ (parse ("RTMIN+0"), SIGRTMIN);
  CHECK_INT_EQ (parse ("RTMIN+3"), SIGRTMIN + 3);
  CHECK_INT_EQ (parse ("SIGRTMIN+3"), SIGRTMIN + 3);
  CHECK_INT_EQ (parse ("RTMAX"), SIGRTMAX);
  CHECK_INT_EQ (parse ("RTMAX-2"), SIGRTMAX - 2);
  CHECK_INT_EQ (parse ("SIGRTMAX-2"), SIGRTMAX - 2);
  char text[32];
  snprintf (text, sizeof text, "RTMIN+%d", SIGRTMAX - SIGRTMIN);
  CHECK_INT_EQ (parse (text), SIGRTMAX);
  snprintf (text, sizeof text, "RTMAX-%d", SIGRTMAX - SIGRTMIN);
  CHECK_INT_EQ (parse (text), SIGRTMIN);
}

TEST (unknown)
{
  check_unknown ("FOO");
  check_unknown ("SIGFOO");
  check_unknown ("");
  check_unknown ("SIG");
  check_unknown ("0");
  check_unknown ("-9");
  check_unknown ("+9");
  check_unknown (" 9");
  check_unknown ("9x");
  check_unknown ("99999999999999999999");
  check_unknown ("TERM ");
  check_unknown ("RTMIN+");
  check_unknown ("RTMIN-1");
  check_unknown ("RTMAX+1");
  check_unknown ("RTMIN+x");
  check_unknown ("SIGSIGTERM");

  char text[32];
  snprintf (text, sizeof text, "%d", SIGRTMAX + 1);
  check_unknown (text);
  snprintf (text, sizeof text, "RTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
  check_unknown (text);
  snprintf (text, sizeof text, "RTMAX-%d", SIGRTMAX - SIGRTMIN + 1);
  check_unknown (text);
}

TEST (names)
{
  CHECK_STR_EQ (signal_name (SIGTERM), "SIGTERM");
  CHECK_STR_EQ (signal_name (SIGKILL), "SIGKILL");
  CHECK_STR_EQ (signal_name (SIGHUP), "SIGHUP");
  CHECK_STR_EQ (signal_name (SIGSYS), "SIGSYS");
  /* The canonical name, not the alias that shares the number. */
  CHECK_STR_EQ (signal_name (SIGABRT), "SIGABRT");
  CHECK_STR_EQ (signal_name (SIGIO), "SIGIO");
  CHECK_STR_EQ (signal_name (0), NULL);
  CHECK_STR_EQ (signal_name (-1), NULL);
  CHECK_STR_EQ (signal_name (SIGRTMIN), NULL);
  CHECK_STR_EQ (signal_name (1000), NULL);
}

TEST (name_round_trip)
{
  for (int signum = 1; signum < SIGRTMIN; signum++)
    {
      const char *name = signal_name (signum);
      if (name == NULL)
        continue; /* 32 and 33 belong to glibc's threads and have no name */
      if (!CHECK_INT_EQ (parse (name), signum))
        printf ("    for %s\n", name);
    }
  CHECK (signal_name (SIGTERM) != NULL);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (bare_names), TEST_ENTRY (every_standard_name),
  TEST_ENTRY (sig_prefix), TEST_ENTRY (lowercase),
  TEST_ENTRY (aliases),    TEST_ENTRY (numbers),
  TEST_ENTRY (realtime),   TEST_ENTRY (unknown),
  TEST_ENTRY (names),      TEST_ENTRY (name_round_trip),
};

HARNESS_MAIN (tests)
