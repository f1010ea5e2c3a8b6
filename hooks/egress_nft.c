#include "config.h"
#include "egress_nft.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include "nft_library.h"
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A DNS element is refreshed only when the new answer extends it by more
 * than this: a resolver's cached answers count down, and re-adding the
 * same deadline on every query would cost a netlink transaction each. */
#define REFRESH_SLACK_SECONDS 5
/* Metered addresses remembered, so that an answer repeated costs no
 * netlink transaction; past this many, each is added again (harmless). */
#define METERED_REMEMBERED_MAX 4096

struct resolved_element
{
  int family;
  uint8_t address[16];
  enum egress_protocol protocol;
  uint16_t port;
  uint64_t expires; /* CLOCK_MONOTONIC seconds */
};

struct metered_element
{
  size_t index;
  int family;
  uint8_t address[16];
};

struct egress_nft
{
  const struct nft_library *lib;
  struct nft_ctx *ctx;
  bool installed;
  bool has_names;
  struct egress_nft_options options;
  struct egress_allowlist addresses; /* the address entries installed */
  struct resolved_element *resolved;
  size_t resolved_count;
  struct metered_element *metered;
  size_t metered_count;
};

void
egress_nft_options_init (struct egress_nft_options *options)
{
  *options = (struct egress_nft_options){
    .enabled = true,
    .proxy_port = 0,
    .block_private = true,
    .block_metadata = true,
    .nflog_group = EGRESS_NFT_NFLOG_GROUP,
  };
}

static const char *
family_tag (int family)
{
  return family == AF_INET ? "4" : "6";
}

static const char *
address_type (int family)
{
  return family == AF_INET ? "ipv4_addr" : "ipv6_addr";
}

static const char *
header_match (int family)
{
  return family == AF_INET ? "ip" : "ip6";
}

static unsigned
block_kinds (const struct egress_nft_options *options)
{
  return (options->block_metadata ? EGRESS_BLOCK_METADATA : 0)
      | (options->block_private ? EGRESS_BLOCK_PRIVATE : 0);
}

/* The static sets are interval sets over concatenations (pipapo in the
 * kernel), which refuses an element that starts inside one added before
 * it ("File exists": 203.0.113.0/24 then 203.0.113.7 fails, the other
 * order passes), and nft cannot auto-merge concatenations.  Two entries
 * overlap only when their networks nest and protocol and port are the
 * same; the inner one adds nothing, so it is left out. */
static bool
address_rule_redundant (const struct egress_allowlist *list, size_t index)
{
  const struct egress_rule *rule = &list->rules[index];
  for (size_t j = 0; j < list->count; j++)
    {
      const struct egress_rule *other = &list->rules[j];
      if (j == index || other->is_name || other->protocol != rule->protocol || other->port != rule->port
          || other->prefix_length > rule->prefix_length
          || !egress_rule_contains (other, rule->family, rule->address))
        continue;
      /* Of two equal entries the first stays. */
      if (other->prefix_length < rule->prefix_length || j < index)
        return true;
    }
  return false;
}

static bool
has_address_rules (const struct egress_allowlist *list, int family, bool with_port)
{
  for (size_t i = 0; i < list->count; i++)
    if (!list->rules[i].is_name && list->rules[i].family == family && (list->rules[i].port != 0) == with_port)
      return true;
  return false;
}

static bool
has_name_rules (const struct egress_allowlist *list)
{
  for (size_t i = 0; i < list->count; i++)
    if (list->rules[i].is_name)
      return true;
  return false;
}

static void
render_allow_set (FILE *f, const struct egress_allowlist *list, int family, bool with_port)
{
  fprintf (f, "\tset allow%s_%s {\n\t\ttype %s . inet_proto%s\n\t\tflags interval\n\t\telements = { ",
           family_tag (family), with_port ? "port" : "any", address_type (family),
           with_port ? " . inet_service" : "");
  const char *separator = "";
  for (size_t i = 0; i < list->count; i++)
    {
      const struct egress_rule *rule = &list->rules[i];
      if (rule->is_name || rule->family != family || (rule->port != 0) != with_port
          || address_rule_redundant (list, i))
        continue;
      char address[EGRESS_ADDRESS_TEXT_MAX];
      egress_address_format (family, rule->address, rule->prefix_length, address);
      fprintf (f, "%s%s . %s", separator, address, egress_protocol_name (rule->protocol));
      if (with_port)
        fprintf (f, " . %u", rule->port);
      separator = ", ";
    }
  fputs (" }\n\t}\n", f);
}

