/* ward-hook: the OCI hook (createRuntime or prestart) that gives a
 * container its egress allowlist.  Reading the container's state on stdin,
 * it chooses the container's policy as ward does, installs the nftables
 * ruleset in the container's network namespace, makes the DNS proxy's and
 * the NFLOG reader's sockets there, and forks the detached supervisor that
 * serves them until the container's init exits.  It exits 0 only once all
 * of that exists, so the container never runs unfiltered; on any failure
 * it exits non-zero, the runtime refuses the container, and no supervisor
 * is left. */
#include "config.h"
#include "egress_hook.h"
#include "audit.h"
#include "budget.h"
#include "cleanup.h"
#include "container_policy.h"
#include "dns_proxy.h"
#include "egress_nft.h"
#include "egress_policy.h"
#include "hook_state.h"
#include "nflog.h"
#include "policy.h"
#include "spec.h"
#include "supervisor.h"
#include "ward_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The proxy's port on the container's loopback (DNS to port 53 anywhere
 * is redirected there): high, so that it rarely meets a port the
 * container wants; the next ones when it is taken (a joined namespace). */
#define PROXY_PORT_FIRST 53530
#define PROXY_PORT_TRIES 16

/* Everything the hook makes, handed to the supervisor or released. */
struct hook
{
  struct hook_state state;
  struct ward_conf *conf;
  struct spec *spec;
  const char *policy_name;
  struct policy *policy;
  struct egress_allowlist allowlist;
  struct egress_nft_options options;
  int init_pidfd;
  int netns_fd;
  struct egress_nft *nft;
  struct budget budget;
  const char *root; /* ward's --root: usage.json goes to <root>/<id>; NULL: none */
  struct supervisor_config supervisor;
};

/* A budget the policy does not allow fails the hook, and with it create:
 * a container must not run with limits other than it asked for. */
static int
resolve_budget (struct hook *h, struct ward_error **err)
{
  size_t count = h->spec->annotations_count;
  cleanup_free char **keys = calloc (count + 1, sizeof *keys);
  cleanup_free char **values = calloc (count + 1, sizeof *values);
  if (keys == NULL || values == NULL)
    return ward_fail (err, ENOMEM, "budget");
  for (size_t i = 0; i < count; i++)
    {
      keys[i] = h->spec->annotations[i].key;
      values[i] = h->spec->annotations[i].value;
    }
  return budget_resolve (h->policy, keys, values, count, &h->budget, err);
}

static int
load_policy (struct hook *h, const char *bundle, struct ward_error **err)
{
  cleanup_free char *config_path = NULL;
  if (asprintf (&config_path, "%s/config.json", bundle) < 0)
    return ward_fail (err, ENOMEM, "config.json");
  if (ward_conf_load (&h->conf, err) < 0 || spec_load (config_path, &h->spec, err) < 0
      || container_policy_choose (h->conf, h->spec, &h->policy_name, err) < 0)
    return -1;
  if (strcmp (h->policy_name, WARD_UNCONFINED) == 0)
    return 0;
  if (policy_load (container_policy_directory (h->conf), h->policy_name, &h->policy, err) < 0)
    return ward_error_prefix (err, "policy %s", h->policy_name);
  if (resolve_budget (h, err) < 0)
    return -1;
  return egress_allowlist_from_policy (h->policy, h->spec, &h->allowlist, err);
}

static int
same_file (int fd, const char *path, bool *same, struct ward_error **err)
{
  struct stat a, b;
  if (fstat (fd, &a) < 0)
    return ward_fail (err, errno, "fstat network namespace");
  if (stat (path, &b) < 0)
    {
      /* A sandbox may hide pid 1 from us even as root: then it is not a
       * namespace we could be handed either, and our own is still checked. */
      if (errno == EACCES || errno == EPERM)
        {
          *same = false;
          return 0;
        }
      return ward_fail (err, errno, "stat %s", path);
    }
  *same = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  return 0;
}

