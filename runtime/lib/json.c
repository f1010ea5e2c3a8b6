#include "config.h"
#include "json.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_parse.h>

/* The builder keeps a stack of open containers; each event appends a value
 * to the container on top (or becomes the root). */
struct builder
{
  yajl_handle parser;
  const char *text;
  struct json_value *root;
  struct json_value **stack;
  size_t depth;
  size_t capacity;
  size_t length;
  char *pending_key; /* key seen, waiting for its value */
  bool out_of_memory;
  bool finishing; /* inside yajl_complete_parse */
};

static void
value_free (struct json_value *v)
{
  if (v == NULL)
    return;
  switch (v->type)
    {
    case JSON_NUMBER:
      free (v->u.number.text);
      break;
    case JSON_STRING:
      free (v->u.string);
      break;
    case JSON_OBJECT:
      for (size_t i = 0; i < v->u.object.count; i++)
        {
          free (v->u.object.keys[i]);
          value_free (v->u.object.values[i]);
        }
      free (v->u.object.keys);
      free (v->u.object.values);
      break;
    case JSON_ARRAY:
      for (size_t i = 0; i < v->u.array.count; i++)
        value_free (v->u.array.items[i]);
      free (v->u.array.items);
      break;
    default:
      break;
    }
  free (v);
}

/* yajl_complete_parse() feeds yajl a buffer of its own, so byte counts
 * taken then are relative to that buffer; whatever it completes (a number
 * at the very end of the text) ends where the text ends. */
static size_t
consumed (struct builder *b)
{
  return b->finishing ? b->length : yajl_get_bytes_consumed (b->parser);
}

/* yajl reports where a token ends; walk back to where a string began,
 * skipping escaped quotes. */
static size_t
string_start (const char *text, size_t end)
{
  if (end < 2)
    return 0;
  size_t i = end - 2; /* character before the closing quote */
  for (;;)
    {
      if (text[i] == '"')
        {
          size_t backslashes = 0;
          while (i > backslashes && text[i - 1 - backslashes] == '\\')
            backslashes++;
          if (backslashes % 2 == 0)
            return i;
        }
      if (i == 0)
        return 0;
      i--;
    }
}

static bool
attach (struct builder *b, struct json_value *v)
{
  if (b->depth == 0)
    {
      b->root = v;
      return true;
    }
  struct json_value *parent = b->stack[b->depth - 1];
  if (parent->type == JSON_ARRAY)
    {
      size_t n = parent->u.array.count;
      struct json_value **items = realloc (parent->u.array.items, (n + 1) * sizeof *items);
      if (items == NULL)
        goto oom;
      items[n] = v;
      parent->u.array.items = items;
      parent->u.array.count = n + 1;
      return true;
    }
  size_t n = parent->u.object.count;
  char **keys = realloc (parent->u.object.keys, (n + 1) * sizeof *keys);
  if (keys == NULL)
    goto oom;
  parent->u.object.keys = keys;
  struct json_value **values = realloc (parent->u.object.values, (n + 1) * sizeof *values);
  if (values == NULL)
    goto oom;
  parent->u.object.values = values;
  keys[n] = b->pending_key;
  values[n] = v;
  b->pending_key = NULL;
  parent->u.object.count = n + 1;
  return true;
oom:
  value_free (v);
  b->out_of_memory = true;
  return false;
}

static struct json_value *
new_value (struct builder *b, enum json_type type, size_t offset)
{
  struct json_value *v = calloc (1, sizeof *v);
  if (v == NULL)
    {
      b->out_of_memory = true;
      return NULL;
    }
  v->type = type;
  v->offset = offset;
  return v;
}

static int
on_null (void *ctx)
{
  struct builder *b = ctx;
  struct json_value *v = new_value (b, JSON_NULL, consumed (b) - 4);
  return v && attach (b, v);
}

static int
on_boolean (void *ctx, int value)
{
  struct builder *b = ctx;
  struct json_value *v = new_value (b, JSON_BOOL, consumed (b) - (value ? 4 : 5));
  if (v == NULL)
    return 0;
  v->u.boolean = value != 0;
  return attach (b, v);
}