/* A range inside another enabled one is left out: a plain interval set
 * refuses overlapping elements too. */
static bool
blocked_range_redundant (const struct egress_blocked_range *ranges, size_t count, size_t index,
                         unsigned kinds)
{
  const struct egress_blocked_range *range = &ranges[index];
  for (size_t j = 0; j < count; j++)
    {
      const struct egress_blocked_range *other = &ranges[j];
      struct egress_rule as_rule = { .family = other->family, .prefix_length = other->prefix_length };
      memcpy (as_rule.address, other->address, sizeof as_rule.address);
      if (j != index && (other->kind & kinds) && other->prefix_length < range->prefix_length
          && egress_rule_contains (&as_rule, range->family, range->address))
        return true;
    }
  return false;
}

static bool
render_blocked_set (FILE *f, int family, unsigned kinds)
{
  size_t count = 0;
  const struct egress_blocked_range *ranges = egress_blocked_ranges (&count);
  const char *separator = "";
  for (size_t i = 0; i < count; i++)
    {
      if (ranges[i].family != family || !(ranges[i].kind & kinds)
          || blocked_range_redundant (ranges, count, i, kinds))
        continue;
      if (*separator == '\0')
        fprintf (f, "\tset blocked%s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { ",
                 family_tag (family), address_type (family));
      char address[EGRESS_ADDRESS_TEXT_MAX];
      egress_address_format (family, ranges[i].address, ranges[i].prefix_length, address);
      fprintf (f, "%s%s", separator, address);
      separator = ", ";
    }
  if (*separator == '\0')
    return false;
  fputs (" }\n\t}\n", f);
  return true;
}

/* Addresses from DNS are exact: plain hash sets, which take per-element
 * timeouts on every kernel with nftables, and where the same address
 * coming from two names is the same element, not an overlap. */
static void
render_dns_sets (FILE *f)
{
  static const int families[] = { AF_INET, AF_INET6 };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (families); i++)
    {
      int family = families[i];
      fprintf (f, "\tset dns%s_port {\n\t\ttype %s . inet_proto . inet_service\n\t\tflags timeout\n\t}\n",
               family_tag (family), address_type (family));
      fprintf (f, "\tset dns%s_any {\n\t\ttype %s . inet_proto\n\t\tflags timeout\n\t}\n",
               family_tag (family), address_type (family));
    }
}

/* `th dport` reads the transport header's destination port whatever the
 * protocol; the sets' elements only name tcp and udp, so an ICMP packet's
 * bytes there never match. */
static void
render_set_match (FILE *f, int family, const char *set, bool with_port, const char *then)
{
  fprintf (f, "\t\t%s daddr . meta l4proto%s @%s %s\n", header_match (family), with_port ? " . th dport" : "",
           set, then);
}

