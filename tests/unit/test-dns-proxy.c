/* The DNS proxy end to end.  Each test runs in a forked child inside a
 * network namespace of its own, so no packet leaves the machine and no
 * host port is touched.  There a fake upstream resolver and the proxy
 * share one epoll loop that the test turns itself, and clients ask
 * through real sockets; a child's failed checks print there and come back
 * as its exit status.  test-dns-proxy-setup covers the listening sockets
 * and the upstream list. */
#include "config.h"
#include "harness.h"
#include "private_network.h"
#include "dns_message.h"
#include "dns_packet.h"
#include "dns_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum
{
  PROXY_PORT = 5300,
  UPSTREAM_PORT = 5353,
  DEAD_PORT = 5354, /* nothing listens: ICMP port unreachable */
  SEEN_MAX = 32,
};

struct fake_connection
{
  struct event_source source;
  uint8_t in[4096];
  size_t length;
};

/* What the upstream and the callbacks saw, in the one child a test runs. */
static struct
{
  int epoll_fd;
  struct dns_proxy *proxy;
  struct dns_listen_fds listen;
  struct event_source upstream_udp, upstream_tcp;
  struct fake_connection upstream_connections[4];

  unsigned upstream_seen;
  char upstream_name[SEEN_MAX][DNS_NAME_TEXT_SIZE];
  bool upstream_over_tcp[SEEN_MAX];
  bool upstream_lowercase[SEEN_MAX];
  uint16_t upstream_arcount[SEEN_MAX];
  uint16_t upstream_edns_size[SEEN_MAX];

  int client_fd; /* whose answer must come after on_resolved */
  bool fail_resolution;
  unsigned resolved;
  char resolved_name[16][DNS_NAME_TEXT_SIZE];
  char resolved_address[16][INET6_ADDRSTRLEN];
  uint32_t resolved_ttl[16];
  bool resolved_before_answer[16];
  unsigned cnames;
  unsigned refused;
  char refused_name[DNS_NAME_TEXT_SIZE];
  uint16_t refused_qtype;
  struct dns_client refused_client;
  unsigned failures;
  char failure_reason[256];
  unsigned malformed;
} w;

static uint64_t
now_ms (void)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* The fake upstream: www.example.com through a CNAME chain,
 * big.example.com too big for UDP, silence for
 * silent.example.com, NXDOMAIN for the rest. */

