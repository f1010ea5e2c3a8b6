/* A minimal NFLOG receiver: the packets the egress firewall refused, read
 * from a raw NETLINK_NETFILTER socket, for the audit log.  Only the start
 * of each packet is copied (NFLOG_COPY_RANGE bytes): enough for the IP
 * header, IPv6 extension headers and the ports.
 *
 * NFLOG groups belong to a network namespace: nflog_open() binds in the
 * calling thread's namespace, so the supervisor calls it from inside the
 * container's, and the socket keeps reading from there afterwards. */
#ifndef WARD_NFLOG_H
#define WARD_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define NFLOG_COPY_RANGE 128

enum nflog_protocol
{
  NFLOG_PROTOCOL_OTHER,
  NFLOG_PROTOCOL_TCP,
  NFLOG_PROTOCOL_UDP,
  NFLOG_PROTOCOL_ICMP, /* ICMP for IPv4, ICMPv6 for IPv6 */
};

struct nflog_packet
{
  int family; /* AF_INET or AF_INET6 */
  uint8_t source[16];
  uint8_t destination[16]; /* network byte order; 4 bytes used for IPv4 */
  uint8_t protocol_number; /* IPPROTO_*, after IPv6 extension headers */
  enum nflog_protocol protocol;
  bool has_ports;                         /* TCP or UDP with the ports copied, not a later fragment */
  uint16_t source_port, destination_port; /* host byte order */
  /* Set by nflog_read() only: the rule's log prefix without trailing
   * blanks ("" when none), and the sending socket's owner if known. */
  char prefix[64];
  bool has_uid;
  uint32_t uid, gid;
};

/* Parse the start of an IPv4 or IPv6 packet into *packet (the address and
 * protocol fields; prefix and owner are left alone).  False when it is too
 * short for its IP header or not IP at all. */
bool nflog_parse_payload (const void *payload, size_t length, struct nflog_packet *packet);

const char *nflog_protocol_name (enum nflog_protocol protocol);

/* A non-blocking, close-on-exec socket bound to NFLOG `group` in the
 * current network namespace.  Fails with EPERM when another socket has the
 * group (or the caller lacks CAP_NET_ADMIN there). */
int nflog_open (uint16_t group, struct ward_error **err);

/* Read everything pending on `fd` and call on_packet for each IP packet.
 * Returns how many were delivered.  When the kernel dropped messages
 * because the socket's queue was full it fails with errnum ENOBUFS: the
 * socket stays usable (read on; note that packets went unlogged). */
int nflog_read (int fd, void (*on_packet) (const struct nflog_packet *packet, void *ctx), void *ctx,
                struct ward_error **err);

#endif