static void
render_output_chain (FILE *f, const struct egress_allowlist *list, const struct egress_nft_options *options,
                     bool blocked4, bool blocked6, bool names)
{
  static const int families[] = { AF_INET, AF_INET6 };
  fputs ("\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n", f);
  fputs ("\t\tct state established,related accept\n", f);
  fputs ("\t\toif \"lo\" accept\n", f);
  /* Without neighbour discovery no IPv6 packet leaves, allowed or not;
   * and the multicast listener reports it depends on where a bridge snoops
   * (they carry group addresses only, and are sent on every link up). */
  fputs (
      "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n"
      "\t\tip6 daddr ff02::/16 icmpv6 type { mld-listener-report, mld-listener-done, mld2-listener-report } "
      "accept\n",
      f);
  /* A redirected query still has the output interface its original
   * destination was routed to (the hook's interfaces are fixed before the
   * nat chain rewrites the address), so "oif lo" does not see it. */
  if (options->proxy_port != 0)
    fprintf (f,
             "\t\tct status dnat ip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport %u accept\n"
             "\t\tct status dnat ip6 daddr ::1 meta l4proto { tcp, udp } th dport %u accept\n",
             options->proxy_port, options->proxy_port);
  /* Before the allowlist: an allowed destination is what a looping
   * agent hammers. */
  if (options->connect_rate != 0)
    fprintf (f,
             "\t\tmeta l4proto { tcp, udp } ct state new limit rate over %llu/minute burst %llu packets "
             "log prefix \"%s \" group %u goto reject_packet\n",
             (unsigned long long)options->connect_rate, (unsigned long long)options->connect_rate,
             EGRESS_NFT_PREFIX_RATE, options->nflog_group);
  if (options->enabled)
    {
      char refuse[128];
      for (size_t i = 0; i < WARD_ARRAY_SIZE (families); i++)
        for (int with_port = 1; with_port >= 0; with_port--)
          if (has_address_rules (list, families[i], with_port))
            {
              char set[32];
              snprintf (set, sizeof set, "allow%s_%s", family_tag (families[i]), with_port ? "port" : "any");
              render_set_match (f, families[i], set, with_port, "accept");
            }
      snprintf (refuse, sizeof refuse, "log prefix \"%s \" group %u goto reject_packet",
                EGRESS_NFT_PREFIX_BLOCKED, options->nflog_group);
      if (blocked4)
        fprintf (f, "\t\tip daddr @blocked4 %s\n", refuse);
      if (blocked6)
        fprintf (f, "\t\tip6 daddr @blocked6 %s\n", refuse);
      for (size_t i = 0; names && i < WARD_ARRAY_SIZE (families); i++)
        for (int with_port = 1; with_port >= 0; with_port--)
          {
            char set[32];
            snprintf (set, sizeof set, "dns%s_%s", family_tag (families[i]), with_port ? "port" : "any");
            render_set_match (f, families[i], set, with_port, "accept");
          }
    }
  fprintf (f, "\t\tlog prefix \"%s \" group %u goto reject_packet\n\t}\n", EGRESS_NFT_PREFIX_REFUSED,
           options->nflog_group);
}

/* At priority 100, after the filter chain: what it rejected never counts.
 * A DNS query the nat chain redirected to the proxy goes to loopback.  A
 * metered connection is counted where every connection is, so that the
 * two counts agree. */
static void
render_accounting (FILE *f, size_t metered)
{
  fputs ("\tcounter bytes_out {\n\t}\n\tcounter bytes_in {\n\t}\n\tcounter connections {\n\t}\n", f);
  for (size_t i = 0; i < metered; i++)
    fprintf (f,
             "\tcounter metered_%zu {\n\t}\n\tset metered4_%zu {\n\t\ttype ipv4_addr\n\t}\n"
             "\tset metered6_%zu {\n\t\ttype ipv6_addr\n\t}\n",
             i, i, i);
  fputs ("\tchain account_out {\n\t\ttype filter hook postrouting priority 100; policy accept;\n"
         "\t\toif \"lo\" return\n\t\tip daddr 127.0.0.0/8 return\n\t\tip6 daddr ::1 return\n"
         "\t\tcounter name \"bytes_out\"\n"
         "\t\tmeta l4proto { tcp, udp } ct state new counter name \"connections\"\n",
         f);
  for (size_t i = 0; i < metered; i++)
    fprintf (
        f,
        "\t\tip daddr @metered4_%zu meta l4proto { tcp, udp } ct state new counter name \"metered_%zu\"\n"
        "\t\tip6 daddr @metered6_%zu meta l4proto { tcp, udp } ct state new counter name "
        "\"metered_%zu\"\n",
        i, i, i, i);
  fputs ("\t}\n\tchain account_in {\n\t\ttype filter hook input priority 100; policy accept;\n"
         "\t\tiif \"lo\" return\n\t\tcounter name \"bytes_in\"\n\t}\n",
         f);
}