static size_t
upstream_answer (const uint8_t *request, size_t length, bool tcp, uint8_t *out)
{
  struct dns_query q;
  if (dns_query_parse (request, length, &q, NULL) < 0 || w.upstream_seen == SEEN_MAX)
    return 0;
  unsigned seen = w.upstream_seen++;
  snprintf (w.upstream_name[seen], DNS_NAME_TEXT_SIZE, "%s", q.name);
  w.upstream_over_tcp[seen] = tcp;
  w.upstream_lowercase[seen] = true;
  for (size_t i = 0; i < q.wire_name_length; i++)
    if (q.wire_name[i] >= 'A' && q.wire_name[i] <= 'Z')
      w.upstream_lowercase[seen] = false;
  w.upstream_arcount[seen] = get16 (request + AR_COUNT);
  w.upstream_edns_size[seen] = q.edns ? q.edns_udp_size : 0;
  if (strcmp (q.name, "silent.example.com") == 0)
    return 0;

  struct packet r;
  put_header (&r, q.id, DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA, 1, 0, 0, 0);
  put_bytes (&r, q.wire_name, q.wire_name_length);
  put16 (&r, q.qtype);
  put16 (&r, q.qclass);
  size_t question_end = r.length;
  uint16_t answers = 0;
  if (strcmp (q.name, "www.example.com") == 0)
    {
      /* Its 17 bytes end with the string's NUL: the root label. */
      put_record (&r, DNS_HEADER_SIZE, DNS_TYPE_CNAME, 60, "\003cdn\007example\003net", 17);
      size_t cdn = r.length - 17;
      const uint8_t edge_name[] = { 4, 'e', 'd', 'g', 'e', 0xc0, (uint8_t)cdn };
      put_record (&r, cdn, DNS_TYPE_CNAME, 30, edge_name, sizeof edge_name);
      size_t edge = r.length - sizeof edge_name;
      answers = 2;
      if (q.qtype == DNS_TYPE_A)
        {
          put_record (&r, edge, DNS_TYPE_A, 300, "\300\000\002\012", 4);
          put_record (&r, edge, DNS_TYPE_A, 300, "\300\000\002\013", 4);
          answers += 2;
        }
      else if (q.qtype == DNS_TYPE_AAAA)
        {
          put_record (&r, edge, DNS_TYPE_AAAA, 200, "\040\001\015\270\0\0\0\0\0\0\0\0\0\0\0\020", 16);
          answers += 1;
        }
    }
  else if (strcmp (q.name, "big.example.com") == 0)
    {
      uint8_t text[61] = { 60 };
      memset (text + 1, 'x', 60);
      for (; answers < 40; answers++)
        put_record (&r, DNS_HEADER_SIZE, DNS_TYPE_TXT, 60, text, sizeof text);
    }
  else
    r.data[3] |= DNS_RCODE_NXDOMAIN;
  set16 (&r, AN_COUNT, answers);

  /* As a real server: over UDP, what does not fit is cut and flagged. */
  size_t limit = q.edns ? q.edns_udp_size : DNS_UDP_PLAIN_MAX;
  if (!tcp && r.length > limit)
    {
      r.data[2] |= DNS_FLAG_TC >> 8;
      memset (r.data + 6, 0, 6);
      r.length = question_end;
    }
  memcpy (out, r.data, r.length);
  return r.length;
}

static void
upstream_udp_ready (struct event_source *source, uint32_t events)
{
  uint8_t request[4096], answer[8192];
  struct sockaddr_storage from;
  socklen_t from_length = sizeof from;
  ssize_t n
      = recvfrom (source->fd, request, sizeof request, MSG_DONTWAIT, (struct sockaddr *)&from, &from_length);
  if (n <= 0)
    return;
  size_t length = upstream_answer (request, (size_t)n, false, answer);
  if (length > 0)
    sendto (source->fd, answer, length, 0, (struct sockaddr *)&from, from_length);
}

static void
upstream_connection_ready (struct event_source *source, uint32_t events)
{
  struct fake_connection *c = (struct fake_connection *)source;
  ssize_t n = recv (source->fd, c->in + c->length, sizeof c->in - c->length, MSG_DONTWAIT);
  if (n < 0 && errno == EAGAIN)
    return;
  if (n > 0)
    c->length += (size_t)n;
  if (n > 0 && (c->length < 2 || c->length < 2 + (size_t)get16 (c->in)))
    return;
  uint8_t answer[8192 + 2];
  size_t length = n > 0 ? upstream_answer (c->in + 2, get16 (c->in), true, answer + 2) : 0;
  if (length > 0)
    {
      answer[0] = length >> 8;
      answer[1] = length & 0xff;
      CHECK (send (source->fd, answer, length + 2, MSG_NOSIGNAL) == (ssize_t)length + 2);
    }
  epoll_ctl (w.epoll_fd, EPOLL_CTL_DEL, source->fd, NULL);
  close (source->fd);
  source->fd = -1;
}

static void
upstream_tcp_ready (struct event_source *source, uint32_t events)
{
  int fd = accept4 (source->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  for (size_t i = 0; i < 4; i++)
    if (w.upstream_connections[i].source.fd < 0)
      {
        struct fake_connection *c = &w.upstream_connections[i];
        *c = (struct fake_connection){ .source = { .fd = fd, .ready = upstream_connection_ready } };
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = &c->source };
        epoll_ctl (w.epoll_fd, EPOLL_CTL_ADD, fd, &event);
        return;
      }
  close (fd);
}

/* The callbacks. */

static bool
readable (int fd)
{
  struct pollfd poll_fd = { .fd = fd, .events = POLLIN };
  return poll (&poll_fd, 1, 0) > 0;
}

