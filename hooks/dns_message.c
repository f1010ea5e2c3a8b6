#include "config.h"
#include "dns_message.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

enum
{
  OPCODE_SHIFT = 11,
  OPCODE_MASK = 0xf,
  OPCODE_QUERY = 0,
  EDNS_DNSSEC_OK = 0x8000,
  /* A real name has at most 127 labels, so at most as many pointers; a
   * message with more is crafted to make us spin. */
  POINTER_HOPS_MAX = 127,
  /* Names a CNAME chain may go through, the question's included. */
  CHAIN_MAX = 16,
  RECORD_FIXED_SIZE = 10, /* type, class, ttl, rdlength */
};

/* A bounds-checked cursor over one message. */
struct reader
{
  const uint8_t *data;
  size_t length;
  size_t offset;
};

struct record
{
  uint8_t owner[DNS_NAME_WIRE_MAX];
  size_t owner_length;
  uint16_t type;
  uint16_t class;
  uint32_t ttl;
  size_t rdata; /* offset of the data in the message */
  uint16_t rdlength;
};

static uint16_t
get_u16 (const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put_u16 (uint8_t *p, uint16_t value)
{
  p[0] = value >> 8;
  p[1] = value & 0xff;
}

static bool
read_u16 (struct reader *r, uint16_t *value)
{
  if (r->length - r->offset < 2)
    return false;
  *value = get_u16 (r->data + r->offset);
  r->offset += 2;
  return true;
}

static bool
read_u32 (struct reader *r, uint32_t *value)
{
  if (r->length - r->offset < 4)
    return false;
  const uint8_t *p = r->data + r->offset;
  *value = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  r->offset += 4;
  return true;
}

/* Read the possibly compressed name at r->offset into its uncompressed
 * wire form and move r past it.  A pointer must land before the start of
 * the labels that led to it, so every jump goes strictly backwards and no
 * message can make this loop; pointers into the header are refused too. */
static bool
read_name (struct reader *r, uint8_t wire[DNS_NAME_WIRE_MAX], size_t *wire_length)
{
  size_t at = r->offset, segment_start = r->offset, out = 0;
  unsigned hops = 0;
  bool jumped = false;
  for (;;)
    {
      if (at >= r->length)
        return false;
      uint8_t octet = r->data[at];
      if ((octet & 0xc0) == 0xc0)
        {
          if (at + 1 >= r->length || ++hops > POINTER_HOPS_MAX)
            return false;
          size_t target = (size_t)(octet & 0x3f) << 8 | r->data[at + 1];
          if (target < DNS_HEADER_SIZE || target >= segment_start)
            return false;
          if (!jumped)
            r->offset = at + 2;
          jumped = true;
          at = segment_start = target;
          continue;
        }
      /* 01 and 10 are the extended label types nobody deployed. */
      if (octet & 0xc0)
        return false;
      if (out + 1 + octet > DNS_NAME_WIRE_MAX || r->length - at < 1 + (size_t)octet)
        return false;
      memcpy (wire + out, r->data + at, 1 + (size_t)octet);
      out += 1 + (size_t)octet;
      at += 1 + (size_t)octet;
      if (octet == 0)
        break;
    }
  if (!jumped)
    r->offset = at;
  *wire_length = out;
  return true;
}

static bool
read_record (struct reader *r, struct record *record)
{
  if (!read_name (r, record->owner, &record->owner_length) || !read_u16 (r, &record->type)
      || !read_u16 (r, &record->class) || !read_u32 (r, &record->ttl) || !read_u16 (r, &record->rdlength))
    return false;
  if (r->length - r->offset < record->rdlength)
    return false;
  record->rdata = r->offset;
  r->offset += record->rdlength;
  return true;
}

static uint8_t
ascii_lower (uint8_t c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool
hostname_octet (uint8_t c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Length octets are below 64 and never change case, so a byte-wise
 * comparison of whole wire names is a label-wise one. */
static bool
names_equal (const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length)
{
  if (a_length != b_length)
    return false;
  for (size_t i = 0; i < a_length; i++)
    if (ascii_lower (a[i]) != ascii_lower (b[i]))
      return false;
  return true;
}

/* The name as lowercase dotted text.  Strict: fail on any octet outside
 * hostname_octet; otherwise write those as \DDD.  The root is "". */
static bool
name_to_text (const uint8_t *wire, char *text, size_t size, bool strict)
{
  size_t out = 0;
  for (size_t at = 0; wire[at] != 0; at += 1 + wire[at])
    {
      if (at > 0)
        {
          if (out + 1 >= size)
            return false;
          text[out++] = '.';
        }
      for (size_t i = 1; i <= wire[at]; i++)
        {
          uint8_t c = ascii_lower (wire[at + i]);
          if (hostname_octet (c))
            {
              if (out + 1 >= size)
                return false;
              text[out++] = (char)c;
            }
          else if (strict || out + 4 >= size)
            return false;
          else
            out += (size_t)snprintf (text + out, size - out, "\\%03u", c);
        }
    }
  text[out] = '\0';
  return true;
}

static int
malformed (struct ward_error **err, const char *what, const char *why)
{
  return ward_fail (err, EBADMSG, "%s: %s", what, why);
}

static int
parse_edns (struct reader *r, uint16_t count, struct dns_query *query, struct ward_error **err)
{
  for (uint16_t i = 0; i < count; i++)
    {
      struct record record;
      if (!read_record (r, &record))
        return malformed (err, "dns query", "truncated additional record");
      if (record.type != DNS_TYPE_OPT)
        continue;
      /* RFC 6891 6.1.1: one OPT, owned by the root. */
      if (query->edns || record.owner_length != 1)
        return malformed (err, "dns query", "invalid OPT record");
      query->edns = true;
      query->edns_udp_size = record.class < DNS_UDP_PLAIN_MAX ? DNS_UDP_PLAIN_MAX : record.class;
      query->edns_dnssec_ok = (record.ttl & EDNS_DNSSEC_OK) != 0;
    }
  return 0;
}

int
dns_query_parse (const uint8_t *packet, size_t length, struct dns_query *query, struct ward_error **err)
{
  memset (query, 0, sizeof *query);
  if (length < DNS_HEADER_SIZE)
    return malformed (err, "dns query", "shorter than a header");
  query->id = get_u16 (packet);
  query->flags = get_u16 (packet + 2);
  uint16_t qdcount = get_u16 (packet + 4), ancount = get_u16 (packet + 6), nscount = get_u16 (packet + 8),
           arcount = get_u16 (packet + 10);
  if (query->flags & DNS_FLAG_QR)
    return malformed (err, "dns query", "a response, not a query");
  unsigned opcode = (query->flags >> OPCODE_SHIFT) & OPCODE_MASK;
  if (opcode != OPCODE_QUERY)
    return ward_fail (err, EOPNOTSUPP, "dns query: opcode %u", opcode);
  if (qdcount != 1)
    return ward_fail (err, EBADMSG, "dns query: %u questions, expected 1", qdcount);
  if (ancount != 0 || nscount != 0)
    return malformed (err, "dns query", "answer or authority records in a query");

  struct reader r = { .data = packet, .length = length, .offset = DNS_HEADER_SIZE };
  if (!read_name (&r, query->wire_name, &query->wire_name_length) || !read_u16 (&r, &query->qtype)
      || !read_u16 (&r, &query->qclass))
    return malformed (err, "dns query", "truncated or invalid question");
  if (!name_to_text (query->wire_name, query->name, sizeof query->name, true))
    return malformed (err, "dns query", "a name with octets other than letters, digits, '-' and '_'");
  return parse_edns (&r, arcount, query, err);
}

static int
no_room (struct ward_error **err, const char *what)
{
  return ward_fail (err, ENOBUFS, "%s: buffer too small", what);
}

static void
put_header (uint8_t *buffer, uint16_t id, uint16_t flags, uint16_t qdcount, uint16_t arcount)
{
  memset (buffer, 0, DNS_HEADER_SIZE);
  put_u16 (buffer, id);
  put_u16 (buffer + 2, flags);
  put_u16 (buffer + 4, qdcount);
  put_u16 (buffer + 10, arcount);
}

static size_t
put_question (uint8_t *buffer, const struct dns_query *query, bool lowercase)
{
  for (size_t i = 0; i < query->wire_name_length; i++)
    buffer[i] = lowercase ? ascii_lower (query->wire_name[i]) : query->wire_name[i];
  put_u16 (buffer + query->wire_name_length, query->qtype);
  put_u16 (buffer + query->wire_name_length + 2, query->qclass);
  return query->wire_name_length + 4;
}

int
dns_query_build (const struct dns_query *query, uint16_t id, uint16_t edns_udp_size, uint8_t *buffer,
                 size_t capacity, struct ward_error **err)
{
  enum
  {
    OPT_SIZE = 11, /* root name, type, class, ttl, rdlength */
  };
  size_t needed = DNS_HEADER_SIZE + query->wire_name_length + 4 + (query->edns ? OPT_SIZE : 0);
  if (capacity < needed)
    return no_room (err, "build the upstream query");
  uint16_t flags = query->flags & (DNS_FLAG_RD | DNS_FLAG_AD | DNS_FLAG_CD);
  put_header (buffer, id, flags, 1, query->edns ? 1 : 0);
  size_t at = DNS_HEADER_SIZE + put_question (buffer + DNS_HEADER_SIZE, query, true);
  if (query->edns)
    {
      uint8_t *opt = buffer + at;
      memset (opt, 0, OPT_SIZE);
      put_u16 (opt + 1, DNS_TYPE_OPT);
      put_u16 (opt + 3, edns_udp_size < DNS_UDP_PLAIN_MAX ? DNS_UDP_PLAIN_MAX : edns_udp_size);
      put_u16 (opt + 7, query->edns_dnssec_ok ? EDNS_DNSSEC_OK : 0);
      at += OPT_SIZE;
    }
  return (int)at;
}

int
dns_answer_build (const struct dns_query *query, int rcode, uint8_t *buffer, size_t capacity,
                  struct ward_error **err)
{
  size_t needed = DNS_HEADER_SIZE + query->wire_name_length + 4;
  if (capacity < needed)
    return no_room (err, "build a dns answer");
  uint16_t flags
      = DNS_FLAG_QR | DNS_FLAG_RA | (query->flags & (DNS_FLAG_RD | DNS_FLAG_CD)) | (rcode & DNS_RCODE_MASK);
  put_header (buffer, query->id, flags, 1, 0);
  return (int)(DNS_HEADER_SIZE + put_question (buffer + DNS_HEADER_SIZE, query, false));
}

int
dns_answer_header_only (const uint8_t *packet, size_t length, int rcode, uint8_t *buffer, size_t capacity,
                        struct ward_error **err)
{
  if (length < DNS_HEADER_SIZE)
    return malformed (err, "dns answer", "the request is shorter than a header");
  uint16_t flags = get_u16 (packet + 2);
  if (flags & DNS_FLAG_QR)
    return malformed (err, "dns answer", "the request is itself a response");
  if (capacity < DNS_HEADER_SIZE)
    return no_room (err, "build a dns answer");
  uint16_t opcode_bits = flags & (OPCODE_MASK << OPCODE_SHIFT);
  put_header (buffer, get_u16 (packet),
              DNS_FLAG_QR | DNS_FLAG_RA | opcode_bits | (flags & DNS_FLAG_RD) | (rcode & DNS_RCODE_MASK), 0,
              0);
  return DNS_HEADER_SIZE;
}

/* The shape of the data of the records the walk reads. */
static bool
record_data_valid (const struct reader *message, const struct record *record)
{
  switch (record->type)
    {
    case DNS_TYPE_A:
      return record->class != DNS_CLASS_IN || record->rdlength == 4;
    case DNS_TYPE_AAAA:
      return record->class != DNS_CLASS_IN || record->rdlength == 16;
    case DNS_TYPE_CNAME:
      {
        /* Pointers may reach anywhere before; the inline labels must end
         * exactly where the data does. */
        struct reader r = { .data = message->data, .length = message->length, .offset = record->rdata };
        uint8_t target[DNS_NAME_WIRE_MAX];
        size_t target_length;
        return read_name (&r, target, &target_length) && r.offset == record->rdata + record->rdlength;
      }
    default:
      return true;
    }
}

/* The CNAME owned by `owner` in the answer section, if any. */
static bool
find_cname (const struct reader *answers, uint16_t count, const uint8_t *owner, size_t owner_length,
            struct record *cname, uint8_t target[DNS_NAME_WIRE_MAX], size_t *target_length)
{
  struct reader r = *answers;
  for (uint16_t i = 0; i < count; i++)
    {
      if (!read_record (&r, cname))
        return false;
      if (cname->type != DNS_TYPE_CNAME || cname->class != DNS_CLASS_IN
          || !names_equal (cname->owner, cname->owner_length, owner, owner_length))
        continue;
      struct reader data = { .data = r.data, .length = r.length, .offset = cname->rdata };
      return read_name (&data, target, target_length);
    }
  return false;
}

/* RFC 2181 8: a TTL with the top bit set means zero. */
static uint32_t
sane_ttl (uint32_t ttl)
{
  return ttl > INT32_MAX ? 0 : ttl;
}

static bool
on_chain (uint8_t chain[][DNS_NAME_WIRE_MAX], const size_t *chain_length, size_t links, const uint8_t *name,
          size_t name_length)
{
  for (size_t i = 0; i < links; i++)
    if (names_equal (chain[i], chain_length[i], name, name_length))
      return true;
  return false;
}

static void
report_chain (const struct reader *answers, uint16_t count, const struct dns_query *query,
              const struct dns_response_visitor *visitor)
{
  uint8_t chain[CHAIN_MAX][DNS_NAME_WIRE_MAX];
  size_t chain_length[CHAIN_MAX];
  size_t links = 1;
  memcpy (chain[0], query->wire_name, query->wire_name_length);
  chain_length[0] = query->wire_name_length;

  /* Records may come in any order: look for the next link from the top
   * each time.  A target already on the chain ends it (a loop). */
  struct record record;
  uint8_t target[DNS_NAME_WIRE_MAX];
  size_t target_length;
  while (links < CHAIN_MAX
         && find_cname (answers, count, chain[links - 1], chain_length[links - 1], &record, target,
                        &target_length)
         && !on_chain (chain, chain_length, links, target, target_length))
    {
      char owner_text[DNS_NAME_WIRE_MAX * 4], target_text[DNS_NAME_WIRE_MAX * 4];
      if (visitor->cname && name_to_text (chain[links - 1], owner_text, sizeof owner_text, false)
          && name_to_text (target, target_text, sizeof target_text, false))
        visitor->cname (owner_text, target_text, sane_ttl (record.ttl), visitor->ctx);
      memcpy (chain[links], target, target_length);
      chain_length[links++] = target_length;
    }

  struct reader r = *answers;
  for (uint16_t i = 0; i < count && read_record (&r, &record); i++)
    if ((record.type == DNS_TYPE_A || record.type == DNS_TYPE_AAAA) && record.class == DNS_CLASS_IN
        && visitor->address && on_chain (chain, chain_length, links, record.owner, record.owner_length))
      visitor->address (record.type == DNS_TYPE_A ? AF_INET : AF_INET6, r.data + record.rdata,
                        sane_ttl (record.ttl), visitor->ctx);
}

int
dns_response_walk (const uint8_t *packet, size_t length, uint16_t id, const struct dns_query *query,
                   const struct dns_response_visitor *visitor, struct dns_response_summary *summary,
                   struct ward_error **err)
{
  static const char what[] = "dns response";
  memset (summary, 0, sizeof *summary);
  if (length < DNS_HEADER_SIZE)
    return malformed (err, what, "shorter than a header");
  uint16_t flags = get_u16 (packet + 2);
  if (get_u16 (packet) != id)
    return malformed (err, what, "unexpected id");
  if (!(flags & DNS_FLAG_QR) || ((flags >> OPCODE_SHIFT) & OPCODE_MASK) != OPCODE_QUERY)
    return malformed (err, what, "not a response to a query");
  if (get_u16 (packet + 4) != 1)
    return malformed (err, what, "not exactly one question");

  struct reader r = { .data = packet, .length = length, .offset = DNS_HEADER_SIZE };
  uint8_t name[DNS_NAME_WIRE_MAX];
  size_t name_length;
  uint16_t qtype, qclass;
  if (!read_name (&r, name, &name_length) || !read_u16 (&r, &qtype) || !read_u16 (&r, &qclass))
    return malformed (err, what, "truncated or invalid question");
  if (!names_equal (name, name_length, query->wire_name, query->wire_name_length) || qtype != query->qtype
      || qclass != query->qclass)
    return malformed (err, what, "answers another question");
  summary->rcode = flags & DNS_RCODE_MASK;
  summary->truncated = (flags & DNS_FLAG_TC) != 0;
  summary->question_end = r.offset;
  /* A truncated answer may stop anywhere: it is passed on cut to its
   * question, and the client asks again over TCP. */
  if (summary->truncated)
    return 0;

  uint16_t ancount = get_u16 (packet + 6);
  unsigned records = (unsigned)ancount + get_u16 (packet + 8) + get_u16 (packet + 10);
  struct reader answers = r;
  for (unsigned i = 0; i < records; i++)
    {
      struct record record;
      if (!read_record (&r, &record) || !record_data_valid (&r, &record))
        return malformed (err, what, "truncated or invalid record");
    }
  if (visitor != NULL && summary->rcode == DNS_RCODE_NOERROR)
    report_chain (&answers, ancount, query, visitor);
  return 0;
}

size_t
dns_response_truncate (uint8_t *packet, const struct dns_response_summary *summary)
{
  put_u16 (packet + 2, get_u16 (packet + 2) | DNS_FLAG_TC);
  memset (packet + 6, 0, 6);
  return summary->question_end;
}

void
dns_response_restore (uint8_t *packet, const struct dns_query *query)
{
  put_u16 (packet, query->id);
  /* The walk checked that the question starts right after the header,
   * uncompressed (no pointer may reach back into the header) and as long
   * as the client's. */
  memcpy (packet + DNS_HEADER_SIZE, query->wire_name, query->wire_name_length);
}

uint16_t
dns_message_id (const uint8_t *packet)
{
  return get_u16 (packet);
}
