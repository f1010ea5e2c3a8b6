/* A container's egress firewall: one nftables table, `inet ward`, in the
 * container's network namespace, written as an nft script (so the ruleset
 * can be read and tested without a kernel) and loaded through libnftables
 * in one transaction.
 *
 * The filter output chain, policy drop, in this order:
 *   1. established and related traffic, loopback, IPv6 neighbour discovery
 *      and multicast listener reports, and DNS the nat chain redirected to
 *      the supervisor's proxy: accepted;
 *   2. the allowlist's address entries (sets allow4_port, allow4_any, and
 *      the same for IPv6): accepted;
 *   3. the blocked ranges (metadata, link-local, private): logged with
 *      prefix "ward-blocked" and rejected, whatever DNS said about them;
 *   4. addresses learned from DNS for allowed names (sets dns4_port,
 *      dns4_any, dns6_port, dns6_any, elements with timeouts): accepted;
 *   5. everything else: logged with prefix "ward-refused" and rejected,
 *      TCP with a reset and the rest with ICMP administratively prohibited,
 *      so a refused program fails at once instead of timing out.
 * With a connect rate, new TCP and UDP flows over it (a token bucket of
 * that many a minute) are logged with prefix "ward-rate" and rejected
 * before step 2: the watchdog's rate limit, enforced in the kernel.
 *
 * Named counters, which the watchdog reads: bytes_out and bytes_in (every
 * packet that left or arrived on an interface other than loopback, after
 * the filter let it through) and connections (new outbound TCP and UDP
 * flows that were let through), counted in their own chains at priority
 * 100, so that refused packets never count.  With metered domains (the
 * budget's rates), one more counter each, metered_N, of the new flows to
 * the addresses in the sets metered4_N and metered6_N, which the
 * supervisor fills as DNS resolves the domain's names.
 *
 * A nat output chain sends every DNS query, UDP and TCP, to any address,
 * to the proxy's port on 127.0.0.1 or ::1.
 *
 * Refused and blocked packets go to NFLOG group `nflog_group`, which
 * nflog.c reads. */
#ifndef WARD_EGRESS_NFT_H
#define WARD_EGRESS_NFT_H

#include <stdbool.h>
#include <stdint.h>

#include "egress_allowlist.h"
#include "error.h"

#define EGRESS_NFT_TABLE "ward"
#define EGRESS_NFT_NFLOG_GROUP 8
/* The log prefixes, so the NFLOG reader can tell the two refusals apart. */
#define EGRESS_NFT_PREFIX_BLOCKED "ward-blocked"
#define EGRESS_NFT_PREFIX_REFUSED "ward-refused"
/* New connections over the connect rate: rejected, the container goes on. */
#define EGRESS_NFT_PREFIX_RATE "ward-rate"
/* A resolved address stays allowed at least this long, whatever its TTL,
 * so that a program that resolves, then connects a little later, is not
 * refused; and at most a day, however long the TTL. */
#define EGRESS_NFT_TTL_FLOOR_SECONDS 60
#define EGRESS_NFT_TTL_CEILING_SECONDS 86400

struct egress_nft_options
{
  bool enabled;        /* false: no egress at all, loopback only */
  uint16_t proxy_port; /* DNS (port 53) is redirected here on 127.0.0.1/::1; 0: not redirected */
  bool block_private;  /* EGRESS_BLOCK_PRIVATE ranges */
  bool block_metadata; /* EGRESS_BLOCK_METADATA ranges (metadata and link-local) */
  uint16_t nflog_group;
  uint64_t connect_rate; /* new outbound connections a minute; 0: no limit */
  size_t metered_count;  /* metered domains: sets and counters metered*_0 .. _N-1 */
};

#define EGRESS_NFT_METERED_MAX 16

/* Enabled, both kinds of range blocked, group EGRESS_NFT_NFLOG_GROUP, no
 * redirect: the policy's defaults. */
