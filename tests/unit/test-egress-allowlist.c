/* The egress allowlist parser: every entry form, the messages for bad
 * ones, name matching, the blocked ranges and the TCP ports for Landlock. */
#include "config.h"
#include "harness.h"
#include "egress_allowlist.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>

#define ORIGIN "annotation run.ward.egress"

/* Parse one entry into a fresh list; NULL (and the message printed) when
 * it fails.  The list is static: one at a time. */
static const struct egress_rule *
parse (const char *entry)
{
  static struct egress_allowlist list;
  egress_allowlist_clear (&list);
  struct ward_error *err = NULL;
  if (egress_allowlist_add (&list, entry, ORIGIN, &err) < 0)
    {
      printf ("  %s\n", err->message);
      ward_error_free (&err);
      return NULL;
    }
  return &list.rules[0];
}

/* The message for a bad entry, "" when it parsed. */
static const char *
message_for (const char *entry)
{
  static char message[256];
  struct egress_allowlist list = { 0 };
  struct ward_error *err = NULL;
  message[0] = '\0';
  if (egress_allowlist_add (&list, entry, ORIGIN, &err) < 0)
    {
      snprintf (message, sizeof message, "%s", err->message);
      ward_error_free (&err);
    }
  egress_allowlist_clear (&list);
  return message;
}

static const char *
address_text (const struct egress_rule *rule)
{
  static char text[EGRESS_ADDRESS_TEXT_MAX];
  egress_address_format (rule->family, rule->address, rule->prefix_length, text);
  return text;
}

TEST (exact_name_with_and_without_port)
{
  const struct egress_rule *r = parse ("  API.Example.com.  ");
  REQUIRE (r);
  CHECK (r->is_name);
  CHECK (!r->wildcard);
  CHECK_STR_EQ (r->name, "api.example.com");
  CHECK_INT_EQ (r->port, 0);
  CHECK_INT_EQ (r->protocol, EGRESS_TCP);
  r = parse ("example.com:443");
  REQUIRE (r);
  CHECK_STR_EQ (r->name, "example.com");
  CHECK_INT_EQ (r->port, 443);
  r = parse ("udp/ntp.example.org:123");
  REQUIRE (r);
  CHECK_INT_EQ (r->protocol, EGRESS_UDP);
  CHECK_INT_EQ (r->port, 123);
  r = parse ("_dmarc.example.com");
  CHECK (r && r->is_name);
  r = parse ("redis");
  CHECK (r && r->is_name);
}

TEST (wildcard_keeps_the_suffix)
{
  const struct egress_rule *r = parse ("*.Example.COM:8443");
  REQUIRE (r);
  CHECK (r->is_name && r->wildcard);
  CHECK_STR_EQ (r->name, "example.com");
  CHECK_INT_EQ (r->port, 8443);
  r = parse ("TCP/*.example.com");
  CHECK (r && r->wildcard && r->protocol == EGRESS_TCP);
}

TEST (ipv4_addresses_and_networks)
{
  const struct egress_rule *r = parse ("203.0.113.7");
  REQUIRE (r);
  CHECK (!r->is_name);
  CHECK_INT_EQ (r->family, AF_INET);
  CHECK_INT_EQ (r->prefix_length, 32);
  CHECK_STR_EQ (address_text (r), "203.0.113.7");
  r = parse ("203.0.113.0/24");
  REQUIRE (r);
  CHECK_STR_EQ (address_text (r), "203.0.113.0/24");
  CHECK_INT_EQ (r->port, 0);
  r = parse ("203.0.113.7:8080");
  REQUIRE (r);
  CHECK_STR_EQ (address_text (r), "203.0.113.7");
  CHECK_INT_EQ (r->port, 8080);
  r = parse ("udp/198.51.100.0/24:53");
  REQUIRE (r);
  CHECK_INT_EQ (r->protocol, EGRESS_UDP);
  CHECK_STR_EQ (address_text (r), "198.51.100.0/24");
  CHECK_INT_EQ (r->port, 53);
  /* Host bits are cleared, as nft and iptables read such a network. */
  r = parse ("203.0.113.77/25");
  REQUIRE (r);
  CHECK_STR_EQ (address_text (r), "203.0.113.0/25");
  r = parse ("0.0.0.0/0");
  REQUIRE (r);
  CHECK_STR_EQ (address_text (r), "0.0.0.0/0");
}

