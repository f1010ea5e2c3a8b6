/* DNS messages (RFC 1035) as the egress supervisor's proxy needs them:
 * parse a container's query, build the query it sends upstream in its
 * stead, build the answers it gives itself (NXDOMAIN, SERVFAIL, FORMERR),
 * and walk an upstream response for the addresses its CNAME chain ends in.
 *
 * Everything here is pure and bounds-checked: every packet is treated as
 * hostile, whichever side it comes from.  Failures fill the error with
 * EBADMSG (malformed or not matching), or EOPNOTSUPP for a well-formed
 * request this proxy does not serve (an opcode other than QUERY). */
#ifndef WARD_DNS_MESSAGE_H
#define WARD_DNS_MESSAGE_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum
{
  DNS_HEADER_SIZE = 12,
  /* A name in wire form, its length octets and the root's included. */
  DNS_NAME_WIRE_MAX = 255,
  /* A query's name as text: 253 characters and the NUL. */
  DNS_NAME_TEXT_SIZE = 254,
  /* What a UDP answer may hold when the query had no EDNS record. */
  DNS_UDP_PLAIN_MAX = 512,
  DNS_MESSAGE_MAX = 65535,
};

enum
{
  DNS_TYPE_A = 1,
  DNS_TYPE_CNAME = 5,
  DNS_TYPE_MX = 15,
  DNS_TYPE_TXT = 16,
  DNS_TYPE_AAAA = 28,
  DNS_TYPE_OPT = 41,
  DNS_TYPE_HTTPS = 65,
  DNS_CLASS_IN = 1,
};

enum
{
  DNS_RCODE_NOERROR = 0,
  DNS_RCODE_FORMERR = 1,
  DNS_RCODE_SERVFAIL = 2,
  DNS_RCODE_NXDOMAIN = 3,
  DNS_RCODE_NOTIMP = 4,
  DNS_RCODE_REFUSED = 5,
};

/* Header flag bits. */
enum
{
  DNS_FLAG_QR = 0x8000,
  DNS_FLAG_AA = 0x0400,
  DNS_FLAG_TC = 0x0200,
  DNS_FLAG_RD = 0x0100,
  DNS_FLAG_RA = 0x0080,
  DNS_FLAG_AD = 0x0020,
  DNS_FLAG_CD = 0x0010,
  DNS_RCODE_MASK = 0x000f,
};

struct dns_query
{
  uint16_t id;
  uint16_t flags;
  uint16_t qtype;
  uint16_t qclass;
  /* Lowercase, dotted, without the trailing dot; "" is the root.  Only
   * letters, digits, '-' and '_' occur in a label: a label holding a dot
   * (or any other byte) would read as a different name to the allowlist
   * than to the resolver, so such queries are refused as malformed. */
  char name[DNS_NAME_TEXT_SIZE];
  /* The name as the client spelled it (its case kept), uncompressed, so
   * that every answer to the client repeats it exactly. */
  uint8_t wire_name[DNS_NAME_WIRE_MAX];
  size_t wire_name_length;
  /* The query's EDNS(0) OPT record, if it had one. */
  bool edns;
  uint16_t edns_udp_size; /* at least 512 */
  bool edns_dnssec_ok;
};

/* Parse a query: a header with QR clear, opcode QUERY, one question, no
 * answer or authority records, and at most one OPT record among the
 * additional ones (the others are skipped: the upstream query is rebuilt
 * from the question alone, so nothing else the client sent leaves). */
int dns_query_parse (const uint8_t *packet, size_t length, struct dns_query *query, struct ward_error **err);

/* Build into buffer the query sent upstream for `query`: the given id, the
 * client's RD, AD and CD bits, its question with the name in lowercase,
 * and an OPT record advertising edns_udp_size (and the client's DO bit)
 * when the client sent one.  The client's spelling and size are not
 * repeated: a name's case is a channel of a bit a letter to whoever serves
 * it.  Returns the length. */
int dns_query_build (const struct dns_query *query, uint16_t id, uint16_t edns_udp_size, uint8_t *buffer,
                     size_t capacity, struct ward_error **err);

/* Build the proxy's own answer to `query`: its id and question, QR and RA
 * set, RD and CD copied, and rcode (NXDOMAIN for a refused name,
 * SERVFAIL when no upstream answered).  Returns the length. */
int dns_answer_build (const struct dns_query *query, int rcode, uint8_t *buffer, size_t capacity,
                      struct ward_error **err);

/* Build a header-only answer with rcode (FORMERR, NOTIMP) to a request
 * dns_query_parse refused.  Fails, so that nothing is sent, when the
 * packet is too short to have an id or is itself a response: answering
 * responses could make two proxies talk to each other forever. */
int dns_answer_header_only (const uint8_t *packet, size_t length, int rcode, uint8_t *buffer, size_t capacity,
                            struct ward_error **err);

/* What dns_response_walk reports of the answer section.  Only the chain
 * that starts at the question's name counts: its CNAMEs in order, then
 * every A and AAAA record (class IN) owned by a name on it.  A CNAME
 * target outside the allowlist is followed all the same: the allowlist
 * judged the question's name, and whoever controls an allowed name may
 * point it anywhere, exactly as they may publish any A record.
 * Either callback may be NULL. */
struct dns_response_visitor
{
  /* family is AF_INET (4 bytes) or AF_INET6 (16 bytes). */
  void (*address) (int family, const uint8_t *address, uint32_t ttl, void *ctx);
  /* owner and target as text, bytes other than letters, digits, '-' and
   * '_' written as \DDD. */
  void (*cname) (const char *owner, const char *target, uint32_t ttl, void *ctx);
  void *ctx;
};

struct dns_response_summary
{
  int rcode;
  bool truncated; /* TC set: no record was reported */
  /* The end of the question: a truncated copy keeps the bytes before. */
  size_t question_end;
};

/* Check that packet answers `query` sent with `id` (QR set, opcode QUERY,
 * the same question, names compared without regard to case) and that
 * every record in it is well formed; only then report the chain to the
 * visitor, if the rcode is NOERROR and TC is clear.  Nothing is reported
 * for a packet that fails, so a half-valid answer never opens the
 * firewall. */
int dns_response_walk (const uint8_t *packet, size_t length, uint16_t id, const struct dns_query *query,
                       const struct dns_response_visitor *visitor, struct dns_response_summary *summary,
                       struct ward_error **err);

/* Cut a walked response down to its header and question with TC set, for
 * a UDP client whose buffer it does not fit (it will ask again over TCP).
 * Returns the new length. */
size_t dns_response_truncate (uint8_t *packet, const struct dns_response_summary *summary);

/* Make a walked response answer the client's own query: its id, and the
 * question spelled as the client spelled it. */
void dns_response_restore (uint8_t *packet, const struct dns_query *query);

/* The id of a message of at least DNS_HEADER_SIZE bytes. */
uint16_t dns_message_id (const uint8_t *packet);

#endif