/* How the script begins: replacing the table whether or not it exists
 * (declaring it first makes the delete succeed when there is none), or
 * creating it, which fails ("File exists") when it is there already. */
enum table_start
{
  TABLE_REPLACE,
  TABLE_CREATE,
};

static int
render_ruleset (const struct egress_allowlist *list, const struct egress_nft_options *options,
                enum table_start start, char **script, struct ward_error **err)
{
  static const int families[] = { AF_INET, AF_INET6 };
  cleanup_free char *text = NULL;
  size_t length = 0;
  FILE *f = open_memstream (&text, &length);
  if (f == NULL)
    return ward_fail (err, errno, "render the egress ruleset");
  if (start == TABLE_REPLACE)
    fprintf (f, "table inet %s {}\ndelete table inet %s\n", EGRESS_NFT_TABLE, EGRESS_NFT_TABLE);
  else
    fprintf (f, "create table inet %s\n", EGRESS_NFT_TABLE);
  fprintf (f, "table inet %s {\n", EGRESS_NFT_TABLE);
  bool blocked4 = false, blocked6 = false, names = false;
  if (options->enabled)
    {
      for (size_t i = 0; i < WARD_ARRAY_SIZE (families); i++)
        for (int with_port = 1; with_port >= 0; with_port--)
          if (has_address_rules (list, families[i], with_port))
            render_allow_set (f, list, families[i], with_port);
      blocked4 = render_blocked_set (f, AF_INET, block_kinds (options));
      blocked6 = render_blocked_set (f, AF_INET6, block_kinds (options));
      names = has_name_rules (list);
      if (names)
        render_dns_sets (f);
    }
  fputs ("\tchain reject_packet {\n\t\tmeta l4proto tcp reject with tcp reset\n"
         "\t\treject with icmpx admin-prohibited\n\t}\n",
         f);
  render_output_chain (f, list, options, blocked4, blocked6, names);
  /* Before the filter chain (priority -100 < 0), so the filter sees the
   * query already addressed to the proxy. */
  if (options->proxy_port != 0)
    fprintf (f,
             "\tchain dns_redirect {\n\t\ttype nat hook output priority -100; policy accept;\n"
             "\t\tmeta l4proto { tcp, udp } th dport 53 redirect to :%u\n\t}\n",
             options->proxy_port);
  if (options->metered_count > EGRESS_NFT_METERED_MAX)
    {
      fclose (f);
      return ward_fail (err, EINVAL, "render the egress ruleset: more than %d metered domains",
                        EGRESS_NFT_METERED_MAX);
    }
  render_accounting (f, options->metered_count);
  fputs ("}\n", f);
  if (fclose (f) != 0)
    return ward_fail (err, errno, "render the egress ruleset");
  *script = steal_pointer (&text);
  return 0;
}

int
egress_nft_render (const struct egress_allowlist *list, const struct egress_nft_options *options,
                   char **script, struct ward_error **err)
{
  return render_ruleset (list, options, TABLE_REPLACE, script, err);
}

int
egress_nft_render_resolved (const struct egress_rule *rule, int family, const void *address,
                            uint32_t ttl_seconds, char **script, struct ward_error **err)
{
  if (!rule->is_name || (family != AF_INET && family != AF_INET6))
    return ward_fail (err, EINVAL, "egress: a resolved address needs a name rule and an IP address");
  char text[EGRESS_ADDRESS_TEXT_MAX], key[128];
  egress_address_format (family, address, family == AF_INET ? 32 : 128, text);
  if (rule->port != 0)
    snprintf (key, sizeof key, "%s . %s . %u", text, egress_protocol_name (rule->protocol), rule->port);
  else
    snprintf (key, sizeof key, "%s . %s", text, egress_protocol_name (rule->protocol));
  const char *set = rule->port != 0 ? "port" : "any";
  /* "add" of an element already there keeps its old timeout on older
   * kernels (Debian 12's 6.1 among them); deleting and adding it again in
   * the same transaction sets the new one everywhere, and the first add
   * gives the delete something to find. */
  if (asprintf (script,
                "add element inet %s dns%s_%s { %s timeout %us }\n"
                "delete element inet %s dns%s_%s { %s }\n"
                "add element inet %s dns%s_%s { %s timeout %us }\n",
                EGRESS_NFT_TABLE, family_tag (family), set, key, ttl_seconds, EGRESS_NFT_TABLE,
                family_tag (family), set, key, EGRESS_NFT_TABLE, family_tag (family), set, key, ttl_seconds)
      < 0)
    return ward_fail (err, errno, "render a resolved address");
  return 0;
}

