/* The egress ruleset: first the nft script it renders, then the real thing.
 * The live tests run in a forked child that has unshared its network
 * namespace, so no rule ever reaches the host's; a veth pair there stands
 * for the outside world: what the firewall lets through leaves by d0 and
 * is seen arriving on d1, what it refuses fails at once in the program. */
#include "config.h"
#include "harness.h"
#include "egress_nft.h"
#include "nflog.h" /* its payload parser reads the captured frames */
#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ORIGIN "policy egress.allow"
#define PROXY_PORT 5353

static bool
build_list (struct egress_allowlist *list, const char *csv)
{
  struct ward_error *err = NULL;
  if (egress_allowlist_add_csv (list, csv, ORIGIN, &err) == 0)
    return true;
  printf ("  %s\n", err->message);
  ward_error_free (&err);
  return false;
}

/* The script for `csv` under `options`; NULL on failure. */
static char *
render (const char *csv, const struct egress_nft_options *options)
{
  struct egress_allowlist list = { 0 };
  struct ward_error *err = NULL;
  char *script = NULL;
  if (build_list (&list, csv) && egress_nft_render (&list, options, &script, &err) < 0)
    {
      printf ("  %s\n", err->message);
      ward_error_free (&err);
    }
  egress_allowlist_clear (&list);
  return script;
}

static bool
contains (const char *text, const char *part)
{
  if (text && strstr (text, part))
    return true;
  printf ("  missing: %s\n", part);
  return false;
}

static bool
lacks (const char *text, const char *part)
{
  if (text && !strstr (text, part))
    return true;
  printf ("  unexpected: %s\n", part);
  return false;
}

TEST (renders_the_whole_ruleset)
{
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.proxy_port = PROXY_PORT;
  char *script = render ("api.example.com:443, udp/203.0.113.0/24:53, [2001:db8::1]:443", &options);
  CHECK_STR_EQ (
      script,
      "table inet ward {}\n"
      "delete table inet ward\n"
      "table inet ward {\n"
      "\tset allow4_port {\n"
      "\t\ttype ipv4_addr . inet_proto . inet_service\n"
      "\t\tflags interval\n"
      "\t\telements = { 203.0.113.0/24 . udp . 53 }\n"
      "\t}\n"
      "\tset allow6_port {\n"
      "\t\ttype ipv6_addr . inet_proto . inet_service\n"
      "\t\tflags interval\n"
      "\t\telements = { 2001:db8::1 . tcp . 443 }\n"
      "\t}\n"
      "\tset blocked4 {\n"
      "\t\ttype ipv4_addr\n"
      "\t\tflags interval\n"
      "\t\telements = { 169.254.0.0/16, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 }\n"
      "\t}\n"
      "\tset blocked6 {\n"
      "\t\ttype ipv6_addr\n"
      "\t\tflags interval\n"
      "\t\telements = { fe80::/10, fc00::/7 }\n"
      "\t}\n"
      "\tset dns4_port {\n"
      "\t\ttype ipv4_addr . inet_proto . inet_service\n"
      "\t\tflags timeout\n"
      "\t}\n"
      "\tset dns4_any {\n"
      "\t\ttype ipv4_addr . inet_proto\n"
      "\t\tflags timeout\n"
      "\t}\n"
      "\tset dns6_port {\n"
      "\t\ttype ipv6_addr . inet_proto . inet_service\n"
      "\t\tflags timeout\n"
      "\t}\n"
      "\tset dns6_any {\n"
      "\t\ttype ipv6_addr . inet_proto\n"
      "\t\tflags timeout\n"
      "\t}\n"
      "\tchain reject_packet {\n"
      "\t\tmeta l4proto tcp reject with tcp reset\n"
      "\t\treject with icmpx admin-prohibited\n"
      "\t}\n"
      "\tchain output {\n"
      "\t\ttype filter hook output priority filter; policy drop;\n"
      "\t\tct state established,related accept\n"
      "\t\toif \"lo\" accept\n"
      "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n"
      "\t\tip6 daddr ff02::/16 icmpv6 type { mld-listener-report, mld-listener-done, "
      "mld2-listener-report } accept\n"
      "\t\tct status dnat ip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport 5353 accept\n"
      "\t\tct status dnat ip6 daddr ::1 meta l4proto { tcp, udp } th dport 5353 accept\n"
      "\t\tip daddr . meta l4proto . th dport @allow4_port accept\n"
      "\t\tip6 daddr . meta l4proto . th dport @allow6_port accept\n"
      "\t\tip daddr @blocked4 log prefix \"ward-blocked \" group 8 goto reject_packet\n"
      "\t\tip6 daddr @blocked6 log prefix \"ward-blocked \" group 8 goto reject_packet\n"
      "\t\tip daddr . meta l4proto . th dport @dns4_port accept\n"
      "\t\tip daddr . meta l4proto @dns4_any accept\n"
      "\t\tip6 daddr . meta l4proto . th dport @dns6_port accept\n"
      "\t\tip6 daddr . meta l4proto @dns6_any accept\n"
      "\t\tlog prefix \"ward-refused \" group 8 goto reject_packet\n"
      "\t}\n"
      "\tchain dns_redirect {\n"
      "\t\ttype nat hook output priority -100; policy accept;\n"
      "\t\tmeta l4proto { tcp, udp } th dport 53 redirect to :5353\n"
      "\t}\n"
      "\tcounter bytes_out {\n"
      "\t}\n"
      "\tcounter bytes_in {\n"
      "\t}\n"
      "\tcounter connections {\n"
      "\t}\n"
      "\tchain account_out {\n"
      "\t\ttype filter hook postrouting priority 100; policy accept;\n"
      "\t\toif \"lo\" return\n"
      "\t\tip daddr 127.0.0.0/8 return\n"
      "\t\tip6 daddr ::1 return\n"
      "\t\tcounter name \"bytes_out\"\n"
      "\t\tmeta l4proto { tcp, udp } ct state new counter name \"connections\"\n"
      "\t}\n"
      "\tchain account_in {\n"
      "\t\ttype filter hook input priority 100; policy accept;\n"
      "\t\tiif \"lo\" return\n"
      "\t\tcounter name \"bytes_in\"\n"
      "\t}\n"
      "}\n");
  free (script);
}

