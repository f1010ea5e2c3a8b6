/* The positioned JSON tree: values, where they stood, and the messages for
 * documents that are not JSON. */
#include "config.h"
#include "harness.h"
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct json_document *
parse (const char *text)
{
  struct json_document *doc = NULL;
  struct ward_error *err = NULL;
  if (json_parse ("t.json", text, strlen (text), &doc, &err) < 0)
    {
      printf ("  unexpected parse error: %s\n", err->message);
      ward_error_free (&err);
      return NULL;
    }
  return doc;
}

/* Expect `text` to be refused with exactly `expected`. */
static void
check_parse_error (const char *text, const char *expected)
{
  struct json_document *doc = NULL;
  struct ward_error *err = NULL;
  CHECK_INT_EQ (json_parse ("t.json", text, strlen (text), &doc, &err), -1);
  CHECK (doc == NULL);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message, expected);
  ward_error_free (&err);
  json_document_free (doc);
}

/* Check that `v` starts at line:column. */
static bool
check_at (const struct json_document *doc, const struct json_value *v, unsigned line, unsigned column)
{
  if (!CHECK (v != NULL))
    return false;
  unsigned l = 0, c = 0;
  json_position (doc, v->offset, &l, &c);
  bool ok = CHECK_INT_EQ (l, line);
  ok = CHECK_INT_EQ (c, column) && ok;
  return ok;
}

static const struct json_value *
item (const struct json_value *array, size_t index)
{
  if (array == NULL || array->type != JSON_ARRAY || index >= array->u.array.count)
    return NULL;
  return array->u.array.items[index];
}

TEST (types)
{
  struct json_document *doc = parse ("{\"n\": null, \"t\": true, \"f\": false, \"i\": 42, \"s\": \"x\","
                                     " \"o\": {}, \"a\": []}");
  REQUIRE (doc != NULL);
  const struct json_value *root = doc->root;
  CHECK_INT_EQ (root->type, JSON_OBJECT);
  CHECK_INT_EQ (root->u.object.count, 7);
  CHECK_INT_EQ (json_object_get (root, "n")->type, JSON_NULL);
  CHECK_INT_EQ (json_object_get (root, "t")->type, JSON_BOOL);
  CHECK (json_object_get (root, "t")->u.boolean);
  CHECK (!json_object_get (root, "f")->u.boolean);
  CHECK_INT_EQ (json_object_get (root, "i")->u.number.integer, 42);
  CHECK (json_object_get (root, "i")->u.number.is_integer);
  CHECK_STR_EQ (json_object_get (root, "s")->u.string, "x");
  CHECK_INT_EQ (json_object_get (root, "o")->type, JSON_OBJECT);
  CHECK_INT_EQ (json_object_get (root, "o")->u.object.count, 0);
  CHECK_INT_EQ (json_object_get (root, "a")->type, JSON_ARRAY);
  CHECK_INT_EQ (json_object_get (root, "a")->u.array.count, 0);
  CHECK (json_object_get (root, "missing") == NULL);
  CHECK (json_object_get (json_object_get (root, "a"), "x") == NULL);
  CHECK (json_object_get (NULL, "x") == NULL);
  CHECK_STR_EQ (doc->name, "t.json");
  json_document_free (doc);
}

TEST (positions_on_one_line)
{
  /*                                  1         2         3
   *                         1234567890123456789012345678901234567 */
  struct json_document *doc = parse ("{\"a\": \"x\", \"b\": 12, \"c\": true, \"d\": null}");
  REQUIRE (doc != NULL);
  check_at (doc, doc->root, 1, 1);
  check_at (doc, json_object_get (doc->root, "a"), 1, 7);
  check_at (doc, json_object_get (doc->root, "b"), 1, 17);
  check_at (doc, json_object_get (doc->root, "c"), 1, 26);
  check_at (doc, json_object_get (doc->root, "d"), 1, 37);
  json_document_free (doc);
}

