/* Name tables the policy parser and its renderer share (internal to
 * policy.c and policy_render.c). */
#ifndef WARD_POLICY_TABLES_H
#define WARD_POLICY_TABLES_H

#include <stddef.h>

struct policy_named_bit
{
  const char *name;
  unsigned bit;
};

extern const struct policy_named_bit policy_namespace_names[];
extern const size_t policy_namespace_names_count;
extern const struct policy_named_bit policy_device_names[];
extern const size_t policy_device_names_count;
/* Indexed by enum policy_network. */
extern const char *const policy_network_choices[];
/* Indexed by enum policy_breach. */
extern const char *const policy_breach_choices[];

enum policy_limit_kind
{
  LIMIT_DURATION,
  LIMIT_SIZE,
  LIMIT_COUNT,
};

#endif
