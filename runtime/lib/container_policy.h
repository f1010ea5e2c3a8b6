/* The policy step of create and exec: which profile governs a container
 * (its annotation, else ward.conf's default), the tighten-only merge of
 * its config.json into that profile, and what the merge leaves for the
 * init to enforce — the policy's own seccomp filter, stacked on the
 * config's, and the Landlock rules. */
#ifndef WARD_CONTAINER_POLICY_H
#define WARD_CONTAINER_POLICY_H

#include <stdbool.h>

#include "error.h"
#include "landlock.h"
#include "lsm.h"
#include "policy.h"
#include "policy_merge.h"
#include "resources.h"
#include "seccomp.h"
#include "spec.h"
#include "ward_conf.h"

/* The annotation a container names its policy with. */
#define POLICY_ANNOTATION "run.ward.policy"

struct container_policy
{
  char *name;            /* the profile applied, or "unconfined" */
  struct policy *policy; /* NULL when unconfined */
  struct merge_report report;
  struct seccomp_program *seccomp; /* the policy's filter; NULL when it names none */
  bool landlock;                   /* restrict the process with landlock_rules */
  struct landlock_policy landlock_rules;
  char **landlock_writable; /* owned storage behind landlock_rules */
  uint16_t *landlock_connect_ports;
};

/* Choose the policy for `spec` and tighten `spec` to it.  `recorded` is
 * the name create chose, for exec: a running container keeps its policy
 * whatever ward.conf says now.  Refusals come back as
 * "policy agent-default: linux.namespaces: ...".  The policy's seccomp
 * filter is compiled apart (container_policy_compile_seccomp), once the
 * caller knows which variant it needs. */
int container_policy_apply (const struct ward_conf *conf, struct spec *spec, const char *bundle,
                            const char *recorded, struct container_policy *out, struct ward_error **err);

/* The policy's seccomp filter into cp->seccomp (nothing when unconfined or
 * without a profile), through the cache in `cache_dir` (NULL: none); the
 * `audited` calls get SCMP_ACT_NOTIFY (see seccomp_compile_file_audited). */
int container_policy_compile_seccomp (struct container_policy *cp, const char *cache_dir,
                                      const char *const *audited, size_t audited_count,
                                      struct ward_error **err);

/* Where the profiles are: $WARD_POLICY_DIR, else ward.conf's policy_dir,
 * else the installed ones. */
const char *container_policy_directory (const struct ward_conf *conf);

/* The profile name `spec` gets under `conf`, refused when ward.conf does
 * not allow it. */
int container_policy_choose (const struct ward_conf *conf, const struct spec *spec, const char **name,
                             struct ward_error **err);

/* The policy's labels where the config gives none, on a host that has the
 * LSM; where it has not, the label is noted as not applied (the config's
 * own labels are still refused there by lsm_validate). */
int container_policy_labels (const struct policy *policy, struct spec_process *process,
                             const struct lsm_host *host, struct merge_report *report,
                             struct ward_error **err);

/* The merge's resource decision applied to the parsed linux.resources
 * (made when the config had none). */
int container_policy_limit_resources (const struct container_policy *cp, struct resources **resources,
                                      struct ward_error **err);

/* `ward update` may not raise a limit above the policy's maximum (nor
 * remove one): such values are lowered to it, with a warning. */
void container_policy_cap_update (const struct policy *policy, struct resources *resources);

void container_policy_clear (struct container_policy *cp);

#endif