static int
on_number (void *ctx, const char *text, size_t length)
{
  struct builder *b = ctx;
  struct json_value *v = new_value (b, JSON_NUMBER, consumed (b) - length);
  if (v == NULL)
    return 0;
  v->u.number.text = strndup (text, length);
  if (v->u.number.text == NULL)
    {
      free (v);
      b->out_of_memory = true;
      return 0;
    }
  const char *s = v->u.number.text;
  bool integral = strpbrk (s, ".eE") == NULL;
  v->u.number.real = strtod (s, NULL);
  if (integral)
    {
      errno = 0;
      long long i = strtoll (s, NULL, 10);
      if (errno == 0)
        {
          v->u.number.is_integer = true;
          v->u.number.integer = i;
        }
      else if (s[0] != '-')
        {
          errno = 0;
          unsigned long long u = strtoull (s, NULL, 10);
          if (errno == 0)
            {
              v->u.number.is_unsigned_overflow = true;
              v->u.number.uinteger = u;
            }
        }
    }
  return attach (b, v);
}

static int
on_string (void *ctx, const unsigned char *text, size_t length)
{
  struct builder *b = ctx;
  struct json_value *v = new_value (b, JSON_STRING, string_start (b->text, consumed (b)));
  if (v == NULL)
    return 0;
  v->u.string = strndup ((const char *)text, length);
  if (v->u.string == NULL)
    {
      free (v);
      b->out_of_memory = true;
      return 0;
    }
  return attach (b, v);
}

static int
push (struct builder *b, enum json_type type)
{
  struct json_value *v = new_value (b, type, consumed (b) - 1);
  if (v == NULL)
    return 0;
  if (!attach (b, v))
    return 0;
  if (b->depth == b->capacity)
    {
      size_t capacity = b->capacity ? b->capacity * 2 : 16;
      struct json_value **stack = realloc (b->stack, capacity * sizeof *stack);
      if (stack == NULL)
        {
          b->out_of_memory = true;
          return 0;
        }
      b->stack = stack;
      b->capacity = capacity;
    }
  b->stack[b->depth++] = v;
  return 1;
}

static int
on_start_map (void *ctx)
{
  return push (ctx, JSON_OBJECT);
}

static int
on_start_array (void *ctx)
{
  return push (ctx, JSON_ARRAY);
}

static int
on_end (void *ctx)
{
  struct builder *b = ctx;
  b->depth--;
  return 1;
}

static int
on_map_key (void *ctx, const unsigned char *key, size_t length)
{
  struct builder *b = ctx;
  free (b->pending_key);
  b->pending_key = strndup ((const char *)key, length);
  if (b->pending_key == NULL)
    {
      b->out_of_memory = true;
      return 0;
    }
  return 1;
}

static const yajl_callbacks callbacks = {
  .yajl_null = on_null,
  .yajl_boolean = on_boolean,
  .yajl_number = on_number,
  .yajl_string = on_string,
  .yajl_start_map = on_start_map,
  .yajl_map_key = on_map_key,
  .yajl_end_map = on_end,
  .yajl_start_array = on_start_array,
  .yajl_end_array = on_end,
};

void
json_position (const struct json_document *doc, size_t offset, unsigned *line, unsigned *column)
{
  unsigned l = 1, c = 1;
  for (size_t i = 0; i < offset && i < doc->length; i++)
    {
      if (doc->text[i] == '\n')
        {
          l++;
          c = 1;
        }
      else
        c++;
    }
  *line = l;
  *column = c;
}

/* yajl's own message is multi-line with a caret drawing; keep its first
 * line ("parse error: invalid object key (must be a string)"). */
static char *
first_line_of_yajl_error (yajl_handle parser)
{
  unsigned char *verbose = yajl_get_error (parser, 0, NULL, 0);
  char *line = strdup (verbose ? (char *)verbose : "parse error");
  if (verbose)
    yajl_free_error (parser, verbose);
  if (line)
    {
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
    }
  return line;
}

