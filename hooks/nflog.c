#include "config.h"
#include "nflog.h"
#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for a burst: what a container can refuse between two reads. */
#define RECEIVE_BUFFER_BYTES (1 << 20)
/* More extension headers than this is not a packet worth parsing. */
#define IPV6_MAX_EXTENSION_HEADERS 8

const char *
nflog_protocol_name (enum nflog_protocol protocol)
{
  switch (protocol)
    {
    case NFLOG_PROTOCOL_TCP:
      return "tcp";
    case NFLOG_PROTOCOL_UDP:
      return "udp";
    case NFLOG_PROTOCOL_ICMP:
      return "icmp";
    case NFLOG_PROTOCOL_OTHER:
      break;
    }
  return "other";
}

static void
set_transport (struct nflog_packet *packet, int family, uint8_t number, const uint8_t *l4, size_t l4_length,
               bool first_fragment)
{
  packet->protocol_number = number;
  packet->protocol = NFLOG_PROTOCOL_OTHER;
  if (number == IPPROTO_TCP)
    packet->protocol = NFLOG_PROTOCOL_TCP;
  else if (number == IPPROTO_UDP)
    packet->protocol = NFLOG_PROTOCOL_UDP;
  else if ((family == AF_INET && number == IPPROTO_ICMP) || (family == AF_INET6 && number == IPPROTO_ICMPV6))
    packet->protocol = NFLOG_PROTOCOL_ICMP;
  /* Both protocols start with the source port, then the destination. */
  packet->has_ports = first_fragment && l4_length >= 4
      && (packet->protocol == NFLOG_PROTOCOL_TCP || packet->protocol == NFLOG_PROTOCOL_UDP);
  packet->source_port = packet->has_ports ? (uint16_t)(l4[0] << 8 | l4[1]) : 0;
  packet->destination_port = packet->has_ports ? (uint16_t)(l4[2] << 8 | l4[3]) : 0;
}

static bool
parse_ipv4 (const uint8_t *p, size_t length, struct nflog_packet *packet)
{
  size_t header_length = (size_t)(p[0] & 0x0f) * 4;
  if (length < 20 || header_length < 20 || header_length > length)
    return false;
  packet->family = AF_INET;
  memcpy (packet->source, p + 12, 4);
  memcpy (packet->destination, p + 16, 4);
  uint16_t fragment_offset = (uint16_t)((p[6] & 0x1f) << 8 | p[7]);
  set_transport (packet, AF_INET, p[9], p + header_length, length - header_length, fragment_offset == 0);
  return true;
}

static bool
parse_ipv6 (const uint8_t *p, size_t length, struct nflog_packet *packet)
{
  if (length < 40)
    return false;
  packet->family = AF_INET6;
  memcpy (packet->source, p + 8, 16);
  memcpy (packet->destination, p + 24, 16);
  uint8_t next = p[6];
  size_t offset = 40;
  bool first_fragment = true;
  /* Walk the extension headers to the transport header; stop where the
   * copy ends, leaving the protocol as the header reached. */
  for (int i = 0; i < IPV6_MAX_EXTENSION_HEADERS && offset + 8 <= length; i++)
    {
      const uint8_t *h = p + offset;
      size_t header_length;
      if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS)
        header_length = ((size_t)h[1] + 1) * 8;
      else if (next == IPPROTO_FRAGMENT)
        {
          header_length = 8;
          first_fragment = ((h[2] << 8 | h[3]) & 0xfff8) == 0;
        }
      else if (next == IPPROTO_AH)
        header_length = ((size_t)h[1] + 2) * 4;
      else
        break;
      next = h[0];
      offset += header_length;
    }
  if (offset > length)
    offset = length;
  set_transport (packet, AF_INET6, next, p + offset, length - offset, first_fragment);
  return true;
}

bool
nflog_parse_payload (const void *payload, size_t length, struct nflog_packet *packet)
{
  const uint8_t *p = payload;
  memset (packet->source, 0, sizeof packet->source);
  memset (packet->destination, 0, sizeof packet->destination);
  if (length < 1)
    return false;
  switch (p[0] >> 4)
    {
    case 4:
      return parse_ipv4 (p, length, packet);
    case 6:
      return parse_ipv6 (p, length, packet);
    default:
      return false;
    }
}

/* One netlink request with its attributes, built in place. */
struct request
{
  union
  {
    struct nlmsghdr header;
    char bytes[256];
  };
};

static void
request_init (struct request *r, uint16_t type, uint16_t group)
{
  memset (r, 0, sizeof *r);
  r->header.nlmsg_len = NLMSG_LENGTH (sizeof (struct nfgenmsg));
  r->header.nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | type;
  r->header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  r->header.nlmsg_seq = 1;
  struct nfgenmsg *g = NLMSG_DATA (&r->header);
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = htons (group);
}

static void
request_add (struct request *r, uint16_t type, const void *data, size_t length)
{
  struct nlattr *a = (struct nlattr *)(r->bytes + NLMSG_ALIGN (r->header.nlmsg_len));
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + length);
  memcpy ((char *)a + NLA_HDRLEN, data, length);
  r->header.nlmsg_len = NLMSG_ALIGN (r->header.nlmsg_len) + NLA_ALIGN (a->nla_len);
}

/* The kernel handles a netfilter request within sendmsg(), so its answer
 * is queued when send() returns and a non-blocking receive finds it. */