TEST (a_connect_rate_rejects_the_excess_before_the_allowlist)
{
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.connect_rate = 30;
  char *script = render ("203.0.113.0/24", &options);
  const char *rate = strstr (script,
                             "meta l4proto { tcp, udp } ct state new limit rate over 30/minute burst 30 "
                             "packets log prefix \"ward-rate \" group 8 goto reject_packet\n");
  CHECK (rate != NULL);
  CHECK (rate && rate < strstr (script, "@allow4_any accept"));
  free (script);
  egress_nft_options_init (&options);
  script = render ("203.0.113.0/24", &options);
  CHECK (strstr (script, "limit rate") == NULL);
  free (script);
}

TEST (counters_are_read_from_the_listing)
{
  struct egress_nft_counters c;
  struct ward_error *err = NULL;
  const char *text = "table inet ward {\n\tcounter bytes_out {\n\t\tpackets 3 bytes 180\n\t}\n"
                     "\tcounter bytes_in {\n\t\tpackets 2 bytes 4096\n\t}\n"
                     "\tcounter connections {\n\t\tpackets 1 bytes 60\n\t}\n}\n";
  CHECK (egress_nft_parse_counters (text, &c, &err) == 0);
  CHECK (c.bytes_out == 180 && c.bytes_in == 4096 && c.connections == 1);
  CHECK (egress_nft_parse_counters ("table inet ward {\n}\n", &c, &err) < 0);
  CHECK (err && strstr (err->message, "bytes_out"));
  ward_error_free (&err);
}

TEST (metered_domains_get_a_set_pair_and_a_counter_each)
{
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.metered_count = 2;
  char *script = render ("api.example.com:443", &options);
  CHECK (strstr (script,
                 "\tcounter metered_1 {\n\t}\n\tset metered4_1 {\n\t\ttype ipv4_addr\n\t}\n"
                 "\tset metered6_1 {\n\t\ttype ipv6_addr\n\t}\n")
         != NULL);
  const char *rule = strstr (
      script,
      "\t\tip daddr @metered4_0 meta l4proto { tcp, udp } ct state new counter name \"metered_0\"\n"
      "\t\tip6 daddr @metered6_0 meta l4proto { tcp, udp } ct state new counter name \"metered_0\"\n");
  /* In the accounting chain, after the loopback returns. */
  CHECK (rule && rule > strstr (script, "chain account_out"));
  free (script);
  struct egress_nft_counters c;
  struct ward_error *err = NULL;
  const char *text = "table inet ward {\n\tcounter bytes_out {\n\t\tpackets 3 bytes 180\n\t}\n"
                     "\tcounter bytes_in {\n\t\tpackets 2 bytes 4096\n\t}\n"
                     "\tcounter connections {\n\t\tpackets 4 bytes 240\n\t}\n"
                     "\tcounter metered_1 {\n\t\tpackets 3 bytes 180\n\t}\n}\n";
  CHECK (egress_nft_parse_counters (text, &c, &err) == 0);
  CHECK (c.connections == 4 && c.metered[0] == 0 && c.metered[1] == 3);
  ward_error_free (&err);
}

