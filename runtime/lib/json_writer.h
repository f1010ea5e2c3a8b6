/* Writing JSON (state, list, spec, features output) through yajl_gen, with
 * a small face so callers read as the document they produce. */
#ifndef WARD_JSON_WRITER_H
#define WARD_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_writer;

/* pretty: two-space indentation, as runc prints `state`. */
struct json_writer *jw_new (bool pretty);
void jw_free (struct json_writer *w);

void jw_begin_object (struct json_writer *w);
void jw_end_object (struct json_writer *w);
void jw_begin_array (struct json_writer *w);
void jw_end_array (struct json_writer *w);
void jw_key (struct json_writer *w, const char *key);
void jw_string (struct json_writer *w, const char *value);
void jw_int (struct json_writer *w, long long value);
void jw_uint (struct json_writer *w, unsigned long long value);
void jw_bool (struct json_writer *w, bool value);
void jw_null (struct json_writer *w);
/* A number already formatted ("1.250"), so fractions print as the
 * caller chose rather than as %.20g does. */
void jw_number (struct json_writer *w, const char *text);

/* key + value in one call. */
void jw_key_string (struct json_writer *w, const char *key, const char *value);
void jw_key_int (struct json_writer *w, const char *key, long long value);
void jw_key_bool (struct json_writer *w, const char *key, bool value);

/* The text so far (valid once every container is closed).  Borrowed: valid
 * until the next call on w.  Returns NULL if any call failed. */
const char *jw_text (struct json_writer *w, size_t *length);

#endif
