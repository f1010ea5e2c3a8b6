#include "config.h"
#include "egress_audit.h"
#include "dns_message.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

const char *
egress_audit_qtype_name (uint16_t qtype, char *buf)
{
  static const struct
  {
    uint16_t type;
    const char *name;
  } names[] = {
    { DNS_TYPE_A, "A" },     { DNS_TYPE_CNAME, "CNAME" }, { DNS_TYPE_MX, "MX" },
    { DNS_TYPE_TXT, "TXT" }, { DNS_TYPE_AAAA, "AAAA" },   { DNS_TYPE_HTTPS, "HTTPS" },
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].type == qtype)
      return names[i].name;
  snprintf (buf, 16, "TYPE%u", qtype);
  return buf;
}

void
egress_rule_format (const struct egress_rule *rule, char *out, size_t size)
{
  char target[DNS_NAME_TEXT_SIZE + 8];
  if (rule->is_name)
    snprintf (target, sizeof target, "%s%s", rule->wildcard ? "*." : "", rule->name);
  else
    {
      char address[EGRESS_ADDRESS_TEXT_MAX];
      egress_address_format (rule->family, rule->address, rule->prefix_length, address);
      snprintf (target, sizeof target, rule->family == AF_INET6 && rule->port ? "[%s]" : "%s", address);
    }
  if (rule->port)
    snprintf (out, size, "%s/%s:%u", egress_protocol_name (rule->protocol), target, rule->port);
  else
    snprintf (out, size, "%s/%s", egress_protocol_name (rule->protocol), target);
}

static int
write_record (struct audit_log *log, struct json_writer *w, struct ward_error **err)
{
  if (w == NULL)
    return ward_fail (err, ENOMEM, "audit log");
  return audit_record_write (log, w, err);
}

int
egress_audit_installed (struct audit_log *log, const char *policy, const struct egress_allowlist *list,
                        const struct egress_nft_options *options, struct ward_error **err)
{
  struct json_writer *w = audit_record_begin (log, "egress.installed", false);
  if (w)
    {
      jw_key_string (w, "policy", policy);
      jw_key_bool (w, "egress_enabled", options->enabled);
      jw_key (w, "rules");
      jw_begin_array (w);
      for (size_t i = 0; i < list->count; i++)
        {
          char text[512];
          egress_rule_format (&list->rules[i], text, sizeof text);
          jw_string (w, text);
        }
      jw_end_array (w);
      jw_key_int (w, "proxy_port", options->proxy_port);
      jw_key_bool (w, "block_private", options->block_private);
      jw_key_bool (w, "block_metadata", options->block_metadata);
    }
  return write_record (log, w, err);
}

static void
string_array (struct json_writer *w, const char *key, char (*items)[EGRESS_ADDRESS_TEXT_MAX], size_t count)
{
  jw_key (w, key);
  jw_begin_array (w);
  for (size_t i = 0; i < count; i++)
    jw_string (w, items[i]);
  jw_end_array (w);
}

int
egress_audit_dns_allowed (struct audit_log *log, const char *name, uint16_t qtype, int rcode,
                          char (*addresses)[EGRESS_ADDRESS_TEXT_MAX], size_t count,
                          char (*blocked)[EGRESS_ADDRESS_TEXT_MAX], size_t blocked_count,
                          struct ward_error **err)
{
  char type[16];
  struct json_writer *w = audit_record_begin (log, "dns.allowed", false);
  if (w)
    {
      jw_key_string (w, "name", name);
      jw_key_string (w, "qtype", egress_audit_qtype_name (qtype, type));
      jw_key_int (w, "rcode", rcode);
      string_array (w, "addresses", addresses, count);
      if (blocked_count > 0)
        string_array (w, "blocked_addresses", blocked, blocked_count);
    }
  return write_record (log, w, err);
}

int
egress_audit_dns_refused (struct audit_log *log, const char *name, uint16_t qtype, struct ward_error **err)
{
  char type[16];
  struct json_writer *w = audit_record_begin (log, "dns.refused", true);
  if (w)
    {
      jw_key_string (w, "name", name);
      jw_key_string (w, "qtype", egress_audit_qtype_name (qtype, type));
      jw_key_string (w, "reason", "not allowed");
    }
  return write_record (log, w, err);
}

int
egress_audit_refused (struct audit_log *log, const struct nflog_packet *packet, const char *name,
                      struct ward_error **err)
{
  char destination[EGRESS_ADDRESS_TEXT_MAX];
  egress_address_format (packet->family, packet->destination, packet->family == AF_INET ? 32 : 128,
                         destination);
  bool blocked_range = strcmp (packet->prefix, EGRESS_NFT_PREFIX_BLOCKED) == 0;
  bool over_rate = strcmp (packet->prefix, EGRESS_NFT_PREFIX_RATE) == 0;
  const struct egress_blocked_range *range = blocked_range
      ? egress_blocked_range_find (packet->family, packet->destination,
                                   EGRESS_BLOCK_METADATA | EGRESS_BLOCK_PRIVATE)
      : NULL;
  struct json_writer *w = audit_record_begin (log, "egress.refused", true);
  if (w)
    {
      jw_key_string (w, "destination", destination);
      if (packet->has_ports)
        jw_key_int (w, "port", packet->destination_port);
      else
        {
          jw_key (w, "port");
          jw_null (w);
        }
      jw_key_string (w, "protocol", nflog_protocol_name (packet->protocol));
      if (name)
        jw_key_string (w, "name", name);
      jw_key_string (w, "reason",
                     blocked_range   ? "blocked range"
                         : over_rate ? "connect rate"
                                     : "not allowed");
      if (range)
        jw_key_string (w, "range", range->label);
      if (packet->has_uid)
        jw_key_int (w, "uid", packet->uid);
    }
  return write_record (log, w, err);
}

int
egress_audit_supervisor_exit (struct audit_log *log, const char *reason, struct ward_error **err)
{
  struct json_writer *w = audit_record_begin (log, "supervisor.exit", false);
  if (w)
    jw_key_string (w, "reason", reason);
  return write_record (log, w, err);
}