/* The init's network namespace, refused when it is the host's or ours (the
 * engine's): rules there would filter the host, and none at all would
 * leave a policy that controls egress silently open. */
static int
open_container_netns (struct hook *h, struct ward_error **err)
{
  /* The pidfd first: from then on the pid cannot be another process's
   * without the pidfd telling (it becomes readable when the init exits). */
  h->init_pidfd = (int)syscall (SYS_pidfd_open, h->state.pid, 0);
  if (h->init_pidfd < 0)
    return ward_fail (err, errno, "pidfd_open %d (the container's init)", h->state.pid);
  /* A namespace joined by path is opened by that path: the init may not
   * have joined it yet when ward (which starts us early) gives the state,
   * and it is the same namespace once it has. */
  char own[64];
  snprintf (own, sizeof own, "/proc/%d/ns/net", h->state.pid);
  const char *joined = h->spec->linux_config.namespaces[NS_NETWORK].path;
  const char *path = joined ? joined : own;
  h->netns_fd = open (path, O_RDONLY | O_CLOEXEC);
  if (h->netns_fd < 0)
    return ward_fail (err, errno, "open %s", path);
  bool host = false, ours = false;
  if (same_file (h->netns_fd, "/proc/1/ns/net", &host, err) < 0
      || same_file (h->netns_fd, "/proc/self/ns/net", &ours, err) < 0)
    return -1;
  if (host || ours)
    return ward_fail (err, 0, "container %s shares the host's network namespace; policy %s controls egress",
                      h->state.id, h->policy_name);
  struct pollfd exited = { .fd = h->init_pidfd, .events = POLLIN };
  if (poll (&exited, 1, 0) > 0)
    return ward_fail (err, ESRCH, "container %s: its init exited", h->state.id);
  return 0;
}

static int
listen_for_dns (struct hook *h, struct ward_error **err)
{
  for (int i = 0; i < PROXY_PORT_TRIES; i++)
    {
      uint16_t port = PROXY_PORT_FIRST + i;
      if (dns_proxy_listen_in_netns (h->netns_fd, port, &h->supervisor.listen, err) == 0)
        {
          h->options.proxy_port = port;
          return 0;
        }
      if ((*err)->errnum != EADDRINUSE || i + 1 == PROXY_PORT_TRIES)
        return -1;
      ward_error_free (err);
    }
  return -1;
}

/* NFLOG groups belong to a network namespace: bind inside the container's,
 * then come back. */
static int
nflog_open_in_netns (int netns_fd, uint16_t group, struct ward_error **err)
{
  cleanup_close int home = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0)
    return ward_fail (err, errno, "open /proc/thread-self/ns/net");
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return ward_fail (err, errno, "nflog: enter the container's network namespace");
  int fd = nflog_open (group, err);
  if (setns (home, CLONE_NEWNET) < 0)
    {
      /* Going on in the container's namespace would make every later
       * socket (the upstream resolvers') the container's. */
      perror ("ward-hook: cannot return to the original network namespace");
      abort ();
    }
  return fd;
}

static int
find_upstreams (struct hook *h, struct ward_error **err)
{
  struct supervisor_config *s = &h->supervisor;
  const char *list = h->conf->dns_upstream;
  if (list == NULL || *list == '\0')
    return dns_upstreams_from_resolv_conf ("/etc/resolv.conf", s->upstreams, DNS_UPSTREAMS_MAX,
                                           &s->upstream_count, err);
  cleanup_free char *copy = strdup (list);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "dns_upstream");
  char *saveptr = NULL;
  for (char *item = strtok_r (copy, ", \t", &saveptr); item; item = strtok_r (NULL, ", \t", &saveptr))
    {
      if (s->upstream_count == DNS_UPSTREAMS_MAX)
        return ward_fail (err, 0, "%s: dns_upstream: more than %d resolvers", h->conf->path,
                          DNS_UPSTREAMS_MAX);
      if (dns_upstream_parse (item, &s->upstreams[s->upstream_count++], err) < 0)
        return ward_error_prefix (err, "%s: dns_upstream", h->conf->path);
    }
  if (s->upstream_count == 0)
    return ward_fail (err, 0, "%s: dns_upstream: no resolver", h->conf->path);
  return 0;
}