static bool
allowed (const char *name, uint16_t qtype, void *ctx)
{
  return strcmp (name, "www.example.com") == 0 || strcmp (name, "silent.example.com") == 0
      || strcmp (name, "big.example.com") == 0;
}

static int
on_resolved (const char *name, int family, const uint8_t *address, uint32_t ttl, void *ctx)
{
  if (w.resolved < 16)
    {
      snprintf (w.resolved_name[w.resolved], DNS_NAME_TEXT_SIZE, "%s", name);
      inet_ntop (family, address, w.resolved_address[w.resolved], INET6_ADDRSTRLEN);
      w.resolved_ttl[w.resolved] = ttl;
      w.resolved_before_answer[w.resolved] = w.client_fd < 0 || !readable (w.client_fd);
      w.resolved++;
    }
  return w.fail_resolution ? -1 : 0;
}

static void
on_cname (const char *name, const char *owner, const char *target, uint32_t ttl, void *ctx)
{
  w.cnames++;
}

static void
on_refused (const char *name, uint16_t qtype, const struct dns_client *client, void *ctx)
{
  w.refused++;
  snprintf (w.refused_name, sizeof w.refused_name, "%s", name);
  w.refused_qtype = qtype;
  w.refused_client = *client;
}

static void
on_upstream_failure (const char *name, uint16_t qtype, const char *reason, void *ctx)
{
  w.failures++;
  snprintf (w.failure_reason, sizeof w.failure_reason, "%s", reason);
}

static void
on_malformed (const struct dns_client *client, const char *reason, void *ctx)
{
  w.malformed++;
}

/* The world: a private network, the fake upstream, the proxy. */

static struct sockaddr_in
loopback4 (uint16_t port)
{
  return (struct sockaddr_in){ .sin_family = AF_INET,
                               .sin_port = htons (port),
                               .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
}

static void
upstream_at (struct dns_upstream *upstream, uint16_t port)
{
  struct sockaddr_in address = loopback4 (port);
  memset (upstream, 0, sizeof *upstream);
  memcpy (&upstream->address, &address, sizeof address);
  upstream->length = sizeof address;
}

static struct dns_proxy_config
base_config (void)
{
  struct dns_proxy_config config = {
    .upstream_count = 1,
    .attempt_timeout_ms = 300,
    .callbacks = { .allowed = allowed,
                   .on_resolved = on_resolved,
                   .on_cname = on_cname,
                   .on_refused = on_refused,
                   .on_upstream_failure = on_upstream_failure,
                   .on_malformed = on_malformed },
  };
  upstream_at (&config.upstreams[0], UPSTREAM_PORT);
  return config;
}

static int
fake_upstream_socket (int type)
{
  int fd = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in address = loopback4 (UPSTREAM_PORT);
  if (fd < 0 || bind (fd, (struct sockaddr *)&address, sizeof address) < 0
      || (type == SOCK_STREAM && listen (fd, 8) < 0))
    return -1;
  return fd;
}

static void
watch (struct event_source *source)
{
  struct epoll_event event = { .events = EPOLLIN, .data.ptr = source };
  CHECK (epoll_ctl (w.epoll_fd, EPOLL_CTL_ADD, source->fd, &event) == 0);
}

/* The proxy listens in "the container's" namespace: this one, entered
 * again through its fd, as the supervisor enters the container's. */
static bool
world_start (struct dns_proxy_config *config)
{
  w.client_fd = -1;
  w.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  w.upstream_udp
      = (struct event_source){ .fd = fake_upstream_socket (SOCK_DGRAM), .ready = upstream_udp_ready };
  w.upstream_tcp
      = (struct event_source){ .fd = fake_upstream_socket (SOCK_STREAM), .ready = upstream_tcp_ready };
  for (size_t i = 0; i < 4; i++)
    w.upstream_connections[i].source.fd = -1;
  if (!CHECK (w.epoll_fd >= 0 && w.upstream_udp.fd >= 0 && w.upstream_tcp.fd >= 0))
    return false;
  watch (&w.upstream_udp);
  watch (&w.upstream_tcp);

  struct ward_error *err = NULL;
  int netns = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int ret = dns_proxy_listen_in_netns (netns, PROXY_PORT, &w.listen, &err);
  close (netns);
  config->listen = w.listen;
  if (ret == 0)
    ret = dns_proxy_new (config, &w.proxy, &err);
  if (ret == 0)
    ret = dns_proxy_register (w.proxy, w.epoll_fd, &err);
  if (ret < 0)
    {
      printf ("  %s\n", err->message);
      ward_error_free (&err);
      CHECK (false);
      return false;
    }
  return true;
}

static void
world_stop (void)
{
  dns_proxy_free (w.proxy);
  w.proxy = NULL;
}

static void
turn (int timeout_ms)
{
  struct epoll_event events[8];
  int n = epoll_wait (w.epoll_fd, events, 8, timeout_ms);
  for (int i = 0; i < n; i++)
    {
      struct event_source *source = events[i].data.ptr;
      source->ready (source, events[i].events);
    }
}

static bool
turn_until_readable (int fd, int timeout_ms)
{
  uint64_t end = now_ms () + (uint64_t)timeout_ms;
  while (!readable (fd))
    {
      if (now_ms () >= end)
        return false;
      turn (5);
    }
  return true;
}

static void
turn_for (int ms)
{
  uint64_t end = now_ms () + (uint64_t)ms;
  while (now_ms () < end)
    turn (5);
}

/* Clients. */

static int
udp_client (int family)
{
  int fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in v4 = loopback4 (PROXY_PORT);
  struct sockaddr_in6 v6
      = { .sin6_family = AF_INET6, .sin6_port = htons (PROXY_PORT), .sin6_addr = in6addr_loopback };
  int ret = family == AF_INET ? connect (fd, (struct sockaddr *)&v4, sizeof v4)
                              : connect (fd, (struct sockaddr *)&v6, sizeof v6);
  CHECK (fd >= 0 && ret == 0);
  return fd;
}

static int
tcp_client (void)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in address = loopback4 (PROXY_PORT);
  /* The kernel completes the handshake before the proxy accepts. */
  CHECK (fd >= 0 && connect (fd, (struct sockaddr *)&address, sizeof address) == 0);
  return fd;
}

