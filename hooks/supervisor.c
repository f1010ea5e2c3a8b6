#include "config.h"
#include "supervisor.h"
#include "cleanup.h"
#include "dns_message.h"
#include "egress_audit.h"
#include "nflog.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* How many resolved addresses are remembered for the audit log's "name"
 * of a refused connection: the newest win. */
#define REMEMBERED_ADDRESSES 1024
/* Addresses of one answer reported in its dns.allowed record. */
#define ANSWER_ADDRESSES_MAX 32

struct remembered
{
  int family; /* 0: empty slot */
  uint8_t address[16];
  char name[DNS_NAME_TEXT_SIZE];
};

struct supervisor
{
  struct supervisor_config *config;
  struct dns_proxy *dns;
  struct watchdog *watchdog;
  int epoll_fd;
  bool init_exited;
  struct event_source init_source, nflog_source;
  /* A ring of the addresses DNS gave, newest at next - 1. */
  struct remembered *names;
  size_t next;
  /* The answer being relayed, between on_resolved and on_answered. */
  char answer[ANSWER_ADDRESSES_MAX][EGRESS_ADDRESS_TEXT_MAX];
  size_t answer_count;
  char answer_blocked[ANSWER_ADDRESSES_MAX][EGRESS_ADDRESS_TEXT_MAX];
  size_t answer_blocked_count;
};

/* The audit log must not stop the supervisor: a full disk would otherwise
 * take DNS down with it.  Failures go to stderr, which is /dev/null unless
 * someone debugs. */
static void
audit_failed (struct ward_error **err)
{
  if (*err)
    fprintf (stderr, "ward-hook supervisor: %s\n", (*err)->message);
  ward_error_free (err);
}

static void
remember (struct supervisor *s, const char *name, int family, const uint8_t *address)
{
  struct remembered *r = &s->names[s->next];
  s->next = (s->next + 1) % REMEMBERED_ADDRESSES;
  r->family = family;
  memset (r->address, 0, sizeof r->address);
  memcpy (r->address, address, family == AF_INET ? 4 : 16);
  snprintf (r->name, sizeof r->name, "%s", name);
}

static const char *
name_of (struct supervisor *s, int family, const uint8_t *address)
{
  size_t length = family == AF_INET ? 4 : 16;
  for (size_t i = 1; i <= REMEMBERED_ADDRESSES; i++)
    {
      const struct remembered *r = &s->names[(s->next + REMEMBERED_ADDRESSES - i) % REMEMBERED_ADDRESSES];
      if (r->family == family && memcmp (r->address, address, length) == 0)
        return r->name;
    }
  return NULL;
}

static bool
dns_allowed (const char *name, uint16_t qtype, void *ctx)
{
  (void)qtype;
  struct supervisor *s = ctx;
  const struct egress_allowlist *list = s->config->allowlist;
  for (size_t i = 0; i < list->count; i++)
    if (egress_name_matches (&list->rules[i], name))
      return true;
  return false;
}

/* A connection to a metered domain's address costs its rate: the
 * address goes into the firewall's set for that domain before the answer
 * reaches the program, so that its first connection is counted.  A
 * failure costs the count, not the answer. */
static void
meter (struct supervisor *s, const char *name, int family, const uint8_t *address)
{
  if (!s->config->watch)
    return;
  int index = budget_metered_index (&s->config->watchdog.budget.rates, name);
  struct ward_error *err = NULL;
  if (index >= 0 && egress_nft_meter_address (s->config->nft, (size_t)index, family, address, &err) < 0)
    audit_failed (&err);
}

static int
dns_resolved (const char *name, int family, const uint8_t *address, uint32_t ttl, void *ctx)
{
  struct supervisor *s = ctx;
  const struct egress_allowlist *list = s->config->allowlist;
  bool blocked = false;
  for (size_t i = 0; i < list->count; i++)
    {
      if (!egress_name_matches (&list->rules[i], name))
        continue;
      struct ward_error *err = NULL;
      int ret = egress_nft_allow_resolved (s->config->nft, &list->rules[i], family, address, ttl, &err);
      if (ret < 0)
        {
          audit_failed (&err);
          return -1;
        }
      blocked |= ret == EGRESS_RESOLVED_BLOCKED;
    }
  remember (s, name, family, address);
  if (!blocked)
    meter (s, name, family, address);
  if (blocked && s->answer_blocked_count < ANSWER_ADDRESSES_MAX)
    egress_address_format (family, address, family == AF_INET ? 32 : 128,
                           s->answer_blocked[s->answer_blocked_count++]);
  else if (!blocked && s->answer_count < ANSWER_ADDRESSES_MAX)
    egress_address_format (family, address, family == AF_INET ? 32 : 128, s->answer[s->answer_count++]);
  return 0;
}

static void
dns_answered (const char *name, uint16_t qtype, int rcode, void *ctx)
{
  struct supervisor *s = ctx;
  struct ward_error *err = NULL;
  if (egress_audit_dns_allowed (s->config->audit, name, qtype, rcode, s->answer, s->answer_count,
                                s->answer_blocked, s->answer_blocked_count, &err)
      < 0)
    audit_failed (&err);
  s->answer_count = s->answer_blocked_count = 0;
}