static int
audit_budget (struct hook *h, struct ward_error **err)
{
  struct json_writer *w = audit_record_begin (h->supervisor.audit, "budget", false);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "audit log");
  jw_key (w, "limits");
  budget_write_json (&h->budget, w);
  return audit_record_write (h->supervisor.audit, w, err);
}

/* The watchdog's: ward's state directory of the container, when ward said
 * where its root is (other runtimes keep no usage.json). */
static int
plan_watchdog (struct hook *h, struct ward_error **err)
{
  struct watchdog_config *w = &h->supervisor.watchdog;
  h->supervisor.watch = true;
  *w = (struct watchdog_config){
    .budget = h->budget,
    .init_pid = h->state.pid,
    .init_pidfd = h->init_pidfd,
    .state_dir_fd = -1,
    .nft = h->nft,
    .audit = h->supervisor.audit,
    .usage_record_interval = h->conf->usage_record_interval,
  };
  if (h->root == NULL)
    return 0;
  cleanup_free char *dir = NULL;
  if (asprintf (&dir, "%s/%s", h->root, h->state.id) < 0)
    return ward_fail (err, ENOMEM, "state directory");
  w->state_dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (w->state_dir_fd < 0)
    return ward_fail (err, errno, "open %s", dir);
  return 0;
}

/* In the order it must happen: the DNS sockets before the ruleset, which
 * needs their port; the ruleset before the supervisor, so the container
 * meets a closed firewall however early it runs. */
static int
install (struct hook *h, struct ward_error **err)
{
  egress_nft_options_init (&h->options);
  h->options.enabled = h->policy->egress_enabled;
  h->options.block_private = h->policy->egress_block_private_ranges;
  h->options.block_metadata = h->policy->egress_block_metadata;
  if (h->budget.connect_rate != BUDGET_UNLIMITED)
    h->options.connect_rate = h->budget.connect_rate;
  h->options.metered_count = h->budget.rates.metered_count;
  if (open_container_netns (h, err) < 0 || listen_for_dns (h, err) < 0)
    return -1;
  if (egress_nft_open_in_netns (h->netns_fd, &h->nft, err) < 0
      || egress_nft_install (h->nft, &h->allowlist, &h->options, err) < 0)
    return ward_error_prefix (err, "container %s: egress firewall", h->state.id);
  if ((h->supervisor.nflog_fd = nflog_open_in_netns (h->netns_fd, h->options.nflog_group, err)) < 0
      || find_upstreams (h, err) < 0
      || audit_open (h->conf->audit_dir, h->state.id, &h->supervisor.audit, err) < 0
      || audit_budget (h, err) < 0)
    return -1;
  h->supervisor.policy = h->policy_name;
  h->supervisor.allowlist = &h->allowlist;
  h->supervisor.options = &h->options;
  h->supervisor.nft = h->nft;
  h->supervisor.init_pidfd = h->init_pidfd;
  return plan_watchdog (h, err);
}

static void __attribute__ ((noreturn)) become_supervisor (struct supervisor *supervisor)
{
  int null = open ("/dev/null", O_RDWR);
  if (null >= 0)
    {
      dup2 (null, STDIN_FILENO);
      dup2 (null, STDOUT_FILENO);
      dup2 (null, STDERR_FILENO);
      if (null > STDERR_FILENO)
        close (null);
    }
  signal (SIGPIPE, SIG_IGN);
  prctl (PR_SET_NAME, "ward-supervisor");
  _exit (supervisor_run (supervisor));
}