TEST (any_port_entries_go_to_the_any_sets)
{
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  char *script = render ("203.0.113.0/24, udp/198.51.100.7, 2001:db8::/32", &options);
  CHECK (contains (script,
                   "set allow4_any {\n\t\ttype ipv4_addr . inet_proto\n\t\tflags interval\n"
                   "\t\telements = { 203.0.113.0/24 . tcp, 198.51.100.7 . udp }"));
  CHECK (contains (script, "elements = { 2001:db8::/32 . tcp }"));
  CHECK (contains (script, "ip daddr . meta l4proto @allow4_any accept"));
  CHECK (contains (script, "ip6 daddr . meta l4proto @allow6_any accept"));
  CHECK (lacks (script, "allow4_port"));
  /* No names: no DNS sets, and no redirect without a proxy port. */
  CHECK (lacks (script, "dns4"));
  CHECK (lacks (script, "redirect"));
  CHECK (lacks (script, "ct status dnat"));
  free (script);
}

TEST (nested_entries_are_left_out)
{
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  /* The kernel refuses overlapping elements in these sets. */
  char *script = render ("203.0.113.7:443, 203.0.113.0/24:443, 203.0.113.0/24:443, 203.0.113.9:80, "
                         "udp/203.0.113.0/25:443, 203.0.113.1",
                         &options);
  CHECK (contains (script,
                   "elements = { 203.0.113.0/24 . tcp . 443, 203.0.113.9 . tcp . 80, "
                   "203.0.113.0/25 . udp . 443 }"));
  CHECK (contains (script, "elements = { 203.0.113.1 . tcp }"));
  free (script);
}

TEST (block_options_choose_the_ranges)
{
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.block_private = false;
  char *script = render ("", &options);
  CHECK (contains (script, "elements = { 169.254.0.0/16 }"));
  /* Outside every other blocked range now, so named on its own. */
  CHECK (contains (script, "elements = { fd00:ec2::254, fe80::/10 }"));
  free (script);
  options.block_private = true;
  options.block_metadata = false;
  script = render ("", &options);
  CHECK (contains (script, "elements = { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 }"));
  CHECK (contains (script, "elements = { fc00::/7 }"));
  free (script);
  options.block_private = false;
  script = render ("", &options);
  CHECK (lacks (script, "blocked"));
  CHECK (contains (script, "log prefix \"ward-refused \" group 8 goto reject_packet"));
  free (script);
}

TEST (disabled_means_loopback_only)
{
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.enabled = false;
  options.nflog_group = 42;
  char *script = render ("api.example.com, 203.0.113.0/24", &options);
  CHECK (lacks (script, "set "));
  CHECK (lacks (script, "@"));
  CHECK (contains (script,
                   "\t\toif \"lo\" accept\n"
                   "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n"
                   "\t\tip6 daddr ff02::/16 icmpv6 type { mld-listener-report, mld-listener-done, "
                   "mld2-listener-report } accept\n"
                   "\t\tlog prefix \"ward-refused \" group 42 goto reject_packet\n"));
  free (script);
}

TEST (resolved_elements_replace_any_older_timeout)
{
  struct egress_allowlist list = { 0 };
  REQUIRE (build_list (&list, "api.example.com:443, udp/*.example.org, 203.0.113.1"));
  struct ward_error *err = NULL;
  uint8_t v4[4] = { 198, 51, 100, 7 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
  char *script = NULL;
  CHECK_INT_EQ (egress_nft_render_resolved (&list.rules[0], AF_INET, v4, 300, &script, &err), 0);
  CHECK_STR_EQ (script,
                "add element inet ward dns4_port { 198.51.100.7 . tcp . 443 timeout 300s }\n"
                "delete element inet ward dns4_port { 198.51.100.7 . tcp . 443 }\n"
                "add element inet ward dns4_port { 198.51.100.7 . tcp . 443 timeout 300s }\n");
  free (script);
  CHECK_INT_EQ (egress_nft_render_resolved (&list.rules[1], AF_INET6, v6, 60, &script, &err), 0);
  CHECK (contains (script, "add element inet ward dns6_any { 2001:db8::7 . udp timeout 60s }\n"));
  free (script);
  CHECK_INT_EQ (egress_nft_render_resolved (&list.rules[2], AF_INET, v4, 60, &script, &err), -1);
  REQUIRE (err);
  CHECK_INT_EQ (err->errnum, EINVAL);
  ward_error_free (&err);
  egress_allowlist_clear (&list);
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

static bool
run_ip (const char *arguments)
{
  char command[512];
  snprintf (command, sizeof command, "PATH=/usr/sbin:/sbin:/usr/bin:/bin ip %s >/dev/null 2>&1", arguments);
  return system (command) == 0;
}

/* In the child: a network namespace of its own with lo up and a veth pair,
 * d0 (192.0.2.1, 2001:db8::1) routing everything to a made-up neighbour
 * whose link address is fixed, so frames leave without ARP or ND.  False,
 * with a note, when the machine cannot give us that. */
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
    "neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev d0 nud permanent",
    "-6 neigh add 2001:db8::9 lladdr 02:00:00:00:00:09 dev d0 nud permanent",
    "route add default via 192.0.2.9 dev d0",
    "-6 route add default via 2001:db8::9 dev d0",
  };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (setup); i++)
    if (!run_ip (setup[i]))
      {
        printf ("  skipped: ip %s failed\n", setup[i]);
        return false;
      }
  return true;
}