TEST (ipv6_addresses_bare_and_bracketed)
{
  const struct egress_rule *r = parse ("2001:db8::1");
  REQUIRE (r);
  CHECK_INT_EQ (r->family, AF_INET6);
  CHECK_INT_EQ (r->prefix_length, 128);
  CHECK_INT_EQ (r->port, 0);
  CHECK_STR_EQ (address_text (r), "2001:db8::1");
  r = parse ("2001:db8::/32");
  REQUIRE (r);
  CHECK_STR_EQ (address_text (r), "2001:db8::/32");
  r = parse ("[2001:db8::1]:443");
  REQUIRE (r);
  CHECK_STR_EQ (address_text (r), "2001:db8::1");
  CHECK_INT_EQ (r->port, 443);
  r = parse ("udp/[2001:db8::/48]:53");
  REQUIRE (r);
  CHECK_STR_EQ (address_text (r), "2001:db8::/48");
  CHECK_INT_EQ (r->port, 53);
  CHECK_INT_EQ (r->protocol, EGRESS_UDP);
  r = parse ("[2001:db8::2]");
  CHECK (r && r->port == 0);
  /* Sent as IPv4, so kept as IPv4. */
  r = parse ("[::ffff:203.0.113.0/120]:443");
  REQUIRE (r);
  CHECK_INT_EQ (r->family, AF_INET);
  CHECK_STR_EQ (address_text (r), "203.0.113.0/24");
}

TEST (bad_entries_say_what_is_wrong)
{
  CHECK_STR_EQ (message_for ("300.1.1.1"), ORIGIN ": \"300.1.1.1\": not a valid address");
  CHECK_STR_EQ (message_for ("1.2.3"), ORIGIN ": \"1.2.3\": not a valid address");
  CHECK_STR_EQ (message_for ("203.0.113.0/33"),
                ORIGIN ": \"203.0.113.0/33\": prefix length 33 is longer than 32");
  CHECK_STR_EQ (message_for ("2001:db8::/129"),
                ORIGIN ": \"2001:db8::/129\": prefix length 129 is longer than 128");
  CHECK_STR_EQ (message_for ("203.0.113.0/x"), ORIGIN ": \"203.0.113.0/x\": not a valid prefix length");
  CHECK_STR_EQ (message_for ("example.com:0"), ORIGIN ": \"example.com:0\": not a valid port (1-65535)");
  CHECK_STR_EQ (message_for ("example.com:65536"),
                ORIGIN ": \"example.com:65536\": not a valid port (1-65535)");
  CHECK_STR_EQ (message_for ("example.com:-1"), ORIGIN ": \"example.com:-1\": not a valid port (1-65535)");
  CHECK_STR_EQ (message_for ("example.com:"), ORIGIN ": \"example.com:\": not a valid port (1-65535)");
  CHECK_STR_EQ (message_for ("*"), ORIGIN ": \"*\": a wildcard is \"*.\" followed by a domain");
  CHECK_STR_EQ (message_for ("*."), ORIGIN ": \"*.\": a wildcard is \"*.\" followed by a domain");
  CHECK_STR_EQ (message_for ("*example.com"),
                ORIGIN ": \"*example.com\": a wildcard is \"*.\" followed by a domain");
  CHECK_STR_EQ (message_for ("a.*.example.com"), ORIGIN ": \"a.*.example.com\": not a valid DNS name");
  CHECK_STR_EQ (message_for ("exa mple.com"), ORIGIN ": \"exa mple.com\": not a valid DNS name");
  CHECK_STR_EQ (message_for ("-bad.example.com"), ORIGIN ": \"-bad.example.com\": not a valid DNS name");
  CHECK_STR_EQ (message_for ("a..example.com"), ORIGIN ": \"a..example.com\": not a valid DNS name");
  CHECK_STR_EQ (message_for ("sctp/example.com"),
                ORIGIN ": \"sctp/example.com\": unknown protocol \"sctp\" (tcp or udp)");
  CHECK_STR_EQ (message_for ("example.com/24"), ORIGIN ": \"example.com/24\": not a valid address");
  CHECK_STR_EQ (message_for ("[example.com]:443"), ORIGIN ": \"[example.com]:443\": not a valid address");
  CHECK_STR_EQ (message_for ("[2001:db8::1]443"),
                ORIGIN ": \"[2001:db8::1]443\": expected \":PORT\" after \"]\"");
  CHECK_STR_EQ (message_for ("udp/"), ORIGIN ": \"udp/\": no name or address");
  CHECK_STR_EQ (message_for ("   "), ORIGIN ": empty entry");
  /* 63 characters make a label, 64 do not. */
  char long_label[80];
  memset (long_label, 'a', 64);
  strcpy (long_label + 64, ".com");
  CHECK (strstr (message_for (long_label), "not a valid DNS name") != NULL);
  CHECK_STR_EQ (message_for (long_label + 1), "");
}

