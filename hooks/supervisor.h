/* The per-container egress supervisor, forked (detached) by ward-hook: one
 * epoll loop holding the container init's pidfd, the DNS proxy and the
 * NFLOG socket.  It answers the container's DNS (allowed names opening the
 * firewall for their addresses), writes refused connections to the audit
 * log, watches the container's budget (watchdog.h), and exits when the
 * init does. */
#ifndef WARD_SUPERVISOR_H
#define WARD_SUPERVISOR_H

#include "audit.h"
#include "dns_proxy.h"
#include "egress_allowlist.h"
#include "egress_nft.h"
#include "watchdog.h"

struct supervisor_config
{
  const char *policy;                       /* the policy's name, for the audit log */
  const struct egress_allowlist *allowlist; /* the name rules judge DNS */
  const struct egress_nft_options *options; /* as installed */
  struct egress_nft *nft;                   /* bound to the container's netns */
  struct dns_listen_fds listen;             /* in the container's netns; owned */
  struct dns_upstream upstreams[DNS_UPSTREAMS_MAX];
  size_t upstream_count;
  int nflog_fd;   /* bound in the container's netns; owned */
  int init_pidfd; /* the container's init; owned */
  struct audit_log *audit;
  bool watch;                      /* run the watchdog */
  struct watchdog_config watchdog; /* its state_dir_fd is owned until supervisor_prepare */
};

struct supervisor;

/* Everything set up (the DNS proxy, the epoll loop, the egress.installed
 * record) in the hook itself, before it forks: a failure is the hook's,
 * and once it has forked the container may run at once, with nothing left
 * for the supervisor to get ready. */
int supervisor_prepare (struct supervisor_config *config, struct supervisor **out, struct ward_error **err);

/* In the detached supervisor: the loop, until the init exits; then the
 * supervisor.exit record.  Frees `s`; returns the exit status. */
int supervisor_run (struct supervisor *s);

/* For a hook that failed after supervisor_prepare. */
void supervisor_free (struct supervisor *s);

#endif
