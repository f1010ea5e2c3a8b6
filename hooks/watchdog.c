#include "config.h"
#include "watchdog.h"
#include "cgroup.h"
#include "cleanup.h"
#include "event_loop.h"
#include "fs.h"
#include "state.h"
#include "usage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* A limit is close when less than this is left of it (time), or this
 * share of it is used (the rest). */
#define CLOSE_MS 2000
#define CLOSE_PERCENT 80

enum watchdog_phase
{
  WATCHING,
  TERMINATING, /* SIGTERM sent; SIGKILL at kill_at_ms */
  KILLED,
  HANDED_OVER, /* frozen for a person: recorded, not acted on */
};

struct watchdog
{
  struct watchdog_config config;
  struct event_source timer;
  int lock_fd; /* the state directory's lock, which every ward command takes */
  enum watchdog_phase phase;
  enum budget_limit breach;
  uint64_t last_ms, active_ms, kill_at_ms;
  uint64_t usage_recorded_ms; /* when the last budget.usage record was written */
  /* The init's cgroup, found again whenever /proc/PID/cgroup changes: ward
   * gives us the init before it has entered its v1 hierarchies. */
  struct cgroup cgroup;
  char *cgroup_text;
  struct budget_usage used;
};

static uint64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* As in the supervisor: a failed record or read must not stop the
 * watching.  stderr is /dev/null unless someone debugs. */
static void
note (struct ward_error **err)
{
  if (*err)
    fprintf (stderr, "ward-hook watchdog: %s\n", (*err)->message);
  ward_error_free (err);
}

static bool
init_exited (const struct watchdog *w)
{
  struct pollfd p = { .fd = w->config.init_pidfd, .events = POLLIN };
  return poll (&p, 1, 0) > 0;
}

/* Does any hierarchy of `theirs` (a /proc/PID/cgroup text) still name the
 * cgroup we are in?  Then the init has not moved into its own yet (ward
 * clones it into its cgroup2 directory and it joins the v1 ones itself,
 * while we already run): measuring or killing "its" cgroup now would hit
 * ward's, and everything else in it. */
static bool
shares_our_cgroup (const char *theirs)
{
  cleanup_free char *ours = NULL;
  if (fs_read_file ("/proc/self/cgroup", &ours, NULL, NULL) < 0)
    return true; /* cannot tell: do not trust it */
  for (const char *line = ours; *line;)
    {
      size_t length = strcspn (line, "\n");
      for (const char *other = theirs; *other;)
        {
          size_t other_length = strcspn (other, "\n");
          if (other_length == length && strncmp (other, line, length) == 0)
            return true;
          other += other_length + (other[other_length] == '\n');
        }
      line += length + (line[length] == '\n');
    }
  return false;
}

static void
refresh_cgroup (struct watchdog *w)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cgroup", (int)w->config.init_pid);
  cleanup_free char *text = NULL;
  if (fs_read_file (path, &text, NULL, NULL) < 0)
    return;
  if (w->cgroup_text && strcmp (text, w->cgroup_text) == 0)
    return;
  if (shares_our_cgroup (text))
    return;
  struct ward_error *err = NULL;
  cgroup_clear (&w->cgroup);
  if (cgroup_of_process (w->config.init_pid, &w->cgroup, &err) < 0)
    {
      note (&err);
      return;
    }
  free (w->cgroup_text);
  w->cgroup_text = steal_pointer (&text);
}

static void
measure (struct watchdog *w, uint64_t now)
{
  refresh_cgroup (w);
  bool paused = w->cgroup.count > 0 && cgroup_is_frozen (&w->cgroup);
  if (!paused)
    w->active_ms += now - w->last_ms;
  w->last_ms = now;
  w->used.wall_ms = w->active_ms;
  struct ward_error *err = NULL;
  uint64_t cpu = 0;
  if (w->cgroup.count > 0 && usage_cgroup_cpu_usec (&w->cgroup, &cpu, &err) == 0)
    w->used.cpu_usec = cpu;
  note (&err);
  struct egress_nft_counters counters;
  if (w->config.nft && egress_nft_read_counters (w->config.nft, &counters, &err) == 0)
    {
      w->used.egress_bytes = counters.bytes_out + counters.bytes_in;
      w->used.connections = counters.connections;
      _Static_assert(BUDGET_METERED_MAX <= EGRESS_NFT_METERED_MAX, "a counter for every metered domain");
      memcpy (w->used.metered_connections, counters.metered, sizeof w->used.metered_connections);
    }
  note (&err);
}