/* Frames arriving on d1: what d0 sent out. */
static int
open_capture (void)
{
  int fd = socket (AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons (ETH_P_ALL));
  struct sockaddr_ll where = { .sll_family = AF_PACKET,
                               .sll_protocol = htons (ETH_P_ALL),
                               .sll_ifindex = (int)if_nametoindex ("d1") };
  if (fd >= 0 && bind (fd, (struct sockaddr *)&where, sizeof where) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static bool
frame_is (const uint8_t *frame, ssize_t length, int family, const void *address, int protocol, uint16_t port)
{
  struct nflog_packet packet;
  if (length <= ETH_HLEN || !nflog_parse_payload (frame + ETH_HLEN, (size_t)length - ETH_HLEN, &packet))
    return false;
  return packet.family == family && packet.protocol_number == protocol && packet.destination_port == port
      && memcmp (packet.destination, address, family == AF_INET ? 4 : 16) == 0;
}

enum outcome
{
  SENT,    /* seen leaving by d0 */
  REFUSED, /* failed at once: ECONNREFUSED from the reset, EPERM from the drop */
  NOTHING, /* neither within the wait */
  ERROR,
};

static const char *const outcome_names[] = { "sent", "refused", "nothing", "error" };

/* Try a TCP connect or a UDP datagram to address:port and say what
 * happened, waiting at most 300 ms (a refusal or a frame is immediate). */
static enum outcome
attempt (int protocol, const char *text, uint16_t port)
{
  int family = strchr (text, ':') ? AF_INET6 : AF_INET;
  struct sockaddr_storage to = { 0 };
  socklen_t to_length;
  uint8_t address[16];
  inet_pton (family, text, address);
  if (family == AF_INET)
    {
      struct sockaddr_in *in = (struct sockaddr_in *)&to;
      *in = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons (port) };
      memcpy (&in->sin_addr, address, 4);
      to_length = sizeof *in;
    }
  else
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
      *in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons (port) };
      memcpy (&in6->sin6_addr, address, 16);
      to_length = sizeof *in6;
    }
  int capture = open_capture ();
  int type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
  int fd = socket (family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (capture < 0 || fd < 0)
    {
      printf ("  attempt: socket: %s\n", strerror (errno));
      return ERROR;
    }
  enum outcome result = NOTHING;
  int ret = protocol == IPPROTO_TCP ? connect (fd, (struct sockaddr *)&to, to_length)
                                    : (int)sendto (fd, "x", 1, 0, (struct sockaddr *)&to, to_length);
  if (ret < 0 && (errno == ECONNREFUSED || errno == EPERM))
    result = REFUSED;
  else if (ret < 0 && errno != EINPROGRESS)
    {
      printf ("  attempt %s:%u: %s\n", text, port, strerror (errno));
      result = ERROR;
    }
  for (int rounds = 0; result == NOTHING && rounds < 10; rounds++)
    {
      struct pollfd fds[2] = { { .fd = capture, .events = POLLIN }, { .fd = fd, .events = POLLOUT } };
      if (poll (fds, protocol == IPPROTO_TCP ? 2 : 1, 30) < 0)
        break;
      uint8_t frame[2048];
      ssize_t n;
      while (result == NOTHING && (n = recv (capture, frame, sizeof frame, 0)) > 0)
        if (frame_is (frame, n, family, address, protocol, port))
          result = SENT;
      int error = 0;
      socklen_t length = sizeof error;
      if (result == NOTHING && protocol == IPPROTO_TCP && (fds[1].revents & (POLLOUT | POLLERR))
          && getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == ECONNREFUSED)
        result = REFUSED;
    }
  close (fd);
  close (capture);
  return result;
}

