/* /etc/ward/ward.conf: the operator's settings for every container on the
 * host — which policy applies when a container names none, which ones a
 * container may name, whether running with no policy is possible at all,
 * and where the hook and the audit log live.  $WARD_CONF names another
 * file (tests, a second installation).  A missing file means the
 * defaults; a malformed one is an error, never ignored.
 *
 * The format is one `key = value` a line; `#` starts a comment. */
#ifndef WARD_CONF_H
#define WARD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define WARD_CONF_PATH_DEFAULT "/etc/ward/ward.conf"
#define WARD_AUDIT_DIR_DEFAULT "/var/log/ward"
#define WARD_USAGE_RECORD_INTERVAL_DEFAULT 60
/* The policy name that means "no policy at all". */
#define WARD_UNCONFINED "unconfined"

struct ward_conf
{
  char *path;              /* the file read (or that would have been), for messages */
  char *default_policy;    /* default_policy: the profile when a container names none */
  char **allowed_policies; /* allowed_policies: names a container may ask for; NULL = any profile */
  size_t allowed_policies_count;
  bool allow_unconfined; /* allow_unconfined: "unconfined" may be named (or be the default) */
  char *policy_dir;      /* policy_dir: NULL = policy_directory () */
  char *audit_dir;       /* audit_dir */
  char *dns_upstream;    /* dns_upstream: "192.0.2.53, 2001:db8::53"; NULL = the host's resolv.conf */
  char *hook_path;       /* hook_path: NULL = the installed ward-hook */
  /* usage_record_interval: seconds between the supervisor's budget.usage
   * audit records while a container runs; 0: only the one at its exit. */
  uint64_t usage_record_interval;
};

/* Read $WARD_CONF, else WARD_CONF_PATH_DEFAULT. */
int ward_conf_load (struct ward_conf **out, struct ward_error **err);

/* The same from text (`path` names it in messages). */
int ward_conf_parse (const char *path, const char *text, struct ward_conf **out, struct ward_error **err);

void ward_conf_free (struct ward_conf *conf);

/* May a container name `policy`?  (The default is always allowed, so
 * that a ward.conf cannot forbid its own choice.) */
bool ward_conf_policy_allowed (const struct ward_conf *conf, const char *policy);

#endif
