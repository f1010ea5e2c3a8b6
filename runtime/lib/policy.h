/* Policy profiles (ward-policy(5)): the operator's ceiling on what any
 * container may be given.  A profile is a JSON file `<dir>/<name>.json`,
 * read once into a typed, read-only `struct policy`; durations are held in
 * seconds and sizes in bytes so that the tighten-only merge compares
 * numbers, never strings. */
#ifndef WARD_POLICY_H
#define WARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifndef WARD_POLICY_DIR_DEFAULT
#define WARD_POLICY_DIR_DEFAULT "/usr/local/share/ward/policy-profiles"
#endif

/* The profile used when none is named. */
#define POLICY_DEFAULT_NAME "agent-default"

/* How the network namespace may be obtained; the host's own is never allowed. */
enum policy_network
{
  POLICY_NETWORK_NEW,           /* "new": a fresh namespace only */
  POLICY_NETWORK_NEW_OR_JOINED, /* "new-or-joined": fresh, or joined by a path not the host's */
};

enum policy_breach
{
  POLICY_BREACH_KILL,
  POLICY_BREACH_FREEZE,
};

/* Bits of policy.namespaces_required, named as OCI names namespace types. */
enum policy_namespace
{
  POLICY_NS_PID = 1u << 0,
  POLICY_NS_IPC = 1u << 1,
  POLICY_NS_UTS = 1u << 2,
  POLICY_NS_MOUNT = 1u << 3,
  POLICY_NS_CGROUP = 1u << 4,
  POLICY_NS_NETWORK = 1u << 5,
  POLICY_NS_USER = 1u << 6,
};

/* Bits of policy.devices_allowed (names of nodes under /dev). */
enum policy_device
{
  POLICY_DEV_NULL = 1u << 0,
  POLICY_DEV_ZERO = 1u << 1,
  POLICY_DEV_FULL = 1u << 2,
  POLICY_DEV_RANDOM = 1u << 3,
  POLICY_DEV_URANDOM = 1u << 4,
  POLICY_DEV_TTY = 1u << 5,
  POLICY_DEV_PTMX = 1u << 6,
  POLICY_DEV_PTS = 1u << 7,
  POLICY_DEV_CONSOLE = 1u << 8,
};

struct policy_tmpfs
{
  char *destination; /* absolute */
  uint64_t size;     /* bytes */
  uint32_t mode;     /* e.g. 01777 */
};

struct policy_rlimit
{
  const char *name; /* "nofile": static, from the parser's table */
  int resource;     /* RLIMIT_NOFILE */
  uint64_t value;   /* the most either soft or hard may be */
};

struct policy_resources
{
  int64_t pids;        /* > 0 */
  uint64_t memory;     /* bytes, > 0 */
  int64_t cpu_quota;   /* microseconds per period, > 0 */
  uint64_t cpu_period; /* microseconds, > 0 */
};

/* A watchdog quantity: what applies when the container asks for nothing,
 * and the most it may ask for. */
struct policy_limit
{
  uint64_t default_value;
  uint64_t maximum;
};

/* At most this many metered domains a policy, each at most this long
 * ("*." and a name of up to 253 characters): fixed, so that a budget
 * stays a plain value the supervisor copies and compares without
 * allocating. */
#define POLICY_METERED_DOMAINS_MAX 16
#define POLICY_METERED_DOMAIN_SIZE 256

/* Connections to addresses DNS gave for `domain` ("api.example.com", or
 * "*.example.com" for its subdomains only) cost per_connection units on
 * top of the connection rate: a model API is where an agent's money goes. */
struct policy_metered_domain
{
  char domain[POLICY_METERED_DOMAIN_SIZE]; /* lowercase, no trailing dot */
  uint64_t per_connection;
};

struct policy_budget
{
  struct policy_limit units;
  /* Units charged per CPU second, wall-clock minute, MiB of egress, connection. */
  uint64_t cpu_second, wall_minute, egress_mebibyte, connection;
  struct policy_metered_domain metered[POLICY_METERED_DOMAINS_MAX];
  size_t metered_count;
};

struct policy
{
  char *name;
  char *description;