void egress_nft_options_init (struct egress_nft_options *options);

/* The whole ruleset as an nft script, which replaces any `inet ward` table
 * in one transaction.  *script is malloc'ed. */
int egress_nft_render (const struct egress_allowlist *list, const struct egress_nft_options *options,
                       char **script, struct ward_error **err);

/* The script adding `address` for `rule` (a name rule) for `ttl_seconds`,
 * used as given (egress_nft_allow_resolved() applies the floor and
 * ceiling).  It adds, deletes and adds again, so that an element already
 * there gets the new timeout on every kernel, in one transaction. */
int egress_nft_render_resolved (const struct egress_rule *rule, int family, const void *address,
                                uint32_t ttl_seconds, char **script, struct ward_error **err);

/* A libnftables context bound to one network namespace: its netlink socket
 * is opened once, by egress_nft_open(), in the calling thread's network
 * namespace, and every later command goes there, whichever namespace the
 * caller is in by then (libnftables >= 0.9.9 never reopens it). */
struct egress_nft;

int egress_nft_open (struct egress_nft **nft, struct ward_error **err);

/* egress_nft_open() inside the network namespace `netns_fd`, the calling
 * thread returning to its own namespace before this returns: the
 * supervisor keeps the handle and uses it from the host's namespace. */
int egress_nft_open_in_netns (int netns_fd, struct egress_nft **nft, struct ward_error **err);

void egress_nft_close (struct egress_nft *nft);

/* Render and load the ruleset.  The handle keeps a copy of the address
 * entries and the options, for egress_nft_allow_resolved(). */
int egress_nft_install (struct egress_nft *nft, const struct egress_allowlist *list,
                        const struct egress_nft_options *options, struct ward_error **err);

enum egress_resolved
{
  EGRESS_RESOLVED_ADDED,   /* in the DNS sets (or already there for at least as long) */
  EGRESS_RESOLVED_BLOCKED, /* in a blocked range that no address entry admits: not added, audit it */
  EGRESS_RESOLVED_STATIC,  /* in a blocked range an address entry admits: allowed, nothing to add */
};

/* Allow `rule`'s protocol and port to `address` (network byte order),
 * which the DNS answer for a name matching `rule` gave, for `ttl_seconds`
 * (raised to the floor, cut to the ceiling).  Returns an egress_resolved,
 * or -1.  An element already there for longer keeps its longer timeout:
 * two names can share an address, and a program may hold the answer with
 * the longer TTL.  An IPv4-mapped IPv6 address counts as the IPv4 address
 * its packets go to. */
int egress_nft_allow_resolved (struct egress_nft *nft, const struct egress_rule *rule, int family,
                               const void *address, uint32_t ttl_seconds, struct ward_error **err);

/* Count new connections to `address` (network byte order), which DNS
 * gave for a name of metered domain `index`, in counter metered_<index>
 * from now on.  Elements never expire: a program may keep an address
 * longer than its TTL, and its connections cost the same. */
int egress_nft_meter_address (struct egress_nft *nft, size_t index, int family, const void *address,
                              struct ward_error **err);

/* The named counters' values (see above); metered[i] is 0 for a counter
 * the ruleset does not have. */
struct egress_nft_counters
{
  uint64_t bytes_out, bytes_in, connections;
  uint64_t metered[EGRESS_NFT_METERED_MAX];
};

int egress_nft_read_counters (struct egress_nft *nft, struct egress_nft_counters *out,
                              struct ward_error **err);

/* Parse `list counters` output (text) into *out: for the tests. */
int egress_nft_parse_counters (const char *text, struct egress_nft_counters *out, struct ward_error **err);

/* Run an nft script through the handle: for tests and diagnostics
 * ("list set inet ward dns4_port").  *output (may be NULL) gets what nft
 * printed, malloc'ed. */
int egress_nft_run (struct egress_nft *nft, const char *script, char **output, struct ward_error **err);

#endif
