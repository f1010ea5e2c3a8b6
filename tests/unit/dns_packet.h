/* DNS packets written by hand for the DNS tests, header only like
 * harness.h: each test spells out the octets it is about, compression
 * pointers included, rather than trust the code under test to make them. */
#ifndef WARD_TEST_DNS_PACKET_H
#define WARD_TEST_DNS_PACKET_H

#include "dns_message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct packet
{
  uint8_t data[8192];
  size_t length;
};

enum
{
  /* Offsets of the header's counts, and of the first question. */
  QD_COUNT = 4,
  AN_COUNT = 6,
  AR_COUNT = 10,
  QUESTION = DNS_HEADER_SIZE,
};

static inline size_t
put8 (struct packet *p, uint8_t value)
{
  p->data[p->length] = value;
  return p->length++;
}

static inline size_t
put16 (struct packet *p, uint16_t value)
{
  size_t at = put8 (p, value >> 8);
  put8 (p, value & 0xff);
  return at;
}

static inline void
put32 (struct packet *p, uint32_t value)
{
  put16 (p, value >> 16);
  put16 (p, value & 0xffff);
}

static inline void
put_bytes (struct packet *p, const void *bytes, size_t length)
{
  memcpy (p->data + p->length, bytes, length);
  p->length += length;
}

static inline uint16_t
get16 (const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
set16 (struct packet *p, size_t offset, uint16_t value)
{
  p->data[offset] = value >> 8;
  p->data[offset + 1] = value & 0xff;
}

/* The labels of a dotted name; `terminate` adds the root label, else the
 * caller follows with a pointer.  Returns where the name starts. */
static inline size_t
put_labels (struct packet *p, const char *dotted, bool terminate)
{
  size_t start = p->length;
  while (*dotted)
    {
      const char *dot = strchr (dotted, '.');
      size_t length = dot ? (size_t)(dot - dotted) : strlen (dotted);
      put8 (p, (uint8_t)length);
      put_bytes (p, dotted, length);
      dotted += length + (dot ? 1 : 0);
    }
  if (terminate)
    put8 (p, 0);
  return start;
}

static inline size_t
put_name (struct packet *p, const char *dotted)
{
  return put_labels (p, dotted, true);
}

static inline size_t
put_pointer (struct packet *p, size_t target)
{
  return put16 (p, (uint16_t)(0xc000 | target));
}

/* Starts the packet afresh. */
static inline void
put_header (struct packet *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
  p->length = 0;
  put16 (p, id);
  put16 (p, flags);
  put16 (p, qd);
  put16 (p, an);
  put16 (p, ns);
  put16 (p, ar);
}

/* A record's type, class (IN), TTL and data length, after its owner. */
static inline void
put_record_fields (struct packet *p, uint16_t type, uint32_t ttl, uint16_t rdlength)
{
  put16 (p, type);
  put16 (p, DNS_CLASS_IN);
  put32 (p, ttl);
  put16 (p, rdlength);
}

/* A record owned by the name at `owner`; returns where its data starts. */
static inline size_t
put_record (struct packet *p, size_t owner, uint16_t type, uint32_t ttl, const void *data, uint16_t length)
{
  put_pointer (p, owner);
  put_record_fields (p, type, ttl, length);
  size_t at = p->length;
  put_bytes (p, data, length);
  return at;
}

static inline void
put_query (struct packet *p, uint16_t id, const char *name, uint16_t qtype)
{
  put_header (p, id, DNS_FLAG_RD, 1, 0, 0, 0);
  put_name (p, name);
  put16 (p, qtype);
  put16 (p, DNS_CLASS_IN);
}

/* An OPT record advertising `size`, counted in the header. */
static inline void
put_opt (struct packet *p, uint16_t size, bool dnssec_ok)
{
  put8 (p, 0);
  put_record_fields (p, DNS_TYPE_OPT, dnssec_ok ? 0x8000 : 0, 0);
  set16 (p, p->length - 8, size);
  set16 (p, AR_COUNT, get16 (p->data + AR_COUNT) + 1);
}

#endif
