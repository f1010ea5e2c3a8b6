/* DNS messages: queries parsed and refused, answers built, responses
 * walked along their CNAME chain.  Every packet is written out by hand,
 * compression pointers included, so each test shows the bytes it is
 * about; the last test throws mutated and random packets at the parsers
 * (under ASan in CI, that is where an overread would show). */
#include "config.h"
#include "harness.h"
#include "dns_message.h"
#include "dns_packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void
put_a (struct packet *p, size_t owner, uint32_t ttl, const char *address)
{
  uint8_t bytes[4];
  inet_pton (AF_INET, address, bytes);
  put_record (p, owner, DNS_TYPE_A, ttl, bytes, 4);
}

static void
put_aaaa (struct packet *p, size_t owner, uint32_t ttl, const char *address)
{
  uint8_t bytes[16];
  inet_pton (AF_INET6, address, bytes);
  put_record (p, owner, DNS_TYPE_AAAA, ttl, bytes, 16);
}

/* A CNAME whose target is written in full; returns where the target is. */
static size_t
put_cname (struct packet *p, size_t owner, uint32_t ttl, const char *target)
{
  put_pointer (p, owner);
  put_record_fields (p, DNS_TYPE_CNAME, ttl, (uint16_t)(strlen (target) + 2));
  return put_name (p, target);
}

static bool
parse (const struct packet *p, struct dns_query *query, int *errnum)
{
  struct ward_error *err = NULL;
  int ret = dns_query_parse (p->data, p->length, query, &err);
  *errnum = err ? err->errnum : 0;
  ward_error_free (&err);
  return ret == 0;
}

static bool
parses (const struct packet *p, struct dns_query *query)
{
  int errnum;
  return parse (p, query, &errnum);
}

static bool
refused_as (const struct packet *p, int expected_errnum)
{
  struct dns_query query;
  int errnum = 0;
  return !parse (p, &query, &errnum) && errnum == expected_errnum;
}

TEST (query_name_is_lowercase_text_and_the_spelling_is_kept)
{
  struct packet p;
  put_query (&p, 0x1234, "WWW.Example.COM", DNS_TYPE_A);
  struct dns_query query;
  REQUIRE (parses (&p, &query));
  CHECK_INT_EQ (query.id, 0x1234);
  CHECK_INT_EQ (query.flags, DNS_FLAG_RD);
  CHECK_STR_EQ (query.name, "www.example.com");
  CHECK_INT_EQ (query.qtype, DNS_TYPE_A);
  CHECK_INT_EQ (query.qclass, DNS_CLASS_IN);
  CHECK_INT_EQ (query.wire_name_length, 17);
  CHECK (memcmp (query.wire_name, "\003WWW\007Example\003COM", 17) == 0);
  CHECK (!query.edns);
}

TEST (query_for_the_root_is_the_empty_name)
{
  struct packet p;
  put_query (&p, 1, "", DNS_TYPE_A);
  struct dns_query query;
  REQUIRE (parses (&p, &query));
  CHECK_STR_EQ (query.name, "");
  CHECK_INT_EQ (query.wire_name_length, 1);
}

TEST (query_with_edns_gives_its_size_and_do_bit)
{
  struct packet p;
  put_header (&p, 7, DNS_FLAG_RD, 1, 0, 0, 2);
  put_name (&p, "example.com");
  put16 (&p, DNS_TYPE_AAAA);
  put16 (&p, DNS_CLASS_IN);
  /* Another record first: it is skipped. */
  put_pointer (&p, QUESTION);
  put_record_fields (&p, DNS_TYPE_A, 0, 4);
  put32 (&p, 0x01020304);
  /* OPT: root owner, class = UDP size, TTL holds the DO bit. */
  put8 (&p, 0);
  put16 (&p, DNS_TYPE_OPT);
  put16 (&p, 4096);
  put32 (&p, 0x00008000);
  put16 (&p, 0);
  struct dns_query query;
  REQUIRE (parses (&p, &query));
  CHECK (query.edns);
  CHECK_INT_EQ (query.edns_udp_size, 4096);
  CHECK (query.edns_dnssec_ok);

  /* A size below 512 means 512. */
  p.data[p.length - 8] = 0;
  p.data[p.length - 7] = 100;
  REQUIRE (parses (&p, &query));
  CHECK_INT_EQ (query.edns_udp_size, 512);
}

