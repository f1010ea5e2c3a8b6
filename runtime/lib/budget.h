/* A container's watchdog budget: the policy's defaults, changed by the
 * container's run.ward.* annotations but never above the policy's maxima,
 * and the arithmetic that tells whether usage has gone over it.  Pure: no
 * I/O, so the CLI, ward-hook's supervisor and the tests share it.
 *
 * Annotations (ward-policy(5), watchdog):
 *   run.ward.timeout        wall clock, a duration: 90s, 30m, 2h
 *   run.ward.cpu-seconds    CPU time, whole seconds (or a duration)
 *   run.ward.egress-bytes   bytes through the firewall, both directions
 *                           (sent and received), a size: 65536, 64m, 1g
 *   run.ward.connections    new outbound connections, in total
 *   run.ward.connect-rate   new outbound connections a minute
 *   run.ward.budget         cost units, charged at the policy's rates
 *   run.ward.on-breach      kill | freeze
 *   run.ward.grace          a duration, between SIGTERM and SIGKILL */
#ifndef WARD_BUDGET_H
#define WARD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json_writer.h"
#include "policy.h"

/* A limit that nothing bounds (no policy and no annotation). */
#define BUDGET_UNLIMITED UINT64_MAX

#define BUDGET_ANNOTATION_PREFIX "run.ward."

/* At most this many metered domains (the policy's limit). */
#define BUDGET_METERED_MAX POLICY_METERED_DOMAINS_MAX

/* Units charged per CPU second, wall-clock minute, MiB of egress and
 * connection, and per connection to each metered domain (on top of the
 * connection rate): the policy's watchdog.budget.rates. */
struct budget_rates
{
  uint64_t cpu_second, wall_minute, egress_mebibyte, connection;
  struct policy_metered_domain metered[BUDGET_METERED_MAX];
  size_t metered_count;
};

struct budget
{
  char policy[128];      /* the policy's name, "" when none applies */
  uint64_t timeout;      /* seconds of wall clock */
  uint64_t cpu_seconds;  /* seconds of CPU, all processes together */
  uint64_t egress_bytes; /* bytes through the firewall, sent and received */
  uint64_t connections;  /* new outbound connections in total */
  uint64_t connect_rate; /* new outbound connections a minute (rejected above, not a breach) */
  uint64_t units;        /* the cost cap */
  struct budget_rates rates;
  enum policy_breach on_breach;
  uint64_t grace; /* seconds between SIGTERM and SIGKILL (kill) */
};

/* What a container has used so far, in the finest units the kernel gives. */
struct budget_usage
{
  uint64_t wall_ms;
  uint64_t cpu_usec;
  uint64_t egress_bytes; /* sent and received, loopback not counted */
  uint64_t connections;
  /* New connections to the addresses of each metered domain (the rates'
   * order); they are in `connections` too. */
  uint64_t metered_connections[BUDGET_METERED_MAX];
};

/* Which limit a usage went over; the order is the order budget_check
 * looks in, so that the first cause is named when several coincide. */
enum budget_limit
{
  BUDGET_WITHIN = 0,
  BUDGET_TIMEOUT,
  BUDGET_CPU_SECONDS,
  BUDGET_EGRESS_BYTES,
  BUDGET_CONNECTIONS,
  BUDGET_COST,
};

/* The effective budget from `policy` (NULL: none, every limit unlimited
 * and the annotations taken as they are) and the container's annotations
 * (`count` key/value pairs; keys not starting run.ward. are ignored).  A
 * malformed value or one above the policy's maximum fails naming the
 * policy and the annotation:
 *   policy agent-default: annotation run.ward.timeout: 3h is above the maximum 2h */
int budget_resolve (const struct policy *policy, char *const *keys, char *const *values, size_t count,
                    struct budget *out, struct ward_error **err);

/* The cost of `usage` at `rates`, in thousandths of a unit (saturating). */
uint64_t budget_cost_millis (const struct budget_rates *rates, const struct budget_usage *usage);

/* The index in rates->metered of the first domain that `name` (any case,
 * trailing dot or not) falls under, or -1.  "*.example.com" matches its
 * subdomains, not example.com itself, as in the egress allowlist. */
int budget_metered_index (const struct budget_rates *rates, const char *name);

/* The first limit `usage` has reached (time, CPU) or gone over (egress,
 * connections, cost), or BUDGET_WITHIN.  connect_rate is not looked at:
 * the excess connections are rejected, the container goes on. */
enum budget_limit budget_check (const struct budget *budget, const struct budget_usage *usage);

/* "timeout", "cpu-seconds", "egress-bytes", "connections", "budget" (the
 * annotation's name without run.ward.), "" for BUDGET_WITHIN. */
const char *budget_limit_name (enum budget_limit limit);

/* "kill" or "freeze". */
const char *budget_breach_name (enum policy_breach breach);

/* The budget as one JSON object (for the audit log, usage.json and ward
 * top): {"policy", "timeout", "cpu_seconds", "egress_bytes", "connections",
 * "connect_rate", "budget", "rates": {..., "metered_domains": [{"domain",
 * "per_connection"}]}, "on_breach", "grace"}; an unlimited value is null.  budget_write_json writes it as the
 * next value of `w`. */
void budget_write_json (const struct budget *budget, struct json_writer *w);
int budget_to_json (const struct budget *budget, char **out, struct ward_error **err);

/* Render a duration as the largest exact unit ("2h", "90s") and a size
 * likewise ("4g", "65536"): how the limits are written in profiles. */
void budget_format_duration (uint64_t seconds, char *buf, size_t size);
void budget_format_size (uint64_t bytes, char *buf, size_t size);

#endif
