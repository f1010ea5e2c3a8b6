/* NFLOG: payload parsing on hand-built packets (IPv4 and IPv6, options
 * and extension headers, fragments, truncated copies), then the packets
 * the egress firewall refuses, read live in a forked child's own network
 * namespace. */
#include "config.h"
#include "harness.h"
#include "nflog.h"
#include "cleanup.h"
#include "egress_nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t
ipv4 (uint8_t *p, uint8_t protocol, size_t options, uint16_t fragment)
{
  memset (p, 0, 20 + options);
  p[0] = (uint8_t)(0x40 | ((20 + options) / 4));
  p[6] = (uint8_t)(fragment >> 8);
  p[7] = (uint8_t)fragment;
  p[8] = 64;
  p[9] = protocol;
  uint8_t source[4] = { 192, 0, 2, 1 }, destination[4] = { 203, 0, 113, 7 };
  memcpy (p + 12, source, 4);
  memcpy (p + 16, destination, 4);
  return 20 + options;
}

static size_t
ipv6 (uint8_t *p, uint8_t next)
{
  memset (p, 0, 40);
  p[0] = 0x60;
  p[6] = next;
  p[7] = 64;
  inet_pton (AF_INET6, "2001:db8::1", p + 8);
  inet_pton (AF_INET6, "2001:db8:1::443", p + 24);
  return 40;
}

static size_t
ports (uint8_t *p, uint16_t source, uint16_t destination)
{
  p[0] = (uint8_t)(source >> 8);
  p[1] = (uint8_t)source;
  p[2] = (uint8_t)(destination >> 8);
  p[3] = (uint8_t)destination;
  memset (p + 4, 0, 16);
  return 20;
}

static const char *
destination_text (const struct nflog_packet *p)
{
  static char text[INET6_ADDRSTRLEN];
  return inet_ntop (p->family, p->destination, text, sizeof text);
}

TEST (ipv4_tcp)
{
  uint8_t packet[128];
  size_t length = ipv4 (packet, IPPROTO_TCP, 0, 0);
  length += ports (packet + length, 40000, 443);
  struct nflog_packet p;
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.family, AF_INET);
  CHECK_STR_EQ (destination_text (&p), "203.0.113.7");
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_TCP);
  CHECK_INT_EQ (p.protocol_number, IPPROTO_TCP);
  CHECK (p.has_ports);
  CHECK_INT_EQ (p.source_port, 40000);
  CHECK_INT_EQ (p.destination_port, 443);
  CHECK_STR_EQ (nflog_protocol_name (p.protocol), "tcp");
}

TEST (ipv4_options_udp_and_fragments)
{
  uint8_t packet[128];
  size_t length = ipv4 (packet, IPPROTO_UDP, 8, 0x4000 /* don't fragment */);
  length += ports (packet + length, 5353, 53);
  struct nflog_packet p;
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_UDP);
  CHECK (p.has_ports);
  CHECK_INT_EQ (p.destination_port, 53);
  /* A later fragment carries data where the ports would be. */
  length = ipv4 (packet, IPPROTO_UDP, 0, 0x2000 | 185);
  length += ports (packet + length, 1, 2);
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_UDP);
  CHECK (!p.has_ports);
  CHECK_INT_EQ (p.destination_port, 0);
}

TEST (ipv4_icmp_and_others)
{
  uint8_t packet[128];
  size_t length = ipv4 (packet, IPPROTO_ICMP, 0, 0);
  length += ports (packet + length, 0x0800, 0);
  struct nflog_packet p;
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_ICMP);
  CHECK (!p.has_ports);
  length = ipv4 (packet, IPPROTO_SCTP, 0, 0);
  length += ports (packet + length, 1, 2);
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_OTHER);
  CHECK_INT_EQ (p.protocol_number, IPPROTO_SCTP);
  CHECK_STR_EQ (nflog_protocol_name (p.protocol), "other");
  /* ICMPv6's number means nothing in IPv4. */
  length = ipv4 (packet, IPPROTO_ICMPV6, 0, 0);
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_OTHER);
}

