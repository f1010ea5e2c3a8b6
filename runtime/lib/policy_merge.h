/* The tighten-only merge (issue 7 item 3): config.json as parsed, lowered
 * field by field to what a policy profile allows.  For every field the
 * stricter of the two wins; what can be made safe by tightening is changed
 * in place, what cannot (a host namespace, a forbidden bind source, a
 * device the profile does not allow) is refused.  A pure function over the
 * parsed structs: nothing is created or run, so `ward policy explain` and
 * `ward create` see the same decisions. */
#ifndef WARD_POLICY_MERGE_H
#define WARD_POLICY_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"
#include "spec.h"

enum merge_kind
{
  MERGE_CHANGED, /* the spec was tightened */
  MERGE_REFUSED, /* tightening cannot make it safe; the container must not be created */
  MERGE_NOTED,   /* nothing in the spec changes, but the policy adds to it (the stacked seccomp filter) */
};

struct merge_entry
{
  enum merge_kind kind;
  char *field;  /* "process.capabilities.bounding", "linux.namespaces", "mounts[3]" */
  char *before; /* the config's value, NULL when it had none */
  char *after;  /* the merged value, NULL when refused or removed */
  char *reason; /* what happened, for people: "CAP_SYS_ADMIN removed (policy maximum: none)" */
};

/* linux.resources stays a JSON subtree in struct spec, so the merge does not
 * rewrite it; it says here what the container's struct resources must hold
 * after resources_parse().  Only the has_* fields set are to be applied. */
struct policy_resources_decision
{
  bool has_memory_limit, has_pids_limit, has_cpu;
  int64_t memory_limit; /* bytes → resources.memory.limit */
  int64_t pids_limit;   /* → resources.pids_limit */
  int64_t cpu_quota;    /* → resources.cpu.quota */
  uint64_t cpu_period;  /* → resources.cpu.period */
};

struct merge_report
{
  struct merge_entry *entries;
  size_t count;
  struct policy_resources_decision resources;
};

/* Tighten spec in place to what `policy` allows, recording every change
 * and refusal in `report` (which the caller zero-initialises and releases
 * with merge_report_clear).  Every field is examined even after a refusal,
 * so the report is complete; then -1 with *err naming the first refusal:
 * "policy agent-default: linux.namespaces: joining the host network
 * namespace is not allowed".  -1 with errno set on allocation failure.
 *
 * Relative bind sources are resolved against `bundle` (the working
 * directory when NULL), as the mounts will be. */
int policy_merge (const struct policy *policy, struct spec *spec, const char *bundle,
                  struct merge_report *report, struct ward_error **err);

void merge_report_clear (struct merge_report *report);

/* A decision taken outside the merge (LSM labels, Landlock), recorded
 * beside its own.  -1 with errno ENOMEM. */
int merge_report_add (struct merge_report *report, enum merge_kind kind, const char *field,
                      const char *before, const char *after, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

const char *merge_kind_name (enum merge_kind kind);

/* A forbidden entry of "/" matches only "/" itself; any other entry matches
 * the path itself, anything under it and anything above it (binding a
 * parent would expose it).  Both paths absolute and normalised. */
bool policy_merge_path_forbidden (const char *source, const char *forbidden);

#endif
