#include "config.h"
#include "json_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

struct json_writer
{
  yajl_gen gen;
  bool failed;
};

struct json_writer *
jw_new (bool pretty)
{
  struct json_writer *w = calloc (1, sizeof *w);
  if (w == NULL)
    return NULL;
  w->gen = yajl_gen_alloc (NULL);
  if (w->gen == NULL)
    {
      free (w);
      return NULL;
    }
  if (pretty)
    {
      yajl_gen_config (w->gen, yajl_gen_beautify, 1);
      yajl_gen_config (w->gen, yajl_gen_indent_string, "  ");
    }
  return w;
}

void
jw_free (struct json_writer *w)
{
  if (w == NULL)
    return;
  yajl_gen_free (w->gen);
  free (w);
}

static void
check (struct json_writer *w, yajl_gen_status st)
{
  if (st != yajl_gen_status_ok)
    w->failed = true;
}

void
jw_begin_object (struct json_writer *w)
{
  check (w, yajl_gen_map_open (w->gen));
}

void
jw_end_object (struct json_writer *w)
{
  check (w, yajl_gen_map_close (w->gen));
}

void
jw_begin_array (struct json_writer *w)
{
  check (w, yajl_gen_array_open (w->gen));
}

void
jw_end_array (struct json_writer *w)
{
  check (w, yajl_gen_array_close (w->gen));
}

void
jw_key (struct json_writer *w, const char *key)
{
  check (w, yajl_gen_string (w->gen, (const unsigned char *)key, strlen (key)));
}

void
jw_string (struct json_writer *w, const char *value)
{
  if (value == NULL)
    value = "";
  check (w, yajl_gen_string (w->gen, (const unsigned char *)value, strlen (value)));
}

void
jw_int (struct json_writer *w, long long value)
{
  check (w, yajl_gen_integer (w->gen, value));
}

void
jw_uint (struct json_writer *w, unsigned long long value)
{
  char text[32];
  int n = snprintf (text, sizeof text, "%llu", value);
  check (w, yajl_gen_number (w->gen, text, n));
}

void
jw_number (struct json_writer *w, const char *text)
{
  check (w, yajl_gen_number (w->gen, text, strlen (text)));
}

void
jw_bool (struct json_writer *w, bool value)
{
  check (w, yajl_gen_bool (w->gen, value));
}

void
jw_null (struct json_writer *w)
{
  check (w, yajl_gen_null (w->gen));
}

void
jw_key_string (struct json_writer *w, const char *key, const char *value)
{
  jw_key (w, key);
  jw_string (w, value);
}

void
jw_key_int (struct json_writer *w, const char *key, long long value)
{
  jw_key (w, key);
  jw_int (w, value);
}

void
jw_key_bool (struct json_writer *w, const char *key, bool value)
{
  jw_key (w, key);
  jw_bool (w, value);
}

const char *
jw_text (struct json_writer *w, size_t *length)
{
  const unsigned char *buf = NULL;
  size_t len = 0;
  if (w->failed || yajl_gen_get_buf (w->gen, &buf, &len) != yajl_gen_status_ok)
    return NULL;
  if (length)
    *length = len;
  return (const char *)buf;
}
