#include "config.h"
#include "egress_allowlist.h"
#include "cleanup.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* RFC 1035: 255 octets on the wire, so 253 characters of text without the
 * trailing dot; 63 a label. */
#define NAME_MAX_LENGTH 253
#define LABEL_MAX_LENGTH 63

/* Ordered so that egress_blocked_range_find() names the most telling range:
 * the metadata addresses before the ranges that hold them (169.254.169.254
 * is link-local, fd00:ec2::254 unique local). */
static const struct egress_blocked_range blocked_ranges[] = {
  { AF_INET, { 169, 254, 169, 254 }, 32, EGRESS_BLOCK_METADATA, "metadata" },
  { AF_INET6, { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 }, 128, EGRESS_BLOCK_METADATA, "metadata" },
  { AF_INET, { 169, 254, 0, 0 }, 16, EGRESS_BLOCK_METADATA, "link-local" },
  { AF_INET6, { 0xfe, 0x80 }, 10, EGRESS_BLOCK_METADATA, "link-local" },
  { AF_INET, { 10, 0, 0, 0 }, 8, EGRESS_BLOCK_PRIVATE, "private" },
  { AF_INET, { 172, 16, 0, 0 }, 12, EGRESS_BLOCK_PRIVATE, "private" },
  { AF_INET, { 192, 168, 0, 0 }, 16, EGRESS_BLOCK_PRIVATE, "private" },
  { AF_INET, { 100, 64, 0, 0 }, 10, EGRESS_BLOCK_PRIVATE, "private" },
  { AF_INET6, { 0xfc }, 7, EGRESS_BLOCK_PRIVATE, "private" },
};

static size_t
address_length (int family)
{
  return family == AF_INET ? 4 : 16;
}

static bool
prefix_contains (const uint8_t *network, unsigned prefix_length, const uint8_t *address)
{
  unsigned whole = prefix_length / 8, rest = prefix_length % 8;
  if (memcmp (network, address, whole) != 0)
    return false;
  if (rest == 0)
    return true;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (network[whole] & mask) == (address[whole] & mask);
}

static void
clear_host_bits (uint8_t *address, size_t length, unsigned prefix_length)
{
  for (size_t i = 0; i < length; i++)
    {
      unsigned bit = (unsigned)i * 8;
      if (bit >= prefix_length)
        address[i] = 0;
      else if (prefix_length - bit < 8)
        address[i] &= (uint8_t)(0xff << (8 - (prefix_length - bit)));
    }
}

const char *
egress_protocol_name (enum egress_protocol protocol)
{
  return protocol == EGRESS_UDP ? "udp" : "tcp";
}

void
egress_address_format (int family, const void *address, unsigned prefix_length, char *out)
{
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop (family, address, text, sizeof text);
  if (prefix_length == address_length (family) * 8)
    snprintf (out, EGRESS_ADDRESS_TEXT_MAX, "%s", text);
  else
    snprintf (out, EGRESS_ADDRESS_TEXT_MAX, "%s/%u", text, prefix_length);
}

/* Digits only, no sign, within [min, max]. */
static bool
parse_number (const char *text, unsigned long min, unsigned long max, unsigned long *value)
{
  if (*text == '\0' || strlen (text) > 5)
    return false;
  for (const char *p = text; *p; p++)
    if (!isdigit ((unsigned char)*p))
      return false;
  *value = strtoul (text, NULL, 10);
  return *value >= min && *value <= max;
}

static bool
valid_label (const char *label, size_t length)
{
  if (length == 0 || length > LABEL_MAX_LENGTH || label[0] == '-' || label[length - 1] == '-')
    return false;
  for (size_t i = 0; i < length; i++)
    {
      unsigned char c = (unsigned char)label[i];
      /* Underscores appear in real names (_dmarc, service labels). */
      if (!isalnum (c) && c != '-' && c != '_')
        return false;
    }
  return true;
}

/* `name` has no trailing dot.  An all-digit last label is refused: it
 * would be a mistyped address ("1.2.3"), never a name. */