TEST (ipv6_tcp)
{
  uint8_t packet[128];
  size_t length = ipv6 (packet, IPPROTO_TCP);
  length += ports (packet + length, 50000, 8443);
  struct nflog_packet p;
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.family, AF_INET6);
  CHECK_STR_EQ (destination_text (&p), "2001:db8:1::443");
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_TCP);
  CHECK (p.has_ports);
  CHECK_INT_EQ (p.destination_port, 8443);
}

TEST (ipv6_extension_headers)
{
  uint8_t packet[128];
  /* Hop-by-hop (8 bytes), then a first fragment, then UDP. */
  size_t length = ipv6 (packet, IPPROTO_HOPOPTS);
  memset (packet + length, 0, 8);
  packet[length] = IPPROTO_FRAGMENT;
  length += 8;
  memset (packet + length, 0, 8);
  packet[length] = IPPROTO_UDP;
  packet[length + 3] = 1; /* more fragments, offset 0 */
  length += 8;
  size_t udp = length;
  length += ports (packet + length, 1000, 53);
  struct nflog_packet p;
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_UDP);
  CHECK_INT_EQ (p.protocol_number, IPPROTO_UDP);
  CHECK (p.has_ports);
  CHECK_INT_EQ (p.destination_port, 53);
  /* The same with a fragment offset: no ports. */
  packet[udp - 8 + 2] = 0x01;
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_UDP);
  CHECK (!p.has_ports);
}

TEST (ipv6_icmp)
{
  uint8_t packet[128];
  size_t length = ipv6 (packet, IPPROTO_ICMPV6);
  length += ports (packet + length, 0x8000, 0);
  struct nflog_packet p;
  REQUIRE (nflog_parse_payload (packet, length, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_ICMP);
  CHECK_STR_EQ (nflog_protocol_name (p.protocol), "icmp");
  CHECK (!p.has_ports);
}

TEST (truncated_and_foreign_payloads)
{
  uint8_t packet[128];
  struct nflog_packet p;
  size_t length = ipv4 (packet, IPPROTO_TCP, 0, 0);
  CHECK (!nflog_parse_payload (packet, 19, &p));
  CHECK (!nflog_parse_payload (packet, 0, &p));
  /* The header whole, the ports cut off: the addresses still count. */
  ports (packet + length, 1, 2);
  REQUIRE (nflog_parse_payload (packet, length + 3, &p));
  CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_TCP);
  CHECK (!p.has_ports);
  CHECK_STR_EQ (destination_text (&p), "203.0.113.7");
  /* A header length pointing past the copy. */
  packet[0] = 0x4f;
  CHECK (!nflog_parse_payload (packet, 40, &p));
  packet[0] = 0x44;
  CHECK (!nflog_parse_payload (packet, 40, &p));
  length = ipv6 (packet, IPPROTO_TCP);
  CHECK (!nflog_parse_payload (packet, 39, &p));
  /* An extension header running past the copy stops the walk there. */
  length = ipv6 (packet, IPPROTO_DSTOPTS);
  memset (packet + length, 0, 8);
  packet[length] = IPPROTO_TCP;
  packet[length + 1] = 10; /* 88 bytes */
  REQUIRE (nflog_parse_payload (packet, length + 8, &p));
  CHECK (!p.has_ports);
  packet[0] = 0x50;
  CHECK (!nflog_parse_payload (packet, 40, &p));
}

/* ---- live, in a network namespace of the child's own ---- */

