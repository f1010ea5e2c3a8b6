/* The supervisor's watchdog: a timer in its epoll loop that reads what the
 * container has used (wall clock, CPU from its cgroup, bytes and new
 * connections from the firewall's counters), writes the usage snapshot
 * `ward top` shows, and acts once a limit of the budget is gone over:
 *
 *   kill    SIGTERM to the init (by its pidfd), then after the budget's
 *           grace SIGKILL to every process of its cgroup;
 *   freeze  the cgroup is frozen and left to a person (`ward resume`,
 *           `ward delete`): the watchdog records on, but acts no more.
 *
 * The connect rate is not the watchdog's: the firewall rejects the excess
 * in the kernel (egress_nft.h).  Wall-clock time spent paused (frozen by
 * anyone) does not count against the timeout.
 *
 * Audit records (audit.h): watchdog.breach {limit, used, allowed, unit,
 * action}, watchdog.kill {signal, processes}, watchdog.freeze {}, and
 * budget.usage (usage.json's fields but limits, with the connections to
 * each metered domain) every usage_record_interval seconds and once more
 * at the end. */
#ifndef WARD_WATCHDOG_H
#define WARD_WATCHDOG_H

#include <sys/types.h>

#include "audit.h"
#include "budget.h"
#include "egress_nft.h"
#include "error.h"

/* Poll this often when a limit is close (or a kill is under way), and
 * this often otherwise. */
#define WATCHDOG_POLL_CLOSE_MS 250
#define WATCHDOG_POLL_IDLE_MS 1000

struct watchdog_config
{
  struct budget budget;
  pid_t init_pid;
  int init_pidfd;          /* borrowed */
  int state_dir_fd;        /* <root>/<id>, for usage.json; owned; -1: none is written */
  struct egress_nft *nft;  /* borrowed: its counters */
  struct audit_log *audit; /* borrowed */
  /* Seconds between budget.usage records while the container runs (from
   * ward.conf); 0: only the final one. */
  uint64_t usage_record_interval;
};

struct watchdog;

/* Make the timer and register it with `epoll_fd`; the clock starts now.
 * The watchdog owns config->state_dir_fd once this succeeds. */
int watchdog_new (const struct watchdog_config *config, int epoll_fd, struct watchdog **out,
                  struct ward_error **err);

/* The init has exited: a kill under way ends (SIGKILL to whatever is left
 * of the cgroup), and the last usage goes to the audit log, not to
 * usage.json: `ward delete` may be removing the state directory. */
void watchdog_finish (struct watchdog *w);

void watchdog_free (struct watchdog *w);

#endif