TEST (query_with_two_opt_records_or_a_named_one_is_refused)
{
  struct packet p;
  put_header (&p, 7, 0, 1, 0, 0, 2);
  put_name (&p, "example.com");
  put16 (&p, DNS_TYPE_A);
  put16 (&p, DNS_CLASS_IN);
  for (int i = 0; i < 2; i++)
    {
      put8 (&p, 0);
      put_record_fields (&p, DNS_TYPE_OPT, 0, 0);
    }
  CHECK (refused_as (&p, EBADMSG));

  put_header (&p, 7, 0, 1, 0, 0, 1);
  put_name (&p, "example.com");
  put16 (&p, DNS_TYPE_A);
  put16 (&p, DNS_CLASS_IN);
  put_pointer (&p, QUESTION);
  put_record_fields (&p, DNS_TYPE_OPT, 0, 0);
  CHECK (refused_as (&p, EBADMSG));
}

TEST (malformed_headers_are_refused)
{
  struct packet p;
  put_query (&p, 1, "example.com", DNS_TYPE_A);
  struct packet short_one = p;
  short_one.length = DNS_HEADER_SIZE - 1;
  CHECK (refused_as (&short_one, EBADMSG));

  struct packet response = p;
  response.data[2] |= DNS_FLAG_QR >> 8;
  CHECK (refused_as (&response, EBADMSG));

  struct packet notify = p;
  notify.data[2] |= 4 << 3; /* opcode NOTIFY */
  CHECK (refused_as (&notify, EOPNOTSUPP));

  struct packet no_question = p;
  set16 (&no_question, 4, 0);
  CHECK (refused_as (&no_question, EBADMSG));
  struct packet two_questions = p;
  set16 (&two_questions, 4, 2);
  CHECK (refused_as (&two_questions, EBADMSG));

  struct packet with_answer = p;
  set16 (&with_answer, AN_COUNT, 1);
  CHECK (refused_as (&with_answer, EBADMSG));

  /* An additional record announced but absent. */
  struct packet missing_additional = p;
  set16 (&missing_additional, 10, 1);
  CHECK (refused_as (&missing_additional, EBADMSG));
}

TEST (truncated_questions_are_refused)
{
  struct packet p;
  put_query (&p, 1, "example.com", DNS_TYPE_A);
  /* Cut anywhere inside the question, down to the bare header. */
  for (size_t length = DNS_HEADER_SIZE; length < p.length; length++)
    {
      struct packet cut = p;
      cut.length = length;
      CHECK (refused_as (&cut, EBADMSG));
    }
}

TEST (labels_over_63_and_names_over_255_are_refused)
{
  char label63[64], label61[62];
  memset (label63, 'a', 63);
  label63[63] = '\0';
  memset (label61, 'b', 61);
  label61[61] = '\0';

  /* 3 x (1 + 63) + (1 + 61) + 1 = 255 octets: the longest name. */
  char longest[300];
  snprintf (longest, sizeof longest, "%s.%s.%s.%s", label63, label63, label63, label61);
  struct packet p;
  put_query (&p, 1, longest, DNS_TYPE_A);
  struct dns_query query;
  REQUIRE (parses (&p, &query));
  CHECK_INT_EQ (strlen (query.name), 253);
  CHECK_INT_EQ (query.wire_name_length, 255);

  char too_long[300];
  snprintf (too_long, sizeof too_long, "%s.%s.%s.%s.b", label63, label63, label63, label61);
  put_query (&p, 1, too_long, DNS_TYPE_A);
  CHECK (refused_as (&p, EBADMSG));

  /* A length octet of 64 or more is no label (0x40 and 0x80 are the
   * extended label types). */
  put_header (&p, 1, 0, 1, 0, 0, 0);
  put8 (&p, 64);
  for (int i = 0; i < 64; i++)
    put8 (&p, 'a');
  put8 (&p, 0);
  put16 (&p, DNS_TYPE_A);
  put16 (&p, DNS_CLASS_IN);
  CHECK (refused_as (&p, EBADMSG));
}

