/* The egress supervisor's records in the container's audit log (audit.h):
 * what the firewall was installed with, each DNS query it judged, each
 * connection the kernel refused, and the supervisor's end.  Refusals are
 * written with "blocked": true: they are attempts, not accomplishments. */
#ifndef WARD_EGRESS_AUDIT_H
#define WARD_EGRESS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "egress_allowlist.h"
#include "egress_nft.h"
#include "error.h"
#include "nflog.h"

/* egress.installed: the policy, the rules as text, the proxy's port. */
int egress_audit_installed (struct audit_log *log, const char *policy, const struct egress_allowlist *list,
                            const struct egress_nft_options *options, struct ward_error **err);

/* dns.allowed: an allowed name, the addresses its answer opened and those
 * it named in a blocked range (not opened). */
int egress_audit_dns_allowed (struct audit_log *log, const char *name, uint16_t qtype, int rcode,
                              char (*addresses)[EGRESS_ADDRESS_TEXT_MAX], size_t count,
                              char (*blocked)[EGRESS_ADDRESS_TEXT_MAX], size_t blocked_count,
                              struct ward_error **err);

/* dns.refused: a name the allowlist refused (answered NXDOMAIN, never
 * sent upstream). */
int egress_audit_dns_refused (struct audit_log *log, const char *name, uint16_t qtype,
                              struct ward_error **err);

/* egress.refused: a packet the firewall rejected; `name` is the name the
 * destination was resolved from, NULL when none. */
int egress_audit_refused (struct audit_log *log, const struct nflog_packet *packet, const char *name,
                          struct ward_error **err);

/* supervisor.exit */
int egress_audit_supervisor_exit (struct audit_log *log, const char *reason, struct ward_error **err);

/* "A", "AAAA", ... or "TYPE99"; `buf` holds 16 bytes. */
const char *egress_audit_qtype_name (uint16_t qtype, char *buf);

/* One rule as the allowlist would read it: "tcp/api.example.com:443". */
void egress_rule_format (const struct egress_rule *rule, char *out, size_t size);

#endif
