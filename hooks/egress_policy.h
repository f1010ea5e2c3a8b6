/* A container's egress allowlist as its policy makes it: the policy's
 * `egress.allow`, then the annotation run.ward.egress when the policy lets
 * annotations extend the list (refused, never ignored, when it does not).
 * In libward: ward plans Landlock's connect ports from it at create, and
 * ward-hook installs the firewall from the same list. */
#ifndef WARD_EGRESS_POLICY_H
#define WARD_EGRESS_POLICY_H

#include "egress_allowlist.h"
#include "error.h"
#include "policy.h"
#include "spec.h"

#define EGRESS_ANNOTATION "run.ward.egress"

int egress_allowlist_from_policy (const struct policy *policy, const struct spec *spec,
                                  struct egress_allowlist *list, struct ward_error **err);

#endif
