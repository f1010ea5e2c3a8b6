/* A tiny unit-test harness, header only, so the tests need nothing beyond
 * libward.  Each test file defines its tests with TEST(), lists them in a
 * table and ends with HARNESS_MAIN:
 *
 *   TEST (parses_term) { CHECK_INT_EQ (parse ("TERM"), 15); }
 *   static const struct harness_test tests[] = { TEST_ENTRY (parses_term) };
 *   HARNESS_MAIN (tests)
 *
 * A failed CHECK prints file:line and the test goes on, so one run shows
 * every broken expectation; REQUIRE ends the test when going on would only
 * crash (a NULL result).  The binary prints one line per test, then
 * "N passed, M failed", and exits 1 on any failure, which is what
 * automake's TESTS looks at.  Arguments select tests by name. */
#ifndef WARD_TEST_HARNESS_H
#define WARD_TEST_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct harness_test
{
  const char *name;
  void (*run) (void);
};

#define TEST(name) static void test_##name (void)
#define TEST_ENTRY(name)                                                                                     \
  {                                                                                                          \
#name, test_##name                                                                                       \
  }

/* Failed checks in the running test. */
static unsigned harness_failed_checks;

static inline bool
harness_check (bool ok, const char *file, int line, const char *expression)
{
  if (!ok)
    {
      harness_failed_checks++;
      printf ("  %s:%d: CHECK (%s) failed\n", file, line, expression);
    }
  return ok;
}

static inline bool
harness_check_str (const char *actual, const char *expected, const char *file, int line,
                   const char *actual_expr, const char *expected_expr)
{
  bool ok = (actual == NULL || expected == NULL) ? actual == expected : strcmp (actual, expected) == 0;
  if (!ok)
    {
      harness_failed_checks++;
      printf ("  %s:%d: CHECK_STR_EQ (%s, %s) failed\n", file, line, actual_expr, expected_expr);
      printf ("    actual:   %s%s%s\n", actual ? "\"" : "", actual ? actual : "NULL", actual ? "\"" : "");
      printf ("    expected: %s%s%s\n", expected ? "\"" : "", expected ? expected : "NULL",
              expected ? "\"" : "");
    }
  return ok;
}

static inline bool
harness_check_int (long long actual, long long expected, const char *file, int line, const char *actual_expr,
                   const char *expected_expr)
{
  if (actual != expected)
    {
      harness_failed_checks++;
      printf ("  %s:%d: CHECK_INT_EQ (%s, %s) failed: %lld != %lld\n", file, line, actual_expr, expected_expr,
              actual, expected);
      return false;
    }
  return true;
}

#define CHECK(cond) harness_check ((cond), __FILE__, __LINE__, #cond)
#define CHECK_STR_EQ(a, b) harness_check_str ((a), (b), __FILE__, __LINE__, #a, #b)
#define CHECK_INT_EQ(a, b) harness_check_int ((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
/* Only in functions returning void (the tests themselves). */
#define REQUIRE(cond)                                                                                        \
  do                                                                                                         \
    {                                                                                                        \
      if (!CHECK (cond))                                                                                     \
        return;                                                                                              \
    }                                                                                                        \
  while (0)

static bool
harness_selected (const char *name, int argc, char **argv)
{
  if (argc <= 1)
    return true;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], name) == 0)
      return true;
  return false;
}

static int
harness_run (const struct harness_test *tests, size_t count, int argc, char **argv)
{
  unsigned passed = 0, failed = 0;
  /* Output is interleaved with what the code under test prints. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  for (size_t i = 0; i < count; i++)
    {
      if (!harness_selected (tests[i].name, argc, argv))
        continue;
      harness_failed_checks = 0;
      tests[i].run ();
      if (harness_failed_checks == 0)
        {
          passed++;
          printf ("PASS %s\n", tests[i].name);
        }
      else
        {
          failed++;
          printf ("FAIL %s (%u failed checks)\n", tests[i].name, harness_failed_checks);
        }
    }
  if (argc > 1 && passed + failed == 0)
    {
      printf ("no test matches the names given\n");
      return 1;
    }
  printf ("%u passed, %u failed\n", passed, failed);
  return failed ? 1 : 0;
}

#define HARNESS_MAIN(table)                                                                                  \
  int main (int argc, char **argv)                                                                           \
  {                                                                                                          \
    return harness_run ((table), sizeof (table) / sizeof ((table)[0]), argc, argv);                          \
  }

#endif