static bool
valid_name (const char *name)
{
  size_t length = strlen (name);
  if (length == 0 || length > NAME_MAX_LENGTH)
    return false;
  const char *label = name;
  bool last_all_digits = true;
  for (;;)
    {
      const char *dot = strchr (label, '.');
      size_t label_length = dot ? (size_t)(dot - label) : strlen (label);
      if (!valid_label (label, label_length))
        return false;
      last_all_digits = strspn (label, "0123456789") >= label_length;
      if (dot == NULL)
        break;
      label = dot + 1;
    }
  return !last_all_digits;
}

static int
parse_name (struct egress_rule *rule, const char *text, const char *origin, const char *entry,
            struct ward_error **err)
{
  bool wildcard = false;
  if (text[0] == '*')
    {
      if (text[1] != '.' || text[2] == '\0')
        return ward_fail (err, 0, "%s: \"%s\": a wildcard is \"*.\" followed by a domain", origin, entry);
      wildcard = true;
      text += 2;
    }
  cleanup_free char *name = strdup (text);
  if (name == NULL)
    return ward_fail (err, errno, "%s: \"%s\"", origin, entry);
  size_t length = strlen (name);
  if (length > 1 && name[length - 1] == '.')
    name[length - 1] = '\0';
  for (char *p = name; *p; p++)
    *p = (char)tolower ((unsigned char)*p);
  if (!valid_name (name))
    return ward_fail (err, 0, "%s: \"%s\": not a valid DNS name", origin, entry);
  rule->is_name = true;
  rule->wildcard = wildcard;
  rule->name = steal_pointer (&name);
  return 0;
}

/* `text` is an address with an optional "/prefix", the port already cut
 * off.  Returns 0, or 1 when it does not look like an address at all (so
 * it is tried as a name). */
static int
parse_address (struct egress_rule *rule, char *text, const char *origin, const char *entry,
               struct ward_error **err)
{
  char *slash = strchr (text, '/');
  if (slash)
    *slash = '\0';
  int family = strchr (text, ':') ? AF_INET6 : AF_INET;
  bool looks_numeric = text[0] != '\0' && strspn (text, "0123456789.") == strlen (text);
  if (family == AF_INET && !looks_numeric && slash == NULL)
    return 1;
  if (inet_pton (family, text, rule->address) != 1)
    return ward_fail (err, 0, "%s: \"%s\": not a valid address", origin, entry);
  unsigned long max = address_length (family) * 8, prefix_length = max;
  if (slash && !parse_number (slash + 1, 0, 1000, &prefix_length))
    return ward_fail (err, 0, "%s: \"%s\": not a valid prefix length", origin, entry);
  if (prefix_length > max)
    return ward_fail (err, 0, "%s: \"%s\": prefix length %lu is longer than %lu", origin, entry,
                      prefix_length, max);
  /* ::ffff:203.0.113.7 is sent as IPv4, so it is matched as IPv4. */
  static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
  if (family == AF_INET6 && prefix_length >= 96 && memcmp (rule->address, v4_mapped, sizeof v4_mapped) == 0)
    {
      memmove (rule->address, rule->address + 12, 4);
      memset (rule->address + 4, 0, 12);
      family = AF_INET;
      prefix_length -= 96;
    }
  /* 203.0.113.7/24 means the network, as iptables and nft read it. */
  clear_host_bits (rule->address, address_length (family), (unsigned)prefix_length);
  rule->family = family;
  rule->prefix_length = (unsigned)prefix_length;
  return 0;
}

/* Cut ":PORT" off `text` (in place) where the syntax has one: after "]"
 * for bracketed IPv6, after the only colon otherwise; a bare IPv6 address
 * has no port.  Brackets are removed. */
