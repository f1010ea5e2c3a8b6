/* What ward remembers about a container between commands: a directory
 * <root>/<id>/ holding state.json, a copy of config.json, the start socket
 * while the container is "created", and a lock file that serialises every
 * command on that id. */
#ifndef WARD_STATE_H
#define WARD_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"

enum container_status
{
  STATUS_CREATING,
  STATUS_CREATED,
  STATUS_RUNNING,
  STATUS_PAUSED,
  STATUS_STOPPED,
};

#define STATE_FILE "state.json"
#define STATE_CONFIG_FILE "config.json"
#define STATE_START_SOCKET "start.sock"
/* The policy create chose, so exec applies the same one. */
#define STATE_POLICY_FILE "policy"
/* Beside the containers, under a name no container id can take ('@'):
 * compiled seccomp programs (see seccomp_compile_file_audited). */
#define STATE_CACHE_DIR "@cache"
#define STATE_LOCK_FILE "lock"

struct container_state
{
  char *id;
  pid_t pid;
  uint64_t pid_start_time; /* /proc/<pid>/stat field 22: guards against pid reuse */
  char *bundle;
  char *rootfs;
  char *created; /* RFC 3339, UTC */
  char *owner;
  char **annotation_keys, **annotation_values;
  size_t annotations_count;
  struct cgroup cgroup; /* count 0: none recorded */
};

/* An open, locked container directory. */
struct state_handle
{
  char *root;
  char *id;
  int dir_fd;
  int lock_fd;
};

int state_validate_id (const char *id, struct ward_error **err);

/* mkdir <root>/<id> exclusively and take its lock: fails with
 * `container "ID" already exists`. */
int state_create (const char *root, const char *id, struct state_handle *out, struct ward_error **err);
/* Open and lock an existing container: `container "ID" does not exist`. */
int state_open (const char *root, const char *id, struct state_handle *out, struct ward_error **err);
void state_close (struct state_handle *handle);
/* Remove the container's directory (the handle stays valid to close). */
int state_destroy (struct state_handle *handle, struct ward_error **err);

int state_write (struct state_handle *handle, const struct container_state *state, struct ward_error **err);
/* Read state.json; a directory without one (create in progress) reads as
 * pid 0, which state_status reports as "creating". */
int state_read (struct state_handle *handle, struct container_state *out, struct ward_error **err);
/* Read the state of a container directory already open, without taking
 * its lock: `state`, `list` and `ps` must not wait on busy ids. */
int state_read_at (int dir_fd, const char *id, struct container_state *out, struct ward_error **err);
void state_clear (struct container_state *state);

enum container_status state_status (int dir_fd, const struct container_state *state);
const char *state_status_name (enum container_status status);

/* The container's state in the OCI/runc JSON shape; malloc'd. */
char *state_render_json (const struct container_state *state, enum container_status status, bool pretty);

/* Is pid alive and still the process that had start_time? */
bool state_process_alive (pid_t pid, uint64_t start_time);
int state_process_start_time (pid_t pid, uint64_t *out, struct ward_error **err);

/* Current time as RFC 3339 with nanoseconds. */
void state_now_rfc3339 (char *buf, size_t size);

#endif