TEST (labels_that_would_read_as_another_name_are_refused)
{
  /* One label "allowed.example.com" prints as the allowed name but is a
   * different one to the resolver. */
  static const char *labels[] = { "allowed.example.com", "a\\b", "nul\0x", "star*", "sp ace" };
  static const size_t lengths[] = { 19, 3, 5, 5, 6 };
  for (size_t i = 0; i < 5; i++)
    {
      struct packet p;
      put_header (&p, 1, 0, 1, 0, 0, 0);
      put8 (&p, (uint8_t)lengths[i]);
      put_bytes (&p, labels[i], lengths[i]);
      put8 (&p, 0);
      put16 (&p, DNS_TYPE_A);
      put16 (&p, DNS_CLASS_IN);
      CHECK (refused_as (&p, EBADMSG));
    }
  struct packet fine;
  put_query (&fine, 1, "_dmarc.x-1.example", DNS_TYPE_TXT);
  struct dns_query query;
  CHECK (parses (&fine, &query));
}

TEST (pointers_in_a_question_that_loop_or_reach_the_header_are_refused)
{
  struct packet p;
  /* A pointer to itself. */
  put_header (&p, 1, 0, 1, 0, 0, 0);
  put_pointer (&p, QUESTION);
  put16 (&p, DNS_TYPE_A);
  put16 (&p, DNS_CLASS_IN);
  CHECK (refused_as (&p, EBADMSG));

  /* A label, then a pointer back to that label: a loop. */
  put_header (&p, 1, 0, 1, 0, 0, 0);
  put_labels (&p, "a", false);
  put_pointer (&p, QUESTION);
  put16 (&p, DNS_TYPE_A);
  put16 (&p, DNS_CLASS_IN);
  CHECK (refused_as (&p, EBADMSG));

  /* Into the header. */
  put_header (&p, 1, 0, 1, 0, 0, 0);
  put_pointer (&p, 2);
  put16 (&p, DNS_TYPE_A);
  put16 (&p, DNS_CLASS_IN);
  CHECK (refused_as (&p, EBADMSG));

  /* Forwards. */
  put_header (&p, 1, 0, 1, 0, 0, 0);
  put_pointer (&p, QUESTION + 6);
  put16 (&p, DNS_TYPE_A);
  put16 (&p, DNS_CLASS_IN);
  put_name (&p, "a");
  CHECK (refused_as (&p, EBADMSG));

  /* A pointer cut in half. */
  put_header (&p, 1, 0, 1, 0, 0, 0);
  put8 (&p, 0xc0);
  CHECK (refused_as (&p, EBADMSG));
}

TEST (upstream_query_keeps_the_question_and_nothing_else)
{
  struct packet p;
  put_header (&p, 0x4242, DNS_FLAG_RD | DNS_FLAG_CD | DNS_FLAG_AA | DNS_FLAG_TC | 0x0040, 1, 0, 0, 2);
  put_name (&p, "Api.Example.com");
  put16 (&p, DNS_TYPE_HTTPS);
  put16 (&p, DNS_CLASS_IN);
  /* Something smuggled in the additional section... */
  put_name (&p, "secret-payload.evil.example");
  put_record_fields (&p, DNS_TYPE_TXT, 0, 4);
  put_bytes (&p, "\003abc", 4);
  /* ...and an OPT with an option. */
  put8 (&p, 0);
  put16 (&p, DNS_TYPE_OPT);
  put16 (&p, 1400);
  put32 (&p, 0);
  put16 (&p, 6);
  put_bytes (&p, "\x00\x0a\x00\x02xy", 6);
  struct dns_query query;
  REQUIRE (parses (&p, &query));

  uint8_t built[512];
  struct ward_error *err = NULL;
  int length = dns_query_build (&query, 0xbeef, 1232, built, sizeof built, &err);
  REQUIRE (length > 0);
  /* Header, the 17-octet name, type and class, a bare 11-octet OPT. */
  CHECK_INT_EQ (length, 12 + 17 + 4 + 11);
  CHECK_INT_EQ (dns_message_id (built), 0xbeef);
  CHECK_INT_EQ (built[2] << 8 | built[3], DNS_FLAG_RD | DNS_FLAG_CD);
  /* In lowercase: the case of a name is a channel of its own. */
  CHECK (memcmp (built + 12, "\003api\007example\003com", 17) == 0);

  struct packet again = { .length = (size_t)length };
  memcpy (again.data, built, (size_t)length);
  struct dns_query reparsed;
  REQUIRE (parses (&again, &reparsed));
  CHECK_STR_EQ (reparsed.name, "api.example.com");
  CHECK_INT_EQ (reparsed.qtype, DNS_TYPE_HTTPS);
  CHECK (reparsed.edns);
  CHECK_INT_EQ (reparsed.edns_udp_size, 1232);

  /* No OPT for a client that sent none; too small a buffer fails. */
  query.edns = false;
  CHECK_INT_EQ (dns_query_build (&query, 1, 1232, built, sizeof built, &err), 12 + 17 + 4);
  CHECK_INT_EQ (dns_query_build (&query, 1, 1232, built, 20, &err), -1);
  CHECK (err != NULL);
  ward_error_free (&err);
}