#define CHECK_ATTEMPT(protocol, address, port, expected)                                                     \
  do                                                                                                         \
    {                                                                                                        \
      enum outcome got_ = attempt ((protocol), (address), (port));                                           \
      if (!CHECK_INT_EQ (got_, (expected)))                                                                  \
        printf ("    %s:%u: %s, expected %s\n", (address), (port), outcome_names[got_],                      \
                outcome_names[(expected)]);                                                                  \
    }                                                                                                        \
  while (0)

static struct egress_nft *
install (const char *csv, const struct egress_nft_options *options)
{
  struct egress_allowlist list = { 0 };
  struct egress_nft *nft = NULL;
  struct ward_error *err = NULL;
  if (!build_list (&list, csv))
    return NULL;
  if (egress_nft_open (&nft, &err) < 0 || egress_nft_install (nft, &list, options, &err) < 0)
    {
      printf ("  %s\n", err->message);
      ward_error_free (&err);
      egress_nft_close (nft);
      nft = NULL;
    }
  egress_allowlist_clear (&list);
  return nft;
}

static void
live_allowlist_body (void)
{
  if (!enter_test_world ())
    return;
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  struct egress_nft *nft = install ("192.0.2.9:80, udp/198.51.100.0/24:123, 10.1.2.3:5432, [2001:db8::9]:443,"
                                    "203.0.113.0/24",
                                    &options);
  REQUIRE (nft);
  CHECK_ATTEMPT (IPPROTO_TCP, "192.0.2.9", 80, SENT);
  CHECK_ATTEMPT (IPPROTO_TCP, "192.0.2.9", 81, REFUSED);
  CHECK_ATTEMPT (IPPROTO_UDP, "192.0.2.9", 80, REFUSED);
  CHECK_ATTEMPT (IPPROTO_UDP, "198.51.100.200", 123, SENT);
  CHECK_ATTEMPT (IPPROTO_UDP, "198.51.100.200", 124, REFUSED);
  CHECK_ATTEMPT (IPPROTO_TCP, "203.0.113.50", 1234, SENT);
  CHECK_ATTEMPT (IPPROTO_TCP, "2001:db8::9", 443, SENT);
  CHECK_ATTEMPT (IPPROTO_TCP, "2001:db8::9", 80, REFUSED);
  /* The blocked ranges, unless an address entry names them. */
  CHECK_ATTEMPT (IPPROTO_TCP, "10.1.2.3", 5432, SENT);
  CHECK_ATTEMPT (IPPROTO_TCP, "10.1.2.4", 5432, REFUSED);
  CHECK_ATTEMPT (IPPROTO_TCP, "169.254.169.254", 80, REFUSED);
  CHECK_ATTEMPT (IPPROTO_TCP, "fd00:ec2::254", 80, REFUSED);
  /* What got through counts; what was refused does not. */
  struct egress_nft_counters counters;
  struct ward_error *err = NULL;
  CHECK (egress_nft_read_counters (nft, &counters, &err) == 0);
  CHECK (counters.connections >= 5 && counters.connections <= 16);
  CHECK (counters.bytes_out > 0);
  ward_error_free (&err);
  egress_nft_close (nft);
}

/* New flows to a metered address count in its counter, and in
 * connections; others only in connections. */
static void
live_metered_body (void)
{
  if (!enter_test_world ())
    return;
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.metered_count = 1;
  struct egress_nft *nft = install ("192.0.2.9:80, 203.0.113.0/24", &options);
  REQUIRE (nft);
  struct ward_error *err = NULL;
  uint8_t metered[4] = { 192, 0, 2, 9 };
  CHECK (egress_nft_meter_address (nft, 0, AF_INET, metered, &err) == 0);
  /* Again: remembered, no second element (which would fail nothing either). */
  CHECK (egress_nft_meter_address (nft, 0, AF_INET, metered, &err) == 0);
  CHECK (egress_nft_meter_address (nft, 1, AF_INET, metered, &err) < 0);
  ward_error_free (&err);
  struct egress_nft_counters before;
  CHECK (egress_nft_read_counters (nft, &before, &err) == 0);
  CHECK_ATTEMPT (IPPROTO_TCP, "192.0.2.9", 80, SENT);
  CHECK_ATTEMPT (IPPROTO_TCP, "203.0.113.50", 80, SENT);
  struct egress_nft_counters after;
  CHECK (egress_nft_read_counters (nft, &after, &err) == 0);
  /* A SYN retransmitted is still a packet of a new flow: at least one each. */
  CHECK (after.metered[0] - before.metered[0] >= 1);
  CHECK (after.connections - before.connections > after.metered[0] - before.metered[0]);
  ward_error_free (&err);
  egress_nft_close (nft);
}

TEST (live_metered_addresses_count_their_connections)
{
  RUN_IN_CHILD (live_metered_body);
}

TEST (live_allowlist_lets_through_only_what_it_names)
{
  RUN_IN_CHILD (live_allowlist_body);
}