/* Everything the supervisor needs is made here, where a failure still
 * fails the container; then it is detached (new session, no fd of the
 * runtime kept) and the hook is done: the firewall and the DNS sockets
 * exist already, so the container may run at once.  One fork is enough:
 * we exit right away, so the supervisor is nobody's child here (it opens
 * no terminal, so leading its session is harmless), and a second fork of
 * this process, with libnftables mapped, would add to create's time. */
static int
start_supervisor (struct hook *h, struct ward_error **err)
{
  struct supervisor *supervisor = NULL;
  if (supervisor_prepare (&h->supervisor, &supervisor, err) < 0)
    return -1;
  pid_t child = fork ();
  if (child < 0)
    {
      supervisor_free (supervisor);
      return ward_fail (err, errno, "fork the supervisor");
    }
  if (child == 0)
    {
      setsid ();
      become_supervisor (supervisor);
    }
  /* Ours is a copy: the supervisor owns the proxy and the sockets now. */
  h->supervisor.listen = (struct dns_listen_fds){ -1, -1, -1, -1 };
  return 0;
}

static void
hook_clear (struct hook *h)
{
  hook_state_clear (&h->state);
  ward_conf_free (h->conf);
  spec_free (h->spec);
  policy_free (h->policy);
  egress_allowlist_clear (&h->allowlist);
  egress_nft_close (h->nft);
  dns_listen_fds_close (&h->supervisor.listen);
  audit_close (h->supervisor.audit);
  if (h->supervisor.watchdog.state_dir_fd >= 0)
    close (h->supervisor.watchdog.state_dir_fd);
  if (h->supervisor.nflog_fd >= 0)
    close (h->supervisor.nflog_fd);
  if (h->init_pidfd >= 0)
    close (h->init_pidfd);
  if (h->netns_fd >= 0)
    close (h->netns_fd);
}

int
ward_hook_main (int argc, char **argv)
{
  struct hook h = {
    .init_pidfd = -1,
    .netns_fd = -1,
    .supervisor
    = { .nflog_fd = -1, .init_pidfd = -1, .listen = { -1, -1, -1, -1 }, .watchdog = { .state_dir_fd = -1 } },
  };
  /* Nothing of the runtime's but stdio stays open here, so nothing of it
   * can reach the detached supervisor: a runtime piping the hook's output
   * waits for EOF on it, and the supervisor's stdio is /dev/null. */
  syscall (SYS_close_range, 3U, ~0U, 0);
  struct ward_error *err = NULL;
  /* ward starts its hook with `--bundle B --root R` before the init
   * exists, so that everything but the container's own namespace is read
   * while ward is still making it; other runtimes give the state alone. */
  const char *early_bundle = NULL;
  int ret = 0;
  for (int i = 1; ret == 0 && i < argc; i += 2)
    {
      if (i + 1 < argc && strcmp (argv[i], "--bundle") == 0)
        early_bundle = argv[i + 1];
      else if (i + 1 < argc && strcmp (argv[i], "--root") == 0)
        h.root = argv[i + 1];
      else
        ret = ward_fail (&err, EINVAL, "usage: ward-hook [--bundle BUNDLE [--root ROOT]] < state");
    }
  if (ret == 0 && early_bundle)
    ret = load_policy (&h, early_bundle, &err);
  if (ret == 0)
    ret = hook_state_read (STDIN_FILENO, &h.state, &err);
  if (ret == 0 && early_bundle && strcmp (early_bundle, h.state.bundle) != 0)
    ret = ward_fail (&err, 0, "container %s: its bundle is %s, not %s", h.state.id, h.state.bundle,
                     early_bundle);
  if (ret == 0 && !early_bundle)
    ret = load_policy (&h, h.state.bundle, &err);
  if (ret == 0 && strcmp (h.policy_name, WARD_UNCONFINED) != 0)
    {
      ret = install (&h, &err);
      if (ret == 0)
        ret = start_supervisor (&h, &err);
    }
  if (ret < 0)
    fprintf (stderr, "ward-hook: %s\n", err ? err->message : "failed");
  ward_error_free (&err);
  hook_clear (&h);
  return ret < 0 ? 1 : 0;
}
