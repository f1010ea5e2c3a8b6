/* Typed reads of JSON fields with errors that name the document, the field
 * path and its position: "config.json: process.args: expected an array of
 * strings at line 4, column 12".  Shared by every module that reads a
 * config section (spec, resources, seccomp, policy profiles). */
#ifndef WARD_JSON_FIELD_H
#define WARD_JSON_FIELD_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"

/* Field paths are at most this long; longer ones are truncated in messages. */
#define FIELD_PATH_MAX 256

/* "parent.key" (or "key" when parent is empty) into buf. */
const char *field_path (char buf[FIELD_PATH_MAX], const char *parent, const char *key);
/* "parent[index]" into buf. */
const char *field_index_path (char buf[FIELD_PATH_MAX], const char *parent, size_t index);

/* "<doc>: <path>: expected <what> at line L, column C". */
int field_type_error (const struct json_document *doc, const struct json_value *value, const char *path,
                      const char *what, struct ward_error **err);
/* "<doc>: <path>: <formatted> at line L, column C". */
int field_error (const struct json_document *doc, const struct json_value *value, const char *path,
                 struct ward_error **err, const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
/* "<doc>: <path>: required field is missing" (position of the enclosing object). */
int field_missing (const struct json_document *doc, const struct json_value *parent, const char *path,
                   struct ward_error **err);

/* Each reader looks up `key` in `object`.  Absent or null: leaves *out
 * untouched and returns 0, or fails when `required`.  Present with the wrong
 * type or range: fails. */
int field_string (const struct json_document *doc, const struct json_value *object, const char *parent,
                  const char *key, bool required, char **out, struct ward_error **err);
int field_bool (const struct json_document *doc, const struct json_value *object, const char *parent,
                const char *key, bool *out, struct ward_error **err);
int field_int64 (const struct json_document *doc, const struct json_value *object, const char *parent,
                 const char *key, bool required, int64_t *out, bool *present, struct ward_error **err);
int field_uint64 (const struct json_document *doc, const struct json_value *object, const char *parent,
                  const char *key, bool required, uint64_t *out, bool *present, struct ward_error **err);
int field_uint32 (const struct json_document *doc, const struct json_value *object, const char *parent,
                  const char *key, bool required, uint32_t *out, bool *present, struct ward_error **err);
/* Array of strings; *out is NULL-terminated. */
int field_string_array (const struct json_document *doc, const struct json_value *object, const char *parent,
                        const char *key, bool required, char ***out, size_t *count, struct ward_error **err);
/* Object or array sub-values; type-checked, NULL when absent. */
int field_object (const struct json_document *doc, const struct json_value *object, const char *parent,
                  const char *key, bool required, const struct json_value **out, struct ward_error **err);
int field_array (const struct json_document *doc, const struct json_value *object, const char *parent,
                 const char *key, bool required, const struct json_value **out, struct ward_error **err);

/* Conversions of a value already found. */
int value_string (const struct json_document *doc, const struct json_value *v, const char *path, char **out,
                  struct ward_error **err);
int value_int64 (const struct json_document *doc, const struct json_value *v, const char *path, int64_t *out,
                 struct ward_error **err);
int value_uint64 (const struct json_document *doc, const struct json_value *v, const char *path,
                  uint64_t *out, struct ward_error **err);

void string_array_free (char **array);

#endif