static int
request_send (int fd, const struct request *r, struct ward_error **err)
{
  if (send (fd, r, r->header.nlmsg_len, 0) < 0)
    return ward_fail (err, errno, "nflog: send the configuration");
  char answer[512] __attribute__ ((aligned (NLMSG_ALIGNTO)));
  ssize_t n = recv (fd, answer, sizeof answer, 0);
  if (n < 0)
    return ward_fail (err, errno, "nflog: receive the configuration's answer");
  const struct nlmsghdr *h = (const struct nlmsghdr *)answer;
  if (!NLMSG_OK (h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR)
    return ward_fail (err, EPROTO, "nflog: unexpected answer to the configuration");
  const struct nlmsgerr *e = NLMSG_DATA (h);
  /* The kernel answers EPERM both without CAP_NET_ADMIN and when another
   * socket holds the group. */
  if (e->error == -EPERM)
    return ward_fail (err, EPERM, "nflog: bind (another socket has the group, or no CAP_NET_ADMIN)");
  if (e->error != 0)
    return ward_fail (err, -e->error, "nflog: bind");
  return 0;
}

int
nflog_open (uint16_t group, struct ward_error **err)
{
  cleanup_close int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  if (fd < 0)
    return ward_fail (err, errno, "nflog: open a netfilter netlink socket");
  struct sockaddr_nl local = { .nl_family = AF_NETLINK };
  if (bind (fd, (struct sockaddr *)&local, sizeof local) < 0)
    return ward_fail (err, errno, "nflog: bind the netlink socket");
  /* Best effort: a larger queue only makes overruns rarer. */
  int size = RECEIVE_BUFFER_BYTES;
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

  struct request r;
  request_init (&r, NFULNL_MSG_CONFIG, group);
  struct nfulnl_msg_config_cmd command = { .command = NFULNL_CFG_CMD_BIND };
  request_add (&r, NFULA_CFG_CMD, &command, sizeof command);
  struct nfulnl_msg_config_mode mode
      = { .copy_range = htonl (NFLOG_COPY_RANGE), .copy_mode = NFULNL_COPY_PACKET };
  request_add (&r, NFULA_CFG_MODE, &mode, sizeof mode);
  /* The kernel otherwise holds packets until 100 are queued or a second
   * has passed: the audit log should see each refusal as it happens. */
  uint32_t threshold = htonl (1);
  request_add (&r, NFULA_CFG_QTHRESH, &threshold, sizeof threshold);
  if (request_send (fd, &r, err) < 0)
    return ward_error_prefix (err, "group %u", group);
  return steal_fd (&fd);
}

static void
copy_prefix (struct nflog_packet *packet, const struct nlattr *a)
{
  size_t length = a->nla_len - NLA_HDRLEN;
  if (length >= sizeof packet->prefix)
    length = sizeof packet->prefix - 1;
  memcpy (packet->prefix, (const char *)a + NLA_HDRLEN, length);
  packet->prefix[length] = '\0';
  length = strlen (packet->prefix);
  while (length > 0 && packet->prefix[length - 1] == ' ')
    packet->prefix[--length] = '\0';
}

static uint32_t
attribute_u32 (const struct nlattr *a)
{
  uint32_t value = 0;
  if (a->nla_len >= NLA_HDRLEN + sizeof value)
    memcpy (&value, (const char *)a + NLA_HDRLEN, sizeof value);
  return ntohl (value);
}

/* One NFULNL_MSG_PACKET: its attributes, then the payload parsed. */
static bool
parse_message (const struct nlmsghdr *h, struct nflog_packet *packet)
{
  memset (packet, 0, sizeof *packet);
  size_t offset = NLMSG_ALIGN (sizeof (struct nfgenmsg));
  size_t length = h->nlmsg_len - NLMSG_HDRLEN;
  const char *base = NLMSG_DATA (h);
  const void *payload = NULL;
  size_t payload_length = 0;
  bool has_gid = false;
  while (offset + NLA_HDRLEN <= length)
    {
      const struct nlattr *a = (const struct nlattr *)(base + offset);
      if (a->nla_len < NLA_HDRLEN || offset + a->nla_len > length)
        break;
      switch (a->nla_type & NLA_TYPE_MASK)
        {
        case NFULA_PAYLOAD:
          payload = (const char *)a + NLA_HDRLEN;
          payload_length = a->nla_len - NLA_HDRLEN;
          break;
        case NFULA_PREFIX:
          copy_prefix (packet, a);
          break;
        case NFULA_UID:
          packet->has_uid = true;
          packet->uid = attribute_u32 (a);
          break;
        case NFULA_GID:
          has_gid = true;
          packet->gid = attribute_u32 (a);
          break;
        }
      offset += NLA_ALIGN (a->nla_len);
    }
  packet->has_uid = packet->has_uid && has_gid;
  return payload && nflog_parse_payload (payload, payload_length, packet);
}

int
nflog_read (int fd, void (*on_packet) (const struct nflog_packet *packet, void *ctx), void *ctx,
            struct ward_error **err)
{
  /* A netlink message never exceeds a page with NFLOG_COPY_RANGE; 64 KiB
   * takes many at once. */
  char buffer[1 << 16] __attribute__ ((aligned (NLMSG_ALIGNTO)));
  int delivered = 0;
  for (;;)
    {
      ssize_t n = recv (fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return delivered;
      if (n < 0 && errno == ENOBUFS)
        return ward_fail (err, ENOBUFS, "nflog: the kernel dropped refused packets before they were read");
      if (n < 0)
        return ward_fail (err, errno, "nflog: receive");
      size_t left = (size_t)n;
      for (const struct nlmsghdr *h = (const struct nlmsghdr *)buffer; NLMSG_OK (h, left);
           h = NLMSG_NEXT (h, left))
        {
          struct nflog_packet packet;
          if (h->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) && parse_message (h, &packet))
            {
              on_packet (&packet, ctx);
              delivered++;
            }
        }
    }
}
