#include "config.h"
#include "json_field.h"
#include "cleanup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
field_path (char buf[FIELD_PATH_MAX], const char *parent, const char *key)
{
  if (parent == NULL || parent[0] == '\0')
    snprintf (buf, FIELD_PATH_MAX, "%s", key);
  else
    snprintf (buf, FIELD_PATH_MAX, "%s.%s", parent, key);
  return buf;
}

const char *
field_index_path (char buf[FIELD_PATH_MAX], const char *parent, size_t index)
{
  snprintf (buf, FIELD_PATH_MAX, "%s[%zu]", parent, index);
  return buf;
}

int
field_error (const struct json_document *doc, const struct json_value *value, const char *path,
             struct ward_error **err, const char *fmt, ...)
{
  cleanup_free char *what = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&what, fmt, ap) < 0)
    what = NULL;
  va_end (ap);
  unsigned line = 0, column = 0;
  if (value)
    json_position (doc, value->offset, &line, &column);
  if (value)
    return ward_fail (err, 0, "%s: %s: %s at line %u, column %u", doc->name, path, what ? what : "invalid",
                      line, column);
  return ward_fail (err, 0, "%s: %s: %s", doc->name, path, what ? what : "invalid");
}

int
field_type_error (const struct json_document *doc, const struct json_value *value, const char *path,
                  const char *what, struct ward_error **err)
{
  return field_error (doc, value, path, err, "expected %s", what);
}

int
field_missing (const struct json_document *doc, const struct json_value *parent, const char *path,
               struct ward_error **err)
{
  (void)parent;
  return ward_fail (err, 0, "%s: %s: required field is missing", doc->name, path);
}

/* Common front of every reader: find the member, handle absence. Returns 1
 * when a value is there to convert, 0 when absent, -1 on error. */
static int
lookup (const struct json_document *doc, const struct json_value *object, const char *path, const char *key,
        bool required, const struct json_value **out, struct ward_error **err)
{
  const struct json_value *v = json_object_get (object, key);
  if (v == NULL || v->type == JSON_NULL)
    {
      if (required)
        return field_missing (doc, object, path, err);
      return 0;
    }
  *out = v;
  return 1;
}

int
value_string (const struct json_document *doc, const struct json_value *v, const char *path, char **out,
              struct ward_error **err)
{
  if (v->type != JSON_STRING)
    return field_type_error (doc, v, path, "a string", err);
  char *copy = strdup (v->u.string);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  free (*out);
  *out = copy;
  return 0;
}

int
value_int64 (const struct json_document *doc, const struct json_value *v, const char *path, int64_t *out,
             struct ward_error **err)
{
  if (v->type != JSON_NUMBER)
    return field_type_error (doc, v, path, "an integer", err);
  if (!v->u.number.is_integer)
    return field_error (doc, v, path, err, "expected an integer, got %s", v->u.number.text);
  *out = v->u.number.integer;
  return 0;
}

int
value_uint64 (const struct json_document *doc, const struct json_value *v, const char *path, uint64_t *out,
              struct ward_error **err)
{
  if (v->type != JSON_NUMBER)
    return field_type_error (doc, v, path, "a non-negative integer", err);
  if (v->u.number.is_unsigned_overflow)
    {
      *out = v->u.number.uinteger;
      return 0;
    }
  if (!v->u.number.is_integer || v->u.number.integer < 0)
    return field_error (doc, v, path, err, "expected a non-negative integer, got %s", v->u.number.text);
  *out = (uint64_t)v->u.number.integer;
  return 0;
}

int
field_string (const struct json_document *doc, const struct json_value *object, const char *parent,
              const char *key, bool required, char **out, struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = NULL;
  field_path (path, parent, key);
  int found = lookup (doc, object, path, key, required, &v, err);
  if (found <= 0)
    return found;
  return value_string (doc, v, path, out, err);
}