/* libnftables reports "FILE:LINE:COLUMNS: Error: WHAT", then the failing
 * line.  One line of each makes a message that fits a log line:
 * "line 12: Could not process rule: Invalid argument: ip daddr ...". */
static int
fail_with_nft_error (struct egress_nft *nft, struct ward_error **err, const char *what)
{
  const char *buffer = nft->lib->ctx_get_error_buffer (nft->ctx);
  size_t first = strcspn (buffer, "\n");
  const char *message = strstr (buffer, "Error: ");
  if (message == NULL || message > buffer + first)
    return ward_fail (err, 0, "%s: nftables failed%s%.*s", what, first ? ": " : "", (int)first, buffer);
  unsigned line = 0;
  if (sscanf (buffer, "%*[^:]:%u:", &line) != 1)
    line = 0;
  message += strlen ("Error: ");
  const char *context = buffer[first] == '\n' ? buffer + first + 1 : "";
  context += strspn (context, " \t");
  int message_length = (int)(buffer + first - message), context_length = (int)strcspn (context, "\n");
  if (line == 0 || context_length == 0)
    return ward_fail (err, 0, "%s: %.*s", what, message_length, message);
  return ward_fail (err, 0, "%s: line %u: %.*s: %.*s", what, line, message_length, message, context_length,
                    context);
}

/* Through a file rather than nft_run_cmd_from_buffer(): for a buffer,
 * libnftables 1.0.6 reports neither the line number nor the right line
 * (it shows the first one), and an error in a long ruleset would be
 * impossible to place.  A memfd is a file without a place on disk. */
static int
run_script (struct egress_nft *nft, const char *script, const char *what, struct ward_error **err)
{
  cleanup_close int fd = memfd_create ("ward-egress.nft", MFD_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "%s: memfd_create", what);
  size_t length = strlen (script);
  for (size_t done = 0; done < length;)
    {
      ssize_t n = write (fd, script + done, length - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ward_fail (err, errno, "%s: write the script", what);
      done += (size_t)n;
    }
  char path[64];
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  if (nft->lib->run_cmd_from_filename (nft->ctx, path) != 0)
    return fail_with_nft_error (nft, err, what);
  return 0;
}

/* The short scripts of resolved addresses, on the DNS path, go as a
 * buffer: the file costs a fifth of their time, and they are three lines
 * about the same element. */
static int
run_buffer (struct egress_nft *nft, const char *script, const char *what, struct ward_error **err)
{
  return nft->lib->run_cmd_from_buffer (nft->ctx, script) == 0 ? 0 : fail_with_nft_error (nft, err, what);
}

int
egress_nft_run (struct egress_nft *nft, const char *script, char **output, struct ward_error **err)
{
  if (output)
    *output = NULL;
  if (run_script (nft, script, "nftables", err) < 0)
    return -1;
  const char *printed = nft->lib->ctx_get_output_buffer (nft->ctx);
  if (output && (*output = strdup (printed)) == NULL)
    return ward_fail (err, errno, "nftables output");
  return 0;
}

/* "counter NAME {" then "packets P bytes B", for each counter. */
int
egress_nft_parse_counters (const char *text, struct egress_nft_counters *out, struct ward_error **err)
{
  static const struct
  {
    const char *name;
    size_t offset;
    bool packets; /* a connection is its first packet */
  } wanted[] = {
    { "bytes_out", offsetof (struct egress_nft_counters, bytes_out), false },
    { "bytes_in", offsetof (struct egress_nft_counters, bytes_in), false },
    { "connections", offsetof (struct egress_nft_counters, connections), true },
  };
  *out = (struct egress_nft_counters){ 0 };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (wanted); i++)
    {
      char header[64];
      snprintf (header, sizeof header, "counter %s {", wanted[i].name);
      const char *at = strstr (text, header);
      unsigned long long packets = 0, bytes = 0;
      if (at == NULL || (at = strstr (at, "packets ")) == NULL
          || sscanf (at, "packets %llu bytes %llu", &packets, &bytes) != 2)
        return ward_fail (err, 0, "nftables: counter %s: not found", wanted[i].name);
      *(uint64_t *)((char *)out + wanted[i].offset) = wanted[i].packets ? packets : bytes;
    }
  for (size_t i = 0; i < EGRESS_NFT_METERED_MAX; i++)
    {
      char header[64];
      snprintf (header, sizeof header, "counter metered_%zu {", i);
      const char *at = strstr (text, header);
      unsigned long long packets = 0, bytes = 0;
      if (at && (at = strstr (at, "packets "))
          && sscanf (at, "packets %llu bytes %llu", &packets, &bytes) == 2)
        out->metered[i] = packets;
    }
  return 0;
}