TEST (csv_skips_empty_items_and_keeps_nothing_on_error)
{
  struct egress_allowlist list = { 0 };
  struct ward_error *err = NULL;
  CHECK_INT_EQ (
      egress_allowlist_add_csv (&list, " api.example.com, ,*.example.org:443,203.0.113.0/24,", ORIGIN, &err),
      0);
  CHECK_INT_EQ (list.count, 3);
  CHECK_INT_EQ (egress_allowlist_add_csv (&list, "ok.example.com, 300.1.1.1", ORIGIN, &err), -1);
  REQUIRE (err);
  CHECK_STR_EQ (err->message, ORIGIN ": \"300.1.1.1\": not a valid address");
  ward_error_free (&err);
  CHECK_INT_EQ (list.count, 3);
  CHECK_INT_EQ (egress_allowlist_add_csv (&list, "", ORIGIN, &err), 0);
  CHECK_INT_EQ (list.count, 3);
  egress_allowlist_clear (&list);
  CHECK_INT_EQ (list.count, 0);
}

TEST (names_match_case_insensitively_and_wildcards_only_subdomains)
{
  const struct egress_rule *r = parse ("api.example.com");
  REQUIRE (r);
  CHECK (egress_name_matches (r, "api.example.com"));
  CHECK (egress_name_matches (r, "API.Example.Com."));
  CHECK (!egress_name_matches (r, "x.api.example.com"));
  CHECK (!egress_name_matches (r, "example.com"));
  r = parse ("*.example.com");
  REQUIRE (r);
  CHECK (egress_name_matches (r, "a.example.com"));
  CHECK (egress_name_matches (r, "a.b.EXAMPLE.com."));
  CHECK (!egress_name_matches (r, "example.com"));
  CHECK (!egress_name_matches (r, "example.com."));
  CHECK (!egress_name_matches (r, "badexample.com"));
  CHECK (!egress_name_matches (r, ".example.com"));
  CHECK (!egress_name_matches (r, "a.example.com.evil"));
  r = parse ("203.0.113.7");
  REQUIRE (r);
  CHECK (!egress_name_matches (r, "203.0.113.7"));
}

static bool
admits (const struct egress_allowlist *list, const char *address, enum egress_protocol protocol,
        uint16_t port)
{
  uint8_t bytes[16];
  int family = strchr (address, ':') ? AF_INET6 : AF_INET;
  inet_pton (family, address, bytes);
  return egress_allowlist_admits_address (list, family, bytes, protocol, port);
}

TEST (address_entries_admit_what_they_name)
{
  struct egress_allowlist list = { 0 };
  struct ward_error *err = NULL;
  CHECK_INT_EQ (egress_allowlist_add_csv (&list, "10.0.0.0/8:443,udp/192.168.1.1,fd00::/8,10.9.9.9.example",
                                          ORIGIN, &err),
                0);
  CHECK (admits (&list, "10.1.2.3", EGRESS_TCP, 443));
  CHECK (!admits (&list, "10.1.2.3", EGRESS_TCP, 80));
  CHECK (!admits (&list, "10.1.2.3", EGRESS_TCP, 0));
  CHECK (!admits (&list, "10.1.2.3", EGRESS_UDP, 443));
  CHECK (admits (&list, "192.168.1.1", EGRESS_UDP, 53));
  CHECK (admits (&list, "192.168.1.1", EGRESS_UDP, 0));
  CHECK (!admits (&list, "192.168.1.2", EGRESS_UDP, 53));
  CHECK (admits (&list, "fd12::1", EGRESS_TCP, 22));
  CHECK (!admits (&list, "fe80::1", EGRESS_TCP, 22));
  egress_allowlist_clear (&list);
}