static int
split_port (char *text, char **host, uint16_t *port, const char *origin, const char *entry,
            struct ward_error **err)
{
  char *port_text = NULL;
  *host = text;
  if (text[0] == '[')
    {
      char *close = strchr (text, ']');
      if (close == NULL || memchr (text, ':', (size_t)(close - text)) == NULL)
        return ward_fail (err, 0, "%s: \"%s\": not a valid address", origin, entry);
      *close = '\0';
      *host = text + 1;
      if (close[1] == ':')
        port_text = close + 2;
      else if (close[1] != '\0')
        return ward_fail (err, 0, "%s: \"%s\": expected \":PORT\" after \"]\"", origin, entry);
    }
  else
    {
      char *colon = strchr (text, ':');
      if (colon && strchr (colon + 1, ':') == NULL)
        {
          *colon = '\0';
          port_text = colon + 1;
        }
    }
  *port = 0;
  if (port_text)
    {
      unsigned long value = 0;
      if (!parse_number (port_text, 1, 65535, &value))
        return ward_fail (err, 0, "%s: \"%s\": not a valid port (1-65535)", origin, entry);
      *port = (uint16_t)value;
    }
  return 0;
}

/* "tcp/" or "udp/" in front, any case.  A word before a slash that is
 * neither is an error here rather than a confusing one later. */
static int
split_protocol (char **text, enum egress_protocol *protocol, const char *origin, const char *entry,
                struct ward_error **err)
{
  *protocol = EGRESS_TCP;
  char *slash = strchr (*text, '/');
  if (slash == NULL || slash == *text)
    return 0;
  for (char *p = *text; p < slash; p++)
    if (!isalpha ((unsigned char)*p))
      return 0;
  size_t length = (size_t)(slash - *text);
  if (length == 3 && strncasecmp (*text, "tcp", 3) == 0)
    *protocol = EGRESS_TCP;
  else if (length == 3 && strncasecmp (*text, "udp", 3) == 0)
    *protocol = EGRESS_UDP;
  else
    return ward_fail (err, 0, "%s: \"%s\": unknown protocol \"%.*s\" (tcp or udp)", origin, entry,
                      (int)length, *text);
  *text = slash + 1;
  return 0;
}

static int
parse_entry (struct egress_rule *rule, const char *entry, const char *origin, struct ward_error **err)
{
  memset (rule, 0, sizeof *rule);
  cleanup_free char *copy = strdup (entry);
  if (copy == NULL)
    return ward_fail (err, errno, "%s: \"%s\"", origin, entry);
  if (*copy == '\0')
    return ward_fail (err, 0, "%s: empty entry", origin);
  char *text = copy, *host = NULL;
  if (split_protocol (&text, &rule->protocol, origin, entry, err) < 0)
    return -1;
  if (split_port (text, &host, &rule->port, origin, entry, err) < 0)
    return -1;
  if (*host == '\0')
    return ward_fail (err, 0, "%s: \"%s\": no name or address", origin, entry);
  int ret = parse_address (rule, host, origin, entry, err);
  if (ret <= 0)
    return ret;
  return parse_name (rule, host, origin, entry, err);
}

static char *
trimmed_copy (const char *text, size_t length)
{
  while (length > 0 && isspace ((unsigned char)*text))
    text++, length--;
  while (length > 0 && isspace ((unsigned char)text[length - 1]))
    length--;
  return strndup (text, length);
}

static int
append_trimmed (struct egress_allowlist *list, const char *text, size_t length, const char *origin,
                struct ward_error **err)
{
  cleanup_free char *entry = trimmed_copy (text, length);
  if (entry == NULL)
    return ward_fail (err, errno, "%s", origin);
  struct egress_rule rule;
  if (parse_entry (&rule, entry, origin, err) < 0)
    return -1;
  struct egress_rule *grown = realloc (list->rules, (list->count + 1) * sizeof *grown);
  if (grown == NULL)
    {
      free (rule.name);
      return ward_fail (err, errno, "%s", origin);
    }
  list->rules = grown;
  list->rules[list->count++] = rule;
  return 0;
}

int
egress_allowlist_add (struct egress_allowlist *list, const char *entry, const char *origin,
                      struct ward_error **err)
{
  return append_trimmed (list, entry, strlen (entry), origin, err);
}

static void
truncate_list (struct egress_allowlist *list, size_t count)
{
  while (list->count > count)
    free (list->rules[--list->count].name);
}

