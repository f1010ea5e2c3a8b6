#include "config.h"
#include "dns_proxy.h"
#include "dns_message.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define container_of(pointer, type, member) ((type *)((char *)(pointer)-offsetof (type, member)))

enum
{
  DEFAULT_ATTEMPT_TIMEOUT_MS = 2000,
  DEFAULT_MAX_QUERIES = 256,
  DEFAULT_MAX_CONNECTIONS = 32,
  DEFAULT_TCP_IDLE_TIMEOUT_MS = 10000,
  /* The EDNS size advertised upstream for every client that uses EDNS:
   * DNS flag day 2020's, which no IP fragmentation can spoil. */
  UPSTREAM_UDP_SIZE = 1232,
  /* A query is a header, a name of at most 255 bytes and an OPT record
   * (padded to a few hundred bytes at most); a longer message over TCP
   * is no query. */
  TCP_QUERY_MAX = 2048,
  /* Answers queued for a TCP client that does not read them. */
  TCP_OUTPUT_MAX = 4 * DNS_MESSAGE_MAX,
  /* Datagrams or connections taken per wakeup, so that a flooded socket
   * cannot starve the loop's other sources. */
  READS_PER_WAKEUP = 64,
  /* The upstream query with its TCP length prefix: header, question, OPT. */
  REQUEST_MAX = 2 + DNS_HEADER_SIZE + DNS_NAME_WIRE_MAX + 4 + 11,
  OWN_ANSWER_MAX = DNS_HEADER_SIZE + DNS_NAME_WIRE_MAX + 4,
};

/* Where a request came from and how to answer it. */
struct origin
{
  struct dns_client client;
  int reply_fd;                  /* UDP: the listening socket it came in on */
  struct connection *connection; /* TCP: the connection it came in on */
};

struct listener
{
  struct event_source source;
  struct dns_proxy *proxy;
};

/* A TCP client.  Connections and queries live in slots allocated once:
 * an epoll batch may still hold an event for a slot closed while handling
 * an earlier one, and a slot is never freed under it; every handler acts
 * on what its syscalls say, never on the event mask alone, so such a
 * stale event is harmless even to the slot's next user. */
struct connection
{
  struct event_source source;
  struct dns_proxy *proxy;
  bool in_use;
  bool read_closed;
  bool failed; /* a write failed or the client stopped reading */
  uint32_t registered;
  struct dns_client peer;
  unsigned pending; /* its queries in flight */
  uint64_t idle_deadline;
  size_t in_length;
  uint8_t in[2 + TCP_QUERY_MAX];
  uint8_t *out;
  size_t out_length, out_sent;
};

/* A query in flight: asking one upstream after the other, each over a
 * socket of its own (UDP for a UDP client, TCP for a TCP one). */
struct query
{
  struct event_source source; /* the upstream socket, -1 between attempts */
  struct dns_proxy *proxy;
  bool in_use;
  struct dns_query question;
  struct origin origin;
  size_t upstream; /* index of the upstream being asked */
  uint16_t upstream_id;
  uint64_t deadline;
  uint8_t request[REQUEST_MAX];
  size_t request_length, request_sent;
  uint8_t length_prefix[2];
  size_t prefix_received;
  uint8_t *reply;
  size_t reply_length, reply_received;
  char failure[160]; /* why the last attempt failed */
};

struct dns_proxy
{
  struct dns_proxy_config config;
  int epoll_fd;
  struct listener listeners[4];
  struct event_source timer;
  struct query *queries;
  size_t in_flight;
  struct connection *connections;
  /* One message at a time: the loop is single-threaded. */
  uint8_t buffer[DNS_MESSAGE_MAX + 1];
};

static uint64_t
now_ms (void)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

static int
watch (struct dns_proxy *proxy, struct event_source *source, int operation, uint32_t events)
{
  struct epoll_event event = { .events = events, .data.ptr = source };
  return epoll_ctl (proxy->epoll_fd, operation, source->fd, &event);
}

static void
unwatch_and_close (struct dns_proxy *proxy, struct event_source *source)
{
  if (source->fd < 0)
    return;
  epoll_ctl (proxy->epoll_fd, EPOLL_CTL_DEL, source->fd, NULL);
  close (source->fd);
  source->fd = -1;
}

/* TCP connections. */

static void release_query (struct query *query);