TEST (positions_across_lines)
{
  const char *text = "{\n"
                     "  \"ociVersion\": \"1.2.0\",\n"
                     "  \"process\": {\n"
                     "    \"args\": [\"sh\", \"-c\"],\n"
                     "    \"oomScoreAdj\": -5\n"
                     "  },\n"
                     "  \"list\": [\n"
                     "    false\n"
                     "  ]\n"
                     "}\n";
  struct json_document *doc = parse (text);
  REQUIRE (doc != NULL);
  const struct json_value *process = json_object_get (doc->root, "process");
  const struct json_value *args = json_object_get (process, "args");
  check_at (doc, json_object_get (doc->root, "ociVersion"), 2, 17);
  check_at (doc, process, 3, 14);
  check_at (doc, args, 4, 13);
  check_at (doc, item (args, 0), 4, 14);
  check_at (doc, item (args, 1), 4, 20);
  check_at (doc, json_object_get (process, "oomScoreAdj"), 5, 20);
  check_at (doc, item (json_object_get (doc->root, "list"), 0), 8, 5);
  json_document_free (doc);
}

TEST (positions_of_strings_with_escapes)
{
  /* The parser reports where a string ends; its start is found by walking
   * back over escaped quotes, which is easy to get wrong. */
  const char *text = "[\"x\\\"y\", \"\\\\\", \"\\\"\", \"a\\\\\\\"b\", \"\\u0022\"]";
  /* As written: ["x\"y", "\\", "\"", "a\\\"b", "\u0022"]; the strings open
   * at columns 2, 10, 16, 22 and 32. */
  struct json_document *doc = parse (text);
  REQUIRE (doc != NULL);
  const struct json_value *root = doc->root;
  REQUIRE (root->type == JSON_ARRAY && root->u.array.count == 5);
  CHECK_STR_EQ (item (root, 0)->u.string, "x\"y");
  CHECK_STR_EQ (item (root, 1)->u.string, "\\");
  CHECK_STR_EQ (item (root, 2)->u.string, "\"");
  CHECK_STR_EQ (item (root, 3)->u.string, "a\\\"b");
  CHECK_STR_EQ (item (root, 4)->u.string, "\"");
  check_at (doc, item (root, 0), 1, 2);
  check_at (doc, item (root, 1), 1, 10);
  check_at (doc, item (root, 2), 1, 16);
  check_at (doc, item (root, 3), 1, 22);
  check_at (doc, item (root, 4), 1, 32);
  json_document_free (doc);
}

TEST (positions_of_values_after_escaped_keys)
{
  struct json_document *doc = parse ("{\"k\\\"ey\": \"v\\\"\", \"n\": 7}");
  REQUIRE (doc != NULL);
  CHECK_STR_EQ (doc->root->u.object.keys[0], "k\"ey");
  check_at (doc, json_object_get (doc->root, "k\"ey"), 1, 11);
  check_at (doc, json_object_get (doc->root, "n"), 1, 23);
  json_document_free (doc);
}

TEST (positions_of_numbers)
{
  struct json_document *doc = parse ("[1, -2.5, 1e3, 0,\n   -17]");
  REQUIRE (doc != NULL);
  check_at (doc, item (doc->root, 0), 1, 2);
  check_at (doc, item (doc->root, 1), 1, 5);
  check_at (doc, item (doc->root, 2), 1, 11);
  check_at (doc, item (doc->root, 3), 1, 16);
  check_at (doc, item (doc->root, 4), 2, 4);
  CHECK_STR_EQ (item (doc->root, 1)->u.number.text, "-2.5");
  CHECK (!item (doc->root, 1)->u.number.is_integer);
  CHECK (item (doc->root, 1)->u.number.real == -2.5);
  CHECK (!item (doc->root, 2)->u.number.is_integer);
  CHECK (item (doc->root, 2)->u.number.real == 1000.0);
  CHECK_INT_EQ (item (doc->root, 4)->u.number.integer, -17);
  json_document_free (doc);
}

TEST (positions_of_top_level_scalars)
{
  /* A number at the very end of the text is only recognised when the
   * parser is told the input is complete. */
  struct json_document *doc = parse ("12");
  REQUIRE (doc != NULL);
  CHECK_INT_EQ (doc->root->u.number.integer, 12);
  check_at (doc, doc->root, 1, 1);
  json_document_free (doc);

  doc = parse ("\n  \"s\"");
  REQUIRE (doc != NULL);
  check_at (doc, doc->root, 2, 3);
  json_document_free (doc);

  doc = parse (" true ");
  REQUIRE (doc != NULL);
  check_at (doc, doc->root, 1, 2);
  json_document_free (doc);
}