static void
run_in_child_at (const char *file, int line, void (*body) (void))
{
  pid_t pid = fork ();
  if (pid < 0)
    {
      harness_check (false, file, line, "fork");
      return;
    }
  if (pid == 0)
    {
      harness_failed_checks = 0;
      body ();
      fflush (stdout);
      _exit (harness_failed_checks == 0 ? 0 : 1);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  harness_check (WIFEXITED (status) && WEXITSTATUS (status) == 0, file, line, "child's checks passed");
}

#define RUN_IN_CHILD(body) run_in_child_at (__FILE__, __LINE__, (body))

/* A namespace with lo and a veth pair whose d0 routes everything: the
 * firewall refuses on the way out, so nothing needs to answer. */
static bool
enter_test_world (void)
{
  if (unshare (CLONE_NEWNET) < 0)
    {
      printf ("  skipped: unshare(CLONE_NEWNET): %s\n", strerror (errno));
      return false;
    }
  static const char *const setup[] = {
    "link set lo up",
    "link add d0 type veth peer name d1",
    "link set d0 up",
    "link set d1 up",
    "addr add 192.0.2.1/24 dev d0",
    "-6 addr add 2001:db8::1/64 dev d0 nodad",
    "route add default via 192.0.2.9 dev d0",
    "-6 route add default via 2001:db8::9 dev d0",
  };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (setup); i++)
    {
      char command[256];
      snprintf (command, sizeof command, "PATH=/usr/sbin:/sbin:/usr/bin:/bin ip %s >/dev/null 2>&1",
                setup[i]);
      if (system (command) != 0)
        {
          printf ("  skipped: ip %s failed\n", setup[i]);
          return false;
        }
    }
  return true;
}

/* Connect (TCP) or send (UDP): the errno of a refusal, EINPROGRESS for a
 * connection still under way after 100 ms (the reset of a refusal comes
 * at once). */
static int
attempt (int type, const char *text, uint16_t port)
{
  int family = strchr (text, ':') ? AF_INET6 : AF_INET;
  struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons (port) };
  inet_pton (family, text, family == AF_INET ? (void *)&in.sin_addr : (void *)&in6.sin6_addr);
  struct sockaddr *to = family == AF_INET ? (struct sockaddr *)&in : (struct sockaddr *)&in6;
  socklen_t length = family == AF_INET ? sizeof in : sizeof in6;
  int fd = socket (family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int ret = type == SOCK_STREAM ? connect (fd, to, length) : (int)sendto (fd, "x", 1, 0, to, length);
  int error = ret < 0 ? errno : 0;
  struct pollfd p = { .fd = fd, .events = POLLOUT };
  if (error == EINPROGRESS && poll (&p, 1, 100) == 1)
    {
      socklen_t size = sizeof error;
      getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &size);
    }
  close (fd);
  return error;
}

static bool
readable_within (int fd, int milliseconds)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  return poll (&p, 1, milliseconds) == 1;
}

struct logged
{
  struct nflog_packet packets[8];
  size_t count;
};

static void
collect (const struct nflog_packet *packet, void *ctx)
{
  struct logged *logged = ctx;
  if (logged->count < WARD_ARRAY_SIZE (logged->packets))
    logged->packets[logged->count++] = *packet;
}

/* The packet NFLOG reports for `destination`, waiting at most 300 ms.
 * Others are passed over: the kernel sends its own packets (IGMP, say)
 * when interfaces come up, and the firewall refuses those too. */
static bool
next_logged (int fd, const char *destination, struct nflog_packet *packet)
{
  struct timespec start;
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      struct timespec now;
      clock_gettime (CLOCK_MONOTONIC, &now);
      long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      if (waited >= 300 || !readable_within (fd, (int)(300 - waited)))
        {
          printf ("  nothing logged for %s\n", destination);
          return false;
        }
      struct logged logged = { .count = 0 };
      struct ward_error *err = NULL;
      if (nflog_read (fd, collect, &logged, &err) < 0)
        {
          printf ("  %s\n", err->message);
          ward_error_free (&err);
          return false;
        }
      for (size_t i = 0; i < logged.count; i++)
        {
          char text[INET6_ADDRSTRLEN];
          inet_ntop (logged.packets[i].family, logged.packets[i].destination, text, sizeof text);
          if (strcmp (text, destination) == 0)
            {
              *packet = logged.packets[i];
              return true;
            }
          printf ("  passed over: %s, %s\n", text, logged.packets[i].prefix);
        }
    }
}