static void
dns_refused (const char *name, uint16_t qtype, const struct dns_client *client, void *ctx)
{
  (void)client;
  struct supervisor *s = ctx;
  struct ward_error *err = NULL;
  if (egress_audit_dns_refused (s->config->audit, name, qtype, &err) < 0)
    audit_failed (&err);
}

static void
refused_packet (const struct nflog_packet *packet, void *ctx)
{
  struct supervisor *s = ctx;
  struct ward_error *err = NULL;
  const char *name = name_of (s, packet->family, packet->destination);
  if (egress_audit_refused (s->config->audit, packet, name, &err) < 0)
    audit_failed (&err);
}

static void
nflog_ready (struct event_source *source, uint32_t events)
{
  (void)events;
  struct supervisor *s = (struct supervisor *)((char *)source - offsetof (struct supervisor, nflog_source));
  struct ward_error *err = NULL;
  /* ENOBUFS: the kernel dropped some; the socket reads on. */
  if (nflog_read (source->fd, refused_packet, s, &err) < 0)
    audit_failed (&err);
}

static void
init_ready (struct event_source *source, uint32_t events)
{
  (void)events;
  struct supervisor *s = (struct supervisor *)((char *)source - offsetof (struct supervisor, init_source));
  s->init_exited = true;
}

static int
watch (int epoll_fd, struct event_source *source, struct ward_error **err)
{
  struct epoll_event event = { .events = EPOLLIN, .data.ptr = source };
  if (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, source->fd, &event) < 0)
    return ward_fail (err, errno, "supervisor: epoll_ctl");
  return 0;
}

static int
set_up (struct supervisor *s, struct ward_error **err)
{
  struct supervisor_config *c = s->config;
  s->names = calloc (REMEMBERED_ADDRESSES, sizeof *s->names);
  if (s->names == NULL)
    return ward_fail (err, ENOMEM, "supervisor");
  s->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (s->epoll_fd < 0)
    return ward_fail (err, errno, "supervisor: epoll_create1");

  struct dns_proxy_config dns = {
    .listen = c->listen,
    .upstream_count = c->upstream_count,
    .callbacks = {
      .allowed = dns_allowed,
      .on_resolved = dns_resolved,
      .on_answered = dns_answered,
      .on_refused = dns_refused,
      .ctx = s,
    },
  };
  memcpy (dns.upstreams, c->upstreams, sizeof dns.upstreams);
  if (dns_proxy_new (&dns, &s->dns, err) < 0)
    return -1;
  /* The proxy owns the listening sockets now. */
  c->listen = (struct dns_listen_fds){ -1, -1, -1, -1 };
  if (dns_proxy_register (s->dns, s->epoll_fd, err) < 0)
    return -1;

  s->init_source = (struct event_source){ .fd = c->init_pidfd, .ready = init_ready };
  s->nflog_source = (struct event_source){ .fd = c->nflog_fd, .ready = nflog_ready };
  if (watch (s->epoll_fd, &s->init_source, err) < 0 || watch (s->epoll_fd, &s->nflog_source, err) < 0)
    return -1;
  if (c->watch)
    {
      if (watchdog_new (&c->watchdog, s->epoll_fd, &s->watchdog, err) < 0)
        return -1;
      c->watchdog.state_dir_fd = -1;
    }
  return egress_audit_installed (c->audit, c->policy, c->allowlist, c->options, err);
}

int
supervisor_prepare (struct supervisor_config *config, struct supervisor **out, struct ward_error **err)
{
  struct supervisor *s = calloc (1, sizeof *s);
  if (s == NULL)
    return ward_fail (err, ENOMEM, "supervisor");
  *s = (struct supervisor){ .config = config, .epoll_fd = -1 };
  if (set_up (s, err) < 0)
    {
      supervisor_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

void
supervisor_free (struct supervisor *s)
{
  if (s == NULL)
    return;
  dns_proxy_free (s->dns);
  watchdog_free (s->watchdog);
  dns_listen_fds_close (&s->config->listen);
  if (s->epoll_fd >= 0)
    close (s->epoll_fd);
  free (s->names);
  free (s);
}

int
supervisor_run (struct supervisor *s)
{
  struct supervisor_config *config = s->config;
  struct ward_error *err = NULL;
  int status = 0;
  while (!s->init_exited)
    {
      struct epoll_event events[32];
      int n = epoll_wait (s->epoll_fd, events, 32, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          ward_fail (&err, errno, "epoll_wait");
          status = 1;
          break;
        }
      for (int i = 0; i < n; i++)
        {
          struct event_source *source = events[i].data.ptr;
          source->ready (source, events[i].events);
        }
    }
  if (s->init_exited)
    watchdog_finish (s->watchdog);
  /* Whatever was refused last is still worth its record. */
  struct ward_error *ignored = NULL;
  nflog_read (config->nflog_fd, refused_packet, s, &ignored);
  ward_error_free (&ignored);
  if (egress_audit_supervisor_exit (config->audit,
                                    s->init_exited ? "container exited"
                                        : err      ? err->message
                                                   : "error",
                                    &ignored)
      < 0)
    audit_failed (&ignored);
  ward_error_free (&err);
  supervisor_free (s);
  return status;
}