TEST (nested_objects)
{
  const char *text = "{\"a\": {\"b\": {\"c\": [{\"d\": \"deep\"}]}},\n"
                     " \"e\": {}}";
  struct json_document *doc = parse (text);
  REQUIRE (doc != NULL);
  const struct json_value *a = json_object_get (doc->root, "a");
  const struct json_value *b = json_object_get (a, "b");
  const struct json_value *c = json_object_get (b, "c");
  const struct json_value *d = json_object_get (item (c, 0), "d");
  check_at (doc, a, 1, 7);
  check_at (doc, b, 1, 13);
  check_at (doc, c, 1, 19);
  check_at (doc, item (c, 0), 1, 20);
  check_at (doc, d, 1, 26);
  if (CHECK (d != NULL))
    CHECK_STR_EQ (d->u.string, "deep");
  check_at (doc, json_object_get (doc->root, "e"), 2, 7);
  json_document_free (doc);
}

TEST (duplicate_keys_last_wins)
{
  struct json_document *doc = parse ("{\"a\": 1, \"b\": true, \"a\": {\"x\": 2}}");
  REQUIRE (doc != NULL);
  const struct json_value *a = json_object_get (doc->root, "a");
  REQUIRE (a != NULL);
  CHECK_INT_EQ (a->type, JSON_OBJECT);
  CHECK_INT_EQ (json_object_get (a, "x")->u.number.integer, 2);
  check_at (doc, a, 1, 26);
  json_document_free (doc);
}

TEST (big_integers)
{
  struct json_document *doc = parse ("[9223372036854775807, -9223372036854775808, 9223372036854775808,"
                                     " 18446744073709551615, 18446744073709551616, -9223372036854775809]");
  REQUIRE (doc != NULL);
  const struct json_value *max = item (doc->root, 0), *min = item (doc->root, 1);
  const struct json_value *above = item (doc->root, 2), *umax = item (doc->root, 3);
  const struct json_value *too_big = item (doc->root, 4), *too_small = item (doc->root, 5);
  REQUIRE (max && min && above && umax && too_big && too_small);

  CHECK (max->u.number.is_integer);
  CHECK (max->u.number.integer == INT64_MAX);
  CHECK (min->u.number.is_integer);
  CHECK (min->u.number.integer == INT64_MIN);

  /* Past int64 but within uint64: kept exactly for fields such as
   * memory limits that may be as large as uint64 allows. */
  CHECK (!above->u.number.is_integer);
  CHECK (above->u.number.is_unsigned_overflow);
  CHECK (above->u.number.uinteger == (uint64_t)INT64_MAX + 1);
  CHECK (umax->u.number.is_unsigned_overflow);
  CHECK (umax->u.number.uinteger == UINT64_MAX);

  /* Past both: neither integer form, but still a number with its text. */
  CHECK (!too_big->u.number.is_integer);
  CHECK (!too_big->u.number.is_unsigned_overflow);
  CHECK_STR_EQ (too_big->u.number.text, "18446744073709551616");
  CHECK (!too_small->u.number.is_integer);
  CHECK (!too_small->u.number.is_unsigned_overflow);
  json_document_free (doc);
}

TEST (malformed)
{
  /* yajl stops just past the token it could not accept; the position is
   * where it stopped. */
  check_parse_error ("{\"a\": }",
                     "t.json: invalid JSON: parse error: unallowed token at this point in JSON text at "
                     "line 1, column 8");
  check_parse_error ("[1,]",
                     "t.json: invalid JSON: parse error: unallowed token at this point in JSON text at "
                     "line 1, column 5");
  check_parse_error ("{\"a\" 1}",
                     "t.json: invalid JSON: parse error: object key and value must be separated by a "
                     "colon (':') at line 1, column 7");
  check_parse_error ("{a:1}",
                     "t.json: invalid JSON: lexical error: invalid char in json text. at line 1, column 3");
  check_parse_error ("{\"a\":1} x",
                     "t.json: invalid JSON: parse error: trailing garbage at line 1, column 10");
  check_parse_error (
      "{\n  \"a\": tru\n}",
      "t.json: invalid JSON: lexical error: invalid string in json text. at line 2, column 11");
}

TEST (truncated_document_points_at_its_end)
{
  check_parse_error ("{\"a\": 1", "t.json: invalid JSON: parse error: premature EOF at line 1, column 8");
  check_parse_error ("{\n  \"a\": [1,\n",
                     "t.json: invalid JSON: parse error: premature EOF at line 3, column 1");
}