TEST (refusal_answers_repeat_the_id_and_question)
{
  struct packet p;
  put_query (&p, 0x9999, "Evil.example.org", DNS_TYPE_AAAA);
  p.data[3] |= DNS_FLAG_CD;
  struct dns_query query;
  REQUIRE (parses (&p, &query));
  uint8_t answer[512];
  int length = dns_answer_build (&query, DNS_RCODE_NXDOMAIN, answer, sizeof answer, NULL);
  CHECK_INT_EQ (length, (int)p.length);
  CHECK_INT_EQ (dns_message_id (answer), 0x9999);
  CHECK_INT_EQ (answer[2] << 8 | answer[3],
                DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | DNS_FLAG_CD | DNS_RCODE_NXDOMAIN);
  CHECK (memcmp (answer + 4, "\0\1\0\0\0\0\0\0", 8) == 0);
  CHECK (memcmp (answer + 12, p.data + 12, p.length - 12) == 0);

  length = dns_answer_build (&query, DNS_RCODE_SERVFAIL, answer, sizeof answer, NULL);
  CHECK_INT_EQ (answer[3] & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
}

TEST (header_only_answers_never_answer_responses)
{
  struct packet p;
  put_header (&p, 0x0102, DNS_FLAG_RD, 2, 0, 0, 0);
  uint8_t answer[DNS_HEADER_SIZE];
  int length = dns_answer_header_only (p.data, p.length, DNS_RCODE_FORMERR, answer, sizeof answer, NULL);
  REQUIRE (length == DNS_HEADER_SIZE);
  CHECK_INT_EQ (dns_message_id (answer), 0x0102);
  CHECK_INT_EQ (answer[2] << 8 | answer[3], DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | DNS_RCODE_FORMERR);
  CHECK (memcmp (answer + 4, "\0\0\0\0\0\0\0\0", 8) == 0);

  CHECK_INT_EQ (dns_answer_header_only (p.data, 11, DNS_RCODE_FORMERR, answer, sizeof answer, NULL), -1);
  p.data[2] |= 0x80;
  CHECK_INT_EQ (dns_answer_header_only (p.data, p.length, DNS_RCODE_FORMERR, answer, sizeof answer, NULL),
                -1);
}

/* What a walk reported. */
struct seen
{
  unsigned addresses;
  int family[32];
  char text[32][INET6_ADDRSTRLEN];
  uint32_t ttl[32];
  unsigned cnames;
  char cname[16][600];
};

static void
saw_address (int family, const uint8_t *address, uint32_t ttl, void *ctx)
{
  struct seen *seen = ctx;
  if (seen->addresses == 32)
    return;
  seen->family[seen->addresses] = family;
  inet_ntop (family, address, seen->text[seen->addresses], INET6_ADDRSTRLEN);
  seen->ttl[seen->addresses++] = ttl;
}

static void
saw_cname (const char *owner, const char *target, uint32_t ttl, void *ctx)
{
  struct seen *seen = ctx;
  if (seen->cnames < 16)
    snprintf (seen->cname[seen->cnames++], 600, "%s>%s/%u", owner, target, ttl);
}

static int
walk (const struct packet *response, const struct dns_query *query, uint16_t id, struct seen *seen,
      struct dns_response_summary *summary)
{
  memset (seen, 0, sizeof *seen);
  struct dns_response_visitor visitor = { saw_address, saw_cname, seen };
  struct ward_error *err = NULL;
  int ret = dns_response_walk (response->data, response->length, id, query, &visitor, summary, &err);
  CHECK ((ret == 0) == (err == NULL));
  ward_error_free (&err);
  return ret;
}

static void
query_for (struct dns_query *query, const char *name, uint16_t qtype)
{
  struct packet p;
  put_query (&p, 1, name, qtype);
  parses (&p, query);
}

/* A response header and question for `name`; answers follow. */
static void
start_response (struct packet *p, uint16_t id, const char *name, uint16_t qtype, uint16_t ancount)
{
  put_header (p, id, DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA, 1, ancount, 0, 0);
  put_name (p, name);
  put16 (p, qtype);
  put16 (p, DNS_CLASS_IN);
}

TEST (plain_answer_reports_its_addresses)
{
  struct dns_query query;
  query_for (&query, "example.com", DNS_TYPE_A);
  struct packet r;
  start_response (&r, 77, "EXAMPLE.com", DNS_TYPE_A, 2);
  put_a (&r, QUESTION, 300, "192.0.2.1");
  put_a (&r, QUESTION, 0x80000000u, "192.0.2.2");
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 77, &seen, &summary) == 0);
  CHECK_INT_EQ (summary.rcode, DNS_RCODE_NOERROR);
  CHECK (!summary.truncated);
  CHECK_INT_EQ (summary.question_end, 12 + 13 + 4);
  REQUIRE (seen.addresses == 2);
  CHECK_INT_EQ (seen.family[0], AF_INET);
  CHECK_STR_EQ (seen.text[0], "192.0.2.1");
  CHECK_INT_EQ (seen.ttl[0], 300);
  CHECK_STR_EQ (seen.text[1], "192.0.2.2");
  /* RFC 2181: a TTL with the top bit set is zero. */
  CHECK_INT_EQ (seen.ttl[1], 0);
  CHECK_INT_EQ (seen.cnames, 0);
}