int
field_bool (const struct json_document *doc, const struct json_value *object, const char *parent,
            const char *key, bool *out, struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = NULL;
  field_path (path, parent, key);
  int found = lookup (doc, object, path, key, false, &v, err);
  if (found <= 0)
    return found;
  if (v->type != JSON_BOOL)
    return field_type_error (doc, v, path, "a boolean", err);
  *out = v->u.boolean;
  return 0;
}

int
field_int64 (const struct json_document *doc, const struct json_value *object, const char *parent,
             const char *key, bool required, int64_t *out, bool *present, struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = NULL;
  field_path (path, parent, key);
  int found = lookup (doc, object, path, key, required, &v, err);
  if (found <= 0)
    return found;
  if (value_int64 (doc, v, path, out, err) < 0)
    return -1;
  if (present)
    *present = true;
  return 0;
}

int
field_uint64 (const struct json_document *doc, const struct json_value *object, const char *parent,
              const char *key, bool required, uint64_t *out, bool *present, struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = NULL;
  field_path (path, parent, key);
  int found = lookup (doc, object, path, key, required, &v, err);
  if (found <= 0)
    return found;
  if (value_uint64 (doc, v, path, out, err) < 0)
    return -1;
  if (present)
    *present = true;
  return 0;
}

int
field_uint32 (const struct json_document *doc, const struct json_value *object, const char *parent,
              const char *key, bool required, uint32_t *out, bool *present, struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = NULL;
  uint64_t wide;
  field_path (path, parent, key);
  int found = lookup (doc, object, path, key, required, &v, err);
  if (found <= 0)
    return found;
  if (value_uint64 (doc, v, path, &wide, err) < 0)
    return -1;
  if (wide > UINT32_MAX)
    return field_error (doc, v, path, err, "%s is out of range for a 32-bit unsigned integer",
                        v->u.number.text);
  *out = (uint32_t)wide;
  if (present)
    *present = true;
  return 0;
}

void
string_array_free (char **array)
{
  if (array == NULL)
    return;
  for (char **p = array; *p; p++)
    free (*p);
  free (array);
}

int
field_string_array (const struct json_document *doc, const struct json_value *object, const char *parent,
                    const char *key, bool required, char ***out, size_t *count, struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = NULL;
  field_path (path, parent, key);
  int found = lookup (doc, object, path, key, required, &v, err);
  if (found <= 0)
    return found;
  if (v->type != JSON_ARRAY)
    return field_type_error (doc, v, path, "an array of strings", err);
  size_t n = v->u.array.count;
  char **items = calloc (n + 1, sizeof *items);
  if (items == NULL)
    return ward_fail (err, ENOMEM, "%s", path);
  for (size_t i = 0; i < n; i++)
    {
      const struct json_value *item = v->u.array.items[i];
      if (item->type != JSON_STRING)
        {
          string_array_free (items);
          return field_type_error (doc, v, path, "an array of strings", err);
        }
      items[i] = strdup (item->u.string);
      if (items[i] == NULL)
        {
          string_array_free (items);
          return ward_fail (err, ENOMEM, "%s", path);
        }
    }
  string_array_free (*out);
  *out = items;
  if (count)
    *count = n;
  return 0;
}

static int
field_of_type (const struct json_document *doc, const struct json_value *object, const char *parent,
               const char *key, bool required, enum json_type type, const struct json_value **out,
               struct ward_error **err)
{
  char path[FIELD_PATH_MAX];
  const struct json_value *v = NULL;
  field_path (path, parent, key);
  int found = lookup (doc, object, path, key, required, &v, err);
  if (found <= 0)
    return found;
  if (v->type != type)
    return field_type_error (doc, v, path, json_type_name (type), err);
  *out = v;
  return 0;
}

int
field_object (const struct json_document *doc, const struct json_value *object, const char *parent,
              const char *key, bool required, const struct json_value **out, struct ward_error **err)
{
  return field_of_type (doc, object, parent, key, required, JSON_OBJECT, out, err);
}

int
field_array (const struct json_document *doc, const struct json_value *object, const char *parent,
             const char *key, bool required, const struct json_value **out, struct ward_error **err)
{
  return field_of_type (doc, object, parent, key, required, JSON_ARRAY, out, err);
}
