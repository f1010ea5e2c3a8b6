#include "config.h"
#include "state.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "json_field.h"
#include "json_writer.h"
#include "spec_default.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
state_validate_id (const char *id, struct ward_error **err)
{
  size_t length = strlen (id);
  if (length == 0)
    return ward_fail (err, 0, "container id must not be empty");
  if (length > 1024)
    return ward_fail (err, 0, "container id is longer than 1024 characters");
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return ward_fail (err, 0, "invalid container id \"%s\"", id);
  /* The id names a directory: the same character set as runc. */
  for (const char *p = id; *p; p++)
    if (!isalnum ((unsigned char)*p) && strchr ("_+-.", *p) == NULL)
      return ward_fail (err, 0, "invalid container id \"%s\": only letters, digits, _ + - . are allowed", id);
  return 0;
}

static int
fill_handle (const char *root, const char *id, int dir_fd, bool create, struct state_handle *out,
             struct ward_error **err)
{
  /* Only create makes the lock file: a command racing a delete must not
   * put one back into a directory being removed. */
  int lock_fd = openat (dir_fd, STATE_LOCK_FILE, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (lock_fd < 0 && errno == ENOENT)
    return ward_fail (err, 0, "container \"%s\" does not exist", id);
  if (lock_fd < 0)
    return ward_fail (err, errno, "open lock of container \"%s\"", id);
  if (flock (lock_fd, LOCK_EX) < 0)
    {
      close (lock_fd);
      return ward_fail (err, errno, "lock container \"%s\"", id);
    }
  out->root = strdup (root);
  out->id = strdup (id);
  out->dir_fd = dir_fd;
  out->lock_fd = lock_fd;
  if (out->root == NULL || out->id == NULL)
    {
      state_close (out);
      return ward_fail (err, ENOMEM, "container \"%s\"", id);
    }
  return 0;
}

int
state_create (const char *root, const char *id, struct state_handle *out, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  out->dir_fd = out->lock_fd = -1;
  if (state_validate_id (id, err) < 0)
    return -1;
  if (fs_mkdir_all (root, 0711, err) < 0)
    return ward_error_prefix (err, "state directory");
  cleanup_close int root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return ward_fail (err, errno, "open %s", root);
  if (mkdirat (root_fd, id, 0711) < 0)
    {
      if (errno == EEXIST)
        return ward_fail (err, 0, "container \"%s\" already exists", id);
      return ward_fail (err, errno, "mkdir %s/%s", root, id);
    }
  int dir_fd = openat (root_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      int saved = errno;
      unlinkat (root_fd, id, AT_REMOVEDIR);
      return ward_fail (err, saved, "open %s/%s", root, id);
    }
  if (fill_handle (root, id, dir_fd, true, out, err) < 0)
    {
      close (dir_fd);
      unlinkat (root_fd, id, AT_REMOVEDIR);
      return -1;
    }
  return 0;
}

int
state_open (const char *root, const char *id, struct state_handle *out, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  out->dir_fd = out->lock_fd = -1;
  if (state_validate_id (id, err) < 0)
    return -1;
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/%s", root, id) < 0)
    return ward_fail (err, ENOMEM, "container \"%s\"", id);
  int dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return ward_fail (err, 0, "container \"%s\" does not exist", id);
      return ward_fail (err, errno, "open %s", path);
    }
  if (fill_handle (root, id, dir_fd, false, out, err) < 0)
    {
      close (dir_fd);
      return -1;
    }
  /* Another command may have deleted the container while we waited for the
   * lock: its directory is then unlinked. */
  struct stat st;
  if (fstat (dir_fd, &st) < 0 || st.st_nlink == 0)
    {
      state_close (out);
      return ward_fail (err, 0, "container \"%s\" does not exist", id);
    }
  return 0;
}

void
state_close (struct state_handle *handle)
{
  if (handle->lock_fd >= 0)
    close (handle->lock_fd);
  if (handle->dir_fd >= 0)
    close (handle->dir_fd);
  free (handle->root);
  free (handle->id);
  memset (handle, 0, sizeof *handle);
  handle->dir_fd = handle->lock_fd = -1;
}