TEST (tcp_ports_for_landlock)
{
  struct egress_allowlist list = { 0 };
  struct ward_error *err = NULL;
  uint16_t *ports = NULL;
  size_t count = 99;
  bool every = true;
  CHECK_INT_EQ (egress_allowlist_tcp_ports (&list, &ports, &count, &every, &err), 0);
  CHECK (ports == NULL && count == 0 && !every);
  CHECK_INT_EQ (egress_allowlist_add_csv (&list,
                                          "a.example.com:443,udp/b.example.com:53,203.0.113.1:80,"
                                          "[2001:db8::1]:443,tcp/c.example.com:8080",
                                          ORIGIN, &err),
                0);
  CHECK_INT_EQ (egress_allowlist_tcp_ports (&list, &ports, &count, &every, &err), 0);
  CHECK (!every);
  CHECK_INT_EQ (count, 3);
  REQUIRE (ports);
  CHECK_INT_EQ (ports[0], 80);
  CHECK_INT_EQ (ports[1], 443);
  CHECK_INT_EQ (ports[2], 8080);
  free (ports);
  CHECK_INT_EQ (egress_allowlist_add (&list, "udp/203.0.113.9", ORIGIN, &err), 0);
  CHECK_INT_EQ (egress_allowlist_tcp_ports (&list, &ports, &count, &every, &err), 0);
  CHECK (!every);
  free (ports);
  CHECK_INT_EQ (egress_allowlist_add (&list, "d.example.com", ORIGIN, &err), 0);
  CHECK_INT_EQ (egress_allowlist_tcp_ports (&list, &ports, &count, &every, &err), 0);
  CHECK (every);
  CHECK_INT_EQ (count, 3);
  free (ports);
  egress_allowlist_clear (&list);
}

static const char *
blocked_label (const char *address, unsigned kinds)
{
  uint8_t bytes[16];
  int family = strchr (address, ':') ? AF_INET6 : AF_INET;
  if (inet_pton (family, address, bytes) != 1)
    return "unparsable";
  const struct egress_blocked_range *range = egress_blocked_range_find (family, bytes, kinds);
  return range ? range->label : NULL;
}

TEST (blocked_ranges)
{
  unsigned all = EGRESS_BLOCK_METADATA | EGRESS_BLOCK_PRIVATE;
  CHECK_STR_EQ (blocked_label ("169.254.169.254", all), "metadata");
  CHECK_STR_EQ (blocked_label ("fd00:ec2::254", all), "metadata");
  CHECK_STR_EQ (blocked_label ("169.254.1.1", all), "link-local");
  CHECK_STR_EQ (blocked_label ("fe80::1", all), "link-local");
  CHECK_STR_EQ (blocked_label ("febf::1", all), "link-local");
  CHECK_STR_EQ (blocked_label ("fec0::1", all), NULL);
  CHECK_STR_EQ (blocked_label ("10.200.0.1", all), "private");
  CHECK_STR_EQ (blocked_label ("172.16.0.1", all), "private");
  CHECK_STR_EQ (blocked_label ("172.31.255.255", all), "private");
  CHECK_STR_EQ (blocked_label ("172.32.0.1", all), NULL);
  CHECK_STR_EQ (blocked_label ("192.168.7.7", all), "private");
  CHECK_STR_EQ (blocked_label ("100.64.0.1", all), "private");
  CHECK_STR_EQ (blocked_label ("100.127.255.255", all), "private");
  CHECK_STR_EQ (blocked_label ("100.128.0.1", all), NULL);
  CHECK_STR_EQ (blocked_label ("fc00::1", all), "private");
  CHECK_STR_EQ (blocked_label ("fdff::1", all), "private");
  CHECK_STR_EQ (blocked_label ("203.0.113.7", all), NULL);
  CHECK_STR_EQ (blocked_label ("2001:db8::1", all), NULL);
  /* Where the kernel sends it: the IPv4 address it carries. */
  CHECK_STR_EQ (blocked_label ("::ffff:169.254.169.254", all), "metadata");
  CHECK_STR_EQ (blocked_label ("::ffff:203.0.113.7", all), NULL);
  /* Only the kinds asked for. */
  CHECK_STR_EQ (blocked_label ("10.0.0.1", EGRESS_BLOCK_METADATA), NULL);
  CHECK_STR_EQ (blocked_label ("169.254.169.254", EGRESS_BLOCK_PRIVATE), NULL);
  CHECK_STR_EQ (blocked_label ("fd00:ec2::254", EGRESS_BLOCK_PRIVATE), "private");
}

static const struct harness_test tests[] = {
  TEST_ENTRY (exact_name_with_and_without_port),
  TEST_ENTRY (wildcard_keeps_the_suffix),
  TEST_ENTRY (ipv4_addresses_and_networks),
  TEST_ENTRY (ipv6_addresses_bare_and_bracketed),
  TEST_ENTRY (bad_entries_say_what_is_wrong),
  TEST_ENTRY (csv_skips_empty_items_and_keeps_nothing_on_error),
  TEST_ENTRY (names_match_case_insensitively_and_wildcards_only_subdomains),
  TEST_ENTRY (address_entries_admit_what_they_name),
  TEST_ENTRY (tcp_ports_for_landlock),
  TEST_ENTRY (blocked_ranges),
};

HARNESS_MAIN (tests)