/* www.example.com -> cdn.example.net -> edge.cdn.example.net, written
 * out of order as compression allows: an unrelated address, the edge's
 * addresses (its name in full), the second link, then the first. */
static void
cname_chain_response (struct packet *r, uint16_t qtype)
{
  start_response (r, 5, "www.example.com", qtype, 6);
  /* Off the chain: never reported. */
  put_name (r, "other.example.org");
  put_record_fields (r, DNS_TYPE_A, 60, 4);
  put32 (r, 0xc6336401); /* 198.51.100.1 */
  size_t edge = put_name (r, "edge.cdn.example.net");
  put_record_fields (r, DNS_TYPE_A, 300, 4);
  put32 (r, 0xc000020a); /* 192.0.2.10 */
  size_t cdn = edge + 5;
  put_aaaa (r, edge, 200, "2001:db8::10");
  put_pointer (r, cdn);
  put_record_fields (r, DNS_TYPE_CNAME, 30, 2);
  put_pointer (r, edge);
  put_pointer (r, QUESTION);
  put_record_fields (r, DNS_TYPE_CNAME, 60, 2);
  put_pointer (r, cdn);
  put_a (r, edge, 100, "192.0.2.11");
}

TEST (cname_chain_is_followed_through_compression_in_any_order)
{
  struct dns_query query;
  query_for (&query, "www.example.com", DNS_TYPE_A);
  struct packet r;
  cname_chain_response (&r, DNS_TYPE_A);
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 5, &seen, &summary) == 0);
  REQUIRE (seen.cnames == 2);
  CHECK_STR_EQ (seen.cname[0], "www.example.com>cdn.example.net/60");
  CHECK_STR_EQ (seen.cname[1], "cdn.example.net>edge.cdn.example.net/30");
  REQUIRE (seen.addresses == 3);
  CHECK_STR_EQ (seen.text[0], "192.0.2.10");
  CHECK_INT_EQ (seen.ttl[0], 300);
  CHECK_INT_EQ (seen.family[1], AF_INET6);
  CHECK_STR_EQ (seen.text[1], "2001:db8::10");
  CHECK_STR_EQ (seen.text[2], "192.0.2.11");
}