static void
connection_close (struct connection *connection)
{
  struct dns_proxy *proxy = connection->proxy;
  /* Nobody is left to answer. */
  for (size_t i = 0; i < proxy->config.max_queries; i++)
    if (proxy->queries[i].in_use && proxy->queries[i].origin.connection == connection)
      release_query (&proxy->queries[i]);
  unwatch_and_close (proxy, &connection->source);
  free (connection->out);
  connection->out = NULL;
  connection->out_length = connection->out_sent = connection->in_length = 0;
  connection->in_use = false;
}

static void
connection_flush (struct connection *connection)
{
  while (connection->out_sent < connection->out_length)
    {
      ssize_t n = send (connection->source.fd, connection->out + connection->out_sent,
                        connection->out_length - connection->out_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            connection->failed = true;
          return;
        }
      connection->out_sent += (size_t)n;
    }
  free (connection->out);
  connection->out = NULL;
  connection->out_length = connection->out_sent = 0;
}

static void
connection_queue (struct connection *connection, const uint8_t *message, size_t length)
{
  size_t unsent = connection->out_length - connection->out_sent;
  if (connection->failed || unsent + 2 + length > TCP_OUTPUT_MAX)
    {
      connection->failed = true;
      return;
    }
  if (connection->out_sent > 0)
    memmove (connection->out, connection->out + connection->out_sent, unsent);
  uint8_t *out = realloc (connection->out, unsent + 2 + length);
  if (out == NULL)
    {
      connection->failed = true;
      return;
    }
  out[unsent] = (uint8_t)(length >> 8);
  out[unsent + 1] = (uint8_t)length;
  memcpy (out + unsent + 2, message, length);
  connection->out = out;
  connection->out_sent = 0;
  connection->out_length = unsent + 2 + length;
  connection->idle_deadline = now_ms () + connection->proxy->config.tcp_idle_timeout_ms;
  connection_flush (connection);
}

/* After any change: close a connection that failed or is done, else ask
 * epoll for what it now waits for. */
static void
connection_settle (struct connection *connection)
{
  if (!connection->in_use)
    return;
  bool done = connection->read_closed && connection->pending == 0 && connection->out_length == 0;
  if (connection->failed || done)
    {
      connection_close (connection);
      return;
    }
  uint32_t events = (connection->read_closed ? 0 : EPOLLIN) | (connection->out_length ? EPOLLOUT : 0);
  if (events == connection->registered)
    return;
  if (watch (connection->proxy, &connection->source, EPOLL_CTL_MOD, events) < 0)
    connection_close (connection);
  else
    connection->registered = events;
}

/* Answers. */

static void
send_to_origin (const struct origin *origin, const uint8_t *message, size_t length)
{
  if (origin->connection != NULL)
    connection_queue (origin->connection, message, length);
  else
    /* A lost datagram is the client's to ask again for. */
    sendto (origin->reply_fd, message, length, MSG_DONTWAIT | MSG_NOSIGNAL,
            (const struct sockaddr *)&origin->client.address, origin->client.length);
}

static void
answer_with_rcode (const struct dns_query *question, const struct origin *origin, int rcode)
{
  uint8_t answer[OWN_ANSWER_MAX];
  int length = dns_answer_build (question, rcode, answer, sizeof answer, NULL);
  if (length > 0)
    send_to_origin (origin, answer, (size_t)length);
}

/* Queries. */

static void
release_query (struct query *query)
{
  struct dns_proxy *proxy = query->proxy;
  unwatch_and_close (proxy, &query->source);
  free (query->reply);
  query->reply = NULL;
  query->in_use = false;
  proxy->in_flight--;
  if (query->origin.connection != NULL)
    query->origin.connection->pending--;
}

static void
finish_query (struct query *query)
{
  struct connection *connection = query->origin.connection;
  release_query (query);
  if (connection != NULL)
    connection_settle (connection);
}

static int
note_failure (struct query *query, int errnum, const char *what)
{
  char upstream[INET6_ADDRSTRLEN + 16];
  dns_address_format (&query->proxy->config.upstreams[query->upstream].address, upstream, sizeof upstream);
  snprintf (query->failure, sizeof query->failure, "%s %s%s%s", what, upstream, errnum ? ": " : "",
            errnum ? strerror (errnum) : "");
  return -1;
}

