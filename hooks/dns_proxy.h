/* The egress supervisor's DNS proxy.  nftables in the container's network
 * namespace redirects every port-53 packet the container sends to the
 * proxy's four sockets there (UDP and TCP on 127.0.0.1 and ::1); the
 * proxy answers each query itself:
 *
 *   - a name the allowlist refuses gets NXDOMAIN and on_refused, and is
 *     never sent upstream (a query is a message to whoever serves the
 *     name: forwarding it would be the exfiltration channel);
 *   - an allowed name is asked of the upstream resolvers, in order, over
 *     sockets the proxy makes at run time in its own (the engine's)
 *     network namespace; the A and AAAA records of the answer's CNAME
 *     chain go to on_resolved, which has returned for every one of them
 *     before the answer is sent, so the firewall already lets the client
 *     through when it connects;
 *   - when no upstream answers in time, SERVFAIL and on_upstream_failure.
 *
 * Every query type is forwarded for an allowed name (only the name is
 * judged); only A and AAAA records open the firewall.  The upstream query
 * is rebuilt from the question: a fresh random id, the name in lowercase,
 * the client's RD, AD, CD and DO bits and a fixed EDNS size, so that
 * nothing else the client wrote (its spelling included) leaves the proxy;
 * the answer gets the client's id and spelling back.
 *
 * The proxy is driven by the supervisor's epoll loop (event_loop.h) and
 * never blocks it.  Everything it holds is bounded: queries in flight
 * (each holding one upstream socket), TCP connections and their buffers. */
#ifndef WARD_DNS_PROXY_H
#define WARD_DNS_PROXY_H

#include "error.h"
#include "event_loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum
{
  DNS_UPSTREAMS_MAX = 8,
  DNS_PORT = 53,
};

/* The proxy's sockets in the container's network namespace; -1 for one
 * that could not exist (no IPv6 there). */
struct dns_listen_fds
{
  int udp4, tcp4, udp6, tcp6;
};

struct dns_upstream
{
  struct sockaddr_storage address;
  socklen_t length;
};

/* Who asked, for the audit log. */
struct dns_client
{
  struct sockaddr_storage address;
  socklen_t length;
  int protocol; /* IPPROTO_UDP or IPPROTO_TCP */
};

struct dns_proxy_callbacks
{
  /* Required: whether the name (lowercase, no trailing dot) may be
   * resolved. */
  bool (*allowed) (const char *name, uint16_t qtype, void *ctx);
  /* Required: an address the answer for name gives, with its record's
   * TTL (the caller applies its floor).  Returning -1 (the firewall
   * could not take it) makes the client's answer SERVFAIL instead. */
  int (*on_resolved) (const char *name, int family, const uint8_t *address, uint32_t ttl, void *ctx);
  /* Optional: an upstream answer to an allowed query is about to be
   * relayed with `rcode` (SERVFAIL when on_resolved refused an address);
   * every on_resolved call for it came before, so the audit log can write
   * the name with its addresses in one record. */
  void (*on_answered) (const char *name, uint16_t qtype, int rcode, void *ctx);
  /* Optional: each CNAME on the way, for the audit log. */
  void (*on_cname) (const char *name, const char *owner, const char *target, uint32_t ttl, void *ctx);
  /* Optional: a query for a name the allowlist refused. */
  void (*on_refused) (const char *name, uint16_t qtype, const struct dns_client *client, void *ctx);
  /* Optional: an allowed query answered SERVFAIL because no upstream
   * answered, or because too many queries were in flight. */
  void (*on_upstream_failure) (const char *name, uint16_t qtype, const char *reason, void *ctx);
  /* Optional: a request that was not a well-formed query. */
  void (*on_malformed) (const struct dns_client *client, const char *reason, void *ctx);
  void *ctx;
};

struct dns_proxy_config
{
  /* Ownership passes to the proxy when dns_proxy_new succeeds. */
  struct dns_listen_fds listen;
  struct dns_upstream upstreams[DNS_UPSTREAMS_MAX];
  size_t upstream_count;
  /* Zero picks the default given. */
  unsigned attempt_timeout_ms;  /* per upstream: 2000 */
  unsigned max_queries;         /* in flight: 256 */
  unsigned max_connections;     /* TCP clients: 32 */
  unsigned tcp_idle_timeout_ms; /* a TCP client with nothing in flight: 10000 */
  struct dns_proxy_callbacks callbacks;
};

struct dns_proxy;

/* Enter the network namespace netns_fd (needs CAP_SYS_ADMIN), make the
 * four listening sockets on 127.0.0.1:port and [::1]:port there, and come
 * back: sockets stay in the namespace they were made in.  The IPv6 pair
 * is -1 when that namespace has no IPv6. */
int dns_proxy_listen_in_netns (int netns_fd, uint16_t port, struct dns_listen_fds *out,
                               struct ward_error **err);
void dns_listen_fds_close (struct dns_listen_fds *fds);

/* "192.0.2.1:53" or "[2001:db8::1]:53", for messages and the audit log. */
void dns_address_format (const struct sockaddr_storage *address, char *text, size_t size);

/* "192.0.2.53", "2001:db8::53", "192.0.2.53:5353" or "[2001:db8::53]:5353";
 * the port defaults to 53.  For ward.conf's dns_upstream. */
int dns_upstream_parse (const char *text, struct dns_upstream *out, struct ward_error **err);

/* The nameserver lines of a resolv.conf, in order, at most `capacity`
 * (glibc reads three).  Fails when there is none. */
int dns_upstreams_from_resolv_conf (const char *path, struct dns_upstream *out, size_t capacity,
                                    size_t *count, struct ward_error **err);

int dns_proxy_new (const struct dns_proxy_config *config, struct dns_proxy **out, struct ward_error **err);

/* Register the proxy's sockets and timer on epoll_fd, each with
 * data.ptr pointing at its event_source; the proxy adds and removes its
 * upstream sockets and TCP connections there as it goes. */
int dns_proxy_register (struct dns_proxy *proxy, int epoll_fd, struct ward_error **err);

/* Queries in flight, for tests and statistics. */
size_t dns_proxy_in_flight (const struct dns_proxy *proxy);

void dns_proxy_free (struct dns_proxy *proxy);

#endif
