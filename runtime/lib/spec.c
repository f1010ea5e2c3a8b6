/* config.json → struct spec.  Each section has its own parse function; all
 * type errors go through json_field.h so they read the same everywhere. */
#include "config.h"
#include "spec.h"
#include "json_field.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DOC (spec->doc)

static const char *const namespace_names[NS_KIND_COUNT] = {
  [NS_PID] = "pid", [NS_NETWORK] = "network", [NS_MOUNT] = "mount",   [NS_IPC] = "ipc",
  [NS_UTS] = "uts", [NS_USER] = "user",       [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};

static const char *const hook_point_names[HOOK_POINT_COUNT] = {
  [HOOK_PRESTART] = "prestart",
  [HOOK_CREATE_RUNTIME] = "createRuntime",
  [HOOK_CREATE_CONTAINER] = "createContainer",
  [HOOK_START_CONTAINER] = "startContainer",
  [HOOK_POSTSTART] = "poststart",
  [HOOK_POSTSTOP] = "poststop",
};

const char *
spec_namespace_name (enum spec_namespace_kind kind)
{
  return namespace_names[kind];
}

const char *
spec_hook_point_name (enum spec_hook_point point)
{
  return hook_point_names[point];
}

/* Iterate an optional array field: *array is NULL when absent. */
static int
optional_array (const struct json_document *doc, const struct json_value *object, const char *parent,
                const char *key, const struct json_value **array, struct ward_error **err)
{
  *array = NULL;
  return field_array (doc, object, parent, key, false, array, err);
}

static int
parse_mounts (struct spec *spec, const struct json_value *root, struct ward_error **err)
{
  const struct json_value *array;
  if (optional_array (DOC, root, "", "mounts", &array, err) < 0)
    return -1;
  if (array == NULL)
    return 0;
  spec->mounts = calloc (array->u.array.count, sizeof *spec->mounts);
  if (spec->mounts == NULL && array->u.array.count)
    return ward_fail (err, ENOMEM, "mounts");
  for (size_t i = 0; i < array->u.array.count; i++)
    {
      char path[FIELD_PATH_MAX];
      const struct json_value *item = array->u.array.items[i];
      struct spec_mount *m = &spec->mounts[spec->mounts_count++];
      field_index_path (path, "mounts", i);
      if (item->type != JSON_OBJECT)
        return field_type_error (DOC, item, path, "an object", err);
      if (field_string (DOC, item, path, "destination", true, &m->destination, err) < 0
          || field_string (DOC, item, path, "type", false, &m->type, err) < 0
          || field_string (DOC, item, path, "source", false, &m->source, err) < 0
          || field_string_array (DOC, item, path, "options", false, &m->options, &m->options_count, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_capabilities (const struct json_document *doc, const struct json_value *process, const char *parent,
                    struct spec_capabilities *caps, struct ward_error **err)
{
  const struct json_value *object = NULL;
  char path[FIELD_PATH_MAX];
  if (field_object (doc, process, parent, "capabilities", false, &object, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  caps->present = true;
  field_path (path, parent, "capabilities");
  if (field_string_array (doc, object, path, "bounding", false, &caps->bounding, &caps->bounding_count, err)
          < 0
      || field_string_array (doc, object, path, "effective", false, &caps->effective, &caps->effective_count,
                             err)
          < 0
      || field_string_array (doc, object, path, "permitted", false, &caps->permitted, &caps->permitted_count,
                             err)
          < 0
      || field_string_array (doc, object, path, "inheritable", false, &caps->inheritable,
                             &caps->inheritable_count, err)
          < 0
      || field_string_array (doc, object, path, "ambient", false, &caps->ambient, &caps->ambient_count, err)
          < 0)
    return -1;
  return 0;
}

static int
parse_user (const struct json_document *doc, const struct json_value *process, const char *parent,
            struct spec_user *user, struct ward_error **err)
{
  const struct json_value *object = NULL;
  char path[FIELD_PATH_MAX];
  if (field_object (doc, process, parent, "user", false, &object, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  field_path (path, parent, "user");
  uint32_t uid = 0, gid = 0, umask_value = 0;
  if (field_uint32 (doc, object, path, "uid", false, &uid, NULL, err) < 0
      || field_uint32 (doc, object, path, "gid", false, &gid, NULL, err) < 0
      || field_uint32 (doc, object, path, "umask", false, &umask_value, &user->has_umask, err) < 0)
    return -1;
  user->uid = uid;
  user->gid = gid;
  user->umask = umask_value & 07777;

  const struct json_value *gids = NULL;
  if (optional_array (doc, object, path, "additionalGids", &gids, err) < 0)
    return -1;
  if (gids)
    {
      char gids_path[FIELD_PATH_MAX];
      field_path (gids_path, path, "additionalGids");
      user->additional_gids = calloc (gids->u.array.count + 1, sizeof (gid_t));
      if (user->additional_gids == NULL)
        return ward_fail (err, ENOMEM, "%s", gids_path);
      for (size_t i = 0; i < gids->u.array.count; i++)
        {
          uint64_t g;
          char item_path[FIELD_PATH_MAX];
          field_index_path (item_path, gids_path, i);
          if (value_uint64 (doc, gids->u.array.items[i], item_path, &g, err) < 0)
            return -1;
          if (g > UINT32_MAX)
            return field_error (doc, gids->u.array.items[i], item_path, err, "gid out of range");
          user->additional_gids[user->additional_gids_count++] = (gid_t)g;
        }
    }
  return 0;
}

static int
parse_rlimits (const struct json_document *doc, const struct json_value *process, const char *parent,
               struct spec_process *p, struct ward_error **err)
{
  const struct json_value *array = NULL;
  char path[FIELD_PATH_MAX];
  if (optional_array (doc, process, parent, "rlimits", &array, err) < 0)
    return -1;
  if (array == NULL)
    return 0;
  field_path (path, parent, "rlimits");
  p->rlimits = calloc (array->u.array.count + 1, sizeof *p->rlimits);
  if (p->rlimits == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  for (size_t i = 0; i < array->u.array.count; i++)
    {
      char item_path[FIELD_PATH_MAX];
      const struct json_value *item = array->u.array.items[i];
      struct spec_rlimit *r = &p->rlimits[p->rlimits_count++];
      field_index_path (item_path, path, i);
      if (item->type != JSON_OBJECT)
        return field_type_error (doc, item, item_path, "an object", err);
      if (field_string (doc, item, item_path, "type", true, &r->type, err) < 0
          || field_uint64 (doc, item, item_path, "hard", true, &r->hard, NULL, err) < 0
          || field_uint64 (doc, item, item_path, "soft", true, &r->soft, NULL, err) < 0)
        return -1;
    }
  return 0;
}

int
spec_parse_process (const struct json_document *doc, const struct json_value *object, const char *path,
                    struct spec_process **out, struct ward_error **err)
{
  if (object->type != JSON_OBJECT)
    return field_type_error (doc, object, path, "an object", err);
  struct spec_process *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ward_fail (err, ENOMEM, "%s", path);

  const struct json_value *console = NULL;
  int64_t oom = 0;
  if (field_bool (doc, object, path, "terminal", &p->terminal, err) < 0
      || field_string_array (doc, object, path, "args", true, &p->args, &p->args_count, err) < 0
      || field_string_array (doc, object, path, "env", false, &p->env, &p->env_count, err) < 0
      || field_string (doc, object, path, "cwd", false, &p->cwd, err) < 0
      || parse_user (doc, object, path, &p->user, err) < 0
      || parse_capabilities (doc, object, path, &p->capabilities, err) < 0
      || parse_rlimits (doc, object, path, p, err) < 0
      || field_bool (doc, object, path, "noNewPrivileges", &p->no_new_privileges, err) < 0
      || field_string (doc, object, path, "apparmorProfile", false, &p->apparmor_profile, err) < 0
      || field_string (doc, object, path, "selinuxLabel", false, &p->selinux_label, err) < 0
      || field_int64 (doc, object, path, "oomScoreAdj", false, &oom, &p->has_oom_score_adj, err) < 0
      || field_object (doc, object, path, "consoleSize", false, &console, err) < 0
      || field_object (doc, object, path, "ioPriority", false, &p->io_priority, err) < 0
      || field_object (doc, object, path, "scheduler", false, &p->scheduler, err) < 0)
    goto fail;

  if (p->args_count == 0)
    {
      char args_path[FIELD_PATH_MAX];
      field_path (args_path, path, "args");
      field_error (doc, json_object_get (object, "args"), args_path, err, "must not be empty");
      goto fail;
    }
  if (p->has_oom_score_adj)
    {
      if (oom < -1000 || oom > 1000)
        {
          char oom_path[FIELD_PATH_MAX];
          field_path (oom_path, path, "oomScoreAdj");
          field_error (doc, json_object_get (object, "oomScoreAdj"), oom_path, err,
                       "%lld is outside -1000..1000", (long long)oom);
          goto fail;
        }
      p->oom_score_adj = (int)oom;
    }
  if (console)
    {
      char console_path[FIELD_PATH_MAX];
      uint32_t height = 0, width = 0;
      field_path (console_path, path, "consoleSize");
      if (field_uint32 (doc, console, console_path, "height", true, &height, NULL, err) < 0
          || field_uint32 (doc, console, console_path, "width", true, &width, NULL, err) < 0)
        goto fail;
      p->console_height = height;
      p->console_width = width;
      p->has_console_size = true;
    }
  if (p->env == NULL)
    {
      p->env = calloc (1, sizeof (char *));
      if (p->env == NULL)
        {
          ward_fail (err, ENOMEM, "%s", path);
          goto fail;
        }
    }
  *out = p;
  return 0;
fail:
  spec_process_free (p);
  return -1;
}

static int
parse_hooks (struct spec *spec, const struct json_value *root, struct ward_error **err)
{
  const struct json_value *hooks = NULL;
  if (field_object (DOC, root, "", "hooks", false, &hooks, err) < 0)
    return -1;
  if (hooks == NULL)
    return 0;
  for (int point = 0; point < HOOK_POINT_COUNT; point++)
    {
      const struct json_value *array = NULL;
      char path[FIELD_PATH_MAX];
      if (optional_array (DOC, hooks, "hooks", hook_point_names[point], &array, err) < 0)
        return -1;
      if (array == NULL)
        continue;
      field_path (path, "hooks", hook_point_names[point]);
      spec->hooks[point] = calloc (array->u.array.count + 1, sizeof (struct spec_hook));
      if (spec->hooks[point] == NULL)
        return ward_fail (err, ENOMEM, "%s", path);
      for (size_t i = 0; i < array->u.array.count; i++)
        {
          char item_path[FIELD_PATH_MAX];
          const struct json_value *item = array->u.array.items[i];
          struct spec_hook *h = &spec->hooks[point][spec->hooks_count[point]++];
          int64_t timeout = 0;
          bool has_timeout = false;
          field_index_path (item_path, path, i);
          if (item->type != JSON_OBJECT)
            return field_type_error (DOC, item, item_path, "an object", err);
          if (field_string (DOC, item, item_path, "path", true, &h->path, err) < 0
              || field_string_array (DOC, item, item_path, "args", false, &h->args, &h->args_count, err) < 0
              || field_string_array (DOC, item, item_path, "env", false, &h->env, &h->env_count, err) < 0
              || field_int64 (DOC, item, item_path, "timeout", false, &timeout, &has_timeout, err) < 0)
            return -1;
          if (has_timeout && timeout <= 0)
            {
              char timeout_path[FIELD_PATH_MAX];
              field_path (timeout_path, item_path, "timeout");
              return field_error (DOC, json_object_get (item, "timeout"), timeout_path, err,
                                  "must be greater than zero");
            }
          h->timeout = (int)(timeout > 86400 * 365 ? 86400 * 365 : timeout);
        }
    }
  return 0;
}

static int
parse_annotations (struct spec *spec, const struct json_value *root, struct ward_error **err)
{
  const struct json_value *object = NULL;
  if (field_object (DOC, root, "", "annotations", false, &object, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  spec->annotations = calloc (object->u.object.count + 1, sizeof *spec->annotations);
  if (spec->annotations == NULL)
    return ward_fail (err, ENOMEM, "annotations");
  for (size_t i = 0; i < object->u.object.count; i++)
    {
      char path[FIELD_PATH_MAX];
      struct spec_annotation *a = &spec->annotations[spec->annotations_count];
      field_path (path, "annotations", object->u.object.keys[i]);
      if (value_string (DOC, object->u.object.values[i], path, &a->value, err) < 0)
        return -1;
      a->key = strdup (object->u.object.keys[i]);
      if (a->key == NULL)
        return ward_fail (err, ENOMEM, "annotations");
      spec->annotations_count++;
    }
  return 0;
}

const char *
spec_annotation (const struct spec *spec, const char *key)
{
  for (size_t i = spec->annotations_count; i-- > 0;)
    if (strcmp (spec->annotations[i].key, key) == 0)
      return spec->annotations[i].value;
  return NULL;
}

static int
parse_namespaces (struct spec *spec, const struct json_value *linux_obj, struct ward_error **err)
{
  const struct json_value *array = NULL;
  if (optional_array (DOC, linux_obj, "linux", "namespaces", &array, err) < 0)
    return -1;
  if (array == NULL)
    return 0;
  for (size_t i = 0; i < array->u.array.count; i++)
    {
      char path[FIELD_PATH_MAX];
      const struct json_value *item = array->u.array.items[i];
      cleanup_free char *type = NULL;
      field_index_path (path, "linux.namespaces", i);
      if (item->type != JSON_OBJECT)
        return field_type_error (DOC, item, path, "an object", err);
      if (field_string (DOC, item, path, "type", true, &type, err) < 0)
        return -1;
      int kind = -1;
      for (int k = 0; k < NS_KIND_COUNT; k++)
        if (strcmp (type, namespace_names[k]) == 0)
          kind = k;
      if (kind < 0)
        {
          char type_path[FIELD_PATH_MAX];
          field_path (type_path, path, "type");
          return field_error (DOC, json_object_get (item, "type"), type_path, err,
                              "unknown namespace type \"%s\"", type);
        }
      struct spec_namespace *ns = &spec->linux_config.namespaces[kind];
      if (ns->requested)
        return field_error (DOC, item, path, err, "namespace \"%s\" is listed twice", type);
      ns->requested = true;
      if (field_string (DOC, item, path, "path", false, &ns->path, err) < 0)
        return -1;
      if (ns->path && ns->path[0] == '\0')
        {
          free (ns->path);
          ns->path = NULL;
        }
    }
  return 0;
}

static int
parse_id_mappings (struct spec *spec, const struct json_value *linux_obj, const char *key,
                   struct spec_id_mapping **out, size_t *count, struct ward_error **err)
{
  const struct json_value *array = NULL;
  char path[FIELD_PATH_MAX];
  if (optional_array (DOC, linux_obj, "linux", key, &array, err) < 0)
    return -1;
  if (array == NULL)
    return 0;
  field_path (path, "linux", key);
  *out = calloc (array->u.array.count + 1, sizeof **out);
  if (*out == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  for (size_t i = 0; i < array->u.array.count; i++)
    {
      char item_path[FIELD_PATH_MAX];
      const struct json_value *item = array->u.array.items[i];
      struct spec_id_mapping *m = &(*out)[(*count)++];
      field_index_path (item_path, path, i);
      if (item->type != JSON_OBJECT)
        return field_type_error (DOC, item, item_path, "an object", err);
      if (field_uint32 (DOC, item, item_path, "containerID", true, &m->container_id, NULL, err) < 0
          || field_uint32 (DOC, item, item_path, "hostID", true, &m->host_id, NULL, err) < 0
          || field_uint32 (DOC, item, item_path, "size", true, &m->size, NULL, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_devices (struct spec *spec, const struct json_value *linux_obj, struct ward_error **err)
{
  const struct json_value *array = NULL;
  if (optional_array (DOC, linux_obj, "linux", "devices", &array, err) < 0)
    return -1;
  if (array == NULL)
    return 0;
  spec->linux_config.devices = calloc (array->u.array.count + 1, sizeof *spec->linux_config.devices);
  if (spec->linux_config.devices == NULL)
    return ward_fail (err, ENOMEM, "linux.devices");
  for (size_t i = 0; i < array->u.array.count; i++)
    {
      char path[FIELD_PATH_MAX];
      const struct json_value *item = array->u.array.items[i];
      struct spec_device *d = &spec->linux_config.devices[spec->linux_config.devices_count++];
      cleanup_free char *type = NULL;
      uint32_t mode = 0, uid = 0, gid = 0;
      field_index_path (path, "linux.devices", i);
      if (item->type != JSON_OBJECT)
        return field_type_error (DOC, item, path, "an object", err);
      if (field_string (DOC, item, path, "path", true, &d->path, err) < 0
          || field_string (DOC, item, path, "type", true, &type, err) < 0
          || field_int64 (DOC, item, path, "major", false, &d->major, NULL, err) < 0
          || field_int64 (DOC, item, path, "minor", false, &d->minor, NULL, err) < 0
          || field_uint32 (DOC, item, path, "fileMode", false, &mode, &d->has_mode, err) < 0
          || field_uint32 (DOC, item, path, "uid", false, &uid, &d->has_uid, err) < 0
          || field_uint32 (DOC, item, path, "gid", false, &gid, &d->has_gid, err) < 0)
        return -1;
      if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
        {
          char type_path[FIELD_PATH_MAX];
          field_path (type_path, path, "type");
          return field_error (DOC, json_object_get (item, "type"), type_path, err,
                              "unknown device type \"%s\" (expected c, b, u or p)", type);
        }
      if (type[0] != 'p'
          && (json_object_get (item, "major") == NULL || json_object_get (item, "minor") == NULL))
        return field_error (DOC, item, path, err, "major and minor are required for device type %s", type);
      d->type = type[0];
      d->file_mode = mode & 07777;
      d->uid = uid;
      d->gid = gid;
      if (d->path[0] != '/')
        {
          char dev_path[FIELD_PATH_MAX];
          field_path (dev_path, path, "path");
          return field_error (DOC, json_object_get (item, "path"), dev_path, err, "must be an absolute path");
        }
    }
  return 0;
}

static int
parse_sysctl (struct spec *spec, const struct json_value *linux_obj, struct ward_error **err)
{
  const struct json_value *object = NULL;
  if (field_object (DOC, linux_obj, "linux", "sysctl", false, &object, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  spec->linux_config.sysctl = calloc (object->u.object.count + 1, sizeof *spec->linux_config.sysctl);
  if (spec->linux_config.sysctl == NULL)
    return ward_fail (err, ENOMEM, "linux.sysctl");
  for (size_t i = 0; i < object->u.object.count; i++)
    {
      char path[FIELD_PATH_MAX];
      struct spec_sysctl *s = &spec->linux_config.sysctl[spec->linux_config.sysctl_count];
      field_path (path, "linux.sysctl", object->u.object.keys[i]);
      if (value_string (DOC, object->u.object.values[i], path, &s->value, err) < 0)
        return -1;
      s->key = strdup (object->u.object.keys[i]);
      if (s->key == NULL)
        return ward_fail (err, ENOMEM, "linux.sysctl");
      spec->linux_config.sysctl_count++;
    }
  return 0;
}

static int
parse_time_offsets (struct spec *spec, const struct json_value *linux_obj, struct ward_error **err)
{
  const struct json_value *object = NULL;
  if (field_object (DOC, linux_obj, "linux", "timeOffsets", false, &object, err) < 0)
    return -1;
  if (object == NULL)
    return 0;
  static const char *const clocks[] = { "monotonic", "boottime" };
  struct spec_time_offset *targets[]
      = { &spec->linux_config.time_monotonic, &spec->linux_config.time_boottime };
  for (size_t i = 0; i < 2; i++)
    {
      const struct json_value *clock = NULL;
      char path[FIELD_PATH_MAX];
      field_path (path, "linux.timeOffsets", clocks[i]);
      if (field_object (DOC, object, "linux.timeOffsets", clocks[i], false, &clock, err) < 0)
        return -1;
      if (clock == NULL)
        continue;
      targets[i]->present = true;
      if (field_int64 (DOC, clock, path, "secs", false, &targets[i]->secs, NULL, err) < 0
          || field_uint32 (DOC, clock, path, "nanosecs", false, &targets[i]->nanosecs, NULL, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_linux (struct spec *spec, const struct json_value *root, struct ward_error **err)
{
  const struct json_value *linux_obj = NULL;
  struct spec_linux *l = &spec->linux_config;
  if (field_object (DOC, root, "", "linux", false, &linux_obj, err) < 0)
    return -1;
  if (linux_obj == NULL)
    return 0;
  if (parse_namespaces (spec, linux_obj, err) < 0
      || parse_id_mappings (spec, linux_obj, "uidMappings", &l->uid_mappings, &l->uid_mappings_count, err) < 0
      || parse_id_mappings (spec, linux_obj, "gidMappings", &l->gid_mappings, &l->gid_mappings_count, err) < 0
      || parse_devices (spec, linux_obj, err) < 0
      || field_string (DOC, linux_obj, "linux", "cgroupsPath", false, &l->cgroups_path, err) < 0
      || parse_sysctl (spec, linux_obj, err) < 0
      || field_string_array (DOC, linux_obj, "linux", "maskedPaths", false, &l->masked_paths,
                             &l->masked_paths_count, err)
          < 0
      || field_string_array (DOC, linux_obj, "linux", "readonlyPaths", false, &l->readonly_paths,
                             &l->readonly_paths_count, err)
          < 0
      || field_string (DOC, linux_obj, "linux", "rootfsPropagation", false, &l->rootfs_propagation, err) < 0
      || field_string (DOC, linux_obj, "linux", "mountLabel", false, &l->mount_label, err) < 0
      || parse_time_offsets (spec, linux_obj, err) < 0
      || field_object (DOC, linux_obj, "linux", "resources", false, &l->resources, err) < 0
      || field_object (DOC, linux_obj, "linux", "seccomp", false, &l->seccomp, err) < 0
      || field_object (DOC, linux_obj, "linux", "personality", false, &l->personality, err) < 0)
    return -1;
  return 0;
}

static int
parse_document (struct spec *spec, struct ward_error **err)
{
  const struct json_value *root = DOC->root;
  if (root->type != JSON_OBJECT)
    return field_type_error (DOC, root, "(document)", "an object", err);

  const struct json_value *root_obj = NULL, *process = NULL;
  if (field_string (DOC, root, "", "ociVersion", true, &spec->oci_version, err) < 0
      || field_object (DOC, root, "", "root", false, &root_obj, err) < 0
      || field_string (DOC, root, "", "hostname", false, &spec->hostname, err) < 0
      || field_string (DOC, root, "", "domainname", false, &spec->domainname, err) < 0
      || field_object (DOC, root, "", "process", false, &process, err) < 0)
    return -1;
  if (root_obj)
    {
      if (field_string (DOC, root_obj, "root", "path", true, &spec->root_path, err) < 0
          || field_bool (DOC, root_obj, "root", "readonly", &spec->root_readonly, err) < 0)
        return -1;
    }
  if (process && spec_parse_process (DOC, process, "process", &spec->process, err) < 0)
    return -1;
  if (parse_mounts (spec, root, err) < 0 || parse_hooks (spec, root, err) < 0
      || parse_annotations (spec, root, err) < 0 || parse_linux (spec, root, err) < 0)
    return -1;
  return 0;
}

int
spec_parse (const char *name, const char *text, size_t length, struct spec **out, struct ward_error **err)
{
  struct spec *spec = calloc (1, sizeof *spec);
  if (spec == NULL)
    return ward_fail (err, ENOMEM, "%s", name);
  if (json_parse (name, text, length, &spec->doc, err) < 0 || parse_document (spec, err) < 0)
    {
      spec_free (spec);
      return -1;
    }
  *out = spec;
  return 0;
}

int
spec_load (const char *config_path, struct spec **out, struct ward_error **err)
{
  struct spec *spec = calloc (1, sizeof *spec);
  if (spec == NULL)
    return ward_fail (err, ENOMEM, "%s", config_path);
  const char *slash = strrchr (config_path, '/');
  const char *display = slash ? slash + 1 : config_path;
  if (json_parse_file (config_path, display, &spec->doc, err) < 0 || parse_document (spec, err) < 0)
    {
      spec_free (spec);
      return -1;
    }
  *out = spec;
  return 0;
}

void
spec_process_free (struct spec_process *p)
{
  if (p == NULL)
    return;
  string_array_free (p->args);
  string_array_free (p->env);
  free (p->cwd);
  free (p->user.additional_gids);
  struct spec_capabilities *c = &p->capabilities;
  string_array_free (c->bounding);
  string_array_free (c->effective);
  string_array_free (c->permitted);
  string_array_free (c->inheritable);
  string_array_free (c->ambient);
  for (size_t i = 0; i < p->rlimits_count; i++)
    free (p->rlimits[i].type);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p);
}

void
spec_free (struct spec *spec)
{
  if (spec == NULL)
    return;
  free (spec->oci_version);
  free (spec->root_path);
  free (spec->hostname);
  free (spec->domainname);
  spec_process_free (spec->process);
  for (size_t i = 0; i < spec->mounts_count; i++)
    {
      free (spec->mounts[i].destination);
      free (spec->mounts[i].type);
      free (spec->mounts[i].source);
      string_array_free (spec->mounts[i].options);
    }
  free (spec->mounts);
  for (int point = 0; point < HOOK_POINT_COUNT; point++)
    {
      for (size_t i = 0; i < spec->hooks_count[point]; i++)
        {
          free (spec->hooks[point][i].path);
          string_array_free (spec->hooks[point][i].args);
          string_array_free (spec->hooks[point][i].env);
        }
      free (spec->hooks[point]);
    }
  for (size_t i = 0; i < spec->annotations_count; i++)
    {
      free (spec->annotations[i].key);
      free (spec->annotations[i].value);
    }
  free (spec->annotations);
  struct spec_linux *l = &spec->linux_config;
  for (int k = 0; k < NS_KIND_COUNT; k++)
    free (l->namespaces[k].path);
  free (l->uid_mappings);
  free (l->gid_mappings);
  for (size_t i = 0; i < l->devices_count; i++)
    free (l->devices[i].path);
  free (l->devices);
  free (l->cgroups_path);
  for (size_t i = 0; i < l->sysctl_count; i++)
    {
      free (l->sysctl[i].key);
      free (l->sysctl[i].value);
    }
  free (l->sysctl);
  string_array_free (l->masked_paths);
  string_array_free (l->readonly_paths);
  free (l->rootfs_propagation);
  free (l->mount_label);
  json_document_free (spec->doc);
  free (spec);
}
