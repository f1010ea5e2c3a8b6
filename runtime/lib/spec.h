/* The OCI runtime configuration (config.json, runtime-spec 1.2, Linux) as
 * typed structs.  Filled once by spec_load() and read-only afterwards.
 * Unknown fields are ignored, as the spec requires.  Sections that later
 * modules interpret themselves (linux.resources, linux.seccomp) are kept as
 * JSON subtrees of the document, which lives as long as the spec. */
#ifndef WARD_SPEC_H
#define WARD_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "json.h"

struct spec_mount
{
  char *destination;
  char *type;   /* may be NULL: then a bind when options say so */
  char *source; /* may be NULL */
  char **options;
  size_t options_count;
};

struct spec_rlimit
{
  char *type; /* "RLIMIT_NOFILE" */
  uint64_t hard;
  uint64_t soft;
};

struct spec_capabilities
{
  char **bounding, **effective, **permitted, **inheritable, **ambient;
  size_t bounding_count, effective_count, permitted_count, inheritable_count, ambient_count;
  bool present;
};

struct spec_user
{
  uid_t uid;
  gid_t gid;
  bool has_umask;
  mode_t umask;
  gid_t *additional_gids;
  size_t additional_gids_count;
};

struct spec_process
{
  bool terminal;
  unsigned console_height, console_width;
  bool has_console_size;
  struct spec_user user;
  char **args; /* NULL-terminated */
  size_t args_count;
  char **env; /* NULL-terminated */
  size_t env_count;
  char *cwd;
  struct spec_capabilities capabilities;
  struct spec_rlimit *rlimits;
  size_t rlimits_count;
  bool no_new_privileges;
  char *apparmor_profile;
  char *selinux_label;
  bool has_oom_score_adj;
  int oom_score_adj;
  const struct json_value *io_priority; /* interpreted by later modules */
  const struct json_value *scheduler;
};

enum spec_namespace_kind
{
  NS_PID,
  NS_NETWORK,
  NS_MOUNT,
  NS_IPC,
  NS_UTS,
  NS_USER,
  NS_CGROUP,
  NS_TIME,
  NS_KIND_COUNT,
};

struct spec_namespace
{
  bool requested; /* listed in linux.namespaces */
  char *path;     /* join this one instead of creating a new one */
};

struct spec_id_mapping
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct spec_device
{
  char *path;
  char type; /* 'c', 'b', 'u', 'p' */
  int64_t major, minor;
  bool has_mode, has_uid, has_gid;
  mode_t file_mode;
  uid_t uid;
  gid_t gid;
};

struct spec_sysctl
{
  char *key;
  char *value;
};

struct spec_time_offset
{
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

struct spec_hook
{
  char *path;
  char **args; /* NULL-terminated, may be NULL */
  size_t args_count;
  char **env;
  size_t env_count;
  int timeout; /* seconds, 0 = none */
};

enum spec_hook_point
{
  HOOK_PRESTART,
  HOOK_CREATE_RUNTIME,
  HOOK_CREATE_CONTAINER,
  HOOK_START_CONTAINER,
  HOOK_POSTSTART,
  HOOK_POSTSTOP,
  HOOK_POINT_COUNT,
};

struct spec_annotation
{
  char *key;
  char *value;
};

struct spec_linux
{
  struct spec_namespace namespaces[NS_KIND_COUNT];
  struct spec_id_mapping *uid_mappings, *gid_mappings;
  size_t uid_mappings_count, gid_mappings_count;
  struct spec_device *devices;
  size_t devices_count;
  char *cgroups_path;
  struct spec_sysctl *sysctl;
  size_t sysctl_count;
  char **masked_paths;
  size_t masked_paths_count;
  char **readonly_paths;
  size_t readonly_paths_count;
  char *rootfs_propagation;
  char *mount_label;
  struct spec_time_offset time_monotonic, time_boottime;
  const struct json_value *resources; /* may be NULL */
  const struct json_value *seccomp;   /* may be NULL */
  const struct json_value *personality;
};

struct spec
{
  struct json_document *doc; /* owns every json_value pointer below */
  char *oci_version;
  char *root_path; /* as written; relative to the bundle */
  bool root_readonly;
  char *hostname;
  char *domainname;
  struct spec_process *process; /* NULL when absent (allowed for create-only tools) */
  struct spec_mount *mounts;
  size_t mounts_count;
  struct spec_hook *hooks[HOOK_POINT_COUNT];
  size_t hooks_count[HOOK_POINT_COUNT];
  struct spec_annotation *annotations;
  size_t annotations_count;
  struct spec_linux linux_config; /* "linux" itself is a predefined macro in GNU C */
};

/* Load <bundle>/config.json. */
int spec_load (const char *config_path, struct spec **out, struct ward_error **err);
/* Parse an in-memory document; `name` prefixes messages. */
int spec_parse (const char *name, const char *text, size_t length, struct spec **out,
                struct ward_error **err);
void spec_free (struct spec *spec);

/* Parse a bare "process" object, as `exec --process` receives it. */
int spec_parse_process (const struct json_document *doc, const struct json_value *value, const char *path,
                        struct spec_process **out, struct ward_error **err);
void spec_process_free (struct spec_process *process);

const char *spec_namespace_name (enum spec_namespace_kind kind);
const char *spec_hook_point_name (enum spec_hook_point point);
const char *spec_annotation (const struct spec *spec, const char *key);

#endif
