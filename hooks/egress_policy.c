#include "config.h"
#include "egress_policy.h"

#include <stdio.h>
#include <string.h>

int
egress_allowlist_from_policy (const struct policy *policy, const struct spec *spec,
                              struct egress_allowlist *list, struct ward_error **err)
{
  char origin[128];
  snprintf (origin, sizeof origin, "policy %s: egress.allow", policy->name);
  for (size_t i = 0; i < policy->egress_allow_count; i++)
    if (egress_allowlist_add (list, policy->egress_allow[i], origin, err) < 0)
      goto fail;
  const char *extra = spec_annotation (spec, EGRESS_ANNOTATION);
  if (extra == NULL || strspn (extra, " \t,") == strlen (extra))
    return 0;
  if (!policy->egress_annotations_may_extend)
    {
      ward_fail (err, 0, "annotation %s: policy %s does not let annotations extend its egress allowlist",
                 EGRESS_ANNOTATION, policy->name);
      goto fail;
    }
  if (egress_allowlist_add_csv (list, extra, "annotation " EGRESS_ANNOTATION, err) < 0)
    goto fail;
  return 0;
fail:
  egress_allowlist_clear (list);
  return -1;
}