static void
send_packet (int fd, const struct packet *p)
{
  CHECK (send (fd, p->data, p->length, 0) == (ssize_t)p->length);
}

static void
send_query (int fd, uint16_t id, const char *name, uint16_t qtype)
{
  struct packet p;
  put_query (&p, id, name, qtype);
  send_packet (fd, &p);
}

static void
send_tcp_query (int fd, uint16_t id, const char *name, uint16_t qtype)
{
  struct packet p;
  put_query (&p, id, name, qtype);
  uint8_t prefix[2] = { p.length >> 8, p.length & 0xff };
  CHECK (send (fd, prefix, 2, MSG_MORE) == 2);
  send_packet (fd, &p);
}

/* One datagram, or -1 when none came in time. */
static ssize_t
receive_udp (int fd, struct packet *answer, int timeout_ms)
{
  if (!turn_until_readable (fd, timeout_ms))
    return -1;
  ssize_t n = recv (fd, answer->data, sizeof answer->data, MSG_DONTWAIT);
  answer->length = n > 0 ? (size_t)n : 0;
  return n;
}

/* One length-prefixed message; 0 when the proxy closed, -1 on timeout. */
static ssize_t
receive_tcp (int fd, struct packet *answer, int timeout_ms)
{
  uint8_t prefix[2];
  size_t got = 0, wanted = 2;
  uint64_t end = now_ms () + (uint64_t)timeout_ms;
  answer->length = 0;
  while (got < wanted)
    {
      if (!turn_until_readable (fd, (int)(end > now_ms () ? end - now_ms () : 0)))
        return -1;
      uint8_t *into = wanted == 2 ? prefix + got : answer->data + got;
      ssize_t n = recv (fd, into, wanted - got, MSG_DONTWAIT);
      if (n <= 0)
        return n;
      got += (size_t)n;
      if (wanted == 2 && got == 2)
        {
          wanted = get16 (prefix);
          got = 0;
        }
    }
  answer->length = wanted;
  return (ssize_t)wanted;
}