  char **capabilities_maximum; /* "CAP_CHOWN", ...; NULL-terminated */
  size_t capabilities_count;
  uint64_t capabilities_mask; /* bit = capability number */

  bool no_new_privileges;
  bool readonly_rootfs;

  bool user_force_non_root;
  uint32_t user_uid, user_gid; /* used when a forced profile meets uid 0 */

  struct policy_tmpfs *tmpfs;
  size_t tmpfs_count;

  char **masked_paths, **readonly_paths, **forbidden_bind_sources; /* absolute; NULL-terminated */
  size_t masked_paths_count, readonly_paths_count, forbidden_bind_sources_count;

  /* Places beneath forbidden sources where engines keep what they bind
   * into every container (its hosts, resolv.conf, hostname, shm, volumes):
   * a source strictly beneath one is allowed unless it is a socket.  `*`
   * stands for one path component. */
  char **engine_bind_sources; /* absolute; NULL-terminated */
  size_t engine_bind_sources_count;

  char *seccomp;      /* as written, relative to the policy directory */
  char *seccomp_path; /* resolved: <dir>/<seccomp> */

  unsigned namespaces_required; /* enum policy_namespace bits */
  enum policy_network network;

  unsigned devices_allowed; /* enum policy_device bits */

  struct policy_rlimit *rlimits;
  size_t rlimits_count;

  struct policy_resources resources_default, resources_maximum;

  char *apparmor_profile; /* "" = none */
  char *selinux_label;    /* "" = none */

  bool landlock_enabled;
  char **landlock_writable_paths;
  size_t landlock_writable_paths_count;
  bool landlock_connect_ports_from_egress;

  bool egress_enabled; /* false: the network namespace holds loopback only */
  char **egress_allow;
  size_t egress_allow_count;
  bool egress_annotations_may_extend;
  bool egress_block_private_ranges;
  bool egress_block_metadata;

  struct policy_limit watchdog_timeout;      /* seconds */
  struct policy_limit watchdog_cpu_seconds;  /* seconds */
  struct policy_limit watchdog_egress_bytes; /* bytes */
  struct policy_limit watchdog_connections;  /* new outbound connections, in total */
  struct policy_limit watchdog_connect_rate; /* new outbound connections a minute */
  struct policy_budget watchdog_budget;
  enum policy_breach watchdog_on_breach;

  /* `ward verify` probes whose escape this profile grants by design
   * (agent-dev's writable root): reported as allowed, not as holes. */
  char **verify_accept;
  size_t verify_accept_count;
  uint64_t watchdog_grace; /* seconds between SIGTERM and the breach action */
};

/* $WARD_POLICY_DIR when set and not empty, else WARD_POLICY_DIR_DEFAULT. */
const char *policy_directory (void);

/* A profile name is [a-z0-9-]+, so it can never step out of the directory. */
bool policy_name_valid (const char *name);

/* Load and check `<dir>/<name>.json`; messages name "<name>.json". */
int policy_load (const char *dir, const char *name, struct policy **out, struct ward_error **err);

/* The same from text; `dir` resolves the seccomp path, `display_name`
 * prefixes messages and its stem must equal the profile's name. */
int policy_parse (const char *dir, const char *display_name, const char *text, size_t length,
                  struct policy **out, struct ward_error **err);

void policy_free (struct policy *policy);

/* The profile names in `dir` (files <name>.json with a valid name), sorted;
 * free with policy_names_free. */
int policy_list (const char *dir, char ***names, size_t *count, struct ward_error **err);
void policy_names_free (char **names, size_t count);

/* The loaded values as a profile document: durations as "<n>s", sizes as
 * byte counts, so what it prints loads back to the same struct. */
int policy_to_json (const struct policy *policy, char **out, struct ward_error **err);

/* "90s", "30m", "2h", "1d" → seconds; "65536", "64k", "64m", "1g", "1t" →
 * bytes (binary units).  -1 on anything else or on overflow; no message. */
int policy_parse_duration (const char *text, uint64_t *seconds);
int policy_parse_size (const char *text, uint64_t *bytes);

#endif
