/* What `ward verify` knows of each probe of ward-probe: what it attempts,
 * what a sandbox that holds answers, and which audit record should show
 * the attempt; the results read back from the probe's JSON lines, checked
 * against the container's audit log, and sorted holes first. */
#ifndef WARD_VERIFY_PROBES_H
#define WARD_VERIFY_PROBES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum verify_outcome
{
  VERIFY_CONTAINED,
  VERIFY_ESCAPED,
  VERIFY_ERROR,
  VERIFY_ALLOWED, /* it got through, and the policy says it may (agent-dev's writable root) */
};

enum verify_audit
{
  VERIFY_AUDIT_NOT_EXPECTED, /* nothing to record (or the attempt never reached what records it) */
  VERIFY_AUDIT_FOUND,
  VERIFY_AUDIT_MISSING,
};

struct verify_result
{
  char *probe;
  char *attempted;
  char *expected;
  enum verify_outcome outcome;
  char *detail;
  char *container; /* the id of the container it ran in */
  /* The audit record that should show it: event, field, value (NULL: none). */
  const char *audit_event, *audit_field;
  char *audit_value;
  enum verify_audit audited;
};

struct verify_results
{
  struct verify_result *items;
  size_t count, capacity;
};

/* A result for probe `name` in `container`, with the table's description
 * (a target's "attempted" is `attempted` when given); NULL when out of memory. */
struct verify_result *verify_results_add (struct verify_results *r, const char *name, const char *container,
                                          const char *attempted);

/* Read the probe's output (JSON lines) into results for `container`;
 * `expected` names the probes that must report, and those that did not
 * are errors ("no result: the container ended first"). */
int verify_results_read_output (struct verify_results *r, const char *container, const char *output,
                                const char *const *expected, size_t expected_count, struct ward_error **err);

/* The audit record a target's attempt should leave: dns.refused for a
 * name, egress.refused for an address. */
void verify_result_expect_target_audit (struct verify_result *res, const char *host, bool is_name);

struct policy;
/* An escape the profile accepts by design (its verify.accept, e.g.
 * agent-dev's writable root) becomes VERIFY_ALLOWED, not a hole; accepted
 * capabilities must still lie within the profile's maximum. */
void verify_results_judge_by_policy (struct verify_results *r, const struct policy *policy);

/* Look each result's record up in `audit_dir`/<container>.jsonl. */
void verify_results_check_audit (struct verify_results *r, const char *audit_dir);

/* Holes, then errors, then what was contained (stable within each). */
void verify_results_sort (struct verify_results *r);

bool verify_results_all_contained (const struct verify_results *r);

void verify_results_free (struct verify_results *r);

const char *verify_outcome_name (enum verify_outcome o);
const char *verify_audit_name (enum verify_audit a);
/* "contained", "allowed", "HOLE" or "ERROR". */
const char *verify_verdict (const struct verify_result *res);

#endif