int
egress_nft_read_counters (struct egress_nft *nft, struct egress_nft_counters *out, struct ward_error **err)
{
  if (run_buffer (nft, "list counters table inet " EGRESS_NFT_TABLE, "nftables: read the counters", err) < 0)
    return -1;
  return egress_nft_parse_counters (nft->lib->ctx_get_output_buffer (nft->ctx), out, err);
}

/* libmnl opens the context's socket without SOCK_CLOEXEC and libnftables
 * gives no access to it.  It takes the lowest free descriptor, which the
 * probe just had; set close-on-exec there if that is indeed a netfilter
 * netlink socket, so it never leaks into a program started later. */
static void
set_cloexec_on_context_socket (int fd)
{
  int domain = 0, protocol = 0;
  socklen_t length = sizeof domain;
  if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) < 0 || domain != AF_NETLINK)
    return;
  length = sizeof protocol;
  if (getsockopt (fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) < 0 || protocol != NETLINK_NETFILTER)
    return;
  int flags = fcntl (fd, F_GETFD);
  if (flags >= 0)
    fcntl (fd, F_SETFD, flags | FD_CLOEXEC);
}

int
egress_nft_open (struct egress_nft **out, struct ward_error **err)
{
  /* nft_ctx_new() calls exit() when it cannot open its netlink socket:
   * find out first, and fail as a library should. */
  int probe = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (probe < 0)
    return ward_fail (err, errno, "nftables: open a netfilter netlink socket");
  close (probe);
  const struct nft_library *lib = NULL;
  if (nft_library_get (&lib, err) < 0)
    return ward_error_prefix (err, "nftables");
  struct egress_nft *nft = calloc (1, sizeof *nft);
  if (nft == NULL)
    return ward_fail (err, errno, "nftables");
  nft->lib = lib;
  nft->ctx = nft->lib->ctx_new (NFT_CTX_DEFAULT);
  if (nft->ctx == NULL)
    {
      free (nft);
      return ward_fail (err, ENOMEM, "nftables: create a context");
    }
  set_cloexec_on_context_socket (probe);
  /* Buffered, so that messages end up in ward_error, not on our stderr. */
  if (nft->lib->ctx_buffer_error (nft->ctx) != 0 || nft->lib->ctx_buffer_output (nft->ctx) != 0)
    {
      egress_nft_close (nft);
      return ward_fail (err, ENOMEM, "nftables: buffer the context's output");
    }
  *out = nft;
  return 0;
}

int
egress_nft_open_in_netns (int netns_fd, struct egress_nft **nft, struct ward_error **err)
{
  cleanup_close int home = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0)
    return ward_fail (err, errno, "open /proc/thread-self/ns/net");
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return ward_fail (err, errno, "nftables: enter the container's network namespace");
  int ret = egress_nft_open (nft, err);
  if (setns (home, CLONE_NEWNET) < 0)
    {
      /* This thread would go on in the container's namespace, where every
       * socket it opens would be the container's. */
      if (ret == 0)
        egress_nft_close (*nft);
      ward_error_ignore (err);
      return ward_fail (err, errno, "nftables: return to the original network namespace");
    }
  return ret;
}