/* What was used of `limit` and what was allowed, in the limit's unit. */
static void
write_amounts (struct json_writer *j, const struct budget *b, const struct budget_usage *u,
               enum budget_limit limit)
{
  char used[48], allowed[48];
  const char *unit = "";
  switch (limit)
    {
    case BUDGET_TIMEOUT:
      snprintf (used, sizeof used, "%" PRIu64 ".%03" PRIu64, u->wall_ms / 1000, u->wall_ms % 1000);
      snprintf (allowed, sizeof allowed, "%" PRIu64, b->timeout);
      unit = "seconds";
      break;
    case BUDGET_CPU_SECONDS:
      snprintf (used, sizeof used, "%" PRIu64 ".%03" PRIu64, u->cpu_usec / 1000000,
                u->cpu_usec / 1000 % 1000);
      snprintf (allowed, sizeof allowed, "%" PRIu64, b->cpu_seconds);
      unit = "seconds";
      break;
    case BUDGET_EGRESS_BYTES:
      snprintf (used, sizeof used, "%" PRIu64, u->egress_bytes);
      snprintf (allowed, sizeof allowed, "%" PRIu64, b->egress_bytes);
      unit = "bytes";
      break;
    case BUDGET_CONNECTIONS:
      snprintf (used, sizeof used, "%" PRIu64, u->connections);
      snprintf (allowed, sizeof allowed, "%" PRIu64, b->connections);
      unit = "connections";
      break;
    default:
      {
        uint64_t cost = budget_cost_millis (&b->rates, u);
        snprintf (used, sizeof used, "%" PRIu64 ".%03" PRIu64, cost / 1000, cost % 1000);
        snprintf (allowed, sizeof allowed, "%" PRIu64, b->units);
        unit = "units";
      }
    }
  jw_key (j, "used");
  jw_number (j, used);
  jw_key (j, "allowed");
  jw_number (j, allowed);
  jw_key_string (j, "unit", unit);
}

static void
record (struct watchdog *w, struct json_writer *j)
{
  struct ward_error *err = NULL;
  if (j == NULL)
    ward_fail (&err, ENOMEM, "watchdog: audit record");
  else
    audit_record_write (w->config.audit, j, &err);
  note (&err);
}

static void
record_breach (struct watchdog *w, enum budget_limit limit)
{
  struct json_writer *j = audit_record_begin (w->config.audit, "watchdog.breach", true);
  if (j)
    {
      jw_key_string (j, "limit", budget_limit_name (limit));
      write_amounts (j, &w->config.budget, &w->used, limit);
      jw_key_string (j, "action", budget_breach_name (w->config.budget.on_breach));
    }
  record (w, j);
}

static void
record_kill (struct watchdog *w, const char *signal_name, size_t processes)
{
  struct json_writer *j = audit_record_begin (w->config.audit, "watchdog.kill", false);
  if (j)
    {
      jw_key_string (j, "signal", signal_name);
      jw_key (j, "processes");
      jw_uint (j, processes);
    }
  record (w, j);
}

static size_t
cgroup_process_count (const struct cgroup *cg)
{
  cleanup_free pid_t *pids = NULL;
  size_t count = 0;
  if (cg->count == 0 || cgroup_pids (cg, &pids, &count, NULL) < 0)
    return 0;
  return count;
}

/* SIGKILL to every process of the cgroup (cgroup.kill on v2, each pid
 * elsewhere, thawing a frozen one so that the kill is acted on). */
