/* A JSON document tree that remembers where each value stood in the text,
 * so that errors can say "at line 4, column 12".  Parsed with yajl's event
 * API (its tree API forgets positions). */
#ifndef WARD_JSON_H
#define WARD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum json_type
{
  JSON_NULL,
  JSON_BOOL,
  JSON_NUMBER,
  JSON_STRING,
  JSON_OBJECT,
  JSON_ARRAY,
};

struct json_value
{
  enum json_type type;
  size_t offset; /* byte offset of the value's first character */
  union
  {
    bool boolean;
    struct
    {
      char *text; /* as written, e.g. "-1" or "1e3" */
      bool is_integer;
      int64_t integer;
      bool is_unsigned_overflow; /* integer > INT64_MAX, held in uinteger */
      uint64_t uinteger;
      double real;
    } number;
    char *string;
    struct
    {
      size_t count;
      char **keys;
      struct json_value **values;
    } object;
    struct
    {
      size_t count;
      struct json_value **items;
    } array;
  } u;
};

struct json_document
{
  char *name; /* for messages, e.g. "config.json" */
  char *text; /* NUL-terminated copy of the source */
  size_t length;
  struct json_value *root;
};

/* Parse `length` bytes of `text`; `name` prefixes error messages. */
int json_parse (const char *name, const char *text, size_t length, struct json_document **out,
                struct ward_error **err);

/* Read and parse a file; messages name `display_name` (or the path). */
int json_parse_file (const char *path, const char *display_name, struct json_document **out,
                     struct ward_error **err);

void json_document_free (struct json_document *doc);

/* 1-based line and column of a byte offset in the document. */
void json_position (const struct json_document *doc, size_t offset, unsigned *line, unsigned *column);

/* Member `key` of an object, or NULL (also NULL when `object` is not one). */
const struct json_value *json_object_get (const struct json_value *object, const char *key);

const char *json_type_name (enum json_type type);

#endif