void
egress_nft_close (struct egress_nft *nft)
{
  if (nft == NULL)
    return;
  nft->lib->ctx_free (nft->ctx);
  egress_allowlist_clear (&nft->addresses);
  free (nft->resolved);
  free (nft->metered);
  free (nft);
}

static int
keep_address_rules (struct egress_nft *nft, const struct egress_allowlist *list, struct ward_error **err)
{
  egress_allowlist_clear (&nft->addresses);
  struct egress_rule *rules = calloc (list->count ? list->count : 1, sizeof *rules);
  if (rules == NULL)
    return ward_fail (err, errno, "egress firewall");
  size_t count = 0;
  for (size_t i = 0; i < list->count; i++)
    if (!list->rules[i].is_name)
      rules[count++] = list->rules[i];
  nft->addresses.rules = rules;
  nft->addresses.count = count;
  return 0;
}

int
egress_nft_install (struct egress_nft *nft, const struct egress_allowlist *list,
                    const struct egress_nft_options *options, struct ward_error **err)
{
  cleanup_free char *created = NULL, *replacing = NULL;
  if (render_ruleset (list, options, TABLE_CREATE, &created, err) < 0)
    return -1;
  if (keep_address_rules (nft, list, err) < 0)
    return -1;
  nft->installed = false;
  /* Creating the table is cheaper than replacing it (the delete in the
   * same transaction costs the kernel a table's teardown), and a new
   * network namespace has none; where one exists already (a joined
   * namespace, a second install), the create fails as a whole, nothing
   * is changed, and the replacing script runs, whose error is the one
   * reported. */
  struct ward_error *ignored = NULL;
  if (run_script (nft, created, "install the egress firewall", &ignored) < 0)
    {
      ward_error_free (&ignored);
      if (egress_nft_render (list, options, &replacing, err) < 0
          || run_script (nft, replacing, "install the egress firewall", err) < 0)
        return -1;
    }
  nft->options = *options;
  nft->has_names = options->enabled && has_name_rules (list);
  /* The new table starts with empty DNS and metered sets. */
  free (nft->resolved);
  nft->resolved = NULL;
  nft->resolved_count = 0;
  free (nft->metered);
  nft->metered = NULL;
  nft->metered_count = 0;
  nft->installed = true;
  return 0;
}

static uint64_t
now_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

/* The element for this key, forgetting on the way the ones whose timeout
 * has run out (the kernel has dropped them too). */
static struct resolved_element *
find_resolved (struct egress_nft *nft, int family, const void *address, const struct egress_rule *rule,
               uint64_t now)
{
  struct resolved_element *found = NULL;
  size_t kept = 0;
  for (size_t i = 0; i < nft->resolved_count; i++)
    {
      struct resolved_element *e = &nft->resolved[i];
      if (e->expires <= now)
        continue;
      nft->resolved[kept] = *e;
      e = &nft->resolved[kept++];
      if (e->family == family && e->protocol == rule->protocol && e->port == rule->port
          && memcmp (e->address, address, family == AF_INET ? 4 : 16) == 0)
        found = e;
    }
  nft->resolved_count = kept;
  return found;
}

static int
remember_resolved (struct egress_nft *nft, int family, const void *address, const struct egress_rule *rule,
                   uint64_t expires, struct ward_error **err)
{
  struct resolved_element *grown = realloc (nft->resolved, (nft->resolved_count + 1) * sizeof *grown);
  if (grown == NULL)
    return ward_fail (err, errno, "egress firewall");
  nft->resolved = grown;
  struct resolved_element *e = &nft->resolved[nft->resolved_count++];
  *e = (struct resolved_element){
    .family = family, .protocol = rule->protocol, .port = rule->port, .expires = expires
  };
  memcpy (e->address, address, family == AF_INET ? 4 : 16);
  return 0;
}