TEST (cname_loops_end_the_chain)
{
  struct dns_query query;
  query_for (&query, "a.example", DNS_TYPE_A);
  struct packet r;
  start_response (&r, 9, "a.example", DNS_TYPE_A, 3);
  size_t b = put_cname (&r, QUESTION, 10, "b.example");
  put_pointer (&r, b);
  put_record_fields (&r, DNS_TYPE_CNAME, 10, 2);
  put_pointer (&r, QUESTION);
  put_a (&r, b, 10, "192.0.2.7");
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 9, &seen, &summary) == 0);
  CHECK_INT_EQ (seen.cnames, 1);
  REQUIRE (seen.addresses == 1);
  CHECK_STR_EQ (seen.text[0], "192.0.2.7");
}

TEST (overlong_cname_chains_are_cut)
{
  struct dns_query query;
  query_for (&query, "n0.example", DNS_TYPE_A);
  struct packet r;
  start_response (&r, 9, "n0.example", DNS_TYPE_A, 41);
  size_t owner = QUESTION;
  for (int i = 1; i <= 40; i++)
    {
      char target[32];
      snprintf (target, sizeof target, "n%d.example", i);
      owner = put_cname (&r, owner, 10, target);
    }
  put_a (&r, owner, 10, "192.0.2.99");
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 9, &seen, &summary) == 0);
  CHECK (seen.cnames > 0 && seen.cnames < 40);
  CHECK_INT_EQ (seen.addresses, 0);
}

TEST (responses_to_another_query_are_refused)
{
  struct dns_query query;
  query_for (&query, "www.example.com", DNS_TYPE_A);
  struct packet r;
  cname_chain_response (&r, DNS_TYPE_A);
  struct seen seen;
  struct dns_response_summary summary;
  CHECK_INT_EQ (walk (&r, &query, 6, &seen, &summary), -1);

  struct dns_query other_type;
  query_for (&other_type, "www.example.com", DNS_TYPE_AAAA);
  CHECK_INT_EQ (walk (&r, &other_type, 5, &seen, &summary), -1);
  struct dns_query other_name;
  query_for (&other_name, "www.example.org", DNS_TYPE_A);
  CHECK_INT_EQ (walk (&r, &other_name, 5, &seen, &summary), -1);

  /* A query is not an answer. */
  struct packet q;
  put_query (&q, 5, "www.example.com", DNS_TYPE_A);
  CHECK_INT_EQ (walk (&q, &query, 5, &seen, &summary), -1);
  CHECK_INT_EQ (seen.addresses, 0);
}

