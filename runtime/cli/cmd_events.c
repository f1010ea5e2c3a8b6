/* ward events [--stats] [--interval T] ID: runc's event stream.  Every
 * interval a {"type":"stats",...} line; an {"type":"oom",...} line as soon
 * as the OOM killer strikes in the container; ends when the container
 * stops.  --stats prints one stats line and exits. */
#include "config.h"
#include "commands.h"
#include "cgroup_stats.h"
#include "cleanup.h"
#include "lifecycle.h"
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>

enum
{
  OPT_STATS = 1000,
  OPT_INTERVAL,
};

static const struct option events_options[] = {
  { "stats", no_argument, NULL, OPT_STATS },
  { "interval", required_argument, NULL, OPT_INTERVAL },
  { NULL, 0, NULL, 0 },
};

struct events_request
{
  bool stats_once;
  long interval_ms;
};

/* "5s", "250ms", "1m", or bare seconds. */
static int
parse_interval (const char *text, long *ms, struct ward_error **err)
{
  char *end = NULL;
  double value = strtod (text, &end);
  double scale = 1000;
  if (strcmp (end, "ms") == 0)
    scale = 1;
  else if (strcmp (end, "m") == 0)
    scale = 60000;
  else if (*end && strcmp (end, "s") != 0)
    end = NULL;
  if (end == NULL || end == text || value <= 0)
    return ward_fail (err, 0, "events: --interval: invalid duration \"%s\"", text);
  *ms = (long)(value * scale);
  return 0;
}

static int
events_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct events_request *r = ctx;
  if (option == OPT_STATS)
    r->stats_once = true;
  else
    return parse_interval (value, &r->interval_ms, err);
  return 0;
}

static void
print_event (const char *type, const char *id, const struct cgroup *cg)
{
  struct json_writer *w = jw_new (false);
  if (w == NULL)
    return;
  jw_begin_object (w);
  jw_key_string (w, "type", type);
  jw_key_string (w, "id", id);
  if (cg)
    {
      jw_key (w, "data");
      cgroup_stats_write (cg, w);
    }
  jw_end_object (w);
  size_t length;
  const char *text = jw_text (w, &length);
  if (text)
    printf ("%.*s\n", (int)length, text);
  fflush (stdout);
  jw_free (w);
}

int
cmd_events (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct events_request r = { .interval_ms = 5000 };
  int first = options_parse ("events", argc, argv, "", events_options, events_option, &r, err);
  if (first < 0 || options_expect_operands ("events", argc, argv, first, 1, "events [--stats] ID", err) < 0)
    return -1;
  const char *id = argv[first];
  struct container_state state;
  enum container_status status;
  if (container_read_status (global->root, id, &state, &status, err) < 0)
    return -1;
  int ret = 0;
  if (state.cgroup.count == 0)
    ret = ward_fail (err, 0, "events: container \"%s\" has no cgroup", id);
  else if (status == STATUS_STOPPED)
    ret = ward_fail (err, 0, "events: container \"%s\" is stopped", id);
  else if (r.stats_once)
    print_event ("stats", id, &state.cgroup);
  else
    {
      /* OOM kills are reported as they happen (the kernel wakes us);
       * stats at the requested interval. */
      cleanup_close int notifier = cgroup_memory_notifier (&state.cgroup);
      uint64_t ooms = cgroup_oom_kills (&state.cgroup);
      long waited = r.interval_ms;
      for (;;)
        {
          if (waited >= r.interval_ms)
            {
              print_event ("stats", id, &state.cgroup);
              waited = 0;
            }
          struct pollfd p = { .fd = notifier, .events = POLLIN };
          poll (&p, notifier >= 0 ? 1 : 0, 100);
          waited += 100;
          if (cgroup_memory_notified_oom (&state.cgroup, notifier, &ooms))
            print_event ("oom", id, NULL);
          if (!state_process_alive (state.pid, state.pid_start_time))
            break;
        }
    }
  state_clear (&state);
  return ret;
}