static void
live_disabled_body (void)
{
  if (!enter_test_world ())
    return;
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.enabled = false;
  struct egress_nft *nft = install ("192.0.2.9:80", &options);
  REQUIRE (nft);
  CHECK_ATTEMPT (IPPROTO_TCP, "192.0.2.9", 80, REFUSED);
  CHECK_ATTEMPT (IPPROTO_UDP, "192.0.2.9", 53, REFUSED);
  /* Loopback still works. */
  int server = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t length = sizeof local;
  REQUIRE (bind (server, (struct sockaddr *)&local, sizeof local) == 0);
  REQUIRE (listen (server, 1) == 0 && getsockname (server, (struct sockaddr *)&local, &length) == 0);
  int client = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK (connect (client, (struct sockaddr *)&local, sizeof local) == 0);
  close (client);
  close (server);
  egress_nft_close (nft);
}

TEST (live_disabled_refuses_everything_but_loopback)
{
  RUN_IN_CHILD (live_disabled_body);
}

static int
bound_socket (int family, int type, const char *address, uint16_t port)
{
  int fd = socket (family, type | SOCK_CLOEXEC, 0);
  struct sockaddr_storage where = { 0 };
  socklen_t length;
  if (family == AF_INET)
    {
      struct sockaddr_in *in = (struct sockaddr_in *)&where;
      *in = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons (port) };
      inet_pton (AF_INET, address, &in->sin_addr);
      length = sizeof *in;
    }
  else
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&where;
      *in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons (port) };
      inet_pton (AF_INET6, address, &in6->sin6_addr);
      length = sizeof *in6;
    }
  int one = 1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind (fd, (struct sockaddr *)&where, length) < 0
      || (type == SOCK_STREAM && listen (fd, 4) < 0))
    {
      printf ("  bind %s:%u: %s\n", address, port, strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

static bool
readable_within (int fd, int milliseconds)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  return poll (&p, 1, milliseconds) == 1;
}

static void
live_dns_redirect_body (void)
{
  if (!enter_test_world ())
    return;
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  options.proxy_port = PROXY_PORT;
  struct egress_nft *nft = install ("api.example.com:443", &options);
  REQUIRE (nft);
  int proxy4 = bound_socket (AF_INET, SOCK_DGRAM, "127.0.0.1", PROXY_PORT);
  int proxy6 = bound_socket (AF_INET6, SOCK_DGRAM, "::1", PROXY_PORT);
  int proxy_tcp = bound_socket (AF_INET, SOCK_STREAM, "127.0.0.1", PROXY_PORT);
  REQUIRE (proxy4 >= 0 && proxy6 >= 0 && proxy_tcp >= 0);
  /* A query to any server, even one in a blocked range, reaches the proxy. */
  static const char *const servers[] = { "192.0.2.9", "8.8.8.8", "10.0.0.53", "2001:db8::53" };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (servers); i++)
    {
      int family = strchr (servers[i], ':') ? AF_INET6 : AF_INET;
      int client = bound_socket (family, SOCK_DGRAM, family == AF_INET ? "0.0.0.0" : "::", 0);
      struct sockaddr_storage to = { 0 };
      socklen_t to_length = family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6);
      if (family == AF_INET)
        {
          ((struct sockaddr_in *)&to)->sin_family = AF_INET;
          ((struct sockaddr_in *)&to)->sin_port = htons (53);
          inet_pton (AF_INET, servers[i], &((struct sockaddr_in *)&to)->sin_addr);
        }
      else
        {
          ((struct sockaddr_in6 *)&to)->sin6_family = AF_INET6;
          ((struct sockaddr_in6 *)&to)->sin6_port = htons (53);
          inet_pton (AF_INET6, servers[i], &((struct sockaddr_in6 *)&to)->sin6_addr);
        }
      CHECK (sendto (client, "query", 5, 0, (struct sockaddr *)&to, to_length) == 5);
      int proxy = family == AF_INET ? proxy4 : proxy6;
      if (!CHECK (readable_within (proxy, 300)))
        {
          printf ("    no query from %s\n", servers[i]);
          close (client);
          continue;
        }
      /* The answer comes back from where the query was sent. */
      struct sockaddr_storage from;
      socklen_t from_length = sizeof from;
      char buffer[16];
      CHECK (recvfrom (proxy, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &from_length) == 5);
      CHECK (sendto (proxy, "answer", 6, 0, (struct sockaddr *)&from, from_length) == 6);
      from_length = sizeof from;
      CHECK (readable_within (client, 300));
      CHECK (recvfrom (client, buffer, sizeof buffer, MSG_DONTWAIT, (struct sockaddr *)&from, &from_length)
             == 6);
      CHECK (memcmp (&from, &to, to_length) == 0);
      close (client);
    }
  /* DNS over TCP too. */
  int client = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons (53) };
  inet_pton (AF_INET, "198.51.100.53", &server.sin_addr);
  CHECK (connect (client, (struct sockaddr *)&server, sizeof server) == 0);
  CHECK (readable_within (proxy_tcp, 300));
  close (client);
  /* Other ports are not redirected. */
  CHECK_ATTEMPT (IPPROTO_UDP, "192.0.2.9", 5353, REFUSED);
  close (proxy4);
  close (proxy6);
  close (proxy_tcp);
  egress_nft_close (nft);
}