int
state_destroy (struct state_handle *handle, struct ward_error **err)
{
  cleanup_close int root_fd = open (handle->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return ward_fail (err, errno, "open %s", handle->root);
  /* The lock stays held (by fd) until state_close, so waiters see the
   * directory gone only once everything in it is. */
  return fs_remove_tree_at (root_fd, handle->id, err);
}

int
state_write (struct state_handle *handle, const struct container_state *state, struct ward_error **err)
{
  struct json_writer *w = jw_new (false);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "write state");
  jw_begin_object (w);
  jw_key_string (w, "id", state->id);
  jw_key_int (w, "pid", state->pid);
  jw_key (w, "pidStartTime");
  jw_uint (w, state->pid_start_time);
  jw_key_string (w, "bundle", state->bundle);
  jw_key_string (w, "rootfs", state->rootfs);
  jw_key_string (w, "created", state->created);
  jw_key_string (w, "owner", state->owner);
  jw_key (w, "annotations");
  jw_begin_object (w);
  for (size_t i = 0; i < state->annotations_count; i++)
    jw_key_string (w, state->annotation_keys[i], state->annotation_values[i]);
  jw_end_object (w);
  jw_key (w, "cgroup");
  cgroup_write_json (&state->cgroup, w);
  jw_end_object (w);
  size_t length;
  const char *text = jw_text (w, &length);
  int ret = text ? fs_write_file_atomic (handle->dir_fd, STATE_FILE, text, length, 0600, err)
                 : ward_fail (err, ENOMEM, "write state");
  jw_free (w);
  return ret;
}

static int
parse_state (const char *id, const char *text, size_t length, struct container_state *out,
             struct ward_error **err)
{
  struct json_document *doc = NULL;
  if (json_parse (STATE_FILE, text, length, &doc, err) < 0)
    return ward_error_prefix (err, "container \"%s\"", id);
  const struct json_value *root = doc->root;
  int64_t pid = 0;
  const struct json_value *annotations = NULL, *cgroup = NULL;
  int ret = 0;
  if (field_string (doc, root, "", "id", true, &out->id, err) < 0
      || field_int64 (doc, root, "", "pid", true, &pid, NULL, err) < 0
      || field_uint64 (doc, root, "", "pidStartTime", false, &out->pid_start_time, NULL, err) < 0
      || field_string (doc, root, "", "bundle", true, &out->bundle, err) < 0
      || field_string (doc, root, "", "rootfs", true, &out->rootfs, err) < 0
      || field_string (doc, root, "", "created", true, &out->created, err) < 0
      || field_string (doc, root, "", "owner", false, &out->owner, err) < 0
      || field_object (doc, root, "", "annotations", false, &annotations, err) < 0
      || field_object (doc, root, "", "cgroup", false, &cgroup, err) < 0
      || (cgroup && cgroup_read_json (doc, cgroup, &out->cgroup, err) < 0))
    ret = ward_error_prefix (err, "container \"%s\"", id);
  else
    {
      out->pid = (pid_t)pid;
      size_t n = annotations ? annotations->u.object.count : 0;
      out->annotation_keys = calloc (n + 1, sizeof (char *));
      out->annotation_values = calloc (n + 1, sizeof (char *));
      for (size_t i = 0; i < n && out->annotation_keys && out->annotation_values; i++)
        {
          const struct json_value *v = annotations->u.object.values[i];
          out->annotation_keys[i] = strdup (annotations->u.object.keys[i]);
          out->annotation_values[i] = strdup (v->type == JSON_STRING ? v->u.string : "");
          out->annotations_count++;
        }
    }
  json_document_free (doc);
  return ret;
}

int
state_read_at (int dir_fd, const char *id, struct container_state *out, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  cleanup_free char *text = NULL;
  size_t length = 0;
  struct ward_error *read_err = NULL;
  if (fs_read_file_at (dir_fd, STATE_FILE, &text, &length, &read_err) < 0)
    {
      if (read_err->errnum != ENOENT)
        {
          *err = read_err;
          return ward_error_prefix (err, "container \"%s\"", id);
        }
      ward_error_free (&read_err);
      /* Still being created: nothing but the id is known yet. */
      out->id = strdup (id);
      out->bundle = strdup ("");
      out->rootfs = strdup ("");
      out->created = strdup ("");
      if (out->id == NULL || out->bundle == NULL || out->rootfs == NULL || out->created == NULL)
        return ward_fail (err, ENOMEM, "container \"%s\"", id);
      return 0;
    }
  return parse_state (id, text, length, out, err);
}