static void
kill_everything (struct watchdog *w)
{
  size_t processes = cgroup_process_count (&w->cgroup);
  struct ward_error *err = NULL;
  if (w->cgroup.count > 0)
    cgroup_signal_all (&w->cgroup, SIGKILL, &err);
  note (&err);
  /* Without a cgroup the init at least goes, and with it its pid namespace. */
  if (syscall (SYS_pidfd_send_signal, w->config.init_pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
    fprintf (stderr, "ward-hook watchdog: pidfd_send_signal SIGKILL: %s\n", strerror (errno));
  record_kill (w, "SIGKILL", processes);
  w->phase = KILLED;
}

static void
act (struct watchdog *w, enum budget_limit limit, uint64_t now)
{
  w->breach = limit;
  record_breach (w, limit);
  if (w->config.budget.on_breach == POLICY_BREACH_FREEZE)
    {
      struct ward_error *err = NULL;
      if (w->cgroup.count > 0 && cgroup_freeze (&w->cgroup, true, &err) == 0)
        {
          record (w, audit_record_begin (w->config.audit, "watchdog.freeze", false));
          w->phase = HANDED_OVER;
          return;
        }
      /* A container that cannot be frozen is not left running over its
       * budget: it is killed instead. */
      note (&err);
    }
  if (syscall (SYS_pidfd_send_signal, w->config.init_pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
    fprintf (stderr, "ward-hook watchdog: pidfd_send_signal SIGTERM: %s\n", strerror (errno));
  record_kill (w, "SIGTERM", 1);
  w->kill_at_ms = now + w->config.budget.grace * 1000;
  w->phase = TERMINATING;
}

static bool
close_to (uint64_t used, uint64_t limit)
{
  return limit != BUDGET_UNLIMITED && used >= limit / 100 * CLOSE_PERCENT;
}

static uint64_t
next_poll_ms (const struct watchdog *w)
{
  const struct budget *b = &w->config.budget;
  const struct budget_usage *u = &w->used;
  if (w->phase == TERMINATING)
    return WATCHDOG_POLL_CLOSE_MS;
  if (w->phase != WATCHING)
    return WATCHDOG_POLL_IDLE_MS;
  bool close = (b->timeout != BUDGET_UNLIMITED && u->wall_ms + CLOSE_MS >= b->timeout * 1000)
      || (b->cpu_seconds != BUDGET_UNLIMITED && u->cpu_usec / 1000 + CLOSE_MS >= b->cpu_seconds * 1000)
      || close_to (u->egress_bytes, b->egress_bytes) || close_to (u->connections, b->connections)
      || close_to (budget_cost_millis (&b->rates, u) / 1000, b->units);
  return close ? WATCHDOG_POLL_CLOSE_MS : WATCHDOG_POLL_IDLE_MS;
}

static void
arm (struct watchdog *w, uint64_t ms)
{
  struct itimerspec when = { .it_value = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 } };
  timerfd_settime (w->timer.fd, 0, &when, NULL);
}

static void
write_snapshot (struct watchdog *w)
{
  if (w->config.state_dir_fd < 0)
    return;
  struct usage_snapshot snapshot = {
    .used = w->used,
    .cost_millis = budget_cost_millis (&w->config.budget.rates, &w->used),
    .breach = w->breach,
    .limits = w->config.budget,
  };
  /* Under ward's lock, never blocking on it (a command holds it only for
   * a moment, and the next poll writes again): a `ward delete` removing
   * the directory would otherwise meet our temporary file in it. */
  if (w->lock_fd < 0 || flock (w->lock_fd, LOCK_EX | LOCK_NB) < 0)
    return;
  struct stat st;
  struct ward_error *err = NULL;
  if (fstat (w->config.state_dir_fd, &st) == 0 && st.st_nlink > 0 && !init_exited (w))
    usage_write_at (w->config.state_dir_fd, &snapshot, &err);
  flock (w->lock_fd, LOCK_UN);
  note (&err);
}

/* `thousandths` as a JSON number with three decimals. */
static void
write_thousandths (struct json_writer *j, const char *key, uint64_t thousandths)
{
  char text[48];
  snprintf (text, sizeof text, "%" PRIu64 ".%03" PRIu64, thousandths / 1000, thousandths % 1000);
  jw_key (j, key);
  jw_number (j, text);
}

/* What usage.json says but the limits, which the budget record has. */
static void
record_usage (struct watchdog *w, bool final)
{
  const struct budget_rates *rates = &w->config.budget.rates;
  struct json_writer *j = audit_record_begin (w->config.audit, "budget.usage", false);
  if (j)
    {
      write_thousandths (j, "wall_seconds", w->used.wall_ms);
      write_thousandths (j, "cpu_seconds", w->used.cpu_usec / 1000);
      jw_key (j, "egress_bytes");
      jw_uint (j, w->used.egress_bytes);
      jw_key (j, "connections");
      jw_uint (j, w->used.connections);
      jw_key (j, "metered_connections");
      jw_begin_object (j);
      for (size_t i = 0; i < rates->metered_count && i < BUDGET_METERED_MAX; i++)
        {
          jw_key (j, rates->metered[i].domain);
          jw_uint (j, w->used.metered_connections[i]);
        }
      jw_end_object (j);
      write_thousandths (j, "cost", budget_cost_millis (rates, &w->used));
      jw_key (j, "breach");
      if (w->breach == BUDGET_WITHIN)
        jw_null (j);
      else
        jw_string (j, budget_limit_name (w->breach));
      jw_key_bool (j, "final", final);
    }
  record (w, j);
}

static void
tick (struct event_source *source, uint32_t events)
{
  (void)events;
  struct watchdog *w = (struct watchdog *)((char *)source - offsetof (struct watchdog, timer));
  uint64_t expirations;
  if (read (source->fd, &expirations, sizeof expirations) < 0 && errno == EAGAIN)
    return;
  /* The loop sees the pidfd next; a snapshot now could race `ward
   * delete` removing the state directory. */
  if (init_exited (w))
    return;
  uint64_t now = now_ms ();
  measure (w, now);
  if (w->phase == WATCHING)
    {
      enum budget_limit limit = budget_check (&w->config.budget, &w->used);
      if (limit != BUDGET_WITHIN)
        act (w, limit, now);
    }
  else if (w->phase == TERMINATING && now >= w->kill_at_ms)
    kill_everything (w);
  write_snapshot (w);
  /* The poll has measured already: a periodic record costs one write. */
  uint64_t interval = w->config.usage_record_interval;
  if (interval != 0 && now - w->usage_recorded_ms >= interval * 1000)
    {
      record_usage (w, false);
      w->usage_recorded_ms = now;
    }
  arm (w, next_poll_ms (w));
}

int
watchdog_new (const struct watchdog_config *config, int epoll_fd, struct watchdog **out,
              struct ward_error **err)
{
  struct watchdog *w = calloc (1, sizeof *w);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "watchdog");
  w->config = *config;
  w->last_ms = w->usage_recorded_ms = now_ms ();
  w->lock_fd
      = config->state_dir_fd < 0 ? -1 : openat (config->state_dir_fd, STATE_LOCK_FILE, O_RDWR | O_CLOEXEC);
  w->timer.ready = tick;
  w->timer.fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (w->timer.fd < 0)
    {
      ward_fail (err, errno, "watchdog: timerfd_create");
      w->config.state_dir_fd = -1; /* still the caller's */
      watchdog_free (w);
      return -1;
    }
  struct epoll_event event = { .events = EPOLLIN, .data.ptr = &w->timer };
  if (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, w->timer.fd, &event) < 0)
    {
      ward_fail (err, errno, "watchdog: epoll_ctl");
      w->config.state_dir_fd = -1;
      watchdog_free (w);
      return -1;
    }
  /* The first look soon: a short timeout or a tight CPU budget is close
   * from the start. */
  arm (w, WATCHDOG_POLL_CLOSE_MS);
  *out = w;
  return 0;
}

void
watchdog_finish (struct watchdog *w)
{
  if (w == NULL)
    return;
  /* The init is gone; with it, in a pid namespace, everything else.  Not
   * without one: a kill under way is finished now rather than after the
   * grace, since the supervisor ends with the init. */
  if (w->phase == TERMINATING && cgroup_process_count (&w->cgroup) > 0)
    kill_everything (w);
  measure (w, now_ms ());
  record_usage (w, true);
}

void
watchdog_free (struct watchdog *w)
{
  if (w == NULL)
    return;
  if (w->timer.fd >= 0)
    close (w->timer.fd);
  if (w->lock_fd >= 0)
    close (w->lock_fd);
  if (w->config.state_dir_fd >= 0)
    close (w->config.state_dir_fd);
  cgroup_clear (&w->cgroup);
  free (w->cgroup_text);
  free (w);
}