TEST (a_bad_record_anywhere_means_nothing_is_reported)
{
  struct dns_query query;
  query_for (&query, "example.com", DNS_TYPE_A);
  struct packet r;
  struct seen seen;
  struct dns_response_summary summary;

  /* A good A record, then one whose data is 5 octets. */
  start_response (&r, 1, "example.com", DNS_TYPE_A, 2);
  put_a (&r, QUESTION, 10, "192.0.2.1");
  put_pointer (&r, QUESTION);
  put_record_fields (&r, DNS_TYPE_A, 10, 5);
  put32 (&r, 0);
  put8 (&r, 0);
  CHECK_INT_EQ (walk (&r, &query, 1, &seen, &summary), -1);
  CHECK_INT_EQ (seen.addresses, 0);

  /* A good A record, then a truncated additional one. */
  start_response (&r, 1, "example.com", DNS_TYPE_A, 1);
  put_a (&r, QUESTION, 10, "192.0.2.1");
  set16 (&r, 10, 1);
  put_pointer (&r, QUESTION);
  put16 (&r, DNS_TYPE_A);
  CHECK_INT_EQ (walk (&r, &query, 1, &seen, &summary), -1);
  CHECK_INT_EQ (seen.addresses, 0);

  /* A CNAME whose target runs past its data. */
  start_response (&r, 1, "example.com", DNS_TYPE_A, 1);
  put_pointer (&r, QUESTION);
  put_record_fields (&r, DNS_TYPE_CNAME, 10, 3);
  put_name (&r, "target.example");
  CHECK_INT_EQ (walk (&r, &query, 1, &seen, &summary), -1);

  /* An owner that points at itself. */
  start_response (&r, 1, "example.com", DNS_TYPE_A, 1);
  put_pointer (&r, r.length);
  put_record_fields (&r, DNS_TYPE_A, 10, 4);
  put32 (&r, 0);
  CHECK_INT_EQ (walk (&r, &query, 1, &seen, &summary), -1);

  /* More answers announced than present. */
  start_response (&r, 1, "example.com", DNS_TYPE_A, 3);
  put_a (&r, QUESTION, 10, "192.0.2.1");
  CHECK_INT_EQ (walk (&r, &query, 1, &seen, &summary), -1);
  CHECK_INT_EQ (seen.addresses, 0);
}

TEST (truncated_or_negative_answers_report_nothing)
{
  struct dns_query query;
  query_for (&query, "www.example.com", DNS_TYPE_A);
  struct packet r;
  cname_chain_response (&r, DNS_TYPE_A);
  r.data[2] |= DNS_FLAG_TC >> 8;
  /* A truncated answer may be cut anywhere: it is not parsed further. */
  r.length -= 3;
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 5, &seen, &summary) == 0);
  CHECK (summary.truncated);
  CHECK_INT_EQ (seen.addresses + seen.cnames, 0);

  cname_chain_response (&r, DNS_TYPE_A);
  r.data[3] |= DNS_RCODE_NXDOMAIN;
  REQUIRE (walk (&r, &query, 5, &seen, &summary) == 0);
  CHECK_INT_EQ (summary.rcode, DNS_RCODE_NXDOMAIN);
  CHECK_INT_EQ (seen.addresses + seen.cnames, 0);
}

TEST (a_response_too_big_is_cut_to_its_question)
{
  struct dns_query query;
  query_for (&query, "www.example.com", DNS_TYPE_A);
  struct packet r;
  cname_chain_response (&r, DNS_TYPE_A);
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 5, &seen, &summary) == 0);
  r.length = dns_response_truncate (r.data, &summary);
  CHECK_INT_EQ (r.length, 12 + 17 + 4);
  CHECK (r.data[2] & (DNS_FLAG_TC >> 8));
  CHECK (memcmp (r.data + 4, "\0\1\0\0\0\0\0\0", 8) == 0);
  REQUIRE (walk (&r, &query, 5, &seen, &summary) == 0);
  CHECK (summary.truncated);
}

TEST (restored_response_has_the_clients_id_and_spelling)
{
  struct packet q;
  put_query (&q, 0x0abc, "WwW.ExAmPlE.cOm", DNS_TYPE_A);
  struct dns_query query;
  REQUIRE (parses (&q, &query));
  struct packet r;
  cname_chain_response (&r, DNS_TYPE_A);
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 5, &seen, &summary) == 0);
  dns_response_restore (r.data, &query);
  CHECK_INT_EQ (dns_message_id (r.data), 0x0abc);
  CHECK (memcmp (r.data + QUESTION, "\003WwW\007ExAmPlE\003cOm", 17) == 0);
  /* Still the same answer, to the client's query now. */
  REQUIRE (walk (&r, &query, 0x0abc, &seen, &summary) == 0);
  CHECK_INT_EQ (seen.addresses, 3);
}

