/* ward top [--once]: the containers under --root, one block each with a bar
 * per budget (time, CPU, egress, connections, cost: used / limit),
 * redrawn in place every second.  Usage comes from the snapshot the
 * container's supervisor writes (usage.h); without one, time and CPU are
 * still read from the state and the cgroup.  Plain ANSI escapes, so no
 * curses library is needed; --once draws one frame without them. */
#include "config.h"
#include "commands.h"
#include "budget.h"
#include "cleanup.h"
#include "container_list.h"
#include "lifecycle.h"
#include "options.h"
#include "usage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum
{
  OPT_ONCE = 1000,
};

static const struct option top_options[] = {
  { "once", no_argument, NULL, OPT_ONCE },
  { NULL, 0, NULL, 0 },
};

#define REFRESH_MS 1000
/* A snapshot older than this means the supervisor has stopped writing. */
#define STALE_NS (5 * 1000000000LL)

struct top_request
{
  bool once;
  bool terminal; /* stdout is one: escapes and colour */
  int columns;
};

static int
top_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  (void)value, (void)err;
  struct top_request *r = ctx;
  if (option == OPT_ONCE)
    r->once = true;
  return 0;
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Quantities as people read them: "1m05s", "12.3s", "1.5 MiB". */
static void
human_duration_ms (uint64_t ms, char *buf, size_t size)
{
  uint64_t s = ms / 1000;
  if (s < 60)
    snprintf (buf, size, "%" PRIu64 ".%" PRIu64 "s", s, ms % 1000 / 100);
  else if (s < 3600)
    snprintf (buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
  else
    snprintf (buf, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
}

static void
human_bytes (uint64_t bytes, char *buf, size_t size)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double value = (double)bytes;
  size_t i = 0;
  for (; value >= 1024 && i + 1 < sizeof units / sizeof units[0]; i++)
    value /= 1024;
  if (i == 0)
    snprintf (buf, size, "%" PRIu64 " B", bytes);
  else
    snprintf (buf, size, "%.1f %s", value, units[i]);
}

static void
human_units (uint64_t millis, char *buf, size_t size)
{
  snprintf (buf, size, "%" PRIu64 ".%02" PRIu64, millis / 1000, millis % 1000 / 10);
}

enum quantity
{
  QUANTITY_MS,
  QUANTITY_BYTES,
  QUANTITY_COUNT,
  QUANTITY_MILLIS, /* thousandths of a cost unit */
};

static void
human (enum quantity kind, uint64_t value, char *buf, size_t size)
{
  switch (kind)
    {
    case QUANTITY_MS:
      human_duration_ms (value, buf, size);
      break;
    case QUANTITY_BYTES:
      human_bytes (value, buf, size);
      break;
    case QUANTITY_MILLIS:
      human_units (value, buf, size);
      break;
    default:
      snprintf (buf, size, "%" PRIu64, value);
      break;
    }
}

/* One budget row: `label [#####-----] used / limit (n%)`; a limit in the
 * same unit as `used`, BUDGET_UNLIMITED for none (no bar then). */
static void
print_bar (const struct top_request *r, const char *label, enum quantity kind, uint64_t used, uint64_t limit)
{
  char used_text[32], limit_text[32];
  human (kind, used, used_text, sizeof used_text);
  if (limit == BUDGET_UNLIMITED)
    {
      printf ("  %-7s %s (no limit)%s\n", label, used_text, r->terminal ? "\033[K" : "");
      return;
    }
  human (kind, limit, limit_text, sizeof limit_text);
  int width = r->columns - 50;
  width = width < 10 ? 10 : width > 60 ? 60 : width;
  double fraction = limit ? (double)used / (double)limit : (used ? 1.0 : 0.0);
  int filled = fraction >= 1 ? width : (int)(fraction * width);
  const char *colour = fraction >= 0.9 ? "\033[31m" : fraction >= 0.75 ? "\033[33m" : "\033[32m";
  printf ("  %-7s [%s", label, r->terminal ? colour : "");
  for (int i = 0; i < width; i++)
    putchar (i < filled ? '#' : '-');
  printf ("%s] %s / %s (%d%%)%s\n", r->terminal ? "\033[0m" : "", used_text, limit_text,
          (int)(fraction * 100 > 999 ? 999 : fraction * 100), r->terminal ? "\033[K" : "");
}

/* Limits in the units the usage is kept in; unlimited stays unlimited. */
static uint64_t
scaled_limit (uint64_t limit, uint64_t scale)
{
  return limit == BUDGET_UNLIMITED || limit > BUDGET_UNLIMITED / scale ? BUDGET_UNLIMITED : limit * scale;
}

static void
print_container (const struct top_request *r, const char *root, const struct container_state *state,
                 enum container_status status)
{
  const char *eol = r->terminal ? "\033[K" : "";
  struct usage_snapshot s;
  bool have_snapshot = false;
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", root, state->id);
  cleanup_close int dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct ward_error *err = NULL;
  if (dir_fd >= 0 && usage_read_at (dir_fd, &s, &err) == 0)
    have_snapshot = true;
  bool malformed = !have_snapshot && err && err->errnum != ENOENT;
  ward_error_free (&err);

  printf ("%s%s%s  %s  pid %d", r->terminal ? "\033[1m" : "", state->id, r->terminal ? "\033[0m" : "",
          state_status_name (status), state->pid);
  if (!have_snapshot)
    {
      printf ("  %s%s\n", malformed ? "unreadable usage.json" : "no supervisor", eol);
      /* What ward itself knows: the time since create and the cgroup's CPU. */
      int64_t created;
      uint64_t cpu_usec;
      if (state->created && usage_parse_time (state->created, &created) == 0 && now_ns () > created)
        print_bar (r, "time", QUANTITY_MS, (uint64_t)((now_ns () - created) / 1000000), BUDGET_UNLIMITED);
      if (usage_cgroup_cpu_usec (&state->cgroup, &cpu_usec, &err) == 0)
        print_bar (r, "cpu", QUANTITY_MS, cpu_usec / 1000, BUDGET_UNLIMITED);
      ward_error_free (&err);
      printf ("%s\n", eol);
      return;
    }
  if (s.limits.policy[0])
    printf ("  policy %s", s.limits.policy);
  printf ("  on breach %s", budget_breach_name (s.limits.on_breach));
  int64_t measured;
  if (usage_parse_time (s.time, &measured) == 0 && now_ns () - measured > STALE_NS
      && status != STATUS_STOPPED)
    printf ("  (snapshot %" PRId64 "s old)", (now_ns () - measured) / 1000000000);
  if (s.breach != BUDGET_WITHIN)
    printf ("  %sBREACHED: %s%s", r->terminal ? "\033[1;31m" : "", budget_limit_name (s.breach),
            r->terminal ? "\033[0m" : "");
  printf ("%s\n", eol);
  print_bar (r, "time", QUANTITY_MS, s.used.wall_ms, scaled_limit (s.limits.timeout, 1000));
  print_bar (r, "cpu", QUANTITY_MS, s.used.cpu_usec / 1000, scaled_limit (s.limits.cpu_seconds, 1000));
  print_bar (r, "egress", QUANTITY_BYTES, s.used.egress_bytes, s.limits.egress_bytes);
  print_bar (r, "conns", QUANTITY_COUNT, s.used.connections, s.limits.connections);
  print_bar (r, "cost", QUANTITY_MILLIS, s.cost_millis, scaled_limit (s.limits.units, 1000));
  printf ("%s\n", eol);
}

static void
draw_frame (struct top_request *r, const char *root)
{
  struct winsize ws;
  r->columns = r->terminal && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
  /* Stopped containers have nothing left to watch. */
  struct container_listing *all = NULL;
  size_t listed = 0, count = 0;
  struct ward_error *ignored = NULL;
  if (container_list (root, &all, &listed, &ignored) < 0)
    ward_error_free (&ignored);
  for (size_t i = 0; i < listed; i++)
    count += all[i].status != STATUS_STOPPED;
  char clock[16];
  time_t t = time (NULL);
  struct tm tm;
  localtime_r (&t, &tm);
  strftime (clock, sizeof clock, "%H:%M:%S", &tm);
  if (r->terminal)
    fputs ("\033[H", stdout);
  printf ("ward top  %s  %zu container%s  %s%s\n", clock, count, count == 1 ? "" : "s",
          r->once ? "" : "(q or Ctrl-C to quit)", r->terminal ? "\033[K" : "");
  printf ("%s\n", r->terminal ? "\033[K" : "");
  if (count == 0)
    printf ("no running containers under %s%s\n", root, r->terminal ? "\033[K" : "");
  for (size_t i = 0; i < listed; i++)
    if (all[i].status != STATUS_STOPPED)
      print_container (r, root, &all[i].state, all[i].status);
  container_list_free (all, listed);
  if (r->terminal)
    fputs ("\033[J", stdout);
  fflush (stdout);
}

static volatile sig_atomic_t top_stopped;

static void
stop_top (int signum)
{
  (void)signum;
  top_stopped = 1;
}

/* Wait for the next refresh; false when asked to quit (q, a signal). */
static bool
wait_refresh (bool keys)
{
  struct pollfd p = { .fd = keys ? STDIN_FILENO : -1, .events = POLLIN };
  if (poll (&p, 1, REFRESH_MS) > 0 && (p.revents & POLLIN))
    {
      char c;
      if (read (STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q' || c == 3))
        return false;
    }
  return !top_stopped;
}

int
cmd_top (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct top_request r = { 0 };
  int first = options_parse ("top", argc, argv, "", top_options, top_option, &r, err);
  if (first < 0)
    return -1;
  if (first != argc)
    return ward_fail (err, 0, "top: unexpected argument \"%s\"", argv[first]);
  r.terminal = !r.once && isatty (STDOUT_FILENO);
  if (r.once)
    {
      draw_frame (&r, global->root);
      return 0;
    }
  struct sigaction sa = { .sa_handler = stop_top };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  /* Keys one at a time, unechoed, so that q quits at once. */
  struct termios saved;
  bool keys = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0;
  if (keys)
    {
      struct termios raw = saved;
      raw.c_lflag &= ~(ICANON | ECHO);
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      tcsetattr (STDIN_FILENO, TCSANOW, &raw);
    }
  /* The alternate screen leaves the shell's screen as it was on exit. */
  if (r.terminal)
    fputs ("\033[?1049h\033[?25l\033[2J", stdout);
  do
    {
      draw_frame (&r, global->root);
      if (!r.terminal)
        putchar ('\n');
    }
  while (wait_refresh (keys));
  if (r.terminal)
    fputs ("\033[?25h\033[?1049l", stdout);
  fflush (stdout);
  if (keys)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved);
  return 0;
}