static int
rcode (const struct packet *answer)
{
  return answer->data[3] & DNS_RCODE_MASK;
}

/* The tests. */

NETWORK_TEST (allowed_name_is_relayed_after_the_firewall_has_its_addresses)
{
  struct dns_proxy_config config = base_config ();
  if (!world_start (&config))
    return;
  w.client_fd = udp_client (AF_INET);
  send_query (w.client_fd, 0x1111, "WWW.example.COM", DNS_TYPE_A);
  struct packet answer;
  REQUIRE (receive_udp (w.client_fd, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (get16 (answer.data), 0x1111);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_NOERROR);
  CHECK_INT_EQ (get16 (answer.data + AN_COUNT), 4);
  /* The question as the client spelled it. */
  CHECK (memcmp (answer.data + DNS_HEADER_SIZE, "\003WWW\007example\003COM", 17) == 0);

  REQUIRE (w.resolved == 2);
  CHECK_STR_EQ (w.resolved_name[0], "www.example.com");
  CHECK_STR_EQ (w.resolved_address[0], "192.0.2.10");
  CHECK_STR_EQ (w.resolved_address[1], "192.0.2.11");
  CHECK_INT_EQ (w.resolved_ttl[0], 300);
  CHECK (w.resolved_before_answer[0] && w.resolved_before_answer[1]);
  CHECK_INT_EQ (w.cnames, 2);

  /* Upstream got the question alone, once, in lowercase. */
  REQUIRE (w.upstream_seen == 1);
  CHECK_STR_EQ (w.upstream_name[0], "www.example.com");
  CHECK (w.upstream_lowercase[0]);
  CHECK (!w.upstream_over_tcp[0]);
  CHECK_INT_EQ (w.upstream_arcount[0], 0);
  CHECK_INT_EQ (dns_proxy_in_flight (w.proxy), 0);
  world_stop ();
}

NETWORK_TEST (aaaa_over_ipv6)
{
  struct dns_proxy_config config = base_config ();
  if (!world_start (&config))
    return;
  if (w.listen.udp6 < 0)
    {
      printf ("  skipped: no IPv6 in the namespace\n");
      world_stop ();
      return;
    }
  w.client_fd = udp_client (AF_INET6);
  send_query (w.client_fd, 0x2222, "www.example.com", DNS_TYPE_AAAA);
  struct packet answer;
  REQUIRE (receive_udp (w.client_fd, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_NOERROR);
  REQUIRE (w.resolved == 1);
  CHECK_STR_EQ (w.resolved_address[0], "2001:db8::10");
  CHECK_INT_EQ (w.resolved_ttl[0], 200);
  CHECK (w.resolved_before_answer[0]);
  world_stop ();
}

NETWORK_TEST (refused_name_gets_nxdomain_and_never_leaves)
{
  struct dns_proxy_config config = base_config ();
  if (!world_start (&config))
    return;
  int client = udp_client (AF_INET);
  send_query (client, 0x3333, "secret-data.Evil.example", DNS_TYPE_TXT);
  struct packet answer;
  REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (get16 (answer.data), 0x3333);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_NXDOMAIN);
  CHECK (answer.data[2] & (DNS_FLAG_QR >> 8));

  CHECK_INT_EQ (w.refused, 1);
  CHECK_STR_EQ (w.refused_name, "secret-data.evil.example");
  CHECK_INT_EQ (w.refused_qtype, DNS_TYPE_TXT);
  CHECK_INT_EQ (w.refused_client.protocol, IPPROTO_UDP);
  struct sockaddr_in mine;
  socklen_t length = sizeof mine;
  getsockname (client, (struct sockaddr *)&mine, &length);
  CHECK_INT_EQ (((struct sockaddr_in *)&w.refused_client.address)->sin_port, mine.sin_port);
  turn_for (20);
  CHECK_INT_EQ (w.upstream_seen, 0);
  CHECK_INT_EQ (w.resolved, 0);
  world_stop ();
}

NETWORK_TEST (silent_upstream_gives_servfail_after_the_next_one_fails_too)
{
  struct dns_proxy_config config = base_config ();
  /* The first refuses at once (ICMP), the second never answers. */
  config.upstream_count = 2;
  upstream_at (&config.upstreams[0], DEAD_PORT);
  upstream_at (&config.upstreams[1], UPSTREAM_PORT);
  config.attempt_timeout_ms = 150;
  if (!world_start (&config))
    return;
  int client = udp_client (AF_INET);
  uint64_t start = now_ms ();
  send_query (client, 0x4444, "silent.example.com", DNS_TYPE_A);
  struct packet answer;
  REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
  uint64_t elapsed = now_ms () - start;
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_SERVFAIL);
  CHECK_INT_EQ (get16 (answer.data), 0x4444);
  CHECK (elapsed >= 150 && elapsed < 600);
  CHECK_INT_EQ (w.upstream_seen, 1);
  CHECK_INT_EQ (w.failures, 1);
  printf ("  after %llu ms: %s\n", (unsigned long long)elapsed, w.failure_reason);
  CHECK (strstr (w.failure_reason, "no answer within 150 ms from 127.0.0.1:5353") != NULL);
  CHECK_INT_EQ (dns_proxy_in_flight (w.proxy), 0);

  world_stop ();
}