TEST (cname_targets_with_odd_octets_are_escaped)
{
  struct dns_query query;
  query_for (&query, "example.com", DNS_TYPE_A);
  struct packet r;
  start_response (&r, 1, "example.com", DNS_TYPE_A, 1);
  put_pointer (&r, QUESTION);
  put_record_fields (&r, DNS_TYPE_CNAME, 10, 5);
  put_bytes (&r, "\003a.\x01", 4);
  put8 (&r, 0);
  struct seen seen;
  struct dns_response_summary summary;
  REQUIRE (walk (&r, &query, 1, &seen, &summary) == 0);
  REQUIRE (seen.cnames == 1);
  CHECK_STR_EQ (seen.cname[0], "example.com>a\\046\\001/10");
}

/* xorshift: the same hostile packets on every run. */
static uint32_t
next_random (uint32_t *state)
{
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

TEST (mutated_and_random_packets_never_crash)
{
  struct dns_query query;
  query_for (&query, "www.example.com", DNS_TYPE_A);
  struct packet good;
  cname_chain_response (&good, DNS_TYPE_A);
  struct packet good_query;
  put_query (&good_query, 5, "www.example.com", DNS_TYPE_A);
  uint32_t state = 0x2545f491;
  unsigned accepted = 0;
  for (int round = 0; round < 50000; round++)
    {
      struct packet p = (round % 2) ? good : good_query;
      int flips = 1 + (int)(next_random (&state) % 4);
      for (int i = 0; i < flips; i++)
        p.data[next_random (&state) % p.length] = (uint8_t)next_random (&state);
      if (round % 7 == 0)
        p.length = next_random (&state) % (p.length + 1);
      if (round % 11 == 0)
        {
          p.length = next_random (&state) % 300;
          for (size_t i = 0; i < p.length; i++)
            p.data[i] = (uint8_t)next_random (&state);
        }
      struct dns_query parsed;
      if (dns_query_parse (p.data, p.length, &parsed, NULL) == 0)
        {
          accepted++;
          CHECK (strlen (parsed.name) < DNS_NAME_TEXT_SIZE);
          CHECK (parsed.wire_name_length >= 1 && parsed.wire_name_length <= DNS_NAME_WIRE_MAX);
        }
      struct seen seen = { 0 };
      struct dns_response_visitor visitor = { saw_address, saw_cname, &seen };
      struct dns_response_summary summary;
      dns_response_walk (p.data, p.length, 5, &query, &visitor, &summary, NULL);
    }
  printf ("  %u of 50000 mutated packets still parsed as queries\n", accepted);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (query_name_is_lowercase_text_and_the_spelling_is_kept),
  TEST_ENTRY (query_for_the_root_is_the_empty_name),
  TEST_ENTRY (query_with_edns_gives_its_size_and_do_bit),
  TEST_ENTRY (query_with_two_opt_records_or_a_named_one_is_refused),
  TEST_ENTRY (malformed_headers_are_refused),
  TEST_ENTRY (truncated_questions_are_refused),
  TEST_ENTRY (labels_over_63_and_names_over_255_are_refused),
  TEST_ENTRY (labels_that_would_read_as_another_name_are_refused),
  TEST_ENTRY (pointers_in_a_question_that_loop_or_reach_the_header_are_refused),
  TEST_ENTRY (upstream_query_keeps_the_question_and_nothing_else),
  TEST_ENTRY (refusal_answers_repeat_the_id_and_question),
  TEST_ENTRY (header_only_answers_never_answer_responses),
  TEST_ENTRY (plain_answer_reports_its_addresses),
  TEST_ENTRY (cname_chain_is_followed_through_compression_in_any_order),
  TEST_ENTRY (cname_loops_end_the_chain),
  TEST_ENTRY (overlong_cname_chains_are_cut),
  TEST_ENTRY (responses_to_another_query_are_refused),
  TEST_ENTRY (a_bad_record_anywhere_means_nothing_is_reported),
  TEST_ENTRY (truncated_or_negative_answers_report_nothing),
  TEST_ENTRY (a_response_too_big_is_cut_to_its_question),
  TEST_ENTRY (restored_response_has_the_clients_id_and_spelling),
  TEST_ENTRY (cname_targets_with_odd_octets_are_escaped),
  TEST_ENTRY (mutated_and_random_packets_never_crash),
};

HARNESS_MAIN (tests)