int
json_parse (const char *name, const char *text, size_t length, struct json_document **out,
            struct ward_error **err)
{
  struct json_document *doc = calloc (1, sizeof *doc);
  if (doc == NULL)
    return ward_fail (err, ENOMEM, "%s", name);
  doc->name = strdup (name);
  doc->text = malloc (length + 1);
  if (doc->name == NULL || doc->text == NULL)
    {
      json_document_free (doc);
      return ward_fail (err, ENOMEM, "%s", name);
    }
  memcpy (doc->text, text, length);
  doc->text[length] = '\0';
  doc->length = length;

  /* yajl reports an empty text as a premature EOF at an odd position. */
  if (strspn (doc->text, " \t\r\n") == length)
    {
      json_document_free (doc);
      return ward_fail (err, 0, "%s: empty document", name);
    }

  struct builder b = { .text = doc->text, .length = length };
  b.parser = yajl_alloc (&callbacks, NULL, &b);
  if (b.parser == NULL)
    {
      json_document_free (doc);
      return ward_fail (err, ENOMEM, "%s", name);
    }
  yajl_status st = yajl_parse (b.parser, (const unsigned char *)doc->text, length);
  if (st == yajl_status_ok)
    {
      b.finishing = true;
      st = yajl_complete_parse (b.parser);
    }

  int ret = 0;
  if (b.out_of_memory)
    ret = ward_fail (err, ENOMEM, "%s", name);
  else if (st != yajl_status_ok || b.root == NULL)
    {
      cleanup_free char *reason = first_line_of_yajl_error (b.parser);
      unsigned line, column;
      json_position (doc, consumed (&b), &line, &column);
      ret = ward_fail (err, 0, "%s: invalid JSON: %s at line %u, column %u", name, reason, line, column);
    }
  /* The stack only borrows values owned by the tree. */
  free (b.stack);
  free (b.pending_key);
  yajl_free (b.parser);
  if (ret < 0)
    {
      value_free (b.root);
      json_document_free (doc);
      return ret;
    }
  doc->root = b.root;
  *out = doc;
  return 0;
}

int
json_parse_file (const char *path, const char *display_name, struct json_document **out,
                 struct ward_error **err)
{
  const char *name = display_name ? display_name : path;
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "open %s", name);
  struct stat st;
  if (fstat (fd, &st) < 0)
    return ward_fail (err, errno, "stat %s", name);
  size_t capacity = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  cleanup_free char *buffer = malloc (capacity);
  if (buffer == NULL)
    return ward_fail (err, ENOMEM, "read %s", name);
  size_t used = 0;
  for (;;)
    {
      if (used == capacity)
        {
          char *bigger = realloc (buffer, capacity * 2);
          if (bigger == NULL)
            return ward_fail (err, ENOMEM, "read %s", name);
          buffer = bigger;
          capacity *= 2;
        }
      ssize_t n = read (fd, buffer + used, capacity - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ward_fail (err, errno, "read %s", name);
      if (n == 0)
        break;
      used += n;
    }
  return json_parse (name, buffer, used, out, err);
}

void
json_document_free (struct json_document *doc)
{
  if (doc == NULL)
    return;
  value_free (doc->root);
  free (doc->text);
  free (doc->name);
  free (doc);
}

const struct json_value *
json_object_get (const struct json_value *object, const char *key)
{
  if (object == NULL || object->type != JSON_OBJECT)
    return NULL;
  /* Last one wins for duplicate keys, as with Go's encoding/json. */
  for (size_t i = object->u.object.count; i-- > 0;)
    if (strcmp (object->u.object.keys[i], key) == 0)
      return object->u.object.values[i];
  return NULL;
}

const char *
json_type_name (enum json_type type)
{
  switch (type)
    {
    case JSON_NULL:
      return "null";
    case JSON_BOOL:
      return "a boolean";
    case JSON_NUMBER:
      return "a number";
    case JSON_STRING:
      return "a string";
    case JSON_OBJECT:
      return "an object";
    case JSON_ARRAY:
      return "an array";
    }
  return "a value";
}