NETWORK_TEST (refusing_upstream_gives_servfail_at_once)
{
  struct dns_proxy_config config = base_config ();
  upstream_at (&config.upstreams[0], DEAD_PORT);
  if (!world_start (&config))
    return;
  int client = udp_client (AF_INET);
  uint64_t start = now_ms ();
  send_query (client, 0x4445, "www.example.com", DNS_TYPE_A);
  struct packet answer;
  REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_SERVFAIL);
  CHECK (now_ms () - start < 100);
  printf ("  %s\n", w.failure_reason);
  CHECK (strstr (w.failure_reason, "Connection refused") != NULL);
  CHECK_INT_EQ (w.upstream_seen, 0);
  world_stop ();
}

NETWORK_TEST (tcp_queries_are_answered_on_one_connection)
{
  struct dns_proxy_config config = base_config ();
  if (!world_start (&config))
    return;
  w.client_fd = tcp_client ();
  send_tcp_query (w.client_fd, 1, "www.example.com", DNS_TYPE_A);
  struct packet answer;
  REQUIRE (receive_tcp (w.client_fd, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (get16 (answer.data), 1);
  CHECK_INT_EQ (get16 (answer.data + AN_COUNT), 4);
  REQUIRE (w.resolved == 2);
  CHECK (w.resolved_before_answer[0] && w.resolved_before_answer[1]);
  REQUIRE (w.upstream_seen == 1);
  CHECK (w.upstream_over_tcp[0]);

  /* Pipelined: the refusal is answered at once, ahead of the first. */
  w.client_fd = -1;
  int client = tcp_client ();
  send_tcp_query (client, 1, "www.example.com", DNS_TYPE_A);
  send_tcp_query (client, 2, "evil.example", DNS_TYPE_A);
  bool got[3] = { false };
  for (int i = 0; i < 2; i++)
    {
      REQUIRE (receive_tcp (client, &answer, 900) > DNS_HEADER_SIZE);
      uint16_t id = get16 (answer.data);
      REQUIRE (id == 1 || id == 2);
      got[id] = true;
      CHECK_INT_EQ (rcode (&answer), id == 1 ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN);
    }
  CHECK (got[1] && got[2]);
  CHECK_INT_EQ (w.refused, 1);
  CHECK_INT_EQ (w.refused_client.protocol, IPPROTO_TCP);

  /* Half-closed: the answer still comes, then the close. */
  send_tcp_query (client, 3, "www.example.com", DNS_TYPE_TXT);
  shutdown (client, SHUT_WR);
  REQUIRE (receive_tcp (client, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (get16 (answer.data), 3);
  CHECK_INT_EQ (receive_tcp (client, &answer, 900), 0);
  world_stop ();
}

NETWORK_TEST (answer_too_big_for_udp_sends_the_client_to_tcp)
{
  struct dns_proxy_config config = base_config ();
  if (!world_start (&config))
    return;
  int client = udp_client (AF_INET);
  send_query (client, 5, "big.example.com", DNS_TYPE_TXT);
  struct packet answer;
  REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
  CHECK (answer.data[2] & (DNS_FLAG_TC >> 8));
  CHECK_INT_EQ (get16 (answer.data + AN_COUNT), 0);
  CHECK_INT_EQ (answer.length, DNS_HEADER_SIZE + 17 + 4);

  /* Whatever the client's EDNS size, the proxy advertises 1232. */
  static const uint16_t sizes[] = { 4096, 600 };
  for (size_t i = 0; i < 2; i++)
    {
      struct packet query;
      put_query (&query, 6, "big.example.com", DNS_TYPE_TXT);
      put_opt (&query, sizes[i], false);
      send_packet (client, &query);
      REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
      CHECK (answer.data[2] & (DNS_FLAG_TC >> 8));
      REQUIRE (w.upstream_seen == 2 + i);
      CHECK_INT_EQ (w.upstream_edns_size[1 + i], 1232);
      CHECK_INT_EQ (w.upstream_arcount[1 + i], 1);
    }

  int tcp = tcp_client ();
  send_tcp_query (tcp, 7, "big.example.com", DNS_TYPE_TXT);
  REQUIRE (receive_tcp (tcp, &answer, 900) > DNS_HEADER_SIZE);
  CHECK (!(answer.data[2] & (DNS_FLAG_TC >> 8)));
  CHECK_INT_EQ (get16 (answer.data + AN_COUNT), 40);
  CHECK (answer.length > 2000);
  world_stop ();
}

NETWORK_TEST (malformed_requests_are_dropped_or_formerr)
{
  struct dns_proxy_config config = base_config ();
  if (!world_start (&config))
    return;
  int client = udp_client (AF_INET);
  struct packet answer, p;

  /* Too short for an id: nothing to answer. */
  CHECK (send (client, "\x01\x02\x03\x04\x05", 5, 0) == 5);
  CHECK_INT_EQ (receive_udp (client, &answer, 50), -1);

  put_header (&p, 0x77, 0, 2, 0, 0, 0);
  send_packet (client, &p);
  REQUIRE (receive_udp (client, &answer, 900) == DNS_HEADER_SIZE);
  CHECK_INT_EQ (get16 (answer.data), 0x77);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_FORMERR);

  /* A response is never answered. */
  put_query (&p, 0x78, "www.example.com", DNS_TYPE_A);
  p.data[2] |= DNS_FLAG_QR >> 8;
  send_packet (client, &p);
  CHECK_INT_EQ (receive_udp (client, &answer, 50), -1);

  /* A label holding a dot. */
  put_header (&p, 0x79, 0, 1, 0, 0, 0);
  put_bytes (&p, "\017www.example.com\0\0\1\0\1", 21);
  send_packet (client, &p);
  REQUIRE (receive_udp (client, &answer, 900) == DNS_HEADER_SIZE);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_FORMERR);

  put_query (&p, 0x7a, "www.example.com", DNS_TYPE_A);
  p.data[2] |= 5 << 3; /* UPDATE */
  send_packet (client, &p);
  REQUIRE (receive_udp (client, &answer, 900) == DNS_HEADER_SIZE);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_NOTIMP);

  /* Over TCP, a length no query has ends the connection. */
  int tcp = tcp_client ();
  CHECK (send (tcp, "\0\5hello", 7, 0) == 7);
  CHECK_INT_EQ (receive_tcp (tcp, &answer, 900), 0);
  close (tcp);

  CHECK_INT_EQ (w.malformed, 5);
  CHECK_INT_EQ (w.upstream_seen, 0);
  /* And the proxy still serves. */
  send_query (client, 0x7b, "www.example.com", DNS_TYPE_A);
  REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_NOERROR);
  world_stop ();
}