int
state_read (struct state_handle *handle, struct container_state *out, struct ward_error **err)
{
  return state_read_at (handle->dir_fd, handle->id, out, err);
}

void
state_clear (struct container_state *state)
{
  free (state->id);
  free (state->bundle);
  free (state->rootfs);
  free (state->created);
  free (state->owner);
  for (size_t i = 0; i < state->annotations_count; i++)
    {
      free (state->annotation_keys[i]);
      free (state->annotation_values[i]);
    }
  free (state->annotation_keys);
  free (state->annotation_values);
  cgroup_clear (&state->cgroup);
  memset (state, 0, sizeof *state);
}

/* Fields 3 (state) and 22 (starttime) of /proc/<pid>/stat.  The command
 * name (field 2) may hold spaces and parentheses, so parse after the last
 * ')'. */
static int
read_proc_stat (pid_t pid, char *state_char, unsigned long long *start_time)
{
  char path[64], buffer[1024];
  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buffer, sizeof buffer - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buffer[n] = '\0';
  char *p = strrchr (buffer, ')');
  if (p == NULL || p[1] == '\0')
    return -1;
  p += 2;
  *state_char = *p;
  /* p is at field 3; starttime is field 22. */
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return -1;
      p++;
    }
  *start_time = strtoull (p, NULL, 10);
  return 0;
}

int
state_process_start_time (pid_t pid, uint64_t *out, struct ward_error **err)
{
  char state_char;
  unsigned long long start_time;
  if (read_proc_stat (pid, &state_char, &start_time) < 0)
    return ward_fail (err, errno, "read /proc/%d/stat", pid);
  *out = start_time;
  return 0;
}

bool
state_process_alive (pid_t pid, uint64_t start_time)
{
  char state_char;
  unsigned long long now_start;
  if (pid <= 0 || read_proc_stat (pid, &state_char, &now_start) < 0)
    return false;
  if (state_char == 'Z' || state_char == 'X')
    return false;
  return start_time == 0 || now_start == start_time;
}

enum container_status
state_status (int dir_fd, const struct container_state *state)
{
  if (state->pid <= 0)
    return STATUS_CREATING;
  if (!state_process_alive (state->pid, state->pid_start_time))
    return STATUS_STOPPED;
  if (faccessat (dir_fd, STATE_START_SOCKET, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return STATUS_CREATED;
  if (state->cgroup.count > 0 && cgroup_is_frozen (&state->cgroup))
    return STATUS_PAUSED;
  return STATUS_RUNNING;
}

const char *
state_status_name (enum container_status status)
{
  switch (status)
    {
    case STATUS_CREATING:
      return "creating";
    case STATUS_CREATED:
      return "created";
    case STATUS_RUNNING:
      return "running";
    case STATUS_PAUSED:
      return "paused";
    case STATUS_STOPPED:
      return "stopped";
    }
  return "unknown";
}

char *
state_render_json (const struct container_state *state, enum container_status status, bool pretty)
{
  struct json_writer *w = jw_new (pretty);
  if (w == NULL)
    return NULL;
  jw_begin_object (w);
  jw_key_string (w, "ociVersion", WARD_OCI_VERSION);
  jw_key_string (w, "id", state->id);
  /* A stopped container has no process to point at. */
  jw_key_int (w, "pid", status == STATUS_STOPPED ? 0 : state->pid);
  jw_key_string (w, "status", state_status_name (status));
  jw_key_string (w, "bundle", state->bundle);
  jw_key_string (w, "rootfs", state->rootfs);
  jw_key_string (w, "created", state->created);
  jw_key_string (w, "owner", state->owner ? state->owner : "");
  if (state->annotations_count > 0)
    {
      jw_key (w, "annotations");
      jw_begin_object (w);
      for (size_t i = 0; i < state->annotations_count; i++)
        jw_key_string (w, state->annotation_keys[i], state->annotation_values[i]);
      jw_end_object (w);
    }
  jw_end_object (w);
  size_t length = 0;
  const char *text = jw_text (w, &length);
  char *copy = text ? strndup (text, length) : NULL;
  jw_free (w);
  return copy;
}

void
state_now_rfc3339 (char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}
