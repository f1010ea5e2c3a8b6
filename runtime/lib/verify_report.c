/* verify's report: see verify_report.h. */
#include "config.h"
#include <ctype.h>
#include "verify_report.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "json_writer.h"

/* Columns wider than this are cut (the JSON report has every word). */
#define ATTEMPTED_WIDTH 44
#define EXPECTED_WIDTH 26
#define HAPPENED_WIDTH 64

static int
width_of (const struct verify_results *r, size_t offset, int minimum, int maximum)
{
  int width = minimum;
  for (size_t i = 0; i < r->count; i++)
    {
      const char *text = *(const char *const *)((const char *)&r->items[i] + offset);
      int len = (int)strlen (text);
      if (len > width)
        width = len;
    }
  return width < maximum ? width : maximum;
}

static void
cell (FILE *out, const char *text, int width)
{
  int len = (int)strlen (text);
  if (len <= width)
    fprintf (out, "%-*s  ", width, text);
  else
    fprintf (out, "%.*s...  ", width - 3, text);
}

void
verify_report_table (FILE *out, const struct verify_summary *s, const struct verify_results *r)
{
  size_t holes = 0, errors = 0;
  for (size_t i = 0; i < r->count; i++)
    holes += r->items[i].outcome == VERIFY_ESCAPED, errors += r->items[i].outcome == VERIFY_ERROR;
  int probe_w = width_of (r, offsetof (struct verify_result, probe), 5, 40);
  int attempted_w = width_of (r, offsetof (struct verify_result, attempted), 9, ATTEMPTED_WIDTH);
  int expected_w = width_of (r, offsetof (struct verify_result, expected), 8, EXPECTED_WIDTH);
  fprintf (out, "ward verify: policy %s, %zu probes, network %s\n", s->policy, r->count,
           s->netns ? s->netns : "a new namespace");
  if (s->note)
    fprintf (out, "note: %s\n", s->note);
  fputc ('\n', out);
  cell (out, "PROBE", probe_w);
  cell (out, "ATTEMPTED", attempted_w);
  cell (out, "EXPECTED", expected_w);
  cell (out, "HAPPENED", HAPPENED_WIDTH);
  fprintf (out, "AUDITED  VERDICT\n");
  for (size_t i = 0; i < r->count; i++)
    {
      const struct verify_result *res = &r->items[i];
      char happened[512];
      snprintf (happened, sizeof happened, "%s: %s", verify_outcome_name (res->outcome), res->detail);
      cell (out, res->probe, probe_w);
      cell (out, res->attempted, attempted_w);
      cell (out, res->expected, expected_w);
      cell (out, happened, HAPPENED_WIDTH);
      fprintf (out, "%-7s  %s\n", verify_audit_name (res->audited), verify_verdict (res));
    }
  fputc ('\n', out);
  if (holes == 0 && errors == 0)
    fprintf (out, "all %zu probes contained\n", r->count);
  else
    fprintf (out, "%zu hole%s, %zu error%s, %zu contained\n", holes, holes == 1 ? "" : "s", errors,
             errors == 1 ? "" : "s", r->count - holes - errors);
}

int
verify_report_json (FILE *out, const struct verify_summary *s, const struct verify_results *r,
                    struct ward_error **err)
{
  struct json_writer *w = jw_new (false);
  if (w == NULL)
    return ward_fail (err, ENOMEM, "report");
  size_t holes = 0, errors = 0;
  for (size_t i = 0; i < r->count; i++)
    holes += r->items[i].outcome == VERIFY_ESCAPED, errors += r->items[i].outcome == VERIFY_ERROR;
  jw_begin_object (w);
  jw_key_string (w, "policy", s->policy);
  jw_key (w, "netns");
  if (s->netns)
    jw_string (w, s->netns);
  else
    jw_null (w);
  jw_key_bool (w, "contained", verify_results_all_contained (r));
  jw_key_int (w, "holes", (long long)holes);
  jw_key_int (w, "errors", (long long)errors);
  if (s->note)
    jw_key_string (w, "note", s->note);
  jw_key (w, "probes");
  jw_begin_array (w);
  for (size_t i = 0; i < r->count; i++)
    {
      const struct verify_result *res = &r->items[i];
      jw_begin_object (w);
      jw_key_string (w, "probe", res->probe);
      jw_key_string (w, "attempted", res->attempted);
      jw_key_string (w, "expected", res->expected);
      jw_key_string (w, "outcome", verify_outcome_name (res->outcome));
      jw_key_string (w, "detail", res->detail);
      jw_key (w, "audited");
      if (res->audited == VERIFY_AUDIT_NOT_EXPECTED)
        jw_null (w);
      else
        jw_bool (w, res->audited == VERIFY_AUDIT_FOUND);
      if (res->audit_event)
        jw_key_string (w, "audit_event", res->audit_event);
      /* The table's verdict, in lower case for machines. */
      char verdict[16];
      snprintf (verdict, sizeof verdict, "%s", verify_verdict (res));
      for (char *c = verdict; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
      jw_key_string (w, "verdict", verdict);
      jw_key_string (w, "container", res->container);
      jw_end_object (w);
    }
  jw_end_array (w);
  jw_end_object (w);
  size_t length;
  const char *text = jw_text (w, &length);
  if (text)
    fprintf (out, "%.*s\n", (int)length, text);
  jw_free (w);
  return text ? 0 : ward_fail (err, ENOMEM, "report");
}
