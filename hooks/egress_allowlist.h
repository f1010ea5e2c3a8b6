/* The egress allowlist: which destinations a container may reach, parsed
 * from the policy's `egress.allow` and the annotation `run.ward.egress`.
 * Pure parsing and matching, no kernel: egress_nft.c turns a list into
 * nftables sets, the DNS supervisor matches names against it.
 *
 * One entry, whitespace trimmed, optionally prefixed "tcp/" or "udp/"
 * (default tcp), optionally suffixed ":PORT" (default every port):
 *
 *   api.example.com      the name itself
 *   *.example.com        its subdomains, not example.com itself
 *   203.0.113.7          an address; 203.0.113.0/24 a network
 *   2001:db8::1          IPv6 without a port; 2001:db8::/32 a network
 *   [2001:db8::1]:443    IPv6 with a port; [2001:db8::/32]:443 likewise
 *
 * Some destinations are blocked unless an address entry names them (a DNS
 * answer for an allowed name never unblocks them, against DNS rebinding):
 * the cloud metadata addresses and link-local ranges, and the private
 * ranges; egress_blocked_range_find() says which. */
#ifndef WARD_EGRESS_ALLOWLIST_H
#define WARD_EGRESS_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum egress_protocol
{
  EGRESS_TCP,
  EGRESS_UDP,
};

struct egress_rule
{
  bool is_name;
  /* Names: lowercased, without a trailing dot; for a wildcard the suffix
   * after "*.".  NULL for addresses. */
  char *name;
  bool wildcard;
  /* Addresses: AF_INET or AF_INET6, network byte order, host bits
   * cleared; prefix_length is 32 or 128 for a single address. */
  int family;
  uint8_t address[16];
  unsigned prefix_length;
  uint16_t port; /* 0: every port */
  enum egress_protocol protocol;
};

struct egress_allowlist
{
  struct egress_rule *rules;
  size_t count;
};

/* Parse one entry and append it.  `origin` names where it came from, for
 * messages: `annotation run.ward.egress: "300.1.1.1": not a valid address`. */
int egress_allowlist_add (struct egress_allowlist *list, const char *entry, const char *origin,
                          struct ward_error **err);

/* Parse a comma-separated list (the annotation's form) and append each
 * entry; empty items ("a.com,,b.com", a trailing comma) are skipped.  On a
 * bad entry nothing of `csv` is kept. */
int egress_allowlist_add_csv (struct egress_allowlist *list, const char *csv, const char *origin,
                              struct ward_error **err);

void egress_allowlist_clear (struct egress_allowlist *list);

/* Does `name` (any case, trailing dot or not) match a name rule?  Always
 * false for address rules. */
bool egress_name_matches (const struct egress_rule *rule, const char *name);

/* Is `address` inside the network of an address rule? */
bool egress_rule_contains (const struct egress_rule *rule, int family, const void *address);

/* Does an address entry admit `protocol` to `port` of `address` (port 0:
 * to every port, which only an entry without a port does)?  Names never
 * count: this is the explicit naming that unblocks a blocked range. */
bool egress_allowlist_admits_address (const struct egress_allowlist *list, int family, const void *address,
                                      enum egress_protocol protocol, uint16_t port);

/* The distinct TCP ports the list names, ascending, for Landlock's
 * connect-port rule: *ports is malloc'ed (NULL when *count is 0).
 * *every_port is true when a TCP entry has no port, and then Landlock
 * cannot restrict connect by port at all.  The caller adds ports the list
 * does not name but the container needs, such as 53 for DNS over TCP
 * (Landlock checks the port given to connect(), before the DNS redirect). */
int egress_allowlist_tcp_ports (const struct egress_allowlist *list, uint16_t **ports, size_t *count,
                                bool *every_port, struct ward_error **err);

/* Ranges blocked unless an address entry admits them.  Kinds are bits, so
 * a caller enables a set of them. */
enum egress_block_kind
{
  EGRESS_BLOCK_METADATA = 1 << 0, /* cloud metadata endpoints, and link-local where they live */
  EGRESS_BLOCK_PRIVATE = 1 << 1,  /* RFC 1918, shared address space, unique local */
};

struct egress_blocked_range
{
  int family;
  uint8_t address[16];
  unsigned prefix_length;
  enum egress_block_kind kind;
  const char *label; /* "metadata", "link-local", "private", for messages and the audit log */
};

/* Every blocked range, the single metadata addresses first. */
const struct egress_blocked_range *egress_blocked_ranges (size_t *count);

/* The first range of the `kinds` (a mask of egress_block_kind) holding
 * `address`, NULL when none does.  An IPv4-mapped IPv6 address is looked
 * up as the IPv4 address it carries: that is where the kernel sends it. */
const struct egress_blocked_range *egress_blocked_range_find (int family, const void *address,
                                                              unsigned kinds);

/* The address and prefix as text ("203.0.113.0/24", "2001:db8::1"), the
 * prefix left out for a single address; `out` holds at least
 * EGRESS_ADDRESS_TEXT_MAX bytes. */
#define EGRESS_ADDRESS_TEXT_MAX 64
void egress_address_format (int family, const void *address, unsigned prefix_length, char *out);

const char *egress_protocol_name (enum egress_protocol protocol);

#endif