TEST (live_dns_goes_to_the_proxy)
{
  RUN_IN_CHILD (live_dns_redirect_body);
}

static int
allow_resolved (struct egress_nft *nft, const struct egress_rule *rule, const char *text, uint32_t ttl)
{
  int family = strchr (text, ':') ? AF_INET6 : AF_INET;
  uint8_t address[16];
  inet_pton (family, text, address);
  struct ward_error *err = NULL;
  int ret = egress_nft_allow_resolved (nft, rule, family, address, ttl, &err);
  if (ret < 0)
    {
      printf ("  %s\n", err->message);
      ward_error_free (&err);
    }
  return ret;
}

static void
live_resolved_body (void)
{
  if (!enter_test_world ())
    return;
  struct egress_allowlist list = { 0 };
  REQUIRE (build_list (&list, "api.example.com:443, udp/*.example.org, 10.9.9.9:443"));
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  struct egress_nft *nft = NULL;
  struct ward_error *err = NULL;
  REQUIRE (egress_nft_open (&nft, &err) == 0);
  REQUIRE (egress_nft_install (nft, &list, &options, &err) == 0);

  CHECK_ATTEMPT (IPPROTO_TCP, "198.51.100.7", 443, REFUSED);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "198.51.100.7", 5), EGRESS_RESOLVED_ADDED);
  CHECK_ATTEMPT (IPPROTO_TCP, "198.51.100.7", 443, SENT);
  CHECK_ATTEMPT (IPPROTO_TCP, "198.51.100.7", 80, REFUSED);
  CHECK_ATTEMPT (IPPROTO_UDP, "2001:db8:1::77", 5000, REFUSED);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[1], "2001:db8:1::77", 3600), EGRESS_RESOLVED_ADDED);
  CHECK_ATTEMPT (IPPROTO_UDP, "2001:db8:1::77", 5000, SENT);
  CHECK_ATTEMPT (IPPROTO_TCP, "2001:db8:1::77", 5000, REFUSED);

  /* DNS rebinding: an allowed name pointing into a blocked range. */
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "169.254.169.254", 300), EGRESS_RESOLVED_BLOCKED);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "10.0.0.1", 300), EGRESS_RESOLVED_BLOCKED);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[1], "fe80::1", 300), EGRESS_RESOLVED_BLOCKED);
  CHECK_ATTEMPT (IPPROTO_TCP, "10.0.0.1", 443, REFUSED);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "10.9.9.9", 300), EGRESS_RESOLVED_STATIC);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[1], "10.9.9.9", 300), EGRESS_RESOLVED_BLOCKED);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "::ffff:10.0.0.1", 300), EGRESS_RESOLVED_BLOCKED);
  /* An IPv4-mapped answer opens the IPv4 address its packets go to. */
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "::ffff:198.51.100.8", 300), EGRESS_RESOLVED_ADDED);
  CHECK_ATTEMPT (IPPROTO_TCP, "198.51.100.8", 443, SENT);

  /* The timeout: the TTL raised to the floor; a later, shorter answer
   * keeps it, a longer one replaces it. */
  char *listed = NULL;
  REQUIRE (egress_nft_run (nft, "list set inet ward dns4_port", &listed, &err) == 0);
  CHECK (contains (listed, "198.51.100.7 . tcp . 443 timeout 1m expires"));
  free (listed);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "198.51.100.7", 30), EGRESS_RESOLVED_ADDED);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[0], "198.51.100.7", 600), EGRESS_RESOLVED_ADDED);
  REQUIRE (egress_nft_run (nft, "list set inet ward dns4_port", &listed, &err) == 0);
  CHECK (contains (listed, "198.51.100.7 . tcp . 443 timeout 10m expires"));
  free (listed);
  CHECK_INT_EQ (allow_resolved (nft, &list.rules[1], "2001:db8:1::77", 100000), EGRESS_RESOLVED_ADDED);
  REQUIRE (egress_nft_run (nft, "list set inet ward dns6_any", &listed, &err) == 0);
  CHECK (contains (listed, "2001:db8:1::77 . udp timeout 1d expires"));
  free (listed);

  /* Installing again starts from empty DNS sets. */
  REQUIRE (egress_nft_install (nft, &list, &options, &err) == 0);
  CHECK_ATTEMPT (IPPROTO_TCP, "198.51.100.7", 443, REFUSED);
  egress_nft_close (nft);
  egress_allowlist_clear (&list);
}