static int
open_upstream (struct query *query)
{
  struct dns_proxy *proxy = query->proxy;
  const struct dns_upstream *upstream = &proxy->config.upstreams[query->upstream];
  bool tcp = query->origin.connection != NULL;
  uint16_t id;
  if (getrandom (&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id)
    return note_failure (query, errno, "pick an id to ask");

  /* Always the same size, whatever the client's (that would be a channel
   * too); an answer bigger than the client takes goes back truncated. */
  uint8_t *body = query->request + (tcp ? 2 : 0);
  int length
      = dns_query_build (&query->question, id, UPSTREAM_UDP_SIZE, body, sizeof query->request - 2, NULL);
  if (length < 0)
    return note_failure (query, ENOBUFS, "build the query to");

  cleanup_close int fd = socket (upstream->address.ss_family,
                                 (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return note_failure (query, errno, "socket to");
  /* A connected UDP socket gets a random source port from the kernel and
   * takes datagrams from the upstream only. */
  if (connect (fd, (const struct sockaddr *)&upstream->address, upstream->length) < 0 && errno != EINPROGRESS)
    return note_failure (query, errno, "connect to");
  if (tcp)
    {
      query->request[0] = (uint8_t)(length >> 8);
      query->request[1] = (uint8_t)length;
      query->request_length = 2 + (size_t)length;
      query->request_sent = query->prefix_received = query->reply_length = query->reply_received = 0;
    }
  else if (send (fd, body, (size_t)length, MSG_DONTWAIT | MSG_NOSIGNAL) != length)
    return note_failure (query, errno, "send to");

  query->source.fd = fd;
  if (watch (proxy, &query->source, EPOLL_CTL_ADD, tcp ? EPOLLOUT : EPOLLIN) < 0)
    {
      query->source.fd = -1;
      return note_failure (query, errno, "watch the socket to");
    }
  steal_fd (&fd);
  query->upstream_id = id;
  query->deadline = now_ms () + proxy->config.attempt_timeout_ms;
  return 0;
}

static void
give_up (struct query *query)
{
  const struct dns_proxy_callbacks *callbacks = &query->proxy->config.callbacks;
  if (callbacks->on_upstream_failure)
    callbacks->on_upstream_failure (query->question.name, query->question.qtype, query->failure,
                                    callbacks->ctx);
  answer_with_rcode (&query->question, &query->origin, DNS_RCODE_SERVFAIL);
  finish_query (query);
}

/* Ask the current upstream, or the next ones when it cannot be asked;
 * SERVFAIL once none is left. */
static void
ask_upstream (struct query *query)
{
  for (; query->upstream < query->proxy->config.upstream_count; query->upstream++)
    if (open_upstream (query) == 0)
      return;
  give_up (query);
}

static void
next_upstream (struct query *query, int errnum, const char *what)
{
  note_failure (query, errnum, what);
  unwatch_and_close (query->proxy, &query->source);
  free (query->reply);
  query->reply = NULL;
  query->upstream++;
  ask_upstream (query);
}

struct resolution
{
  struct query *query;
  bool failed;
};

static void
resolved_address (int family, const uint8_t *address, uint32_t ttl, void *ctx)
{
  struct resolution *resolution = ctx;
  const struct dns_proxy_callbacks *callbacks = &resolution->query->proxy->config.callbacks;
  if (callbacks->on_resolved (resolution->query->question.name, family, address, ttl, callbacks->ctx) < 0)
    resolution->failed = true;
}

static void
resolved_cname (const char *owner, const char *target, uint32_t ttl, void *ctx)
{
  struct resolution *resolution = ctx;
  const struct dns_proxy_callbacks *callbacks = &resolution->query->proxy->config.callbacks;
  if (callbacks->on_cname)
    callbacks->on_cname (resolution->query->question.name, owner, target, ttl, callbacks->ctx);
}

/* Hand the addresses of an upstream answer to on_resolved, which has
 * returned for all of them before the client gets the answer.  -1 when
 * the message does not answer the query: the query goes on. */
static int
relay_answer (struct query *query, uint8_t *message, size_t length)
{
  struct resolution resolution = { .query = query };
  struct dns_response_visitor visitor = { resolved_address, resolved_cname, &resolution };
  struct dns_response_summary summary;
  if (dns_response_walk (message, length, query->upstream_id, &query->question, &visitor, &summary, NULL) < 0)
    return -1;
  const struct dns_proxy_callbacks *callbacks = &query->proxy->config.callbacks;
  if (callbacks->on_answered)
    callbacks->on_answered (query->question.name, query->question.qtype,
                            resolution.failed ? DNS_RCODE_SERVFAIL : summary.rcode, callbacks->ctx);
  if (resolution.failed)
    answer_with_rcode (&query->question, &query->origin, DNS_RCODE_SERVFAIL);
  else
    {
      const struct dns_query *question = &query->question;
      size_t limit = query->origin.connection ? DNS_MESSAGE_MAX
          : question->edns                    ? question->edns_udp_size
                                              : DNS_UDP_PLAIN_MAX;
      dns_response_restore (message, question);
      if (summary.truncated || length > limit)
        length = dns_response_truncate (message, &summary);
      send_to_origin (&query->origin, message, length);
    }
  finish_query (query);
  return 0;
}

static void
upstream_udp_receive (struct query *query)
{
  struct dns_proxy *proxy = query->proxy;
  for (int i = 0; i < READS_PER_WAKEUP; i++)
    {
      ssize_t n = recv (query->source.fd, proxy->buffer, sizeof proxy->buffer, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n < 0)
        {
          /* ICMP port unreachable, say: this upstream is not serving. */
          next_upstream (query, errno, "ask");
          return;
        }
      /* Anything that is not the answer is ignored: the real one may
       * still come before the deadline. */
      if (relay_answer (query, proxy->buffer, (size_t)n) == 0)
        return;
    }
}

static void
upstream_tcp_progress (struct query *query)
{
  int fd = query->source.fd;
  /* While connecting, send fails with EAGAIN, or with why it failed. */
  while (query->request_sent < query->request_length)
    {
      ssize_t n = send (fd, query->request + query->request_sent, query->request_length - query->request_sent,
                        MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n < 0)
        {
          next_upstream (query, errno, "ask");
          return;
        }
      query->request_sent += (size_t)n;
      if (query->request_sent == query->request_length
          && watch (query->proxy, &query->source, EPOLL_CTL_MOD, EPOLLIN) < 0)
        {
          next_upstream (query, errno, "watch the socket to");
          return;
        }
    }
  for (;;)
    {
      bool in_prefix = query->prefix_received < 2;
      uint8_t *into
          = in_prefix ? query->length_prefix + query->prefix_received : query->reply + query->reply_received;
      size_t wanted = in_prefix ? 2 - query->prefix_received : query->reply_length - query->reply_received;
      ssize_t n = recv (fd, into, wanted, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n <= 0)
        {
          next_upstream (query, n < 0 ? errno : 0, "connection closed by");
          return;
        }
      if (in_prefix)
        {
          query->prefix_received += (size_t)n;
          if (query->prefix_received < 2)
            continue;
          query->reply_length = (size_t)query->length_prefix[0] << 8 | query->length_prefix[1];
          if (query->reply_length < DNS_HEADER_SIZE)
            {
              next_upstream (query, EBADMSG, "answer from");
              return;
            }
          query->reply = malloc (query->reply_length);
          if (query->reply == NULL)
            {
              next_upstream (query, ENOMEM, "answer from");
              return;
            }
          continue;
        }
      query->reply_received += (size_t)n;
      if (query->reply_received < query->reply_length)
        continue;
      /* Over TCP nobody else can have written it: a wrong answer is a
       * failed attempt. */
      if (relay_answer (query, query->reply, query->reply_length) < 0)
        next_upstream (query, EBADMSG, "answer from");
      return;
    }
}

/* The timer fires at the earliest deadline of a query or an idle
 * connection. */
static void
arm_timer (struct dns_proxy *proxy)
{
  uint64_t next = UINT64_MAX;
  for (size_t i = 0; i < proxy->config.max_queries; i++)
    if (proxy->queries[i].in_use && proxy->queries[i].deadline < next)
      next = proxy->queries[i].deadline;
  for (size_t i = 0; i < proxy->config.max_connections; i++)
    {
      const struct connection *connection = &proxy->connections[i];
      if (connection->in_use && connection->pending == 0 && connection->idle_deadline < next)
        next = connection->idle_deadline;
    }
  struct itimerspec spec = { 0 };
  if (next != UINT64_MAX)
    {
      spec.it_value.tv_sec = (time_t)(next / 1000);
      /* All zero would disarm it. */
      spec.it_value.tv_nsec = (long)(next % 1000) * 1000000 + 1;
    }
  timerfd_settime (proxy->timer.fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

static void
upstream_ready (struct event_source *source, uint32_t events)
{
  struct query *query = container_of (source, struct query, source);
  if (query->in_use && source->fd >= 0)
    {
      if (query->origin.connection != NULL)
        upstream_tcp_progress (query);
      else
        upstream_udp_receive (query);
    }
  arm_timer (query->proxy);
}

static void
timer_ready (struct event_source *source, uint32_t events)
{
  struct dns_proxy *proxy = container_of (source, struct dns_proxy, timer);
  uint64_t expirations;
  if (read (source->fd, &expirations, sizeof expirations) < 0)
    {
      /* EAGAIN: nothing expired yet; the deadlines decide anyway. */
    }
  uint64_t now = now_ms ();
  for (size_t i = 0; i < proxy->config.max_queries; i++)
    {
      struct query *query = &proxy->queries[i];
      if (!query->in_use || query->deadline > now)
        continue;
      char what[64];
      snprintf (what, sizeof what, "no answer within %u ms from", proxy->config.attempt_timeout_ms);
      next_upstream (query, 0, what);
    }
  for (size_t i = 0; i < proxy->config.max_connections; i++)
    {
      struct connection *connection = &proxy->connections[i];
      if (connection->in_use && connection->pending == 0 && connection->idle_deadline <= now)
        connection_close (connection);
    }
  arm_timer (proxy);
}

/* Requests. */

static bool
is_retransmission (const struct dns_proxy *proxy, const struct dns_query *question,
                   const struct origin *origin)
{
  for (size_t i = 0; i < proxy->config.max_queries; i++)
    {
      const struct query *query = &proxy->queries[i];
      if (query->in_use && query->origin.connection == NULL && query->question.id == question->id
          && query->question.qtype == question->qtype && strcmp (query->question.name, question->name) == 0
          && query->origin.client.length == origin->client.length
          && memcmp (&query->origin.client.address, &origin->client.address, origin->client.length) == 0)
        return true;
    }
  return false;
}

static struct query *
free_query_slot (struct dns_proxy *proxy)
{
  for (size_t i = 0; i < proxy->config.max_queries; i++)
    if (!proxy->queries[i].in_use)
      return &proxy->queries[i];
  return NULL;
}

static void
handle_request (struct dns_proxy *proxy, const uint8_t *packet, size_t length, const struct origin *origin)
{
  const struct dns_proxy_callbacks *callbacks = &proxy->config.callbacks;
  struct dns_query question;
  struct ward_error *err = NULL;
  if (dns_query_parse (packet, length, &question, &err) < 0)
    {
      int rcode = err->errnum == EOPNOTSUPP ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR;
      if (callbacks->on_malformed)
        callbacks->on_malformed (&origin->client, err->message, callbacks->ctx);
      ward_error_free (&err);
      uint8_t answer[DNS_HEADER_SIZE];
      int answer_length = dns_answer_header_only (packet, length, rcode, answer, sizeof answer, NULL);
      if (answer_length > 0)
        send_to_origin (origin, answer, (size_t)answer_length);
      return;
    }
  if (!callbacks->allowed (question.name, question.qtype, callbacks->ctx))
    {
      if (callbacks->on_refused)
        callbacks->on_refused (question.name, question.qtype, &origin->client, callbacks->ctx);
      answer_with_rcode (&question, origin, DNS_RCODE_NXDOMAIN);
      return;
    }
  /* A client asking again while we still wait would only take a slot. */
  if (origin->connection == NULL && is_retransmission (proxy, &question, origin))
    return;
  struct query *query = free_query_slot (proxy);
  if (query == NULL)
    {
      if (callbacks->on_upstream_failure)
        callbacks->on_upstream_failure (question.name, question.qtype, "too many queries in flight",
                                        callbacks->ctx);
      answer_with_rcode (&question, origin, DNS_RCODE_SERVFAIL);
      return;
    }
  query->in_use = true;
  query->question = question;
  query->origin = *origin;
  query->upstream = 0;
  proxy->in_flight++;
  if (origin->connection != NULL)
    origin->connection->pending++;
  ask_upstream (query);
}

static void
udp_listener_ready (struct event_source *source, uint32_t events)
{
  struct dns_proxy *proxy = container_of (source, struct listener, source)->proxy;
  for (int i = 0; i < READS_PER_WAKEUP; i++)
    {
      struct origin origin = {
        .client = { .length = sizeof origin.client.address, .protocol = IPPROTO_UDP },
        .reply_fd = source->fd,
      };
      ssize_t n = recvfrom (source->fd, proxy->buffer, sizeof proxy->buffer, MSG_DONTWAIT,
                            (struct sockaddr *)&origin.client.address, &origin.client.length);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n >= 0)
        handle_request (proxy, proxy->buffer, (size_t)n, &origin);
    }
  arm_timer (proxy);
}

/* Take every complete length-prefixed request in the connection's buffer. */
static void
connection_take_requests (struct connection *connection)
{
  struct origin origin = { .client = connection->peer, .reply_fd = -1, .connection = connection };
  size_t at = 0;
  while (connection->in_use && !connection->failed && connection->in_length - at >= 2)
    {
      size_t length = (size_t)connection->in[at] << 8 | connection->in[at + 1];
      if (length < DNS_HEADER_SIZE || length > TCP_QUERY_MAX)
        {
          /* Not a query: there is no telling where the next one starts. */
          connection->failed = true;
          return;
        }
      if (connection->in_length - at - 2 < length)
        break;
      handle_request (connection->proxy, connection->in + at + 2, length, &origin);
      at += 2 + length;
    }
  if (!connection->in_use)
    return;
  memmove (connection->in, connection->in + at, connection->in_length - at);
  connection->in_length -= at;
}

static void
connection_read (struct connection *connection)
{
  for (int i = 0; i < READS_PER_WAKEUP && connection->in_use && !connection->failed; i++)
    {
      ssize_t n = recv (connection->source.fd, connection->in + connection->in_length,
                        sizeof connection->in - connection->in_length, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n < 0)
        {
          connection->failed = true;
          return;
        }
      if (n == 0)
        {
          /* The client may have closed its side only: answer what it
           * asked, then close. */
          connection->read_closed = true;
          return;
        }
      connection->in_length += (size_t)n;
      connection->idle_deadline = now_ms () + connection->proxy->config.tcp_idle_timeout_ms;
      connection_take_requests (connection);
    }
}

static bool
socket_broken (int fd)
{
  struct pollfd poll_fd = { .fd = fd, .events = 0 };
  return poll (&poll_fd, 1, 0) > 0 && (poll_fd.revents & (POLLERR | POLLHUP));
}

static void
connection_ready (struct event_source *source, uint32_t events)
{
  struct connection *connection = container_of (source, struct connection, source);
  if (connection->in_use)
    {
      /* A reset connection reads nothing more once read_closed; ask the
       * socket itself rather than trusting a possibly stale mask. */
      if ((events & (EPOLLERR | EPOLLHUP)) && socket_broken (source->fd))
        connection->failed = true;
      if (connection->out_length > 0)
        connection_flush (connection);
      if (!connection->read_closed)
        connection_read (connection);
      connection_settle (connection);
    }
  arm_timer (connection->proxy);
}

static void
tcp_listener_ready (struct event_source *source, uint32_t events)
{
  struct dns_proxy *proxy = container_of (source, struct listener, source)->proxy;
  for (int i = 0; i < READS_PER_WAKEUP; i++)
    {
      struct dns_client peer = { .length = sizeof peer.address, .protocol = IPPROTO_TCP };
      int fd = accept4 (source->fd, (struct sockaddr *)&peer.address, &peer.length,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (fd < 0)
        continue;
      struct connection *connection = NULL;
      for (size_t j = 0; j < proxy->config.max_connections && connection == NULL; j++)
        if (!proxy->connections[j].in_use)
          connection = &proxy->connections[j];
      /* Over the limit, the client hears a close at once rather than
       * waiting in the backlog. */
      if (connection == NULL)
        {
          close (fd);
          continue;
        }
      connection->source.fd = fd;
      connection->peer = peer;
      connection->read_closed = connection->failed = false;
      connection->pending = 0;
      connection->in_length = 0;
      connection->registered = EPOLLIN;
      connection->idle_deadline = now_ms () + proxy->config.tcp_idle_timeout_ms;
      if (watch (proxy, &connection->source, EPOLL_CTL_ADD, EPOLLIN) < 0)
        {
          close (fd);
          connection->source.fd = -1;
          continue;
        }
      connection->in_use = true;
    }
  arm_timer (proxy);
}

int
dns_proxy_new (const struct dns_proxy_config *config, struct dns_proxy **out, struct ward_error **err)
{
  if (config->callbacks.allowed == NULL || config->callbacks.on_resolved == NULL)
    return ward_fail (err, EINVAL, "dns proxy: the allowed and on_resolved callbacks are required");
  if (config->upstream_count == 0 || config->upstream_count > DNS_UPSTREAMS_MAX)
    return ward_fail (err, EINVAL, "dns proxy: %zu upstream servers, expected 1 to %d",
                      config->upstream_count, DNS_UPSTREAMS_MAX);
  cleanup_free struct dns_proxy *proxy = calloc (1, sizeof *proxy);
  if (proxy == NULL)
    return ward_fail (err, ENOMEM, "dns proxy");
  proxy->config = *config;
  struct dns_proxy_config *c = &proxy->config;
  c->attempt_timeout_ms = c->attempt_timeout_ms ? c->attempt_timeout_ms : DEFAULT_ATTEMPT_TIMEOUT_MS;
  c->max_queries = c->max_queries ? c->max_queries : DEFAULT_MAX_QUERIES;
  c->max_connections = c->max_connections ? c->max_connections : DEFAULT_MAX_CONNECTIONS;
  c->tcp_idle_timeout_ms = c->tcp_idle_timeout_ms ? c->tcp_idle_timeout_ms : DEFAULT_TCP_IDLE_TIMEOUT_MS;
  proxy->epoll_fd = -1;

  cleanup_free struct query *queries = calloc (c->max_queries, sizeof *queries);
  cleanup_free struct connection *connections = calloc (c->max_connections, sizeof *connections);
  if (queries == NULL || connections == NULL)
    return ward_fail (err, ENOMEM, "dns proxy");
  for (size_t i = 0; i < c->max_queries; i++)
    queries[i] = (struct query){ .source = { .fd = -1, .ready = upstream_ready }, .proxy = proxy };
  for (size_t i = 0; i < c->max_connections; i++)
    connections[i] = (struct connection){ .source = { .fd = -1, .ready = connection_ready }, .proxy = proxy };

  int timer = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer < 0)
    return ward_fail (err, errno, "dns proxy: timerfd_create");
  proxy->timer = (struct event_source){ .fd = timer, .ready = timer_ready };

  /* Last, so that on failure the sockets are still the caller's. */
  const int listen_fds[] = { c->listen.udp4, c->listen.tcp4, c->listen.udp6, c->listen.tcp6 };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (listen_fds); i++)
    {
      bool udp = i % 2 == 0;
      proxy->listeners[i] = (struct listener){
        .source = { .fd = listen_fds[i], .ready = udp ? udp_listener_ready : tcp_listener_ready },
        .proxy = proxy,
      };
      if (listen_fds[i] >= 0)
        fcntl (listen_fds[i], F_SETFL, fcntl (listen_fds[i], F_GETFL) | O_NONBLOCK);
    }
  proxy->queries = steal_pointer (&queries);
  proxy->connections = steal_pointer (&connections);
  *out = steal_pointer (&proxy);
  return 0;
}

int
dns_proxy_register (struct dns_proxy *proxy, int epoll_fd, struct ward_error **err)
{
  proxy->epoll_fd = epoll_fd;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (proxy->listeners); i++)
    if (proxy->listeners[i].source.fd >= 0
        && watch (proxy, &proxy->listeners[i].source, EPOLL_CTL_ADD, EPOLLIN) < 0)
      return ward_fail (err, errno, "dns proxy: epoll_ctl");
  if (watch (proxy, &proxy->timer, EPOLL_CTL_ADD, EPOLLIN) < 0)
    return ward_fail (err, errno, "dns proxy: epoll_ctl");
  return 0;
}

size_t
dns_proxy_in_flight (const struct dns_proxy *proxy)
{
  return proxy->in_flight;
}

void
dns_proxy_free (struct dns_proxy *proxy)
{
  if (proxy == NULL)
    return;
  for (size_t i = 0; i < proxy->config.max_connections; i++)
    if (proxy->connections[i].in_use)
      connection_close (&proxy->connections[i]);
  for (size_t i = 0; i < proxy->config.max_queries; i++)
    if (proxy->queries[i].in_use)
      release_query (&proxy->queries[i]);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (proxy->listeners); i++)
    unwatch_and_close (proxy, &proxy->listeners[i].source);
  unwatch_and_close (proxy, &proxy->timer);
  free (proxy->queries);
  free (proxy->connections);
  free (proxy);
}
