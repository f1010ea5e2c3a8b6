/* hooks_run: each hook gets the state JSON on stdin, exactly its args and
 * env, and a failure (status, signal, timeout) ends in one line that says
 * which hook and why — with nothing of the hook left running or unreaped. */
#include "config.h"
#include "harness.h"
#include "hooks.h"
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Scripts and their output live in one directory per test. */
static char dir[64];

static void
make_dir (void)
{
  strcpy (dir, "/tmp/ward-test-hooks-XXXXXX");
  if (mkdtemp (dir) == NULL)
    {
      perror ("mkdtemp");
      exit (1);
    }
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static void
remove_dir (void)
{
  nftw (dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
path_in_dir (const char *name)
{
  char *path = NULL;
  if (asprintf (&path, "%s/%s", dir, name) < 0)
    exit (1);
  return path;
}

/* An executable #!/bin/sh script in the test directory; `body` may use
 * $DIR for that directory. */
static char *
write_script (const char *name, const char *body)
{
  char *path = path_in_dir (name);
  FILE *f = fopen (path, "w");
  if (f == NULL)
    exit (1);
  fprintf (f, "#!/bin/sh\nDIR=%s\n%s\n", dir, body);
  fclose (f);
  chmod (path, 0755);
  return path;
}

/* A file's whole content ("" when absent), malloc'd. */
static char *
read_output (const char *name)
{
  char *path = path_in_dir (name);
  char *text = calloc (1, 65536);
  FILE *f = fopen (path, "r");
  if (f)
    {
      size_t n = fread (text, 1, 65535, f);
      text[n] = '\0';
      fclose (f);
    }
  free (path);
  return text;
}

/* config.json text with single quotes for double ones; a printf format. */
static struct spec *
parse_spec (const char *format, ...)
{
  char *text = NULL;
  va_list ap;
  va_start (ap, format);
  if (vasprintf (&text, format, ap) < 0)
    exit (1);
  va_end (ap);
  for (char *p = text; *p; p++)
    if (*p == '\'')
      *p = '"';
  struct spec *spec = NULL;
  struct ward_error *err = NULL;
  if (spec_parse ("config.json", text, strlen (text), &spec, &err) < 0)
    {
      printf ("  unexpected error: %s\n", err->message);
      ward_error_free (&err);
    }
  free (text);
  return spec;
}

/* Every hook was reaped: the test process has no child left. */
static bool
no_children_left (void)
{
  return waitpid (-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static double
seconds_since (const struct timespec *start)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Run the hooks of `point` and return the error message (malloc'd), or
 * NULL when they all succeeded. */
static char *
run_hooks (const struct spec *spec, enum spec_hook_point point, const char *state)
{
  struct ward_error *err = NULL;
  int ret = hooks_run (spec, point, state, &err);
  CHECK ((ret < 0) == (err != NULL));
  char *message = err ? strdup (err->message) : NULL;
  ward_error_free (&err);
  return message;
}

TEST (hook_reads_state_on_stdin)
{
  make_dir ();
  char *script = write_script ("stdin.sh", "cat > $DIR/state");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  const char *state = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42}";
  char *message = run_hooks (spec, HOOK_PRESTART, state);
  CHECK_STR_EQ (message, NULL);
  char *got = read_output ("state");
  CHECK_STR_EQ (got, state);
  CHECK (no_children_left ());
  free (got);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

/* Bigger than a pipe's buffer, so that it is written in pieces while the
 * hook reads. */
TEST (hook_reads_large_state)
{
  make_dir ();
  char *script = write_script ("stdin.sh", "wc -c > $DIR/count");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  size_t size = 1 << 20;
  char *state = malloc (size + 1);
  memset (state, 'x', size);
  state[size] = '\0';
  char *message = run_hooks (spec, HOOK_PRESTART, state);
  CHECK_STR_EQ (message, NULL);
  char *got = read_output ("count");
  CHECK_INT_EQ (atol (got), (long)size);
  free (got);
  free (message);
  free (state);
  free (script);
  spec_free (spec);
  remove_dir ();
}

/* A hook that never reads its stdin neither blocks nor kills ward (SIGPIPE). */
TEST (hook_ignoring_stdin_is_fine)
{
  make_dir ();
  char *quick = write_script ("quick.sh", "exit 0");
  char *slow = write_script ("slow.sh", "sleep 0.2; exit 0");
  struct spec *spec
      = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}, {'path': '%s', "
                    "'timeout': 10}]}}",
                    quick, slow);
  REQUIRE (spec != NULL);
  size_t size = 1 << 20;
  char *state = malloc (size + 1);
  memset (state, 'x', size);
  state[size] = '\0';
  char *message = run_hooks (spec, HOOK_PRESTART, state);
  CHECK_STR_EQ (message, NULL);
  CHECK (no_children_left ());
  free (message);
  free (state);
  free (quick);
  free (slow);
  spec_free (spec);
  remove_dir ();
}

/* argv exactly as given, argv[0] included (sh's own /proc cmdline shows
 * it), and the environment exactly as given: nothing of ward's. */
TEST (args_and_env_are_passed_exactly)
{
  make_dir ();
  setenv ("WARD_TEST_HOOKS_LEAK", "leaked", 1);
  char *script = write_script ("args.sh",
                               "tr '\\0' '\\n' < /proc/$$/cmdline > $DIR/args\n"
                               "env | grep -v '^PWD=' | sort > $DIR/env");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'createRuntime': [{'path': '/bin/sh', "
                                  "'args': ['my-hook', '%s', 'a b', '', '--x=1'], "
                                  "'env': ['FOO=bar baz', 'ZED=1']}]}}",
                                  script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_CREATE_RUNTIME, "{}");
  CHECK_STR_EQ (message, NULL);
  char *args = read_output ("args");
  char *expected_args = NULL;
  if (asprintf (&expected_args, "my-hook\n%s\na b\n\n--x=1\n", script) < 0)
    exit (1);
  CHECK_STR_EQ (args, expected_args);
  char *env = read_output ("env");
  CHECK_STR_EQ (env, "FOO=bar baz\nZED=1\n");
  unsetenv ("WARD_TEST_HOOKS_LEAK");
  free (env);
  free (args);
  free (expected_args);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

/* Without args the hook gets no arguments; without env, no environment. */
TEST (absent_args_and_env)
{
  make_dir ();
  setenv ("WARD_TEST_HOOKS_LEAK", "leaked", 1);
  char *script = write_script ("bare.sh", "echo $# > $DIR/count; env | grep -v '^PWD=' > $DIR/env; true");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'poststop': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_POSTSTOP, "{}");
  CHECK_STR_EQ (message, NULL);
  char *count = read_output ("count");
  CHECK_STR_EQ (count, "0\n");
  char *env = read_output ("env");
  CHECK_STR_EQ (env, "");
  unsetenv ("WARD_TEST_HOOKS_LEAK");
  free (env);
  free (count);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

TEST (failing_hook_names_status_and_stderr)
{
  make_dir ();
  char *script = write_script ("fail.sh",
                               "echo 'on stdout'\n"
                               "printf '\\n   \\n  no such device: /dev/foo  \\nsecond line\\n' >&2\n"
                               "exit 3");
  struct spec *spec
      = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'createRuntime': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_CREATE_RUNTIME, "{}");
  char *expected = NULL;
  if (asprintf (&expected, "createRuntime hook %s: exited with status 3: no such device: /dev/foo", script)
      < 0)
    exit (1);
  CHECK_STR_EQ (message, expected);
  CHECK (no_children_left ());
  free (expected);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

TEST (failing_hook_without_stderr)
{
  make_dir ();
  char *script = write_script ("fail.sh", "exit 1");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  char *expected = NULL;
  if (asprintf (&expected, "prestart hook %s: exited with status 1", script) < 0)
    exit (1);
  CHECK_STR_EQ (message, expected);
  free (expected);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

/* Only so much of a long line reaches the message. */
TEST (long_stderr_line_is_cut)
{
  make_dir ();
  char *script = write_script ("long.sh", "head -c 100000 /dev/zero | tr '\\0' 'e' >&2; exit 2");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  REQUIRE (message != NULL);
  CHECK (strstr (message, "exited with status 2: eeee") != NULL);
  CHECK (strlen (message) < strlen (script) + 300);
  CHECK (strcmp (message + strlen (message) - 3, "...") == 0);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

TEST (hook_killed_by_signal)
{
  make_dir ();
  char *script = write_script ("signal.sh", "kill -TERM $$");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  char *expected = NULL;
  if (asprintf (&expected, "prestart hook %s: killed by signal 15", script) < 0)
    exit (1);
  CHECK_STR_EQ (message, expected);
  free (expected);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

TEST (missing_hook_binary)
{
  make_dir ();
  char *missing = path_in_dir ("missing");
  struct spec *spec
      = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}]}}", missing);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  char *expected = NULL;
  if (asprintf (&expected, "prestart hook %s: exited with status 127: exec %s: No such file or directory",
                missing, missing)
      < 0)
    exit (1);
  CHECK_STR_EQ (message, expected);
  CHECK (no_children_left ());
  free (expected);
  free (message);
  free (missing);
  spec_free (spec);
  remove_dir ();
}

static bool
process_gone (pid_t pid)
{
  char path[64], state = '?';
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return true;
  /* A zombie left to init is dead enough. */
  bool ok = fscanf (f, "%*d (%*[^)]) %c", &state) == 1 && (state == 'Z' || state == 'X');
  fclose (f);
  return ok;
}

/* The hook and what it started are killed when the time is up. */
TEST (timeout_kills_the_hook)
{
  make_dir ();
  char *script = write_script ("slow.sh", "sleep 30 &\necho $! > $DIR/child\nsleep 30");
  struct spec *spec
      = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s', 'timeout': 1}]}}", script);
  REQUIRE (spec != NULL);
  struct timespec start;
  clock_gettime (CLOCK_MONOTONIC, &start);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  double elapsed = seconds_since (&start);
  char *expected = NULL;
  if (asprintf (&expected, "prestart hook %s: timed out after 1 s", script) < 0)
    exit (1);
  CHECK_STR_EQ (message, expected);
  CHECK (elapsed >= 0.9 && elapsed < 3.0);
  CHECK (no_children_left ());
  char *child = read_output ("child");
  pid_t background = (pid_t)atoi (child);
  CHECK (background > 0);
  bool gone = false;
  for (int i = 0; i < 100 && background > 0 && !(gone = process_gone (background)); i++)
    usleep (20000);
  CHECK (gone);
  free (child);
  free (expected);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

/* A hook that finishes in time is not cut short by its timeout. */
TEST (timeout_not_reached)
{
  make_dir ();
  char *script = write_script ("ok.sh", "sleep 0.3; cat > /dev/null");
  struct spec *spec
      = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s', 'timeout': 5}]}}", script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  CHECK_STR_EQ (message, NULL);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

/* Output beyond what is kept is drained, so the hook never blocks on it. */
TEST (chatty_hook_does_not_block)
{
  make_dir ();
  char *script
      = write_script ("chatty.sh", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2; exit 0");
  struct spec *spec = parse_spec (
      "{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s', 'timeout': 10}]}}", script);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  CHECK_STR_EQ (message, NULL);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

static struct spec *
three_hooks (enum spec_hook_point point, char **scripts)
{
  scripts[0] = write_script ("one.sh", "echo one >> $DIR/order");
  scripts[1] = write_script ("two.sh", "echo two >> $DIR/order; echo two failed >&2; exit 4");
  scripts[2] = write_script ("three.sh", "echo three >> $DIR/order");
  return parse_spec (
      "{'ociVersion': '1.2.0', 'hooks': {'%s': [{'path': '%s'}, {'path': '%s'}, {'path': '%s'}]}}",
      spec_hook_point_name (point), scripts[0], scripts[1], scripts[2]);
}

TEST (hooks_run_in_order_and_stop_at_first_failure)
{
  make_dir ();
  char *scripts[3];
  struct spec *spec = three_hooks (HOOK_CREATE_RUNTIME, scripts);
  REQUIRE (spec != NULL);
  char *message = run_hooks (spec, HOOK_CREATE_RUNTIME, "{}");
  char *expected = NULL;
  if (asprintf (&expected, "createRuntime hook %s: exited with status 4: two failed", scripts[1]) < 0)
    exit (1);
  CHECK_STR_EQ (message, expected);
  char *order = read_output ("order");
  CHECK_STR_EQ (order, "one\ntwo\n");
  /* Other points' hooks are not run. */
  char *none = run_hooks (spec, HOOK_PRESTART, "{}");
  CHECK_STR_EQ (none, NULL);
  free (order);
  free (expected);
  free (message);
  for (int i = 0; i < 3; i++)
    free (scripts[i]);
  spec_free (spec);
  remove_dir ();
}

/* The spec: a failing poststart or poststop hook is a warning, and the
 * remaining hooks still run. */
TEST (logged_hooks_never_fail)
{
  make_dir ();
  char *scripts[3];
  struct spec *spec = three_hooks (HOOK_POSTSTOP, scripts);
  REQUIRE (spec != NULL);
  hooks_run_logged (spec, HOOK_POSTSTOP, "{}");
  char *order = read_output ("order");
  CHECK_STR_EQ (order, "one\ntwo\nthree\n");
  CHECK (no_children_left ());
  free (order);
  for (int i = 0; i < 3; i++)
    free (scripts[i]);
  spec_free (spec);
  remove_dir ();
}

/* ward's own signal handling is as it was before the hooks ran. */
TEST (sigpipe_disposition_restored)
{
  make_dir ();
  char *script = write_script ("quick.sh", "exit 0");
  struct spec *spec = parse_spec ("{'ociVersion': '1.2.0', 'hooks': {'prestart': [{'path': '%s'}]}}", script);
  REQUIRE (spec != NULL);
  struct sigaction before, after;
  sigaction (SIGPIPE, NULL, &before);
  char *message = run_hooks (spec, HOOK_PRESTART, "{}");
  sigaction (SIGPIPE, NULL, &after);
  CHECK_STR_EQ (message, NULL);
  CHECK (before.sa_handler == after.sa_handler);
  free (message);
  free (script);
  spec_free (spec);
  remove_dir ();
}

static const struct harness_test tests[] = {
  TEST_ENTRY (hook_reads_state_on_stdin),   TEST_ENTRY (hook_reads_large_state),
  TEST_ENTRY (hook_ignoring_stdin_is_fine), TEST_ENTRY (args_and_env_are_passed_exactly),
  TEST_ENTRY (absent_args_and_env),         TEST_ENTRY (failing_hook_names_status_and_stderr),
  TEST_ENTRY (failing_hook_without_stderr), TEST_ENTRY (long_stderr_line_is_cut),
  TEST_ENTRY (hook_killed_by_signal),       TEST_ENTRY (missing_hook_binary),
  TEST_ENTRY (timeout_kills_the_hook),      TEST_ENTRY (timeout_not_reached),
  TEST_ENTRY (chatty_hook_does_not_block),  TEST_ENTRY (hooks_run_in_order_and_stop_at_first_failure),
  TEST_ENTRY (logged_hooks_never_fail),     TEST_ENTRY (sigpipe_disposition_restored),
};

HARNESS_MAIN (tests)