TEST (empty_document)
{
  check_parse_error ("", "t.json: empty document");
  check_parse_error ("  \n\t ", "t.json: empty document");
}

TEST (document_name_in_messages)
{
  struct json_document *doc = NULL;
  struct ward_error *err = NULL;
  CHECK_INT_EQ (json_parse ("bundle/config.json", "[", 1, &doc, &err), -1);
  if (CHECK (err != NULL))
    CHECK (strncmp (err->message, "bundle/config.json: invalid JSON: ", 34) == 0);
  ward_error_free (&err);
}

TEST (length_not_nul)
{
  /* Only `length` bytes are the document, whatever follows. */
  const char *text = "{\"a\": 1}garbage";
  struct json_document *doc = NULL;
  struct ward_error *err = NULL;
  CHECK_INT_EQ (json_parse ("t.json", text, 8, &doc, &err), 0);
  if (CHECK (doc != NULL))
    CHECK_INT_EQ (json_object_get (doc->root, "a")->u.number.integer, 1);
  ward_error_free (&err);
  json_document_free (doc);
}

TEST (parse_file)
{
  char dir[] = "/tmp/ward-test-json.XXXXXX";
  REQUIRE (mkdtemp (dir) != NULL);
  char path[sizeof dir + 32];
  snprintf (path, sizeof path, "%s/config.json", dir);

  struct json_document *doc = NULL;
  struct ward_error *err = NULL;
  CHECK_INT_EQ (json_parse_file (path, "config.json", &doc, &err), -1);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message, "open config.json: No such file or directory");
  ward_error_free (&err);

  FILE *f = fopen (path, "w");
  REQUIRE (f != NULL);
  fputs ("{\n  \"x\": [true]\n}\n", f);
  fclose (f);
  CHECK_INT_EQ (json_parse_file (path, "config.json", &doc, &err), 0);
  if (CHECK (doc != NULL))
    {
      CHECK_STR_EQ (doc->name, "config.json");
      check_at (doc, item (json_object_get (doc->root, "x"), 0), 2, 9);
    }
  json_document_free (doc);
  doc = NULL;
  ward_error_free (&err);

  /* Without a display name, messages name the path. */
  f = fopen (path, "w");
  REQUIRE (f != NULL);
  fputs ("{", f);
  fclose (f);
  char expected[sizeof path + 100];
  snprintf (expected, sizeof expected, "%s: invalid JSON: parse error: premature EOF at line 1, column 2",
            path);
  CHECK_INT_EQ (json_parse_file (path, NULL, &doc, &err), -1);
  if (CHECK (err != NULL))
    CHECK_STR_EQ (err->message, expected);
  ward_error_free (&err);

  unlink (path);
  rmdir (dir);
}

TEST (type_names)
{
  CHECK_STR_EQ (json_type_name (JSON_STRING), "a string");
  CHECK_STR_EQ (json_type_name (JSON_OBJECT), "an object");
  CHECK_STR_EQ (json_type_name (JSON_ARRAY), "an array");
  CHECK_STR_EQ (json_type_name (JSON_NUMBER), "a number");
  CHECK_STR_EQ (json_type_name (JSON_BOOL), "a boolean");
  CHECK_STR_EQ (json_type_name (JSON_NULL), "null");
}

static const struct harness_test tests[] = {
  TEST_ENTRY (types),
  TEST_ENTRY (positions_on_one_line),
  TEST_ENTRY (positions_across_lines),
  TEST_ENTRY (positions_of_strings_with_escapes),
  TEST_ENTRY (positions_of_values_after_escaped_keys),
  TEST_ENTRY (positions_of_numbers),
  TEST_ENTRY (positions_of_top_level_scalars),
  TEST_ENTRY (nested_objects),
  TEST_ENTRY (duplicate_keys_last_wins),
  TEST_ENTRY (big_integers),
  TEST_ENTRY (malformed),
  TEST_ENTRY (truncated_document_points_at_its_end),
  TEST_ENTRY (empty_document),
  TEST_ENTRY (document_name_in_messages),
  TEST_ENTRY (length_not_nul),
  TEST_ENTRY (parse_file),
  TEST_ENTRY (type_names),
};

HARNESS_MAIN (tests)