int
egress_nft_allow_resolved (struct egress_nft *nft, const struct egress_rule *rule, int family,
                           const void *address, uint32_t ttl_seconds, struct ward_error **err)
{
  if (!nft->installed || !nft->has_names)
    return ward_fail (err, EINVAL, "egress: no firewall with name rules is installed");
  if (!rule->is_name || (family != AF_INET && family != AF_INET6))
    return ward_fail (err, EINVAL, "egress: a resolved address needs a name rule and an IP address");
  /* A program connecting to ::ffff:203.0.113.7 sends IPv4 packets. */
  static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
  if (family == AF_INET6 && memcmp (address, v4_mapped, sizeof v4_mapped) == 0)
    {
      family = AF_INET;
      address = (const uint8_t *)address + 12;
    }
  /* The blocked ranges are rejected before the DNS sets are consulted, so
   * an element there would change nothing; the caller audits it. */
  if (egress_blocked_range_find (family, address, block_kinds (&nft->options)))
    return egress_allowlist_admits_address (&nft->addresses, family, address, rule->protocol, rule->port)
        ? EGRESS_RESOLVED_STATIC
        : EGRESS_RESOLVED_BLOCKED;
  if (ttl_seconds < EGRESS_NFT_TTL_FLOOR_SECONDS)
    ttl_seconds = EGRESS_NFT_TTL_FLOOR_SECONDS;
  if (ttl_seconds > EGRESS_NFT_TTL_CEILING_SECONDS)
    ttl_seconds = EGRESS_NFT_TTL_CEILING_SECONDS;
  uint64_t now = now_seconds (), expires = now + ttl_seconds;
  struct resolved_element *known = find_resolved (nft, family, address, rule, now);
  if (known && known->expires + REFRESH_SLACK_SECONDS >= expires)
    return EGRESS_RESOLVED_ADDED;
  cleanup_free char *script = NULL;
  if (egress_nft_render_resolved (rule, family, address, ttl_seconds, &script, err) < 0)
    return -1;
  if (run_buffer (nft, script, "egress: allow a resolved address", err) < 0)
    return -1;
  if (known)
    known->expires = expires;
  else if (remember_resolved (nft, family, address, rule, expires, err) < 0)
    return -1;
  return EGRESS_RESOLVED_ADDED;
}

static bool
metered_known (const struct egress_nft *nft, size_t index, int family, const void *address)
{
  for (size_t i = 0; i < nft->metered_count; i++)
    if (nft->metered[i].index == index && nft->metered[i].family == family
        && memcmp (nft->metered[i].address, address, family == AF_INET ? 4 : 16) == 0)
      return true;
  return false;
}

int
egress_nft_meter_address (struct egress_nft *nft, size_t index, int family, const void *address,
                          struct ward_error **err)
{
  if (!nft->installed || index >= nft->options.metered_count || (family != AF_INET && family != AF_INET6))
    return ward_fail (err, EINVAL, "egress: no metered domain %zu in the firewall", index);
  /* As in egress_nft_allow_resolved: the packets of an IPv4-mapped address are IPv4's. */
  static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
  if (family == AF_INET6 && memcmp (address, v4_mapped, sizeof v4_mapped) == 0)
    {
      family = AF_INET;
      address = (const uint8_t *)address + 12;
    }
  if (metered_known (nft, index, family, address))
    return 0;
  char text[EGRESS_ADDRESS_TEXT_MAX], script[160];
  egress_address_format (family, address, family == AF_INET ? 32 : 128, text);
  snprintf (script, sizeof script, "add element inet %s metered%s_%zu { %s }\n", EGRESS_NFT_TABLE,
            family_tag (family), index, text);
  if (run_buffer (nft, script, "egress: meter a resolved address", err) < 0)
    return -1;
  if (nft->metered_count < METERED_REMEMBERED_MAX)
    {
      struct metered_element *grown = realloc (nft->metered, (nft->metered_count + 1) * sizeof *grown);
      if (grown == NULL)
        return 0; /* metered all the same; only the next answer costs a transaction */
      nft->metered = grown;
      struct metered_element *e = &nft->metered[nft->metered_count++];
      *e = (struct metered_element){ .index = index, .family = family };
      memcpy (e->address, address, family == AF_INET ? 4 : 16);
    }
  return 0;
}