NETWORK_TEST (queries_in_flight_are_bounded)
{
  struct dns_proxy_config config = base_config ();
  config.max_queries = 2;
  config.attempt_timeout_ms = 5000;
  if (!world_start (&config))
    return;
  int client = udp_client (AF_INET);
  send_query (client, 1, "silent.example.com", DNS_TYPE_A);
  send_query (client, 2, "silent.example.com", DNS_TYPE_AAAA);
  send_query (client, 3, "silent.example.com", DNS_TYPE_TXT);
  struct packet answer;
  REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (get16 (answer.data), 3);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_SERVFAIL);
  CHECK_STR_EQ (w.failure_reason, "too many queries in flight");
  CHECK_INT_EQ (dns_proxy_in_flight (w.proxy), 2);

  /* A retransmission takes no slot and asks nobody again. */
  send_query (client, 1, "silent.example.com", DNS_TYPE_A);
  CHECK_INT_EQ (receive_udp (client, &answer, 50), -1);
  CHECK_INT_EQ (dns_proxy_in_flight (w.proxy), 2);
  CHECK_INT_EQ (w.upstream_seen, 2);
  /* Freed with queries in flight: nothing leaks (ASan's job in CI). */
  world_stop ();
}

NETWORK_TEST (firewall_failure_gives_servfail)
{
  struct dns_proxy_config config = base_config ();
  if (!world_start (&config))
    return;
  w.fail_resolution = true;
  int client = udp_client (AF_INET);
  send_query (client, 9, "www.example.com", DNS_TYPE_A);
  struct packet answer;
  REQUIRE (receive_udp (client, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_SERVFAIL);
  CHECK_INT_EQ (get16 (answer.data + AN_COUNT), 0);
  world_stop ();
}

NETWORK_TEST (tcp_connections_are_bounded_and_idle_ones_closed)
{
  struct dns_proxy_config config = base_config ();
  config.max_connections = 1;
  config.tcp_idle_timeout_ms = 100;
  if (!world_start (&config))
    return;
  uint64_t start = now_ms ();
  int first = tcp_client ();
  turn_for (10);
  int second = tcp_client ();
  struct packet answer;
  CHECK_INT_EQ (receive_tcp (second, &answer, 900), 0);
  CHECK_INT_EQ (receive_tcp (first, &answer, 900), 0);
  uint64_t elapsed = now_ms () - start;
  CHECK (elapsed >= 100 && elapsed < 500);

  /* Its slot is free again. */
  int third = tcp_client ();
  send_tcp_query (third, 1, "www.example.com", DNS_TYPE_A);
  REQUIRE (receive_tcp (third, &answer, 900) > DNS_HEADER_SIZE);
  CHECK_INT_EQ (rcode (&answer), DNS_RCODE_NOERROR);
  world_stop ();
}

static const struct harness_test tests[] = {
  TEST_ENTRY (allowed_name_is_relayed_after_the_firewall_has_its_addresses),
  TEST_ENTRY (aaaa_over_ipv6),
  TEST_ENTRY (refused_name_gets_nxdomain_and_never_leaves),
  TEST_ENTRY (silent_upstream_gives_servfail_after_the_next_one_fails_too),
  TEST_ENTRY (refusing_upstream_gives_servfail_at_once),
  TEST_ENTRY (tcp_queries_are_answered_on_one_connection),
  TEST_ENTRY (answer_too_big_for_udp_sends_the_client_to_tcp),
  TEST_ENTRY (malformed_requests_are_dropped_or_formerr),
  TEST_ENTRY (queries_in_flight_are_bounded),
  TEST_ENTRY (firewall_failure_gives_servfail),
  TEST_ENTRY (tcp_connections_are_bounded_and_idle_ones_closed),
};

HARNESS_MAIN (tests)
