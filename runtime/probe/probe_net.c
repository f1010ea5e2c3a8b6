/* Probes of the network: raw and packet sockets, netlink changes to the
 * routes and the firewall, DNS lookups of names not allowed, and
 * connections to addresses not allowed (verify's targets: an external URL
 * by name and by address, the cloud metadata endpoint, the user's URLs). */
#define _GNU_SOURCE
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 3000

static void
probe_raw_socket (const char *name, const struct probe_args *args)
{
  (void)args;
  int fd = socket (AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  int saved = errno;
  if (fd >= 0)
    close (fd);
  probe_report_call (name, fd, saved);
}

static void
probe_af_packet (const char *name, const struct probe_args *args)
{
  (void)args;
  int fd = socket (AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons (ETH_P_ALL));
  int saved = errno;
  if (fd >= 0)
    close (fd);
  probe_report_call (name, fd, saved);
}

/* Sends `len` bytes of netlink messages and returns the first error any
 * ack carries (0 if all succeeded), or -errno of the socket. */
static int
netlink_transact (int protocol, const void *msg, size_t len, unsigned acks)
{
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0)
    return -errno;
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  int result = 0;
  if (sendto (fd, msg, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
    result = -errno;
  while (result == 0 && acks > 0)
    {
      char buf[4096];
      struct pollfd p = { fd, POLLIN, 0 };
      if (poll (&p, 1, 2000) <= 0)
        break;
      ssize_t n = recv (fd, buf, sizeof buf, 0);
      if (n < 0)
        {
          result = -errno;
          break;
        }
      for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK (h, (size_t)n); h = NLMSG_NEXT (h, n))
        if (h->nlmsg_type == NLMSG_ERROR)
          {
            struct nlmsgerr *e = NLMSG_DATA (h);
            acks--;
            if (e->error != 0)
              {
                result = e->error;
                break;
              }
          }
    }
  close (fd);
  return result;
}

static void
report_netlink (const char *name, int result, const char *done)
{
  if (result == 0)
    probe_report (name, PROBE_ESCAPED, "%s", done);
  else
    probe_report_call (name, -1, -result);
}

struct route_request
{
  struct nlmsghdr header;
  struct rtmsg route;
  struct rtattr dst_attr;
  struct in_addr dst;
};

static void
route_request (struct route_request *r, int type, int flags)
{
  memset (r, 0, sizeof *r);
  r->header.nlmsg_len = sizeof *r;
  r->header.nlmsg_type = type;
  r->header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  r->route.rtm_family = AF_INET;
  r->route.rtm_dst_len = 32;
  r->route.rtm_table = RT_TABLE_MAIN;
  r->route.rtm_protocol = RTPROT_STATIC;
  r->route.rtm_scope = RT_SCOPE_UNIVERSE;
  r->route.rtm_type = RTN_BLACKHOLE;
  r->dst_attr.rta_len = RTA_LENGTH (sizeof r->dst);
  r->dst_attr.rta_type = RTA_DST;
  inet_pton (AF_INET, "198.18.0.1", &r->dst); /* the benchmarking range: nobody's */
}

static void
probe_netlink_route (const char *name, const struct probe_args *args)
{
  (void)args;
  struct route_request r;
  route_request (&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  int result = netlink_transact (NETLINK_ROUTE, &r, sizeof r, 1);
  if (result == 0)
    {
      route_request (&r, RTM_DELROUTE, 0);
      netlink_transact (NETLINK_ROUTE, &r, sizeof r, 1);
    }
  report_netlink (name, result, "added a route (removed again)");
}

/* A batch deleting the table of ward's egress firewall, `inet ward`. */
struct nft_message
{
  struct nlmsghdr header;
  struct nfgenmsg gen;
};

static size_t
nft_put (char *buf, size_t at, int type, int flags, int family, const char *table)
{
  struct nft_message *m = (struct nft_message *)(buf + at);
  size_t len = NLMSG_ALIGN (sizeof *m);
  memset (m, 0, len);
  m->header.nlmsg_type = type;
  m->header.nlmsg_flags = NLM_F_REQUEST | flags;
  m->header.nlmsg_seq = (unsigned)at + 1;
  m->gen.nfgen_family = family;
  m->gen.version = NFNETLINK_V0;
  m->gen.res_id = htons (NFNL_SUBSYS_NFTABLES);
  if (table)
    {
      struct rtattr *a = (struct rtattr *)(buf + at + len);
      a->rta_type = NFTA_TABLE_NAME;
      a->rta_len = RTA_LENGTH (strlen (table) + 1);
      memcpy (RTA_DATA (a), table, strlen (table) + 1);
      len += RTA_ALIGN (a->rta_len);
    }
  m->header.nlmsg_len = (unsigned)len;
  return at + len;
}

static void
probe_nft_flush (const char *name, const struct probe_args *args)
{
  (void)args;
  char buf[512] = { 0 };
  size_t len = nft_put (buf, 0, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NULL);
  len = nft_put (buf, len, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_ACK, NFPROTO_INET, "ward");
  len = nft_put (buf, len, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NULL);
  int result = netlink_transact (NETLINK_NETFILTER, buf, len, 1);
  if (result == -ENOENT)
    probe_report (name, PROBE_ESCAPED, "the request got past the permission check (no table inet ward)");
  else
    report_netlink (name, result, "deleted the egress firewall's table inet ward");
}

static void
probe_dns_exfil (const char *name, const struct probe_args *args)
{
  char address[64], why[128];
  if (probe_dns_lookup (args->exfil_name, address, sizeof address, why, sizeof why) == 0)
    probe_report (name, PROBE_ESCAPED, "%s resolved to %s", args->exfil_name, address);
  else
    probe_report (name, PROBE_CONTAINED, "%s: %s", args->exfil_name, why);
}

/* A TCP connection to host:port, `host` an address literal (a static
 * binary's getaddrinfo would need the host's NSS libraries). */
static void
connect_to (const char *name, const char *host, const char *port, const char *via)
{
  struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons ((uint16_t)atoi (port)) };
  struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = v6.sin6_port };
  struct sockaddr *addr = (struct sockaddr *)&v4;
  socklen_t addr_len = sizeof v4;
  if (inet_pton (AF_INET6, host, &v6.sin6_addr) == 1)
    addr = (struct sockaddr *)&v6, addr_len = sizeof v6;
  else if (inet_pton (AF_INET, host, &v4.sin_addr) != 1)
    {
      probe_report (name, PROBE_ERROR, "%s is not an address", host);
      return;
    }
  int fd = socket (addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int result = fd < 0 ? errno : 0;
  if (fd >= 0 && connect (fd, addr, addr_len) < 0)
    {
      result = errno;
      if (result == EINPROGRESS)
        {
          struct pollfd p = { fd, POLLOUT, 0 };
          socklen_t len = sizeof result;
          if (poll (&p, 1, CONNECT_TIMEOUT_MS) <= 0)
            result = ETIMEDOUT;
          else
            getsockopt (fd, SOL_SOCKET, SO_ERROR, &result, &len);
        }
    }
  if (fd >= 0)
    close (fd);
  if (result == 0)
    probe_report (name, PROBE_ESCAPED, "connected to %s port %s%s", host, port, via);
  else
    probe_report (name, PROBE_CONTAINED, "%s port %s%s: %s", host, port, via, strerrorname_np (result));
}

static void
probe_targets (const char *name, const struct probe_args *args)
{
  (void)name;
  for (size_t i = 0; i < args->targets_count; i++)
    {
      const struct probe_target *t = &args->targets[i];
      unsigned char ignored[16];
      if (inet_pton (AF_INET, t->host, ignored) == 1 || inet_pton (AF_INET6, t->host, ignored) == 1)
        {
          connect_to (t->name, t->host, t->port, "");
          continue;
        }
      char address[64], why[128], via[128];
      if (probe_dns_lookup (t->host, address, sizeof address, why, sizeof why) < 0)
        {
          probe_report (t->name, PROBE_CONTAINED, "%s did not resolve: %s", t->host, why);
          continue;
        }
      snprintf (via, sizeof via, " (%s resolved)", t->host);
      connect_to (t->name, address, t->port, via);
    }
}

/* The targets come before the netlink probes, which, if they work, may
 * take the firewall down. */
const struct probe probe_net_table[] = {
  { "targets", probe_targets, true },
  { "dns-exfil", probe_dns_exfil, true },
  { "raw-socket", probe_raw_socket, true },
  { "af-packet", probe_af_packet, true },
  { "netlink-route", probe_netlink_route, true },
  { "nft-flush", probe_nft_flush, true },
  { NULL, NULL, false },
};