TEST (live_resolved_addresses_open_for_their_rule_only)
{
  RUN_IN_CHILD (live_resolved_body);
}

static bool
same_netns (int fd_a, const char *path_b)
{
  struct stat a, b;
  return fstat (fd_a, &a) == 0 && stat (path_b, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int
netfilter_sockets_without_cloexec (void)
{
  int count = 0;
  for (int fd = 0; fd < 1024; fd++)
    {
      int domain = 0, protocol = 0;
      socklen_t length = sizeof domain;
      if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) < 0 || domain != AF_NETLINK)
        continue;
      length = sizeof protocol;
      if (getsockopt (fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) == 0 && protocol == NETLINK_NETFILTER
          && !(fcntl (fd, F_GETFD) & FD_CLOEXEC))
        count++;
    }
  return count;
}

static void
live_open_in_netns_body (void)
{
  if (!enter_test_world ())
    return;
  int container = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  REQUIRE (container >= 0);
  /* Stand in the "host's" namespace, as the supervisor does. */
  REQUIRE (unshare (CLONE_NEWNET) == 0);
  int host = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  struct egress_nft *inside = NULL, *here = NULL;
  struct ward_error *err = NULL;
  REQUIRE (egress_nft_open_in_netns (container, &inside, &err) == 0);
  CHECK (same_netns (host, "/proc/thread-self/ns/net"));
  struct egress_allowlist list = { 0 };
  struct egress_nft_options options;
  egress_nft_options_init (&options);
  REQUIRE (build_list (&list, "api.example.com:443"));
  REQUIRE (egress_nft_install (inside, &list, &options, &err) == 0);
  uint8_t address[4] = { 198, 51, 100, 7 };
  CHECK_INT_EQ (egress_nft_allow_resolved (inside, &list.rules[0], AF_INET, address, 60, &err),
                EGRESS_RESOLVED_ADDED);
  char *listed = NULL;
  CHECK (egress_nft_run (inside, "list table inet ward", &listed, &err) == 0);
  CHECK (contains (listed, "198.51.100.7 . tcp . 443"));
  free (listed);
  /* Nothing arrived here. */
  REQUIRE (egress_nft_open (&here, &err) == 0);
  CHECK (egress_nft_run (here, "list tables", &listed, &err) == 0);
  CHECK_STR_EQ (listed, "");
  free (listed);
  /* libnftables' errors, placed. */
  CHECK (egress_nft_run (here, "add table inet t\nadd rule inet t nosuchchain accept\n", NULL, &err) < 0);
  REQUIRE (err);
  CHECK_STR_EQ (err->message,
                "nftables: line 2: Could not process rule: No such file or directory: "
                "add rule inet t nosuchchain accept");
  ward_error_free (&err);
  /* The contexts' sockets do not leak into programs. */
  CHECK_INT_EQ (netfilter_sockets_without_cloexec (), 0);
  egress_nft_close (here);
  egress_nft_close (inside);
  egress_allowlist_clear (&list);
  close (host);
  close (container);
}

TEST (live_open_in_netns_keeps_the_handle_in_the_container)
{
  RUN_IN_CHILD (live_open_in_netns_body);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (renders_the_whole_ruleset),
  TEST_ENTRY (a_connect_rate_rejects_the_excess_before_the_allowlist),
  TEST_ENTRY (counters_are_read_from_the_listing),
  TEST_ENTRY (metered_domains_get_a_set_pair_and_a_counter_each),
  TEST_ENTRY (any_port_entries_go_to_the_any_sets),
  TEST_ENTRY (nested_entries_are_left_out),
  TEST_ENTRY (block_options_choose_the_ranges),
  TEST_ENTRY (disabled_means_loopback_only),
  TEST_ENTRY (resolved_elements_replace_any_older_timeout),
  TEST_ENTRY (live_allowlist_lets_through_only_what_it_names),
  TEST_ENTRY (live_metered_addresses_count_their_connections),
  TEST_ENTRY (live_disabled_refuses_everything_but_loopback),
  TEST_ENTRY (live_dns_goes_to_the_proxy),
  TEST_ENTRY (live_resolved_addresses_open_for_their_rule_only),
  TEST_ENTRY (live_open_in_netns_keeps_the_handle_in_the_container),
};

HARNESS_MAIN (tests)