static void
live_nflog_body (void)
{
  if (!enter_test_world ())
    return;
  struct egress_allowlist list = { 0 };
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  struct egress_nft *nft = NULL;
  struct ward_error *err = NULL;
  if (egress_allowlist_add (&list, "192.0.2.9:80", "test", &err) < 0 || egress_nft_open (&nft, &err) < 0
      || egress_nft_install (nft, &list, &options, &err) < 0)
    printf ("  %s\n", err->message);
  REQUIRE (err == NULL);
  int fd = nflog_open (options.nflog_group, &err);
  if (fd < 0)
    printf ("  %s\n", err->message);
  REQUIRE (fd >= 0);
  /* One reader a group in a namespace. */
  CHECK_INT_EQ (nflog_open (options.nflog_group, &err), -1);
  REQUIRE (err);
  CHECK_INT_EQ (err->errnum, EPERM);
  ward_error_free (&err);

  struct nflog_packet p;
  char text[INET6_ADDRSTRLEN];
  CHECK_INT_EQ (attempt (SOCK_STREAM, "192.0.2.9", 81), ECONNREFUSED);
  if (CHECK (next_logged (fd, "192.0.2.9", &p)))
    {
      CHECK_INT_EQ (p.family, AF_INET);
      CHECK_STR_EQ (inet_ntop (AF_INET, p.source, text, sizeof text), "192.0.2.1");
      CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_TCP);
      CHECK_INT_EQ (p.destination_port, 81);
      CHECK_STR_EQ (p.prefix, EGRESS_NFT_PREFIX_REFUSED);
      CHECK (p.has_uid && p.uid == getuid () && p.gid == getgid ());
    }
  CHECK_INT_EQ (attempt (SOCK_STREAM, "169.254.169.254", 80), ECONNREFUSED);
  if (CHECK (next_logged (fd, "169.254.169.254", &p)))
    CHECK_STR_EQ (p.prefix, EGRESS_NFT_PREFIX_BLOCKED);
  CHECK_INT_EQ (attempt (SOCK_DGRAM, "2001:db8:1::9", 4000), EPERM);
  if (CHECK (next_logged (fd, "2001:db8:1::9", &p)))
    {
      CHECK_INT_EQ (p.family, AF_INET6);
      CHECK_INT_EQ (p.protocol, NFLOG_PROTOCOL_UDP);
      CHECK_INT_EQ (p.destination_port, 4000);
      CHECK_STR_EQ (p.prefix, EGRESS_NFT_PREFIX_REFUSED);
    }
  /* What is allowed is not logged. */
  CHECK_INT_EQ (attempt (SOCK_STREAM, "192.0.2.9", 80), EINPROGRESS);
  struct logged logged = { .count = 0 };
  CHECK (nflog_read (fd, collect, &logged, &err) >= 0);
  for (size_t i = 0; i < logged.count; i++)
    CHECK (logged.packets[i].destination_port != 80);
  close (fd);
  egress_nft_close (nft);
  egress_allowlist_clear (&list);
}

TEST (live_refused_packets_are_read)
{
  RUN_IN_CHILD (live_nflog_body);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (ipv4_tcp),
  TEST_ENTRY (ipv4_options_udp_and_fragments),
  TEST_ENTRY (ipv4_icmp_and_others),
  TEST_ENTRY (ipv6_tcp),
  TEST_ENTRY (ipv6_extension_headers),
  TEST_ENTRY (ipv6_icmp),
  TEST_ENTRY (truncated_and_foreign_payloads),
  TEST_ENTRY (live_refused_packets_are_read),
};

HARNESS_MAIN (tests)