int
egress_allowlist_add_csv (struct egress_allowlist *list, const char *csv, const char *origin,
                          struct ward_error **err)
{
  size_t kept = list->count;
  const char *item = csv;
  for (;;)
    {
      const char *comma = strchr (item, ',');
      size_t length = comma ? (size_t)(comma - item) : strlen (item);
      size_t blank = 0;
      while (blank < length && isspace ((unsigned char)item[blank]))
        blank++;
      if (blank < length && append_trimmed (list, item, length, origin, err) < 0)
        {
          truncate_list (list, kept);
          return -1;
        }
      if (comma == NULL)
        return 0;
      item = comma + 1;
    }
}

void
egress_allowlist_clear (struct egress_allowlist *list)
{
  truncate_list (list, 0);
  free (list->rules);
  list->rules = NULL;
}

bool
egress_name_matches (const struct egress_rule *rule, const char *name)
{
  if (!rule->is_name || name == NULL)
    return false;
  size_t length = strlen (name);
  if (length > 0 && name[length - 1] == '.')
    length--;
  size_t suffix_length = strlen (rule->name);
  if (!rule->wildcard)
    return length == suffix_length && strncasecmp (name, rule->name, length) == 0;
  /* At least one label before ".suffix": a.example.com, not example.com
   * nor badexample.com. */
  if (length < suffix_length + 2)
    return false;
  const char *tail = name + length - suffix_length;
  return tail[-1] == '.' && tail[-2] != '.' && strncasecmp (tail, rule->name, suffix_length) == 0;
}

bool
egress_rule_contains (const struct egress_rule *rule, int family, const void *address)
{
  return !rule->is_name && rule->family == family
      && prefix_contains (rule->address, rule->prefix_length, address);
}

bool
egress_allowlist_admits_address (const struct egress_allowlist *list, int family, const void *address,
                                 enum egress_protocol protocol, uint16_t port)
{
  for (size_t i = 0; i < list->count; i++)
    {
      const struct egress_rule *rule = &list->rules[i];
      if (rule->protocol == protocol && (rule->port == 0 || rule->port == port)
          && egress_rule_contains (rule, family, address))
        return true;
    }
  return false;
}

static int
compare_ports (const void *a, const void *b)
{
  return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int
egress_allowlist_tcp_ports (const struct egress_allowlist *list, uint16_t **ports, size_t *count,
                            bool *every_port, struct ward_error **err)
{
  *ports = NULL;
  *count = 0;
  *every_port = false;
  cleanup_free uint16_t *found = NULL;
  size_t n = 0;
  for (size_t i = 0; i < list->count; i++)
    {
      const struct egress_rule *rule = &list->rules[i];
      if (rule->protocol != EGRESS_TCP)
        continue;
      if (rule->port == 0)
        *every_port = true;
      else
        {
          if (found == NULL && (found = calloc (list->count, sizeof *found)) == NULL)
            return ward_fail (err, errno, "egress allowlist: TCP ports");
          found[n++] = rule->port;
        }
    }
  if (n == 0)
    return 0;
  qsort (found, n, sizeof *found, compare_ports);
  size_t distinct = 1;
  for (size_t i = 1; i < n; i++)
    if (found[i] != found[distinct - 1])
      found[distinct++] = found[i];
  *count = distinct;
  *ports = steal_pointer (&found);
  return 0;
}

const struct egress_blocked_range *
egress_blocked_ranges (size_t *count)
{
  *count = WARD_ARRAY_SIZE (blocked_ranges);
  return blocked_ranges;
}

const struct egress_blocked_range *
egress_blocked_range_find (int family, const void *address, unsigned kinds)
{
  static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
  if (family == AF_INET6 && memcmp (address, v4_mapped, sizeof v4_mapped) == 0)
    return egress_blocked_range_find (AF_INET, (const uint8_t *)address + 12, kinds);
  for (size_t i = 0; i < WARD_ARRAY_SIZE (blocked_ranges); i++)
    {
      const struct egress_blocked_range *range = &blocked_ranges[i];
      if ((range->kind & kinds) && range->family == family
          && prefix_contains (range->address, range->prefix_length, address))
        return range;
    }
  return NULL;
}
